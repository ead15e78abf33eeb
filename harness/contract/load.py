"""The one reader of the contract's TOML files: the clause catalog and the record tables.

A file holds ``[[clause]]`` entries (one clause each) and ``[[family]]`` entries (one clause
``<surface>/<slug>`` per surface of ``surfaces``, fields from the family's own keys replaced
by ``[family.on.<surface>]``). Fields are named like :class:`~harness.contract.model.Clause`'s;
sources are written ``"<doc-key> § <section>"`` (``sources.DOCUMENTS``; ``@spec`` in a family:
the surface's own spec file) and texts may name table values as ``${...}``
(:mod:`harness.contract.placeholders`). ``docs/CLAUSE-AUTHORING.md`` shows both forms.

Every problem is a :class:`DataFileError` worded like :mod:`harness.configio`'s:
``<file>:<line>: clause '<id>': <field>: expected <what>, got <value>``.

The same functions read the contract's record tables, each a TOML file of ``[[<kind>]]``
entries filled into a dataclass (:func:`records`): ``kugel_operations.toml``
(``kugel_api.REST_OPERATIONS``) and ``velma_statuses.toml`` (``tables.REST_STATUSES``).
"""

from __future__ import annotations

import dataclasses
import re
import tomllib
import typing
from collections.abc import Callable, Collection, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, Literal, TypeVar

from ..configio import (
    NOTHING,
    FieldError,
    array,
    boolean,
    choice,
    integer,
    join,
    known,
    one_of,
    read,
    string,
    strings,
    table,
)
from .model import Acceptable, Alternative, Clause, Source, Surface, Tier
from .sources import DOCUMENTS, SURFACE_SPECS
from .template import PlaceholderError

ROOT = Path(__file__).resolve().parents[2]
CLAUSE_DIR = Path(__file__).resolve().parent / "clauses"

CLAUSE_FIELDS = (
    "id",
    "surface",
    "tier",
    "requirement",
    "sources",
    "outcomes",
    "wording",
    "wording_source",
    "alternatives",
    "preferred",
    "rationale",
    "contradiction",
    "tags",
)
FAMILY_FIELDS = ("slug", "surfaces", "on", *CLAUSE_FIELDS[2:])
OUTCOME_INTS = ("status", "close_code")
OUTCOME_TEXTS = ("detail", "error_code", "message", "header", "behaviour")
ALTERNATIVE_FIELDS = ("key", "summary", "sources", "outcomes", "spec_literal")
SURFACES = tuple(s.value for s in Surface)
TIERS = tuple(t.value for t in Tier)
SPEC_KEY = "@spec"


T = TypeVar("T")


class DataFileError(ValueError):
    """A data file that cannot be read: ``<file>:<line>: <entry>: <field>: <problem>``."""


def shown(path: Path) -> str:
    """``path`` as messages and ``Clause.defined_at`` give it: from the project root."""
    resolved = path.resolve()
    return (resolved.relative_to(ROOT) if resolved.is_relative_to(ROOT) else resolved).as_posix()


def load_files(paths: Iterable[Path]) -> dict[str, tuple[Clause, ...]]:
    """The clauses of each file, by file stem, in file order; IDs unique across files."""
    out: dict[str, tuple[Clause, ...]] = {}
    seen: dict[str, str] = {}
    for path in paths:
        clauses = load_file(path)
        for c in clauses:
            if c.id in seen:
                raise DataFileError(f"{c.defined_at}: clause {c.id!r}: also at {seen[c.id]}")
            seen[c.id] = c.defined_at or ""
        out[path.stem] = clauses
    return out


def load_file(path: Path) -> tuple[Clause, ...]:
    """Every clause ``path`` defines, in the order written (families expanded in place)."""
    name, text, data = parse(path)
    clauses: list[Clause] = []
    for kind, entry, line in entries(name, text, data, ("clause", "family"), ("id", "slug")):
        where = f"{name}:{line}"
        if kind == "clause":
            clauses.append(_one_clause(entry, where))
        else:
            clauses += _family(entry, where)
    return tuple(clauses)


def parse(path: Path) -> tuple[str, str, dict[str, Any]]:
    """``(shown name, text, parsed TOML)`` of ``path``."""
    name = shown(path)
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise DataFileError(f"{name}: cannot read: {exc.strerror or exc}") from None
    try:
        return name, text, tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DataFileError(f"{name}: not valid TOML: {exc}") from None


def entries(
    name: str, text: str, data: Mapping[str, Any], kinds: Sequence[str], name_keys: Sequence[str]
) -> list[tuple[str, Any, int]]:
    """``(kind, entry, line)`` of every ``[[kind]]`` entry in file order; the line is the
    entry's first ``<name_key> = ...`` line (else its header)."""
    try:
        known(data, kinds, "")
        lists = {k: array(data.get(k, []), k) for k in kinds}
    except FieldError as exc:
        raise DataFileError(f"{name}: {exc}") from None
    header = re.compile(rf"^\s*\[\[\s*({'|'.join(map(re.escape, kinds))})\s*\]\]\s*(#.*)?$")
    name_line = re.compile(rf"^\s*({'|'.join(map(re.escape, name_keys)) or '(?!)'})\s*=")
    lines = text.splitlines()
    headers = [(i, m.group(1)) for i, ln in enumerate(lines) if (m := header.match(ln))]
    counts = {k: sum(1 for _, h in headers if h == k) for k in lists}
    for kind, items in lists.items():
        if counts[kind] != len(items):
            raise DataFileError(
                f"{name}: {kind}: write each entry as its own [[{kind}]] table "
                f"(found {len(items)} entries, {counts[kind]} [[{kind}]] headers)"
            )
    taken = dict.fromkeys(lists, 0)
    out = []
    for n, (i, kind) in enumerate(headers):
        end = headers[n + 1][0] if n + 1 < len(headers) else len(lines)
        line = next((j for j in range(i, end) if name_line.match(lines[j])), i)
        out.append((kind, lists[kind][taken[kind]], line + 1))
        taken[kind] += 1
    return out


def records(
    path: Path,
    kind: str,
    cls: type[T],
    *,
    name_key: str | None = None,
    expand: Callable[[str], str] | None = None,
    choices: Mapping[str, Collection[str]] | None = None,
) -> tuple[T, ...]:
    """One ``cls`` per ``[[kind]]`` entry of ``path``, in file order: a record table's file.

    Keys are ``cls``'s field names, checked by :func:`harness.configio.read`; ``name_key``
    names an entry in messages; ``expand`` writes out the placeholders of every text (its
    ``ValueError`` names the field); ``choices`` gives a text field (or each text of an array
    field) the values it may take, as a ``Literal`` field's type does.
    """
    name, text, data = parse(path)
    out = []
    for _, entry, line in entries(name, text, data, (kind,), (name_key,) if name_key else ()):
        label = kind
        try:
            t = table(entry, "")
            if name_key and isinstance(t.get(name_key), str):
                label = f"{kind} {t[name_key]!r}"
            if expand is not None:
                t = {k: _expanded(v, k, expand) for k, v in t.items()}
            out.append(record(cls, t, choices or {}))
        except FieldError as exc:
            raise DataFileError(f"{name}:{line}: {label}: {exc}") from None
    return tuple(out)


def or_exit(read: Callable[[], T], what: str = "a contract table") -> T:
    """``read()`` at a module's import: a broken data file stops the program with one line
    naming ``what`` and the file's problem (no traceback)."""
    try:
        return read()
    except DataFileError as exc:
        raise SystemExit(f"harness: {what} cannot be read: {exc}") from None


def record(cls: type[T], t: Mapping[str, Any], choices: Mapping[str, Collection[str]]) -> T:
    """``cls`` filled from table ``t`` by :func:`harness.configio.read`; the fields with
    ``choices`` and the ``Literal`` fields (configio has no rule for them) are checked here."""
    hints = typing.get_type_hints(cls)
    fields = dataclasses.fields(cls)  # type: ignore[arg-type]
    known(t, [f.name for f in fields], "")  # read() would not list the fields checked here
    fixed: dict[str, Any] = {}
    for f in fields:
        hint = hints[f.name]
        allowed = choices.get(f.name)
        if typing.get_origin(hint) is Literal:
            allowed = [str(a) for a in typing.get_args(hint)]
        if allowed is None:
            continue
        if f.name in t:
            many = typing.get_origin(hint) is tuple
            value = t[f.name]
            fixed[f.name] = (
                tuple(strings(value, f.name, allowed)) if many else choice(value, f.name, allowed)
            )
        elif f.default is dataclasses.MISSING:
            raise FieldError.expected(f.name, one_of(allowed), NOTHING)
        else:
            fixed[f.name] = f.default
    return read(cls, {k: v for k, v in t.items() if k not in fixed}, "", **fixed)


def _expanded(value: Any, path: str, expand: Callable[[str], str]) -> Any:
    if isinstance(value, list):
        return [_expanded(v, join(path, i), expand) for i, v in enumerate(value)]
    if not isinstance(value, str):
        return value
    try:
        return expand(value)
    except ValueError as exc:
        raise FieldError(path, str(exc)) from None


# --------------------------------------------------------------------------- clauses


def _one_clause(entry: Any, where: str) -> Clause:
    label = "clause"
    try:
        t = table(entry, "")
        label = f"clause {t['id']!r}" if isinstance(t.get("id"), str) else "clause"
        known(t, CLAUSE_FIELDS, "")
        return _clause(t, _Context(where, None))
    except FieldError as exc:
        raise DataFileError(f"{where}: {label}: {exc}") from None


def _family(entry: Any, where: str) -> list[Clause]:
    label = "family"
    try:
        t = table(entry, "")
        label = f"family {t['slug']!r}" if isinstance(t.get("slug"), str) else "family"
        known(t, FAMILY_FIELDS, "")
        slug = string(t.get("slug", NOTHING), "slug", nonempty=True)
        surfaces = array(t.get("surfaces", NOTHING), "surfaces")
        if not surfaces:
            raise FieldError.expected("surfaces", "at least one surface", surfaces)
        for i, s in enumerate(surfaces):
            choice(s, join("surfaces", i), SURFACES)
        if len(set(surfaces)) != len(surfaces):
            raise FieldError.expected("surfaces", "each surface once", surfaces)
        on = table(t.get("on", {}), "on")
        known(on, surfaces, "on")
        base = {k: v for k, v in t.items() if k not in ("slug", "surfaces", "on")}
        overrides = {s: table(v, join("on", s)) for s, v in on.items()}
        for s, fields in overrides.items():
            known(fields, FAMILY_FIELDS[3:], join("on", s))
    except FieldError as exc:
        raise DataFileError(f"{where}: {label}: {exc}") from None
    out = []
    for s in surfaces:
        fields = {"id": f"{s}/{slug}", "surface": s, **base, **overrides.get(s, {})}
        try:
            out.append(_clause(fields, _Context(where, s)))
        except FieldError as exc:
            raise DataFileError(f"{where}: family {slug!r}, surface {s}: {exc}") from None
    return out


class _Context:
    """Where an entry is written, and the family surface it is expanded for (if any).

    The placeholders' namespace is the record tables (``tables.py``, ``kugel_api.py``), and
    those tables are read by this module: so :mod:`~harness.contract.placeholders` and
    ``tables`` are imported when a clause is read, not when this module is.
    """

    def __init__(self, where: str, surface: str | None) -> None:
        from .tables import SURFACE_NAMES

        self.where = where
        self.surface = surface
        self.values: dict[str, str] | None = None
        if surface is not None:
            self.values = {"surface": surface}
            if surface in SURFACE_NAMES:
                self.values["surface_name"] = SURFACE_NAMES[surface]

    def text(self, value: Any, path: str, *, nonempty: bool = False) -> str:
        from .placeholders import expand

        raw = string(value, path, nonempty=nonempty)
        try:
            return expand(raw, self.values)
        except PlaceholderError as exc:
            raise FieldError(path, str(exc)) from None

    def source(self, value: Any, path: str) -> Source:
        raw = string(value, path)
        key, sep, section = raw.partition(" § ")
        if not sep or not section.strip():
            raise FieldError.expected(path, '"<doc-key> § <section>"', raw)
        if key == SPEC_KEY and self.surface in SURFACE_SPECS:
            document = SURFACE_SPECS[self.surface]
        elif key in DOCUMENTS:
            document = DOCUMENTS[key]
        else:
            keys = list(DOCUMENTS)
            if self.surface in SURFACE_SPECS:
                keys.append(SPEC_KEY)
            raise FieldError(path, f"unknown document key {key!r}; expected {one_of(keys)}")
        return Source(document, self.text(section, path))

    def sources(self, value: Any, path: str) -> tuple[Source, ...]:
        return tuple(self.source(v, join(path, i)) for i, v in enumerate(array(value, path)))

    def outcomes(self, value: Any, path: str) -> tuple[Acceptable, ...]:
        out = []
        for i, item in enumerate(array(value, path)):
            at = join(path, i)
            t = table(item, at)
            known(t, (*OUTCOME_INTS, *OUTCOME_TEXTS), at)
            ints = {k: integer(t[k], join(at, k), minimum=0) for k in OUTCOME_INTS if k in t}
            texts = {k: self.text(t[k], join(at, k)) for k in OUTCOME_TEXTS if k in t}
            out.append(Acceptable(**ints, **texts))
        return tuple(out)

    def alternatives(self, value: Any, path: str) -> tuple[Alternative, ...]:
        out = []
        for i, item in enumerate(array(value, path)):
            at = join(path, i)
            t = table(item, at)
            known(t, ALTERNATIVE_FIELDS, at)
            out.append(
                Alternative(
                    key=self.text(t.get("key", NOTHING), join(at, "key"), nonempty=True),
                    summary=self.text(t.get("summary", NOTHING), join(at, "summary")),
                    sources=self.sources(t.get("sources", NOTHING), join(at, "sources")),
                    outcomes=self.outcomes(t.get("outcomes", NOTHING), join(at, "outcomes")),
                    spec_literal=boolean(t.get("spec_literal", False), join(at, "spec_literal")),
                )
            )
        return tuple(out)


def _clause(t: Mapping[str, Any], ctx: _Context) -> Clause:
    def opt_text(key: str) -> str | None:
        return ctx.text(t[key], key) if key in t else None

    clause_id = string(t.get("id", NOTHING), "id", nonempty=True)
    return Clause(
        id=clause_id,
        surface=Surface(choice(t.get("surface", NOTHING), "surface", SURFACES)),
        requirement=ctx.text(t.get("requirement", NOTHING), "requirement", nonempty=True),
        sources=ctx.sources(t.get("sources", NOTHING), "sources"),
        tier=Tier(choice(t.get("tier", NOTHING), "tier", TIERS)),
        outcomes=ctx.outcomes(t.get("outcomes", []), "outcomes"),
        wording=Tier(choice(t.get("wording", Tier.SHOULD.value), "wording", TIERS)),
        wording_source=(
            ctx.source(t["wording_source"], "wording_source") if "wording_source" in t else None
        ),
        alternatives=ctx.alternatives(t.get("alternatives", []), "alternatives"),
        preferred=opt_text("preferred"),
        rationale=opt_text("rationale"),
        contradiction=(
            integer(t["contradiction"], "contradiction", minimum=1)
            if "contradiction" in t
            else None
        ),
        tags=tuple(
            ctx.text(v, join("tags", i)) for i, v in enumerate(array(t.get("tags", []), "tags"))
        ),
        defined_at=ctx.where,
    )
