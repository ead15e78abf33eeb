"""The run report as data: load and validate ``conformance.json`` (schema version 1).

See ``docs/REPORT-FORMAT.md``. Loading is strict about shape (a bad field is a
:class:`ReportFormatError` naming the file and the field) and tolerant of partial
reports: an interrupted run has ``complete: false`` and may lack ``finished_at``,
``summary``, ``ledger`` or ``coverage``; they are recomputed from the cases when absent.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

SCHEMA_VERSION = 1
REPORT_FILE = "conformance.json"

#: Every case outcome, in the order reports list them (after Autobahn|Testsuite).
OUTCOMES: tuple[str, ...] = (
    "passed",
    "failed",
    "non-strict",
    "informational",
    "skipped",
    "error",
)

#: Worst first: the colour a clause gets when several of its cases disagree.
SEVERITY: tuple[str, ...] = ("failed", "error", "non-strict", "informational", "passed", "skipped")


class ReportFormatError(ValueError):
    """A ``conformance.json`` that is not valid: the message names the file and the field."""

    def __init__(self, where: str, field_path: str, problem: str) -> None:
        self.where = where
        self.field = field_path
        self.problem = problem
        super().__init__(f"{where}: field {field_path!r}: {problem}")


def worst(outcomes: Iterable[str]) -> str | None:
    """The most severe of ``outcomes`` (see :data:`SEVERITY`), or ``None`` for none."""
    found = set(outcomes)
    for o in SEVERITY:
        if o in found:
            return o
    return None


# --------------------------------------------------------------------------- dataclasses


@dataclass
class Target:
    name: str
    kind: str = "emulator"  # "emulator" or "live"
    base_urls: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    profile: str | None = None  # the profile file (for `harness replay`), or a description

    def to_dict(self) -> dict[str, Any]:
        d: dict[str, Any] = {
            "name": self.name,
            "kind": self.kind,
            "base_urls": dict(self.base_urls),
            "versions": dict(self.versions),
        }
        if self.profile is not None:
            d["profile"] = self.profile
        return d


@dataclass
class Fixture:
    id: str
    sha256: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"id": self.id, "sha256": self.sha256}


@dataclass
class Reproducer:
    kind: str  # "curl" or "python"
    text: str

    def to_dict(self) -> dict[str, Any]:
        return {"kind": self.kind, "text": self.text}


@dataclass
class CaseAlternative:
    """Which documented side of a disputed clause the target showed in one case."""

    contradiction: int | None
    expected: str | None
    chosen: str | None
    alternatives: dict[str, str] = field(default_factory=dict)  # key -> summary

    @property
    def as_expected(self) -> bool:
        return self.chosen == self.expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "contradiction": self.contradiction,
            "expected": self.expected,
            "chosen": self.chosen,
            "alternatives": dict(self.alternatives),
        }


@dataclass
class Case:
    id: str
    clause: str
    surface: str
    outcome: str
    nodeid: str | None = None
    tier: str | None = None
    requirement: str | None = None
    source: list[str] = field(default_factory=list)
    expected: list[str] = field(default_factory=list)
    actual: str | None = None
    message: str | None = None
    alternative: CaseAlternative | None = None
    fixture: Fixture | None = None
    reproducer: Reproducer | None = None
    evidence: list[Any] = field(default_factory=list)
    verdicts: dict[str, str] | None = None
    duration_s: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "nodeid": self.nodeid,
            "clause": self.clause,
            "surface": self.surface,
            "tier": self.tier,
            "requirement": self.requirement,
            "source": list(self.source),
            "outcome": self.outcome,
            "expected": list(self.expected),
            "actual": self.actual,
            "message": self.message,
            "alternative": self.alternative.to_dict() if self.alternative else None,
            "fixture": self.fixture.to_dict() if self.fixture else None,
            "reproducer": self.reproducer.to_dict() if self.reproducer else None,
            "evidence": list(self.evidence),
            "verdicts": dict(self.verdicts) if self.verdicts is not None else None,
            "duration_s": self.duration_s,
        }


@dataclass
class LedgerEntry:
    """One row of the contradictions ledger: the side a target chose for a disputed clause."""

    clause: str
    contradiction: int | None
    expected: str | None
    chosen: str | None
    cases: int

    @property
    def as_expected(self) -> bool:
        return self.chosen == self.expected

    def to_dict(self) -> dict[str, Any]:
        return {
            "clause": self.clause,
            "contradiction": self.contradiction,
            "expected": self.expected,
            "chosen": self.chosen,
            "cases": self.cases,
        }


@dataclass
class SurfaceCoverage:
    in_catalog: int
    exercised: int

    def to_dict(self) -> dict[str, Any]:
        return {"in_catalog": self.in_catalog, "exercised": self.exercised}


@dataclass
class Coverage:
    clauses_in_catalog: int
    clauses_exercised: int
    by_surface: dict[str, SurfaceCoverage] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return {
            "clauses_in_catalog": self.clauses_in_catalog,
            "clauses_exercised": self.clauses_exercised,
            "by_surface": {s: c.to_dict() for s, c in self.by_surface.items()},
        }


@dataclass
class Aborted:
    reason: str
    exit_code: int

    def to_dict(self) -> dict[str, Any]:
        return {"reason": self.reason, "exit_code": self.exit_code}


@dataclass
class Run:
    """One conformance run: what ``conformance.json`` holds."""

    target: Target
    cases: list[Case] = field(default_factory=list)
    schema_version: int = SCHEMA_VERSION
    harness_version: str | None = None
    complete: bool = False
    aborted: Aborted | None = None
    started_at: str | None = None
    finished_at: str | None = None
    duration_s: float | None = None
    strict: bool = False
    exit_code: int | None = None
    summary: dict[str, int] = field(default_factory=dict)
    ledger: list[LedgerEntry] = field(default_factory=list)
    coverage: Coverage | None = None
    path: Path | None = None  # where it was loaded from (not serialised)

    # -- views
    def by_outcome(self, outcome: str) -> list[Case]:
        return [c for c in self.cases if c.outcome == outcome]

    def case(self, case_id: str) -> Case | None:
        for c in self.cases:
            if c.id == case_id:
                return c
        return None

    @property
    def report_dir(self) -> Path | None:
        return self.path.parent if self.path else None

    @property
    def verdict(self) -> str:
        """``conforms``, ``violations``, ``could-not-test`` or ``partial``."""
        if self.aborted is not None or (
            self.cases and all(c.outcome == "error" for c in self.cases)
        ):
            return "could-not-test"
        if self.summary.get("failed", 0):
            return "violations"
        if not self.complete:
            return "partial"
        return "conforms"

    def to_dict(self) -> dict[str, Any]:
        return {
            "schema_version": self.schema_version,
            "harness_version": self.harness_version,
            "complete": self.complete,
            "aborted": self.aborted.to_dict() if self.aborted else None,
            "started_at": self.started_at,
            "finished_at": self.finished_at,
            "duration_s": self.duration_s,
            "strict": self.strict,
            "exit_code": self.exit_code,
            "target": self.target.to_dict(),
            "summary": dict(self.summary),
            "cases": [c.to_dict() for c in self.cases],
            "ledger": [e.to_dict() for e in self.ledger],
            "coverage": self.coverage.to_dict() if self.coverage else None,
        }


# --------------------------------------------------------------------------- derived data


def compute_summary(cases: Iterable[Case]) -> dict[str, int]:
    cases = list(cases)
    summary = {"total": len(cases)}
    for o in OUTCOMES:
        summary[o] = sum(1 for c in cases if c.outcome == o)
    return summary


def compute_ledger(cases: Iterable[Case]) -> list[LedgerEntry]:
    """One row per (clause, chosen side), in the order the clauses first appear."""
    rows: dict[tuple[str, str | None], LedgerEntry] = {}
    for c in cases:
        alt = c.alternative
        if alt is None:
            continue
        key = (c.clause, alt.chosen)
        if key in rows:
            rows[key].cases += 1
        else:
            rows[key] = LedgerEntry(c.clause, alt.contradiction, alt.expected, alt.chosen, 1)
    return list(rows.values())


def compute_coverage(cases: Iterable[Case], catalog: Mapping[str, str]) -> Coverage:
    """Clauses in the catalog versus clauses exercised, per surface.

    ``catalog`` maps clause ID -> surface. A clause counts as exercised when at least
    one of its cases reached a verdict (any outcome but ``skipped`` and ``error``).
    Clauses a run names that the catalog does not hold are counted under their surface.
    """
    exercised: dict[str, str] = {}
    for c in cases:
        if c.outcome not in ("skipped", "error"):
            exercised[c.clause] = catalog.get(c.clause, c.surface)
    by_surface: dict[str, SurfaceCoverage] = {}
    for surface in catalog.values():
        by_surface.setdefault(surface, SurfaceCoverage(0, 0)).in_catalog += 1
    for surface in exercised.values():
        by_surface.setdefault(surface, SurfaceCoverage(0, 0)).exercised += 1
    return Coverage(len(catalog), len(exercised), by_surface)


# --------------------------------------------------------------------------- parsing


class _Reader:
    """Typed field access that raises :class:`ReportFormatError` with a path."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, problem: str) -> ReportFormatError:
        return ReportFormatError(self.where, path, problem)

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        if not isinstance(value, dict):
            raise self.fail(path, f"expected an object, got {_kind(value)}")
        return value

    def req(self, d: dict[str, Any], key: str, path: str) -> Any:
        if key not in d:
            raise self.fail(f"{path}.{key}" if path else key, "missing")
        return d[key]

    def str_(self, value: Any, path: str, *, optional: bool = False) -> str | None:
        if value is None and optional:
            return None
        if not isinstance(value, str):
            raise self.fail(path, f"expected a string, got {_kind(value)}")
        return value

    def int_(self, value: Any, path: str, *, optional: bool = False) -> int | None:
        if value is None and optional:
            return None
        if not isinstance(value, int) or isinstance(value, bool):
            raise self.fail(path, f"expected an integer, got {_kind(value)}")
        return value

    def num(self, value: Any, path: str, *, optional: bool = False) -> float | None:
        if value is None and optional:
            return None
        if not isinstance(value, int | float) or isinstance(value, bool):
            raise self.fail(path, f"expected a number, got {_kind(value)}")
        return float(value)

    def bool_(self, value: Any, path: str) -> bool:
        if not isinstance(value, bool):
            raise self.fail(path, f"expected true or false, got {_kind(value)}")
        return value

    def list_(self, value: Any, path: str) -> list[Any]:
        if value is None:
            return []
        if not isinstance(value, list):
            raise self.fail(path, f"expected a list, got {_kind(value)}")
        return value

    def str_list(self, value: Any, path: str) -> list[str]:
        items = self.list_(value, path)
        for i, v in enumerate(items):
            self.str_(v, f"{path}[{i}]")
        return list(items)

    def str_map(self, value: Any, path: str) -> dict[str, str]:
        if value is None:
            return {}
        d = self.obj(value, path)
        for k, v in d.items():
            self.str_(v, f"{path}.{k}")
        return dict(d)


def _kind(value: Any) -> str:
    if value is None:
        return "null"
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "a list",
        dict: "an object",
    }.get(type(value), type(value).__name__)


def parse_case(data: Any, where: str = "case", path: str = "case") -> Case:
    """One case object; raises :class:`ReportFormatError` naming the bad field."""
    r = _Reader(where)
    d = r.obj(data, path)
    outcome = r.str_(r.req(d, "outcome", path), f"{path}.outcome")
    if outcome not in OUTCOMES:
        raise r.fail(f"{path}.outcome", f"expected one of {', '.join(OUTCOMES)}; got {outcome!r}")
    alt = d.get("alternative")
    alternative = None
    if alt is not None:
        a = r.obj(alt, f"{path}.alternative")
        alternative = CaseAlternative(
            contradiction=r.int_(
                a.get("contradiction"), f"{path}.alternative.contradiction", optional=True
            ),
            expected=r.str_(a.get("expected"), f"{path}.alternative.expected", optional=True),
            chosen=r.str_(a.get("chosen"), f"{path}.alternative.chosen", optional=True),
            alternatives=r.str_map(a.get("alternatives"), f"{path}.alternative.alternatives"),
        )
    fixture = None
    if d.get("fixture") is not None:
        f = r.obj(d["fixture"], f"{path}.fixture")
        fixture = Fixture(
            id=r.str_(r.req(f, "id", f"{path}.fixture"), f"{path}.fixture.id"),  # type: ignore[arg-type]
            sha256=r.str_(f.get("sha256"), f"{path}.fixture.sha256", optional=True),
        )
    reproducer = None
    if d.get("reproducer") is not None:
        rp = r.obj(d["reproducer"], f"{path}.reproducer")
        reproducer = Reproducer(
            kind=r.str_(r.req(rp, "kind", f"{path}.reproducer"), f"{path}.reproducer.kind"),  # type: ignore[arg-type]
            text=r.str_(r.req(rp, "text", f"{path}.reproducer"), f"{path}.reproducer.text"),  # type: ignore[arg-type]
        )
    verdicts = d.get("verdicts")
    return Case(
        id=r.str_(r.req(d, "id", path), f"{path}.id"),  # type: ignore[arg-type]
        clause=r.str_(r.req(d, "clause", path), f"{path}.clause"),  # type: ignore[arg-type]
        surface=r.str_(r.req(d, "surface", path), f"{path}.surface"),  # type: ignore[arg-type]
        outcome=outcome,  # type: ignore[arg-type]
        nodeid=r.str_(d.get("nodeid"), f"{path}.nodeid", optional=True),
        tier=r.str_(d.get("tier"), f"{path}.tier", optional=True),
        requirement=r.str_(d.get("requirement"), f"{path}.requirement", optional=True),
        source=r.str_list(d.get("source"), f"{path}.source"),
        expected=r.str_list(d.get("expected"), f"{path}.expected"),
        actual=r.str_(d.get("actual"), f"{path}.actual", optional=True),
        message=r.str_(d.get("message"), f"{path}.message", optional=True),
        alternative=alternative,
        fixture=fixture,
        reproducer=reproducer,
        evidence=r.list_(d.get("evidence"), f"{path}.evidence"),
        verdicts=r.str_map(verdicts, f"{path}.verdicts") if verdicts is not None else None,
        duration_s=r.num(d.get("duration_s"), f"{path}.duration_s", optional=True),
    )


def parse_run(data: Any, where: str = REPORT_FILE) -> Run:
    """A whole report from its JSON value. ``where`` names the file in error messages."""
    r = _Reader(where)
    d = r.obj(data, "(top level)")
    version = r.int_(r.req(d, "schema_version", ""), "schema_version")
    if version != SCHEMA_VERSION:
        raise r.fail("schema_version", f"expected {SCHEMA_VERSION}, got {version}")
    complete = r.bool_(r.req(d, "complete", ""), "complete")
    t = r.obj(r.req(d, "target", ""), "target")
    target = Target(
        name=r.str_(r.req(t, "name", "target"), "target.name"),  # type: ignore[arg-type]
        kind=r.str_(t.get("kind", "emulator"), "target.kind"),  # type: ignore[arg-type]
        base_urls=r.str_map(t.get("base_urls"), "target.base_urls"),
        versions=r.str_map(t.get("versions"), "target.versions"),
        profile=r.str_(t["profile"], "target.profile") if t.get("profile") is not None else None,  # type: ignore[arg-type]
    )
    cases: list[Case] = []
    seen: set[str] = set()
    for i, c in enumerate(r.list_(d.get("cases"), "cases")):
        case = parse_case(c, where, f"cases[{i}]")
        if case.id in seen:
            raise r.fail(f"cases[{i}].id", f"duplicate case id {case.id!r}")
        seen.add(case.id)
        cases.append(case)
    aborted = None
    if d.get("aborted") is not None:
        a = r.obj(d["aborted"], "aborted")
        aborted = Aborted(
            reason=r.str_(r.req(a, "reason", "aborted"), "aborted.reason"),  # type: ignore[arg-type]
            exit_code=r.int_(r.req(a, "exit_code", "aborted"), "aborted.exit_code"),  # type: ignore[arg-type]
        )
    summary: dict[str, int] = {}
    if d.get("summary") is not None:
        s = r.obj(d["summary"], "summary")
        for k, v in s.items():
            summary[k] = r.int_(v, f"summary.{k}")  # type: ignore[assignment]
    else:
        summary = compute_summary(cases)
    if d.get("ledger") is not None:
        ledger = []
        for i, e in enumerate(r.list_(d["ledger"], "ledger")):
            p = f"ledger[{i}]"
            e = r.obj(e, p)
            ledger.append(
                LedgerEntry(
                    clause=r.str_(r.req(e, "clause", p), f"{p}.clause"),  # type: ignore[arg-type]
                    contradiction=r.int_(
                        e.get("contradiction"), f"{p}.contradiction", optional=True
                    ),
                    expected=r.str_(e.get("expected"), f"{p}.expected", optional=True),
                    chosen=r.str_(e.get("chosen"), f"{p}.chosen", optional=True),
                    cases=r.int_(e.get("cases", 0), f"{p}.cases"),  # type: ignore[arg-type]
                )
            )
    else:
        ledger = compute_ledger(cases)
    coverage = None
    if d.get("coverage") is not None:
        cv = r.obj(d["coverage"], "coverage")
        by_surface = {}
        bs = r.obj(cv.get("by_surface") or {}, "coverage.by_surface")
        for s, v in bs.items():
            p = f"coverage.by_surface.{s}"
            v = r.obj(v, p)
            by_surface[s] = SurfaceCoverage(
                in_catalog=r.int_(r.req(v, "in_catalog", p), f"{p}.in_catalog"),  # type: ignore[arg-type]
                exercised=r.int_(r.req(v, "exercised", p), f"{p}.exercised"),  # type: ignore[arg-type]
            )
        coverage = Coverage(
            clauses_in_catalog=r.int_(  # type: ignore[arg-type]
                r.req(cv, "clauses_in_catalog", "coverage"), "coverage.clauses_in_catalog"
            ),
            clauses_exercised=r.int_(  # type: ignore[arg-type]
                r.req(cv, "clauses_exercised", "coverage"), "coverage.clauses_exercised"
            ),
            by_surface=by_surface,
        )
    return Run(
        target=target,
        cases=cases,
        schema_version=version,  # type: ignore[arg-type]
        harness_version=r.str_(d.get("harness_version"), "harness_version", optional=True),
        complete=complete,
        aborted=aborted,
        started_at=r.str_(d.get("started_at"), "started_at", optional=True),
        finished_at=r.str_(d.get("finished_at"), "finished_at", optional=True),
        duration_s=r.num(d.get("duration_s"), "duration_s", optional=True),
        strict=r.bool_(d.get("strict", False), "strict"),
        exit_code=r.int_(d.get("exit_code"), "exit_code", optional=True),
        summary=summary,
        ledger=ledger,
        coverage=coverage,
    )


def load_run(path: str | Path) -> Run:
    """Read a ``conformance.json`` (or the directory holding one).

    Raises :class:`ReportFormatError` for a missing, unreadable or invalid file.
    """
    p = Path(path)
    if p.is_dir():
        p = p / REPORT_FILE
    where = str(p)
    try:
        text = p.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ReportFormatError(where, "(file)", "no such file") from None
    except OSError as exc:
        raise ReportFormatError(where, "(file)", f"cannot read: {exc.strerror or exc}") from None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as exc:
        raise ReportFormatError(
            where, "(file)", f"not JSON: {exc.msg} at line {exc.lineno} column {exc.colno}"
        ) from None
    run = parse_run(data, where)
    run.path = p
    return run
