"""``--jobs``: a run with cases at once gives the same verdicts, in the same order, as a
serial one, keeps ``alone`` cases alone, and really overlaps the others."""

from __future__ import annotations

import glob
import json
import os
import re
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]


def _run(tmp: Path, name: str, *extra: str) -> tuple[int, Path]:
    out = tmp / name
    args = [sys.executable, "-m", "harness.cli", "run", "--report-dir", str(out), *extra]
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=600)
    latest = out / "latest"
    assert (latest / "conformance.json").exists(), r.stdout[-2000:] + r.stderr[-2000:]
    return r.returncode, latest.resolve()


def _allure(run: Path) -> dict[tuple[str, str], tuple]:
    out = {}
    for f in glob.glob(str(run / "allure-results" / "*-result.json")):
        r = json.loads(Path(f).read_text())
        labels = sorted(
            (x["name"], x["value"])
            for x in r.get("labels", [])
            if x["name"] in ("clause", "surface", "tier", "source")
        )
        out[(r["fullName"], r["name"])] = (r["status"], labels, r.get("description"))
    return out


def _junit(run: Path) -> tuple[list[tuple[str, str]], str]:
    text = (run / "junit.xml").read_text()
    cases = re.findall(r'<testcase classname="([^"]+)" name="([^"]+)"', text)
    counts = re.search(r'errors="(\d+)" failures="(\d+)" skipped="(\d+)" tests="(\d+)"', text)
    assert counts is not None
    return cases, counts.group(0)


@pytest.fixture(scope="module")
def serial_and_default(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("jobs")
    return _run(tmp, "serial", "--jobs", "1"), _run(tmp, "default")


def test_same_verdicts_in_the_same_order(serial_and_default):
    (code1, run1), (code2, run2) = serial_and_default
    a = json.loads((run1 / "conformance.json").read_text())
    b = json.loads((run2 / "conformance.json").read_text())
    assert code1 == code2 == 0
    assert [c["id"] for c in a["cases"]] == [c["id"] for c in b["cases"]]
    differ = [
        (x["id"], x["outcome"], y["outcome"])
        for x, y in zip(a["cases"], b["cases"], strict=True)
        if (x["outcome"], x.get("cause")) != (y["outcome"], y.get("cause"))
    ]
    assert not differ, differ
    (cases1, counts1), (cases2, counts2) = _junit(run1), _junit(run2)
    assert counts1 == counts2  # the same totals, and no teardown error on any thread
    assert sorted(cases1) == sorted(cases2)  # JUnit lists the alone cases last
    assert _allure(run1) == _allure(run2)  # each case's labels landed on its own result


def test_default_run_overlaps_cases(serial_and_default):
    """The sum of the cases' durations exceeds the run's wall time only when they overlap."""
    (_, run1), (_, run2) = serial_and_default
    for run, overlapped in ((run1, False), (run2, True)):
        report = json.loads((run / "conformance.json").read_text())
        busy = sum(c.get("duration_s") or 0.0 for c in report["cases"])
        assert (busy > report["duration_s"]) is overlapped, (run.name, busy, report["duration_s"])


def test_alone_and_owning_cases_keep_their_target(tmp_path):
    """Under plain pytest too: an alone case (quota reset) never overlaps another case; an
    admission case (owns its surfaces) never overlaps a case on one of its surfaces; the
    others do overlap."""
    timeline = tmp_path / "timeline.jsonl"
    env = dict(os.environ, CASE_TIMELINE=str(timeline), PYTHONPATH=str(ROOT / "tests"))
    args = [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "case_timeline"]
    args += ["suites/test_admission.py", "suites/test_rest_fields.py", "suites/test_quota.py"]
    args += ["--jobs", "6"]
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, env=env, timeout=600)
    assert r.returncode == 0, r.stdout[-3000:]
    spans = [json.loads(line) for line in timeline.read_text().splitlines()]
    alone = [s for s in spans if s["alone"]]
    owning = [s for s in spans if s["owns"]]
    assert alone and owning and len(alone) + len(owning) < len(spans)

    def overlap(x, y):
        return x is not y and x["start"] < y["end"] and y["start"] < x["end"]

    for a in alone:
        beside = [s["nodeid"] for s in spans if overlap(a, s)]
        assert not beside, f"{a['nodeid']} ran beside {beside[:3]}"
    for o in owning:
        mine = set(o["surfaces"])
        beside = [s["nodeid"] for s in spans if overlap(o, s) and mine & set(s["surfaces"])]
        assert not beside, f"{o['nodeid']} shared its surfaces with {beside[:3]}"
    most = max(sum(1 for s in spans if overlap(x, s)) for x in spans)
    assert most >= 1, "no two cases overlapped with --jobs 6"


def test_bad_jobs_is_refused_before_anything_runs(tmp_path):
    args = [sys.executable, "-m", "harness.cli", "run", "--jobs", "0"]
    args += ["--report-dir", str(tmp_path)]
    r = subprocess.run(args, cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert r.returncode == 2
    assert "--jobs: expected a whole number of at least 1" in r.stderr
    assert "Traceback" not in r.stderr and not any(tmp_path.iterdir())


@pytest.mark.parametrize("jobs", ["1", "auto"])
def test_interrupted_run_is_partial_never_conforms(tmp_path, jobs):
    """Ctrl-C half-way: the cases that finished are in the report, which says the run is
    partial; the exit code is 3 (not all tested), never 0."""
    args = [sys.executable, "-m", "harness.cli", "run", "--jobs", jobs]
    args += ["--report-dir", str(tmp_path)]
    # Ctrl-C as from a terminal: a child of a background job (e.g. `make test &` in a script)
    # inherits SIGINT ignored, and Python then never raises KeyboardInterrupt
    proc = subprocess.Popen(
        args,
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL),
    )
    report = None
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:  # wait until some cases are in the report
        found = list(tmp_path.glob("2*/conformance.json"))
        if found:
            try:
                if len(json.loads(found[0].read_text())["cases"]) >= 5:
                    report = found[0]
                    break
            except (ValueError, KeyError):
                pass
        time.sleep(0.2)
    assert report is not None, "no case reached the report in time"
    proc.send_signal(signal.SIGINT)
    out, _ = proc.communicate(timeout=120)
    text = out.decode(errors="replace")
    assert proc.returncode == 3, text[-2000:]
    assert "PARTIAL RUN" in text and "CONFORMS" not in text, text[-2000:]
    run = json.loads(report.read_text())
    assert not run["finished"] and not run["complete"] and run["exit_code"] == 3
    assert 5 <= len(run["cases"]) < 901
