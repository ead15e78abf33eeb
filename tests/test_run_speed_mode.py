"""Emulator speed follows the run, not the config path: every conformance run against an
emulator models processing at :data:`harness.embedded.FAST_TIME_SCALE` unless
``--real-time`` is given (the time scale the emulator got is asserted, never wall time)."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from harness.cli import build_parser
from harness.client.control import EmulatorControl as ControlClient
from harness.embedded import FAST_TIME_SCALE, set_run_speed, start_embedded
from harness.emulator.child import start_child
from harness.emulator.profile import profile_toml
from harness.emulator.wire import CONTROL_PREFIX, TOKEN_HEADER
from harness.runner import RunOptions, pytest_args
from harness.target import load_profile

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "emulator.toml"


def _scale_of(profile) -> float:
    c = profile.emulator
    return ControlClient(c.url, c.token.value).state()["processing"]["time_scale"]


@pytest.mark.parametrize("config", [None, EXAMPLE], ids=["default", "example-config"])
def test_a_run_against_the_embedded_emulator_is_fast_whatever_the_config(config):
    target = start_embedded(config)
    try:
        assert target.time_scale == FAST_TIME_SCALE
        assert _scale_of(target.profile) == FAST_TIME_SCALE  # what the child process runs at
    finally:
        target.stop()


def test_real_time_keeps_the_configs_own_time_scale(tmp_path):
    config = tmp_path / "emulator.toml"
    config.write_text("[processing]\ntime_scale = 0.5\n", encoding="utf-8")
    target = start_embedded(config, real_time=True)
    try:
        assert target.time_scale == 0.5 and _scale_of(target.profile) == 0.5
    finally:
        target.stop()
    target = start_embedded(None, real_time=True)
    try:  # the default config models processing at real speed
        assert _scale_of(target.profile) == 1.0
    finally:
        target.stop()


def test_a_config_that_sets_its_own_time_scale_is_told_it_is_not_used(capsys):
    target = start_embedded(EXAMPLE)  # the example sets time_scale = 1.0
    target.stop()
    err = capsys.readouterr().err
    assert "time_scale = 1" in err and "--real-time" in err and str(EXAMPLE) in err


@pytest.fixture()
def emulate(tmp_path):
    """A separately started emulator at real speed, and a kind = "emulator" profile for it."""
    child = start_child(None, time_scale=1.0)
    profile = tmp_path / "emulator-profile.toml"
    profile.write_text(profile_toml(child.base_url, child.config, child.token), encoding="utf-8")
    yield load_profile(profile)
    child.stop()


def test_a_run_sets_an_emulate_targets_time_scale_and_puts_it_back(emulate, capsys):
    assert emulate.kind == "emulator" and _scale_of(emulate) == 1.0
    restore = set_run_speed(emulate)
    assert restore is not None and _scale_of(emulate) == FAST_TIME_SCALE
    assert "x 0.002" in capsys.readouterr().err
    ControlClient(emulate.emulator.url, emulate.emulator.token.value).reset()
    assert _scale_of(emulate) == FAST_TIME_SCALE  # a case's reset keeps the run's speed
    restore()
    assert _scale_of(emulate) == 1.0


def test_real_time_leaves_an_emulate_target_alone(emulate):
    assert set_run_speed(emulate, real_time=True) is None
    assert _scale_of(emulate) == 1.0


def test_an_emulator_that_cannot_take_the_speed_says_so(emulate, capsys):
    broken = replace(emulate.emulator, url=emulate.emulator.url + "/nowhere")
    profile = replace(emulate, emulator=broken)
    assert set_run_speed(profile) is None
    err = capsys.readouterr().err
    assert "did not take the run's processing time scale (HTTP 404)" in err
    assert _scale_of(emulate) == 1.0


@pytest.mark.parametrize("body", [{"time_scale": -1}, {"time_scale": "fast"}, {}, [1]])
def test_the_control_endpoint_refuses_a_bad_time_scale(emulate, body):
    c = emulate.emulator
    r = httpx.post(
        c.url + "/processing", json=body, headers={TOKEN_HEADER: c.token.value}, timeout=5
    )
    assert r.status_code == 400 and "time_scale" in r.json()["detail"]
    assert c.url.endswith(CONTROL_PREFIX)


def test_real_time_reaches_pytest_only_when_asked(tmp_path):
    args = build_parser().parse_args(["run", "--real-time"])
    assert args.real_time is True
    assert "--real-time" in pytest_args(RunOptions(real_time=True), tmp_path)
    assert "--real-time" not in pytest_args(RunOptions(), tmp_path)
