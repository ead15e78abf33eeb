"""Could-not-test is never a violation: the whole suite against a target that serves REST only.

The emulator's ``[serve] websocket = false`` answers every WebSocket upgrade with HTTP 404,
as a REST-only target would. Every streaming case must end skipped or error, grouped under
one cause per surface, with no ``failed`` (and no ``non-strict`` / ``informational`` verdict
about messages that never arrived) among them; the run's exit code is not 1.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from harness_cli import harness_run

from harness.report import resolve_latest

ROOT = Path(__file__).resolve().parents[1]
STREAMING = ("stt-stream", "svd-stream", "pii-stream")
KUGEL_WS_PATHS = ("/ws/tts", "/ws/tts/stream")


@pytest.fixture(scope="module")
def rest_only(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    tmp = tmp_path_factory.mktemp("rest-only")
    config = tmp / "rest-only.toml"
    config.write_text("[serve]\nwebsocket = false\n[processing]\ntime_scale = 0.002\n")
    r = harness_run(tmp / "r", config=config, timeout=600)
    return r, resolve_latest(tmp / "r")


def _ws_cause(case: dict) -> bool:
    return any(
        (case.get("cause") or "").startswith(f"{name}: not served")
        for name in (*STREAMING, *(f"kugel-ws {p}" for p in KUGEL_WS_PATHS))
    )


def test_no_streaming_case_is_a_violation_and_the_exit_code_is_not_1(rest_only):
    r, where = rest_only
    assert r.returncode in (0, 3), (r.returncode, r.stdout[-3000:], r.stderr[-2000:])
    data = json.loads((where / "conformance.json").read_text())
    streaming = [c for c in data["cases"] if c["surface"] in (*STREAMING, "kugel-ws")]
    assert len(streaming) > 200
    assert {c["outcome"] for c in streaming} <= {"skipped", "error"}
    assert not [c["id"] for c in data["cases"] if c["outcome"] == "failed"]
    # cases of other surfaces (velma/*, kugel/*) that stream were not tested either
    not_served = [c for c in data["cases"] if _ws_cause(c)]
    assert len(not_served) > len(streaming)
    for c in not_served:
        assert c["outcome"] == "skipped" and c["reason"] == "not-served"
        assert not c["actual"], c  # nothing arrived, so nothing is described as if it had


def test_not_tested_cases_are_grouped_under_one_cause_per_surface(rest_only):
    r, where = rest_only
    data = json.loads((where / "conformance.json").read_text())
    groups = {g["cause"]: g for g in data["not_tested"]}
    for surface in STREAMING:
        cause = f"{surface}: not served (HTTP 404 on upgrade)"
        assert cause in groups, sorted(groups)
        assert len([g for g in groups if g.startswith(f"{surface}: ")]) == 1
        assert groups[cause]["count"] == len(groups[cause]["cases"]) > 10
        assert f"{cause}: {groups[cause]['count']} cases skipped" in r.stdout
    assert data["complete"] is False and data["not_tested_by_reason"]["not-served"] > 250
    page = (where / "index.html").read_text()
    n = groups["stt-stream: not served (HTTP 404 on upgrade)"]["count"]
    assert f"stt-stream: not served (HTTP 404 on upgrade)</span>: {n} cases not tested" in page
    assert "CONFORMS on " in r.stdout and " not run: " in r.stdout
