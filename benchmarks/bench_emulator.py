"""Emulator figures: REST throughput ratios, concurrent real-time streams, upload memory.

Run: .venv/bin/python benchmarks/bench_emulator.py [--quick] [--only rest,stream,rss]
Prints figures; asserts nothing (machines are noisy: compare the ratios of one run).

The emulator runs in its own process (``emu_server.py``: ``create_app(config)`` plus a
trivial route, one uvicorn worker, uvloop + httptools) pinned to core 0; load comes from
another process pinned to core 1.

1. REST requests/s with ``wrk`` (or, without it, a raw-socket Python generator): a trivial
   starlette route, a 401 on STT batch (bad key, tiny multipart body), a 1 s 16 kHz mono
   s16 WAV to STT batch. Goal: 401/trivial >= 0.25.
2. N real-time streams (``emu_streams.py``: 100 ms s16le chunks at real-time pace), result
   lag p50/p99, the client's pacing lag, server CPU, errors. Goal: >= 500 streams on one
   core with p99 lag <= 50 ms.
3. Server VmHWM during a >100 MiB chunked upload to STT batch minus its idle RSS.
   Goal <= 64 MB. Config: ``velma/batch-max-size = accepted`` (the preferred alternative),
   so the server reads the whole body and processes it.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import socket
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parents[1]
HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(REPO))

SERVER_CPU, CLIENT_CPU = 0, 1
BOUNDARY = "benchboundary7d9a"
STT_PATH = "/api/velma-2-stt-batch"
CLK_TCK = os.sysconf("SC_CLK_TCK")


def _pin(cpu: int) -> None:
    if hasattr(os, "sched_setaffinity") and cpu < (os.cpu_count() or 1):
        os.sched_setaffinity(0, {cpu})


# --------------------------------------------------------------------------- the server


class Server:
    """``emu_server.py`` in a subprocess; ``pid`` for /proc figures."""

    def __init__(
        self, ws: str | None = None, profile: str | None = None, http_impl: str | None = None
    ) -> None:
        self.port = _free_port()
        cmd = [sys.executable, str(HERE / "emu_server.py"), "--port", str(self.port)]
        cmd += ["--cpu", str(SERVER_CPU if (os.cpu_count() or 1) > 1 else -1)]
        if ws:
            cmd += ["--ws", ws]
        if http_impl:
            cmd += ["--http", http_impl]
        if profile:
            cmd += ["--profile", profile]
        self.proc = subprocess.Popen(cmd, cwd=REPO)
        self.pid = self.proc.pid
        try:
            self._wait_ready()
        except BaseException:
            self.proc.kill()
            self.proc.wait()
            raise

    def _wait_ready(self) -> None:
        deadline = time.monotonic() + 20
        while True:
            try:
                c = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                c.request("GET", "/trivial")
                if c.getresponse().status == 200:
                    c.close()
                    break
            except OSError:
                pass
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the emulator process did not start")
            time.sleep(0.05)

    @property
    def http(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def ws_url(self) -> str:
        return f"ws://127.0.0.1:{self.port}"

    def cpu_s(self) -> float:
        with open(f"/proc/{self.pid}/stat") as fh:
            fields = fh.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / CLK_TCK  # utime + stime

    def status_kib(self, name: str) -> int:
        with open(f"/proc/{self.pid}/status") as fh:
            for line in fh:
                if line.startswith(name + ":"):
                    return int(line.split()[1])
        return -1

    def stop(self) -> None:
        self.proc.send_signal(2)  # SIGINT: graceful (a profile is written)
        try:
            self.proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class CpuSampler:
    """Samples (CLOCK_MONOTONIC, server CPU seconds) every 0.1 s in a thread."""

    def __init__(self, server: Server) -> None:
        self.server = server
        self.samples: list[tuple[float, float]] = []
        self._stop = threading.Event()
        self._t = threading.Thread(target=self._run, daemon=True)
        self._t.start()

    def _run(self) -> None:
        while not self._stop.is_set():
            self._sample()
            self._stop.wait(0.1)

    def _sample(self) -> None:
        self.samples.append((time.monotonic(), self.server.cpu_s(), _core_busy_s(SERVER_CPU)))

    def stop(self) -> None:
        self._stop.set()
        self._t.join()
        self._sample()

    def _at(self, t: float, i: int) -> float:
        s = self.samples
        for p, q in zip(s, s[1:], strict=False):
            if p[0] <= t <= q[0]:
                return p[i] + (q[i] - p[i]) * ((t - p[0]) / (q[0] - p[0]) if q[0] > p[0] else 0.0)
        return s[0][i] if t < s[0][0] else s[-1][i]

    def cpu_s(self, a: float, b: float) -> float:
        """Server CPU seconds between monotonic times a and b."""
        return self._at(b, 1) - self._at(a, 1)

    def percent(self, a: float, b: float) -> float:
        """Server CPU% (of one core) between monotonic times a and b."""
        return 100.0 * self.cpu_s(a, b) / (b - a) if b > a else 0.0

    def others_percent(self, a: float, b: float) -> float:
        """CPU% of the server's core used by anything else (other processes, interrupts)."""
        if b <= a:
            return 0.0
        busy = self._at(b, 2) - self._at(a, 2)
        return max(0.0, 100.0 * (busy - self.cpu_s(a, b)) / (b - a))


def _core_busy_s(cpu: int) -> float:
    """Busy seconds of one core so far (/proc/stat: everything but idle and iowait)."""
    try:
        with open("/proc/stat") as fh:
            for line in fh:
                if line.startswith(f"cpu{cpu} "):
                    v = [int(x) for x in line.split()[1:]]
                    return (sum(v[:8]) - v[3] - v[4]) / CLK_TCK
    except OSError:
        pass
    return 0.0


# --------------------------------------------------------------------------- bodies


def multipart(filename: str, data: bytes) -> bytes:
    return _head(filename) + data + _tail()


def _head(filename: str) -> bytes:
    return (
        f'--{BOUNDARY}\r\nContent-Disposition: form-data; name="upload_file"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()


def _tail() -> bytes:
    return f"\r\n--{BOUNDARY}--\r\n".encode()


def wav_1s() -> bytes:
    from harness.audio.containers import encode_container
    from harness.audio.signals import speech_bursts

    return encode_container(speech_bursts(1.0, 16000, 1, seed=1).samples, 16000, "wav")


def post(server: Server, path: str, key: str, body: bytes) -> tuple[int, bytes]:
    c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
    c.request("POST", path, body=body, headers=_post_headers(key))
    r = c.getresponse()
    out = r.status, r.read()
    c.close()
    return out


def _post_headers(key: str) -> dict[str, str]:
    return {"Content-Type": f"multipart/form-data; boundary={BOUNDARY}", "X-API-Key": key}


# --------------------------------------------------------------------------- 1. REST


def rest(args: argparse.Namespace) -> None:
    from emu_server import INVALID_KEY, VALID_KEY

    print("\n== 1. REST throughput (server: 1 uvicorn worker on core 0; load on core 1)")
    wrk = shutil.which("wrk")
    print(
        f"load generator: {'wrk (' + wrk + ')' if wrk else 'wrk not found: raw-socket Python'}"
        f", {args.conns} connections, {args.rest_s:g} s per case after a 1 s warm-up"
    )
    wav = wav_1s()
    cases = [
        ("trivial GET /trivial", "GET", "/trivial", "", b""),
        ("401 bad key, STT batch", "POST", STT_PATH, INVALID_KEY, multipart("a.wav", b"RIFF")),
        ("1 s WAV to STT batch", "POST", STT_PATH, VALID_KEY, multipart("clip.wav", wav)),
    ]
    own = _emulator_http()
    variants = [args.http or own] + ([] if args.http or own == "httptools" else ["httptools"])
    for impl in variants:
        note = "the emulator's choice" if impl == own else "the brief's uvloop+httptools"
        print(f" uvicorn http={impl} ({note})")
        rates: dict[str, float] = {}
        server = Server(http_impl=impl)
        try:
            for label, method, path, key, body in cases:
                status = _probe(server, method, path, key, body)
                sampler = CpuSampler(server)
                t0 = time.monotonic()
                rps, bad, lat = _load(server, method, path, key, body, args, wrk)
                t1 = time.monotonic()
                sampler.stop()
                a = t0 + (t1 - t0) * 0.2  # past the warm-up
                cpu, others = sampler.percent(a, t1), sampler.others_percent(a, t1)
                rates[label] = rps
                print(
                    f"  {label:26s} {rps:9.0f} req/s   status {status}   non-2xx {bad}   "
                    f"p99 latency {lat}   server CPU {cpu:3.0f}% (others on its core {others:3.0f}%)"
                )
        finally:
            server.stop()
        t, r401, rwav = (rates[c[0]] for c in cases)
        print(f"  ratio 401/trivial          {r401 / t:9.2f}   goal >= 0.25")
        print(f"  ratio wav/trivial          {rwav / t:9.2f}   (no goal)")


def _emulator_http() -> str:
    from harness.emulator import server as emulator_server

    return str(emulator_server.UVICORN_OPTIONS.get("http", "auto"))


def _probe(server: Server, method: str, path: str, key: str, body: bytes) -> int:
    if method == "GET":
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
        c.request("GET", path)
        status = c.getresponse().status
        c.close()
        return status
    return post(server, path, key, body)[0]


def _load(
    server: Server,
    method: str,
    path: str,
    key: str,
    body: bytes,
    args: argparse.Namespace,
    wrk: str | None,
) -> tuple[float, int, str]:
    """(requests/s, non-2xx/3xx count, p99 latency text) for one case."""
    with tempfile.TemporaryDirectory() as tmp:
        if wrk:
            cmd = [wrk, "-t1", f"-c{args.conns}", "--latency", "--timeout", "10s"]
            if method == "POST":
                bpath, script = Path(tmp) / "body", Path(tmp) / "post.lua"
                bpath.write_bytes(body)
                headers = "".join(
                    f'wrk.headers["{k}"] = "{v}"\n' for k, v in _post_headers(key).items()
                )
                script.write_text(
                    f'wrk.method = "POST"\n{headers}'
                    f'local f = assert(io.open("{bpath}", "rb"))\n'
                    'wrk.body = f:read("*a")\nf:close()\n'
                )
                cmd += ["-s", str(script)]
            url = server.http + path
            subprocess.run([*cmd, "-d1s", url], capture_output=True, preexec_fn=_client_pin)
            out = subprocess.run(
                [*cmd, f"-d{args.rest_s:g}s", url],
                capture_output=True,
                text=True,
                preexec_fn=_client_pin,
            ).stdout
            return _parse_wrk(out)
        req = _raw_request(method, path, key, body, server.port)
        rpath = Path(tmp) / "request"
        rpath.write_bytes(req)
        cmd = [sys.executable, __file__, "--raw-load", str(server.port), str(rpath)]
        cmd += [str(args.conns)]
        subprocess.run([*cmd, "1"], capture_output=True, preexec_fn=_client_pin)
        out = subprocess.run(
            [*cmd, str(args.rest_s)], capture_output=True, text=True, preexec_fn=_client_pin
        ).stdout
        r = json.loads(out)
        return r["rps"], r["bad"], f"{r['p99_ms']:.1f}ms"


def _client_pin() -> None:
    _pin(CLIENT_CPU)


def _parse_wrk(out: str) -> tuple[float, int, str]:
    rps, bad, p99 = 0.0, 0, "?"
    for line in out.splitlines():
        s = line.strip()
        if s.startswith("Requests/sec:"):
            rps = float(s.split()[1])
        elif s.startswith("Non-2xx or 3xx responses:"):
            bad = int(s.split()[-1])
        elif s.startswith("99%"):
            p99 = s.split()[1]
    return rps, bad, p99


def _raw_request(method: str, path: str, key: str, body: bytes, port: int) -> bytes:
    head = f"{method} {path} HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
    if method == "POST":
        for k, v in _post_headers(key).items():
            head += f"{k}: {v}\r\n"
        head += f"Content-Length: {len(body)}\r\n"
    return head.encode() + b"\r\n" + body


def raw_load(port: int, request_path: str, conns: int, seconds: float) -> None:
    """The fallback generator: keep-alive connections over raw asyncio streams (uvloop)."""
    import asyncio

    request = Path(request_path).read_bytes()
    lat: list[float] = []
    bad = 0

    async def conn(deadline: float) -> int:
        nonlocal bad
        r, w = await asyncio.open_connection("127.0.0.1", port)
        n = 0
        while time.perf_counter() < deadline:
            t = time.perf_counter()
            w.write(request)
            head = await r.readuntil(b"\r\n\r\n")
            status = int(head.split(b" ", 2)[1])
            length = 0
            for line in head.split(b"\r\n"):
                if line.lower().startswith(b"content-length:"):
                    length = int(line.split(b":")[1])
            await r.readexactly(length)
            lat.append(time.perf_counter() - t)
            bad += not 200 <= status < 400
            n += 1
        w.close()
        return n

    async def main() -> dict[str, Any]:
        t = time.perf_counter()
        counts = await asyncio.gather(*(conn(t + seconds) for _ in range(conns)))
        el = time.perf_counter() - t
        lat.sort()
        p99 = 1000 * lat[int(0.99 * len(lat))] if lat else 0.0
        return {"rps": sum(counts) / el, "bad": bad, "p99_ms": p99}

    try:
        import uvloop

        out = uvloop.run(main())
    except ImportError:
        out = asyncio.run(main())
    json.dump(out, sys.stdout)


# --------------------------------------------------------------------------- 2. streams


def streams(args: argparse.Namespace) -> None:
    print(
        f"\n== 2. concurrent real-time streams (server on core 0; one client process on core 1;"
        f" {args.seconds:g} s of s16le 16 kHz mono per stream in 100 ms chunks,"
        f"\n   starts spread over {args.spread_s:g} s, {args.client} client"
        f"{', permessage-deflate' if args.deflate else ', no compression'})"
    )
    print("   goal: >= 500 streams on one core with p99 result lag <= 50 ms")
    print(
        "   lag: result receive time - send time of the audio it covers; pace: the client's own"
        " lateness;\n   srv CPU: the server process, % of its core; others: the rest of that"
        " core's use\n   (other processes: if high, the figures are contended); CPU/msg: server"
        " CPU per 100 ms chunk"
    )
    plan = [("svd-stream", n) for n in args.svd_n] + [("stt-stream", n) for n in args.stt_n]
    print(
        f"  {'surface':10s} {'N':>5s} {'lag p50':>8s} {'p99':>8s} {'max':>8s} "
        f"{'pace p99':>9s} {'srv CPU':>8s} {'others':>8s} {'CPU/msg':>8s} {'results':>8s} "
        f"{'RSS/stream':>10s}  closes / errors"
    )
    for surface, n in plan:
        row = stream_run(surface, n, args)  # the emulator's own uvicorn options
        print(row)


def stream_run(surface: str, n: int, args: argparse.Namespace, profile: str | None = None) -> str:
    server = Server(ws=args.ws, profile=profile)
    idle_kib = server.status_kib("VmRSS")
    sampler = CpuSampler(server)
    cmd = [sys.executable, str(HERE / "emu_streams.py"), "--url", server.ws_url]
    cmd += ["--surface", surface, "--n", str(n), "--seconds", str(args.seconds)]
    cmd += ["--cpu", str(CLIENT_CPU if (os.cpu_count() or 1) > 1 else -1)]
    cmd += ["--spread-s", str(args.spread_s), "--client", args.client]
    if args.deflate:
        cmd.append("--deflate")
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=args.seconds + 120)
    finally:
        sampler.stop()
        hwm_kib = server.status_kib("VmHWM")
        server.stop()
    if proc.returncode != 0:
        return f"  {surface:10s} {n:5d}  client failed: {proc.stderr.strip()[-300:]}"
    r = json.loads(proc.stdout)
    start, end = r["t_stream"]
    a, b = start + 1.0, start + r["audio_s"]  # the steady part
    cpu, others = sampler.percent(a, b), sampler.others_percent(a, b)
    # every chunk (and result) is handled between start and end, however late
    chunks = r["connected"] * round(r["audio_s"] * 10)
    us_per_chunk = 1e6 * sampler.cpu_s(start, end) / max(1, chunks)
    lag, pace = r["lag_ms"], r["pace_ms"]
    codes = ",".join(f"{k}x{v}" for k, v in sorted(r["close_codes"].items()))
    errors = sum(r["errors"].values())
    missing = r["connected"] - r["done"]
    notes = f"close {codes}; {errors} errors; {missing} without done"
    if r["errors"]:
        notes += " " + json.dumps(r["errors"])[:200]
    per = (hwm_kib - idle_kib) / max(1, n)
    return (
        f"  {surface:10s} {n:5d} {lag.get('p50', 0):7.1f}ms {lag.get('p99', 0):7.1f}ms "
        f"{lag.get('max', 0):7.0f}ms {pace.get('p99', 0):8.1f}ms {cpu:7.0f}% {others:7.0f}% "
        f"{us_per_chunk:6.0f}us {r['results']:8d} {per:7.0f} KiB  {notes}"
    )


# --------------------------------------------------------------------------- 3. upload RSS


def upload_rss(args: argparse.Namespace) -> None:
    from emu_server import VALID_KEY

    from harness.audio import open_stream
    from harness.audio.catalog import all_specs

    fixture = next(s for s in all_specs() if "oversize" in s.tags)
    print(
        f"\n== 3. server memory during a >100 MiB upload ({fixture.id}, chunked POST to STT batch)"
    )
    print("   config: velma/batch-max-size = accepted (read to the end and processed)")
    server = Server()
    try:
        status, _ = post(server, STT_PATH, VALID_KEY, multipart("warm.wav", wav_1s()))
        idle = server.status_kib("VmRSS")
        hwm_before = server.status_kib("VmHWM")
        sent = 0

        def body() -> Iterator[bytes]:
            nonlocal sent
            yield _head(fixture.id + ".wav")
            for chunk in open_stream(fixture.id):
                sent += len(chunk)
                yield chunk
            yield _tail()

        t = time.perf_counter()
        c = http.client.HTTPConnection("127.0.0.1", server.port, timeout=300)
        c.request(
            "POST", STT_PATH, body=body(), headers=_post_headers(VALID_KEY), encode_chunked=True
        )
        resp = c.getresponse()
        payload = resp.read()
        took = time.perf_counter() - t
        c.close()
        hwm = server.status_kib("VmHWM")
    finally:
        server.stop()
    try:
        duration = json.loads(payload).get("duration_ms")
    except ValueError:
        duration = None
    mb = 1e6
    print(
        f"  upload {sent / mb:.1f} MB in {took:.1f} s -> HTTP {resp.status}, "
        f"duration_ms {duration}  (warm-up request: HTTP {status})"
    )
    print(
        f"  idle RSS {idle / 1024:.1f} MiB, VmHWM before {hwm_before / 1024:.1f} MiB, "
        f"after {hwm / 1024:.1f} MiB"
    )
    print(f"  peak above idle            {(hwm - idle) * 1024 / mb:7.1f} MB   goal <= 64 MB")


# --------------------------------------------------------------------------- main


def main() -> None:
    if len(sys.argv) > 1 and sys.argv[1] == "--raw-load":
        port, request, conns, seconds = sys.argv[2:6]
        raw_load(int(port), request, int(conns), float(seconds))
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--only", default="rest,stream,rss", help="comma list of rest,stream,rss")
    ap.add_argument("--quick", action="store_true", help="shorter runs, fewer N")
    ap.add_argument("--svd-n", default="100,250,500,750,1000")
    ap.add_argument("--stt-n", default="250,500,750")
    ap.add_argument("--seconds", type=float, default=12.0, help="audio per stream")
    ap.add_argument("--rest-s", type=float, default=5.0)
    ap.add_argument("--conns", type=int, default=64)
    ap.add_argument("--ws", default=None, help="uvicorn ws implementation to try instead")
    ap.add_argument("--deflate", action="store_true", help="clients offer permessage-deflate")
    ap.add_argument("--client", choices=("raw", "websockets"), default="raw")
    ap.add_argument("--spread-s", type=float, default=1.0, help="stream starts spread over")
    ap.add_argument("--http", default=None, help="uvicorn http implementation to try instead")
    args = ap.parse_args()
    args.svd_n = [int(x) for x in args.svd_n.split(",") if x]
    args.stt_n = [int(x) for x in args.stt_n.split(",") if x]
    if args.quick:
        args.seconds, args.rest_s = min(args.seconds, 6.0), min(args.rest_s, 2.0)
        args.svd_n, args.stt_n = args.svd_n[:3], args.stt_n[:1]
    only = set(args.only.split(","))
    sys.path.insert(0, str(HERE))
    cores = os.cpu_count() or 1
    print(
        f"cores: {cores}; server pinned to core {SERVER_CPU}, load to core {CLIENT_CPU}"
        if cores > 1
        else "one core: server and load share it (figures not comparable)"
    )
    t = time.perf_counter()
    if "rest" in only:
        rest(args)
    if "stream" in only:
        streams(args)
    if "rss" in only:
        upload_rss(args)
    print(f"\ntotal {time.perf_counter() - t:.0f} s")


if __name__ == "__main__":
    main()
