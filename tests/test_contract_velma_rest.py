"""The batch-endpoint clauses (harness/contract/clauses/batch_*.toml, *_batch.toml) are sound and complete."""

from __future__ import annotations

import re

import pytest

import harness.contract as contract
from harness.audio import REFERENCED_CLAUSES
from harness.contract import Clause, Surface, Tier
from harness.contract.tables import (
    CONTAINER_FORMATS,
    DETAIL_EMPTY,
    DETAIL_INSUFFICIENT_CREDITS,
    DETAIL_INVALID_LANGUAGE_TEMPLATE,
    DETAIL_TOO_SHORT,
    DETAIL_UNPROCESSABLE,
    DETAIL_UNSUPPORTED_COMMON,
    DETAIL_UNSUPPORTED_SVD,
    LANGUAGE_PATTERN,
    NO_CONTENT_CONFIDENCE,
    REST_STATUSES,
    REST_SURFACES,
    STT_BATCH_FLAG_DEFAULTS,
    SVD_VERDICTS,
)

BATCH = (Surface.STT_BATCH, Surface.VFAST_BATCH, Surface.SVD_BATCH, Surface.PII_BATCH)

# IDs that fixtures refer to (harness.audio tags its fixtures with them).
REQUIRED_IDS = tuple(i for i in REFERENCED_CLAUSES if Surface(i.split("/")[0]) in BATCH)

# clause id -> (contradiction row, preferred key, statuses the preferred side accepts)
DISPUTED = {
    "svd-batch/concurrency-limit": (2, "403", {403}),
    "stt-batch/monthly-quota": (3, "429", {429}),
    "vfast-batch/monthly-quota": (3, "429", {429}),
    "svd-batch/monthly-quota": (3, "403", {403}),
    "pii-batch/monthly-quota": (3, "429", {429}),
    "svd-batch/invalid-key": (4, "403", {403}),
    "vfast-batch/container-formats": (7, "containers", {200}),
    "svd-batch/empty-file": (9, "400-empty", {400}),
    "svd-batch/metadata-only": (9, "422-too-short", {422}),
    "pii-batch/redaction-text": (11, "empty-markers", {200}),
    "stt-batch/utterance-timing": (12, "start-duration", {200}),
    **{f"{s}/missing-key": (16, "422", {422}) for s in ("stt-batch", "vfast-batch", "pii-batch")},
    "svd-batch/missing-key": (16, "422", {422}),
    **{f"{s}/invalid-key": (17, "401", {401}) for s in ("stt-batch", "vfast-batch", "pii-batch")},
}
# clause id -> the side the published spec file takes (Alternative.spec_literal)
SPEC_SIDE = {
    "svd-batch/concurrency-limit": None,  # the spec's 429 is about credits only
    **{f"{s}/monthly-quota": "429" for s in ("stt-batch", "vfast-batch", "svd-batch", "pii-batch")},
    "svd-batch/invalid-key": "403",
    "vfast-batch/container-formats": "containers",
    "svd-batch/empty-file": "400-empty",
    "svd-batch/metadata-only": "422-too-short",
    "pii-batch/redaction-text": "empty-markers",
    "stt-batch/utterance-timing": "start-duration",
    **{f"{s}/missing-key": "422" for s in ("stt-batch", "vfast-batch", "svd-batch", "pii-batch")},
    **{f"{s}/invalid-key": "403" for s in ("stt-batch", "vfast-batch", "pii-batch")},
}

TAGS = {
    "auth",
    "admission",
    "quota",
    "audio-validation",
    "schema",
    "timeout",
    "overload",
    "server-error",
    "error-shape",
    "deepfake",
    "pii",
    "request-fields",
}

REST_CLAUSES = tuple(c for c in contract.all_clauses() if c.surface.value in REST_SURFACES)


def _all_outcomes(clause: Clause):
    return clause.acceptable("any")


def _surface_outcomes(surface: Surface):
    return [o for c in REST_CLAUSES if c.surface == surface for o in _all_outcomes(c)]


def test_required_ids_are_in_the_catalog() -> None:
    assert len(REQUIRED_IDS) >= 20  # the batch fixtures' clauses, not an empty filter
    missing = [i for i in REQUIRED_IDS if i not in contract.ids()]
    assert not missing, f"missing clause IDs: {missing}"


def test_the_module_only_covers_the_four_batch_surfaces() -> None:
    assert {c.surface for c in REST_CLAUSES} == set(BATCH)
    assert all(c.id.startswith(f"{c.surface.value}/") for c in REST_CLAUSES)


def test_catalog_reports_no_problem_for_these_clauses() -> None:
    assert contract.problems(REST_CLAUSES) == []
    mine = {c.id for c in REST_CLAUSES}
    assert [p for p in contract.problems() if any(repr(i) in p for i in mine)] == []


def test_every_clause_is_in_the_catalog() -> None:
    for clause in REST_CLAUSES:
        assert contract.get(clause.id) is clause


def test_tags_come_from_the_agreed_set() -> None:
    for clause in REST_CLAUSES:
        assert clause.tags, clause.id
        assert set(clause.tags) <= TAGS, (clause.id, clause.tags)


@pytest.mark.parametrize("clause_id", sorted(DISPUTED))
def test_disputed_clause(clause_id: str) -> None:
    row, preferred, statuses = DISPUTED[clause_id]
    clause = contract.get(clause_id)
    assert clause.disputed
    assert clause.contradiction == row
    assert clause.preferred == preferred
    assert {o.status for o in clause.acceptable()} == statuses
    assert clause.rationale


def test_no_other_clause_is_disputed() -> None:
    assert {c.id for c in REST_CLAUSES if c.disputed} == set(DISPUTED) == set(SPEC_SIDE)


@pytest.mark.parametrize("clause_id", sorted(SPEC_SIDE))
def test_spec_literal_side(clause_id: str) -> None:
    clause = contract.get(clause_id)
    assert clause.spec_side == SPEC_SIDE[clause_id]


def test_rows_16_and_17_sides() -> None:
    for s in ("stt-batch", "vfast-batch", "svd-batch", "pii-batch"):
        c = contract.get(f"{s}/missing-key")
        keys = {"401", "422"} | ({"403"} if s == "svd-batch" else set())
        assert {a.key for a in c.alternatives} == keys
        (fastapi,) = c.acceptable("422")
        assert fastapi.status == 422 and '["header", "X-API-Key"]' in (fastapi.behaviour or "")
    for s in ("stt-batch", "vfast-batch", "pii-batch"):
        c = contract.get(f"{s}/invalid-key")
        assert {a.key: {o.status for o in a.outcomes} for a in c.alternatives} == {
            "401": {401},
            "403": {403},
            "502": {502},
        }
        docs = {src.document for src in c.alternative("403").sources}
        assert docs and all(d.startswith("specs/") for d in docs)


@pytest.mark.parametrize("surface", BATCH, ids=str)
def test_every_documented_status_has_a_clause(surface: Surface) -> None:
    documented = {row.status for row in REST_STATUSES if row.surface == surface.value}
    assert documented, f"REST_STATUSES has no rows for {surface}"
    covered = {o.status for o in _surface_outcomes(surface)}
    assert documented - covered == set()


@pytest.mark.parametrize("surface", BATCH, ids=str)
def test_every_documented_detail_has_a_clause(surface: Surface) -> None:
    documented = {
        (row.status, d)
        for row in REST_STATUSES
        if row.surface == surface.value
        for d in row.details
    }
    covered = {(o.status, o.detail) for o in _surface_outcomes(surface) if o.detail}
    assert documented - covered == set()


def test_svd_too_short_is_422_with_its_detail() -> None:
    clause = contract.get("svd-batch/too-short")
    assert clause.tier is Tier.MUST
    assert [(o.status, o.detail) for o in clause.acceptable()] == [(422, DETAIL_TOO_SHORT)]


def test_svd_empty_and_metadata_only_split_as_documented() -> None:
    empty = contract.get("svd-batch/empty-file")
    assert [(o.status, o.detail) for o in empty.acceptable()] == [(400, DETAIL_EMPTY)]
    assert [(o.status, o.detail) for o in empty.acceptable("422-too-short")] == [
        (422, DETAIL_TOO_SHORT)
    ]
    meta = contract.get("svd-batch/metadata-only")
    assert [(o.status, o.detail) for o in meta.acceptable("400-empty")] == [(400, DETAIL_EMPTY)]


@pytest.mark.parametrize("surface", (Surface.STT_BATCH, Surface.VFAST_BATCH, Surface.PII_BATCH))
def test_other_surfaces_refuse_empty_files_with_400(surface: Surface) -> None:
    clause = contract.get(f"{surface}/empty-file")
    assert not clause.disputed
    assert [(o.status, o.detail) for o in clause.outcomes] == [(400, DETAIL_EMPTY)]


def test_unsupported_format_details_name_each_surfaces_list() -> None:
    for surface in BATCH:
        (outcome,) = contract.get(f"{surface}/unsupported-format").outcomes
        expected = (
            DETAIL_UNSUPPORTED_SVD if surface is Surface.SVD_BATCH else DETAIL_UNSUPPORTED_COMMON
        )
        assert (outcome.status, outcome.detail) == (400, expected)
        for ext in CONTAINER_FORMATS[surface.value]:
            assert f".{ext}" in outcome.detail


def test_undecodable_status_per_surface() -> None:
    statuses = {s: {o.status for o in contract.get(f"{s}/undecodable").outcomes} for s in BATCH}
    assert statuses == {
        Surface.STT_BATCH: {400},
        Surface.VFAST_BATCH: {400},
        Surface.SVD_BATCH: {422},
        Surface.PII_BATCH: {400},
    }
    svd = contract.get("svd-batch/undecodable").outcomes[0]
    assert svd.detail == DETAIL_UNPROCESSABLE


def test_vfast_opus_only_side_refuses_other_containers() -> None:
    clause = contract.get("vfast-batch/container-formats")
    assert {o.status for o in clause.acceptable("opus-only")} == {400}


def test_svd_no_content_has_confidence_exactly_one() -> None:
    (outcome,) = contract.get("svd-batch/no-content").outcomes
    assert "no-content" in outcome.behaviour
    assert f"{NO_CONTENT_CONFIDENCE}" in outcome.behaviour
    assert NO_CONTENT_CONFIDENCE == 1.0


def test_svd_verdicts_match_the_spec_enum() -> None:
    assert SVD_VERDICTS == ("synthetic", "non-synthetic", "no-content")


def test_quota_429_side_uses_the_spec_detail() -> None:
    for surface in BATCH:
        clause = contract.get(f"{surface}/monthly-quota")
        assert [(o.status, o.detail) for o in clause.acceptable("429")] == [
            (429, DETAIL_INSUFFICIENT_CREDITS)
        ]
        assert {o.status for o in clause.acceptable("403")} == {403}


def test_timeouts_are_504_on_every_surface() -> None:
    for surface in BATCH:
        assert {o.status for o in contract.get(f"{surface}/timeout-504").outcomes} == {504}


def test_stt_flag_defaults_match_the_spec() -> None:
    assert STT_BATCH_FLAG_DEFAULTS == {
        "speaker_diarization": True,
        "emotion_signal": False,
        "accent_signal": False,
        "deepfake_signal": False,
        "pii_phi_tagging": False,
    }
    for flag in STT_BATCH_FLAG_DEFAULTS:
        assert f"stt-batch/{flag.replace('_', '-')}-default" in contract.ids()


def test_invalid_language_detail_is_the_spec_example() -> None:
    expected = "Invalid language='english'. Expected an ISO 639-1 language code (e.g. 'en', 'fr')."
    assert DETAIL_INVALID_LANGUAGE_TEMPLATE.format("english") == expected
    for surface in (Surface.STT_BATCH, Surface.PII_BATCH):
        (outcome,) = contract.get(f"{surface}/invalid-language").outcomes
        assert (outcome.status, outcome.detail) == (400, expected)


def test_language_pattern_accepts_and_rejects_the_documented_examples() -> None:
    pattern = re.compile(LANGUAGE_PATTERN)
    for ok in ("en", "EN", "fr", "en-US", "en_US", "zh-Hant-TW"):
        assert pattern.match(ok), ok
    for bad in ("english", "e", "", "en-", "en US"):
        assert not pattern.match(bad), bad


def test_pii_batch_rows_are_in_rest_statuses() -> None:
    statuses = {row.status for row in REST_STATUSES if row.surface == "pii-batch"}
    assert statuses == {400, 401, 403, 422, 429, 500, 502, 503, 504}
