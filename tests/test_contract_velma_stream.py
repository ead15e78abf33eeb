"""The streaming clauses (stt-stream, svd-stream, pii-stream): IDs, disputes, close codes, wire strings."""

from __future__ import annotations

import pytest

from harness.audio import REFERENCED_CLAUSES
from harness.client.schema import errors as _errors
from harness.client.schema import validator
from harness.contract import Acceptable, Clause, Surface, Tier, all_clauses, get, ids, problems
from harness.contract import schemas_stream as SS
from harness.contract import sources as S
from harness.contract import tables as T
from harness.contract.tables import (
    CONTAINER_FORMATS,
    NO_CONTENT_CONFIDENCE,
    PII_END_PADDING_MS_DEFAULT,
    PII_START_PADDING_MS_DEFAULT,
    RAW_FORMAT_NAMES,
    VELMA_CLOSE_CODES,
)

CLAUSES = tuple(c for c in all_clauses() if c.surface.value in T.STREAM_SURFACES)
BY_ID = {c.id: c for c in CLAUSES}
SURFACES = ("stt-stream", "svd-stream", "pii-stream")

# IDs that fixtures refer to (harness.audio tags its fixtures with them).
REQUIRED_IDS = [i for i in REFERENCED_CLAUSES if i.split("/")[0] in SURFACES]

TAGS = {
    "auth",
    "admission",
    "quota",
    "query-params",
    "protocol",
    "end-of-stream",
    "schema",
    "close-code",
    "deepfake",
    "pii",
    "partials",
    "config-frame",
}


def _outcomes(c: Clause) -> tuple[Acceptable, ...]:
    return c.outcomes + tuple(o for a in c.alternatives for o in a.outcomes)


def _codes(c: Clause, choice: str | None = None) -> set[int]:
    outs = _outcomes(c) if choice == "any" else c.acceptable(choice)
    return {o.close_code for o in outs if o.close_code is not None}


# --- identity and soundness -------------------------------------------------


@pytest.mark.parametrize("clause_id", REQUIRED_IDS)
def test_required_ids_exist_here_and_in_the_catalog(clause_id):
    assert len(REQUIRED_IDS) >= 13  # the stream fixtures' clauses, not an empty filter
    assert clause_id in BY_ID
    assert clause_id in ids()
    assert get(clause_id) is BY_ID[clause_id]


def test_the_streaming_clauses_have_no_problems():
    assert problems(CLAUSES) == []
    assert len(CLAUSES) >= 60


def test_every_clause_is_on_a_streaming_surface_with_known_tags():
    for c in CLAUSES:
        assert c.surface.value in SURFACES, c.id
        assert c.surface.transport == "websocket"
        assert c.tags, f"{c.id} has no tag"
        assert set(c.tags) <= TAGS, f"{c.id}: unknown tags {set(c.tags) - TAGS}"


def test_shared_behaviours_exist_on_all_three_surfaces():
    shared = [
        "missing-key",
        "invalid-key",
        "model-not-enabled",
        "validation-unavailable",
        "monthly-quota",
        "concurrency-limit",
        "admission-immediate",
        "admission-at-handshake",
        "bad-query-params",
        "audio-format-values",
        "sample-rate-values",
        "num-channels-range",
        "raw-needs-rate-and-channels",
        "params-need-audio-format",
        "end-of-stream",
        "empty-binary-not-eos",
        "done-last",
        "done-duration",
        "error-shape",
        "error-before-close",
        "internal-error",
        "undecodable",
        "format-mismatch",
        "message-types",
        "documented-close-codes",
    ]
    for slug in shared:
        for s in SURFACES:
            assert f"{s}/{slug}" in BY_ID, f"{s}/{slug} missing"


def test_sources_cite_only_known_documents():
    for c in CLAUSES:
        docs = {s.document for s in c.sources} | {
            s.document for a in c.alternatives for s in a.sources
        }
        unknown = docs - S.ALL_DOCUMENTS
        assert not unknown, f"{c.id} cites {unknown}"


def test_each_surface_cites_its_own_spec():
    spec = {
        "stt-stream": S.STT_STREAM_SPEC,
        "svd-stream": S.SVD_STREAM_SPEC,
        "pii-stream": S.PII_STREAM_SPEC,
    }
    for c in CLAUSES:
        docs = {s.document for s in c.sources}
        others = {d for k, d in spec.items() if k != c.surface.value}
        assert not docs & others, f"{c.id} cites another surface's spec"


# --- disputes ---------------------------------------------------------------

# id -> (contradiction row, preferred key, all keys, close codes of the preferred side or None)
DISPUTES = {
    "stt-stream/missing-key": (5, "4001", {"4001", "4003"}, {4001}),
    "stt-stream/invalid-key": (5, "4001", {"4001", "4003"}, {4001}),
    "svd-stream/missing-key": (5, "4003", {"4001", "4003"}, {4003}),
    "svd-stream/invalid-key": (5, "4003", {"4001", "4003"}, {4003}),
    "pii-stream/missing-key": (5, "4003", {"4001", "4003"}, {4003}),
    "pii-stream/invalid-key": (5, "4003", {"4001", "4003"}, {4003}),
    "svd-stream/monthly-quota": (6, "4029", {"4029", "4003"}, {4029}),
    "svd-stream/concurrency-limit": (6, "4029", {"4029", "4003"}, {4029}),
    "svd-stream/container-input": (
        1,
        "containers-accepted",
        {"containers-accepted", "raw-only"},
        set(),
    ),
    "svd-stream/multichannel": (None, "1-8", {"1-8", "1-2"}, set()),
    "stt-stream/utterance-timing": (12, "start-duration", {"start-duration", "end-ms"}, set()),
    "pii-stream/redaction-markers": (11, "marker-tags", {"marker-tags", "entity-tags"}, set()),
}


def test_exactly_the_expected_clauses_are_disputed():
    assert {c.id for c in CLAUSES if c.disputed} == set(DISPUTES)


@pytest.mark.parametrize("clause_id", sorted(DISPUTES))
def test_each_dispute_has_its_row_and_preferred_side(clause_id):
    row, preferred, keys, codes = DISPUTES[clause_id]
    c = BY_ID[clause_id]
    assert c.contradiction == row
    assert c.preferred == preferred
    assert {a.key for a in c.alternatives} == keys
    assert c.rationale and c.rationale.strip().endswith(".")
    assert _codes(c) == codes
    assert not c.outcomes


def test_the_non_preferred_sides_carry_the_other_codes():
    assert _codes(BY_ID["stt-stream/invalid-key"], "4003") == {4003}
    assert _codes(BY_ID["svd-stream/invalid-key"], "4001") == {4001}
    assert _codes(BY_ID["svd-stream/monthly-quota"], "4003") == {4003}
    assert _codes(BY_ID["svd-stream/container-input"], "raw-only") == {1003}
    assert _codes(BY_ID["svd-stream/multichannel"], "1-2") == {1003}
    raw_only = BY_ID["svd-stream/container-input"].alternative("raw-only")
    assert S.TROUBLESHOOTING_PAGE in {s.document for s in raw_only.sources}


def test_monthly_quota_carries_the_credits_text_on_every_surface():
    for s in SURFACES:
        (o,) = BY_ID[f"{s}/monthly-quota"].acceptable()
        assert (o.close_code, o.message, o.detail) == (4029, "error", "Insufficient credits.")


def test_rate_limits_are_undisputed_off_svd():
    for s in ("stt-stream", "pii-stream"):
        for slug in ("monthly-quota", "concurrency-limit"):
            c = BY_ID[f"{s}/{slug}"]
            assert not c.disputed and _codes(c) == {4029}


# --- close codes ------------------------------------------------------------

# Where the pages or specs say each code applies.
APPLIES = {
    "stt-stream": {1000, 1003, 1011, 4001, 4002, 4003, 4029},
    "svd-stream": {1000, 1003, 1011, 4002, 4003, 4029},
    "pii-stream": {1000, 1003, 1011, 4002, 4003, 4029},
}


def test_the_per_surface_code_lists_match_the_table():
    for s, codes in APPLIES.items():
        assert set(T.STREAM_CLOSE_CODES[s]) == codes
        assert codes <= set(VELMA_CLOSE_CODES)
    assert set().union(*APPLIES.values()) == set(VELMA_CLOSE_CODES)


@pytest.mark.parametrize("surface", SURFACES)
def test_every_applicable_close_code_has_a_specific_clause(surface):
    found: set[int] = set()
    for c in CLAUSES:
        if c.surface.value == surface and not c.id.endswith("/documented-close-codes"):
            found |= _codes(c, "any")
    missing = APPLIES[surface] - found
    assert not missing, f"{surface}: no clause (besides the catch-all) yields {sorted(missing)}"


def test_4001_is_only_stt_preferred():
    for c in CLAUSES:
        if 4001 in _codes(c):
            assert c.surface is Surface.STT_STREAM, c.id


def test_every_documented_non_normal_close_is_preceded_by_an_error_message():
    for c in CLAUSES:
        for o in _outcomes(c):
            if o.close_code is None:
                continue
            if o.close_code == 1000:
                assert o.message == "done", c.id
            elif o.close_code == 4001:
                assert o.message is None, c.id  # no spec documents an error before 4001
            elif not c.id.endswith("/documented-close-codes"):
                assert o.message == "error", f"{c.id}: close {o.close_code} without error message"


@pytest.mark.parametrize("surface", SURFACES)
def test_query_errors_close_1003_and_audio_errors_close_4002(surface):
    for slug in (
        "bad-query-params",
        "sample-rate-values",
        "num-channels-range",
        "raw-needs-rate-and-channels",
        "params-need-audio-format",
        "audio-format-values",
    ):
        assert _codes(BY_ID[f"{surface}/{slug}"]) == {1003}, slug
    for slug in ("undecodable", "format-mismatch"):
        # 4002 is promised on deepfake streaming only; elsewhere any error close (not 1000)
        # keeps the MUST, and 4002 is a SHOULD of its own (<surface>/audio-error-4002)
        assert _codes(BY_ID[f"{surface}/{slug}"]) == ({4002} if surface == "svd-stream" else set())
        assert all(o.message == "error" for o in BY_ID[f"{surface}/{slug}"].outcomes), slug
    if surface != "svd-stream":
        clause = BY_ID[f"{surface}/audio-error-4002"]
        assert clause.tier is Tier.SHOULD and _codes(clause) == {4002}
    assert _codes(BY_ID[f"{surface}/internal-error"]) == {1011}
    assert _codes(BY_ID[f"{surface}/end-of-stream"]) == {1000}
    assert _codes(BY_ID[f"{surface}/model-not-enabled"]) == {4003}


# --- wire strings -----------------------------------------------------------

SPEC_AUDIO_FORMAT_STT = (
    "Invalid audio_format='mp4'. Valid values: ['aac', 'aiff', 'alaw', 'f32be', 'f32le', "
    "'f64be', 'f64le', 'flac', 'mp3', 'mulaw', 'ogg', 's16be', 's16le', 's24be', 's24le', "
    "'s32be', 's32le', 's8', 'u16be', 'u16le', 'u24be', 'u24le', 'u32be', 'u32le', 'u8', "
    "'wav', 'webm']"
)
SPEC_AUDIO_FORMAT_SVD = (
    "Invalid audio_format='mp2'. Valid values: ['3gp', '3gpp', 'aac', 'aiff', 'alaw', 'amr', "
    "'au', 'f32be', 'f32le', 'f64be', 'f64le', 'flac', 'm4a', 'mp3', 'mp4', 'mulaw', 'ogg', "
    "'opus', 's16be', 's16le', 's24be', 's24le', 's32be', 's32le', 's8', 'u16be', 'u16le', "
    "'u24be', 'u24le', 'u32be', 'u32le', 'u8', 'wav', 'webm', 'wma']"
)


def test_error_texts_rebuild_the_spec_examples():
    assert T.audio_format_error("stt-stream", "mp4") == SPEC_AUDIO_FORMAT_STT
    assert T.audio_format_error(Surface.PII_STREAM, "mp4") == SPEC_AUDIO_FORMAT_STT
    assert T.audio_format_error("svd-stream", "mp2") == SPEC_AUDIO_FORMAT_SVD
    assert T.sample_rate_error(50000) == (
        "Invalid sample_rate=50000. Valid values: [8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000]"
    )
    assert T.num_channels_error(12) == "Invalid num_channels=12. Must be between 1 and 8"


def test_audio_format_clauses_carry_the_spec_example_text():
    assert BY_ID["stt-stream/audio-format-values"].outcomes[0].detail == SPEC_AUDIO_FORMAT_STT
    assert BY_ID["svd-stream/audio-format-values"].outcomes[0].detail == SPEC_AUDIO_FORMAT_SVD
    assert BY_ID["svd-stream/audio-format-required"].outcomes[0].detail == (
        "audio_format query parameter is required. Example: audio_format=s16le&sample_rate=16000&num_channels=1"
    )
    assert BY_ID["svd-stream/format-mismatch"].outcomes[0].detail == (
        "Audio data does not match the declared audio_format."
    )
    assert BY_ID["stt-stream/config-frame-invalid"].outcomes[0].detail == "Invalid configuration."
    details = {o.detail for o in BY_ID["svd-stream/params-need-audio-format"].outcomes}
    assert "sample_rate and num_channels require audio_format to be specified" in details


def test_accepted_formats_per_surface():
    assert len(T.STREAM_AUDIO_FORMATS["stt-stream"]) == 27
    assert len(T.STREAM_AUDIO_FORMATS["pii-stream"]) == 27
    assert len(T.STREAM_AUDIO_FORMATS["svd-stream"]) == 35
    for s in SURFACES:
        assert set(RAW_FORMAT_NAMES) <= set(T.STREAM_AUDIO_FORMATS[s])
        assert set(CONTAINER_FORMATS[s]) <= set(T.STREAM_AUDIO_FORMATS[s])
    assert "opus" not in T.STREAM_AUDIO_FORMATS["stt-stream"]  # only via ogg/webm there


# --- spot checks ------------------------------------------------------------


def test_audio_format_is_optional_except_on_svd():
    assert "stt-stream/audio-format-optional" in BY_ID
    assert "pii-stream/audio-format-optional" in BY_ID
    assert "svd-stream/audio-format-optional" not in BY_ID
    assert _codes(BY_ID["svd-stream/audio-format-required"]) == {1003}


def test_svd_first_result_and_no_content():
    first = BY_ID["svd-stream/first-result"]
    assert first.tier is Tier.MUST
    assert "500" in first.requirement and "500" in first.outcomes[0].behaviour
    assert str(NO_CONTENT_CONFIDENCE) in BY_ID["svd-stream/no-content-confidence"].requirement
    assert "frame_count" in BY_ID["svd-stream/done-shape"].requirement
    assert set(T.SVD_VERDICTS) == {"synthetic", "non-synthetic", "no-content"}


def test_pii_padding_defaults_and_clip_framing():
    padding = BY_ID["pii-stream/redaction-padding"].requirement
    assert f"defaults to {PII_START_PADDING_MS_DEFAULT}" in padding
    assert f"to {PII_END_PADDING_MS_DEFAULT}" in padding
    assert T.PII_STREAM_FLAG_DEFAULTS["start_redaction_padding_ms"] == 100
    assert T.PII_STREAM_FLAG_DEFAULTS["end_redaction_padding_ms"] == 0
    assert "exactly one" in BY_ID["pii-stream/audio-follows-utterance"].requirement
    assert "trailing_redacted_audio" in BY_ID["pii-stream/trailing-audio"].requirement
    assert "redaction-ranges" in BY_ID["pii-stream/redaction-ranges"].id
    assert BY_ID["pii-stream/redaction-ranges"].tier is Tier.MUST


def test_stt_flags_partials_and_deepfake_threshold():
    assert T.STT_STREAM_FLAG_DEFAULTS["speaker_diarization"] is True
    assert not any(v for k, v in T.STT_STREAM_FLAG_DEFAULTS.items() if k != "speaker_diarization")
    assert "0.5 s" in BY_ID["stt-stream/deepfake-score-short"].requirement
    assert "partial_utterance" in T.SERVER_MESSAGE_TYPES["stt-stream"]
    assert "partial_utterance" not in T.SERVER_MESSAGE_TYPES["pii-stream"]
    assert {"partials"} <= set(BY_ID["stt-stream/partial-superseded"].tags)
    assert set(T.STT_CONFIG_FIELDS) >= {"custom_terms", "language", "partial_results"}


def test_open_questions_are_info_with_several_outcomes():
    for c in CLAUSES:
        if c.tier is Tier.INFO:
            assert len(c.outcomes) >= 2, (
                f"{c.id}: an open question needs each reading as an outcome"
            )


# --- message schemas (harness/contract/schemas_stream.py) -------------------


U = "d4e5f6a7-b8c9-4012-8def-345678901234"  # a well-formed utterance_uuid

# The specs' own example payloads.
SPEC_EXAMPLES = [
    (
        "stt-stream",
        "utterance",
        {
            "type": "utterance",
            "utterance": {
                "utterance_uuid": "b2c3d4e5-f6a7-8901-bcde-f12345678901",
                "text": "Bonjour, comment allez-vous?",
                "start_ms": 0,
                "duration_ms": 2800,
                "speaker": 1,
                "language": "fr",
                "emotion": None,
                "accent": None,
                "deepfake_score": None,
            },
        },
    ),
    (
        "stt-stream",
        "partial_utterance",
        {
            "type": "partial_utterance",
            "partial_utterance": {
                "text": "Hello, how are",
                "start_ms": 0,
                "speaker": 1,
                "emotion": None,
                "accent": None,
                "deepfake_score": None,
            },
        },
    ),
    ("stt-stream", "done", {"type": "done", "duration_ms": 45000}),
    ("stt-stream", "error", {"type": "error", "error": "Invalid configuration."}),
    (
        "svd-stream",
        "frame",
        {
            "type": "frame",
            "frame": {
                "start_time_ms": 0,
                "end_time_ms": 4000,
                "verdict": "synthetic",
                "confidence": 0.9732,
            },
        },
    ),
    ("svd-stream", "done", {"type": "done", "duration_ms": 12500, "frame_count": 10}),
    (
        "pii-stream",
        "utterance",
        {
            "type": "utterance",
            "utterance": {
                "utterance_uuid": "b2c3d4e5-f6a7-8901-bcde-f12345678901",
                "text": "Hello, my name is <pii:name></pii:name>.",
                "start_ms": 0,
                "duration_ms": 3000,
                "speaker": 1,
                "language": "en",
            },
            "redacted_audio": {"start_ms": 0, "duration_ms": 3000},
        },
    ),
    (
        "pii-stream",
        "utterance",
        {
            "type": "utterance",
            "utterance": {
                "utterance_uuid": "c3d4e5f6-a7b8-9012-cdef-234567890123",
                "text": "Yes.",
                "start_ms": 500,
                "duration_ms": 400,
                "speaker": 2,
                "language": "en",
            },
            "redacted_audio": None,
        },
    ),
    (
        "pii-stream",
        "done",
        {
            "type": "done",
            "duration_ms": 45000,
            "trailing_redacted_audio": {"start_ms": 43000, "duration_ms": 2000},
        },
    ),
    ("pii-stream", "done", {"type": "done", "duration_ms": 45000, "trailing_redacted_audio": None}),
]


def test_there_is_a_schema_for_every_server_message_type():
    for surface, types in T.SERVER_MESSAGE_TYPES.items():
        for t in types:
            schema = SS.server_schema(surface, t)
            assert schema["$schema"].endswith("2020-12/schema")
            validator(schema)  # a valid draft 2020-12 document, or SchemaError
            assert schema["properties"]["type"]["const"] == t
    with pytest.raises(KeyError, match="known"):
        SS.server_schema("svd-stream", "utterance")


@pytest.mark.parametrize(("surface", "kind", "payload"), SPEC_EXAMPLES)
def test_the_spec_examples_fit_the_schemas(surface, kind, payload):
    schema = SS.server_schema(surface, kind)
    assert _errors(payload, schema) == []


@pytest.mark.parametrize(
    ("surface", "kind", "payload"),
    [
        ("svd-stream", "frame", {"type": "frame", "frame": {"start_time_ms": 0, "end_time_ms": 4000,
                                                            "verdict": "fake", "confidence": 0.5}}),
        ("svd-stream", "frame", {"type": "frame", "frame": {"start_time_ms": 0, "end_time_ms": 4000,
                                                            "verdict": "no-content", "confidence": 1.5}}),
        ("svd-stream", "done", {"type": "done", "duration_ms": 10}),
        ("stt-stream", "utterance", {"type": "utterance", "utterance": {
            "utterance_uuid": U, "text": "", "start_ms": 0, "end_ms": 10, "speaker": 1,
            "language": "en", "emotion": None, "accent": None, "deepfake_score": None}}),
        ("stt-stream", "utterance", {"type": "utterance", "utterance": {
            "utterance_uuid": U, "text": "", "start_ms": 0, "duration_ms": 10, "speaker": 1,
            "language": "en", "emotion": None, "accent": None, "deepfake_score": 2}}),
        ("pii-stream", "utterance", {"type": "utterance", "utterance": {
            "utterance_uuid": U, "text": "x", "start_ms": 0, "duration_ms": 1, "speaker": 1,
            "language": "en"}}),
        ("pii-stream", "done", {"type": "done", "duration_ms": 1, "trailing_redacted_audio": {"start_ms": 0}}),
        ("stt-stream", "error", {"type": "error"}),
    ],
)  # fmt: skip
def test_broken_messages_do_not_fit(surface, kind, payload):
    schema = SS.server_schema(surface, kind)
    assert _errors(payload, schema) != []


def test_the_config_frame_schema():
    schema = SS.CLIENT_MESSAGES[("stt-stream", "config")]
    assert set(schema["properties"]) == set(T.STT_CONFIG_FIELDS)
    good = {
        "partial_results": True,
        "language": None,
        "custom_terms": ["Modulate", {"term": "Velma", "pronunciations": ["VEL-muh"]}],
    }
    assert _errors(good, schema) == []
    assert _errors({}, schema) == []
    assert _errors({"emotion_signal": "yes"}, schema) != []
    assert _errors({"custom_terms": [{"term": ""}]}, schema) != []
    assert _errors({"custom_terms": [{"term": "x", "definition": "d" * 257}]}, schema) != []
    assert _errors({"custom_terms": ["t"] * 1001}, schema) != []
