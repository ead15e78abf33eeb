"""KugelAudio TTS surfaces of the emulator, over real HTTP and WebSocket on loopback."""

from __future__ import annotations

import asyncio
import base64
import io
import json
from collections.abc import Iterator
from typing import Any

import httpx
import numpy as np
import pytest
import soundfile as sf
import websockets
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_emulator_helpers import config, running

from harness.client import schema
from harness.client.control import FAULT_HEADER, EmulatorControl, fault_header
from harness.contract import schemas_kugel as sk
from harness.contract.clauses import ALL_CLAUSES as CLAUSES
from harness.contract.tables import KUGEL_CLOSE_CODES, KUGEL_ERRORS
from harness.emulator import RunningEmulator
from harness.emulator.config import ConfigError, load_config_dict
from harness.emulator.kugel.config import DEFAULT_KEYS
from harness.emulator.wire import GENERATION_FAILED, OVERLOAD

VALID = DEFAULT_KEYS["valid"]
NO_CREDITS = DEFAULT_KEYS["no_credits"]
FORBIDDEN = DEFAULT_KEYS["forbidden"]
LIMITED = DEFAULT_KEYS["rate_limited"]
INVALID = DEFAULT_KEYS["invalid"]
ROWS = {r.message: r for r in KUGEL_ERRORS}


def control(e: RunningEmulator) -> EmulatorControl:
    return EmulatorControl(f"{e.base_url}/_emulator", e.token)


@pytest.fixture(scope="module")
def kemu() -> Iterator[RunningEmulator]:
    with running(config({"kugel": {"max_chars": 200}})) as e:
        yield e


@pytest.fixture(autouse=True)
def _reset(request: pytest.FixtureRequest) -> None:
    if "kemu" in request.fixturenames:
        e = request.getfixturevalue("kemu")
        assert control(e).reset()["switches"] == {"faults": [], "deviations": []}


def call(
    e: RunningEmulator,
    method: str,
    path: str,
    key: str | None = VALID,
    *,
    bearer: bool = True,
    headers: dict[str, str] | None = None,
    **kw: Any,
) -> httpx.Response:
    h = dict(headers or {})
    if key is not None:
        h.update({"Authorization": f"Bearer {key}"} if bearer else {"x-api-key": key})
    return httpx.request(method, e.base_url + path, headers=h, timeout=10, **kw)


def assert_row(r: httpx.Response, message: str, error_code: str | None = None) -> None:
    row = ROWS[message]
    assert r.status_code == row.status, r.text
    body = r.json()
    assert body == {
        "error": message,
        "error_code": error_code or row.error_code,
        "code": row.status,
    }
    assert "retry_after" not in body
    if error_code is None:  # a documented row (an alternative side may use another code)
        assert schema.errors(body, sk.ERROR_BODY) == []


def ws_url(e: RunningEmulator, path: str = "/ws/tts", key: str | None = VALID) -> str:
    base = e.base_url.replace("http://", "ws://") + path
    return f"{base}?api_key={key}" if key else base


async def ws_session(
    url: str, sends: list[Any], *, headers: dict[str, str] | None = None, until_final: int = 0
) -> tuple[list[dict[str, Any]], int | None]:
    """Send each message, collect JSON frames until close or ``until_final`` finals."""
    got: list[dict[str, Any]] = []
    async with websockets.connect(url, additional_headers=headers or {}, open_timeout=5) as ws:
        for m in sends:
            await ws.send(m if isinstance(m, str | bytes) else json.dumps(m))
        finals = 0
        try:
            while True:
                msg = json.loads(await asyncio.wait_for(ws.recv(), 5))
                got.append(msg)
                if msg.get("final"):
                    finals += 1
                    if until_final and finals >= until_final:
                        break
                if until_final == 0 and "error_code" in msg and len(got) >= len(sends):
                    pass
        except websockets.ConnectionClosed:
            pass
        except TimeoutError:
            pass
        code = ws.close_code
    return got, code


def run(coro: Any) -> Any:
    return asyncio.run(coro)


def wav_bytes() -> bytes:
    buf = io.BytesIO()
    sf.write(buf, np.zeros((1600, 1)), 16000, format="WAV", subtype="PCM_16")
    return buf.getvalue()


# ----------------------------------------------------------------------- REST success


def test_tts_generate_is_deterministic_pcm(kemu):
    r1 = call(kemu, "POST", "/v1/tts/generate", json={"text": "hello", "sample_rate": 16000})
    r2 = call(kemu, "POST", "/v1/tts/generate", json={"text": "hello", "sample_rate": 16000})
    r3 = call(kemu, "POST", "/v1/tts/generate", json={"text": "world", "sample_rate": 16000})
    assert r1.status_code == 200 and r1.headers["content-type"].startswith("audio/pcm")
    assert r1.content == r2.content != r3.content
    assert len(r1.content) == 2 * int(r1.headers["X-Audio-Samples"]) > 0
    assert np.abs(np.frombuffer(r1.content, "<i2")).max() > 1000


def test_auth_both_ways_and_401(kemu):
    assert call(kemu, "GET", "/v1/voices", bearer=True).status_code == 200
    assert call(kemu, "GET", "/v1/voices", bearer=False).status_code == 200
    assert_row(call(kemu, "GET", "/v1/voices", None), "Unauthorized")
    assert_row(call(kemu, "GET", "/v1/voices", INVALID), "Unauthorized")
    assert_row(call(kemu, "GET", "/v1/voices", "Bearer-less"), "Unauthorized")


def test_voice_and_reference_lifecycle(kemu):
    r = call(kemu, "POST", "/v1/voices", json={"name": "Mine"})
    assert r.status_code == 201, r.text
    vid = r.json()["id"]
    assert call(kemu, "GET", f"/v1/voices/{vid}").json()["name"] == "Mine"
    assert_row(call(kemu, "POST", f"/v1/voices/{vid}/generate-sample"), "Invalid request")
    up = call(
        kemu,
        "POST",
        f"/v1/voices/{vid}/references",
        files={"file": ("a.wav", wav_bytes())},
        data={"reference_text": "hi"},
    )
    assert up.status_code == 201, up.text
    ref = up.json()["id"]
    assert [x["id"] for x in call(kemu, "GET", f"/v1/voices/{vid}/references").json()] == [ref]
    assert call(kemu, "POST", f"/v1/voices/{vid}/generate-sample").status_code == 200
    assert call(kemu, "DELETE", f"/v1/voices/{vid}/references/{ref}").status_code == 204
    assert_row(call(kemu, "DELETE", f"/v1/voices/{vid}/references/{ref}"), "Reference not found")
    mp = call(
        kemu,
        "POST",
        "/v1/voices",
        data={"metadata": json.dumps({"name": "M2"})},
        files={"files": ("r.wav", wav_bytes())},
    )
    assert mp.status_code == 201, mp.text


def test_dictionary_crud_and_bulk_replace_idempotent(kemu):
    d = call(kemu, "POST", "/v1/dictionaries", json={"name": "brands"})
    assert d.status_code == 201, d.text
    did = d.json()["id"]
    e = call(
        kemu,
        "POST",
        f"/v1/dictionaries/{did}/entries",
        json={"word": "KA", "replacement": "Kugel Audio"},
    )
    assert e.status_code == 201
    eid = e.json()["id"]
    assert (
        call(kemu, "PATCH", f"/v1/dictionaries/{did}/entries/{eid}", json={"ipa": "ka"}).json()[
            "ipa"
        ]
        == "ka"
    )
    body = {"entries": [{"word": "a", "replacement": "b"}, {"word": "c", "replacement": "d"}]}
    first = call(kemu, "PUT", f"/v1/dictionaries/{did}/entries", json=body).json()
    again = call(kemu, "PUT", f"/v1/dictionaries/{did}/entries", json=body).json()
    assert first["deleted"] == 1 and again == {"upserted": 0, "deleted": 0, "total": 2}
    assert call(kemu, "GET", f"/v1/dictionaries/{did}/entries?search=c").json()["total"] == 1
    # a dictionary changes what is spoken
    plain = call(kemu, "POST", "/v1/tts/generate", json={"text": "a", "dictionary_ids": []})
    subst = call(kemu, "POST", "/v1/tts/generate", json={"text": "a", "dictionary_ids": [did]})
    assert plain.content != subst.content
    assert call(kemu, "DELETE", f"/v1/dictionaries/{did}").json() == {"deleted": True}
    assert_row(call(kemu, "GET", f"/v1/dictionaries/{did}"), "Dictionary not found")


# ----------------------------------------------------------------------- every payload row


def _row_responses(e: RunningEmulator) -> dict[str, httpx.Response]:
    did = call(e, "POST", "/v1/dictionaries", json={"name": "x"}).json()["id"]
    vid = call(e, "POST", "/v1/voices", json={"name": "v"}).json()["id"]
    call(e, "POST", f"/v1/voices/{vid}/references", files={"file": ("a.wav", wav_bytes())})
    fault = FAULT_HEADER
    tts = "/v1/tts/generate"
    out = {
        "Invalid request": call(e, "POST", tts, json={"text": "x", "speed": 9}),
        "Invalid JSON body": call(e, "POST", tts, content=b"{nope"),
        "text required": call(e, "POST", tts, json={"voice_id": 1}),
        "Unsupported audio format": call(e, "POST", f"/v1/voices/{vid}/references",
                                         files={"file": ("a.txt", b"not audio at all")}),
        "Invalid voice metadata": call(e, "POST", "/v1/voices", json={"description": "no name"}),
        "Unauthorized": call(e, "POST", tts, INVALID, json={"text": "x"}),
        "Insufficient credits": call(e, "POST", tts, NO_CREDITS, json={"text": "x"}),
        "Forbidden": call(e, "GET", "/v1/dictionaries?project_id=3"),
        "Voice not found": call(e, "GET", "/v1/voices/99"),
        "Dictionary not found": call(e, "GET", "/v1/dictionaries/424242"),
        "Entry not found": call(e, "DELETE", f"/v1/dictionaries/{did}/entries/777"),
        "Project not found": call(e, "GET", "/v1/dictionaries?project_id=4242"),
        "Reference not found": call(e, "DELETE", f"/v1/voices/{vid}/references/9999"),
        "Request exceeds the maximum character limit": call(e, "POST", tts, json={"text": "x" * 201}),
        "Audio generation failed": call(e, "POST", tts, json={"text": "x"},
                                        headers={fault: "generation-failed"}),
        "Sample generation failed": call(e, "POST", f"/v1/voices/{vid}/generate-sample",
                                         headers={fault: "sample-failed"}),
        "Failed to fetch voice": call(e, "GET", "/v1/voices/1", headers={fault: "fetch-voice-failed"}),
        "Model overloaded, please try again later.": call(e, "POST", tts, json={"text": "x"},
                                                          headers={fault: "overload"}),
        "The requested model is temporarily unavailable. Please try again shortly.": call(
            e, "POST", tts, json={"text": "x"}, headers={fault: "model-unavailable"}),
    }  # fmt: skip
    for _ in range(3):
        assert call(e, "GET", "/v1/voices", LIMITED).status_code == 200
    out["Rate limit exceeded"] = call(e, "GET", "/v1/voices", LIMITED)
    return out


def test_every_payload_row_reachable_with_exact_body(kemu):
    got = _row_responses(kemu)
    assert set(got) == set(ROWS)
    for message, r in got.items():
        assert_row(r, message)


def test_retry_after_header_where_timing_known(kemu):
    got = _row_responses(kemu)
    for message in (
        "Rate limit exceeded",
        "Model overloaded, please try again later.",
        "The requested model is temporarily unavailable. Please try again shortly.",
    ):
        value = got[message].headers.get("Retry-After")
        assert value is not None and value.isdigit() and 1 <= int(value) <= 10, message
    for r in got.values():
        assert "retry_after" not in r.json()


def test_forbidden_role_is_403_everywhere(kemu):
    for method, path in (("GET", "/v1/voices"), ("POST", "/v1/tts/generate")):
        assert_row(call(kemu, method, path, FORBIDDEN, json={"text": "x"}), "Forbidden")


def test_generic_overload_fault_is_the_overload_row(kemu):
    r = call(kemu, "POST", "/v1/tts/generate", json={"text": "x"}, headers=fault_header(OVERLOAD))
    assert_row(r, "Model overloaded, please try again later.")


def test_control_switches_turn_faults_on_until_reset(kemu):
    ctl = control(kemu)
    assert ctl.switches(faults=[GENERATION_FAILED])["switches"]["faults"] == [GENERATION_FAILED]
    assert_row(
        call(kemu, "POST", "/v1/tts/generate", json={"text": "x"}), "Audio generation failed"
    )
    ctl.reset()
    assert call(kemu, "POST", "/v1/tts/generate", json={"text": "x"}).status_code == 200
    with pytest.raises(httpx.HTTPStatusError) as bad:
        ctl.switches(faults=["x"])
    assert bad.value.response.status_code == 400


def test_one_control_endpoint_serves_every_family(kemu):
    """No KugelAudio-only control path; usage shows under ``kugel`` and reset clears it."""
    h = {"X-Emulator-Token": kemu.token}
    for name in ("state", "reset", "switches"):
        assert httpx.post(f"{kemu.base_url}/_emulator/kugel/{name}", headers=h).status_code == 404
    assert call(kemu, "POST", "/v1/tts/generate", json={"text": "abc"}).status_code == 200
    ctl = control(kemu)
    assert ctl.kugel_state()["used_chars"]["valid"] == 3
    assert set(ctl.state()["known_faults"][GENERATION_FAILED]) == {"kugel"}
    ctl.reset()
    assert ctl.kugel_state()["used_chars"]["valid"] == 0


# ----------------------------------------------------------------------- WebSocket


def test_ws_cycle_chunks_then_final_and_socket_reusable(kemu):
    req = {"text": "hi there", "voice_id": 1, "sample_rate": 16000, "word_timestamps": True}
    got, _ = run(ws_session(ws_url(kemu), [req, req], until_final=2))
    finals = [m for m in got if m.get("final")]
    assert len(finals) == 2
    first = got[: got.index(finals[0]) + 1]
    chunks = [m for m in first if "audio" in m]
    assert [c["idx"] for c in chunks] == list(range(len(chunks)))
    assert all(
        c["sr"] == 16000 and c["samples"] * 2 == len(base64.b64decode(c["audio"])) for c in chunks
    )
    assert finals[0]["chunks"] == len(chunks)
    assert finals[0]["total_samples"] == sum(c["samples"] for c in chunks)
    assert finals[0]["usage"]["characters"] == len(req["text"])
    assert any("word_timestamps" in m for m in first)
    assert all(schema.errors(c, sk.WS_AUDIO_CHUNK) == [] for c in chunks)
    assert all(schema.errors(f, sk.WS_FINAL) == [] for f in finals)


def test_ws_auth_header_and_query(kemu):
    got, _ = run(
        ws_session(
            ws_url(kemu, key=None),
            [{"text": "a", "voice_id": 1}],
            until_final=1,
            headers={"Authorization": f"Bearer {VALID}"},
        )
    )
    assert got[-1].get("final")


def _one_error(url: str, sends: list[Any], **kw: Any) -> tuple[list[dict[str, Any]], int | None]:
    return run(ws_session(url, sends, **kw))


@pytest.mark.parametrize(
    ("close", "key", "fault", "send"),
    [
        (4001, INVALID, None, None),
        (4003, NO_CREDITS, None, None),
        (4029, LIMITED, None, "many"),
        (4500, VALID, "overload", "one"),
        (4500, VALID, "model-unavailable", "one"),
        (4000, VALID, "generation-failed", "one"),
    ],
)
def test_ws_close_codes_follow_an_error_frame(kemu, close, key, fault, send):
    headers = fault_header(fault) if fault else {}
    req = {"text": "hey", "voice_id": 1}
    sends = [] if send is None else [req] * (4 if send == "many" else 1)
    got, code = _one_error(ws_url(kemu, key=key), sends, headers=headers)
    assert code == close
    error_code = KUGEL_CLOSE_CODES[close][0]
    frame = got[-1]
    assert set(frame) == {"error", "error_code", "code"} and frame["error_code"] == error_code
    assert frame["code"] == ROWS[frame["error"]].status and frame["code"] < 1000


def test_ws_validation_frames_keep_the_socket(kemu):
    sends = [
        "not json",
        {"voice_id": 1},
        {"text": "x", "voice_id": 1, "sample_rate": 44100},
        {"text": "x" * 201, "voice_id": 1},
        {"text": "x", "voice_id": 1},
    ]
    got, _ = _one_error(ws_url(kemu), sends, until_final=1)
    errs = [m for m in got if "error_code" in m]
    assert [m["error"] for m in errs] == [
        "Invalid request",
        "text required",
        "Invalid request",
        "Request exceeds the maximum character limit",
    ]
    assert got[-1].get("final")


def test_ws_stream_turns(kemu):
    sends = [
        {"voice_id": 1, "sample_rate": 16000},
        {"text": "hel"},
        {"text": "lo"},
        {"flush": True},
        {"text": "gone"},
        {"cancel": True},
        {"text": "x", "flush": True},
    ]
    got, _ = _one_error(ws_url(kemu, "/ws/tts/stream"), sends, until_final=2)
    finals = [m for m in got if m.get("final")]
    assert len(finals) == 2 and "usage" not in finals[0]
    assert finals[0]["total_samples"] > finals[1]["total_samples"]  # "hello" vs "x"


# ----------------------------------------------------------------------- alternatives


def test_alternative_403_forbidden_code():
    with running(config({"alternatives": {"kugel-http/forbidden": "FORBIDDEN"}})) as e:
        assert_row(call(e, "GET", "/v1/voices", FORBIDDEN), "Forbidden", "FORBIDDEN")
    with running(config()) as e:
        assert_row(call(e, "GET", "/v1/voices", FORBIDDEN), "Forbidden", "UNAUTHORIZED")


def test_alternative_ws_credits_402_at_upgrade():
    with running(config({"alternatives": {"kugel-ws/insufficient-credits": "http-402"}})) as e:
        with pytest.raises(websockets.InvalidStatus) as exc:
            run(ws_session(ws_url(e, key=NO_CREDITS), []))
        resp = exc.value.response
        assert resp.status_code == 402
        assert json.loads(resp.body) == {
            "error": "Insufficient credits",
            "error_code": "INSUFFICIENT_CREDITS",
            "code": 402,
        }


def test_alternative_validation_422_fastapi():
    with running(config({"alternatives": {"kugel-http/validation-failure": "422-fastapi"}})) as e:
        for body in ({"voice_id": 1}, {"text": "x", "speed": 3}):
            r = call(e, "POST", "/v1/tts/generate", json=body)
            assert r.status_code == 422 and isinstance(r.json()["detail"], list)
            assert {"loc", "msg", "type"} <= set(r.json()["detail"][0])
        r = call(e, "POST", "/v1/tts/generate", content=b"{")
        assert r.status_code == 422
        assert_row(call(e, "GET", "/v1/voices/99"), "Voice not found")  # not a validation row


# ----------------------------------------------------------------------- deviations


def _dev(name: str) -> dict[str, str]:
    return {"X-Emulator-Deviation": name}


def test_deviation_retry_after_in_body(kemu):
    h = {**_dev("kugel-retry-after-in-body"), **fault_header(OVERLOAD)}
    r = call(kemu, "POST", "/v1/tts/generate", json={"text": "x"}, headers=h)
    assert r.status_code == 503 and isinstance(r.json()["retry_after"], int)


def test_deviation_code_mismatch(kemu):
    r = call(kemu, "GET", "/v1/voices/99", headers=_dev("kugel-code-mismatch"))
    assert r.status_code == 404 and r.json()["code"] != 404
    got, code = _one_error(ws_url(kemu, key=INVALID), [], headers=_dev("kugel-code-mismatch"))
    assert code == 4001 and got[-1]["code"] == 4001


def test_deviation_forbidden_code_is_undocumented(kemu):
    r = call(kemu, "GET", "/v1/voices", FORBIDDEN, headers=_dev("kugel-forbidden-code"))
    assert r.status_code == 403
    assert r.json()["error_code"] not in {"UNAUTHORIZED", "FORBIDDEN"}


def test_deviation_no_error_frame(kemu):
    got, code = _one_error(ws_url(kemu, key=INVALID), [], headers=_dev("kugel-no-error-frame"))
    assert code == 4001 and got == []


def test_deviation_error_only(kemu):
    r = call(kemu, "GET", "/v1/voices/99", headers=_dev("kugel-error-only"))
    assert r.status_code == 404 and r.json() == {"error": "Voice not found"}


# ----------------------------------------------------------------------- config + catalog


def test_config_table_errors_name_the_field():
    for data, name in (
        ({"kugel": {"max_chars": 0}}, "kugel.max_chars"),
        ({"kugel": {"keys": {"admin": "k"}}}, "kugel.keys.admin"),
        ({"kugel": {"faults": ["boom"]}}, "kugel.faults"),
        ({"kugel": {"rate_limit": {"valid": -1}}}, "kugel.rate_limit.valid"),
    ):
        with pytest.raises(ConfigError, match=name.replace(".", r"\.")):
            load_config_dict(data)
    cfg = load_config_dict({"kugel": {"keys": {"valid": "k1"}, "credits": {"valid": 5}}})
    assert cfg.kugel.role_of("k1") == "valid" and cfg.kugel.credits["valid"] == 5


def test_example_config_documents_the_kugel_table():
    from pathlib import Path

    from harness.emulator.config import load_emulator_config

    cfg = load_emulator_config(Path(__file__).resolve().parents[1] / "examples" / "emulator.toml")
    assert cfg.kugel.key_for_role("valid")


def test_every_catalog_row_and_close_code_is_covered_here():
    ids = {c.id for c in CLAUSES}
    assert {f"kugel-ws/close-{c}" for c in KUGEL_CLOSE_CODES} <= ids
    assert len(ROWS) == len(KUGEL_ERRORS) == 20


# ----------------------------------------------------------------------- fuzz


@settings(
    max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    body=st.one_of(
        st.binary(max_size=64),
        st.recursive(
            st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=8),
            lambda c: (
                st.lists(c, max_size=3)
                | st.dictionaries(
                    st.sampled_from(
                        [
                            "text",
                            "voice_id",
                            "speed",
                            "sample_rate",
                            "output_format",
                            "dictionary_ids",
                            "x",
                        ]
                    ),
                    c,
                    max_size=4,
                )
            ),
            max_leaves=8,
        ).map(lambda v: json.dumps(v).encode()),
    )
)
def test_malformed_bodies_never_500(kemu, body):
    h = {"content-type": "application/json", "Authorization": f"Bearer {VALID}"}
    with httpx.Client(base_url=kemu.base_url, headers=h, timeout=10) as c:
        for path in ("/v1/tts/generate", "/v1/dictionaries", "/v1/voices"):
            r = c.post(path, content=body)
            assert r.status_code < 500, (path, body, r.text)
            if r.status_code >= 400:
                assert set(r.json()) == {"error", "error_code", "code"}
        assert c.get("/v1/voices").status_code == 200
