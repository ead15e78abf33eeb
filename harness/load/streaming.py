"""Streaming: WebSocket users send audio at real-time pace in ``--chunk-ms`` chunks.

Two load models:

* fixed users (default): each Locust user runs one session after another;
* open model (``--arrival-rate R``): sessions arrive as a Poisson process of ``R`` per second
  in total (each of the ``N`` users is a Poisson source of ``R / N``), whatever the target's
  speed; a session that starts more than ``--late-ms`` after its arrival time counts as late.

Sends go through one :class:`~harness.load.wsraw.PacedSender` per process (pre-masked frames,
one timer), so the generator's own pacing lag stays small at 1000+ streams.

Every event is a Locust request event: ``ws <model> connect`` (handshake time),
``ws <model> first-result`` (first chunk sent -> first result), ``ws <model> result`` (result
lag: receive time - send time of the chunk that completes the audio it covers),
``ws <model> done`` (end of stream sent -> ``done``), ``ws <model> close <code>`` (a failure
unless 1000). Results: time to first result, result lag, pacing lag, late sessions, close codes.

The figures are recorded into mergeable histograms (:class:`~harness.load.metrics.Tally`),
so the scenario runs on Locust workers too (``harness load streaming --workers N``) and the
master reports one merged result. ``--session-gap-ms`` pauses each user between sessions
(the capacity search uses it: a server frees a stream's slot only after its close frame).
"""

from __future__ import annotations

import json
import math
import random
import time
from typing import Any

import gevent
from locust import User, task

from . import common as C
from . import wsraw
from .tallies import StreamMetrics, failures, rejections
from .tallies import stream_figures as figures

__all__ = ["StreamMetrics", "failures", "figures", "rejections"]

RATE, CLIPS, clip_frames = wsraw.RATE, wsraw.CLIPS, wsraw.clip_frames
RATE_CHECK_S = 0.25  # open model: how often a waiting source looks for a new arrival rate
GAP_MS = 300.0  # the emulator's MIN_GAP_S: an STT utterance is final after this pause


def _arguments(parser: Any) -> None:
    parser.add_argument("--stream-model", default="svd-stream")
    parser.add_argument("--chunk-ms", type=int, default=100)
    parser.add_argument("--stream-seconds", type=float, default=10.0, help="audio per session")
    parser.add_argument(
        "--arrival-rate",
        type=float,
        default=0.0,
        help="open model: sessions per second in total (0: fixed users)",
    )
    parser.add_argument("--late-ms", type=float, default=50.0)
    parser.add_argument("--ttfr-p95-ms", type=float, default=3000.0)
    parser.add_argument("--max-error-ratio", type=float, default=0.01)
    parser.add_argument("--pacing-p99-ms", type=float, default=20.0)
    parser.add_argument(
        "--session-gap-ms", type=float, default=0.0, help="pause between a user's sessions"
    )


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    return scenario_emulator_data(concurrency=10_000)


class StreamUser(User):
    """One real-time stream at a time (fixed users), or a Poisson source (open model)."""

    model_option = "stream_model"  # the option naming the streaming surface

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.opts = self.environment.parsed_options
        self.model = getattr(self.opts, self.model_option)
        self.conns: dict[int, wsraw.Connection] = {}  # open streams (several: open model)
        self.running: list[Any] = []  # the open model's session greenlets
        self.url = wsraw.stream_url(self.target.ws_base_url, self.target.key, self.model)
        self.frames = clip_frames(self.opts.chunk_ms, self.opts.stream_seconds)
        self.n = 0

    def _fire(self, what: str, seconds: float, exc: str | None = None) -> None:
        C.fire(self.environment, "WS", f"ws {self.model} {what}", seconds, exception=exc)

    def m(self) -> StreamMetrics:
        """The state to record into now (a capacity search changes it at each step)."""
        return C.state(self.environment)

    def session(self, arrival: float | None = None) -> None:
        env_cost = C.cost_guard(self.environment)
        m = self.m
        if not env_cost.allow(self.model, self.opts.stream_seconds):
            gevent.sleep(1.0)
            return
        now = time.perf_counter
        m().started += 1
        if m().first_started_at is None:  # sessions start in order: the window's earliest
            m().first_started_at = time.time()
        if arrival is not None and now() - arrival > self.opts.late_ms / 1000.0:
            m().late += 1
        frames = self.frames[self.n % CLIPS]
        self.n += 1
        chunk_s = self.opts.chunk_ms / 1000.0
        sent_at: list[float | None] = [None] * len(frames)
        st: dict[str, Any] = {"first": None, "eos": None, "done": False}

        def on_text(text: str, at: float) -> None:
            body = json.loads(text)
            kind = body.get("type")
            if kind == "frame":
                covered = body["frame"]["end_time_ms"]
            elif kind == "utterance":
                u = body["utterance"]
                covered = u["start_ms"] + u["duration_ms"] + GAP_MS
            elif kind == "done":
                st["done"] = True
                if st["eos"] is not None:
                    m().done.record(at - st["eos"])
                    self._fire("done", at - st["eos"])
                return
            elif kind == "error":
                m().errors += 1
                self._fire("error", 0.0, "error message")
                return
            else:
                return
            k = min(len(frames) - 1, max(0, math.ceil(covered / self.opts.chunk_ms) - 1))
            sent = sent_at[k]
            if st["first"] is None and sent_at[0] is not None:
                st["first"] = at - sent_at[0]
                m().ttfr.record(st["first"])
                self._fire("first-result", st["first"])
            if sent is not None:
                m().lag.record(at - sent)
                self._fire("result", at - sent)

        t = now()
        try:
            conn = wsraw.connect(self.url, on_text)
        except wsraw.HandshakeError as exc:
            self._fire("connect", now() - t, f"HTTP {exc.status}")
            m().close_codes[f"HTTP {exc.status}"] += 1
            gevent.sleep(0.5)
            return
        except OSError as exc:
            self._fire("connect", now() - t, f"{type(exc).__name__}")
            m().close_codes[type(exc).__name__] += 1
            gevent.sleep(0.5)
            return
        self.conns[id(conn)] = conn
        m().connect.record(now() - t)
        self._fire("connect", now() - t)
        sender = C.paced_sender(self.environment)
        t0 = C.load_run(self.environment).started_at

        def on_sent(k: int, lag: float, at: float) -> None:
            if k >= 0:
                sent_at[k] = at
                if sender.measuring:
                    state = m()
                    state.pacing.record(lag)
                    worst = state.worst_pacing
                    if len(worst) < 10 or lag * 1000 > worst[-1][0]:
                        worst.append([round(lag * 1000, 1), round(at - lag - t0, 3)])
                        worst.sort(reverse=True)
                        del worst[10:]
            else:
                st["eos"] = at

        sender.schedule(conn, frames, now() + 0.01, chunk_s, on_sent)
        conn.closed.wait(self.opts.stream_seconds + 30.0)
        if not conn.closed.is_set():
            conn.close()
        code = conn.close_code
        self.conns.pop(id(conn), None)
        m().sessions += 1
        m().close_codes[str(code)] += 1
        self._fire(f"close {code}", 0.0, None if code == 1000 else f"close {code}")
        if self.opts.session_gap_ms > 0:
            gevent.sleep(self.opts.session_gap_ms / 1000.0)

    def on_stop(self) -> None:
        """A user stopped mid-session (fewer users, or the end): drop its stream at once,
        so the server frees the slot."""
        for g in getattr(self, "running", []):
            g.kill(block=False)
        for conn in list(getattr(self, "conns", {}).values()):
            conn.abort()
        self.conns = {}

    @task
    def stream(self) -> None:
        rate = self.opts.arrival_rate
        if rate <= 0:
            self.session()
            return
        users = max(1, self.environment.runner.user_count if self.environment.runner else 1)
        users *= C.load_run(self.environment).extra.get("workers", 1)  # on a Locust worker
        rng = random.Random()
        nxt = time.perf_counter()
        while True:
            rate = self.opts.arrival_rate or rate  # a capacity step may change it
            nxt += rng.expovariate(rate / users)
            while (left := nxt - time.perf_counter()) > 0:
                gevent.sleep(min(left, RATE_CHECK_S))
                new = self.opts.arrival_rate or rate
                if new != rate:  # memoryless: the wait starts afresh at the new rate
                    rate = new
                    nxt = time.perf_counter() + rng.expovariate(rate / users)
            self.running = [g for g in self.running if not g.dead]
            self.running.append(gevent.spawn(self.session, nxt))


def _thresholds(environment: Any) -> list[C.Threshold]:
    opts = environment.parsed_options
    return [
        C.Threshold("ttfr_ms.p95", opts.ttfr_p95_ms),
        C.Threshold("error_ratio", opts.max_error_ratio),
        C.Threshold("pacing_lag_ms.p99", opts.pacing_p99_ms),
    ]


C.register(
    C.Scenario(
        "streaming",
        _emulator_config,
        None,
        _thresholds,
        _arguments,
        max_seconds=600.0,
        new_state=StreamMetrics,
        figures=figures,
    )
)
