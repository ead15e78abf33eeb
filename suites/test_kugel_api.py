"""KugelAudio REST operations, authentication, request rules and the ``/ws/tts`` protocol.

One case per documented REST operation (success status and body shape), both REST key
headers, the request-body rules (with hypothesis-generated malformed JSON, wrong types,
missing ``text`` and oversized text), and the WebSocket request cycle: audio chunks,
then one ``final``, on a socket that stays open for the next request.
"""

from __future__ import annotations

import base64
import json
import uuid
from typing import Any

import pytest
from _examples import examples
from _kugel_helpers import (
    JSON_CT,
    REQ,
    ROWS,
    TTS,
    VOICE,
    body_of,
    call,
    cycle,
    errors,
    invalid_obs,
    is_fastapi,
    judge_ws,
    kind,
    multipart,
    new_dict,
    new_voice,
    ok,
    read,
    setup_ok,
    tone_wav,
    validation_side,
    ws_open,
)
from hypothesis import given
from hypothesis import strategies as st

from harness.checks import observe_http
from harness.client import schema
from harness.contract import kugel_api as api
from harness.contract import schemas_kugel as sk
from harness.not_tested import not_tested

HYPO = examples(8)


def _is_json(r: Any) -> bool:
    return "json" in r.headers.get("content-type", "")


def _has(body: Any, *keys: str) -> bool:
    return isinstance(body, dict) and all(k in body for k in keys)


def _judge_body(case: Any, r: Any, held: bool) -> None:
    case.judge(observe_http(r, behaviour=held, note=f"HTTP {r.status_code} {r.text[:160]!r}"))


def _word() -> str:
    return f"zq{uuid.uuid4().hex[:8]}"


# --------------------------------------------------------------------------- auth


@pytest.mark.clause("kugel-http/auth-bearer")
def test_auth_bearer(case):
    r = call(case, "GET", "/v1/voices", how="bearer")
    _judge_body(case, r, r.status_code != 401)


@pytest.mark.clause("kugel-http/auth-x-api-key")
def test_auth_x_api_key(case):
    r = call(case, "GET", "/v1/voices", how="x-api-key")
    _judge_body(case, r, r.status_code != 401)


# --------------------------------------------------------------------------- TTS and models


@pytest.mark.clause("kugel-http/tts-generate")
def test_tts_generate(case):
    r = call(case, "POST", TTS, json_body={"text": "Hello there.", "voice_id": VOICE})
    audio = r.content
    _judge_body(case, r, ok(r) and not _is_json(r) and len(audio) > 0 and len(audio) % 2 == 0)


@pytest.mark.clause("kugel-http/models-list")
def test_models_list(case):
    r = call(case, "GET", "/v1/models")
    body = body_of(r)
    models = body.get("models") if isinstance(body, dict) else None
    held = isinstance(models, list) and all(isinstance(m, dict) and "id" in m for m in models)
    _judge_body(case, r, held)


# --------------------------------------------------------------------------- voices


@pytest.mark.clause("kugel-http/voices-list")
def test_voices_list(case):
    r = call(case, "GET", "/v1/voices?limit=2&offset=0")
    body = body_of(r)
    held = (
        schema.fits(body, sk.VOICES_RESPONSE)
        and _has(body, "voices", "total", "limit", "offset")
        and len(body["voices"]) <= 2
    )
    _judge_body(case, r, held)


@pytest.mark.clause("kugel-http/voice-create")
def test_voice_create(case):
    name = f"harness-{uuid.uuid4().hex[:8]}"
    r = call(case, "POST", "/v1/voices", json_body={"name": name})
    body = body_of(r)
    held = schema.fits(body, sk.VOICE_DETAIL_INFO) and _has(body, "is_public")
    _judge_body(case, r, held and body["name"] == name)


@pytest.mark.clause("kugel-http/voice-get")
def test_voice_get(case):
    r = call(case, "GET", f"/v1/voices/{VOICE}")
    _judge_body(case, r, schema.fits(body_of(r), sk.VOICE_INFO))


@pytest.mark.clause("kugel-http/voice-update")
def test_voice_update(case):
    v = new_voice(case)
    r = call(case, "PATCH", f"/v1/voices/{v}", json_body={"description": "updated"})
    body = body_of(r)
    held = schema.fits(body, sk.VOICE_DETAIL_INFO) and _has(body, "is_public")
    _judge_body(case, r, held and body.get("description") == "updated")


@pytest.mark.clause("kugel-http/voice-delete")
def test_voice_delete(case):
    v = new_voice(case)
    r = call(case, "DELETE", f"/v1/voices/{v}")
    _judge_body(case, r, r.content == b"")


@pytest.mark.clause("kugel-http/voice-publish")
def test_voice_publish(case):
    v = new_voice(case)
    r = call(case, "POST", f"/v1/voices/{v}/publish")
    body = body_of(r)
    held = schema.fits(body, sk.VOICE_DETAIL_INFO) and _has(body, "is_public")
    _judge_body(case, r, held and body["is_public"] is True)


@pytest.mark.clause("kugel-http/voice-generate-sample")
def test_voice_generate_sample(case):
    v = new_voice(case, reference=True)
    r = call(case, "POST", f"/v1/voices/{v}/generate-sample")
    _judge_body(case, r, isinstance(body_of(r), dict))


@pytest.mark.clause("kugel-http/voice-references-list")
def test_voice_references_list(case):
    v = new_voice(case, reference=True)
    r = call(case, "GET", f"/v1/voices/{v}/references")
    body = body_of(r)
    held = isinstance(body, list) and all(schema.fits(x, sk.VOICE_REFERENCE_INFO) for x in body)
    _judge_body(case, r, held)


@pytest.mark.clause("kugel-http/voice-reference-upload")
def test_voice_reference_upload(case):
    v = new_voice(case)
    r = multipart(
        case,
        f"/v1/voices/{v}/references",
        {"reference_text": "Hello."},
        {"file": ("ref.wav", tone_wav(), "audio/wav")},
    )
    _judge_body(case, r, schema.fits(body_of(r), sk.VOICE_REFERENCE_INFO))


@pytest.mark.clause("kugel-http/voice-reference-delete")
def test_voice_reference_delete(case):
    v = new_voice(case, reference=True)
    refs = body_of(call(case, "GET", f"/v1/voices/{v}/references")) or [{}]
    r = call(case, "DELETE", f"/v1/voices/{v}/references/{refs[0].get('id')}")
    _judge_body(case, r, r.content == b"")


# --------------------------------------------------------------------------- dictionaries


@pytest.mark.clause("kugel-http/dictionaries-list")
def test_dictionaries_list(case):
    new_dict(case)
    r = call(case, "GET", "/v1/dictionaries")
    body = body_of(r)
    _judge_body(case, r, _has(body, "dictionaries") and isinstance(body["dictionaries"], list))


@pytest.mark.clause("kugel-http/dictionary-create")
def test_dictionary_create(case):
    r = call(case, "POST", "/v1/dictionaries", json_body={"name": "harness", "language": "en"})
    _judge_body(case, r, _has(body_of(r), "id", "project_id", "name", "is_active"))


@pytest.mark.clause("kugel-http/dictionary-get")
def test_dictionary_get(case):
    d = new_dict(case)
    r = call(case, "GET", f"/v1/dictionaries/{d}")
    _judge_body(case, r, _has(body_of(r), "id", "name") and body_of(r)["id"] == d)


@pytest.mark.clause("kugel-http/dictionary-update")
def test_dictionary_update(case):
    d = new_dict(case)
    r = call(case, "PATCH", f"/v1/dictionaries/{d}", json_body={"is_active": False})
    _judge_body(case, r, _has(body_of(r), "id") and body_of(r).get("is_active") is False)


@pytest.mark.clause("kugel-http/dictionary-delete")
def test_dictionary_delete(case):
    d = new_dict(case)
    r = call(case, "DELETE", f"/v1/dictionaries/{d}")
    gone = call(case, "GET", f"/v1/dictionaries/{d}").status_code == 404
    _judge_body(case, r, isinstance(body_of(r), dict) and gone)


def _entry(case: Any, d: int) -> dict[str, Any]:
    r = call(
        case,
        "POST",
        f"/v1/dictionaries/{d}/entries",
        json_body={"word": _word(), "replacement": "x"},
    )
    setup_ok(r, "add dictionary entry")
    return r.json()


@pytest.mark.clause("kugel-http/dictionary-entries-list")
def test_dictionary_entries_list(case):
    d = new_dict(case)
    _entry(case, d)
    r = call(case, "GET", f"/v1/dictionaries/{d}/entries?limit=10")
    body = body_of(r)
    _judge_body(case, r, _has(body, "entries", "total") and len(body["entries"]) == 1)


@pytest.mark.clause("kugel-http/dictionary-entry-add")
def test_dictionary_entry_add(case):
    d = new_dict(case)
    word = _word()
    r = call(
        case, "POST", f"/v1/dictionaries/{d}/entries", json_body={"word": word, "replacement": "x"}
    )
    _judge_body(case, r, _has(body_of(r), "id", "word") and body_of(r)["word"] == word)


ENTRIES = [{"word": "zqalpha", "replacement": "alpha"}, {"word": "zqbeta", "replacement": "beta"}]


@pytest.mark.clause("kugel-http/dictionary-entries-replace")
def test_dictionary_entries_replace(case):
    d = new_dict(case)
    _entry(case, d)
    r = call(case, "PUT", f"/v1/dictionaries/{d}/entries", json_body={"entries": ENTRIES})
    _judge_body(case, r, _has(body_of(r), "upserted", "deleted", "total"))


@pytest.mark.clause("kugel-http/entries-replace-idempotent")
def test_entries_replace_idempotent(case):
    d = new_dict(case)
    path = f"/v1/dictionaries/{d}/entries"
    call(case, "PUT", path, json_body={"entries": ENTRIES})
    r = call(case, "PUT", path, json_body={"entries": ENTRIES})
    body = body_of(r)
    _judge_body(case, r, _has(body, "deleted") and body["deleted"] == 0)


@pytest.mark.clause("kugel-http/dictionary-entry-update")
def test_dictionary_entry_update(case):
    d = new_dict(case)
    e = _entry(case, d)
    r = call(
        case, "PATCH", f"/v1/dictionaries/{d}/entries/{e['id']}", json_body={"replacement": "y"}
    )
    _judge_body(case, r, _has(body_of(r), "id") and body_of(r).get("replacement") == "y")


@pytest.mark.clause("kugel-http/dictionary-entry-delete")
def test_dictionary_entry_delete(case):
    d = new_dict(case)
    e = _entry(case, d)
    r = call(case, "DELETE", f"/v1/dictionaries/{d}/entries/{e['id']}")
    _judge_body(case, r, isinstance(body_of(r), dict))


@pytest.mark.clause("kugel-http/project-scoping")
def test_project_scoping(case):
    d = new_dict(case)
    r = call(case, "GET", f"/v1/dictionaries/{d}", role="no_credits")  # another organisation
    case.judge(observe_http(r, note="a dictionary of another organisation's project"))


# --------------------------------------------------------------------------- request rules

LIMITS = {
    "empty-text": {"text": ""},
    "language-too-long": {"language": "x" * (api.LANGUAGE_MAX_CHARS + 1)},
    "temperature": {"temperature": api.TEMPERATURE_RANGE[1] + 0.5},
    "speed": {"speed": api.SPEED_RANGE[0] - 0.3},
    "max-new-tokens": {"max_new_tokens": api.MAX_NEW_TOKENS_RANGE[1] + 1},
    "dictionary-ids": {"dictionary_ids": list(range(1, api.DICTIONARY_IDS_MAX + 2))},
}


@pytest.mark.clause("kugel-http/tts-request-limits")
@pytest.mark.parametrize("what", sorted(LIMITS))
def test_tts_request_limits(case, what):
    r = call(case, "POST", TTS, json_body={"text": "Hello.", "voice_id": VOICE, **LIMITS[what]})
    case.judge(invalid_obs(r, f"{what}: HTTP {r.status_code}"))


CLOSED = {
    "tts": (TTS, "POST", {"text": "Hello.", "voice_id": VOICE, "colour": "blue"}),
    "dictionary-patch": (None, "PATCH", {"project_id": 1}),
    "entry": (None, "POST", {"word": "zq", "replacement": "x", "colour": "blue"}),
}


@pytest.mark.clause("kugel-http/closed-request-bodies")
@pytest.mark.parametrize("what", sorted(CLOSED))
def test_closed_request_bodies(case, what):
    path, method, body = CLOSED[what]
    if path is None:
        d = new_dict(case)
        path = f"/v1/dictionaries/{d}" + ("/entries" if what == "entry" else "")
    r = call(case, method, path, json_body=body)
    case.judge(invalid_obs(r, f"{what}: unknown field, HTTP {r.status_code}"))


@pytest.mark.clause("kugel-http/tts-cfg-scale-clamped")
def test_tts_cfg_scale_clamped(case):
    r = call(case, "POST", TTS, json_body={"text": "Hello.", "voice_id": VOICE, "cfg_scale": 9.0})
    _judge_body(case, r, ok(r) and not _is_json(r) and len(r.content) > 0)


@pytest.mark.clause("kugel-http/tts-text-over-limit")
def test_tts_text_over_limit(case):
    r = call(case, "POST", TTS, json_body={"text": "a" * (api.TEXT_MAX_CHARS + 1), "voice_id": 1})
    case.judge(invalid_obs(r, f"{api.TEXT_MAX_CHARS + 1} characters: HTTP {r.status_code}"))


@pytest.mark.clause("kugel-http/tts-missing-voice-id")
def test_tts_missing_voice_id(case):
    r = call(case, "POST", TTS, json_body={"text": "Hello."})
    case.judge(observe_http(r, behaviour=ok(r) and not _is_json(r), note=f"HTTP {r.status_code}"))


@pytest.mark.clause("kugel-http/tts-output-format")
def test_tts_output_format(case):
    r = call(
        case,
        "POST",
        TTS,
        json_body={
            "text": "Hello.",
            "voice_id": VOICE,
            "output_format": "ulaw_8000",
            "sample_rate": 24000,
        },
    )
    samples = r.headers.get("x-audio-samples")
    follows = ok(r) and samples is not None and len(r.content) == int(samples)  # 1 byte/sample
    if not follows:
        follows = r.status_code == 422 and is_fastapi(body_of(r))
    case.judge(observe_http(r, behaviour=follows, note=f"HTTP {r.status_code}, {samples} samples"))


@pytest.mark.clause("kugel-http/tts-dictionary-selection")
def test_tts_dictionary_selection(case):
    word = _word()
    d = new_dict(case)
    call(
        case,
        "POST",
        f"/v1/dictionaries/{d}/entries",
        json_body={"word": word, "replacement": "a much longer replacement phrase"},
    )

    def size(extra: dict[str, Any]) -> int:
        r = call(case, "POST", TTS, json_body={"text": word, "voice_id": VOICE, **extra})
        return len(r.content) if ok(r) else -1

    default, none, chosen = size({}), size({"dictionary_ids": []}), size({"dictionary_ids": [d]})
    held = none > 0 and default > none and chosen == default
    r = call(case, "POST", TTS, json_body={"text": word, "voice_id": VOICE})
    note = f"bytes: default {default}, [] {none}, [{d}] {chosen}"
    case.judge(observe_http(r, behaviour=held, note=note))


PAGING = {
    "voices-limit-0": "/v1/voices?limit=0",
    "voices-limit-101": f"/v1/voices?limit={api.VOICES_LIMIT_RANGE[1] + 1}",
    "voices-offset-negative": "/v1/voices?offset=-1",
    "entries-limit-501": "entries?limit=501",
    "entries-search-long": "entries?search=" + "s" * (api.ENTRIES_SEARCH_MAX_CHARS + 1),
}


@pytest.mark.clause("kugel-http/paging-limits")
@pytest.mark.parametrize("what", sorted(PAGING))
def test_paging_limits(case, what):
    path = PAGING[what]
    if path.startswith("entries"):
        path = f"/v1/dictionaries/{new_dict(case)}/{path}"
    r = call(case, "GET", path)
    case.judge(invalid_obs(r, f"{what}: HTTP {r.status_code}"))


@pytest.mark.clause("kugel-http/voice-not-owned")
def test_voice_not_owned(case):
    r = call(case, "PATCH", f"/v1/voices/{VOICE}", json_body={"description": "mine now"})
    case.judge(observe_http(r, note="PATCH of a public catalogue voice"))


@pytest.mark.clause("kugel-http/generate-sample-needs-reference")
def test_generate_sample_needs_reference(case):
    v = new_voice(case)
    r = call(case, "POST", f"/v1/voices/{v}/generate-sample")
    case.judge(observe_http(r, note="voice without a reference recording"))


# --------------------------------------------------------------------------- hypothesis bodies

# JSON has no NaN or infinity: a body holding one cannot be sent (the case would error).
_scalar = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(),
    st.floats(allow_nan=False, allow_infinity=False),
    st.text(max_size=5),
    st.lists(st.integers(), max_size=3),
)


def _broken_json() -> st.SearchStrategy[bytes]:
    good = json.dumps({"text": "Hello.", "voice_id": VOICE})
    cut = st.integers(1, len(good) - 1).map(lambda n: good[:n].encode())
    junk = st.binary(min_size=1, max_size=40).filter(lambda b: not _parses(b))
    return st.one_of(cut, junk)


def _parses(b: bytes) -> bool:
    try:
        json.loads(b.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return False
    return True


def _refused(r: Any) -> bool:
    return validation_side(r) is not None


@pytest.mark.clause("kugel-http/invalid-json-body")
def test_hypothesis_malformed_json(case):
    seen: list[Any] = []

    @HYPO
    @given(_broken_json())
    def probe(raw: bytes) -> None:
        seen.append((raw, call(case, "POST", TTS, content=raw, headers=JSON_CT)))

    probe()
    # Judge the first answer whose codes differ from the row; failing that, the first whose
    # (display-only) text differs, which the wording verdict records; else the last.
    row = ROWS["Invalid JSON body"]
    off = [
        (raw, r)
        for raw, r in seen
        if (r.status_code, _error_code(r)) != (row.status, row.error_code)
    ]
    odd = off or [(raw, r) for raw, r in seen if _error_text(r) != row.message]
    shown = odd[0][1] if odd else seen[-1][1]
    note = f"{len(seen)} bodies; unlike the row: {[(raw, r.status_code) for raw, r in odd[:3]]}"
    case.judge(invalid_obs(shown, note))  # the row, or the 422 side of contradiction 15


def _error_text(r: Any) -> Any:
    body = body_of(r)
    return body.get("error") if isinstance(body, dict) else None


def _error_code(r: Any) -> Any:
    body = body_of(r)
    return body.get("error_code") if isinstance(body, dict) else None


@pytest.mark.clause("kugel-http/validation-failure")
def test_hypothesis_wrong_types(case):
    seen: list[tuple[str, Any, Any]] = []
    typed = {
        "text": str,
        "temperature": float,
        "speed": float,
        "normalize": bool,
        "max_new_tokens": int,
        "dictionary_ids": list,
    }

    def wrong(field: str) -> st.SearchStrategy[Any]:
        t = typed[field]

        def bad(v: Any) -> bool:
            if v is None:
                return field != "dictionary_ids"  # the one nullable field here
            if t is float:
                return isinstance(v, bool) or not isinstance(v, int | float)
            if t is int:
                return isinstance(v, bool) or not isinstance(v, int)
            return not isinstance(v, t)

        return _scalar.filter(bad)

    @HYPO
    @given(st.sampled_from(sorted(typed)).flatmap(lambda f: st.tuples(st.just(f), wrong(f))))
    def probe(fv: tuple[str, Any]) -> None:
        f, v = fv
        body = {"text": "Hello.", "voice_id": VOICE, f: v}
        seen.append((f, v, call(case, "POST", TTS, json_body=body)))

    probe()
    misses = [(f, v, r.status_code) for f, v, r in seen if not _refused(r)]
    shown = next((r for f, v, r in seen if not _refused(r)), seen[-1][2])
    sides = {validation_side(r) for _, _, r in seen}
    side = sides.pop() if len(sides) == 1 else None
    note = f"{len(seen)} wrong-typed bodies; not refused as invalid: {misses[:3]}"
    case.judge(observe_http(shown, side=side, note=note))


@pytest.mark.clause("kugel-http/text-required")
def test_hypothesis_missing_text(case):
    seen: list[Any] = []
    extra = st.fixed_dictionaries(
        {}, optional={"voice_id": st.just(VOICE), "speed": st.just(1.0), "language": st.just("en")}
    )

    @HYPO
    @given(extra)
    def probe(body: dict[str, Any]) -> None:
        seen.append(call(case, "POST", TTS, json_body=body))

    probe()
    odd = [r for r in seen if _error_text(r) != "text required"]
    shown = odd[0] if odd else seen[-1]
    case.judge(invalid_obs(shown, f"{len(seen)} bodies without text"))  # row 15: 400 or 422


@pytest.mark.clause("kugel-http/request-exceeds-maximum-character-limit")
def test_hypothesis_oversized_text(case):
    limit = case.profile.kugel.limits.get("max_characters")
    if not isinstance(limit, int) or limit >= api.TEXT_MAX_CHARS:
        not_tested(
            "missing-limit",
            "the profile states no kugel.limits.max_characters below the schema limit",
        )
    seen: list[Any] = []

    @examples(4)
    @given(st.integers(limit + 1, api.TEXT_MAX_CHARS), st.sampled_from("ab .,"))
    def probe(n: int, ch: str) -> None:
        seen.append(call(case, "POST", TTS, json_body={"text": "x" + ch * (n - 1), "voice_id": 1}))

    probe()
    odd = [r for r in seen if r.status_code != 429]
    case.judge(observe_http(odd[0] if odd else seen[-1], note=f"{len(seen)} oversized texts"))


# --------------------------------------------------------------------------- WebSocket


def _finals(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in msgs if kind(m) == "final"]


def _chunks(msgs: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [m for m in msgs if kind(m) == "audio"]


@pytest.mark.clause("kugel-ws/auth-api-key-query")
def test_ws_auth_api_key_query(case):
    s = ws_open(case)
    msgs = cycle(s, REQ) if s.open else []
    held = s.result.handshake_status is None and bool(_finals(msgs))
    judge_ws(case, s.result, behaviour=held)


@pytest.mark.clause("kugel-ws/auth-bearer-handshake")
def test_ws_auth_bearer_handshake(case):
    key = case.key("valid", service="kugel")
    s = ws_open(case, role=None, headers={"Authorization": f"Bearer {key}"})
    msgs = cycle(s, REQ) if s.open else []
    held = s.result.handshake_status is None and bool(_finals(msgs))
    judge_ws(case, s.result, behaviour=held)


@pytest.mark.clause("kugel-ws/auth-failure-path")
def test_ws_auth_failure_path(case):
    s = ws_open(case, role="invalid")
    s.until_close(timeout_s=min(case.timeout_s, 5.0))
    judge_ws(case, s.result)


@pytest.mark.clause("kugel-ws/tts-request-cycle")
def test_ws_tts_request_cycle(case):
    s = ws_open(case)
    first = cycle(s, REQ)
    second = cycle(s, {**REQ, "text": "Again."}) if s.open else []

    def ok_cycle(msgs: list[dict[str, Any]]) -> bool:
        ks = [kind(m) for m in msgs]
        return bool(ks) and ks[-1] == "final" and ks.count("final") == 1 and "audio" in ks[:-1]

    held = ok_cycle(first) and ok_cycle(second) and s.open
    judge_ws(case, s.result, behaviour=held, note=f"{s.result.describe()}; still open")


@pytest.mark.clause("kugel-ws/tts-audio-chunk")
def test_ws_tts_audio_chunk(case):
    s = ws_open(case)
    chunks = _chunks(cycle(s, {**REQ, "sample_rate": 16000}))
    problems = []
    for i, c in enumerate(chunks):
        try:
            pcm = base64.b64decode(c.get("audio", ""), validate=True)
        except ValueError:
            pcm = b""
        if (
            not schema.fits(c, sk.WS_AUDIO_CHUNK)
            or c.get("idx") != i
            or c.get("sr") != 16000
            or c.get("samples") != len(pcm) // 2
        ):
            problems.append({k: c.get(k) for k in ("idx", "sr", "samples")} | {"bytes": len(pcm)})
    held = bool(chunks) and not problems
    judge_ws(case, s.result, behaviour=held, note=f"{len(chunks)} chunks; {problems[:2]}")


@pytest.mark.clause("kugel-ws/tts-final")
def test_ws_tts_final(case):
    s = ws_open(case)
    msgs = cycle(s, REQ)
    chunks, finals = _chunks(msgs), _finals(msgs)
    f = finals[-1] if finals else {}
    usage = f.get("usage") if isinstance(f.get("usage"), dict) else {}
    held = (
        schema.fits(f, sk.WS_FINAL)
        and f.get("chunks") == len(chunks)
        and f.get("total_samples") == sum(c.get("samples", 0) for c in chunks)
        and all(k in f for k in ("dur_ms", "gen_ms", "rtf"))
        and all(k in usage for k in ("audio_seconds", "characters", "currency", "model_id"))
    )
    judge_ws(case, s.result, behaviour=held, note=f"final {json.dumps(f)[:200]}")


WS_INVALID = {
    "no-text": {"voice_id": VOICE},
    "bad-sample-rate": {**REQ, "sample_rate": 44100},
    "no-voice": {"text": "Hello."},
}


@pytest.mark.clause("kugel-ws/tts-request-validation")
@pytest.mark.parametrize("what", sorted(WS_INVALID))
def test_ws_tts_request_validation(case, what):
    s = ws_open(case)
    msgs = cycle(s, WS_INVALID[what])
    errs = errors(s.result)
    code = errs[-1].get("code") if errs else None
    held = code == 400 and not _chunks(msgs)
    if what == "no-voice" and errs and errs[-1].get("error_code") == "MISSING_VOICE_ID":
        held = not _chunks(msgs)
    judge_ws(case, s.result, behaviour=held, note=f"{what}: frame {errs[-1:]}")


@pytest.mark.clause("kugel-ws/update-settings")
@pytest.mark.parametrize("what", ["sticky-field", "identity-field"])
def test_ws_update_settings(case, what):
    s = ws_open(case)
    upd = {"speed": 1.1} if what == "sticky-field" else {"voice_id": 2}
    s.send_json({"update_settings": upd})
    read(s, lambda new: bool(new))
    msgs = s.result.messages
    if what == "sticky-field":
        held = any(kind(m) == "settings_updated" for m in msgs)
    else:
        held = any(m.get("error_code") == "VALIDATION_ERROR" for m in msgs)
    judge_ws(case, s.result, behaviour=held, note=f"{what}: {msgs[-1:]}")


@pytest.mark.clause("kugel-ws/stream-turns")
def test_ws_stream_turns(case):
    s = ws_open(case, api.WS_STREAM_PATH)
    for m in ({"voice_id": VOICE, "sample_rate": 16000}, {"text": "Hel"}, {"text": "lo."}):
        s.send_json(m)
    msgs = cycle(s, {"flush": True})
    ks = [kind(m) for m in msgs]
    held = bool(ks) and ks[-1] == "final" and "audio" in ks and "usage" not in msgs[-1]
    judge_ws(case, s.result, behaviour=held, note=f"turn: {ks[-4:]}")


@pytest.mark.clause("kugel-ws/stream-controls")
def test_ws_stream_controls(case):
    s = ws_open(case, api.WS_STREAM_PATH)
    s.send_json({"voice_id": VOICE})
    s.send_json({"text": "dropped"})
    s.send_json({"cancel": True})
    s.send_json({"close": True})
    after = cycle(s, {"text": "Kept.", "flush": True})
    open_after_controls = s.open and bool(_finals(after))
    s.send_json({"close_socket": True})
    s.until_close(timeout_s=min(case.timeout_s, 5.0))
    held = open_after_controls and s.result.closed_by == "server"
    note = f"open after cancel/close: {open_after_controls}; close {s.result.close_code}"
    judge_ws(case, s.result, behaviour=held, note=note)


@pytest.mark.clause("kugel-ws/word-timestamps")
def test_ws_word_timestamps(case):
    s = ws_open(case)
    msgs = cycle(s, {**REQ, "word_timestamps": True})
    words = next((m["word_timestamps"] for m in msgs if kind(m) == "word_timestamps"), None)
    ms = isinstance(words, list) and all(_has(w, "start_ms", "end_ms") for w in words)
    judge_ws(case, s.result, behaviour=ms, note=f"items {str(words)[:160]}")


@pytest.mark.clause("kugel-ws/multi-context")
def test_ws_multi_context(case):
    s = ws_open(case, api.WS_MULTI_PATH)
    if s.open:
        for i in range(api.MULTI_MAX_CONTEXTS + 1):
            s.send_json({"context_id": f"c{i}", "text": "Hi.", "voice_id": VOICE})
        s.receive(until_close=False, timeout_s=0.5)
    judge_ws(case, s.result)  # the note: the session described
