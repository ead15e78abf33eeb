"""Soak: many real-time streams held for a long time; lost results, close codes and memory.

Each Locust user keeps one WebSocket stream open after another (``--stream-seconds`` of
audio per session, sent at real-time pace in ``--chunk-ms`` chunks through the run's one
:class:`~harness.load.wsraw.PacedSender`), so ``-u N`` users hold ``N`` streams for the whole
run (``harness load soak``: 200 streams for 10 minutes by default, bounded like every
scenario: at most :data:`~harness.load.common.MAX_USERS` users, a hard stop).

What a soak finds that a short run does not:

* **lost results**: a chunk that was sent but that no result answered before ``done`` (or
  before the stream closed, when ``done`` never came). A chunk is answered once a result covers
  its audio: a deepfake ``frame`` up to its ``end_time_ms``; a transcript ``utterance`` up to
  its end plus the pause that makes it final. On the transcript and redaction surfaces the
  audio after the last utterance is silence that no result covers, so there ``done`` answers
  the tail (its ``duration_ms``); a stream that ends without ``done`` loses every chunk no
  result covered. Sessions the end of the run cuts off are not counted.
* **close codes**: every session's code (``1000``; ``1006`` an unclean end; ``HTTP nnn`` a
  refused handshake); anything but ``1000`` counts in ``error_ratio``.
* **resident memory** (VmRSS from ``/proc/PID/status``) of this generator process and, when
  the target is the emulator child this run started, of the emulator process, sampled every
  ``--sample-s`` seconds (default: run time / 60, between 0.5 and 10 s). Growth = the median of
  the last 3 samples minus the median of the first 3 after the warm-up (10 % of the run, at
  most 60 s); it needs 6 samples. Memory that could not be measured (a remote target,
  no ``/proc``) is reported as such and is never a breach.

The time series (``series``: per sample the open streams, sessions, lost results, p95 time
to first result, p95/p99 result lag, p99 pacing lag, and both RSS figures) feeds the
capacity page. Latencies are kept in :class:`~harness.load.metrics.Histogram` (2 % wide
log buckets) and the sender's pacing list is drained every sample, so the generator's own
memory does not grow with the run's length.

Thresholds: ``lost_results <= --max-lost`` (0), ``error_ratio <= --max-error-ratio`` (0.01),
``memory_growth_mb.generator <= --max-generator-growth-mb`` (64) and
``memory_growth_mb.target <= --max-target-growth-mb`` (64).
"""

from __future__ import annotations

import json
import math
import os
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import gevent
from locust import User, events, task

from harness.contract import tables as T

from . import common as C
from . import wsraw
from .judge import Measured, answered, growth_mb, rss_mb
from .metrics import Histogram

RATE, CLIPS, clip_frames = wsraw.RATE, wsraw.CLIPS, wsraw.clip_frames
GAP_MS = 300.0  # the emulator's pause after which an utterance is final (as streaming.py)
FRAME_SURFACES = ("svd-stream",)  # results cover the audio up to its end, tail included
MAX_SERIES = 720


# --------------------------------------------------------------------------- measuring


@dataclass
class SoakMetrics:
    """This process's measurements for one run (kept on ``environment.harness.state``)."""

    ttfr: Histogram = field(default_factory=Histogram)
    lag: Histogram = field(default_factory=Histogram)
    pacing: Histogram = field(default_factory=Histogram)
    iv_ttfr: list[float] = field(default_factory=list)  # since the last sample
    iv_lag: list[float] = field(default_factory=list)
    sessions: int = 0
    started: int = 0
    open: int = 0
    chunks_sent: int = 0
    chunks_answered: int = 0
    lost: int = 0
    without_done: int = 0
    errors: int = 0
    close_codes: Counter[str] = field(default_factory=Counter)
    series: list[dict[str, Any]] = field(default_factory=list)
    t0: float | None = None
    sampler: Any = None
    target_pid: int | None = None
    target_why: str = ""

    def progress_text(self) -> str:
        last = self.series[-1] if self.series else {}
        gen, tgt = last.get("generator_rss_mb"), last.get("target_rss_mb")
        mem = f"RSS generator {gen if gen is not None else '–'} MB"
        mem += f", target {tgt} MB" if tgt is not None else ""
        return f"streams open {self.open} | sessions {self.sessions} | lost {self.lost} | {mem}"


def _arguments(parser: Any) -> None:
    parser.add_argument("--soak-model", default="svd-stream", choices=T.STREAM_SURFACES)
    parser.add_argument("--chunk-ms", type=int, default=100)
    parser.add_argument(
        "--stream-seconds", type=float, default=30.0, help="audio per session (sessions repeat)"
    )
    parser.add_argument("--sample-s", type=float, default=0.0, help="memory sampling (0: auto)")
    parser.add_argument("--max-lost", type=float, default=0.0, help="threshold: lost results")
    parser.add_argument("--max-error-ratio", type=float, default=0.01)
    parser.add_argument("--max-generator-growth-mb", type=float, default=64.0)
    parser.add_argument("--max-target-growth-mb", type=float, default=64.0)
    C.add_deviation_option(parser, "omit-done")


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    return scenario_emulator_data(concurrency=10_000, deviations=tuple(opts.deviation))


class SoakUser(User):
    """One stream after another, for the whole run."""

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.m: SoakMetrics = C.state(self.environment)
        self.opts = self.environment.parsed_options
        self.model = self.opts.soak_model
        self.url = wsraw.stream_url(self.target.ws_base_url, self.target.key, self.model)
        self.frames = clip_frames(self.opts.chunk_ms, self.opts.stream_seconds)
        self.n = 0

    def _fire(self, what: str, seconds: float, exc: str | None = None) -> None:
        C.fire(self.environment, "WS", f"ws {self.model} {what}", seconds, exception=exc)

    @task
    def stream(self) -> None:
        m, opts = self.m, self.opts
        if not C.cost_guard(self.environment).allow(self.model, opts.stream_seconds):
            gevent.sleep(1.0)
            return
        now = time.perf_counter
        frames = self.frames[self.n % CLIPS]
        self.n += 1
        chunk_ms = float(opts.chunk_ms)
        total_ms = opts.stream_seconds * 1000.0
        sent_at: list[float | None] = [None] * len(frames)
        st: dict[str, Any] = {"first": None, "covered": 0.0, "done": False}
        frame_surface = self.model in FRAME_SURFACES

        def on_text(text: str, at: float) -> None:
            body = json.loads(text)
            kind = body.get("type")
            if st["done"]:
                return
            if kind == "frame":
                covered = float(body["frame"]["end_time_ms"])
            elif kind == "utterance":
                u = body["utterance"]
                covered = u["start_ms"] + u["duration_ms"] + GAP_MS
            elif kind == "done":
                st["done"] = True
                if not frame_surface:
                    st["covered"] = max(st["covered"], float(body.get("duration_ms") or 0.0))
                return
            elif kind == "error":
                m.errors += 1
                self._fire("error", 0.0, "error message")
                return
            else:
                return
            st["covered"] = max(st["covered"], covered)
            k = min(len(frames) - 1, max(0, math.ceil(covered / chunk_ms) - 1))
            if st["first"] is None and sent_at[0] is not None:
                st["first"] = at - sent_at[0]
                m.ttfr.record(st["first"])
                m.iv_ttfr.append(st["first"])
                self._fire("first-result", st["first"])
            if sent_at[k] is not None:
                m.lag.record(at - sent_at[k])
                m.iv_lag.append(at - sent_at[k])

        m.started += 1
        t = now()
        try:
            conn = wsraw.connect(self.url, on_text)
        except wsraw.HandshakeError as exc:
            self._fire("connect", now() - t, f"HTTP {exc.status}")
            m.close_codes[f"HTTP {exc.status}"] += 1
            gevent.sleep(0.5)
            return
        except OSError as exc:
            self._fire("connect", now() - t, type(exc).__name__)
            m.close_codes["connect failed"] += 1
            gevent.sleep(0.5)
            return
        self._fire("connect", now() - t)
        m.open += 1
        try:

            def on_sent(k: int, lag: float, at: float) -> None:
                if k >= 0:
                    sent_at[k] = at

            sender = C.paced_sender(self.environment)
            sender.schedule(conn, frames, now() + 0.01, chunk_ms / 1000.0, on_sent)
            conn.closed.wait(opts.stream_seconds + 30.0)
            if not conn.closed.is_set():
                conn.close()
        finally:
            m.open -= 1
        code = conn.close_code
        sent = sum(1 for s in sent_at if s is not None)
        ok = answered(sent_at, chunk_ms, total_ms, st["covered"])
        m.sessions += 1
        m.chunks_sent += sent
        m.chunks_answered += ok
        m.lost += sent - ok
        m.without_done += not st["done"]
        m.close_codes[str(code)] += 1
        self._fire(f"close {code}", 0.0, None if code == 1000 else f"close {code}")


# --------------------------------------------------------------------------- sampling


def _sample(environment: Any, m: SoakMetrics) -> None:
    run = C.load_run(environment)
    sender = run.sender
    pacing: list[float] = []
    if sender is not None:
        pacing = list(sender.lags)
        del sender.lags[:]  # drained: the generator must not grow with the run's length
        del sender.when[:]
    for lag in pacing:
        m.pacing.record(lag)
    t = time.monotonic() - (m.t0 or time.monotonic())
    m.series.append(
        {
            "t_s": round(t, 3),
            "streams_open": m.open,
            "sessions": m.sessions,
            "lost_results": m.lost,
            "ttfr_p95_ms": _ms(C.pct(m.iv_ttfr, 0.95)),
            "result_lag_p95_ms": _ms(C.pct(m.iv_lag, 0.95)),
            "result_lag_p99_ms": _ms(C.pct(m.iv_lag, 0.99)),
            "pacing_lag_p99_ms": _ms(C.pct(pacing, 0.99)),
            "generator_rss_mb": rss_mb(os.getpid()),
            "target_rss_mb": rss_mb(m.target_pid),
        }
    )
    m.iv_ttfr.clear()
    m.iv_lag.clear()
    if len(m.series) > MAX_SERIES:
        m.series = m.series[:1] + m.series[2::2]


def _ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000.0, 3)


def _sample_every(opts: Any) -> float:
    if opts.sample_s > 0:
        return opts.sample_s
    run_time = float(getattr(opts, "run_time", 0) or 0) or 600.0
    return min(10.0, max(0.5, run_time / 60.0))


def _sampling(environment: Any, m: SoakMetrics, every: float) -> None:
    while True:
        _sample(environment, m)
        gevent.sleep(every)


@events.test_start.add_listener
def _start(environment: Any, **_: Any) -> None:
    run = getattr(environment, "harness", None)
    if not isinstance(run, C.LoadRun) or not isinstance(run.state, SoakMetrics):
        return
    if run.target is None:  # the master of a distributed run: workers sample
        return
    m: SoakMetrics = run.state
    m.t0 = time.monotonic()
    m.target_pid = run.target.pid
    if m.target_pid is None:
        m.target_why = "the target is not an emulator child of this run"
    m.sampler = gevent.spawn(_sampling, environment, m, _sample_every(environment.parsed_options))


@events.test_stopping.add_listener
def _stopping(environment: Any, **_: Any) -> None:
    run = getattr(environment, "harness", None)
    if not isinstance(run, C.LoadRun) or not isinstance(run.state, SoakMetrics):
        return
    m: SoakMetrics = run.state
    if m.sampler is not None:
        m.sampler.kill(block=False)
        m.sampler = None
        _sample(environment, m)  # the last sample, before the users are stopped
    if run.sender is not None:
        run.sender.measuring = False  # stopping kills users: not the generator's pace


def _memory(m: SoakMetrics, key: str, pid: int | None, why: str = "") -> dict[str, Any]:
    pts = [(s["t_s"], s[key]) for s in m.series]
    values = [mb for _, mb in pts if mb is not None]
    growth, reason = growth_mb(pts)
    out: dict[str, Any] = {
        "pid_sampled": pid is not None,
        "samples": len(values),
        "start_mb": values[0] if values else None,
        "end_mb": values[-1] if values else None,
        "peak_mb": max(values) if values else None,
        "growth_mb": growth,
    }
    if growth is None:
        out["not_measured"] = why or reason
    return out


def _results(environment: Any) -> dict[str, Any]:
    m: SoakMetrics = C.state(environment)
    if m.sampler is not None:  # quit without test_stopping (e.g. an init failure)
        m.sampler.kill(block=False)
        m.sampler = None
    opts = environment.parsed_options
    failures = sum(v for k, v in m.close_codes.items() if k != "1000") + m.errors
    gen = _memory(m, "generator_rss_mb", os.getpid())
    tgt = _memory(m, "target_rss_mb", m.target_pid, m.target_why)
    return {
        "model": opts.soak_model,
        "streams": getattr(opts, "num_users", None),
        "stream_seconds": opts.stream_seconds,
        "duration_s": m.series[-1]["t_s"] if m.series else 0.0,
        "sessions": m.sessions,
        "started": m.started,
        "chunks_sent": m.chunks_sent,
        "chunks_answered": m.chunks_answered,
        "lost_results": m.lost,
        "sessions_without_done": m.without_done,
        "close_codes": dict(m.close_codes),
        "error_ratio": failures / max(1, m.started),
        "ttfr_ms": m.ttfr.summary_ms(),
        "result_lag_ms": m.lag.summary_ms(),
        "pacing_lag_ms": m.pacing.summary_ms(),
        "pacing_lag_hist": m.pacing.to_dict(),  # seconds, 2 % buckets (harness.load.metrics)
        "memory": {"generator": gen, "target": tgt},
        "memory_growth_mb": {"generator": gen["growth_mb"], "target": tgt["growth_mb"]},
        "series": m.series,
    }


def _thresholds(environment: Any) -> list[C.Threshold]:
    opts = environment.parsed_options
    return [
        C.Threshold("lost_results", opts.max_lost),
        C.Threshold("error_ratio", opts.max_error_ratio),
        Measured("memory_growth_mb.generator", opts.max_generator_growth_mb),
        Measured("memory_growth_mb.target", opts.max_target_growth_mb),
    ]


C.register(
    C.Scenario(
        "soak",
        _emulator_config,
        _results,
        _thresholds,
        _arguments,
        max_seconds=C.DEFAULT_MAX_SECONDS * 12,  # 1 hour: the longest `harness load` allows
        new_state=SoakMetrics,
    )
)
