"""Detection self-test: the suites catch each deviation the emulator can be switched into.

For every deviation switch, the relevant cases run against an emulator with that
switch on and must fail, naming the clause the deviation breaks. For every row of
the contradictions table that concerns Velma-2, the emulator is switched to the
non-preferred documented side and a strict run must fail those clauses with the
ledger naming the side the target chose. A baseline run with no switch must pass
the same clauses, so each failure is caused by the switch and nothing else.
"""

from __future__ import annotations

import pytest
from detection import flips, outcomes, run_all

from harness.contract import get

# deviation -> (clause prefixes to run, clauses whose cases must fail)
DEVIATIONS: dict[str, tuple[tuple[str, ...], tuple[str, ...]]] = {
    "short-audio-400": (("svd-batch/too-short",), ("svd-batch/too-short",)),
    "queue-instead-of-reject": (
        ("stt-batch/concurrency-immediate",),
        ("stt-batch/concurrency-immediate",),
    ),
    "trimmed-timestamps": (
        ("svd-batch/silence-trim-timestamps",),
        ("svd-batch/silence-trim-timestamps",),
    ),
    "no-content-confidence": (("svd-batch/no-content",), ("svd-batch/no-content",)),
    "wrong-detail": (
        ("stt-batch/empty-file", "vfast-batch/empty-file", "pii-batch/empty-file"),
        ("stt-batch/empty-file", "vfast-batch/empty-file", "pii-batch/empty-file"),
    ),
    "missing-field": (
        ("stt-batch/duration-ms", "vfast-batch/duration-ms", "pii-batch/duration-ms"),
        ("stt-batch/duration-ms", "vfast-batch/duration-ms", "pii-batch/duration-ms"),
    ),
    "close-1000-instead-of-4002": (
        ("stt-stream/undecodable", "svd-stream/undecodable", "pii-stream/undecodable"),
        ("stt-stream/undecodable", "svd-stream/undecodable", "pii-stream/undecodable"),
    ),
    "omit-done": (
        ("stt-stream/end-of-stream", "svd-stream/end-of-stream", "pii-stream/end-of-stream"),
        ("stt-stream/end-of-stream", "svd-stream/end-of-stream", "pii-stream/end-of-stream"),
    ),
    "no-error-before-close": (
        (
            "stt-stream/error-before-close",
            "svd-stream/error-before-close",
            "pii-stream/error-before-close",
        ),
        (
            "stt-stream/error-before-close",
            "svd-stream/error-before-close",
            "pii-stream/error-before-close",
        ),
    ),
    "partials-without-flag": (
        ("stt-stream/partials-off-by-default",),
        ("stt-stream/partials-off-by-default",),
    ),
}

VELMA = {
    "velma",
    "stt-batch",
    "vfast-batch",
    "svd-batch",
    "pii-batch",
    "stt-stream",
    "svd-stream",
    "pii-stream",
}
# Sides the emulator cannot take, with the reason (reported, not hidden).
CANNOT_EMULATE = {
    (
        "velma/auth-header-casing",
        "exact-casing",
    ): "uvicorn lower-cases header names before the app sees them",
}


def _flips() -> dict[str, str]:
    return flips(VELMA, CANNOT_EMULATE)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[int, dict]]:
    every = sorted({c for _, must in DEVIATIONS.values() for c in must})
    selections = {dev: sel for dev, (sel, _) in DEVIATIONS.items()}
    return run_all(tmp_path_factory.mktemp("detection"), selections, _flips(), every)


def test_baseline_passes_every_clause_the_deviations_break(runs):
    code, report = runs["baseline"]
    for _, must in DEVIATIONS.values():
        for clause in must:
            got = outcomes(report, clause)
            assert got, f"no case checks {clause}"
            assert set(got) <= {"passed"}, f"{clause} does not pass on the plain emulator: {got}"


@pytest.mark.parametrize("deviation", sorted(DEVIATIONS))
def test_each_deviation_is_caught_and_named(runs, deviation):
    code, report = runs[deviation]
    assert code == 1, f"{deviation}: exit {code}, expected 1 (violations found)"
    for clause in DEVIATIONS[deviation][1]:
        got = outcomes(report, clause)
        assert "failed" in got, f"{deviation} was not caught by {clause}: {got}"
    failed = {c["clause"] for c in report["cases"] if c["outcome"] == "failed"}
    assert failed <= set(DEVIATIONS[deviation][0]) | set(DEVIATIONS[deviation][1])


def test_every_velma_surface_has_a_deviation_caught(runs):
    caught = {c.split("/")[0] for _, must in DEVIATIONS.values() for c in must}
    assert caught >= VELMA - {"velma"}


def test_every_velma_contradiction_row_is_detected_with_the_chosen_side(runs):
    code, report = runs["alternatives"]
    base_code, base = runs["alternatives-baseline"]
    flips = _flips()
    rows = {get(cid).contradiction for cid in flips} - {None}
    assert rows >= set(range(1, 13)) - {8}, (
        f"Velma-2 contradiction rows not flipped: {set(range(1, 13)) - rows}"
    )
    ledger = {(e["clause"], e["chosen"]) for e in report["ledger"]}
    for cid, key in flips.items():
        got = outcomes(report, cid)
        assert got, f"no case checks {cid}"
        if all(o == "informational" for o in got):  # INFO clauses record, never fail
            assert (cid, key) in ledger, f"{cid}: the ledger does not name the chosen side {key!r}"
            continue
        assert "failed" in got, f"{cid} switched to {key!r} was not detected: {got}"
        assert (cid, key) in ledger, f"{cid}: the ledger does not name the chosen side {key!r}"
        assert set(outcomes(base, cid)) <= {"passed", "informational"}, (
            f"{cid} fails on the preferred side"
        )
    assert code == 1
