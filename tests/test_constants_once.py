"""Every constant of the contract tables is defined once, and no table tuple is typed out again.

The checker parses source (``ast``), never imports it: an UPPER_CASE name that
``harness/contract/tables*.py`` assigns may not be assigned at module level anywhere else in
``harness/``, ``suites/`` or ``loadtests/``; and a literal tuple, list or set holding exactly
the members of a named tuple of the tables (a surface group such as ``REST_SURFACES``, or an
enumeration of three or more wire strings such as ``SVD_VERDICTS``) is that tuple typed out
again: import the name instead. The catalog's TOML files (``harness/contract/clauses``) are
held to the same rule: a text there that is a table string written out is a copy; it
names the constant as a ``${NAME}`` placeholder instead.
"""

from __future__ import annotations

import ast
import re
import tomllib
from collections.abc import Iterable
from pathlib import Path

from harness.contract import tables
from harness.contract.model import Surface
from harness.contract.placeholders import NAMESPACE

ROOT = Path(__file__).resolve().parents[1]
TABLE_FILES = sorted((ROOT / "harness" / "contract").glob("tables*.py"))
CATALOG_FILES = sorted((ROOT / "harness" / "contract" / "clauses").glob("*.toml"))
SCANNED = ("harness", "suites", "loadtests")
UPPER = re.compile(r"^[A-Z][A-Z0-9_]*$")


def _module_level_names(tree: ast.Module) -> list[tuple[str, int]]:
    found: list[tuple[str, int]] = []
    for node in tree.body:
        targets: list[ast.expr] = []
        if isinstance(node, ast.Assign):
            targets = list(node.targets)
        elif isinstance(node, ast.AnnAssign):
            targets = [node.target]
        for t in targets:
            for leaf in ast.walk(t):
                if isinstance(leaf, ast.Name):
                    found.append((leaf.id, node.lineno))
    return found


def table_constants() -> dict[str, str]:
    """UPPER_CASE names the tables assign, with the file that assigns each."""
    out: dict[str, str] = {}
    for path in TABLE_FILES:
        for name, _ in _module_level_names(ast.parse(path.read_text())):
            if UPPER.match(name):
                out[name] = path.relative_to(ROOT).as_posix()
    return out


def table_tuples() -> dict[frozenset[str], str]:
    """Each named string tuple of the tables, by its members: every surface group (two or
    more surfaces) and every other enumeration of three or more wire strings."""
    surfaces = {s.value for s in Surface}
    named: dict[frozenset[str], str] = {}
    for name in dir(tables):
        value = getattr(tables, name)
        if not (UPPER.match(name) and isinstance(value, tuple)):
            continue
        if not all(isinstance(v, str) for v in value):
            continue
        if len(value) >= 3 or (len(value) == 2 and set(value) <= surfaces):
            named.setdefault(frozenset(value), name)
    return named


def redefinitions(paths: Iterable[Path]) -> list[str]:
    """One line per table constant assigned again, or table tuple typed out, in ``paths``."""
    constants = table_constants()
    named = table_tuples()
    problems: list[tuple[str, int, str]] = []
    for path in paths:
        shown = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        tree = ast.parse(path.read_text(), filename=str(path))
        for name, line in _module_level_names(tree):
            if name in constants:
                problems.append((shown, line, f"{name} is defined in {constants[name]}"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Tuple | ast.List | ast.Set) and len(node.elts) >= 2:
                items = [e.value for e in node.elts if isinstance(e, ast.Constant)]
                if len(items) == len(node.elts) and frozenset(items) in named:
                    problems.append((shown, node.lineno, f"{named[frozenset(items)]} typed out"))
    return [f"{shown}:{line}: {what}" for shown, line, what in sorted(problems)]


def _project_files() -> list[Path]:
    files = [p for d in SCANNED for p in sorted((ROOT / d).rglob("*.py"))]
    return [p for p in files if p not in TABLE_FILES]


def test_no_table_constant_is_defined_twice():
    assert redefinitions(_project_files()) == []


def test_the_checker_scans_the_tree_and_knows_the_tables():
    assert len(_project_files()) > 100
    constants = table_constants()
    assert constants["LANGUAGE_PATTERN"] == "harness/contract/tables.py"
    assert constants["KUGEL_ERRORS"] == "harness/contract/tables_kugel.py"
    named = table_tuples()
    assert named[frozenset(tables.STREAM_SURFACES)] == "STREAM_SURFACES"
    assert named[frozenset(tables.KUGEL_SURFACES)] == "KUGEL_SURFACES"
    assert named[frozenset(tables.SVD_VERDICTS)] == "SVD_VERDICTS"


def test_a_planted_redefinition_is_caught(tmp_path):
    planted = tmp_path / "planted.py"
    planted.write_text(
        'LANGUAGE_PATTERN = r"^[a-z]{2}$"\n'
        "CUSTOM_TERMS_MAX_ENTRIES: int = 1000\n"
        "def f():\n"
        '    return ("stt-stream", "svd-stream", "pii-stream")\n'
        'REST = ["pii-batch", "stt-batch", "vfast-batch", "svd-batch"]\n'
        'VERDICTS = {"no-content", "synthetic", "non-synthetic"}\n'
    )
    found = redefinitions([planted])
    assert found == [
        f"{planted}:1: LANGUAGE_PATTERN is defined in harness/contract/tables.py",
        f"{planted}:2: CUSTOM_TERMS_MAX_ENTRIES is defined in harness/contract/tables.py",
        f"{planted}:4: STREAM_SURFACES typed out",
        f"{planted}:5: REST_SURFACES typed out",
        f"{planted}:6: SVD_VERDICTS typed out",
    ]


def test_imports_locals_and_subsets_are_not_redefinitions(tmp_path):
    fine = tmp_path / "fine.py"
    fine.write_text(
        "from harness.contract.tables import LANGUAGE_PATTERN, STREAM_SURFACES\n"
        "def f():\n"
        "    LANGUAGE_PATTERN = 'local, not module level'\n"
        "    return LANGUAGE_PATTERN\n"
        'TWO = ("stt-stream", "pii-stream")  # a subset, not a named group\n'
        'WORDS = ("synthetic", "no-content")\n'
    )
    assert redefinitions([fine]) == []


def _texts(value: object, path: str) -> Iterable[tuple[str, str]]:
    """Every string in parsed TOML with its dotted path; a source's section on its own too."""
    if isinstance(value, str):
        yield path, value
        if " § " in value:
            yield f"{path} (section)", value.partition(" § ")[2]
    elif isinstance(value, dict):
        for k, v in value.items():
            yield from _texts(v, f"{path}.{k}" if path else k)
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _texts(v, f"{path}[{i}]")


def copied_table_strings(paths: Iterable[Path]) -> list[str]:
    """One line per catalog text that is a table string constant (six characters or more)
    written out where a ``${NAME}`` placeholder belongs."""
    strings = {v: n for n, v in NAMESPACE.items() if isinstance(v, str) and len(v) >= 6}
    found = []
    for path in paths:
        shown = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else str(path)
        data = tomllib.loads(path.read_text(encoding="utf-8"))
        for where, text in _texts(data, ""):
            if text in strings:
                found.append(f"{shown}: {where}: write ${{{strings[text]}}}, not {text!r}")
    return found


def test_no_catalog_text_copies_a_table_string():
    assert len(CATALOG_FILES) > 10
    assert copied_table_strings(CATALOG_FILES) == []


def test_a_planted_catalog_copy_is_caught(tmp_path):
    planted = tmp_path / "planted.toml"
    planted.write_text(
        "[[clause]]\n"
        'id = "x/y"\n'
        f'alternatives = [{{ key = "{tables.VELMA_HOST_SPECS}" }}]\n'
        f'outcomes = [{{ detail = "{tables.DETAIL_FORBIDDEN}" }}, {{ detail = "${{DETAIL_EMPTY}}" }}]\n'
        'sources = ["auth-page § api_key"]\n'
    )
    assert copied_table_strings([planted]) == [
        f"{planted}: clause[0].alternatives[0].key: write ${{VELMA_HOST_SPECS}}, "
        f"not {tables.VELMA_HOST_SPECS!r}",
        f"{planted}: clause[0].outcomes[0].detail: write ${{DETAIL_FORBIDDEN}}, "
        f"not {tables.DETAIL_FORBIDDEN!r}",
        f"{planted}: clause[0].sources[0] (section): write ${{VELMA_WS_AUTH_QUERY}}, not 'api_key'",
    ]
