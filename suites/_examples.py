"""Hypothesis inside a conformance case: the one way a case draws its examples."""

from __future__ import annotations

from hypothesis import HealthCheck, settings


def examples(max_examples: int) -> settings:
    """Settings for the examples one case draws: ``max_examples`` of them, no deadline
    (each example is a round trip to the target), no example database (a run leaves
    nothing behind) and no health checks (the target's speed is not what is judged)."""
    return settings(
        max_examples=max_examples,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
