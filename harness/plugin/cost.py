"""The live-cost estimate of the final selection, announced before anything is sent, and
the ``--max-cost`` cap checked against it (see :mod:`harness.cost_estimate`); beside it, the
expected wall time from a round trip measured at the start."""

from __future__ import annotations

import sys

import pytest

from harness.cost_estimate import (
    Estimate,
    cost_report,
    estimate,
    load_plan,
    measure_round_trip,
    wall_estimate,
)

from . import schedule
from .session import HarnessSession


def plan(hs: HarnessSession, items: list[pytest.Item]) -> str | None:
    """Estimate what ``items`` cost on the live target, say it, record it; the reason to stop
    when the estimate exceeds the cap (None: go on)."""
    planned = estimate(items, hs.manifest, load_plan())
    hs.planned = planned
    cost = planned.usd
    cap = hs.budget.max_cost_usd
    per_surface = ", ".join(f"{s} {v:.1f} s" for s, v in sorted(planned.seconds.items()))
    sys.stderr.write(
        f"harness: the {len(items)} selected cases will submit about "
        f"{planned.hours:.4f} audio hours to the live target ({per_surface or 'no audio'}; "
        f"estimated ${cost:.4f} at published prices; cap: "
        f"{'none' if cap is None else f'${cap:.4f}'})\n"
    )
    sys.stderr.write(f"harness: {wall_time(hs, len(items), planned)}\n")
    if hs.writer is not None:
        hs.writer.set_cost(cost_report(planned, {}, cap))
    if cap is not None and cost > cap + 1e-12:
        return f"estimated cost ${cost:.4f} exceeds --max-cost ${cap:.4f}; narrow the run with -k"
    return None


def wall_time(hs: HarnessSession, cases: int, planned: Estimate) -> str:
    """The expected wall time of the selection, from a round trip measured now to the first
    of the profile's HTTP base URLs that answers (a few GET requests of the base URL; their
    status does not matter, and they carry no key and no audio)."""
    urls = [u for k, u in hs.profile.base_urls().items() if k.endswith("_http")]
    wait = min(hs.profile.timeout_s, 5.0)
    rtt = next((t for u in urls if (t := measure_round_trip(u, timeout_s=wait)) is not None), None)
    if rtt is None:
        return "expected wall time: not estimated (no HTTP base URL answered a round trip)"
    jobs, caps = schedule.resolve_jobs(hs.jobs, hs.profile, hs.limits_found)
    return wall_estimate(cases, planned, rtt).describe(jobs, caps)


def record_spend(hs: HarnessSession) -> None:
    """At the end: the estimate beside what was actually sent."""
    if hs.writer is not None and hs.planned is not None:
        hs.writer.set_cost(cost_report(hs.planned, hs.budget.seconds, hs.budget.max_cost_usd))
