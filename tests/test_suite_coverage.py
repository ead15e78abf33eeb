"""Every Velma-2 clause in the catalog is checked by at least one conformance case."""

from __future__ import annotations

import pytest

from harness.contract import all_clauses, ids
from harness.contract.tables import VELMA_SURFACES
from harness.suite_index import clauses_in_suites

VELMA = {"velma", *VELMA_SURFACES}


@pytest.fixture(scope="module")
def marked() -> dict[str, list[str]]:
    return clauses_in_suites()


def test_every_case_names_a_catalog_clause(marked):
    assert not marked.get(""), f"cases without @pytest.mark.clause: {marked.get('')[:10]}"
    unknown = set(marked) - ids() - {""}
    assert not unknown, f"cases name clauses the catalog lacks: {sorted(unknown)}"


def _audited() -> set[str]:
    """Client-side clauses judged by `harness audit-client` scenarios (a client program's
    behaviour, not the target's): their scenarios exercise them, not suite cases."""
    from harness.audit.scenarios import BUILTIN

    return {clause for s in BUILTIN for clause in s.clauses}


def test_every_velma_clause_is_exercised(marked):
    velma = {c.id for c in all_clauses() if c.surface.value in VELMA}
    missing = sorted(velma - set(marked) - _audited())
    assert not missing, f"{len(missing)} Velma-2 clauses have no case: {missing}"


def test_every_platform_and_kugelaudio_clause_is_exercised(marked):
    others = {c.id for c in all_clauses() if c.surface.value not in VELMA}
    missing = sorted(others - set(marked) - _audited())
    assert not missing, f"{len(missing)} Platform/KugelAudio clauses have no case: {missing}"
