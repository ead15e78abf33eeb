"""harness diff: regressions, fixes and changed alternatives between two runs; exit 1 / 0 / 2."""

from __future__ import annotations

import json

import pytest

from harness.cli import main
from harness.report import ReportWriter, diff_runs, load_run
from harness.report.sample import SAMPLE_TARGET, sample_cases

PASSING = "svd-batch/confidence-range[speech-wav-8000-1ch-2s]"
FAILING = "svd-batch/too-short[clip-wav-16000-1ch-0.3s]"
DISPUTED = "svd-batch/invalid-key"
SKIPPED = "stt-stream/key-in-query-only"


def _write(path, cases):
    w = ReportWriter(path)
    w.start(SAMPLE_TARGET)
    for c in cases:
        w.add_case(c)
    w.finish()
    return path / "conformance.json"


def _edit(cases, case_id, **changes):
    return [dict(c, **changes) if c["id"] == case_id else c for c in cases]


@pytest.fixture
def pair(tmp_path):
    base = sample_cases()
    cur = _edit(base, PASSING, outcome="failed", message="now broken")
    cur = _edit(cur, FAILING, outcome="passed", message="fixed")
    cur = _edit(cur, DISPUTED, outcome="passed", alternative={"chosen": "403"})
    cur = [c for c in cur if c["id"] != SKIPPED]
    cur.append(dict(base[-1], id="svd-batch/confidence-range[new]"))
    return _write(tmp_path / "a", base), _write(tmp_path / "b", cur)


def test_diff_finds_regression_fix_changed_alternative_and_membership(pair):
    d = diff_runs(load_run(pair[0]), load_run(pair[1]))
    assert [(c.id, c.before, c.after) for c in d.regressed] == [(PASSING, "passed", "failed")]
    assert [(c.id, c.before, c.after) for c in d.fixed] == [(FAILING, "failed", "passed")]
    assert [(a.id, a.before, a.after, a.expected) for a in d.changed_alternative] == [
        (DISPUTED, "401", "403", "403")
    ]
    assert [c.id for c in d.changed] == [DISPUTED]  # non-strict -> passed
    assert [c.id for c in d.appeared] == ["svd-batch/confidence-range[new]"]
    assert [c.id for c in d.disappeared] == [SKIPPED]
    assert d.has_regressions


def test_same_run_has_no_changes(pair):
    d = diff_runs(load_run(pair[0]), load_run(pair[0]))
    assert not (d.regressed or d.fixed or d.changed or d.changed_alternative)
    assert not (d.appeared or d.disappeared)


def test_new_failing_case_and_error_to_failed_are_regressions(tmp_path):
    base = sample_cases()
    cur = _edit(base, "stt-stream/end-of-stream[speech-wav]", outcome="failed")
    cur.append(dict(base[0], id="svd-batch/too-short[new]"))
    d = diff_runs(load_run(_write(tmp_path / "a", base)), load_run(_write(tmp_path / "b", cur)))
    assert {(c.id, c.before) for c in d.regressed} == {
        ("stt-stream/end-of-stream[speech-wav]", "error"),
        ("svd-batch/too-short[new]", None),
    }


def test_cli_exits_1_on_regression_and_prints_it(pair, capsys):
    assert main(["diff", str(pair[0]), str(pair[1])]) == 1
    out = capsys.readouterr().out
    assert "Regressed (1)" in out and PASSING in out and "passed -> failed" in out
    assert "Fixed (1)" in out and "Changed alternative (1)" in out and "401 -> 403" in out


def test_cli_exits_0_when_only_fixed(pair, tmp_path, capsys):
    fixed = _write(tmp_path / "c", _edit(sample_cases(), FAILING, outcome="passed"))
    assert main(["diff", str(pair[0]), str(fixed)]) == 0
    out = capsys.readouterr().out
    assert "0 regressed, 1 fixed" in out
    assert main(["diff", str(pair[0]), str(pair[0])]) == 0


def test_cli_json(pair, capsys):
    assert main(["diff", str(pair[0]), str(pair[1]), "--json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["regressed"][0]["id"] == PASSING
    assert data["changed_alternative"][0]["after"] == "403"


def test_cli_exits_2_naming_the_file_and_field(pair, tmp_path, capsys):
    bad = tmp_path / "bad.json"
    data = json.loads(pair[1].read_text())
    data["cases"][4]["outcome"] = "green"
    bad.write_text(json.dumps(data))
    assert main(["diff", str(pair[0]), str(bad)]) == 2
    err = capsys.readouterr().err
    assert str(bad) in err and "cases[4].outcome" in err and "Traceback" not in err
    assert main(["diff", str(tmp_path / "missing.json"), str(pair[1])]) == 2
    assert "missing.json" in capsys.readouterr().err


def test_cases_missing_now_are_regressions_unless_allowed(tmp_path, capsys):
    base = sample_cases()
    full = _write(tmp_path / "full", base)
    empty = _write(tmp_path / "empty", [])
    d = diff_runs(load_run(full), load_run(empty))
    tested = [c["id"] for c in base if c["outcome"] != "skipped"]
    assert sorted(c.id for c in d.regressed) == sorted(tested)  # a skip lost nothing
    assert all(c.after is None for c in d.regressed) and d.has_regressions
    assert main(["diff", str(full), str(empty)]) == 1
    assert "Disappeared" in capsys.readouterr().out
    assert main(["diff", str(full), str(empty), "--allow-missing"]) == 0
    assert "allowed: --allow-missing" in capsys.readouterr().out
    assert not diff_runs(load_run(full), load_run(empty), allow_missing=True).regressed


def test_a_case_tested_before_and_skipped_now_is_a_regression_unless_allowed(tmp_path):
    base = sample_cases()
    cur = _edit(base, PASSING, outcome="skipped", message="cost cap", reason="cost-cap")
    a, b = load_run(_write(tmp_path / "a", base)), load_run(_write(tmp_path / "b", cur))
    d = diff_runs(a, b)
    assert [(c.id, c.before, c.after) for c in d.regressed] == [(PASSING, "passed", "skipped")]
    assert [c.id for c in d.untested] == [PASSING]
    allowed = diff_runs(a, b, allow_missing=True)
    assert not allowed.regressed and [c.id for c in allowed.untested] == [PASSING]
