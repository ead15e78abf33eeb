"""The scenarios' measurements as mergeable tallies, and the figures made from them.

No Locust import (tests and the report use it from ordinary processes): ``streaming``,
``tts`` and ``capacity`` record into these states; a Locust master merges workers' states
(:mod:`harness.load.distributed`) and turns the merged one into figures here. The capacity
search's step verdicts (:func:`step_record`) are here too.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any

from .common import Threshold, judge_thresholds
from .metrics import Histogram, Tally
from .slo import MS_METRICS, slowest_latency

# --------------------------------------------------------------------------- streams


@dataclass
class StreamMetrics(Tally):
    """This process's measurements for one run (kept on ``environment.harness.state``)."""

    ttfr: Histogram = field(default_factory=Histogram)  # first chunk sent -> first result (s)
    lag: Histogram = field(default_factory=Histogram)  # result lag (s)
    done: Histogram = field(default_factory=Histogram)  # end of stream sent -> done (s)
    connect: Histogram = field(default_factory=Histogram)  # handshake time (s)
    pacing: Histogram = field(default_factory=Histogram)  # the generator's own lateness (s)
    late: int = 0
    sessions: int = 0
    started: int = 0
    # When the earliest session of this state started (epoch seconds; None: none started).
    first_started_at: float | None = field(default=None, metadata={"merge": "min"})
    close_codes: Counter[str] = field(default_factory=Counter)  # "1000", "HTTP 429" ...
    errors: int = 0
    # the 10 latest sends: [lag ms, seconds since the test started]
    worst_pacing: list[list[float]] = field(default_factory=list, metadata={"top": 10})


def failures(m: StreamMetrics) -> int:
    """Sessions that did not end with 1000 (refused, closed otherwise) and error messages."""
    return sum(v for k, v in m.close_codes.items() if k != "1000") + m.errors


def rejections(m: StreamMetrics) -> dict[str, int]:
    """Documented refusals by signal: close 4029 and a handshake answered HTTP 429."""
    return {"429": m.close_codes.get("HTTP 429", 0), "4029": m.close_codes.get("4029", 0)}


def stream_figures(m: StreamMetrics) -> dict[str, Any]:
    """The results of one state (a process's, a worker's or the merged one)."""
    events = max(1, m.sessions + m.lag.count)
    return {
        "sessions": m.sessions,
        "started": m.started,
        "late_sessions": m.late,
        "close_codes": dict(m.close_codes),
        "connect_ms": m.connect.summary_ms(),
        "ttfr_ms": m.ttfr.summary_ms(),
        "result_lag_ms": m.lag.summary_ms(),
        "done_ms": m.done.summary_ms(),
        "pacing_lag_ms": m.pacing.summary_ms(),
        "error_ratio": failures(m) / events,
        "chunks_sent": m.pacing.count,
        "worst_pacing": [list(w) for w in m.worst_pacing],
    }


# --------------------------------------------------------------------------- TTS


@dataclass
class TtsMetrics(Tally):
    """This process's measurements for one run (kept on ``environment.harness.state``)."""

    skipped: str | None = None  # why the scenario did not run, if it did not
    latency: Histogram = field(default_factory=Histogram)  # of 2xx answers (s)
    retries: int = 0
    honoured: int = 0  # 429s that carried Retry-After
    status: Counter[str] = field(default_factory=Counter)


def tts_figures(m: TtsMetrics) -> dict[str, Any]:
    """The results of one state (a process's, a worker's or the merged one)."""
    if m.skipped:
        return {"skipped": m.skipped}
    return {
        "latency_ms": m.latency.summary_ms(),
        "retries": m.retries,
        "retry_after_honoured": m.honoured,
        "status": dict(m.status),
    }


# --------------------------------------------------------------------------- capacity steps


@dataclass
class CapacityTally(StreamMetrics):
    """Streams' figures (inherited) plus requests' (batch, TTS): one state for every surface."""

    latency: Histogram = field(default_factory=Histogram)  # 2xx answers (s)
    status: Counter[str] = field(default_factory=Counter)  # HTTP statuses of requests
    retries: int = 0
    honoured: int = 0
    skipped: str | None = None


def counts(m: CapacityTally) -> tuple[int, int, dict[str, int]]:
    """Requests (sessions or HTTP requests), failures, documented rejections by signal."""
    rej = rejections(m)
    requests = sum(m.close_codes.values())  # sessions ended, and connections refused
    errors = requests - m.close_codes.get("1000", 0)  # a refusal's error message is not counted
    http = sum(m.status.values())
    if http:
        requests += http
        errors += sum(n for s, n in m.status.items() if not s.startswith("2"))
        rej["429"] += m.status.get("429", 0)
    return requests, errors, rej


def capacity_figures(m: CapacityTally) -> dict[str, Any]:
    requests, errors, rej = counts(m)
    out: dict[str, Any] = {}
    if m.started or m.close_codes:
        out.update(stream_figures(m))
    if m.status or m.skipped:
        out.update(tts_figures(m))  # latency_ms, retries, retry_after_honoured, status
    out.update(
        requests=requests,
        errors=errors,
        error_ratio=errors / max(1, requests),
        rejections=rej,
    )
    return out


def limiting_signal(fig: dict[str, Any], breached: list[str]) -> str | None:
    if not breached:
        return None
    rej = fig.get("rejections", {})
    if any(rej.values()):
        return max(sorted(rej), key=lambda s: rej[s])
    if any(b.split(".")[0] in MS_METRICS for b in breached):
        return "latency"
    bad = {k: v for k, v in fig.get("close_codes", {}).items() if k != "1000"}
    bad.update({f"HTTP {k}": v for k, v in fig.get("status", {}).items() if not k.startswith("2")})
    return max(sorted(bad), key=lambda s: bad[s]) if bad else "errors"


def overdue(m: CapacityTally, slos: list[Threshold], now: float | None) -> bool:
    """Requests were answered, or a session started in this step has waited longer than
    every latency objective allows (``now``: epoch seconds at the step's end; None, as in
    a merged state with no clock: any offer counts)."""
    if m.status:
        return True
    if now is None:
        return bool(m.started or m.close_codes)
    if m.first_started_at is None:  # no session started here (ends of earlier ones only)
        return False
    slowest = slowest_latency(slos)
    return now - m.first_started_at > (slowest.limit if slowest else 0.0) / 1000.0


def step_record(
    level: int,
    started_s: float,
    duration_s: float,
    m: CapacityTally,
    slos: list[Threshold],
    now: float | None = None,
) -> dict[str, Any]:
    fig = capacity_figures(m)
    verdicts = judge_thresholds(slos, fig)
    # An objective with no figure is judged only when the step had time to show one:
    # sessions were offered and the oldest waited longer than the objectives allow
    # (nothing answered while held: a breach). Sessions that started just before the step
    # ended may not have answered yet, and a quiet Poisson window offers nothing at all:
    # such a step measured nothing and has no verdict.
    late = overdue(m, slos, now)
    judged = [v for v in verdicts if v["value"] is not None or late]
    breached = [v["metric"] for v in judged if not v["ok"]]
    offered = bool(m.started or m.close_codes or m.status)
    complete = offered and len(judged) == len(verdicts)
    verdict = "breach" if breached else ("within" if complete else "no-data")
    names = {s.metric.split(".")[0] for s in slos if s.metric != "error_ratio"}
    empty = Histogram().summary_ms()
    return {
        "level": level,
        "started_s": round(started_s, 3),
        "duration_s": round(duration_s, 3),
        "requests": fig["requests"],
        "errors": fig["errors"],
        "error_ratio": round(fig["error_ratio"], 6),
        "rejections": fig["rejections"],
        "metrics": {k: fig.get(k) or dict(empty) for k in sorted(names)},
        "breached": breached,
        "verdict": verdict,
        "_verdicts": verdicts,
        "_signal": limiting_signal(fig, breached),
    }
