"""Clauses that span every Velma-2 endpoint (harness/contract/clauses/velma_*.py, surface velma)."""

from __future__ import annotations

import pytest

from harness.contract import Surface, Tier, by_surface, get, problems
from harness.contract import sources as S
from harness.contract.tables import (
    DETAIL_MODEL_NOT_ENABLED,
    DOCUMENTED_BACKOFF,
    PRICE_PER_AUDIO_HOUR_USD,
    RAW_FORMAT_NAMES,
    RECOMMENDED_RAW_SETUPS,
    SAMPLE_RATES,
    VELMA_CLOSE_CODES,
)

CLAUSES = by_surface(Surface.VELMA)
BY_ID = {c.id: c for c in CLAUSES}

REQUIRED = (
    "velma/raw-formats",
    "velma/raw-sample-rates",
    "velma/raw-channels",
    "velma/raw-requires-params",
    "velma/batch-max-size",
    "velma/batch-timeout",
    "velma/extension-decides",
)

ALLOWED_TAGS = {
    "raw-format",
    "auth",
    "host",
    "admission",
    "quota",
    "backoff",
    "pricing",
    "limits",
    "timeout",
    "overload",
    "close-code",
    "error-shape",
}


def _statuses(c):
    return {o.status for o in c.acceptable("any") if o.status is not None}


def _close_codes(c):
    return {o.close_code for o in c.acceptable("any") if o.close_code is not None}


@pytest.mark.parametrize("clause_id", REQUIRED)
def test_required_ids_exist_and_are_in_the_catalog(clause_id):
    assert clause_id in BY_ID
    assert get(clause_id) is BY_ID[clause_id]


def test_module_is_sound_and_scoped_to_velma():
    assert problems(CLAUSES) == []
    assert 30 <= len(CLAUSES) <= 60, len(CLAUSES)
    for c in CLAUSES:
        assert c.surface is Surface.VELMA
        assert c.id.startswith("velma/")
        assert c.tags, c.id
        assert set(c.tags) <= ALLOWED_TAGS, (c.id, c.tags)


def test_every_source_names_a_section():
    for c in CLAUSES:
        for s in (*c.sources, *(s for a in c.alternatives for s in a.sources)):
            assert s.section.strip(), c.id
            assert s.document in S.ALL_DOCUMENTS, (c.id, s.document)


@pytest.mark.parametrize("surface", sorted(PRICE_PER_AUDIO_HOUR_USD))
def test_every_priced_surface_has_a_price_clause_naming_its_price(surface):
    price = PRICE_PER_AUDIO_HOUR_USD[surface]
    c = BY_ID[f"velma/price-{surface}"]
    assert c.tier is Tier.INFO
    assert "pricing" in c.tags
    assert any(s.document == S.FAQ_PAGE for s in c.sources)
    texts = " ".join(o.behaviour or "" for o in c.outcomes)
    assert f"{price:g}" in texts
    assert f"{price:g}" in c.requirement
    assert Surface(surface)  # a real surface name


def test_no_price_clause_for_an_unpriced_surface():
    prices = {c.id.removeprefix("velma/price-") for c in CLAUSES if c.id.startswith("velma/price-")}
    assert prices == set(PRICE_PER_AUDIO_HOUR_USD)


def test_header_casing_is_row_8_and_prefers_case_insensitive():
    c = BY_ID["velma/auth-header-casing"]
    assert c.contradiction == 8
    assert not c.outcomes
    assert {a.key for a in c.alternatives} == {"case-insensitive", "exact-casing"}
    assert c.preferred == "case-insensitive"
    assert c.rationale
    exact = c.alternative("exact-casing")
    assert {o.status for o in exact.outcomes} == {401}
    assert any(s.document == S.TROUBLESHOOTING_PAGE for s in exact.sources)
    assert {o.status for o in c.acceptable()} == {200}  # processed like the canonical spelling


def test_batch_max_size_is_row_10_info_with_three_readings():
    c = BY_ID["velma/batch-max-size"]
    assert c.contradiction == 10
    assert c.tier is Tier.INFO
    assert not c.outcomes
    assert {a.key for a in c.alternatives} == {"accepted", "timeout-504", "rejected-4xx"}
    assert c.preferred == "accepted"
    assert {o.status for o in c.acceptable()} == {200}
    assert {o.status for o in c.acceptable("timeout-504")} == {504}
    rejected = {o.status for o in c.acceptable("rejected-4xx")}
    assert rejected and all(400 <= s < 500 for s in rejected)
    docs = {a.key: {s.document for s in a.sources} for a in c.alternatives}
    assert S.FAQ_PAGE in docs["rejected-4xx"]
    assert S.AUDIO_FORMATS_PAGE in docs["accepted"]
    assert S.TROUBLESHOOTING_PAGE in docs["timeout-504"]


def test_host_is_row_18_info_judged_from_the_profile():
    c = BY_ID["velma/host"]
    assert c.contradiction == 18 and c.tier is Tier.INFO
    assert {a.key for a in c.alternatives} == {
        "modulate-developer-apis.com",
        "platform.modulate.ai",
    }
    assert c.preferred == "modulate-developer-apis.com"
    assert c.spec_side == "platform.modulate.ai"
    pages = {s.document for s in c.alternative("modulate-developer-apis.com").sources}
    assert pages == {S.AUTH_PAGE, S.TROUBLESHOOTING_PAGE}
    specs = {s.document for s in c.alternative("platform.modulate.ai").sources}
    assert specs == {
        S.STT_BATCH_SPEC,
        S.VFAST_SPEC,
        S.SVD_BATCH_SPEC,
        S.PII_BATCH_SPEC,
        S.STT_STREAM_SPEC,
        S.SVD_STREAM_SPEC,
        S.PII_STREAM_SPEC,
    }


def test_only_rows_8_10_and_18_are_disputed_here():
    assert {c.contradiction for c in CLAUSES if c.disputed} == {8, 10, 18}
    assert all(c.contradiction is None for c in CLAUSES if not c.disputed)


def test_raw_clauses_name_every_format_rate_and_the_channel_range():
    text = BY_ID["velma/raw-formats"].requirement
    for name in RAW_FORMAT_NAMES:
        assert f"`{name}`" in text
    rates = BY_ID["velma/raw-sample-rates"].requirement
    for rate in SAMPLE_RATES:
        assert str(rate) in rates
    assert "1–8" in BY_ID["velma/raw-channels"].requirement
    assert _close_codes(BY_ID["velma/raw-requires-params"]) == {1003}
    assert _close_codes(BY_ID["velma/raw-invalid-params"]) == {1003}
    assert BY_ID["velma/raw-passthrough"].tier is Tier.INFO


def test_each_recommended_setup_has_its_clause():
    for _use, fmt, rate, channels in RECOMMENDED_RAW_SETUPS:
        c = BY_ID[f"velma/raw-setup-{fmt}-{rate}-{channels}"]
        assert c.tier in (Tier.SHOULD, Tier.INFO)
        assert f"audio_format={fmt}" in c.requirement
        assert f"sample_rate={rate}" in c.requirement


def test_batch_timeout_and_overload_statuses():
    assert _statuses(BY_ID["velma/batch-timeout"]) == {504}
    assert "60" in BY_ID["velma/batch-timeout"].requirement
    assert _statuses(BY_ID["velma/overload-503"]) == {503}
    assert 400 in _statuses(BY_ID["velma/extension-decides"])


def test_auth_split_and_detail_strings():
    # the general rules hold on every side of rows 4, 16 and 17 (disputed per surface)
    assert _statuses(BY_ID["velma/auth-invalid-key-401"]) == {401, 403, 502}
    assert _statuses(BY_ID["velma/auth-forbidden-403"]) == {403}
    assert _statuses(BY_ID["velma/auth-missing-key"]) == {401, 422}
    model = BY_ID["velma/forbidden-detail-model-access"]
    assert {o.detail for o in model.outcomes} == {DETAIL_MODEL_NOT_ENABLED}
    assert "X-API-Key" in BY_ID["velma/auth-http-header"].requirement
    assert "api_key" in BY_ID["velma/auth-ws-query"].requirement


def test_error_shapes():
    shapes = BY_ID["velma/error-422-shape"]
    assert _statuses(shapes) == {422}
    assert len(shapes.outcomes) == 2
    assert any("loc" in (o.behaviour or "") for o in shapes.outcomes)
    assert '{"detail": str}' in BY_ID["velma/error-body-detail"].requirement


def test_limit_refusals_cover_every_documented_status_and_code():
    for cid in ("velma/concurrency-immediate-reject", "velma/monthly-limit-sticky"):
        c = BY_ID[cid]
        assert _statuses(c) == {429, 403}, cid
        assert _close_codes(c) == {4029, 4003}, cid
    handshake = BY_ID["velma/ws-reject-at-handshake"]
    assert _close_codes(handshake) == {4001, 4003, 4029}


def test_client_clauses_follow_the_documented_backoff():
    client = [c for c in CLAUSES if c.id.startswith("velma/client-")]
    assert len(client) >= 5
    assert all(c.tier is Tier.SHOULD for c in client)
    jitter = BY_ID["velma/client-backoff-jitter"]
    low, high = DOCUMENTED_BACKOFF.wait_bounds(DOCUMENTED_BACKOFF.max_retries - 1)
    assert f"{low:g}–{high:g} s" in jitter.outcomes[0].behaviour
    assert str(DOCUMENTED_BACKOFF.max_retries) in BY_ID["velma/client-max-retries"].requirement
    retried = _statuses(BY_ID["velma/client-retry-statuses"])
    assert retried == set(DOCUMENTED_BACKOFF.retry_statuses)


def test_close_code_table_is_whole_and_exact():
    c = BY_ID["velma/close-codes"]
    assert _close_codes(c) == set(VELMA_CLOSE_CODES)
    assert len(c.outcomes) == len(VELMA_CLOSE_CODES)
    assert any(s.document == S.FAQ_PAGE for s in c.sources)
    eos = BY_ID["velma/end-of-stream"]
    assert _close_codes(eos) == {1000}
    assert {o.message for o in eos.outcomes} == {"done"}


def test_requirements_are_short_and_not_copied_from_the_pages():
    # A few sentences from the seed pages that must not reappear verbatim.
    copied = (
        "Submitting a new request beyond this limit results in an immediate error",
        "It cannot be passed as a header after the WebSocket handshake",
        "Multi-channel audio is downmixed to mono before analysis",
        "The request timed out — batch processing has a 60-second limit",
        "Two independent limits apply to each endpoint per organization",
    )
    for c in CLAUSES:
        assert len(c.requirement) < 400, c.id
        for sentence in copied:
            assert sentence.lower() not in c.requirement.lower(), c.id
