"""Honest run verdicts: nothing selected, partial runs, --require-complete, one set of counts,
and a cost estimate that follows the selection and matches what a fake live run spent.

Each test runs the real `harness run` in a subprocess against one emulator started in this
process (``harness.emulator.server.start``), described by a profile written per test.
"""

from __future__ import annotations

import json
import re
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness_cli import harness_run, run_harness

from harness.emulator.config import load_config_dict
from harness.emulator.server import RunningEmulator, start
from harness.report import make_run_dir, resolve_latest
from harness.report.sample import write_sample_run

ROOT = Path(__file__).resolve().parents[1]
ALL_ROLES = ("valid", "no_model_access", "quota_exhausted", "invalid")


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    running = start(load_config_dict({"processing": {"time_scale": 0.002}}))
    yield running
    running.stop()


def _profile(
    tmp: Path, emu: RunningEmulator, *, kind: str = "emulator", roles: tuple[str, ...] = ALL_ROLES
) -> Path:
    keys = {
        "valid": "demo-valid-key",
        "no_model_access": "demo-no-model-access-key",
        "quota_exhausted": "demo-quota-exhausted-key",
        "invalid": "demo-invalid-key",
    }
    ws = "ws" + emu.base_url[len("http") :]
    lines = [f'name = "t"\nkind = "{kind}"\n[velma]\nbase_url = "{emu.base_url}"']
    lines.append(f'ws_base_url = "{ws}"\n[velma.keys]')
    lines += [f'{r} = "{keys[r]}"' for r in roles]
    p = tmp / f"{kind}-{len(roles)}.toml"
    p.write_text("\n".join(lines) + "\n", encoding="utf-8")
    return p


def harness(*args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    return run_harness(*args, timeout=timeout)


def _report(base: Path) -> dict:
    return json.loads((resolve_latest(base) / "conformance.json").read_text())


# --------------------------------------------------------------------------- empty selections


@pytest.mark.parametrize("selection", [["--clause", "nosuch/"], ["-k", "nomatch_zz_qq"]])
def test_a_selection_matching_no_case_exits_2_and_writes_no_report(tmp_path, emu, selection):
    base = tmp_path / "reports"
    earlier = make_run_dir(base)
    write_sample_run(earlier)
    r = harness_run(base, *selection, target=_profile(tmp_path, emu))
    assert r.returncode == 2, (r.stdout[-1500:], r.stderr[-1500:])
    assert "no case matched the selection" in r.stderr
    assert "CONFORMS" not in r.stdout and "Traceback" not in r.stderr
    reports = [p.parent for p in base.glob("*/conformance.json") if not p.parent.is_symlink()]
    assert [p.name for p in reports] == [earlier.name]  # no new report, no "Conforms" page
    assert resolve_latest(base) == earlier.resolve()  # latest still names the earlier run


# --------------------------------------------------------------------------- partial runs


def test_a_missing_role_makes_the_run_partial_and_require_complete_exits_3(tmp_path, emu):
    profile = _profile(tmp_path, emu, roles=("valid", "invalid"))
    sel = ("--clause", "stt-batch/model-not-enabled", "--clause", "stt-batch/endpoint")
    base = tmp_path / "r"
    r = harness_run(base, *sel, target=profile)
    assert r.returncode == 0, (r.stdout[-1500:], r.stderr[-1500:])
    out = r.stdout
    assert "CONFORMS on 1 of 2 cases; 1 not run: role not in the profile" in out
    assert "the profile has no velma.keys.no_model_access: 1 case skipped" in out
    assert not re.search(r"^CONFORMS\s*$", out, re.M)  # never a bare CONFORMS
    data = _report(base)
    assert data["finished"] is True and data["complete"] is False
    assert data["not_tested_by_reason"] == {"missing-role": 1}
    group = data["not_tested"][0]
    assert group["count"] == 1 and group["cause"].startswith("the profile has no velma.keys.")
    assert group["cases"] == ["stt-batch/model-not-enabled::test_rest_model_not_enabled[stt-batch]"]
    page = (resolve_latest(base) / "index.html").read_text()
    assert "Conforms on 1 of 2 cases" in page and "1 not run: role not in the profile" in page
    assert "How to read this report" in page

    strict = harness_run(base, *sel, "--require-complete", target=profile)
    assert strict.returncode == 3, (strict.stdout[-1500:], strict.stderr[-1500:])
    assert _report(base)["exit_code"] == 3


def test_a_run_that_tests_everything_says_so_with_one_set_of_counts(tmp_path, emu):
    r = harness_run(
        tmp_path / "r",
        "--require-complete",
        target=_profile(tmp_path, emu),
        clauses=("stt-batch/endpoint", "stt-batch/model-not-enabled"),
    )
    assert r.returncode == 0, (r.stdout[-1500:], r.stderr[-1500:])
    assert "CONFORMS (all 2 cases tested)" in r.stdout
    assert _report(tmp_path / "r")["complete"] is True
    # pytest's own tally ("2 passed in 1.2s") is not printed beside our table
    assert not re.search(r"\b\d+ (passed|skipped|failed)\b", r.stdout + r.stderr)
    assert re.search(r"^all\s+2\s+0\s+0\s+0\s+0\s+0\s+2$", r.stdout, re.M)


def test_non_strict_cases_are_listed_and_failures_show_expected_and_actual(tmp_path, emu):
    config = tmp_path / "emu.toml"
    config.write_text(
        '[deviations]\nenabled = ["wrong-detail"]\n[processing]\ntime_scale = 0.002\n'
    )
    r = harness_run(tmp_path / "r", config=config, clauses=("svd-batch/",))
    data = _report(tmp_path / "r")
    failed = [c for c in data["cases"] if c["outcome"] == "failed"]
    non_strict = [c for c in data["cases"] if c["outcome"] == "non-strict"]
    assert failed or non_strict, "the deviation switch was caught by no case"
    assert r.returncode == (1 if failed else 0)
    for c in non_strict:
        assert f"{c['id']}: " in r.stdout and "Non-strict (" in r.stdout
    for c in failed:
        assert c["id"] in r.stdout
        line = next(x for x in r.stdout.splitlines() if x.strip().startswith("expected "))
        assert " — actual " in line


# --------------------------------------------------------------------------- cost


def test_live_cost_estimate_follows_the_selection_and_matches_the_spend(tmp_path, emu):
    profile = _profile(tmp_path, emu, kind="live")
    base = tmp_path / "r"
    # (admission cases are left out: what they send grows with the limit they find)
    r = harness_run(
        base,
        "-k",
        "not concurrency",
        "--max-cost",
        "5",
        target=profile,
        clauses=("stt-batch/", "svd-stream/"),
    )
    assert r.returncode in (0, 1), (r.stdout[-1500:], r.stderr[-1500:])
    assert "the " in r.stderr and "selected cases will submit about" in r.stderr
    assert re.search(r"^Cost estimate: \$\d+\.\d{4} .*stt-batch \$.*svd-stream \$", r.stdout, re.M)
    assert re.search(r"^Cost spent: +\$\d+\.\d{4} .*stt-batch \$", r.stdout, re.M)
    cost = _report(base)["cost"]
    assert cost["cap_usd"] == 5.0
    spent, planned = cost["spent"], cost["estimate"]
    assert spent["audio_s"] > 0
    # every request of every case counted (loops inside cases too): estimate == spend
    assert planned["audio_s"] == pytest.approx(spent["audio_s"], abs=0.05)
    assert planned["usd"] == pytest.approx(spent["usd"], abs=1e-5)

    narrow = harness_run(
        base, "-k", "test_endpoint", "--max-cost", "5", target=profile, clauses=("stt-batch/",)
    )
    small = _report(base)["cost"]
    assert narrow.returncode == 0, narrow.stdout[-1500:]
    assert small["estimate"]["audio_s"] == pytest.approx(2.0)  # one 2 s clip, not the module's
    assert small["estimate"]["audio_s"] == pytest.approx(small["spent"]["audio_s"])


def test_an_estimate_over_the_cap_sends_nothing(tmp_path, emu):
    profile = _profile(tmp_path, emu, kind="live")
    r = harness_run(
        tmp_path / "r", "--max-cost", "0.000001", target=profile, clauses=("stt-batch/",)
    )
    assert r.returncode == 2
    assert "exceeds --max-cost" in r.stderr
    data = _report(tmp_path / "r")
    assert data["cases"] == [] and data["cost"]["spent"]["audio_s"] == 0
