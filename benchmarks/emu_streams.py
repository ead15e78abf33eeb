"""N real-time WebSocket streams against one emulator streaming surface (one client process).

Run by ``bench_emulator.py`` (not a benchmark itself):

    python benchmarks/emu_streams.py --url ws://127.0.0.1:P --surface svd-stream --n 500

Every stream sends s16le 16 kHz mono speech-like bursts in ``--chunk-ms`` chunks at real-time
pace, then the empty text frame that ends the stream, and reads until the server closes.
Stream ``i`` starts ``i / n * --spread-s`` after the first: with the default 1 s (the SVD
result cadence) results fall due evenly; with 0.1 s every stream's SVD frames fall due in
the same 100 ms (a thundering herd).

``--client raw`` (default) frames WebSocket messages itself (pre-masked frames, one
scheduler for all sends) so that one client core drives far more streams than the server
core can take; ``--client websockets`` uses the ``websockets`` asyncio client, one task per
stream (it falls behind its own schedule from about 400 streams on one core).

Figures, one JSON object on stdout:

* ``lag_ms``: result lag = receive time of a result - the time the audio it covers had been
  sent. SVD ``frame``: the chunk holding ``end_time_ms``. STT ``utterance``: the chunk
  holding ``start_ms + duration_ms + MIN_GAP_S`` (an utterance is final only once that
  much pause has been heard), rounded up to the segmenter's 100 ms step.
* ``pace_ms``: the client's own pacing lag (actual - scheduled send time of each chunk), so
  a slow generator is not blamed on the server.
* ``t_stream``: CLOCK_MONOTONIC start/end of the streaming phase (the parent reads the
  server's CPU time over it).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import os
import resource
import sys
import time
from pathlib import Path
from typing import Any

from harness.load.wsframes import handle_frames, masked_frame, upgrade_request

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

RATE = 16000
GAP_MS = 300.0  # analysis.MIN_GAP_S, set in main()
SIGNALS = 4  # distinct clips, shared by the streams (stream i plays clip i % SIGNALS)


def clips(seconds: float) -> list[bytes]:
    from harness.audio import encode_raw
    from harness.audio.signals import speech_bursts

    return [
        encode_raw(speech_bursts(seconds, RATE, 1, seed=s).samples, "s16le") for s in range(SIGNALS)
    ]


class Stream:
    def __init__(self, i: int, chunks: list[bytes], chunk_ms: int, stt: bool) -> None:
        self.i = i
        self.chunks = chunks
        self.chunk_ms = chunk_ms
        self.stt = stt
        self.sent_at: list[float | None] = [None] * len(self.chunks)
        self.lags: list[float] = []
        self.pace: list[float] = []
        self.results = 0
        self.errors: list[str] = []
        self.done = False
        self.close_code: int | None = None
        self.ws: Any = None

    def on_text(self, msg: str, at: float) -> None:
        """One JSON message from the server, received at ``at`` (perf_counter)."""
        body = json.loads(msg)
        kind = body.get("type")
        if kind == "frame":
            covered = body["frame"]["end_time_ms"]
        elif kind == "utterance" and self.stt:
            u = body["utterance"]
            covered = u["start_ms"] + u["duration_ms"] + GAP_MS
        elif kind == "done":
            self.done = True
            return
        elif kind == "error":
            self.errors.append(f"error: {body.get('error')}")
            return
        else:
            return
        self.results += 1
        k = min(len(self.chunks) - 1, max(0, math.ceil(covered / self.chunk_ms) - 1))
        sent = self.sent_at[k]
        if sent is not None:
            self.lags.append(at - sent)


def make_streams(args: argparse.Namespace) -> list[Stream]:
    chunk_bytes = int(RATE * args.chunk_ms / 1000) * 2
    stt = args.surface == "stt-stream"
    out = []
    for clip in clips(args.seconds):
        out.append([clip[k : k + chunk_bytes] for k in range(0, len(clip), chunk_bytes)])
    return [Stream(i, out[i % SIGNALS], args.chunk_ms, stt) for i in range(args.n)]


def stream_path(args: argparse.Namespace) -> str:
    from harness.contract import tables as T

    query = f"api_key={args.key}&audio_format=s16le&sample_rate={RATE}&num_channels=1"
    return f"{T.VELMA_PATHS[args.surface]}?{query}"


def summary(
    args: argparse.Namespace,
    streams: list[Stream],
    live: list[Stream],
    connect_s: float,
    t_stream: tuple[float, float],
) -> dict[str, Any]:
    lags = sorted(x for s in live for x in s.lags)
    pace = sorted(x for s in live for x in s.pace)
    codes: dict[str, int] = {}
    for s in live:
        codes[str(s.close_code)] = codes.get(str(s.close_code), 0) + 1
    errors: dict[str, int] = {}
    for s in streams:
        for e in s.errors:
            errors[e] = errors.get(e, 0) + 1
    return {
        "n": args.n,
        "client": args.client,
        "connected": len(live),
        "connect_s": connect_s,
        "t_stream": list(t_stream),
        "audio_s": args.seconds,
        "results": len(lags),
        "lag_ms": pct(lags),
        "pace_ms": pct(pace),
        "done": sum(s.done for s in live),
        "close_codes": codes,
        "errors": errors,
    }


# --------------------------------------------------------------------------- websockets client


async def run_websockets(args: argparse.Namespace) -> dict[str, Any]:
    """One ``websockets`` asyncio client per stream, one task per stream."""
    from websockets.asyncio.client import connect
    from websockets.exceptions import ConnectionClosed

    chunk_s = args.chunk_ms / 1000.0
    streams = make_streams(args)
    url = args.url + stream_path(args)
    compression = "deflate" if args.deflate else None

    # ---- connect everything first (a bounded number of handshakes at a time)
    sem = asyncio.Semaphore(64)
    connect_errors = 0

    async def open_one(s: Stream) -> None:
        nonlocal connect_errors
        async with sem:
            try:
                s.ws = await connect(
                    url,
                    compression=compression,
                    max_size=None,
                    ping_interval=None,
                    open_timeout=30,
                    close_timeout=10,
                )
            except Exception as exc:  # noqa: BLE001
                connect_errors += 1
                s.errors.append(f"connect: {type(exc).__name__}")

    t = time.monotonic()
    await asyncio.gather(*(open_one(s) for s in streams))
    connect_s = time.monotonic() - t
    live = [s for s in streams if s.ws is not None]

    now = time.perf_counter
    t0 = now() + 0.5

    async def receive(s: Stream) -> None:
        try:
            async for msg in s.ws:
                if isinstance(msg, str):
                    s.on_text(msg, now())
        except ConnectionClosed:
            pass
        except Exception as exc:  # noqa: BLE001
            s.errors.append(f"recv: {type(exc).__name__}")
        s.close_code = s.ws.close_code

    async def send(s: Stream) -> None:
        phase = t0 + args.spread_s * s.i / max(1, args.n)
        try:
            for k, c in enumerate(s.chunks):
                target = phase + k * chunk_s
                delay = target - now()
                if delay > 0:
                    await asyncio.sleep(delay)
                s.pace.append(now() - target)
                await s.ws.send(c)
                s.sent_at[k] = now()
            await s.ws.send("")
        except ConnectionClosed:
            s.errors.append("closed while sending")

    async def one(s: Stream) -> None:
        rx = asyncio.create_task(receive(s))
        await send(s)
        try:
            await asyncio.wait_for(rx, timeout=args.drain_s)
        except TimeoutError:
            s.errors.append("no close after end of stream")
            await s.ws.close()

    stream_start = time.monotonic() + (t0 - now())
    await asyncio.gather(*(one(s) for s in live))
    stream_end = time.monotonic()
    return summary(args, streams, live, connect_s, (stream_start, stream_end))


# --------------------------------------------------------------------------- raw client


class RawWs(asyncio.Protocol):
    """A minimal RFC 6455 client: handshake, pre-masked sends, text/close/ping handling."""

    def __init__(self, s: Stream, request: bytes) -> None:
        self.s = s
        self.request = request
        self.buf = bytearray()
        self.open = asyncio.get_running_loop().create_future()
        self.closed = asyncio.get_running_loop().create_future()
        self.upgraded = False
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.transport.write(self.request)

    def write(self, frame: bytes) -> bool:
        if self.transport is None or self.transport.is_closing():
            return False
        self.transport.write(frame)
        return True

    def data_received(self, data: bytes) -> None:
        at = time.perf_counter()
        self.buf += data
        if not self.upgraded:
            end = self.buf.find(b"\r\n\r\n")
            if end < 0:
                return
            status = bytes(self.buf[:end]).split(b" ", 2)[1]
            del self.buf[: end + 4]
            if status != b"101":
                self._finish(f"handshake: HTTP {status.decode()}")
                return
            self.upgraded = True
            self.open.set_result(True)
        if handle_frames(
            self.buf, lambda text: self.s.on_text(text, at), self._closing, self.write
        ):
            self._finish(None)

    def _closing(self, code: int) -> None:
        self.s.close_code = code

    def _finish(self, error: str | None) -> None:
        if error:
            self.s.errors.append(error)
        if not self.open.done():
            self.open.set_result(False)
        if not self.closed.done():
            self.closed.set_result(True)
        if self.transport is not None:
            self.transport.close()

    def connection_lost(self, exc: Exception | None) -> None:
        if self.s.close_code is None:
            self.s.close_code = 1006
        self._finish(None)


async def run_raw(args: argparse.Namespace) -> dict[str, Any]:
    """Hand-rolled WebSocket framing over asyncio transports and one scheduler for every
    send, so that the client costs far less per chunk than the server."""
    loop = asyncio.get_running_loop()
    chunk_s = args.chunk_ms / 1000.0
    streams = make_streams(args)
    host, port = args.url.split("//", 1)[1].split(":")
    request = upgrade_request(stream_path(args), host, port)
    frames: dict[int, list[bytes]] = {}
    for s in streams:
        if id(s.chunks) not in frames:
            frames[id(s.chunks)] = [masked_frame(0x2, c) for c in s.chunks]
    end_frame = masked_frame(0x1, b"")
    sem = asyncio.Semaphore(64)
    conns: dict[int, RawWs] = {}

    async def open_one(s: Stream) -> None:
        async with sem:
            try:
                _, proto = await loop.create_connection(lambda: RawWs(s, request), host, int(port))
                if await asyncio.wait_for(proto.open, 30):
                    conns[s.i] = proto
            except Exception as exc:  # noqa: BLE001
                s.errors.append(f"connect: {type(exc).__name__}")

    t = time.monotonic()
    await asyncio.gather(*(open_one(s) for s in streams))
    connect_s = time.monotonic() - t
    live = [s for s in streams if s.i in conns]

    # every send in time order: chunk k of the j-th live stream at t0 + offset_j + k * chunk
    now = time.perf_counter
    t0 = now() + 0.5
    stream_start = time.monotonic() + (t0 - now())
    m = max(1, len(live))
    events = sorted(
        (args.spread_s * j / m + k * chunk_s, j, k)
        for j, s in enumerate(live)
        for k in range(len(s.chunks))
    )
    slack = 0.0005  # send what is due within this much in one wake-up
    for offset, j, k in events:
        s = live[j]
        target = t0 + offset
        delay = target - now()
        if delay > slack:
            await asyncio.sleep(delay)
        conn = conns[s.i]
        s.pace.append(now() - target)
        if conn.write(frames[id(s.chunks)][k]):
            s.sent_at[k] = now()
            if k == len(s.chunks) - 1:
                conn.write(end_frame)  # end of stream right after the last chunk
        elif not s.errors:
            s.errors.append("closed while sending")
    try:
        await asyncio.wait_for(
            asyncio.gather(*(c.closed for c in conns.values())), timeout=args.drain_s
        )
    except TimeoutError:
        for c in conns.values():
            if not c.closed.done():
                c.s.errors.append("no close after end of stream")
                c._finish(None)
    stream_end = time.monotonic()
    return summary(args, streams, live, connect_s, (stream_start, stream_end))


def pct(xs: list[float]) -> dict[str, float]:
    if not xs:
        return {}

    def q(p: float) -> float:
        return 1000.0 * xs[min(len(xs) - 1, int(p * len(xs)))]

    return {"p50": q(0.50), "p90": q(0.90), "p99": q(0.99), "max": 1000.0 * xs[-1]}


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--url", required=True, help="ws://host:port")
    ap.add_argument("--surface", default="svd-stream")
    ap.add_argument("--n", type=int, default=100)
    ap.add_argument("--seconds", type=float, default=12.0)
    ap.add_argument("--chunk-ms", type=int, default=100)
    ap.add_argument("--key", default="bench-valid-key")
    ap.add_argument("--cpu", type=int, default=1)
    ap.add_argument("--drain-s", type=float, default=30.0)
    ap.add_argument("--deflate", action="store_true", help="offer permessage-deflate")
    ap.add_argument("--client", choices=("raw", "websockets"), default="raw")
    ap.add_argument(
        "--spread-s",
        type=float,
        default=1.0,
        help="stream starts are spread evenly over this long (1 s: the SVD result cadence; "
        "0.1: every stream's results fall due in the same 100 ms)",
    )
    args = ap.parse_args()
    if args.cpu >= 0 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.cpu})
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    global GAP_MS
    from harness.emulator import analysis

    GAP_MS = analysis.MIN_GAP_S * 1000.0
    run = run_raw if args.client == "raw" else run_websockets
    if args.deflate:
        run = run_websockets  # the raw client speaks no extensions
        args.client = "websockets"
    try:
        import uvloop

        out = uvloop.run(run(args))
    except ImportError:
        out = asyncio.run(run(args))
    json.dump(out, sys.stdout)


if __name__ == "__main__":
    main()
