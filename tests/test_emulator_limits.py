"""Concurrency, quota, faults and the control endpoint, over real HTTP."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor

import httpx
import pytest
from test_emulator_helpers import VALID, config, control, post, running, wav, with_alternatives

from harness.contract import tables as T

LIMIT = 2


def _cfg(**processing: float) -> dict:
    return {
        "processing": {"time_scale": 0.0, **processing},
        "orgs": {
            "tiny": {
                "concurrency": LIMIT,
                "quota_audio_hours": 10.0 / 3600.0,  # ten seconds of audio
                "keys": [{"key": VALID, "role": "valid"}],
            }
        },
    }


@pytest.fixture(scope="module")
def clip() -> bytes:
    return wav(2.0)


def _hold_slots(emu, clip, n: int, seconds: float, surface: str = "stt-batch"):
    pool = ThreadPoolExecutor(n)
    futures = [
        pool.submit(post, emu, surface, clip, headers={"X-Emulator-Fault": f"latency={seconds}"})
        for _ in range(n)
    ]
    deadline = time.monotonic() + 5
    while control(emu, "GET", "state").json()["in_flight_total"] < n:
        assert time.monotonic() < deadline, "slow requests never became in-flight"
        time.sleep(0.01)
    return pool, futures


def test_over_the_concurrency_limit_is_rejected_at_once(clip):
    with running(config(_cfg())) as emu:
        pool, futures = _hold_slots(emu, clip, LIMIT, 3.0)
        t0 = time.monotonic()
        r = post(emu, "stt-batch", clip)
        elapsed = time.monotonic() - t0
        assert r.status_code == 429, r.text
        # a wait for a slot would last most of the 3 s hold; a loaded machine is slow, not that slow
        assert elapsed < 1.5, f"the refusal took {elapsed:.2f} s: it waited for a slot"
        state = control(emu, "GET", "state").json()
        assert state["orgs"]["tiny"]["in_flight"] == {"stt-batch": LIMIT}
        # another model of the same organisation has its own limit
        assert post(emu, "vfast-batch", clip).status_code == 200
        assert all(f.result().status_code == 200 for f in futures)
        pool.shutdown()
        assert post(emu, "stt-batch", clip).status_code == 200  # slots are free again


def test_svd_concurrency_status_follows_the_alternative(clip):
    for key, status in (("429", 429), ("403", 403)):
        cfg = with_alternatives({"svd-batch/concurrency-limit": key}, _cfg())
        with running(cfg) as emu:
            pool, futures = _hold_slots(emu, clip, LIMIT, 1.0, "svd-batch")
            assert post(emu, "svd-batch", clip).status_code == status
            pool.shutdown()


def test_queue_instead_of_reject_waits_for_a_slot(clip):
    with running(config(_cfg())) as emu:
        pool, futures = _hold_slots(emu, clip, LIMIT, 0.8)
        t0 = time.monotonic()
        r = post(
            emu, "stt-batch", clip, headers={"X-Emulator-Deviation": "queue-instead-of-reject"}
        )
        elapsed = time.monotonic() - t0
        assert r.status_code == 200
        assert elapsed > 0.3, f"answered after {elapsed:.2f} s: it did not wait"
        pool.shutdown()


def test_quota_is_consumed_by_true_duration_then_refused(clip):
    with running(config(_cfg())) as emu:
        for _ in range(5):  # 5 x 2 s = the 10 s quota
            assert post(emu, "vfast-batch", clip).status_code == 200
        used = control(emu, "GET", "state").json()["orgs"]["tiny"]["used_audio_seconds"]
        assert used == pytest.approx(10.0, abs=0.01)
        r = post(emu, "vfast-batch", clip)
        assert r.status_code in (403, 429) and r.json()["detail"] in (
            T.DETAIL_MONTHLY_LIMIT,
            T.DETAIL_INSUFFICIENT_CREDITS,
        )
        # a rejected request is not charged; reset puts usage back
        assert control(emu, "POST", "reset").status_code == 200
        assert post(emu, "vfast-batch", clip).status_code == 200


def test_504_after_the_modelled_60_s_with_time_scale(clip):
    # 2 s of audio at speed 0.02 models 100 s of processing: over the 60 s limit
    with running(config(_cfg(speed=0.02, time_scale=0.005))) as emu:
        t0 = time.monotonic()
        r = post(emu, "svd-batch", clip)
        elapsed = time.monotonic() - t0
        assert (r.status_code, r.json()["detail"]) == (504, T.DETAIL_TIMEOUT)
        assert 0.25 <= elapsed < 3.0  # 60 s x 0.005 = 0.3 s
    with running(config(_cfg(speed=0.05, time_scale=0.005))) as emu:  # 40 s: in time
        assert post(emu, "svd-batch", clip).status_code == 200


def test_faults_by_header_key_and_control_endpoint(clip):
    data = _cfg()
    data["orgs"]["tiny"]["keys"].append({"key": "overloaded", "faults": ["overload"]})
    with running(config(data)) as emu:
        r = post(emu, "vfast-batch", clip, headers={"X-Emulator-Fault": "overload"})
        assert (r.status_code, r.json()["detail"]) == (503, T.DETAIL_UNAVAILABLE)
        r = post(emu, "stt-batch", clip, headers={"X-Emulator-Fault": "timeout"})
        assert r.status_code == 504
        assert post(emu, "stt-batch", clip, key="overloaded").status_code == 503
        assert post(emu, "stt-batch", clip).status_code == 200
        on = control(emu, "POST", "switches", json={"faults": ["overload"]})
        assert on.status_code == 200 and on.json()["switches"]["faults"] == ["overload"]
        assert post(emu, "stt-batch", clip).status_code == 503
        control(emu, "POST", "reset")
        assert post(emu, "stt-batch", clip).status_code == 200
        t0 = time.monotonic()
        assert (
            post(emu, "stt-batch", clip, headers={"X-Emulator-Fault": "latency=0.3"}).status_code
            == 200
        )
        assert time.monotonic() - t0 >= 0.3


def test_unknown_fault_or_deviation_header_is_an_emulator_400(clip):
    with running(config(_cfg())) as emu:
        r = post(emu, "stt-batch", clip, headers={"X-Emulator-Fault": "meltdown"})
        assert r.status_code == 400 and r.json().get("emulator") is True
        r = post(emu, "stt-batch", clip, headers={"X-Emulator-Deviation": "nope"})
        assert r.status_code == 400 and "short-audio-400" in r.json()["detail"]


def test_control_endpoint_needs_the_token():
    with running() as emu:
        url = f"{emu.base_url}/_emulator/state"
        assert httpx.get(url).status_code == 401
        assert httpx.get(url, headers={"X-Emulator-Token": "wrong"}).status_code == 401
        assert httpx.post(f"{emu.base_url}/_emulator/reset").status_code == 401
        ok = httpx.get(url, headers={"X-Emulator-Token": emu.token})
        assert ok.status_code == 200 and "in_flight_total" in ok.json()
        bad = control(emu, "POST", "switches", json={"deviations": ["unknown"]})
        assert bad.status_code == 400


def test_control_endpoint_refuses_non_loopback_clients():
    import asyncio

    from harness.emulator import create_app

    app = create_app(config())
    token = app.state.emulator.token

    async def ask(client_host: str) -> int:
        # in process, no socket: the ASGI scope names the client the app sees
        transport = httpx.ASGITransport(app=app, client=(client_host, 50000))
        async with httpx.AsyncClient(transport=transport, base_url="http://emulator") as c:
            r = await c.get("/_emulator/state", headers={"X-Emulator-Token": token})
            return r.status_code

    assert asyncio.run(ask("testclient")) == 403  # not a loopback address
    assert asyncio.run(ask("127.0.0.1")) == 200  # the same request from loopback
