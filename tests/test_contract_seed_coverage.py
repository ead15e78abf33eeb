"""Every code and every table row of the five seed pages is a clause traced to that page.

The lists below were written by reading the seed pages (they are never opened by
the project or its tests). A row names the page, the surface the row speaks of,
and the status / close code / value it promises; the test finds a clause on that
surface (or the cross-surface group) that cites the page and has that outcome,
directly or as one of its documented alternatives.
"""

from __future__ import annotations

import pytest

from harness.contract import Acceptable, Clause, all_clauses, problems
from harness.contract import sources as S
from harness.contract.tables import PRICE_PER_AUDIO_HOUR_USD

GROUPS = {
    "velma": {
        "stt-batch",
        "vfast-batch",
        "svd-batch",
        "pii-batch",
        "stt-stream",
        "svd-stream",
        "pii-stream",
        "velma",
    },
    "kugel": {"kugel-http", "kugel-ws", "kugel"},
}


def _all_outcomes(c: Clause) -> tuple[Acceptable, ...]:
    return c.outcomes + tuple(o for a in c.alternatives for o in a.outcomes)


def _all_documents(c: Clause) -> set[str]:
    return {s.document for s in c.sources} | {s.document for a in c.alternatives for s in a.sources}


def _matching(page: str, surfaces: set[str], **want: object) -> list[Clause]:
    hits = []
    for c in all_clauses():
        if c.surface.value not in surfaces or page not in _all_documents(c):
            continue
        if any(all(getattr(o, k) == v for k, v in want.items()) for o in _all_outcomes(c)):
            hits.append(c)
    return hits


# page -> (surfaces, {field: values}): every status / close code each seed page names.
SEED_CODES_BY_PAGE = {
    S.TROUBLESHOOTING_PAGE: ("velma", {
        "status": (401, 403, 429, 400, 422, 504, 503),
        "close_code": (4001, 4003, 4029, 1003, 4002),
    }),
    S.FAQ_PAGE: ("velma", {
        "status": (403, 429, 422, 503, 504),
        "close_code": (1000, 1003, 1011, 4001, 4002, 4003, 4029),
    }),
    S.AUTH_PAGE: ("velma", {"status": (401, 403, 429), "close_code": (4001, 4003, 4029)}),
    S.AUDIO_FORMATS_PAGE: ("velma", {"status": (400, 422), "close_code": (1003, 4002)}),
    S.KUGEL_ERRORS_PAGE: ("kugel", {
        "status": (400, 401, 402, 403, 404, 429, 500, 503),
        "close_code": (4000, 4001, 4003, 4029, 4500),
        "error_code": ("VALIDATION_ERROR", "UNAUTHORIZED", "INSUFFICIENT_CREDITS", "NOT_FOUND",
                       "RATE_LIMITED", "INTERNAL_ERROR", "MODEL_UNAVAILABLE"),
    }),
}  # fmt: skip
SEED_CODES = [
    (page, group, field, value)
    for page, (group, codes) in SEED_CODES_BY_PAGE.items()
    for field, values in codes.items()
    for value in values
]


@pytest.mark.parametrize(("page", "group", "field", "value"), SEED_CODES)
def test_each_seed_code_is_a_clause_citing_its_page(page, group, field, value):
    hits = _matching(page, GROUPS[group], **{field: value})
    assert hits, f"no clause cites {page} with outcome {field}={value!r}"


# (page, surface, field, value): rows of the seed pages' tables, one per row.
SEED_TABLE_ROWS = [
    # audio-formats page, status table
    (S.AUDIO_FORMATS_PAGE, "vfast-batch", "status", 400),
    (S.AUDIO_FORMATS_PAGE, "stt-batch", "status", 400),
    (S.AUDIO_FORMATS_PAGE, "svd-batch", "status", 400),
    (S.AUDIO_FORMATS_PAGE, "svd-batch", "status", 422),
    (S.AUDIO_FORMATS_PAGE, "svd-stream", "close_code", 1003),
    (S.AUDIO_FORMATS_PAGE, "svd-stream", "close_code", 4002),
    # troubleshooting: 403 table (two rows) and the 400 wrong-format table (two rows)
    (S.TROUBLESHOOTING_PAGE, "velma", "status", 403),
    (S.TROUBLESHOOTING_PAGE, "vfast-batch", "status", 400),
    (S.TROUBLESHOOTING_PAGE, "svd-stream", "close_code", 1003),
    # authentication page: HTTP auth table, WS auth table, rate-limit table
    (S.AUTH_PAGE, "velma", "status", 401),
    (S.AUTH_PAGE, "svd-batch", "status", 403),
    (S.AUTH_PAGE, "stt-stream", "close_code", 4001),
    (S.AUTH_PAGE, "stt-stream", "close_code", 4003),
    (S.AUTH_PAGE, "svd-stream", "close_code", 4003),
    (S.AUTH_PAGE, "stt-batch", "status", 429),
    (S.AUTH_PAGE, "vfast-batch", "status", 429),
    (S.AUTH_PAGE, "stt-stream", "close_code", 4029),
    # FAQ close-code table
    *[(S.FAQ_PAGE, "velma", "close_code", c) for c in (1000, 1003, 1011, 4001, 4002, 4003, 4029)],
]


@pytest.mark.parametrize(("page", "surface", "field", "value"), SEED_TABLE_ROWS)
def test_each_seed_table_row_is_a_clause(page, surface, field, value):
    surfaces = GROUPS.get(surface, {surface})
    assert _matching(page, surfaces, **{field: value}), (
        f"no {surface} clause cites {page} with outcome {field}={value!r}"
    )


def test_the_faq_price_table_is_in_the_catalog():
    ids = {c.id for c in all_clauses()}
    for surface in PRICE_PER_AUDIO_HOUR_USD:
        assert f"velma/price-{surface}" in ids, f"no price clause for {surface}"


def test_the_catalog_is_large_and_sound():
    clauses = all_clauses()
    assert len(clauses) > 100, f"only {len(clauses)} clauses"
    assert problems() == []


def test_every_contradiction_row_is_encoded():
    rows = {c.contradiction for c in all_clauses() if c.disputed}
    missing = set(range(1, 20)) - rows
    assert not missing, f"contradiction rows without a disputed clause: {sorted(missing)}"
