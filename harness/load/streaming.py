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
"""

from __future__ import annotations

import json
import math
import random
import time
from collections import Counter
from dataclasses import dataclass, field
from functools import lru_cache
from typing import Any

import gevent
from locust import User, events, task

from harness.contract import tables as T

from . import common as C
from . import wsraw

RATE = 16000
CLIPS = 4
GAP_MS = 300.0  # the emulator's MIN_GAP_S: an STT utterance is final after this pause


@dataclass
class StreamMetrics:
    """This process's measurements for one run (kept on ``environment.harness.state``)."""

    ttfr: list[float] = field(default_factory=list)  # first chunk sent -> first result (s)
    lag: list[float] = field(default_factory=list)  # result lag (s)
    done: list[float] = field(default_factory=list)  # end of stream sent -> done (s)
    connect: list[float] = field(default_factory=list)  # handshake time (s)
    late: int = 0
    sessions: int = 0
    started: int = 0
    close_codes: Counter[str] = field(default_factory=Counter)  # "1000", "HTTP 429" ...
    errors: int = 0


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


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    return scenario_emulator_data(concurrency=10_000)


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
        out.append(tuple(wsraw.masked_frame(wsraw.OP_BINARY, f) for f in frames))
    return tuple(out)


class StreamUser(User):
    """One real-time stream at a time (fixed users), or a Poisson source (open model)."""

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.m: StreamMetrics = C.state(self.environment)
        self.opts = self.environment.parsed_options
        self.model = self.opts.stream_model
        q = (
            f"{T.VELMA_WS_AUTH_QUERY}={self.target.key}&audio_format=s16le"
            f"&sample_rate={RATE}&num_channels=1"
        )
        self.url = f"{self.target.ws_base_url}{T.VELMA_PATHS[self.model]}?{q}"
        self.frames = clip_frames(self.opts.chunk_ms, self.opts.stream_seconds)
        self.n = 0

    def _fire(self, what: str, seconds: float, exc: str | None = None) -> None:
        C.fire(self.environment, "WS", f"ws {self.model} {what}", seconds, exception=exc)

    def session(self, arrival: float | None = None) -> None:
        env_cost = C.cost_guard(self.environment)
        m = self.m
        if not env_cost.allow(self.model, self.opts.stream_seconds):
            gevent.sleep(1.0)
            return
        now = time.perf_counter
        m.started += 1
        if arrival is not None and now() - arrival > self.opts.late_ms / 1000.0:
            m.late += 1
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
                    m.done.append(at - st["eos"])
                    self._fire("done", at - st["eos"])
                return
            elif kind == "error":
                m.errors += 1
                self._fire("error", 0.0, "error message")
                return
            else:
                return
            k = min(len(frames) - 1, max(0, math.ceil(covered / self.opts.chunk_ms) - 1))
            sent = sent_at[k]
            if st["first"] is None and sent_at[0] is not None:
                st["first"] = at - sent_at[0]
                m.ttfr.append(st["first"])
                self._fire("first-result", st["first"])
            if sent is not None:
                m.lag.append(at - sent)
                self._fire("result", at - sent)

        t = now()
        try:
            conn = wsraw.connect(self.url, on_text)
        except wsraw.HandshakeError as exc:
            self._fire("connect", now() - t, f"HTTP {exc.status}")
            m.close_codes[f"HTTP {exc.status}"] += 1
            gevent.sleep(0.5)
            return
        except OSError as exc:
            self._fire("connect", now() - t, f"{type(exc).__name__}")
            gevent.sleep(0.5)
            return
        m.connect.append(now() - t)
        self._fire("connect", now() - t)

        def on_sent(k: int, lag: float, at: float) -> None:
            if k >= 0:
                sent_at[k] = at
            else:
                st["eos"] = at

        C.paced_sender(self.environment).schedule(conn, frames, now() + 0.01, chunk_s, on_sent)
        conn.closed.wait(self.opts.stream_seconds + 30.0)
        if not conn.closed.is_set():
            conn.close()
        code = conn.close_code
        m.sessions += 1
        m.close_codes[str(code)] += 1
        self._fire(f"close {code}", 0.0, None if code == 1000 else f"close {code}")

    @task
    def stream(self) -> None:
        rate = self.opts.arrival_rate
        if rate <= 0:
            self.session()
            return
        users = max(1, self.environment.runner.user_count if self.environment.runner else 1)
        rng = random.Random()
        nxt = time.perf_counter()
        running: list[Any] = []
        while True:
            nxt += rng.expovariate(rate / users)
            gevent.sleep(max(0.0, nxt - time.perf_counter()))
            running = [g for g in running if not g.dead]
            running.append(gevent.spawn(self.session, nxt))


@events.test_stopping.add_listener
def _stopping(environment: Any, **_: Any) -> None:
    run = getattr(environment, "harness", None)
    if isinstance(run, C.LoadRun) and run.sender is not None:
        run.sender.measuring = False  # stopping kills users: not the generator's pace


def _results(environment: Any) -> dict[str, Any]:
    sender = C.load_run(environment).sender
    m: StreamMetrics = C.state(environment)
    pacing = sender.lags if sender is not None else []
    failures = sum(v for k, v in m.close_codes.items() if k != "1000") + m.errors
    events = max(1, m.sessions + len(m.lag))
    return {
        "sessions": m.sessions,
        "started": m.started,
        "late_sessions": m.late,
        "close_codes": dict(m.close_codes),
        "connect_ms": C.summary_ms(m.connect),
        "ttfr_ms": C.summary_ms(m.ttfr),
        "result_lag_ms": C.summary_ms(m.lag),
        "done_ms": C.summary_ms(m.done),
        "pacing_lag_ms": C.summary_ms(pacing),
        "error_ratio": failures / events,
        "chunks_sent": len(pacing),
        "worst_pacing": sorted(
            (
                (round(lag * 1000, 1), round(w - sender.when[0], 3))
                for lag, w in zip(pacing, sender.when, strict=False)
            ),
            reverse=True,
        )[:10]
        if sender is not None and sender.when
        else [],
    }


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
        _results,
        _thresholds,
        _arguments,
        max_seconds=600.0,
        new_state=StreamMetrics,
    )
)
