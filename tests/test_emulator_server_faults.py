"""The emulator's 500 / 502 faults: ``internal-error``, ``upstream-failure`` and
``validation-unavailable``, on the REST and WebSocket surfaces, from every source."""

from __future__ import annotations

import asyncio

import pytest
from test_emulator_helpers import INVALID, SURFACES, control, post, running, with_faulty_key
from test_emulator_ws_fuzz import RAW_QUERY, check_close, fuzz_session, ws_url

from harness.contract import tables as T
from harness.emulator.config import ConfigError, load_config_dict
from harness.emulator.faults import FaultPlan, parse_fault, parse_fault_header

STREAMS = ("stt-stream", "svd-stream", "pii-stream")
NEW = ("internal-error", "upstream-failure", "validation-unavailable")


def _fault(name: str) -> dict[str, str]:
    return {"X-Emulator-Fault": name}


# --------------------------------------------------------------------------- parsing


@pytest.mark.parametrize("name", NEW)
def test_new_faults_parse_and_print_back(name):
    assert str(parse_fault(f" {name} ")) == name
    with pytest.raises(ValueError, match=f"{name} takes no value"):
        parse_fault(f"{name}=1")


def test_unknown_fault_names_every_known_one():
    with pytest.raises(ValueError) as exc:
        parse_fault("internal_error")
    for name in ("overload", "timeout", *NEW, "latency=SECONDS", "internal-midstream"):
        assert name in str(exc.value)


def test_config_rejects_a_bad_value_naming_the_field():
    with pytest.raises(ConfigError, match=r"faults\.enabled: .*upstream-failure takes no value"):
        load_config_dict({"faults": {"enabled": ["upstream-failure=now"]}})
    with pytest.raises(ConfigError, match=r"validation-unavailable"):
        load_config_dict({"faults": {"enabled": ["validation-down"]}})
    cfg = load_config_dict({"faults": {"enabled": list(NEW)}})
    assert [str(f) for f in cfg.faults] == list(NEW)


def test_plan_combines_them():
    plan = FaultPlan.of(parse_fault_header("internal-error, validation-unavailable"))
    assert plan.internal_error and plan.validation_unavailable and not plan.upstream_failure
    assert plan.stream_fail_frame == 1
    assert FaultPlan.of([parse_fault("upstream-failure")]).stream_fail_frame == 1
    assert FaultPlan.of([parse_fault("validation-unavailable")]).stream_fail_frame is None


# --------------------------------------------------------------------------- REST


@pytest.mark.parametrize("surface", SURFACES)
def test_rest_internal_error_is_500(emu, clip, surface):
    r = post(emu, surface, clip, headers=_fault("internal-error"))
    assert (r.status_code, r.json()) == (500, {"detail": T.DETAIL_INTERNAL})


@pytest.mark.parametrize("surface", SURFACES)
def test_rest_validation_unavailable_is_502(emu, clip, surface):
    r = post(emu, surface, clip, headers=_fault("validation-unavailable"))
    assert (r.status_code, r.json()) == (502, {"detail": T.DETAIL_CANNOT_VALIDATE})


@pytest.mark.parametrize(
    ("surface", "detail"),
    [
        ("stt-batch", T.DETAIL_NOT_COMPLETED),  # the only surface documenting it
        ("vfast-batch", T.DETAIL_CANNOT_VALIDATE),
        ("svd-batch", T.DETAIL_CANNOT_VALIDATE),
        ("pii-batch", T.DETAIL_CANNOT_VALIDATE),
    ],
)
def test_rest_upstream_failure_is_502_with_the_surface_detail(emu, clip, surface, detail):
    r = post(emu, surface, clip, headers=_fault("upstream-failure"))
    assert (r.status_code, r.json()) == (502, {"detail": detail})


def test_validation_unavailable_precedes_the_key_check_and_the_body(emu, clip):
    # the key cannot be checked, so a wrong key gets the 502 too; so does a bad body
    r = post(emu, "stt-batch", clip, key=INVALID, headers=_fault("validation-unavailable"))
    assert r.status_code == 502
    r = post(emu, "stt-batch", b"", filename="x.txt", headers=_fault("validation-unavailable"))
    assert r.status_code == 502
    # ... while a bad body still comes before the processing faults
    r = post(emu, "stt-batch", b"", headers=_fault("internal-error"))
    assert r.status_code == 400
    # a missing key is refused by the framework first
    r = post(emu, "stt-batch", clip, key=None, headers=_fault("validation-unavailable"))
    assert r.status_code == 422


def test_processing_faults_order_overload_first(emu, clip):
    r = post(emu, "stt-batch", clip, headers=_fault("upstream-failure, internal-error"))
    assert r.status_code == 500
    r = post(emu, "stt-batch", clip, headers=_fault("internal-error,overload"))
    assert r.status_code == 503
    r = post(emu, "stt-batch", clip, headers=_fault("timeout,upstream-failure"))
    assert r.status_code == 502


def test_per_key_and_control_endpoint(clip):
    with running(with_faulty_key("broken", ["internal-error"])) as emu:
        assert post(emu, "vfast-batch", clip, key="broken").status_code == 500
        assert post(emu, "vfast-batch", clip).status_code == 200
        on = control(emu, "POST", "switches", json={"faults": ["validation-unavailable"]})
        assert on.status_code == 200
        assert on.json()["switches"]["faults"] == ["validation-unavailable"]
        assert post(emu, "svd-batch", clip).status_code == 502
        bad = control(emu, "POST", "switches", json={"faults": ["internal-error=1"]})
        assert bad.status_code == 400 and "takes no value" in bad.text
        control(emu, "POST", "reset")
        assert post(emu, "svd-batch", clip).status_code == 200


def test_bad_fault_header_is_an_emulator_400(emu, clip):
    r = post(emu, "pii-batch", clip, headers=_fault("upstream-failure=yes"))
    assert r.status_code == 400 and r.json().get("emulator") is True
    assert "takes no value" in r.json()["detail"]


# --------------------------------------------------------------------------- WebSocket


def _ws(emu, surface: str, fault: str, frames: list[tuple[str, object]]):
    url = ws_url(emu, surface, RAW_QUERY)
    return asyncio.run(fuzz_session(url, frames, [], _fault(fault)))


@pytest.mark.parametrize("surface", STREAMS)
def test_ws_validation_unavailable_is_error_then_4003_at_once(emu, surface):
    code, got = _ws(emu, surface, "validation-unavailable", [])
    check_close(code, got)
    assert code == 4003 and got == [{"type": "error", "error": T.DETAIL_CANNOT_VALIDATE}]
    # even with an unknown key: it cannot be checked
    url = ws_url(emu, surface, {**RAW_QUERY, "api_key": INVALID})
    code, got = asyncio.run(fuzz_session(url, [], [], _fault("validation-unavailable")))
    assert code == 4003 and got[-1]["error"] == T.DETAIL_CANNOT_VALIDATE


@pytest.mark.parametrize("surface", STREAMS)
@pytest.mark.parametrize("fault", ["internal-error", "upstream-failure"])
def test_ws_processing_faults_are_error_then_1011_on_the_first_frame(emu, surface, fault):
    code, got = _ws(emu, surface, fault, [("audio", b"")])
    check_close(code, got)
    assert code == 1011 and got == [{"type": "error", "error": T.DETAIL_INTERNAL}]
    # no audio, no failure: the session ends normally
    code, got = _ws(emu, surface, fault, [])
    assert code == 1000 and got[-1]["type"] == "done"
