"""The capacity search's objectives and levels: pure parsing, no Locust import.

An objective is ``METRIC<=NUMBER``: ``METRIC`` is ``error_ratio`` or a figure in
milliseconds with its percentile (``ttfr_ms.p95``, ``result_lag_ms.p99``,
``latency_ms.p95`` ...). Used by ``harness load capacity`` before Locust starts (a bad
objective is a usage error, exit 2) and by :mod:`harness.load.capacity`.
"""

from __future__ import annotations

import re

from harness.contract import tables as T

from .common import LoadUsageError as _Usage
from .common import Threshold

KUGEL_TTS = "kugel-tts"
SURFACES: tuple[str, ...] = (*T.STREAM_SURFACES, *T.REST_SURFACES, KUGEL_TTS)
DEFAULT_SLOS = {
    "stream": ("ttfr_ms.p95<=1500", "result_lag_ms.p99<=500", "error_ratio<=0.01"),
    "batch": ("latency_ms.p95<=2000", "error_ratio<=0.01"),
    "tts": ("latency_ms.p95<=2000", "error_ratio<=0.01"),
}
MS_METRICS = ("ttfr_ms", "result_lag_ms", "connect_ms", "done_ms", "pacing_lag_ms", "latency_ms")
_PARTS = ("p50", "p95", "p99", "max")
_SLO = re.compile(r"^\s*([a-z_]+(?:\.[a-z0-9_]+)?)\s*<=\s*([-+0-9.eE]+)\s*$")
MAX_STEPS = 60


def kind_of(surface: str) -> str:
    if surface in T.STREAM_SURFACES:
        return "stream"
    if surface in T.REST_SURFACES:
        return "batch"
    if surface == KUGEL_TTS:
        return "tts"
    raise _Usage(f"--surface {surface!r}: expected one of {', '.join(SURFACES)}")


def parse_slo(text: str) -> Threshold:
    """``METRIC<=NUMBER``: ``ttfr_ms.p95<=1500``, ``error_ratio<=0.01`` ..."""
    m = _SLO.match(text)
    known = ", ".join(f"{n}.{{{'|'.join(_PARTS)}}}" for n in MS_METRICS) + ", error_ratio"
    if m is None:
        raise _Usage(f"--slo {text!r}: expected METRIC<=NUMBER, e.g. ttfr_ms.p95<=1500")
    metric, limit = m.group(1), m.group(2)
    root, _, part = metric.partition(".")
    ok = (root in MS_METRICS and part in _PARTS) or (metric == "error_ratio")
    if not ok:
        raise _Usage(f"--slo {text!r}: unknown metric {metric!r}; known: {known}")
    try:
        value = float(limit)
    except ValueError:
        raise _Usage(f"--slo {text!r}: {limit!r} is not a number") from None
    return Threshold(metric, value)


def objectives(kind: str, texts: list[str] | None) -> list[Threshold]:
    """The objectives a search judges: ``texts`` (``--slo``), or the defaults of ``kind``."""
    return [parse_slo(str(t)) for t in texts or DEFAULT_SLOS[kind]]


def slowest_latency(slos: list[Threshold]) -> Threshold | None:
    """The latency objective (a figure in milliseconds) with the largest limit, if any."""
    latency = [s for s in slos if s.metric.split(".")[0] in MS_METRICS]
    return max(latency, key=lambda s: s.limit, default=None)


def levels(start: int, step: int, maximum: int) -> list[int]:
    if start < 1 or step < 1 or maximum < start:
        raise _Usage(
            f"capacity levels: need --start >= 1, --step >= 1 and --max >= --start "
            f"(got {start}, {step}, {maximum})"
        )
    out = list(range(start, maximum + 1, step))
    if len(out) > MAX_STEPS:
        raise _Usage(f"capacity levels: {len(out)} steps, at most {MAX_STEPS}")
    return out
