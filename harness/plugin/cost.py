"""The live-cost estimate of the final selection, announced before anything is sent, and
the ``--max-cost`` cap checked against it (see :mod:`harness.cost_estimate`)."""

from __future__ import annotations

import sys

import pytest

from harness.cost_estimate import cost_report, estimate, load_plan

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
    if hs.writer is not None:
        hs.writer.set_cost(cost_report(planned, {}, cap))
    if cap is not None and cost > cap + 1e-12:
        return f"estimated cost ${cost:.4f} exceeds --max-cost ${cap:.4f}; narrow the run with -k"
    return None


def record_spend(hs: HarnessSession) -> None:
    """At the end: the estimate beside what was actually sent."""
    if hs.writer is not None and hs.planned is not None:
        hs.writer.set_cost(cost_report(hs.planned, hs.budget.seconds, hs.budget.max_cost_usd))
