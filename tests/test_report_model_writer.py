"""conformance.json: the writer keeps a valid file on disk after every step; the model loads it."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime

import pytest

from harness.report import ReportFormatError, ReportWriter, load_run, make_run_dir, resolve_latest
from harness.report.model import OUTCOMES, parse_run
from harness.report.sample import SAMPLE_TARGET, sample_cases, write_sample_run
from harness.report.writer import exit_code_for, resolve_report_dir


def test_sample_covers_every_outcome_and_a_dispute():
    cases = sample_cases()
    assert {c["outcome"] for c in cases} == set(OUTCOMES)
    assert any(c.get("alternative") for c in cases)


def test_json_round_trips_through_the_model(tmp_path):
    write_sample_run(tmp_path)
    on_disk = json.loads((tmp_path / "conformance.json").read_text())
    run = load_run(tmp_path / "conformance.json")
    assert run.to_dict() == on_disk
    assert [c.id for c in run.cases] == [c["id"] for c in sample_cases()]


def test_summary_ledger_and_coverage(tmp_path):
    run = write_sample_run(tmp_path)
    # finished, but one case skipped and one errored: not complete
    assert run.finished and not run.complete and run.exit_code == 1
    assert run.tested == 11 and run.not_tested_count == 2
    assert {g.outcome: g.count for g in run.not_tested} == {"skipped": 1, "error": 1}
    assert sum(run.not_tested_by_reason.values()) == 2
    assert run.summary == {
        "total": 13,
        "passed": 6,
        "failed": 2,
        "non-strict": 2,
        "informational": 1,
        "skipped": 1,
        "error": 1,
    }
    ledger = {(e.clause, e.chosen): e for e in run.ledger}
    # the writer fills contradiction row and expected side from the catalog
    inv = ledger[("svd-batch/invalid-key", "401")]
    assert inv.expected == "403" and inv.contradiction == 4 and not inv.as_expected
    assert ledger[("svd-batch/empty-file", "400-empty")].as_expected
    assert ("svd-batch/metadata-only", None) in ledger
    cov = run.coverage
    from harness.contract import all_clauses, by_surface

    assert cov.clauses_in_catalog == len(all_clauses())
    assert cov.by_surface["svd-batch"].in_catalog == len(by_surface("svd-batch"))
    # too-short, metadata-only, invalid-key, empty-file, bad-value, confidence-range
    assert cov.by_surface["svd-batch"].exercised == 6
    # skipped and errored clauses are not exercised
    assert cov.by_surface["stt-stream"].exercised == 2
    assert cov.clauses_exercised == 8


def test_writer_fills_requirement_tier_source_and_alternatives_from_the_catalog(tmp_path):
    from harness.contract import get

    run = write_sample_run(tmp_path)
    case = run.case("svd-batch/invalid-key")
    clause = get("svd-batch/invalid-key")
    assert case.tier == "MUST" and case.requirement == clause.requirement
    assert case.source == [str(s) for s in clause.sources]
    assert set(case.alternative.alternatives) == {"401", "403"}


def test_partial_file_is_valid_after_every_add_case(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET, strict=True)
    first = load_run(tmp_path)
    assert first.complete is False and first.cases == [] and first.strict is True
    for i, case in enumerate(sample_cases(), start=1):
        w.add_case(case)
        run = load_run(tmp_path / "conformance.json")
        assert run.complete is False
        assert len(run.cases) == i and run.summary["total"] == i
        assert run.cases[-1].id == case["id"]
        assert run.finished_at is None
    assert not [p for p in os.listdir(tmp_path) if p.endswith(".tmp")]


def test_abort_leaves_an_incomplete_report_with_the_reason(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    w.add_case(sample_cases()[0])
    w.abort("target unreachable: connection refused", 3)
    run = load_run(tmp_path)
    assert run.complete is False and run.exit_code == 3
    assert run.aborted.reason.startswith("target unreachable") and run.verdict == "could-not-test"
    assert run.finished_at is not None


def test_add_case_rejects_bad_cases_with_the_field_named(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    bad = dict(sample_cases()[0], outcome="kaput")
    with pytest.raises(ReportFormatError, match=r"case\.outcome"):
        w.add_case(bad)
    w.add_case(sample_cases()[0])
    with pytest.raises(ValueError, match="already added"):
        w.add_case(sample_cases()[0])


def test_exit_code_for_all_errors_is_3(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    err = next(c for c in sample_cases() if c["outcome"] == "error")
    w.add_case(err)
    run = w.finish()
    assert run.exit_code == 3 == exit_code_for(run) and run.verdict == "could-not-test"


@pytest.mark.parametrize(
    ("mutate", "field"),
    [
        (lambda d: d.pop("schema_version"), "schema_version"),
        (lambda d: d.update(schema_version=2), "schema_version"),
        (lambda d: d.update(complete="yes"), "complete"),
        (lambda d: d["target"].pop("name"), "target.name"),
        (lambda d: d["cases"][2].pop("clause"), "cases[2].clause"),
        (lambda d: d["cases"][1].update(outcome="ok"), "cases[1].outcome"),
        (lambda d: d["cases"][0].update(expected="HTTP 422"), "cases[0].expected"),
        (lambda d: d["cases"][0]["fixture"].pop("id"), "cases[0].fixture.id"),
        (lambda d: d["cases"][3].update(id=d["cases"][0]["id"]), "cases[3].id"),
        (lambda d: d["ledger"][0].update(cases="2"), "ledger[0].cases"),
    ],
)
def test_bad_file_names_the_file_and_the_field(tmp_path, mutate, field):
    write_sample_run(tmp_path)
    path = tmp_path / "conformance.json"
    data = json.loads(path.read_text())
    mutate(data)
    path.write_text(json.dumps(data))
    with pytest.raises(ReportFormatError) as info:
        load_run(path)
    assert info.value.field == field
    assert str(info.value).startswith(f"{path}: {field}: expected ")


def test_not_json_and_missing_file(tmp_path):
    p = tmp_path / "conformance.json"
    with pytest.raises(ReportFormatError, match="no such file"):
        load_run(p)
    p.write_text('{"schema_version": 1, "complete": fal')
    with pytest.raises(ReportFormatError, match="not JSON"):
        load_run(p)


def test_partial_report_without_derived_sections_loads():
    data = {
        "schema_version": 1,
        "complete": False,
        "target": {"name": "t"},
        "cases": [dict(c) for c in sample_cases()[:3]],
    }
    run = parse_run(data)
    assert run.summary["failed"] == 2 and run.summary["total"] == 3
    assert [e.chosen for e in run.ledger] == [None, "401"]
    assert run.coverage is None and run.verdict == "violations"


def test_make_run_dir_and_latest_symlink(tmp_path):
    t = datetime(2026, 11, 25, 13, 0, 0, tzinfo=UTC)
    a = make_run_dir(tmp_path, now=t)
    assert a.name == "20261125T130000Z" and a.is_dir()
    assert resolve_latest(tmp_path) == a.resolve()
    b = make_run_dir(tmp_path, now=t)  # same second: a suffix, not a clash
    assert b.name == "20261125T130000Z-2"
    assert resolve_latest(tmp_path) == b.resolve()
    assert (tmp_path / "latest").is_symlink()
    assert resolve_report_dir(tmp_path / "latest") == b.resolve()


def test_latest_falls_back_to_a_text_file_without_symlinks(tmp_path, monkeypatch):
    def no_symlinks(*args, **kwargs):
        raise OSError("symlinks not permitted")

    monkeypatch.setattr(os, "symlink", no_symlinks)
    a = make_run_dir(tmp_path, now=datetime(2026, 1, 1, tzinfo=UTC))
    latest = tmp_path / "latest"
    assert latest.is_file() and not latest.is_symlink()
    assert latest.read_text().strip() == a.name
    b = make_run_dir(tmp_path, now=datetime(2026, 1, 2, tzinfo=UTC))
    assert latest.read_text().strip() == b.name
    assert resolve_latest(tmp_path) == b.resolve()
    assert resolve_report_dir(latest) == b.resolve()


def test_resolve_latest_without_runs_says_so(tmp_path):
    with pytest.raises(FileNotFoundError, match="no run"):
        resolve_latest(tmp_path)
