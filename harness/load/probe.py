"""Concurrency probe: raise in-flight requests per model one step at a time until
rejections (or queueing) appear, separately for REST requests and open streams.

Step ``n`` sends ``n`` requests at once (each held for ``--hold-s`` on the emulator with
``X-Emulator-Fault: latency=...``; on a live target the audio's own service time holds it)
and classifies each: ``served`` (2xx within max(1.5x, +0.2 s) of the one-request service time), ``queued``
(2xx, but later), ``rejected`` (any other status; its latency is the rejection latency).
The first step with a rejection or a queued request ends the climb:

* ``observed_limit`` = requests served at once in that step;
* ``mode`` = ``immediate`` (rejection latency under half the service time), ``queued``
  (no rejection, some requests waited for a slot), ``rejected-slowly``, or ``none``
  (``--probe-max`` reached without a limit);
* ``signal`` = the rejection statuses (``429``, ``403`` ...), or for streams the close codes
  (``4029``, ``4003``) or ``HTTP nnn`` when the handshake itself was refused;
* ``slots_released``: ``limit`` requests (streams) are dropped without a clean close, and
  ``limit`` new ones are tried until all are admitted: how long the slots stayed taken
  (threshold: ``http.released_after_s`` / ``ws.released_after_s`` <= ``--release-max-s``,
  10 s; slots that never came back breach it; a part that found no limit is not judged).

Each step records when it started and how long it took (``started_s``, ``duration_s``), for
the capacity page's latency-over-time plot. Without a target profile the child emulator's
limit is the demo organisation's (``harness emulate``: 5 per model; ``--probe-limit``).

Every request is a Locust request event named ``POST <model> n=NN`` / ``ws <model> n=NN``.
"""

from __future__ import annotations

import json
import socket
import struct
import time
from typing import Any

import gevent
import gevent.pool
from locust import FastHttpUser, task

from harness.client.control import fault_header
from harness.contract import tables as T

from . import common as C
from . import wsraw
from .judge import Attempt, Measured, classify, probe_conclusion, step_record

WS_WINDOW_S = 1.0  # a stream step holds its admitted streams open this long


def _demo_limit() -> int:
    """The demo organisation's per-model limit (what ``harness emulate`` serves)."""
    from harness.emulator.config import OrgConfig

    return int(OrgConfig.concurrency)


def _arguments(parser: Any) -> None:
    parser.add_argument("--probe-model", default="vfast-batch", help="REST model (surface)")
    parser.add_argument("--probe-stream-model", default="svd-stream", help="streaming model")
    parser.add_argument("--probe-what", default="both", choices=("http", "ws", "both"))
    parser.add_argument("--probe-max", type=int, default=12, help="highest step")
    parser.add_argument("--hold-s", type=float, default=0.4, help="service time (emulator)")
    parser.add_argument(
        "--probe-limit",
        type=int,
        default=_demo_limit(),
        help="the child emulator's limit for both models (default: the demo organisation's)",
    )
    parser.add_argument(
        "--release-max-s",
        type=float,
        default=10.0,
        help="threshold: seconds until slots held by unclean disconnects are free again",
    )
    C.add_deviation_option(parser, "queue-instead-of-reject")


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    limit = opts.probe_limit
    return scenario_emulator_data(
        per_model={opts.probe_model: limit, opts.probe_stream_model: limit},
        deviations=tuple(opts.deviation),
    )


class ProbeUser(FastHttpUser):
    """Runs the probe once, then stops the run."""

    concurrency = 128
    network_timeout = 30.0
    connection_timeout = 10.0

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.opts = self.environment.parsed_options
        self.audio = C.wav_bytes(1.0)
        self.body, self.ctype = C.multipart("probe.wav", self.audio)

    # ------------------------------------------------------------------ REST

    def _headers(self) -> dict[str, str]:
        h = {T.VELMA_HTTP_AUTH_HEADER: self.target.key, "Content-Type": self.ctype}
        if self.target.is_emulator:
            h.update(fault_header("latency", self.opts.hold_s))
        return h

    def _one_http(self, n: int) -> Attempt:
        model = self.opts.probe_model
        if not C.cost_guard(self.environment).allow(model, 1.0):
            return Attempt("error", 0.0, "cost cap")
        t = time.perf_counter()
        with self.client.post(
            T.VELMA_PATHS[model],
            data=self.body,
            headers=self._headers(),
            name=f"POST {model} n={n:02d}",
            catch_response=True,
        ) as r:
            dt = time.perf_counter() - t
            if 200 <= (r.status_code or 0) < 300:
                r.success()
                return Attempt("served", dt)
            if not r.status_code:
                r.failure(C.redact(self.environment, str(r.error)))
                return Attempt("error", dt, "no response")
            r.success()  # a rejection is what the probe measures
            return Attempt("rejected", dt, str(r.status_code))

    def _http_step(self, n: int) -> list[Attempt]:
        pool = gevent.pool.Pool(n)
        jobs = [pool.spawn(self._one_http, n) for _ in range(n)]
        gevent.joinall(jobs)
        return [j.value for j in jobs]

    def _drop_http(self, count: int) -> None:
        """``count`` requests that hold a slot, then vanish without reading the answer."""
        host, port = self.target.base_url.split("//", 1)[1].split(":")
        head = [f"POST {T.VELMA_PATHS[self.opts.probe_model]} HTTP/1.1", f"Host: {host}:{port}"]
        head += [f"{k}: {v}" for k, v in self._headers().items()]
        head += [f"Content-Length: {len(self.body)}", "", ""]
        raw = "\r\n".join(head).encode() + self.body
        socks = []
        for _ in range(count):
            s = gevent.socket.create_connection((host, int(port)), timeout=5)
            s.sendall(raw)
            socks.append(s)
        gevent.sleep(0.05)
        for s in socks:
            s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
            s.close()

    # ------------------------------------------------------------------ WebSocket

    def _ws_url(self) -> str:
        q = f"{T.VELMA_WS_AUTH_QUERY}={self.target.key}&audio_format=s16le&sample_rate=16000&num_channels=1"
        return f"{self.target.ws_base_url}{T.VELMA_PATHS[self.opts.probe_stream_model]}?{q}"

    def _ws_step(
        self, n: int, window_s: float = WS_WINDOW_S, keep: list | None = None
    ) -> list[Attempt]:
        model = self.opts.probe_stream_model
        pcm = self.audio[44:]
        frame = wsraw.masked_frame(wsraw.OP_BINARY, pcm)

        def one() -> tuple[Attempt, Any]:
            if not C.cost_guard(self.environment).allow(model, 1.0):
                return Attempt("error", 0.0, "cost cap"), None
            got: dict[str, float] = {}
            t = time.perf_counter()

            def on_text(text: str, at: float) -> None:
                kind = json.loads(text).get("type")
                if kind in ("frame", "utterance") and "result" not in got:
                    got["result"] = at

            try:
                conn = wsraw.connect(self._ws_url(), on_text)
            except wsraw.HandshakeError as exc:
                dt = time.perf_counter() - t
                C.fire(self.environment, "WS", f"ws {model} n={n:02d}", dt)
                return Attempt("rejected", dt, f"HTTP {exc.status}"), None
            except OSError as exc:
                C.fire(self.environment, "WS", f"ws {model} n={n:02d}", 0.0, exception=exc)
                return Attempt("error", 0.0, "connect"), None
            conn.send(frame)
            deadline = t + window_s
            while (
                time.perf_counter() < deadline and "result" not in got and not conn.closed.is_set()
            ):
                gevent.sleep(0.005)
            if conn.closed.is_set() and "result" not in got:
                dt = time.perf_counter() - t
                C.fire(self.environment, "WS", f"ws {model} n={n:02d}", dt)
                return Attempt("rejected", dt, str(conn.close_code)), conn
            if "result" in got:
                dt = got["result"] - t
                C.fire(self.environment, "WS", f"ws {model} n={n:02d}", dt)
                return Attempt("served", dt), conn
            C.fire(self.environment, "WS", f"ws {model} n={n:02d}", window_s)
            return Attempt("queued", window_s, ""), conn

        jobs = [gevent.spawn(one) for _ in range(n)]
        gevent.joinall(jobs)
        out = []
        for j in jobs:
            attempt, conn = j.value
            out.append(attempt)
            if conn is not None:
                if keep is not None:
                    keep.append(conn)
                else:
                    conn.abort()  # unclean on purpose: slots must come back anyway
        return out

    # ------------------------------------------------------------------ the climb

    def _climb(self, step: Any, max_n: int, service_s: float | None = None) -> dict[str, Any]:
        """``service_s``: the reference service time (default: the one-request latency)."""
        steps: list[dict[str, Any]] = []
        t0 = time.perf_counter()

        def timed(n: int) -> list[Attempt]:
            self._step_started = time.perf_counter()
            return step(n)

        def record_of(n: int, attempts: list[Attempt]) -> dict[str, Any]:
            record = step_record(n, attempts)
            record["started_s"] = round(self._step_started - t0, 3)
            record["duration_s"] = round(time.perf_counter() - self._step_started, 3)
            return record

        first = timed(1)
        if service_s is None:
            service_s = first[0].latency_s if first and first[0].outcome == "served" else 1.0
        steps.append(record_of(1, classify(first, service_s)))
        for n in range(2, max_n + 1):
            gevent.sleep(0.1)  # the previous step's slots are free again
            record = record_of(n, classify(timed(n), service_s))
            steps.append(record)
            if record["rejected"] or record["queued"]:
                break
        out = probe_conclusion(steps, service_s, max_n)
        out["steps"] = steps
        return out

    def _released(
        self, drop: Any, step: Any, limit: int, timeout_s: float = 10.0
    ) -> dict[str, Any]:
        """Drop ``limit`` holders uncleanly; how long until ``limit`` new ones all get in?"""
        drop(limit)
        t = time.perf_counter()
        tries = 0
        while time.perf_counter() - t < timeout_s:
            tries += 1
            attempts = step(limit)
            if all(a.outcome in ("served", "queued") for a in attempts) and not any(
                a.outcome == "queued" for a in attempts
            ):
                return {
                    "slots_released": True,
                    "released_after_s": round(time.perf_counter() - t, 3),
                    "tries": tries,
                }
            gevent.sleep(0.1)
        return {"slots_released": False, "released_after_s": None, "tries": tries}

    @task
    def probe(self) -> None:
        C.run_once(self.environment, self._probe)

    def _probe(self) -> None:
        what = self.opts.probe_what
        max_n = self.opts.probe_max
        if what in ("http", "both"):
            r = self._climb(self._http_step, max_n)
            r["model"] = self.opts.probe_model
            if r["observed_limit"]:
                r.update(self._released(self._drop_http, self._http_step, r["observed_limit"]))
            C.state(self.environment)["http"] = r
        if what in ("ws", "both"):
            r = self._climb(self._ws_step, max_n, WS_WINDOW_S)  # a stream holds its slot
            r["model"] = self.opts.probe_stream_model

            def drop_ws(count: int) -> None:
                held: list[Any] = []
                self._ws_step(count, keep=held)
                for conn in held:
                    conn.abort()

            if r["observed_limit"]:
                r.update(self._released(drop_ws, self._ws_step, r["observed_limit"]))
            C.state(self.environment)["ws"] = r


def _results(environment: Any) -> dict[str, Any]:
    out = {k: dict(v) for k, v in C.state(environment).items()}
    for v in out.values():
        for s in v.get("steps", []):
            s["rejection_ms"] = C.summary_ms(s.pop("rejection_latencies_s", []))
    return out


def _thresholds(environment: Any) -> list[C.Threshold]:
    """Slots held by unclean disconnects come back within ``--release-max-s``: judged for
    each part that found a limit (never released: a breach); not judged otherwise."""
    limit = environment.parsed_options.release_max_s
    out: list[C.Threshold] = []
    for part, r in C.state(environment).items():
        metric = f"{part}.released_after_s"
        found = isinstance(r, dict) and r.get("observed_limit")
        out.append(C.Threshold(metric, limit) if found else Measured(metric, limit))
    return out


C.register(
    C.Scenario(
        "concurrency-probe", _emulator_config, _results, _thresholds, _arguments, max_seconds=120.0
    )
)
