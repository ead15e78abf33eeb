"""The catalog machinery: look-ups, self-checks, and the contract package's boundaries."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from harness.contract import (
    Acceptable,
    Alternative,
    Clause,
    Source,
    Surface,
    Tier,
    UnknownClauseError,
    all_clauses,
    get,
    problems,
)
from harness.contract.export import clause_to_dict

ROOT = Path(__file__).resolve().parents[1]
SRC = Source("seeds/x.txt", "s")


def _ok(**kw) -> Clause:
    base = dict(
        id="svd-batch/x",
        surface=Surface.SVD_BATCH,
        requirement="r",
        sources=(SRC,),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=422),),
    )
    base.update(kw)
    return Clause(**base)


def test_a_sound_clause_has_no_problems():
    assert problems([_ok()]) == []


@pytest.mark.parametrize(
    ("change", "complaint"),
    [
        ({"id": "SVD/x"}, "surface/slug"),
        ({"id": "stt-batch/x"}, "must start with its surface"),
        ({"requirement": " "}, "empty requirement"),
        ({"sources": ()}, "no source"),
        ({"outcomes": ()}, "no acceptable outcome"),
        ({"preferred": "a"}, "preferred/rationale without alternatives"),
    ],
)
def test_problems_catches_each_kind_of_bad_clause(change, complaint):
    found = problems([_ok(**change)])
    assert any(complaint in p for p in found), found


def test_problems_catches_bad_disputes():
    alt = Alternative("a", "one side", (SRC,), (Acceptable(status=429),))
    bad = _ok(outcomes=(), alternatives=(alt,), preferred="b", rationale=None)
    found = "\n".join(problems([bad]))
    assert "at least two alternatives" in found
    assert "preferred 'b'" in found
    assert "without a rationale" in found


def test_problems_catches_duplicate_ids():
    assert any("duplicate ID" in p for p in problems([_ok(), _ok()]))


def test_acceptable_returns_the_preferred_side_or_all():
    a = Alternative("429", "x", (SRC,), (Acceptable(status=429),))
    b = Alternative("403", "y", (SRC,), (Acceptable(status=403),))
    c = _ok(outcomes=(), alternatives=(a, b), preferred="403", rationale="why")
    assert c.acceptable() == (Acceptable(status=403),)
    assert c.acceptable("429") == (Acceptable(status=429),)
    assert {o.status for o in c.acceptable("any")} == {429, 403}
    with pytest.raises(KeyError, match="known: 429, 403"):
        c.acceptable("500")


def test_unknown_clause_suggests_close_ids():
    some = all_clauses()[0].id if all_clauses() else "velma/raw-formats"
    with pytest.raises(UnknownClauseError) as exc:
        get(some + "x")
    assert repr(some + "x") in str(exc.value)


def test_every_clause_cites_known_documents_with_a_section():
    from harness.contract.sources import ALL_DOCUMENTS

    for c in all_clauses():
        for s in (*c.sources, *(s for a in c.alternatives for s in a.sources)):
            assert s.document in ALL_DOCUMENTS, f"{c.id} cites unknown document {s.document!r}"
            assert s.section.strip(), f"{c.id} cites {s.document} without a section"


def test_every_clause_serialises_to_plain_data():
    import json

    for c in all_clauses():
        d = clause_to_dict(c)
        assert d["id"] == c.id
        json.dumps(d)  # must not raise


def _imports(path: Path) -> list[str]:
    tree = ast.parse(path.read_text(encoding="utf-8"))
    names: list[str] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom):
            prefix = "." * node.level
            names.append(prefix + (node.module or ""))
    return names


# The one exception: the catalog reader reads the package's own TOML files
# (harness/contract/clauses/*.toml) and checks them with harness.configio, the project's
# typed reader, which imports nothing of ours.
CATALOG_READER = ROOT / "harness" / "contract" / "load.py"


def test_the_contract_imports_nothing_else_of_ours_and_does_no_io():
    for path in (ROOT / "harness" / "contract").rglob("*.py"):
        reader = path == CATALOG_READER
        for name in _imports(path):
            if reader and name == "..configio":
                continue
            assert not name.startswith("harness.") or name.startswith("harness.contract"), (
                f"{path.relative_to(ROOT)} imports {name}"
            )
            depth = len(name) - len(name.lstrip("."))
            rel_root = path.parent.relative_to(ROOT / "harness" / "contract")
            assert depth <= len(rel_root.parts) + 1, f"{path} reaches outside harness.contract"
        text = path.read_text(encoding="utf-8")
        for banned in ("open(", "read_text(", "read_bytes(", "urlopen", "import socket"):
            if reader and banned == "read_text(":
                continue
            assert banned not in text, f"{path.relative_to(ROOT)} does I/O ({banned})"
    configio = _imports(ROOT / "harness" / "configio.py")
    assert not [n for n in configio if n.startswith((".", "harness"))], configio


def test_audio_imports_only_the_contract():
    """...and the shared leaf ``harness.records`` (it imports nothing of ours)."""
    for path in (ROOT / "harness" / "audio").rglob("*.py"):
        for name in _imports(path):
            if name.startswith("harness."):
                allowed = name.startswith("harness.contract") or name == "harness.records"
                assert allowed, f"{path} imports {name}"
            if name.startswith(".."):
                assert name.startswith("..contract"), f"{path} imports {name}"


def test_nothing_reads_the_vendor_material_at_run_time():
    banned = ("..", "shared"), ("/work", "shared")
    for path in [
        *ROOT.glob("harness/**/*.py"),
        *ROOT.glob("tests/**/*.py"),
        *ROOT.glob("suites/**/*.py"),
        *ROOT.glob("loadtests/**/*.py"),
    ]:
        text = path.read_text(encoding="utf-8")
        for parts in banned:
            assert "/".join(parts) not in text, (
                f"{path.relative_to(ROOT)} refers to vendor material"
            )


def test_every_clause_a_fixture_names_is_in_the_catalog():
    from harness.audio import REFERENCED_CLAUSES
    from harness.contract import ids

    missing = set(REFERENCED_CLAUSES) - ids()
    assert not missing, f"fixtures name clauses the catalog lacks: {sorted(missing)}"


def test_every_clause_names_the_line_that_writes_it():
    clauses_dir = ROOT / "harness" / "contract" / "clauses"
    for c in all_clauses():
        assert c.defined_at, f"{c.id} does not say where it is defined"
        path, line = c.defined_at.rsplit(":", 1)
        assert (ROOT / path).parent == clauses_dir, f"{c.id}: {c.defined_at}"
        assert path.endswith(".toml"), f"{c.id}: {c.defined_at}"
        text = (ROOT / path).read_text(encoding="utf-8").splitlines()[int(line) - 1]
        slug = c.id.split("/", 1)[1]
        assert text in (f'id = "{c.id}"', f'slug = "{slug}"'), f"{c.id}: {c.defined_at}: {text}"
        assert clause_to_dict(c)["defined_at"] == c.defined_at
