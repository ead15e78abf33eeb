"""A small RFC 6455 client for many real-time streams in one gevent process.

Why not the ``websockets`` client: past ~500 streams its per-message cost makes a single
generator fall behind real time (measured by ``benchmarks/emu_streams.py``). Here, as in
that benchmark's ``raw`` client:

* frames are masked once, up front, with one fixed masking key (:func:`masked_frame`), and
  shared by every stream that plays the same clip;
* one :class:`PacedSender` greenlet sends every stream's chunks in time order from a heap,
  so there is one timer for all streams, not one sleep per stream per chunk;
* one reader greenlet per connection parses server frames (text, close, ping).

It runs under gevent (Locust's workers): sockets are gevent's cooperative sockets.
"""

from __future__ import annotations

import contextlib
import heapq
import itertools
import socket as _socket
import struct
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any
from urllib.parse import urlsplit

import gevent
import gevent.event
import gevent.socket

from .wsframes import (  # noqa: F401 - re-exported for the scenarios
    MASK,
    OP_BINARY,
    OP_CLOSE,
    OP_TEXT,
    handle_frames,
    masked_frame,
    upgrade_request,
)

END_OF_STREAM = masked_frame(OP_TEXT, b"")


class HandshakeError(Exception):
    def __init__(self, status: int, detail: str = "") -> None:
        super().__init__(f"handshake: HTTP {status} {detail}".strip())
        self.status = status


@dataclass
class Connection:
    """One open WebSocket; ``on_text(text, at)`` is called from its reader greenlet."""

    sock: Any
    on_text: Callable[[str, float], None]
    close_code: int | None = None
    closed: gevent.event.Event = field(default_factory=gevent.event.Event)
    reader: Any = None
    buf: bytearray = field(default_factory=bytearray)

    def start(self) -> None:
        self.reader = gevent.spawn(self._read)

    def send(self, frame: bytes) -> bool:
        if self.closed.is_set():
            return False
        try:
            self.sock.sendall(frame)
            return True
        except OSError:
            self._finish(1006)
            return False

    def close(self, code: int = 1000) -> None:
        """A clean close: our close frame, then wait briefly for the server's."""
        self.send(masked_frame(OP_CLOSE, struct.pack("!H", code)))
        self.closed.wait(2.0)
        self._finish(self.close_code or 1006)

    def abort(self) -> None:
        """An unclean disconnect: the socket goes away without a close frame."""
        with contextlib.suppress(OSError):
            self.sock.setsockopt(_socket.SOL_SOCKET, _socket.SO_LINGER, struct.pack("ii", 1, 0))
        self._finish(1006)

    def _finish(self, code: int) -> None:
        if self.close_code is None:
            self.close_code = code
        if not self.closed.is_set():
            self.closed.set()
            with contextlib.suppress(OSError):
                self.sock.close()

    def _read(self) -> None:
        try:
            if self.buf:
                self._parse(time.perf_counter())
            while not self.closed.is_set():
                data = self.sock.recv(65536)
                if not data:
                    break
                self.buf += data
                if self._parse(time.perf_counter()):
                    return
        except OSError:
            pass
        self._finish(1006)

    def _parse(self, at: float) -> bool:
        """Handle the frames in :attr:`buf`; True once the server has closed."""
        if not handle_frames(
            self.buf, lambda text: self.on_text(text, at), self._closing, self.send
        ):
            return False
        self._finish(self.close_code or 1005)
        return True

    def _closing(self, code: int) -> None:
        self.close_code = code  # the server's close frame: its code, before the echo goes out


def connect(
    url: str, on_text: Callable[[str, float], None], *, timeout_s: float = 10.0
) -> Connection:
    """Open ``ws://host:port/path?query``; raises :class:`HandshakeError` on a non-101."""
    parts = urlsplit(url)
    if parts.scheme != "ws":
        raise ValueError("only ws:// is supported by the raw client")  # wss: use websockets
    host, port = parts.hostname or "127.0.0.1", parts.port or 80
    path = parts.path + (f"?{parts.query}" if parts.query else "")
    sock = gevent.socket.create_connection((host, port), timeout=timeout_s)
    sock.setsockopt(_socket.IPPROTO_TCP, _socket.TCP_NODELAY, 1)
    try:
        sock.sendall(upgrade_request(path, host, port))
        buf = bytearray()
        while (end := buf.find(b"\r\n\r\n")) < 0:
            data = sock.recv(65536)
            if not data:
                raise HandshakeError(0, "connection closed during the handshake")
            buf += data
        status_line = bytes(buf[:end]).split(b"\r\n", 1)[0].split(b" ", 2)
        status = int(status_line[1]) if len(status_line) > 1 else 0
        if status != 101:
            raise HandshakeError(status)
    except BaseException:
        sock.close()
        raise
    sock.settimeout(None)
    conn = Connection(sock, on_text, buf=bytearray(buf[end + 4 :]))
    conn.start()
    return conn


class PacedSender:
    """One greenlet sends every stream's chunks at their scheduled times.

    ``schedule(conn, frames, t0, chunk_s, on_sent)``: frame ``k`` is due at
    ``t0 + k * chunk_s`` (perf_counter); after the last frame the end-of-stream frame
    follows. ``on_sent(k, lag_s, sent_at)`` is called for each frame (``k == -1``: the
    end-of-stream frame). Lag = actual - scheduled send time: the generator's own lateness.
    """

    SLACK_S = 0.0005

    def __init__(self) -> None:
        self._heap: list[tuple[float, int, Any]] = []
        self._seq = itertools.count()
        self._wake = gevent.event.Event()
        self._greenlet = gevent.spawn(self._run)
        self.lags: list[float] = []
        self.when: list[float] = []  # scheduled time of each lag
        self.measuring = True  # off while the run is being stopped (users are killed)

    def schedule(
        self,
        conn: Connection,
        frames: Sequence[bytes],
        t0: float,
        chunk_s: float,
        on_sent: Callable[[int, float, float], None],
    ) -> None:
        job = [conn, frames, t0, chunk_s, on_sent, 0]
        heapq.heappush(self._heap, (t0, next(self._seq), job))
        self._wake.set()

    def _run(self) -> None:
        now = time.perf_counter
        while True:
            if not self._heap:
                self._wake.clear()
                self._wake.wait()
                continue
            due = self._heap[0][0]
            delay = due - now()
            if delay > self.SLACK_S:
                self._wake.clear()
                self._wake.wait(delay)
                continue
            _, _, job = heapq.heappop(self._heap)
            conn, frames, t0, chunk_s, on_sent, k = job
            if k < len(frames):
                lag = now() - due
                if self.measuring:
                    self.lags.append(lag)
                    self.when.append(due)
                if conn.send(frames[k]):
                    on_sent(k, lag, now())
                    job[5] = k + 1
                    next_due = t0 + (k + 1) * chunk_s if k + 1 < len(frames) else now()
                    heapq.heappush(self._heap, (next_due, next(self._seq), job))
            else:
                conn.send(END_OF_STREAM)
                on_sent(-1, 0.0, now())
            if len(self._heap) % 64 == 0:
                gevent.idle()  # let readers run under a heavy schedule


# --------------------------------------------------------------------------- audio frames

RATE = 16000  # the streams' s16le mono sample rate
CLIPS = 4  # distinct clips, so that not every stream sends the same bytes


@lru_cache(maxsize=4)
def clip_frames(chunk_ms: int, seconds: float) -> tuple[tuple[bytes, ...], ...]:
    """Pre-masked binary frames of :data:`CLIPS` speech-like s16le clips (built once)."""
    from harness.audio import encode_raw
    from harness.audio.signals import speech_bursts

    step = int(RATE * chunk_ms / 1000) * 2
    out = []
    for s in range(CLIPS):
        pcm = encode_raw(speech_bursts(seconds, RATE, 1, seed=s).samples, "s16le")
        frames = (pcm[k : k + step] for k in range(0, len(pcm), step))
        out.append(tuple(masked_frame(OP_BINARY, f) for f in frames))
    return tuple(out)


def stream_url(ws_base_url: str, key: str, model: str) -> str:
    """A Velma-2 streaming URL for these s16le mono clips (the key in the query)."""
    from harness.contract import tables as T

    q = f"{T.VELMA_WS_AUTH_QUERY}={key}&audio_format=s16le&sample_rate={RATE}&num_channels=1"
    return f"{ws_base_url}{T.VELMA_PATHS[model]}?{q}"
