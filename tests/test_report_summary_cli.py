"""The terminal summary, `harness report`, and Allure without the Allure CLI."""

from __future__ import annotations

import os
import stat
from pathlib import Path

from harness.cli import main
from harness.report import ReportWriter, load_run, render_allure, terminal_summary
from harness.report.sample import SAMPLE_TARGET, sample_cases, write_sample_run


def test_terminal_summary_table_failures_and_paths(tmp_path):
    write_sample_run(tmp_path)
    text = terminal_summary(load_run(tmp_path))
    lines = text.splitlines()
    header = next(line for line in lines if line.startswith("surface"))
    assert header.split() == [
        "surface",
        "passed",
        "failed",
        "non-strict",
        "informational",
        "skipped",
        "error",
        "total",
    ]
    svd = next(line for line in lines if line.startswith("svd-batch"))
    assert svd.split()[1:] == ["5", "2", "1", "1", "0", "0", "9"]
    assert next(line for line in lines if line.startswith("all")).split()[-1] == "13"
    assert "Failed (2):" in text
    assert "[MUST] svd-batch/too-short: a 0.3 s clip was refused" in text
    assert "2 VIOLATIONS" in text
    assert f"report: {tmp_path / 'conformance.json'}" in text


def test_terminal_summary_of_a_clean_and_of_an_aborted_run(tmp_path):
    w = ReportWriter(tmp_path)
    w.start(SAMPLE_TARGET)
    w.add_case(next(c for c in sample_cases() if c["outcome"] == "passed"))
    assert "CONFORMS" in terminal_summary(w.finish(), paths=[])
    w.abort("target unreachable: refused", 3)
    assert "COULD NOT TEST: target unreachable: refused" in terminal_summary(w.run, paths=[])


def test_harness_report_rerenders_index_html(tmp_path, capsys):
    write_sample_run(tmp_path)
    assert main(["report", "--dir", str(tmp_path)]) == 0
    assert (tmp_path / "index.html").read_text().startswith("<!DOCTYPE html>")
    out = capsys.readouterr().out
    assert "2 VIOLATIONS" in out and str(tmp_path / "index.html") in out


def test_harness_report_follows_latest(tmp_path, capsys):
    from harness.report import make_run_dir

    run_dir = make_run_dir(tmp_path / "reports")
    write_sample_run(run_dir)
    assert main(["report", "--dir", str(tmp_path / "reports" / "latest"), "--html"]) == 0
    assert (run_dir / "index.html").exists()


def test_harness_report_without_a_report_is_a_usage_error(tmp_path, capsys):
    assert main(["report", "--dir", str(tmp_path / "reports" / "latest")]) == 2
    err = capsys.readouterr().err
    assert "no run has written a report" in err and "Traceback" not in err
    (tmp_path / "empty").mkdir()
    assert main(["report", "--dir", str(tmp_path / "empty")]) == 2
    assert "conformance.json" in capsys.readouterr().err


def _no_allure_path(tmp_path, monkeypatch):
    monkeypatch.setenv("PATH", str(tmp_path / "empty-bin"))


def _allure_results(tmp_path: Path) -> Path:
    """The folder of Allure results a run writes, holding one (empty) result."""
    results = tmp_path / "allure-results"
    results.mkdir()
    (results / "x-result.json").write_text("{}")
    return results


def _fake_allure(tmp_path: Path, monkeypatch, script: str) -> None:
    """Put an ``allure`` shell script running ``script`` first on PATH."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    fake = bin_dir / "allure"
    fake.write_text("#!/bin/sh\n" + script)
    fake.chmod(fake.stat().st_mode | stat.S_IEXEC)
    monkeypatch.setenv("PATH", str(bin_dir) + os.pathsep + os.environ.get("PATH", ""))


def test_allure_missing_says_how_to_install(tmp_path, monkeypatch, capsys):
    results = _allure_results(tmp_path)
    _no_allure_path(tmp_path, monkeypatch)
    result = render_allure(results, tmp_path / "out")
    assert not result.ok and "npm install -g allure" in result.message
    write_sample_run(tmp_path)
    assert main(["report", "--dir", str(tmp_path), "--allure"]) == 2
    err = capsys.readouterr().err
    assert "npm install -g allure" in err and "Traceback" not in err
    assert not (tmp_path / "index.html").exists()  # --allure alone does not write HTML


def test_allure_without_results_says_so(tmp_path):
    result = render_allure(tmp_path / "allure-results", tmp_path / "out")
    assert not result.ok and "no Allure results" in result.message


def test_allure_on_path_is_run_with_generate(tmp_path, monkeypatch):
    results = _allure_results(tmp_path)
    log = tmp_path / "args.txt"
    _fake_allure(
        tmp_path,
        monkeypatch,
        f'echo "$@" > {log}\n'
        'out=""; while [ $# -gt 0 ]; do [ "$1" = "--output" ] && out="$2"; shift; done\n'
        'mkdir -p "$out" && echo "<html></html>" > "$out/index.html"\n',
    )
    result = render_allure(results, tmp_path / "allure-report")
    assert result.ok, result.message
    assert log.read_text().split() == [
        "generate",
        str(results),
        "--output",
        str(tmp_path / "allure-report"),
    ]
    assert (tmp_path / "allure-report" / "index.html").exists()


def test_allure_failure_is_a_message_not_a_traceback(tmp_path, monkeypatch):
    results = _allure_results(tmp_path)
    _fake_allure(tmp_path, monkeypatch, "echo 'boom: bad results' >&2\nexit 4\n")
    result = render_allure(results, tmp_path / "out")
    assert not result.ok and "exited 4" in result.message and "boom" in result.message
