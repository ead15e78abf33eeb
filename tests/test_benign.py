"""Precision self-test: the suite finds no violation in a target that only differs where
the documents leave it free.

Each benign variant of the emulator (:mod:`harness.emulator.benign`: reworded error
texts, extra undocumented fields, another field order, 100 ms of added latency), and
the spec-literal preset (``[alternatives] preset = "specs"``: every contradiction on the
side of the published OpenAPI/AsyncAPI files) when the config accepts it, gets a whole
conformance run. None may have a ``failed`` case; a case that is ``non-strict`` or
``informational`` must name its clause; and a benign variant may not turn a case that
passes on the plain emulator into one that was not tested (``error``/``skipped``), which
would hide a check rather than pass it (the preset may: a case whose precondition is the
other side of a contradiction is skipped with that reason). Each run must also show that its variant was on (in
the recorded exchanges, the ledger or the run time), so a switch that did nothing cannot
pass. The runs go two at a time; the latency one is the slowest (every response and
handshake waits 100 ms: about 200 s instead of 45 s for the whole suite).
"""

from __future__ import annotations

import json
import statistics
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from detection import run_switched

from harness.contract import all_clauses
from harness.contract import tables as T
from harness.emulator.benign import (
    BENIGN,
    EXTRA_FIELDS,
    EXTRA_NOTE,
    FIELD_ORDER,
    LATENCY,
    REWORDED_ERRORS,
    reword,
)
from harness.emulator.config import ConfigError, load_config_dict

RUN_TIMEOUT_S = 1500  # one whole run with 100 ms per response and handshake, shared CPU
# Every tested case makes at least one exchange, each 100 ms later with the variant: the
# median tested case takes at least this much longer (cases overlap, so the run's own wall
# time is no measure).
LATENCY_MIN_EXTRA_S = 0.08
SPECS = "specs"


def _specs_preset_accepted() -> bool:
    try:
        load_config_dict({"alternatives": {"preset": SPECS}})
    except ConfigError:
        return False
    return True


VARIANTS: dict[str, str] = {n: f'[benign]\nenabled = ["{n}"]\n' for n in BENIGN}
if _specs_preset_accepted():
    VARIANTS[SPECS] = f'[alternatives]\npreset = "{SPECS}"\n'
# Longest first, so that the two workers finish at about the same time.
ORDER = [LATENCY, *(n for n in VARIANTS if n != LATENCY), "baseline"]


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[int, dict]]:
    tmp: Path = tmp_path_factory.mktemp("benign")
    configs = {**VARIANTS, "baseline": ""}
    with ThreadPoolExecutor(max_workers=2) as pool:
        futures = {
            n: pool.submit(run_switched, tmp, n, configs[n], (), False, RUN_TIMEOUT_S)
            for n in ORDER
        }
        return {n: f.result() for n, f in futures.items()}


def _line(case: dict) -> str:
    exp = " | ".join(case.get("expected") or []) or "-"
    return f"{case['clause']} ({case['id']}): expected {exp}; actual {case.get('actual') or '-'}"


@pytest.mark.timeout(2 * RUN_TIMEOUT_S)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_no_false_violation(runs, variant):
    code, report = runs[variant]
    failed = [c for c in report["cases"] if c["outcome"] == "failed"]
    assert not failed, f"{variant}: {len(failed)} failed case(s):\n" + "\n".join(
        _line(c) for c in failed
    )
    assert code == 0, f"{variant}: exit {code} with no failed case"


@pytest.mark.timeout(2 * RUN_TIMEOUT_S)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_soft_outcomes_name_their_clause(runs, variant):
    known = {c.id for c in all_clauses()}
    _, report = runs[variant]
    soft = [c for c in report["cases"] if c["outcome"] in ("non-strict", "informational")]
    unnamed = [c["id"] for c in soft if c.get("clause") not in known]
    assert not unnamed, f"{variant}: cases without a known clause: {unnamed}"


def _exchanges(report: dict) -> str:
    return json.dumps([c.get("evidence") for c in report["cases"]])


def _median_case_s(report: dict) -> float:
    tested = [c.get("duration_s") or 0.0 for c in report["cases"] if c["outcome"] != "skipped"]
    return statistics.median(tested) if tested else 0.0


def _shows(variant: str, report: dict, base: dict) -> bool:
    """Whether the run shows its variant at work (and the baseline does not)."""
    if variant == LATENCY:
        return _median_case_s(report) >= _median_case_s(base) + LATENCY_MIN_EXTRA_S
    if variant == SPECS:
        return any(e.get("chosen") != e.get("expected") for e in report["ledger"])
    marker = {
        EXTRA_FIELDS: EXTRA_NOTE,
        FIELD_ORDER: '{\\"code\\":',  # a KugelAudio error body, `code` first (JSON in JSON)
        REWORDED_ERRORS: reword(T.DETAIL_EMPTY),
    }[variant]
    return marker in _exchanges(report) and marker not in _exchanges(base)


@pytest.mark.timeout(2 * RUN_TIMEOUT_S)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_variant_took_effect(runs, variant):
    _, base = runs["baseline"]
    _, report = runs[variant]
    assert not _shows(variant, base, base), f"the baseline shows {variant}'s marker"
    assert _shows(variant, report, base), f"{variant}: the run shows no sign of the variant"


@pytest.mark.timeout(2 * RUN_TIMEOUT_S)
@pytest.mark.parametrize("variant", list(BENIGN))
def test_variant_leaves_every_case_testable(runs, variant):
    _, base = runs["baseline"]
    _, report = runs[variant]
    assert report["cases"], f"{variant}: the run has no case"
    before = {c["id"]: c["outcome"] for c in base["cases"]}
    after = {c["id"]: c for c in report["cases"]}
    assert set(after) == set(before), f"{variant}: not the baseline's cases"
    lost = [
        f"{cid}: {c['outcome']} ({c.get('message') or '-'})"
        for cid, c in after.items()
        if c["outcome"] in ("error", "skipped") and before[cid] not in ("error", "skipped")
    ]
    assert not lost, f"{variant}: cases no longer tested:\n" + "\n".join(lost)
