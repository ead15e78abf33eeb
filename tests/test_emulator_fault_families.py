"""One fault mechanism for every family: one header, one switches endpoint, one plan.

A KugelAudio fault travels in the same ``X-Emulator-Fault`` header as a Velma-2 one; each
surface acts on its own family's faults and ignores the others; ``[kugel] faults`` reach
only the KugelAudio surfaces; the builders of :mod:`harness.emulator.wire` write what the
parser reads.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from test_emulator_helpers import VALID, config, post, running, wav

from harness.client.control import EmulatorControl, fault_header
from harness.emulator.faults import KINDS, FaultPlan, parse_fault, parse_fault_header
from harness.emulator.kugel.config import DEFAULT_KEYS
from harness.emulator.wire import (
    FAULT_FAMILIES,
    GENERATION_FAILED,
    KUGEL_FAULTS,
    LATENCY,
    MODEL_UNAVAILABLE,
    OVERLOAD,
    TIMEOUT,
    Family,
    fault,
)

KUGEL_KEY = {"Authorization": f"Bearer {DEFAULT_KEYS['valid']}"}
TTS = "/v1/tts/generate"


def _tts(base_url: str, headers: dict[str, str] | None = None) -> httpx.Response:
    return httpx.post(
        base_url + TTS, json={"text": "hi"}, headers={**KUGEL_KEY, **(headers or {})}, timeout=10
    )


def test_every_fault_has_a_family_and_parses():
    assert set(KINDS) == set(FAULT_FAMILIES)
    assert all(FAULT_FAMILIES[name] for name in KINDS)
    assert not any(Family.PLATFORM in fams for fams in FAULT_FAMILIES.values())
    for name in KUGEL_FAULTS:
        assert Family.KUGEL in FAULT_FAMILIES[name]
        assert str(parse_fault(name)) == name


def test_plan_keeps_the_kugel_faults_and_overload_for_both():
    plan = FaultPlan.of(parse_fault_header(f"{GENERATION_FAILED}, {TIMEOUT}"))
    assert plan.kugel == {GENERATION_FAILED} and plan.timeout and not plan.overload
    both = FaultPlan.of(parse_fault_header(OVERLOAD))
    assert both.overload and both.kugel == {OVERLOAD}


@pytest.mark.parametrize(
    ("args", "written"),
    [
        ((LATENCY, 0.4), "latency=0.4"),
        ((OVERLOAD,), "overload"),
        (("internal-midstream", "2f"), "internal-midstream=2f"),
    ],
)
def test_builders_write_what_the_parser_reads(args, written):
    assert fault(*args) == written
    (header,) = fault_header(*args).values()
    assert str(parse_fault_header(header)[0]) == written


def test_builders_refuse_an_unknown_name():
    with pytest.raises(ValueError, match="unknown fault 'meltdown'"):
        fault_header("meltdown")


def test_one_header_each_surface_takes_its_own_family():
    clip = wav(0.6)
    with running(config()) as emu:
        kugel_only = fault_header(GENERATION_FAILED)
        assert post(emu, "stt-batch", clip, headers=kugel_only).status_code == 200
        assert _tts(emu.base_url, kugel_only).status_code == 500
        velma_only = fault_header(TIMEOUT)
        assert post(emu, "stt-batch", clip, headers=velma_only).status_code == 504
        assert _tts(emu.base_url, velma_only).status_code == 200
        overload = fault_header(OVERLOAD)
        assert post(emu, "stt-batch", clip, headers=overload).status_code == 503
        assert _tts(emu.base_url, overload).status_code == 503
        assert _tts(emu.base_url, {"X-Emulator-Fault": "meltdown"}).status_code == 400


def test_one_switches_endpoint_for_every_family():
    clip = wav(0.6)
    with running(config()) as emu:
        ctl = EmulatorControl(f"{emu.base_url}/_emulator", emu.token)
        ctl.switches(faults=[MODEL_UNAVAILABLE, TIMEOUT])
        assert _tts(emu.base_url).status_code == 503
        assert post(emu, "stt-batch", clip).status_code == 504
        ctl.reset()
        assert _tts(emu.base_url).status_code == 200
        assert post(emu, "stt-batch", clip).status_code == 200


def test_kugel_config_faults_reach_only_the_kugel_surfaces():
    clip = wav(0.6)
    with running(config({"kugel": {"faults": [OVERLOAD]}})) as emu:
        assert _tts(emu.base_url).status_code == 503
        assert post(emu, "stt-batch", clip, key=VALID).status_code == 200
        assert _tts(emu.base_url, fault_header(LATENCY, 0.01)).status_code == 503


def test_the_state_declares_its_parts():
    """No part is hung on the state from outside (``# type: ignore[attr-defined]``)."""
    package = Path(__file__).resolve().parents[1] / "harness" / "emulator"
    attached = [
        str(p) for p in package.rglob("*.py") if "type: ignore[attr-defined]" in p.read_text()
    ]
    assert attached == []
