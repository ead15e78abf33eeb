"""Reports of runs that did not test everything: grouped causes, partial verdicts, exit codes."""

from __future__ import annotations

import json

from harness.report import ReportWriter, load_run, render_html, terminal_summary
from harness.report.model import REASONS
from harness.report.sample import SAMPLE_TARGET
from harness.report.summary import verdict_line
from harness.report.writer import exit_code_for


def _case(i: int, outcome: str = "passed", surface: str = "stt-batch", **kw: object) -> dict:
    return {
        "id": f"{surface}/endpoint::c{i}",
        "clause": f"{surface}/endpoint",
        "surface": surface,
        "outcome": outcome,
        **kw,
    }


def _cost_capped(tmp_path, tested: int = 601, capped: int = 286):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    for i in range(tested):
        w.add_case(_case(i))
    for i in range(capped):
        surface = "stt-batch" if i % 2 else "svd-batch"
        w.add_case(
            _case(
                tested + i,
                "skipped",
                surface,
                reason="cost-cap",
                cause="cost cap: --max-cost $0.5000 reached",
                message=f"sending 2.00 s to {surface} would bring the cost to $0.5{i:03d}",
            )
        )
    return w


def test_a_cost_capped_run_says_how_many_were_not_run_everywhere(tmp_path):
    w = _cost_capped(tmp_path)
    run = w.finish()
    assert run.exit_code == 0 and exit_code_for(run, require_complete=True) == 3
    line = verdict_line(run)
    assert line == "CONFORMS on 601 of 887 cases; 286 not run: cost cap"
    text = terminal_summary(run, paths=[])
    assert "Not tested (286 cases, 1 cause):" in text
    assert (
        "cost cap: --max-cost $0.5000 reached: 286 cases skipped (stt-batch 143, svd-batch 143)"
        in text
    )
    data = json.loads((tmp_path / "conformance.json").read_text())
    assert data["complete"] is False and data["finished"] is True
    assert data["not_tested_by_reason"] == {"cost-cap": 286}
    (group,) = data["not_tested"]
    assert group["count"] == 286 and len(group["cases"]) == 286
    assert group["surfaces"] == {"stt-batch": 143, "svd-batch": 143}
    page = render_html(load_run(tmp_path), plots=False)
    assert "Conforms on 601 of 887 cases" in page and "286 not run: cost cap" in page
    assert "cost cap: --max-cost $0.5000 reached</span>: 286 cases not tested" in page


def test_causes_are_grouped_not_listed_and_mixed_reasons_are_counted(tmp_path):
    w = _cost_capped(tmp_path, tested=3, capped=4)
    for i in range(58):
        w.add_case(
            _case(
                100 + i,
                "skipped",
                "stt-stream",
                reason="not-served",
                cause="stt-stream: not served (HTTP 404 on upgrade)",
            )
        )
    w.add_case(
        _case(
            200,
            "error",
            "kugel-http",
            reason="set-up-failed",
            cause="set-up failed: create voice: HTTP 500",
        )
    )
    run = w.finish()
    assert run.not_tested_by_reason == {"not-served": 58, "cost-cap": 4, "set-up-failed": 1}
    assert [g.count for g in run.not_tested] == [58, 4, 1]  # largest group first
    line = verdict_line(run)
    assert line.startswith("CONFORMS on 3 of 66 cases; 63 not run: 58 surface not served, ")
    assert REASONS["set-up-failed"] in line
    text = terminal_summary(run, paths=[])
    assert "stt-stream: not served (HTTP 404 on upgrade): 58 cases skipped" in text
    assert text.count("stt-stream/endpoint::c1") == 0  # not listed one by one


def test_nothing_tested_is_not_conforms(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    w.add_case(_case(0, "skipped", reason="missing-role", cause="the profile has no velma.keys.x"))
    run = w.finish()
    assert run.exit_code == 3 and run.verdict == "could-not-test"
    assert verdict_line(run).startswith("COULD NOT TEST: no case was tested; 1 not run")
    assert "Could not test" in render_html(run, plots=False)


def test_an_empty_run_says_nothing_was_run(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    run = w.finish()
    assert run.exit_code == 2 and run.verdict == "nothing-run" and not run.complete
    assert verdict_line(run) == "NOTHING RUN: no case matched the selection"
    page = render_html(run, plots=False)
    assert "Nothing was run" in page and ">Conforms<" not in page


def test_old_reports_without_finished_still_load(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    w.add_case(_case(0))
    w.finish()
    data = json.loads((tmp_path / "conformance.json").read_text())
    for key in ("finished", "not_tested", "not_tested_by_reason", "cost"):
        data.pop(key)
    (tmp_path / "conformance.json").write_text(json.dumps(data))
    run = load_run(tmp_path)
    assert run.finished is True and run.not_tested == [] and run.verdict == "conforms"
