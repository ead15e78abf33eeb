"""The emulator's benign variants (``[benign]``): config, rewording, and what goes out."""

from __future__ import annotations

import asyncio
import json
import time
from collections.abc import Iterator

import httpx
import pytest
from test_emulator_helpers import VALID, config, running
from websockets.asyncio.client import connect

from harness.contract import tables as T
from harness.emulator import RunningEmulator
from harness.emulator.benign import (
    BENIGN,
    EXTRA_ID,
    EXTRA_NOTE,
    REWORD_PREFIX,
    reword,
    transform_http,
    transform_ws,
)
from harness.emulator.config import ConfigError, load_config_dict
from harness.emulator.kugel.config import DEFAULT_KEYS
from harness.emulator.kugel.errors import ROWS
from harness.emulator.responses import DETAIL_CONCURRENCY, DETAIL_INVALID_KEY, DETAIL_TOO_LARGE

KUGEL = {"Authorization": f"Bearer {DEFAULT_KEYS['valid']}"}
ALL = sorted(BENIGN)


# --------------------------------------------------------------------------- config


def test_benign_table_parses_and_defaults_to_off():
    assert load_config_dict({}).benign.enabled == frozenset()
    cfg = load_config_dict({"benign": {"enabled": ["latency"], "latency_ms": 250}})
    assert cfg.benign.enabled == {"latency"} and cfg.benign.latency_s == 0.25
    assert load_config_dict({"benign": {"enabled": ["field-order"]}}).benign.latency_s == 0


@pytest.mark.parametrize(
    ("table", "field"),
    [
        ({"enabled": ["nosuch"]}, "benign.enabled"),
        ({"enabled": "latency"}, "benign.enabled"),
        ({"latency_ms": -1}, "benign.latency_ms"),
        ({"latency_ms": "100"}, "benign.latency_ms"),
        ({"other": 1}, "benign.other"),
    ],
)
def test_bad_benign_table_names_the_field(table, field):
    with pytest.raises(ConfigError) as exc:
        load_config_dict({"benign": table})
    assert str(exc.value).startswith(field)


def test_an_unknown_variant_lists_the_known_ones():
    with pytest.raises(ConfigError) as exc:
        load_config_dict({"benign": {"enabled": ["wrong-detail"]}})  # a deviation, not benign
    assert all(name in str(exc.value) for name in BENIGN)


# --------------------------------------------------------------------------- rewording

KNOWN_TEXTS = sorted(
    {
        *(
            getattr(T, n)
            for n in dir(T)
            if n.startswith("DETAIL_") and isinstance(getattr(T, n), str)
        ),
        *(getattr(T, n) for n in dir(T) if n.startswith("ERR_") and isinstance(getattr(T, n), str)),
        *ROWS,
        DETAIL_INVALID_KEY,
        DETAIL_CONCURRENCY,
        DETAIL_TOO_LARGE,
        T.audio_format_error("svd-stream", "mp2"),
        T.sample_rate_error(50000),
    }
)


@pytest.mark.parametrize("text", KNOWN_TEXTS)
def test_every_known_error_text_is_reworded_not_just_prefixed(text):
    new = reword(text)
    assert new != text and text.lower() not in new.lower(), new
    assert not new.startswith(REWORD_PREFIX), f"no synonym applies to {text!r}"


def test_rewording_keeps_echoed_values():
    text = T.audio_format_error("svd-stream", "invalid")
    new = reword(text)
    assert "'invalid'" in new and new.startswith("Malformed audio_format=")
    assert reword("zzz") == REWORD_PREFIX + "zzz"  # no synonym: still different


def test_http_rewording_keeps_codes_and_the_422_shape():
    cfg = load_config_dict({"benign": {"enabled": ["reworded-errors"]}}).benign
    kugel = {"error": "Voice not found", "error_code": "NOT_FOUND", "code": 404}
    out = transform_http(dict(kugel), 404, cfg)
    assert out["error_code"] == "NOT_FOUND" and out["code"] == 404
    assert out["error"] != kugel["error"]
    item = {
        "type": "missing",
        "loc": ["body", "upload_file"],
        "msg": "Field required",
        "input": None,
    }
    out = transform_http({"detail": [dict(item)]}, 422, cfg)
    assert isinstance(out["detail"], list) and len(out["detail"]) == 1
    assert {k: v for k, v in out["detail"][0].items() if k != "msg"} == {
        k: v for k, v in item.items() if k != "msg"
    } and out["detail"][0]["msg"] != "Field required"
    assert transform_http({"detail": "x"}, 200, cfg) == {"detail": "x"}  # not an error
    own = {"detail": "unknown fault", "emulator": True}
    assert transform_http(dict(own), 400, cfg) == own  # the emulator's own controls


def test_ws_reshaping_at_every_depth():
    cfg = load_config_dict({"benign": {"enabled": ["extra-fields", "field-order"]}}).benign
    msg = {"type": "utterance", "utterance": {"text": "a", "start_ms": 0}}
    out = transform_ws(msg, cfg)
    assert list(out)[-1] == "type" and EXTRA_NOTE in out and EXTRA_ID in out
    inner = out["utterance"]
    assert inner["text"] == "a" and EXTRA_NOTE in inner
    assert list(inner)[-2:] == ["start_ms", "text"]


# --------------------------------------------------------------------------- over the wire


@pytest.fixture(scope="module")
def every() -> Iterator[RunningEmulator]:
    with running(config({"benign": {"enabled": ALL, "latency_ms": 120}})) as e:
        yield e


def _velma_post(e: RunningEmulator, data: bytes) -> httpx.Response:
    url = e.base_url + T.VELMA_PATHS["stt-batch"]
    return httpx.post(url, headers={"X-API-Key": VALID}, files={T.UPLOAD_PART: ("a.wav", data)})


def test_rest_error_keeps_status_and_gets_every_variant(every):
    t0 = time.monotonic()
    r = _velma_post(every, b"")
    assert time.monotonic() - t0 >= 0.12  # latency
    assert r.status_code == 400
    assert int(r.headers["content-length"]) == len(r.content)
    body = r.json()
    assert body["detail"] != T.DETAIL_EMPTY and isinstance(body["detail"], str)
    assert EXTRA_NOTE in body and EXTRA_ID in body
    assert list(body)[-1] == "detail"  # reversed: detail came first


def test_kugel_error_keeps_error_code_and_code(every):
    r = httpx.get(every.base_url + "/v1/voices/nosuch", headers=KUGEL)
    body = r.json()
    assert r.status_code == 404 and body["error_code"] == "NOT_FOUND" and body["code"] == 404
    assert body["error"] != "Voice not found" and EXTRA_NOTE in body


def test_non_json_bodies_and_the_control_endpoint_are_untouched(every):
    r = httpx.post(every.base_url + "/v1/tts/generate", headers=KUGEL, json={"text": "hi"})
    assert r.status_code == 200 and not r.headers["content-type"].startswith("application/json")
    assert int(r.headers["content-length"]) == len(r.content)
    waits = []
    for _ in range(3):  # the quickest of three: a loaded machine may slow any one request
        t0 = time.monotonic()
        state = httpx.get(
            every.base_url + "/_emulator/state", headers={"X-Emulator-Token": every.token}
        )
        waits.append(time.monotonic() - t0)
    assert min(waits) < 0.12, waits  # no latency (120 ms) on the emulator's own controls
    assert state.status_code == 200 and EXTRA_NOTE not in state.json()


def test_streaming_handshake_waits_and_messages_change(every):
    async def go() -> tuple[float, list[dict], int | None]:
        url = every.base_url.replace("http", "ws", 1) + T.VELMA_PATHS["stt-stream"] + "?api_key=x"
        t0 = time.monotonic()
        async with connect(url) as ws:
            waited = time.monotonic() - t0
            got = []
            try:
                while True:
                    got.append(json.loads(await asyncio.wait_for(ws.recv(), 5)))
            except Exception:  # noqa: BLE001 - closed
                pass
            return waited, got, ws.close_code

    waited, got, code = asyncio.run(go())
    assert waited >= 0.12
    assert code == 4001 and len(got) == 1
    msg = got[0]
    assert msg["type"] == "error" and msg["error"] != DETAIL_INVALID_KEY and EXTRA_NOTE in msg
    assert list(msg)[-1] == "type"


def test_off_by_default_nothing_changes(emu):
    r = _velma_post(emu, b"")
    assert r.json() == {"detail": T.DETAIL_EMPTY}
