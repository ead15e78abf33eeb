"""Authentication on every Velma-2 surface: the key, where it goes, and what a bad one gets.

REST surfaces take ``X-API-Key``; WebSocket surfaces take the ``api_key`` query
parameter and answer failures with an ``error`` message and a close code.
"""

from __future__ import annotations

from typing import Any

import pytest
from _params import surface_params
from _rest_helpers import json_body
from _stream_helpers import RAW16, judge_refused_at_once

from harness.checks import closed_at_once, observe_http, observe_ws
from harness.client.control import fault_header
from harness.client.ws import WsResult, WsSession
from harness.contract.tables import REST_SURFACES, STREAM_SURFACES, VELMA_PATHS
from harness.not_tested import not_tested

REST = REST_SURFACES
STREAM = STREAM_SURFACES
CLIP = "wav-pcm16-16000-1ch-2s"
CLIP_S = 2.0
# VFast: Opus is accepted on both documented sides of contradiction #7.
OK_FIXTURE = {
    "stt-batch": CLIP,
    "vfast-batch": "opus-48000-1ch-2s",
    "svd-batch": CLIP,
    "pii-batch": CLIP,
}
SILENCE_05S = bytes(16000)  # 0.5 s of s16le mono 16 kHz silence
REFUSED_WS = (4001, 4003, 4029)  # documented refusal close codes


def _detail(r: Any) -> str | None:
    body = json_body(r)
    if isinstance(body, dict) and isinstance(body.get("detail"), str):
        return body["detail"]
    return None


def _detail_only(r: Any) -> bool:
    """A `{"detail": str}` error body and nothing that looks like a processed result."""
    body = json_body(r)
    return (
        isinstance(body, dict)
        and isinstance(body.get("detail"), str)
        and not ({"text", "utterances", "duration_ms", "frames", "verdict"} & set(body))
    )


def _fastapi_names_header(r: Any) -> bool:
    """FastAPI 422 body: `detail` a list of {loc, msg, type}; one loc is ["header", "x-api-key"]."""
    body = json_body(r)
    if not isinstance(body, dict) or not isinstance(body.get("detail"), list):
        return False
    items = body["detail"]
    if not items or not all(
        isinstance(i, dict) and {"loc", "msg", "type"} <= set(i) for i in items
    ):
        return False
    return any(
        isinstance(i["loc"], list) and [str(p).lower() for p in i["loc"]] == ["header", "x-api-key"]
        for i in items
    )


def _refused_as_unauthenticated(r: Any) -> bool:
    return r.status_code == 401 or (r.status_code == 422 and _fastapi_names_header(r))


def _run(session: WsSession, chunks: list[bytes], timeout_s: float) -> WsResult:
    if session.open:
        session.stream(chunks)
        session.end_of_stream()
        session.until_close(timeout_s=timeout_s)
    session.close()
    return session.result


# --------------------------------------------------------------------------- REST


@pytest.mark.parametrize("surface", surface_params("auth-header", REST))
def test_rest_auth_header(case, surface):
    fixture_id = OK_FIXTURE[surface]
    r = case.upload(surface, case.fixture(fixture_id), audio_seconds=CLIP_S)
    ok = r.status_code == 200 and r.content != b""
    case.judge(observe_http(r, behaviour=ok, note=f"{fixture_id} with X-API-Key"))


@pytest.mark.parametrize("surface", surface_params("missing-key", REST))
def test_rest_missing_key(case, surface):
    r = case.upload(surface, case.fixture(CLIP), role=None)
    case.judge(observe_http(r, behaviour=_fastapi_names_header(r)))


@pytest.mark.parametrize("surface", surface_params("invalid-key", REST))
def test_rest_invalid_key(case, surface):
    r = case.upload(surface, case.fixture(CLIP), role="invalid")
    if r.status_code != 403:
        case.judge(observe_http(r))
        return
    # The 403 side: the detail must tell a bad key apart from a spent usage limit.
    q = case.upload(surface, case.fixture(CLIP), role="quota_exhausted")
    bad, usage = _detail(r), _detail(q)
    differs = bad is not None and (q.status_code != 403 or bad != usage)
    note = f"bad key: 403 {bad!r}; usage limit: {q.status_code} {usage!r}"
    case.judge(observe_http(r, behaviour=differs, note=note))


@pytest.mark.parametrize("surface", surface_params("model-not-enabled", REST))
def test_rest_model_not_enabled(case, surface):
    r = case.upload(surface, case.fixture(CLIP), role="no_model_access")
    case.judge(observe_http(r))


@pytest.mark.clause("velma/auth-http-header")
def test_velma_auth_http_header(case):
    surface = "vfast-batch"
    key = case.key("valid")
    fixture_id = OK_FIXTURE[surface]
    ok = case.upload(surface, case.fixture(fixture_id), audio_seconds=CLIP_S)
    http = case.http()
    path = VELMA_PATHS[surface]
    in_query = http.post(f"{path}?api_key={key}", files={"upload_file": case.fixture(fixture_id)})
    bearer = http.post(
        path,
        files={"upload_file": case.fixture(fixture_id)},
        headers={"Authorization": f"Bearer {key}"},
    )
    behaviour = (
        ok.status_code == 200
        and _refused_as_unauthenticated(in_query)
        and _refused_as_unauthenticated(bearer)
    )
    note = (
        f"key in the X-API-Key header -> {ok.status_code}; in the query string -> "
        f"{in_query.status_code}; as an Authorization bearer token -> {bearer.status_code}"
    )
    case.judge(observe_http(ok, behaviour=behaviour, note=note))


@pytest.mark.clause("velma/auth-header-casing")
def test_velma_auth_header_casing(case):
    surface = "vfast-batch"
    key = case.key("valid")
    fixture_id = OK_FIXTURE[surface]
    http = case.http()
    path = VELMA_PATHS[surface]
    case.charge(surface, 2 * CLIP_S)
    # httpx sends header names as given on HTTP/1.1, so the server sees these spellings.
    lower = http.post(
        path, files={"upload_file": case.fixture(fixture_id)}, headers={"x-api-key": key}
    )
    upper = http.post(
        path, files={"upload_file": case.fixture(fixture_id)}, headers={"X-API-KEY": key}
    )
    note = (
        f"header name sent lower-case -> {lower.status_code}, upper-case -> "
        f"{upper.status_code} (HTTP/1.1, names as sent)"
    )
    # Both sides' outcomes carry a status now (200 / 401), so the behaviour only says
    # whether the two spellings were treated alike.
    behaviour = lower.status_code == upper.status_code
    if not behaviour:
        note += "; the two spellings were treated differently"
    case.judge(observe_http(lower, behaviour=behaviour, note=note))


@pytest.mark.clause("velma/auth-missing-key")
def test_velma_auth_missing_key(case):
    r = case.upload("stt-batch", case.fixture(CLIP), role=None)
    case.judge(observe_http(r, behaviour=_fastapi_names_header(r), note="stt-batch"))


@pytest.mark.clause("velma/auth-invalid-key-401")
@pytest.mark.parametrize("surface", [s for s in REST_SURFACES if s != "svd-batch"])
def test_velma_auth_invalid_key_401(case, surface):
    # svd-batch is the documented exception (svd-batch/invalid-key).
    r = case.upload(surface, case.fixture(CLIP), role="invalid")
    case.judge(observe_http(r, behaviour=_detail_only(r), note=surface))


@pytest.mark.clause("velma/auth-forbidden-403")
@pytest.mark.parametrize("surface", REST)
def test_velma_auth_forbidden_403(case, surface):
    # The model-access cause; the spent-limit cause has per-surface disputes
    # (<surface>/monthly-quota), judged in test_quota.py.
    r = case.upload(surface, case.fixture(CLIP), role="no_model_access")
    case.judge(observe_http(r, behaviour=_detail_only(r), note=f"{surface}, model not enabled"))


@pytest.mark.clause("velma/forbidden-detail-distinguishes")
@pytest.mark.parametrize("surface", REST)
def test_velma_forbidden_detail_distinguishes(case, surface):
    model = case.upload(surface, case.fixture(CLIP), role="no_model_access")
    usage = case.upload(surface, case.fixture(CLIP), role="quota_exhausted")
    md, ud = _detail(model), _detail(usage)
    if usage.status_code == 403:
        behaviour = md is not None and ud is not None and md != ud
    else:
        behaviour = md is not None  # the usage limit is not a 403 here: nothing to confuse
    note = f"{surface}: model 403 {md!r}; usage limit {usage.status_code} {ud!r}"
    case.judge(observe_http(model, behaviour=behaviour, note=note))


@pytest.mark.clause("velma/forbidden-detail-model-access")
@pytest.mark.parametrize("surface", REST)
def test_velma_forbidden_detail_model_access(case, surface):
    r = case.upload(surface, case.fixture(CLIP), role="no_model_access")
    case.judge(observe_http(r, note=surface))


@pytest.mark.clause("velma/key-org-scope")
def test_velma_key_org_scope(case):
    # Needs two keys of one organisation; target profiles name one key per role
    # (valid, no_model_access, quota_exhausted, invalid), so there is no second key.
    case.key("valid")
    not_tested(
        "other", "needs a second key of the valid key's organisation; profiles have no such role"
    )


# --------------------------------------------------------------------------- WebSocket


@pytest.mark.parametrize("surface", surface_params("invalid-key", STREAM))
def test_stream_invalid_key(case, surface):
    judge_refused_at_once(case, surface, "invalid")


@pytest.mark.parametrize("surface", surface_params("missing-key", STREAM))
def test_stream_missing_key(case, surface):
    judge_refused_at_once(case, surface, None)


@pytest.mark.parametrize("surface", surface_params("model-not-enabled", STREAM))
def test_stream_model_not_enabled(case, surface):
    judge_refused_at_once(case, surface, "no_model_access")


@pytest.mark.parametrize("surface", surface_params("usage-denied", ("stt-stream", "svd-stream")))
def test_stream_usage_denied(case, surface):
    # The one denial other than quota or concurrency a profile can provoke: the
    # organisation may not use this model (a valid key, usage denied).
    note = "usage denied because the model is not enabled for the key's organisation"
    judge_refused_at_once(case, surface, "no_model_access", note)


@pytest.mark.parametrize("surface", surface_params("validation-unavailable", STREAM))
def test_stream_validation_unavailable(case, surface):
    case.emulator(provokes="an unavailable validation backend")
    fault = fault_header("validation-unavailable")
    session = case.ws(surface, RAW16, headers=fault)
    case.charge(surface, 0.5)
    result = _run(session, [SILENCE_05S], timeout_s=min(case.timeout_s, 5.0))
    case.judge(observe_ws(result, behaviour=closed_at_once(result)), aspect="close")


@pytest.mark.parametrize("surface", surface_params("key-in-query-only", STREAM))
def test_stream_key_in_query_only(case, surface):
    key = case.key("valid")
    missing = case.stream(surface, RAW16, [], role=None)
    session = case.ws(surface, RAW16, role=None, headers={"X-API-Key": key})
    case.charge(surface, 0.5)
    header_only = _run(session, [SILENCE_05S], timeout_s=min(case.timeout_s, 5.0))
    same_refusal = (
        header_only.handshake_status == missing.handshake_status
        and header_only.close_code == missing.close_code
        and header_only.close_code != 1000
    )
    accepted = header_only.close_code == 1000 and "done" in header_only.types
    if same_refusal:
        note = f"header-only key refused like a missing key ({header_only.describe()})"
    elif accepted:
        note = "header-only key accepted as if it were in the query"
    else:
        note = f"header-only key: {header_only.describe()}; no key: {missing.describe()}"
    obs = observe_ws(header_only, behaviour=same_refusal or accepted, note=note)
    case.judge(obs, aspect="close")


@pytest.mark.clause("velma/auth-ws-query")
def test_velma_auth_ws_query(case):
    surface = "stt-stream"
    key = case.key("valid")
    case.charge(surface, 1.0)
    good = case.stream(surface, RAW16, [SILENCE_05S])
    ran = good.close_code == 1000 and "done" in good.types
    late = case.ws(surface, RAW16, role=None)
    refused_at_once = late.result.handshake_status is not None
    if late.open:
        late.receive(until_close=False, timeout_s=0.3)  # an immediate refusal arrives now
        refused_at_once = late.result.close_code in REFUSED_WS
        # offer the key after the handshake, then audio: nothing may change
        late.send_json({"api_key": key})
        late.send_text(f'{{"X-API-Key": "{key}"}}')
        late.stream([SILENCE_05S])
        late.end_of_stream()
        late.until_close(timeout_s=min(case.timeout_s, 3.0))
    late.close()
    r = late.result
    no_results = not (set(r.types) - {"error"}) and not r.binary
    behaviour = ran and refused_at_once and no_results and r.close_code != 1000
    note = f"with api_key: {good.describe()}; without, key sent later: {r.describe()}"
    case.judge(observe_ws(r, behaviour=behaviour, note=note), aspect="close")
