"""The Modulate Platform API clauses."""

from __future__ import annotations

from harness import contract
from harness.contract.clauses import from_files
from harness.contract.model import Surface, Tier
from harness.contract.sources import AUTH_PAGE
from harness.contract.tables import PLATFORM_AUTH_HEADERS, PLATFORM_PATHS

CLAUSES = from_files("platform")
BY_ID = {c.id: c for c in CLAUSES}


def test_catalog_has_no_problems_for_platform_clauses():
    assert contract.problems(CLAUSES) == []


def test_platform_clauses_are_in_the_catalog():
    assert {c.id for c in CLAUSES} <= contract.ids()
    assert set(contract.by_surface("platform")) >= set(CLAUSES)


def test_surface_count_and_sources():
    assert 10 <= len(CLAUSES) <= 15
    for c in CLAUSES:
        assert c.surface is Surface.PLATFORM
        assert c.sources and all(s.document == AUTH_PAGE for s in c.sources), c.id
        assert not c.disputed


def test_auth_headers_are_named():
    clause = BY_ID["platform/auth-headers"]
    assert clause.tier is Tier.MUST
    for header in PLATFORM_AUTH_HEADERS:
        assert f"`{header}`" in clause.requirement


def test_the_three_submission_types_are_covered():
    realtime = BY_ID["platform/submit-realtime-websocket"]
    assert '"realtime_websocket"' in realtime.requirement
    assert "realtime_url" in realtime.outcomes[0].behaviour
    assert PLATFORM_PATHS["submit"] in realtime.requirement

    single = BY_ID["platform/submit-single-file"]
    assert "5 MB" in single.requirement

    multi = BY_ID["platform/submit-multi-file"]
    assert "`job_id`" in multi.requirement
    assert "`finalize_job: true`" in multi.requirement

    for clause in (realtime, single, multi):
        assert clause.tier is Tier.MUST
        assert "platform-jobs" in clause.tags


def test_job_status_is_covered():
    completes = BY_ID["platform/job-status-completes"]
    assert PLATFORM_PATHS["job_status"] in completes.requirement
    assert '"completed"' in completes.requirement
    assert completes.tier is Tier.MUST
    results = BY_ID["platform/job-status-results"]
    assert results.tier is Tier.MUST
    assert "results" in results.requirement


def test_undocumented_statuses_are_info_conventions():
    expected = {
        "platform/auth-missing-header": 401,
        "platform/auth-invalid-key": 401,
        "platform/auth-velma-key-not-accepted": 401,
        "platform/submit-single-file-too-large": 413,
        "platform/job-status-unknown-job": 404,
        "platform/multi-file-after-finalize": 409,
    }
    for cid, status in expected.items():
        clause = BY_ID[cid]
        assert clause.tier is Tier.INFO, cid
        assert clause.outcomes[0].status == status, cid
        assert "convention" in clause.requirement, cid


def test_no_must_clause_names_a_status():
    # the page documents no status codes for the Platform API
    for c in CLAUSES:
        if c.tier is Tier.MUST:
            assert all(o.status is None for o in c.outcomes), c.id
