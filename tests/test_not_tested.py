"""Could-not-test plumbing: skip and error causes, set-up failures, the emulator's ``[serve]``,
and the audio a case declares for the cost estimate."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from types import SimpleNamespace

import httpx
import pytest

from harness.cost_estimate import estimate, item_audio, plan_from_report
from harness.emulator.config import ConfigError, load_config_dict
from harness.not_tested import CouldNotTest, NotTested, classify_skip, error_cause

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "suites"))


# --------------------------------------------------------------------------- causes


@pytest.mark.parametrize(
    ("message", "reason"),
    [
        ("the profile has no velma.keys.no_model_access", "missing-role"),
        ("the profile has no kugel.ws_base_url", "missing-surface"),
        ("the profile states no kugel.limits.max_characters", "missing-limit"),
        ("needs the emulator's fault switches (not available on a live target)", "needs-emulator"),
        ("needs a fault that makes the target answer 500: ...", "cannot-provoke"),
        (
            "sending 2.00 s to stt-batch would bring the cost to $1, over --max-cost $0.5",
            "cost-cap",
        ),
        ("the fixture manifest has no bilingual speech", "other"),
    ],
)
def test_plain_skips_are_classified_by_their_wording(message, reason):
    assert classify_skip(message) == reason


def test_suites_name_the_reason_of_every_skip():
    """A case that cannot be tested says why in a category (``not_tested(reason, cause)``):
    grouping by the wording of a plain ``pytest.skip`` would change with any rewording."""
    import ast

    from harness.report.model import REASONS

    plain, reasons = [], []
    for path in sorted((ROOT / "suites").glob("*.py")):
        for node in ast.walk(ast.parse(path.read_text(), str(path))):
            if not isinstance(node, ast.Call):
                continue
            name = ast.unparse(node.func)
            if name == "pytest.skip":
                plain.append(f"{path.name}:{node.lineno}")
            elif name == "not_tested" and node.args and isinstance(node.args[0], ast.Constant):
                reasons.append((f"{path.name}:{node.lineno}", node.args[0].value))
    assert plain == [], "use harness.not_tested.not_tested(reason, cause): " + ", ".join(plain)
    assert len(reasons) >= 13
    assert [r for r in reasons if r[1] not in REASONS] == []


def test_a_skips_message_carries_no_exception_type():
    from harness.plugin.entries import skip_reason

    for raised in ("Skipped", "harness.not_tested.NotTested"):
        report = SimpleNamespace(longrepr=("suites/x.py", 3, f"{raised}: the profile has no key"))
        assert skip_reason(report) == "the profile has no key"  # type: ignore[arg-type]


def test_not_tested_is_a_pytest_skip_and_error_causes_group_sizes():
    exc = NotTested("not-served", "stt-stream: not served (HTTP 404 on upgrade)")
    assert isinstance(exc, pytest.skip.Exception) and exc.reason == "not-served"
    a = error_cause(RuntimeError("read 3200 B after 2.5 s"))
    b = error_cause(RuntimeError("read 6400 B after 0.1 s"))
    assert a == b and a.startswith("could not test: RuntimeError: ")


class _FakeHttp:
    def __init__(self, response: httpx.Response) -> None:
        self.response = response

    def request(self, method: str, path: str, **kw: object) -> httpx.Response:
        return self.response


def _fake_case(response: httpx.Response) -> SimpleNamespace:
    return SimpleNamespace(
        key=lambda role, service="velma": "k",
        http=lambda service="velma": _FakeHttp(response),
        profile=SimpleNamespace(kugel=SimpleNamespace(key=lambda role: None)),
    )


def test_a_failed_kugel_set_up_step_is_an_error_naming_the_step():
    from _kugel_helpers import new_dict, new_voice

    with pytest.raises(CouldNotTest) as info:
        new_voice(_fake_case(httpx.Response(500, text="database down")))
    assert info.value.reason == "set-up-failed"
    assert info.value.cause == "set-up failed: create voice: HTTP 500 database down"
    with pytest.raises(CouldNotTest, match="set-up failed: create dictionary: HTTP 201 without"):
        new_dict(_fake_case(httpx.Response(201, json={"name": "x"})))
    assert new_voice(_fake_case(httpx.Response(201, json={"id": 7}))) == 7


SUITE = """
import pytest
from harness.not_tested import setup_failed


@pytest.mark.clause("stt-batch/endpoint")
def test_setup_fails(case):
    setup_failed("create voice", "HTTP 500")


@pytest.mark.clause("stt-batch/endpoint")
def test_role_missing(case):
    case.key("no_such_role")


@pytest.mark.clause("stt-batch/endpoint")
def test_no_judgement(case):
    pass


@pytest.mark.clause("stt-batch/model-not-enabled")
def test_a_plain_assert_is_a_violation(case):
    assert False, "the target broke it"
"""


def test_plugin_records_reason_and_cause_and_counts_our_outcomes(tmp_path):
    suite = tmp_path / "suite"
    suite.mkdir()
    (suite / "conftest.py").write_text((ROOT / "suites" / "conftest.py").read_text())
    (suite / "test_x.py").write_text(textwrap.dedent(SUITE))
    r = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(suite),
            "-p",
            "no:cacheprovider",
            "-o",
            "addopts=",
            "-q",
            "--rootdir",
            str(tmp_path),
            "--report-dir",
            str(tmp_path / "rep"),
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=180,
        env=dict(os.environ),
    )
    assert r.returncode == 1, (r.stdout[-2000:], r.stderr[-2000:])
    # pytest's tally uses our outcomes: the three untested cases are not "failed"
    assert "1 failed" in r.stdout and "2 error" in r.stdout and "1 skipped" in r.stdout
    cases = {
        c["id"].split("::")[1]: c
        for c in json.loads((tmp_path / "rep" / "conformance.json").read_text())["cases"]
    }
    setup = cases["test_setup_fails"]
    assert (setup["outcome"], setup["reason"]) == ("error", "set-up-failed")
    assert setup["cause"] == "set-up failed: create voice: HTTP 500" == setup["message"]
    role = cases["test_role_missing"]
    assert (role["outcome"], role["reason"]) == ("skipped", "missing-role")
    assert role["cause"] == "the profile has no velma.keys.no_such_role"
    assert cases["test_no_judgement"]["reason"] == "no-judgement"
    assert cases["test_a_plain_assert_is_a_violation"]["outcome"] == "failed"
    assert "reason" not in cases["test_a_plain_assert_is_a_violation"]


# --------------------------------------------------------------------------- [serve]


def test_serve_config_names_a_bad_field():
    bad_name = r"serve\.disabled\[0\]: expected one of .*, got 'stt-streaming'"
    with pytest.raises(ConfigError, match=bad_name):
        load_config_dict({"serve": {"disabled": ["stt-streaming"]}})
    with pytest.raises(ConfigError, match=r"serve\.websocket: expected true or false"):
        load_config_dict({"serve": {"websocket": "no"}})
    with pytest.raises(ConfigError, match=r"serve\.extra: unknown field"):
        load_config_dict({"serve": {"extra": 1}})


def test_serve_answers_what_is_not_served_with_404():
    import websockets
    from test_emulator_helpers import running
    from websockets.sync.client import connect

    config = load_config_dict(
        {"serve": {"websocket": False, "disabled": ["vfast-batch", "kugel-http"]}}
    )
    h = {"X-API-Key": "demo-valid-key"}
    stream = "/api/velma-2-stt-streaming?api_key=demo-valid-key"
    with running(config) as emu:
        base = emu.base_url
        assert (
            httpx.post(base + "/api/velma-2-stt-batch-english-vfast", headers=h).status_code == 404
        )
        assert httpx.post(base + "/api/velma-2-stt-batch", headers=h).status_code == 422  # served
        bearer = {"Authorization": "Bearer x"}
        assert httpx.get(base + "/v1/voices", headers=bearer).status_code == 404
        with pytest.raises(websockets.InvalidStatus) as info:
            connect(base.replace("http", "ws", 1) + stream, open_timeout=5).close()
        assert info.value.response.status_code == 404
    with (
        running(load_config_dict({})) as emu,
        connect(emu.base_url.replace("http", "ws", 1) + stream, open_timeout=5) as ws,
    ):
        ws.send("")  # end of stream at once: the upgrade was accepted


# --------------------------------------------------------------------------- declared audio


class _Mark:
    def __init__(self, *args: object, **kwargs: object) -> None:
        self.args, self.kwargs = args, kwargs


class _Item:
    def __init__(self, nodeid: str, clause: str, params: dict, marks: list[_Mark]) -> None:
        self.nodeid, self._clause, self._marks = nodeid, clause, marks
        self.callspec = SimpleNamespace(params=params)

    def get_closest_marker(self, name: str) -> _Mark | None:
        return _Mark(self._clause) if name == "clause" else None

    def iter_markers(self, name: str) -> list[_Mark]:
        return self._marks if name == "audio" else []


class _Manifest:
    def get(self, fid: str) -> SimpleNamespace:
        if fid != "clip-2s":
            raise KeyError(fid)
        return SimpleNamespace(duration_s=2.0)


def test_declared_audio_wins_then_the_plan_then_the_fixture():
    m = _Manifest()
    declared = _Item(
        "a",
        "velma/x",
        {"surface": "stt-batch"},
        [_Mark("clip-2s", "clip-2s", seconds=1.5), _Mark(seconds=3, surface="pii-stream")],
    )
    assert item_audio(declared, m) == {"stt-batch": 5.5, "pii-stream": 3.0}
    planned = _Item("b", "stt-batch/y", {}, [])
    assert item_audio(planned, m, {"b": {"stt-batch": 12.0}}) == {"stt-batch": 12.0}
    by_fixture = _Item("c", "velma/z", {"fixture_id": "clip-2s", "surface": "svd-batch"}, [])
    assert item_audio(by_fixture, m) == {"svd-batch": 2.0}  # priced surface, not "velma"
    est = estimate([declared, planned, by_fixture], m, {"b": {"stt-batch": 12.0}})
    assert est.seconds == {"stt-batch": 17.5, "pii-stream": 3.0, "svd-batch": 2.0}
    assert est.usd > 0


def test_the_plan_is_written_from_what_cases_charged():
    report = {
        "cases": [
            {"nodeid": "suites/t.py::a", "audio": {"stt-batch": 2.0, "svd-batch": 1.0}},
            {"nodeid": "suites/t.py::b"},
        ]
    }
    plan = plan_from_report(report)
    assert plan["cases"] == {"suites/t.py::a": {"stt-batch": 2.0, "svd-batch": 1.0}}
