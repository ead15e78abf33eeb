"""Detection self-test for KugelAudio: the suites catch each ``kugel-*`` deviation.

As ``tests/test_detection.py`` does for Velma-2: for every KugelAudio deviation switch,
the relevant cases run (``harness run --emulator-config CFG --clause PREFIX``) against
an emulator with that switch on and must fail (or, for a SHOULD clause, be non-strict),
naming the clause the deviation breaks; a baseline run with no switch passes the same
clauses. Contradiction rows 13-15 and 19 are flipped to their non-preferred documented side
and a ``--strict`` run must fail those clauses with the ledger naming the chosen side.
"""

from __future__ import annotations

import pytest
from detection import assert_all_pass, flips, outcomes, run_all

from harness.contract import Tier, all_clauses, get
from harness.contract.tables import KUGEL_ERRORS

FAILED, NON_STRICT = "failed", "non-strict"


def _row_clauses() -> tuple[str, ...]:
    """The clauses that carry one row of the seed's HTTP payload table each."""
    rows = {(r.status, r.error_code, r.message) for r in KUGEL_ERRORS}
    found = []
    for c in all_clauses():
        if c.surface.value != "kugel-http" or c.tier is not Tier.MUST:
            continue
        outs = c.outcomes + tuple(o for a in c.alternatives for o in a.outcomes)
        if any((o.status, o.error_code, o.detail) in rows for o in outs):
            found.append(c.id)
    return tuple(sorted(found))


ROW_CLAUSES = _row_clauses()

# deviation -> (clause prefixes to run, {clause: the outcome its cases must show})
DEVIATIONS: dict[str, tuple[tuple[str, ...], dict[str, str]]] = {
    "kugel-retry-after-in-body": (
        ("kugel/no-retry-after-in-body",),
        {"kugel/no-retry-after-in-body": FAILED},
    ),
    "kugel-code-mismatch": (
        ("kugel-http/code-matches-status", "kugel-ws/close-code-separate"),
        {"kugel-http/code-matches-status": FAILED, "kugel-ws/close-code-separate": FAILED},
    ),
    "kugel-forbidden-code": (
        ("kugel-http/forbidden", "kugel/error-code-documented"),
        {"kugel-http/forbidden": FAILED, "kugel/error-code-documented": FAILED},
    ),
    # The page makes the error frame conditional: a close without one keeps the close-code
    # clauses (kugel-ws/close-NNNN pass) and misses the SHOULD that recommends the frame.
    "kugel-no-error-frame": (
        ("kugel-ws/close-", "kugel-ws/error-frame-before-close"),
        {"kugel-ws/error-frame-before-close": NON_STRICT},
    ),
    "kugel-error-only": (
        ("kugel/error-envelope", "kugel/error-text-display-only", *ROW_CLAUSES),
        {
            "kugel/error-envelope": FAILED,
            "kugel/error-text-display-only": NON_STRICT,  # a SHOULD clause
            # every row of the seed's payload table fails once error_code and code are gone
            **dict.fromkeys(ROW_CLAUSES, FAILED),
        },
    ),
}
KUGEL = {"kugel-http", "kugel-ws", "kugel"}
ROWS = {13, 14, 15, 19}


def _flips() -> dict[str, str]:
    return flips(KUGEL)


@pytest.fixture(scope="module")
def runs(tmp_path_factory) -> dict[str, tuple[int, dict]]:
    every = sorted({p for sel, _ in DEVIATIONS.values() for p in sel})
    selections = {dev: sel for dev, (sel, _) in DEVIATIONS.items()}
    return run_all(tmp_path_factory.mktemp("detection-kugel"), selections, _flips(), every, 3)


def test_baseline_passes_every_clause_the_deviations_break(runs):
    code, report = runs["baseline"]
    assert code == 0, f"baseline exit {code}"
    assert_all_pass(report, (c for _, must in DEVIATIONS.values() for c in must))


@pytest.mark.parametrize("deviation", sorted(DEVIATIONS))
def test_each_kugel_deviation_is_caught_and_named(runs, deviation):
    code, report = runs[deviation]
    selection, must = DEVIATIONS[deviation]
    if FAILED in must.values():
        assert code == 1, f"{deviation}: exit {code}, expected 1 (violations found)"
    for clause, outcome in must.items():
        got = outcomes(report, clause)
        assert outcome in got, f"{deviation} was not caught by {clause} ({outcome}): {got}"
    failed = {c["clause"] for c in report["cases"] if c["outcome"] == FAILED}
    assert all(any(c.startswith(p) for p in selection) for c in failed)
    named = {c["clause"] for c in report["cases"] if c["outcome"] in (FAILED, NON_STRICT)}
    assert named >= set(must), f"{deviation}: clauses not named: {set(must) - named}"
    if deviation == "kugel-no-error-frame":  # the close codes were kept: nothing fails
        assert code == 0 and not failed, f"{deviation}: exit {code}, failed {failed}"
        for c in (4001, 4003, 4029, 4500, 4000):
            assert set(outcomes(report, f"kugel-ws/close-{c}")) == {"passed"}


def test_every_kugel_surface_has_a_deviation_caught():
    caught = {get(c).surface.value for _, must in DEVIATIONS.values() for c in must}
    assert caught >= KUGEL


def test_kugel_contradiction_rows_13_to_15_are_detected_with_the_chosen_side(runs):
    code, report = runs["alternatives"]
    _, base = runs["alternatives-baseline"]
    flips = _flips()
    assert {get(cid).contradiction for cid in flips} >= ROWS, f"rows not flipped: {flips}"
    ledger = {(e["clause"], e["chosen"]) for e in report["ledger"]}
    base_ledger = {(e["clause"], e["chosen"]) for e in base["ledger"]}
    for cid, key in flips.items():
        got = outcomes(report, cid)
        assert got, f"no case checks {cid}"
        assert FAILED in got, f"{cid} switched to {key!r} was not detected under --strict: {got}"
        assert (cid, key) in ledger, f"{cid}: the ledger does not name the chosen side {key!r}"
        assert set(outcomes(base, cid)) <= {"passed"}, f"{cid} fails on the preferred side"
        assert (cid, get(cid).preferred) in base_ledger
    assert code == 1
