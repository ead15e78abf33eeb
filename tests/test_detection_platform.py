"""Detection self-test for the Platform API: each Platform deviation is caught and named."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor

import pytest
from detection import outcomes, run_switched

# deviation -> the clauses whose cases must fail with it on (and pass without it)
DEVIATIONS = {
    "platform-no-realtime-url": ("platform/submit-realtime-websocket",),
    "platform-job-never-completes": (
        "platform/job-status-completes",
        "platform/job-status-results",
    ),
}


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[int, dict]]:
    tmp = tmp_path_factory.mktemp("detection-platform")
    selection = tuple(sorted({c for cs in DEVIATIONS.values() for c in cs}))
    jobs = {"baseline": ("", selection)}
    for dev, clauses in DEVIATIONS.items():
        jobs[dev] = (f'[deviations]\nenabled = ["{dev}"]\n', clauses)
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {n: pool.submit(run_switched, tmp, n, cfg, sel) for n, (cfg, sel) in jobs.items()}
        return {n: f.result() for n, f in futures.items()}


def test_baseline_passes(runs):
    code, report = runs["baseline"]
    assert code == 0
    for clauses in DEVIATIONS.values():
        for clause in clauses:
            got = outcomes(report, clause)
            assert got and set(got) == {"passed"}, f"{clause}: {got}"


@pytest.mark.parametrize("deviation", sorted(DEVIATIONS))
def test_each_platform_deviation_is_caught_and_named(runs, deviation):
    code, report = runs[deviation]
    assert code == 1, f"{deviation}: exit {code}"
    for clause in DEVIATIONS[deviation]:
        assert "failed" in outcomes(report, clause), f"{deviation} not caught by {clause}"
