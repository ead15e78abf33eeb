"""Configuration loading, alternatives selection and admission decisions (no server)."""

from __future__ import annotations

import asyncio
import threading
import time

import pytest
from test_emulator_helpers import TEST_CATALOG, with_alternatives

from harness.contract import disputed
from harness.emulator.admission import Admission, Reason
from harness.emulator.config import (
    ConfigError,
    default_config,
    load_config_dict,
    load_emulator_config,
)

# --------------------------------------------------------------------------- config


def test_defaults_have_a_key_for_every_role():
    cfg = default_config()
    for role in ("valid", "no_model_access", "quota_exhausted", "invalid"):
        assert cfg.key_for_role(role), role
    assert cfg.key_for_role("invalid") not in cfg.keys
    org = cfg.orgs[cfg.keys[cfg.key_for_role("valid")].org]
    assert org.concurrency == 5 and 0 < org.quota_audio_hours <= 10


def test_example_config_loads():
    from pathlib import Path

    example = Path(__file__).resolve().parents[1] / "examples" / "emulator.toml"
    cfg = load_emulator_config(example)
    assert cfg.key_for_role("valid")


@pytest.mark.parametrize(
    ("data", "names"),
    [
        ({"processing": {"speed": "fast"}}, "processing.speed"),
        ({"processing": {"time_scale": -1}}, "processing.time_scale"),
        ({"processing": {"warp": 1}}, "processing.warp"),
        ({"orgs": {"a": {"models": ["stt-batch", "tts"]}}}, "orgs.a.models"),
        ({"orgs": {"a": {"concurrency": 1.5}}}, "orgs.a.concurrency"),
        ({"orgs": {"a": {"keys": [{"role": "valid"}]}}}, "orgs.a.keys[0].key"),
        ({"orgs": {"a": {"keys": [{"key": "k", "role": "admin"}]}}}, "orgs.a.keys[0].role"),
        ({"deviations": {"enabled": ["be-nice"]}}, "deviations.enabled"),
        ({"faults": {"enabled": ["latency=soon"]}}, "faults.enabled"),
        ({"invalid_key": 3}, "invalid_key"),
    ],
)
def test_config_errors_name_the_field(data, names):
    with pytest.raises(ConfigError) as exc:
        load_config_dict(data)
    assert names in str(exc.value)
    assert "expected" in str(exc.value) or "unknown" in str(exc.value)


def test_config_file_errors_are_one_line(tmp_path):
    bad = tmp_path / "e.toml"
    bad.write_text("[processing\n")
    with pytest.raises(ConfigError, match="not valid TOML"):
        load_emulator_config(bad)
    with pytest.raises(ConfigError, match="cannot read"):
        load_emulator_config(tmp_path / "missing.toml")


# --------------------------------------------------------------------------- alternatives


def test_alternatives_default_to_the_catalog_preference():
    cfg = default_config()
    chosen = cfg.choices.as_dict()
    for c in disputed():
        assert chosen[c.id] == c.preferred


def test_every_documented_alternative_is_selectable():
    for c in disputed():
        for alt in c.alternatives:
            cfg = load_config_dict({"alternatives": {c.id: alt.key}})
            assert cfg.choices.key(c.id) == alt.key


def test_unknown_alternative_names_the_allowed_keys():
    with pytest.raises(ConfigError) as exc:
        with_alternatives({"svd-batch/invalid-key": "402"})
    assert "alternatives" in str(exc.value) and "401, 403" in str(exc.value)


def test_unknown_clause_names_the_allowed_clauses():
    with pytest.raises(ConfigError) as exc:
        with_alternatives({"svd-batch/nope": "401"})
    assert "svd-batch/invalid-key" in str(exc.value)


def test_test_catalog_is_sound():
    from harness.contract import problems

    assert problems(TEST_CATALOG) == []


# --------------------------------------------------------------------------- admission


def _admission(**org) -> Admission:
    data = {
        "orgs": {
            "o": {
                "concurrency": 2,
                "quota_audio_hours": 1.0,
                **org,
                "keys": [{"key": "k", "role": "valid"}],
            },
            "none": {"models": [], "keys": [{"key": "n"}]},
        }
    }
    return Admission(load_config_dict(data))


def test_decisions_carry_their_reason():
    adm = _admission()
    assert adm.check("nope", "stt-batch").reason is Reason.BAD_KEY
    assert adm.check(None, "stt-batch").reason is Reason.BAD_KEY
    assert adm.check("n", "stt-batch").reason is Reason.NO_MODEL_ACCESS
    ok = adm.check("k", "stt-batch")
    assert ok.admitted and ok.reason is None
    adm.charge(ok, 3600.0)
    assert adm.check("k", "stt-batch").reason is Reason.QUOTA
    adm.reset()
    assert adm.check("k", "stt-batch").admitted


def test_concurrency_rejects_without_queueing_across_threads():
    adm = _admission(concurrency=3)
    barrier = threading.Barrier(8)
    results: list[bool] = []
    release = threading.Event()

    def worker() -> None:
        barrier.wait()
        with adm.hold_sync("k", "svd-batch") as d:
            results.append(d.admitted)
            if d.admitted:
                release.wait(2)

    threads = [threading.Thread(target=worker) for _ in range(8)]
    for t in threads:
        t.start()
    deadline = time.monotonic() + 5
    while len(results) < 8 and time.monotonic() < deadline:
        time.sleep(0.001)
    assert results.count(True) == 3 and results.count(False) == 5
    release.set()
    for t in threads:
        t.join()
    assert adm.in_flight("o", "svd-batch") == 0


def test_async_hold_queues_only_when_asked():
    adm = _admission(concurrency=1)

    async def scenario() -> list[str]:
        log: list[str] = []

        async def holder() -> None:
            async with adm.hold("k", "stt-stream") as d:
                assert d.admitted
                log.append("held")
                await asyncio.sleep(0.1)
            log.append("released")

        async def rejected() -> None:
            async with adm.hold("k", "stt-stream") as d:
                log.append(f"second:{d.reason}")

        async def queued() -> None:
            async with adm.hold("k", "stt-stream", queue=True) as d:
                log.append(f"queued:{d.admitted}")

        task = asyncio.create_task(holder())
        await asyncio.sleep(0.01)
        await rejected()
        await asyncio.gather(task, queued())
        return log

    log = asyncio.run(scenario())
    assert log == ["held", "second:concurrency", "released", "queued:True"]
