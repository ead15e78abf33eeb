"""The capacity search: objectives, step verdicts, and searches that land on known answers.

The known answers come from the emulator child's own config: the organisation's
concurrency limit (``--emulator-limit``), and the knee of a latency that grows with load
(``--knee N --knee-latency-s S``). Levels are small and held for a few seconds.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from harness_cli import run_harness

from harness.cli import main
from harness.load import common as C
from harness.load.metrics import Histogram
from harness.load.slo import levels, parse_slo

REPO = Path(__file__).resolve().parents[1]
CAPACITY_KEYS = {
    "surface",
    "model",
    "max_within_slo",
    "first_breach",
    "limiting_signal",
    "steps",
}
STEP_KEYS = {
    "level",
    "started_s",
    "duration_s",
    "requests",
    "errors",
    "error_ratio",
    "rejections",
    "metrics",
    "breached",
    "verdict",
}


def test_objectives_parse_and_bad_ones_are_named() -> None:
    assert parse_slo("ttfr_ms.p95<=1500") == C.Threshold("ttfr_ms.p95", 1500.0)
    assert parse_slo(" error_ratio <= 0.01 ") == C.Threshold("error_ratio", 0.01)
    for bad, words in (
        ("ttfr_ms.p95>=1500", "expected METRIC<=NUMBER"),
        ("ttfr.p95<=1", "unknown metric 'ttfr.p95'"),
        ("latency_ms.p42<=1", "unknown metric"),
    ):
        with pytest.raises(C.LoadUsageError, match=words):
            parse_slo(bad)
    assert levels(2, 2, 7) == [2, 4, 6]
    with pytest.raises(C.LoadUsageError, match="--max >= --start"):
        levels(5, 1, 2)


def test_capacity_options_are_checked_before_any_run(tmp_path: Path, capsys) -> None:
    out = tmp_path / "never"
    assert main(["load", "capacity", "--slo", "p95<=3", "--report-dir", str(out)]) == 2
    assert main(["load", "capacity", "--surface", "nope", "--report-dir", str(out)]) == 2
    assert main(["load", "capacity", "--start", "0", "--report-dir", str(out)]) == 2
    assert main(["load", "streaming", "--surface", "svd-stream", "--report-dir", str(out)]) == 2
    err = capsys.readouterr().err
    assert "--slo 'p95<=3'" in err and "--surface 'nope'" in err
    assert "options of the capacity scenario only" in err
    assert not out.exists()


def test_step_verdicts_name_the_limiting_signal() -> None:
    from harness.load.tallies import CapacityTally, step_record

    slos = [parse_slo(t) for t in ("ttfr_ms.p95<=1500", "result_lag_ms.p99<=500")]
    slos.append(parse_slo("error_ratio<=0.01"))
    ok = CapacityTally(close_codes=Counter({"1000": 4}), sessions=4, started=4)
    ok.ttfr.extend([0.4] * 4)
    ok.lag.extend([0.002] * 12)
    rec = step_record(3, 1.0, 3.0, ok, slos)
    assert set(rec) - {"_verdicts", "_signal"} == STEP_KEYS
    assert (rec["verdict"], rec["breached"], rec["_signal"]) == ("within", [], None)
    assert rec["metrics"]["ttfr_ms"]["n"] == 4

    refused = CapacityTally(close_codes=Counter({"1000": 3, "4029": 9}), sessions=12, started=12)
    refused.ttfr.extend([0.4] * 3)
    refused.lag.extend([0.002] * 9)
    rec = step_record(4, 5.0, 3.0, refused, slos)
    assert rec["breached"] == ["error_ratio"] and rec["_signal"] == "4029"
    assert rec["rejections"] == {"429": 0, "4029": 9} and rec["errors"] == 9

    slow = CapacityTally(close_codes=Counter({"1000": 3}), sessions=3, started=3)
    slow.ttfr.extend([1.2] * 3)
    slow.lag.extend([0.9] * 9)
    rec = step_record(5, 9.0, 3.0, slow, slos)
    assert rec["breached"] == ["result_lag_ms.p99"] and rec["_signal"] == "latency"

    batch = CapacityTally(status=Counter({"200": 5, "429": 5}))
    batch.latency.extend([0.3] * 5)
    rec = step_record(2, 0.0, 2.0, batch, [parse_slo("error_ratio<=0.01")])
    assert rec["_signal"] == "429" and rec["error_ratio"] == 0.5

    stuck = CapacityTally(sessions=3, started=3)  # streams offered, nothing arrived while held
    rec = step_record(6, 0.0, 2.0, stuck, slos)
    assert rec["verdict"] == "breach" and rec["metrics"]["ttfr_ms"] == Histogram().summary_ms()
    # Nothing offered at this level (a quiet Poisson window): no verdict, not a breach.
    rec = step_record(1, 0.0, 3.0, CapacityTally(), slos)
    assert (rec["verdict"], rec["breached"], rec["_signal"]) == ("no-data", [], None)


def test_a_session_too_young_to_have_answered_is_no_data_an_overdue_one_a_breach() -> None:
    """Open model, low rate: a stream that arrived just before the step ended has not had
    the time the objectives allow (here 1.5 s to a first result); one older than that has."""
    from harness.load.tallies import CapacityTally, step_record

    slos = [parse_slo(t) for t in ("ttfr_ms.p95<=1500", "error_ratio<=0.01")]
    now = 1_000.0
    young = CapacityTally(sessions=1, started=1, first_started_at=now - 0.5)
    rec = step_record(1, 0.0, 3.0, young, slos, now)
    assert (rec["verdict"], rec["breached"]) == ("no-data", [])
    old = CapacityTally(sessions=1, started=1, first_started_at=now - 2.0)
    rec = step_record(1, 0.0, 3.0, old, slos, now)
    assert (rec["verdict"], rec["breached"], rec["_signal"]) == (
        "breach",
        ["ttfr_ms.p95"],
        "latency",
    )
    # only ends of sessions started in an earlier step: their first results were counted there
    ends = CapacityTally(close_codes=Counter({"1000": 2}))
    assert step_record(2, 3.0, 3.0, ends, slos, now)["verdict"] == "no-data"


def test_the_earliest_start_merges_as_the_minimum() -> None:
    from harness.load.tallies import CapacityTally

    a, b = CapacityTally(first_started_at=5.0), CapacityTally(first_started_at=3.0)
    assert a.merge(b).first_started_at == 3.0
    assert CapacityTally().merge(CapacityTally(first_started_at=4.0)).first_started_at == 4.0
    assert CapacityTally().merge(CapacityTally()).first_started_at is None
    assert CapacityTally.from_dict(a.to_dict()).first_started_at == 3.0


def _capacity(
    out: Path,
    surface: str,
    levels: range,
    hold_s: float,
    *,
    workers: int | None = None,
    locust: tuple[str, ...] = (),
    timeout: float = 150,
) -> tuple[int, dict, str]:
    """``harness load capacity`` over ``levels`` (users: its start, step and last), each held
    ``hold_s``; ``locust``: what follows ``--`` (the scenario's own options)."""
    args = ["--surface", surface, "--start", str(levels.start), "--step", str(levels.step)]
    args += ["--max", str(levels[-1]), "--hold-s", str(hold_s)]
    args += ["--workers", str(workers)] if workers else []
    p = run_harness(
        "load", "capacity", "--report-dir", str(out), *args, "--", *locust, timeout=timeout
    )
    results = out / "results.json"
    assert results.exists(), p.stdout[-2000:] + p.stderr[-3000:]
    return p.returncode, json.loads(results.read_text()), p.stdout + p.stderr


def _check_shape(c: dict) -> None:
    assert set(c) == CAPACITY_KEYS
    for step in c["steps"]:
        assert set(step) == STEP_KEYS
        if step["breached"]:
            assert step["verdict"] == "breach"
        elif step["verdict"] == "no-data":  # nothing was measured at this level: no verdict
            assert step["requests"] == 0
        else:
            assert step["verdict"] == "within"
    if c["first_breach"] is not None:
        assert set(c["first_breach"]) == {"level", "metric", "value", "limit"}


def test_search_lands_on_the_organisations_concurrency_limit(tmp_path: Path) -> None:
    limit = 3
    options = ("--emulator-limit", str(limit))
    rc, r, log = _capacity(tmp_path / "limit", "svd-stream", range(1, 6), 2, locust=options)
    c = r["capacity"]
    _check_shape(c)
    assert rc == 0, log[-2000:]
    assert (c["surface"], c["model"]) == ("svd-stream", "closed")
    assert r["slos"] == ["ttfr_ms.p95<=1500", "result_lag_ms.p99<=500", "error_ratio<=0.01"]
    assert c["max_within_slo"] == limit
    assert c["first_breach"]["level"] == limit + 1
    assert c["first_breach"]["metric"] == "error_ratio"
    assert c["limiting_signal"] == "4029"
    assert [s["level"] for s in c["steps"]] == [1, 2, 3, 4]  # stops at the first breach
    assert c["steps"][-1]["rejections"]["4029"] > 0
    assert all(s["rejections"]["4029"] == 0 for s in c["steps"][:-1])
    assert (tmp_path / "limit" / "capacity.html").exists()


def test_search_finds_the_latency_knee(tmp_path: Path) -> None:
    knee = 2
    options = ("--emulator-limit", "100", "--knee", str(knee), "--knee-latency-s", "0.8")
    rc, r, log = _capacity(tmp_path / "knee", "svd-stream", range(1, 5), 3, locust=options)
    c = r["capacity"]
    _check_shape(c)
    assert rc == 0, log[-2000:]
    assert c["max_within_slo"] == knee
    assert c["first_breach"]["level"] == knee + 1
    assert c["first_breach"]["metric"] in ("ttfr_ms.p95", "result_lag_ms.p99")
    assert c["limiting_signal"] == "latency"
    assert all(sum(s["rejections"].values()) == 0 for s in c["steps"])


def test_batch_search_with_refinement_names_429(tmp_path: Path) -> None:
    options = ("--emulator-limit", "2", "--batch-hold-s", "0.3")
    rc, r, log = _capacity(tmp_path / "batch", "vfast-batch", range(1, 6, 2), 2, locust=options)
    c = r["capacity"]
    _check_shape(c)
    # climb 1 (within), 3 (429s), then the refinement tries 2 (within)
    assert [s["level"] for s in c["steps"]] == [1, 3, 2]
    assert (c["max_within_slo"], c["first_breach"]["level"], c["limiting_signal"]) == (2, 3, "429")
    assert "latency_ms" in c["steps"][0]["metrics"]


def test_capacity_with_two_workers_is_one_merged_search(tmp_path: Path) -> None:
    limit = 3
    options = ("--emulator-limit", str(limit))
    rc, r, log = _capacity(
        tmp_path / "dist", "svd-stream", range(2, 6), 2, workers=2, locust=options
    )
    c = r["capacity"]
    _check_shape(c)
    assert rc == 0, log[-2000:]
    # one emulator shared by both workers: its limit holds for the merged load
    assert c["max_within_slo"] == limit and c["limiting_signal"] == "4029"
    assert sorted(r["workers"]) == ["worker-0", "worker-1"]
    assert r["requests"] == sum(w["requests"] for w in r["workers"].values())
    assert r["sessions"] == sum(w["sessions"] for w in r["workers"].values())
    assert len(list((tmp_path / "dist").rglob("results.json"))) == 1


def test_open_model_search_steps_the_arrival_rate(tmp_path: Path) -> None:
    options = (
        "--model",
        "open",
        "--sources",
        "12",
        "--stream-seconds",
        "1",
        "--emulator-limit",
        "14",
        "--no-refine",
    )
    rc, r, log = _capacity(tmp_path / "open", "svd-stream", range(3, 20, 8), 3, locust=options)
    c = r["capacity"]
    _check_shape(c)
    assert rc == 0, log[-2000:]
    assert c["model"] == "open"
    # 1 s streams (about 1.15 s with set-up) arriving at 3, 11 and 19 a second: at 19 the
    # mean in flight (~22) is far past the limit of 14, so that level breaks on 4029 if no
    # earlier one did. Odds that the lowest level measures nothing or breaks (all its
    # arrivals in the last moments of the 3 s hold, or 15 of mean 3.5 in flight at once):
    # under 1 in 2,000, where levels 1/3/5 against a limit of 4 left level 1 without data in
    # about 1 run in 15 (measured: 2 of 21).
    assert c["first_breach"] is not None and c["limiting_signal"] == "4029"
    assert c["max_within_slo"] is not None and c["max_within_slo"] < c["first_breach"]["level"]
    assert c["steps"][0]["requests"] > 0


def test_open_model_is_for_streams_only(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "capacity.py")]
    cmd += ["--headless", "--surface", "vfast-batch", "--model", "open", "--max-seconds", "20"]
    p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode != 0
    assert "--model open: streaming surfaces only" in p.stderr


def test_the_headline_names_the_level_unit_and_levels_that_measured_nothing() -> None:
    from harness.load.runner import headline

    def cap(model: str, steps: list[tuple[int, str]], best: int | None) -> dict:
        breach = {"level": 3, "metric": "error_ratio", "value": 0.2, "limit": 0.01}
        recs = [{"level": lvl, "verdict": v} for lvl, v in steps]
        record = {"surface": "svd-stream", "model": model, "max_within_slo": best}
        record |= {"first_breach": breach, "limiting_signal": "4029", "steps": recs}
        return {"scenario": "capacity", "capacity": record}

    quiet = headline(cap("open", [(1, "no-data"), (3, "breach")], None))
    assert "max within SLO None sessions/s" in quiet[0] and "breach at 3 sessions/s" in quiet[0]
    assert "measured nothing (1 sessions/s: no-data)" in quiet[1] and "--hold-s" in quiet[1]
    held = headline(cap("closed", [(1, "within"), (3, "breach")], 1))
    assert held == [held[0]] and "max within SLO 1 concurrent users" in held[0]
    broke = headline(cap("closed", [(3, "breach")], None))  # the lowest level broke: no hint
    assert len(broke) == 1


def test_a_hold_no_longer_than_the_slowest_latency_objective_is_warned_about(capsys) -> None:
    from harness.load.runner import LoadOptions, capacity_args

    short = LoadOptions("capacity", capacity={"surface": "svd-stream", "hold_s": 1.5})
    capacity_args(short)  # the default stream objectives: ttfr_ms.p95 <= 1500 ms
    err = capsys.readouterr().err
    assert "--hold-s 1.5 is not longer than" in err and "ttfr_ms.p95 <= 1500 ms" in err
    own = {"surface": "svd-stream", "hold_s": 1.5, "slo": ["ttfr_ms.p95<=900"]}
    capacity_args(LoadOptions("capacity", capacity=own))
    assert capsys.readouterr().err == ""
    capacity_args(LoadOptions("capacity", capacity={"surface": "vfast-batch", "hold_s": 3}))
    assert capsys.readouterr().err == ""  # batch: latency_ms.p95 <= 2000 ms by default
