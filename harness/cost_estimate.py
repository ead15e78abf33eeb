"""What a run against a live target will cost, before and after: audio seconds per surface.

Before the run, :func:`estimate` adds up the audio each selected case will send, taken from
(first that applies):

1. ``@pytest.mark.audio(*fixture_ids, seconds=0.0, surface=None)`` on the case (repeat the
   mark for several surfaces; ``surface`` defaults to the case's ``surface`` parameter,
   else its clause's surface);
2. the audio plan ``suites/audio_plan.json``: what each case charged in a run with a
   ``kind = "live"`` profile against ``harness emulate`` (every request it makes, loops
   included; cases that need the emulator's switches are skipped on a live target and
   charge nothing), written by ``python -m harness.cost_estimate REPORT``;
3. the duration of the case's ``fixture_id`` parameter.

After the run, :func:`cost_report` sets that against what the cases actually charged to the
:class:`~harness.client.budget.AudioBudget`. Cases whose audio grows with a limit of the
target (admission cases send one request more than the limit) are planned at the
emulator's limits; the budget still refuses audio past the cap during the run. Cases that stream to a surface
picked at random are planned at the surfaces of the measured run (the seconds are the same).

Beside it, :func:`wall_estimate` gives the expected wall time: the selected cases' requests
at a round trip measured at the start (:func:`measure_round_trip`), plus the streamed audio
at its duration.
"""

from __future__ import annotations

import json
import statistics
import sys
import time
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from harness.contract.tables import PRICE_PER_AUDIO_HOUR_USD, STREAM_SURFACES, audio_cost_usd

AUDIO_MARK = "audio"
MARKER_HELP = (
    "audio(*fixture_ids, seconds=0.0, surface=None): audio this case sends, for the cost "
    "estimate of a live run; repeat for several surfaces"
)
PLAN_FILE = Path(__file__).resolve().parent.parent / "suites" / "audio_plan.json"

Plan = Mapping[str, Mapping[str, float]]  # case nodeid -> surface -> audio seconds


def _usd(surface: str, seconds: float) -> float:
    return audio_cost_usd(surface, seconds) if surface in PRICE_PER_AUDIO_HOUR_USD else 0.0


def load_plan(path: Path = PLAN_FILE) -> dict[str, dict[str, float]]:
    """The audio plan (empty when the file is missing or unreadable: the estimate then
    falls back to fixture parameters)."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    cases = data.get("cases") if isinstance(data, dict) else None
    if not isinstance(cases, dict):
        return {}
    return {
        str(k): {str(s): float(v) for s, v in per.items() if isinstance(v, int | float)}
        for k, per in cases.items()
        if isinstance(per, dict)
    }


def _surface_of(item: Any) -> str:
    callspec = getattr(item, "callspec", None)
    param = callspec.params.get("surface") if callspec is not None else None
    if isinstance(param, str) and param in PRICE_PER_AUDIO_HOUR_USD:
        return param
    marker = item.get_closest_marker("clause")
    clause_id = str(marker.args[0]) if marker and marker.args else ""
    return clause_id.split("/")[0]


def item_audio(item: Any, manifest: Any, plan: Plan | None = None) -> dict[str, float]:
    """Surface -> audio seconds one collected case will send."""
    default_surface = _surface_of(item)
    declared = list(item.iter_markers(AUDIO_MARK))
    if declared:
        out: dict[str, float] = {}
        for mark in declared:
            surface = str(mark.kwargs.get("surface") or default_surface)
            seconds = float(mark.kwargs.get("seconds", 0.0))
            seconds += sum(_duration(manifest, str(fid)) for fid in mark.args)
            out[surface] = out.get(surface, 0.0) + seconds
        return out
    if plan is not None and item.nodeid in plan:
        return dict(plan[item.nodeid])
    callspec = getattr(item, "callspec", None)
    fid = callspec.params.get("fixture_id") if callspec is not None else None
    if default_surface and isinstance(fid, str):
        return {default_surface: _duration(manifest, fid)}
    return {}


def _duration(manifest: Any, fixture_id: str) -> float:
    try:
        return float(manifest.get(fixture_id).duration_s)
    except KeyError:
        return 0.0


@dataclass
class Estimate:
    """Audio seconds per surface, and what they cost at the published prices."""

    seconds: dict[str, float] = field(default_factory=dict)

    def add(self, per_surface: Mapping[str, float]) -> None:
        for s, v in per_surface.items():
            if v > 0:
                self.seconds[s] = self.seconds.get(s, 0.0) + v

    @property
    def usd(self) -> float:
        return sum(_usd(s, v) for s, v in self.seconds.items())

    @property
    def hours(self) -> float:
        return sum(self.seconds.values()) / 3600.0

    def to_dict(self) -> dict[str, Any]:
        return {
            "usd": round(self.usd, 6),
            "audio_s": round(sum(self.seconds.values()), 3),
            "surfaces": {
                s: {"audio_s": round(v, 3), "usd": round(_usd(s, v), 6)}
                for s, v in sorted(self.seconds.items())
            },
        }


def estimate(items: Iterable[Any], manifest: Any, plan: Plan | None = None) -> Estimate:
    est = Estimate()
    for item in items:
        est.add(item_audio(item, manifest, plan))
    return est


# --------------------------------------------------------------------------- wall time

#: Requests a case makes, on average, each on the case's own connection (a full run against
#: the emulator records 1.7 exchanges per case; admission cases send theirs at once).
REQUESTS_PER_CASE = 2.0
#: The harness's own work per case (judging, evidence, report), measured on loopback.
LOCAL_S_PER_CASE = 0.03
ROUND_TRIP_TRIES = 3


@dataclass
class WallEstimate:
    """The expected wall time of a run, one case at a time: per case, its requests at the
    measured round trip plus the harness's own work; streamed audio at its duration (a
    real-time stream takes as long as its audio)."""

    cases: int
    round_trip_s: float
    stream_s: float
    stream_by_surface: Mapping[str, float] = field(default_factory=dict)

    @property
    def requests_s(self) -> float:
        return self.cases * REQUESTS_PER_CASE * self.round_trip_s

    @property
    def total_s(self) -> float:
        return self.cases * LOCAL_S_PER_CASE + self.requests_s + self.stream_s

    def with_jobs(self, jobs: int, caps: Mapping[str, int]) -> float:
        """About how long with ``jobs`` cases at once: the serial time spread over the jobs,
        but never less than the longest surface's streamed audio over its cap."""
        floor = max(
            (s / max(1, caps.get(surface, 1)) for surface, s in self.stream_by_surface.items()),
            default=0.0,
        )
        return max(self.total_s / max(1, jobs), floor)

    def describe(self, jobs: int = 1, caps: Mapping[str, int] | None = None) -> str:
        at_once = ""
        if jobs > 1:
            at_once = f"; with --jobs {jobs} about {_span(self.with_jobs(jobs, caps or {}))}"
        return (
            f"expected wall time about {_span(self.total_s)} one case at a time{at_once}: "
            f"{self.cases} cases x {REQUESTS_PER_CASE:g} requests x {self.round_trip_s:.3f} s "
            f"round trip (measured) = {_span(self.requests_s)}, "
            f"{self.stream_s:.0f} s of streamed audio at real time, "
            f"{_span(self.cases * LOCAL_S_PER_CASE)} of the harness's own work"
        )


def _span(seconds: float) -> str:
    if seconds < 120:
        return f"{seconds:.0f} s"
    return f"{seconds / 60:.1f} min"


def wall_estimate(cases: int, planned: Estimate, round_trip_s: float) -> WallEstimate:
    """The wall time of ``cases`` cases that send ``planned`` audio, at ``round_trip_s``."""
    by_surface = {s: v for s, v in planned.seconds.items() if s in STREAM_SURFACES}
    return WallEstimate(cases, round_trip_s, sum(by_surface.values()), by_surface)


def measure_round_trip(
    url: str, *, tries: int = ROUND_TRIP_TRIES, timeout_s: float = 5.0
) -> float | None:
    """The median time of ``tries`` GET requests to ``url``, each on a new connection (as a
    case opens its own), whatever the status; None when none was answered."""
    times: list[float] = []
    fresh = httpx.Limits(max_keepalive_connections=0)  # a new connection for every request
    with httpx.Client(timeout=timeout_s, limits=fresh, trust_env=False) as client:
        for _ in range(tries):
            t0 = time.perf_counter()
            try:
                client.get(url)
            except httpx.HTTPError:
                continue
            times.append(time.perf_counter() - t0)
    return statistics.median(times) if times else None


def cost_report(
    planned: Estimate, spent_seconds: Mapping[str, float], cap_usd: float | None
) -> dict[str, Any]:
    """The ``cost`` object of ``conformance.json``."""
    spent = Estimate(dict(spent_seconds))
    return {"cap_usd": cap_usd, "estimate": planned.to_dict(), "spent": spent.to_dict()}


def plan_from_report(report: Mapping[str, Any]) -> dict[str, Any]:
    """The audio plan from a ``conformance.json`` (each case's ``audio``, by ``nodeid``)."""
    cases: dict[str, dict[str, float]] = {}
    for c in report.get("cases") or []:
        audio, nodeid = c.get("audio"), c.get("nodeid")
        if nodeid and isinstance(audio, dict) and audio:
            cases[nodeid] = {s: round(float(v), 3) for s, v in sorted(audio.items())}
    return {
        "about": "audio each case sends to a live target, measured with a kind = live profile "
        "against `harness emulate`; regenerate: python -m harness.cost_estimate REPORT",
        "cases": dict(sorted(cases.items())),
    }


def main(argv: list[str] | None = None) -> int:
    """``python -m harness.cost_estimate REPORT [OUT]``: write the audio plan."""
    args = sys.argv[1:] if argv is None else argv
    if not args or len(args) > 2:
        print("usage: python -m harness.cost_estimate REPORT.json [OUT.json]", file=sys.stderr)
        return 2
    src = Path(args[0])
    src = src / "conformance.json" if src.is_dir() else src
    out = Path(args[1]) if len(args) > 1 else PLAN_FILE
    try:
        report = json.loads(src.read_text(encoding="utf-8"))
    except (OSError, ValueError) as exc:
        print(f"error: {src}: {exc}", file=sys.stderr)
        return 2
    plan = plan_from_report(report)
    out.write_text(json.dumps(plan, indent=1) + "\n", encoding="utf-8")
    print(f"{len(plan['cases'])} cases with audio written to {out}")
    return 0


if __name__ == "__main__":
    sys.exit(main())


__all__ = [
    "AUDIO_MARK",
    "MARKER_HELP",
    "PLAN_FILE",
    "Estimate",
    "WallEstimate",
    "cost_report",
    "estimate",
    "item_audio",
    "load_plan",
    "measure_round_trip",
    "plan_from_report",
    "wall_estimate",
]
