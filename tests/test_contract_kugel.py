"""The KugelAudio clauses: table coverage, IDs, contradictions, operations."""

from __future__ import annotations

import re

import pytest

from harness import contract
from harness.client.schema import errors, validator
from harness.contract import kugel_api as api
from harness.contract.clauses import from_files
from harness.contract.model import Surface, Tier
from harness.contract.sources import (
    KUGEL_ASYNCAPI,
    KUGEL_ERRORS_PAGE,
    KUGEL_ERRORS_SPEC,
    KUGEL_OPENAPI,
)
from harness.contract.tables import (
    KUGEL_CLOSE_CODES,
    KUGEL_ERROR_CODES,
    KUGEL_ERROR_FIELDS,
    KUGEL_ERRORS,
)
from harness.contract.tables_kugel import PAYLOAD_CODE, slug

CLAUSES = from_files("kugel_errors", "kugel_http", "kugel_ws")
BY_ID = {c.id: c for c in CLAUSES}
KUGEL_SURFACES = {Surface.KUGEL_HTTP, Surface.KUGEL_WS, Surface.KUGEL}
THIRD_PARTY = {KUGEL_ASYNCAPI, KUGEL_ERRORS_SPEC}


def _documents(clause) -> set[str]:
    docs = {s.document for s in clause.sources}
    for alt in clause.alternatives:
        docs |= {s.document for s in alt.sources}
    return docs


def test_catalog_has_no_problems_for_kugel_clauses():
    assert contract.problems(CLAUSES) == []


def test_kugel_clauses_are_in_the_catalog():
    ids = contract.ids()
    assert {c.id for c in CLAUSES} <= ids
    for c in CLAUSES:
        assert contract.get(c.id) is c


def test_surfaces_are_kugel_only():
    assert {c.surface for c in CLAUSES} == KUGEL_SURFACES


def test_clause_count_is_in_the_expected_range():
    assert 60 <= len(CLAUSES) <= 95


@pytest.mark.parametrize("row", KUGEL_ERRORS, ids=lambda r: f"{r.status}-{r.message}")
def test_every_payload_row_is_an_outcome(row):
    matches = [
        c
        for c in CLAUSES
        for o in c.acceptable()
        if (o.status, o.error_code, o.detail) == (row.status, row.error_code, row.message)
    ]
    assert matches, f"no clause keeps {row}"


@pytest.mark.parametrize("row", KUGEL_ERRORS, ids=lambda r: f"{r.status}-{r.message}")
def test_every_payload_row_has_its_own_clause(row):
    clause = BY_ID[f"kugel-http/{slug(row.message)}"]
    assert clause.surface is Surface.KUGEL_HTTP
    assert clause.tier is Tier.MUST
    (outcome,) = clause.acceptable()
    assert (outcome.status, outcome.error_code, outcome.detail) == (
        row.status,
        row.error_code,
        row.message,
    )
    assert any(s.document == KUGEL_ERRORS_PAGE for s in clause.sources)
    assert "error-shape" in clause.tags


@pytest.mark.parametrize("code", sorted(KUGEL_CLOSE_CODES))
def test_every_close_code_row_has_its_own_clause(code):
    error_code, _meaning = KUGEL_CLOSE_CODES[code]
    clause = BY_ID[f"kugel-ws/close-{code}"]
    assert clause.surface is Surface.KUGEL_WS
    assert clause.tier is Tier.MUST
    # the close code is the promise; the frame (conditional on the page) names the row
    assert any(
        o.close_code == code and error_code in (o.behaviour or "") for o in clause.acceptable()
    )
    assert clause.wording is Tier.INFO
    assert {"close-code", "websocket"} <= set(clause.tags)


def test_payload_slugs_are_unique_and_stable():
    slugs = [slug(r.message) for r in KUGEL_ERRORS]
    assert len(set(slugs)) == len(slugs) == 20
    assert slug("Voice not found") == "voice-not-found"
    assert slug("Model overloaded, please try again later.") == "model-overloaded"
    assert (
        slug("The requested model is temporarily unavailable. Please try again shortly.")
        == "requested-model-is-temporarily-unavailable"
    )
    for expected in (
        "kugel-http/voice-not-found",
        "kugel-http/invalid-json-body",
        "kugel-http/request-exceeds-maximum-character-limit",
        "kugel-ws/close-4029",
        "kugel-ws/close-4000",
    ):
        assert expected in BY_ID


def test_close_rows_carry_the_http_style_payload_code():
    clause = BY_ID["kugel-ws/close-4029"]
    (outcome,) = clause.outcomes
    assert "code 429" in outcome.behaviour
    assert PAYLOAD_CODE == {
        "VALIDATION_ERROR": 400,
        "UNAUTHORIZED": 401,
        "INSUFFICIENT_CREDITS": 402,
        "NOT_FOUND": 404,
        "RATE_LIMITED": 429,
        "INTERNAL_ERROR": 500,
        "MODEL_UNAVAILABLE": 503,
    }


def test_disputed_clauses_and_their_contradictions():
    disputed = {c.id: c for c in CLAUSES if c.disputed}
    assert {c.contradiction for c in disputed.values()} == {13, 14, 15, 19}
    assert all(c.rationale for c in disputed.values())
    # every contradiction number appears on exactly one clause, except row 15, which
    # disputes every malformed-request clause (one side for all of them)
    numbers = [c.contradiction for c in disputed.values() if c.contradiction != 15]
    assert len(numbers) == len(set(numbers))
    row15 = {cid for cid, c in disputed.items() if c.contradiction == 15}
    assert row15 == {
        "kugel-http/validation-failure",
        "kugel-http/invalid-request",
        "kugel-http/invalid-json-body",
        "kugel-http/text-required",
        "kugel-http/tts-request-limits",
        "kugel-http/closed-request-bodies",
        "kugel-http/paging-limits",
    }
    for cid in row15:
        c = disputed[cid]
        assert [a.key for a in c.alternatives] == ["400-envelope", "422-fastapi"], cid
        assert c.preferred == "400-envelope" and c.spec_side == "422-fastapi", cid
    # no other MUST kugel-http clause accepts a 422 outside a dispute
    for c in CLAUSES:
        if c.tier is Tier.MUST and not c.disputed:
            assert all(o.status != 422 for o in c.outcomes), c.id
    # only disputed clauses carry a contradiction number
    assert all(c.contradiction is None for c in CLAUSES if not c.disputed)


def test_contradiction_13_prefers_documented_unauthorized():
    clause = BY_ID["kugel-http/forbidden"]
    assert clause.contradiction == 13
    assert clause.preferred == "UNAUTHORIZED"
    (preferred,) = clause.acceptable()
    assert (preferred.status, preferred.error_code, preferred.detail) == (
        403,
        "UNAUTHORIZED",
        "Forbidden",
    )
    (other,) = clause.acceptable("FORBIDDEN")
    assert (other.status, other.error_code) == (403, "FORBIDDEN")
    assert "FORBIDDEN" not in KUGEL_ERROR_CODES


# (clause, contradiction row, preferred side, its (status, close_code, error_code), the other
# side, its codes): each row names the side we expect and keeps the documented other one.
PREFERRED_SIDES = [
    (
        "kugel-ws/insufficient-credits", 14,
        "close-4003", (None, 4003, "INSUFFICIENT_CREDITS"),
        "http-402", (402, None, "INSUFFICIENT_CREDITS"),
    ),
    (
        "kugel-http/validation-failure", 15,
        "400-envelope", (400, None, "VALIDATION_ERROR"),
        "422-fastapi", (422, None, None),
    ),
]  # fmt: skip


@pytest.mark.parametrize(
    ("clause_id", "row", "preferred", "codes", "other", "other_codes"), PREFERRED_SIDES
)
def test_a_contradiction_prefers_one_side_and_keeps_the_other(
    clause_id, row, preferred, codes, other, other_codes
):
    clause = BY_ID[clause_id]
    assert (clause.contradiction, clause.preferred) == (row, preferred)
    (pref,) = clause.acceptable()
    assert (pref.status, pref.close_code, pref.error_code) == codes
    (alt,) = clause.acceptable(other)
    assert (alt.status, alt.close_code, alt.error_code) == other_codes


def test_contradiction_14_leaves_plain_http_undisputed():
    http = BY_ID["kugel-http/insufficient-credits"]
    assert not http.disputed
    assert http.outcomes[0].status == 402


def test_contradiction_19_error_code_sets():
    clause = BY_ID["kugel/error-code-documented"]
    assert clause.contradiction == 19 and clause.preferred == "7-codes"
    assert clause.spec_side == "9-codes"

    def codes(key: str) -> set[str]:
        return {o.error_code for o in clause.acceptable(key) if o.error_code}

    assert codes("7-codes") == set(KUGEL_ERROR_CODES)
    assert codes("9-codes") - codes("7-codes") == {"MISSING_VOICE_ID", "TOO_MANY_CONTEXTS"}
    # a FastAPI 422 body (row 15) has no error_code and keeps either side
    for key in ("7-codes", "9-codes"):
        assert any(o.status == 422 for o in clause.acceptable(key))


def test_contradiction_15_cites_each_document_on_its_side():
    clause = BY_ID["kugel-http/validation-failure"]
    (fastapi,) = clause.acceptable("422-fastapi")
    assert "detail" in fastapi.behaviour
    assert {s.document for s in clause.alternative("422-fastapi").sources} == {KUGEL_OPENAPI}
    assert KUGEL_ERRORS_PAGE in {s.document for s in clause.alternative("400-envelope").sources}


def test_clauses_resting_only_on_third_party_specs_are_not_must():
    for c in CLAUSES:
        docs = _documents(c)
        if docs and docs <= THIRD_PARTY:
            assert c.tier in (Tier.SHOULD, Tier.INFO), c.id


def test_websocket_protocol_clauses_are_not_must():
    # the message protocol is known only from the third-party AsyncAPI transcription
    for cid in (
        "kugel-ws/tts-request-cycle",
        "kugel-ws/tts-audio-chunk",
        "kugel-ws/tts-final",
        "kugel-ws/stream-turns",
        "kugel-ws/multi-context",
        "kugel-ws/auth-api-key-query",
    ):
        assert BY_ID[cid].tier is not Tier.MUST, cid


def test_error_shape_rules_exist():
    envelope = BY_ID["kugel/error-envelope"]
    assert envelope.surface is Surface.KUGEL and envelope.tier is Tier.MUST
    for field in ("`error`", "`error_code`", "`code`"):
        assert field in envelope.requirement
    assert BY_ID["kugel-http/code-matches-status"].tier is Tier.MUST
    documented = BY_ID["kugel/error-code-documented"]
    assert all(code in documented.requirement for code in KUGEL_ERROR_CODES)
    assert "retry_after" in BY_ID["kugel/no-retry-after-in-body"].requirement
    header = BY_ID["kugel-http/retry-after-header"]
    assert header.outcomes[0].header == "Retry-After"
    assert BY_ID["kugel-ws/close-code-separate"].tier is Tier.MUST
    assert "first" in BY_ID["kugel-ws/error-frame-before-close"].requirement


def test_auth_clauses_cover_the_three_ways_to_send_a_key():
    reqs = " ".join(c.requirement for c in CLAUSES if "auth" in c.tags)
    assert "Authorization: Bearer" in reqs
    assert "`x-api-key`" in reqs
    assert "`api_key`" in reqs


@pytest.mark.parametrize("op", api.REST_OPERATIONS, ids=lambda op: op.key)
def test_every_rest_operation_has_a_success_clause(op):
    clause = BY_ID[f"kugel-http/{op.key}"]
    assert clause.tier is Tier.MUST
    assert clause.outcomes[0].status == op.success_status
    assert f"{op.method} {op.path}" in clause.requirement
    assert any(op.operation_id in s.section for s in clause.sources)


@pytest.mark.parametrize("op", api.REST_OPERATIONS, ids=lambda op: op.key)
def test_not_found_messages_of_operations_are_documented_rows(op):
    messages = {r.message for r in KUGEL_ERRORS if r.status == 404}
    assert set(op.not_found) <= messages
    if op.path_params:
        assert op.not_found, f"{op.key} has path parameters but no not-found row"


def test_every_not_found_row_names_its_operations():
    for row in KUGEL_ERRORS:
        if row.status != 404:
            continue
        clause = BY_ID[f"kugel-http/{slug(row.message)}"]
        assert "Operations:" in clause.requirement
        assert "not-found" in clause.tags


def test_operations_match_documented_success_statuses():
    assert api.operation("tts-generate").success_status == 200
    assert api.operation("voice-create").success_status == 201
    assert api.operation("voice-delete").success_status == 204
    assert not api.operation("voice-delete").has_body
    # dictionary deletes answer 200 with {"deleted": true}, unlike voice deletes
    assert api.operation("dictionary-delete").success_status == 200
    assert api.operation("dictionary-delete").response == "DeleteResponse"
    assert api.find_operation("post", "/v1/voices/{voice_id}/references").key == (
        "voice-reference-upload"
    )
    assert api.find_operation("GET", "/nowhere") is None
    with pytest.raises(KeyError, match="known"):
        api.operation("nope")


def test_operation_keys_and_paths_are_unique():
    keys = [op.key for op in api.REST_OPERATIONS]
    assert len(keys) == len(set(keys))
    pairs = [(op.method, op.path) for op in api.REST_OPERATIONS]
    assert len(pairs) == len(set(pairs))
    others = set(api.OTHER_OPERATIONS)
    assert not others & set(pairs)


def test_path_params_appear_in_paths():
    for op in api.REST_OPERATIONS:
        assert re.findall(r"{(\w+)}", op.path) == list(op.path_params), op.key


def test_websocket_channels_reference_known_messages():
    assert {c.path for c in api.WS_CHANNELS} == {"/ws/tts", "/ws/tts/stream", "/ws/tts/multi"}
    for channel in api.WS_CHANNELS:
        for name in channel.client_messages:
            assert api.WS_MESSAGES_BY_NAME[name].direction == "client"
        for name in channel.server_messages:
            assert api.WS_MESSAGES_BY_NAME[name].direction == "server"
    final = api.WS_MESSAGES_BY_NAME["finalWithUsage"]
    assert {"final", "chunks", "total_samples", "usage"} <= set(final.fields)
    chunk = api.WS_MESSAGES_BY_NAME["audioChunk"]
    assert {"audio", "idx", "sr", "samples"} <= set(chunk.fields)
    error = api.WS_MESSAGES_BY_NAME["errorFrame"]
    assert {"error", "error_code", "code"} <= set(error.fields)


def test_tags_come_from_the_agreed_vocabulary():
    vocabulary = {
        "auth",
        "error-shape",
        "rate-limit",
        "credits",
        "validation",
        "not-found",
        "internal",
        "overload",
        "close-code",
        "retry-after",
        "voices",
        "dictionaries",
        "references",
        "projects",
        "tts",
        "websocket",
        "platform-jobs",
    }
    for c in CLAUSES:
        assert c.tags, c.id
        assert set(c.tags) <= vocabulary, c.id


def test_requirements_quote_wire_values_from_the_tables():
    row = next(r for r in KUGEL_ERRORS if r.status == 503)
    clause = BY_ID[f"kugel-http/{slug(row.message)}"]
    assert f'"{row.message}"' in clause.requirement
    assert "retry-after" in clause.tags and "overload" in clause.tags


# ------------------------------------------------------------------ schemas


def _object_schemas(schema):
    """Every sub-schema of type object, depth first."""
    if isinstance(schema, dict):
        if schema.get("type") == "object":
            yield schema
        for value in schema.values():
            yield from _object_schemas(value)
    elif isinstance(schema, list):
        for value in schema:
            yield from _object_schemas(value)


def test_schemas_are_well_formed():
    from harness.contract import schemas_kugel as sk

    ids = [s["$id"] for s in sk.SCHEMAS.values()]
    assert len(ids) == len(set(ids))
    for name, schema in sk.SCHEMAS.items():
        assert schema["$schema"] == sk.DIALECT, name
        validator(schema)  # a valid draft 2020-12 document, or SchemaError
        assert schema["$id"].endswith(name), name
        for obj in _object_schemas(schema):
            assert set(obj.get("required", ())) <= set(obj.get("properties", {})), name


def test_error_schemas_follow_the_tables():
    from harness.contract import schemas_kugel as sk

    assert sk.ERROR_BODY["required"] == list(KUGEL_ERROR_FIELDS)
    assert sk.ERROR_BODY["properties"]["error_code"]["enum"] == list(KUGEL_ERROR_CODES)
    for row in KUGEL_ERRORS:
        body = {"error": row.message, "error_code": row.error_code, "code": row.status}
        assert errors(body, sk.ERROR_BODY) == [], row
        assert errors(body, sk.WS_ERROR_FRAME) == [], row
    bad = {"error": "x", "error_code": "FORBIDDEN", "code": 403, "retry_after": 3}
    problems = errors(bad, sk.ERROR_BODY)
    assert len(problems) == 2
    assert problems[0].startswith("$: ") and "retry_after" in problems[0]
    assert problems[1].startswith("$.error_code: 'FORBIDDEN' is not one of")
    frame_codes = sk.WS_ERROR_FRAME["properties"]["error_code"]["enum"]
    assert set(frame_codes) - set(KUGEL_ERROR_CODES) == set(api.TRANSCRIBED_ONLY_ERROR_CODES)


def test_request_and_message_schemas_follow_the_api_data():
    from harness.contract import schemas_kugel as sk

    text = sk.TTS_REQUEST["properties"]["text"]
    assert (text["minLength"], text["maxLength"]) == (1, api.TEXT_MAX_CHARS)
    assert sk.TTS_REQUEST["additionalProperties"] is False
    assert sk.WS_GENERATE_REQUEST["properties"]["sample_rate"]["enum"] == list(api.WS_SAMPLE_RATES)
    for name, schema in (
        ("generateRequest", sk.WS_GENERATE_REQUEST),
        ("audioChunk", sk.WS_AUDIO_CHUNK),
        ("finalWithUsage", sk.WS_FINAL),
        ("errorFrame", sk.WS_ERROR_FRAME),
    ):
        assert set(schema["properties"]) == set(api.WS_MESSAGES_BY_NAME[name].fields), name
    chunk = {"audio": "AAA=", "enc": "pcm_s16le", "idx": 0, "sr": 24000, "samples": 1}
    assert errors(chunk, sk.WS_AUDIO_CHUNK) == []
    assert "voices" in sk.VOICES_RESPONSE["required"]
