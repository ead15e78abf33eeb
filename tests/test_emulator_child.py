"""The one child launcher: config as a TOML path or as data, checked in the parent, and a
child that serves on loopback and exits when its stdin closes or its parent dies."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from harness.emulator.child import start_child
from harness.emulator.config import ConfigError
from harness.load.emu import LOAD_KEY, scenario_emulator_data


def _state(base_url: str, token: str) -> dict:
    r = httpx.get(f"{base_url}/_emulator/state", headers={"X-Emulator-Token": token}, timeout=5)
    r.raise_for_status()
    return r.json()


def _gone(pid: int, within_s: float = 10.0) -> bool:
    deadline = time.monotonic() + within_s
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return True
        time.sleep(0.05)
    return False


def test_config_as_data_serves_and_stops_on_stdin_close():
    child = start_child(scenario_emulator_data(concurrency=7))
    try:
        assert child.key == LOAD_KEY and child.base_url.startswith("http://127.0.0.1:")
        assert child.ws_base_url == "ws" + child.base_url[4:]
        assert child.config.orgs["load"].limit_for("stt-batch") == 7
        assert set(_state(child.base_url, child.token)["orgs"]) == {"load"}
    finally:
        child.stop()
    assert child.proc.returncode == 0  # it left on its own when stdin closed, not killed


def test_config_as_a_path_with_a_time_scale(tmp_path: Path):
    path = tmp_path / "emu.toml"
    path.write_text('invalid_key = "nobody"\n')
    child = start_child(path, time_scale=0.5)
    try:
        assert child.config.invalid_key == "nobody"
        assert child.config.processing.time_scale == 0.5
        assert _state(child.base_url, child.token)["in_flight_total"] == 0
    finally:
        child.stop()


def test_a_bad_config_fails_in_the_parent(tmp_path: Path):
    with pytest.raises(ConfigError, match="processing.speed"):
        start_child({"processing": {"speed": 0}})
    with pytest.raises(ConfigError, match="cannot read"):
        start_child(tmp_path / "missing.toml")


def test_the_child_dies_with_its_parent():
    parent = subprocess.Popen(
        [
            sys.executable,
            "-c",
            "import json, sys, time\n"
            "from harness.emulator.child import start_child\n"
            "c = start_child()\n"
            "print(json.dumps({'pid': c.proc.pid}), flush=True)\n"
            "time.sleep(60)\n",
        ],
        stdout=subprocess.PIPE,
    )
    try:
        assert parent.stdout is not None
        pid = json.loads(parent.stdout.readline())["pid"]
        parent.kill()
        parent.wait(timeout=5)
        assert _gone(pid), "the emulator child outlived its parent"
    finally:
        if parent.poll() is None:
            parent.kill()
