"""The run report as data: load and validate ``conformance.json`` (schema version 1).

See ``docs/REPORT-FORMAT.md``. Loading is strict about shape (a bad field is a
:class:`ReportFormatError` naming the file and the field) and tolerant of partial
reports: an interrupted run has ``finished: false`` and may lack ``finished_at``,
``summary``, ``ledger``, ``coverage`` or ``not_tested``; they are recomputed from the cases
when absent. ``complete`` is true only for a finished run in which every selected case reached
a verdict (nothing skipped, nothing errored).
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from harness import configio as cio
from harness.configio import FieldError
from harness.outcomes import BY_SEVERITY, NOT_TESTED, Outcome
from harness.records import Record, json_keys

if TYPE_CHECKING:
    from harness.contract import Clause

SCHEMA_VERSION = 1
REPORT_FILE = "conformance.json"

#: Every case outcome, in the order reports list them; worst first; not tested.
OUTCOMES: tuple[str, ...] = tuple(Outcome)
SEVERITY: tuple[str, ...] = BY_SEVERITY
NOT_TESTED_OUTCOMES: tuple[str, ...] = NOT_TESTED

#: Why a case was not tested: ``reason`` of a case and key of ``not_tested_by_reason``.
REASONS: dict[str, str] = {
    "cost-cap": "cost cap",
    "not-served": "surface not served",
    "missing-surface": "surface not in the profile",
    "missing-role": "role not in the profile",
    "missing-limit": "limit not in the profile",
    "needs-emulator": "needs the emulator's switches",
    "cannot-provoke": "the target cannot be made to show it",
    "target-stalled": "the target stopped finishing streams",
    "set-up-failed": "set-up failed",
    "no-judgement": "the case made no judgement",
    "harness-error": "could not test",
    "other": "not applicable",
}


class ReportFormatError(ValueError):
    """A ``conformance.json`` that is not valid: the message names the file and the field."""

    def __init__(self, where: str, field_path: str, problem: str) -> None:
        self.where = where
        self.field = field_path
        self.problem = problem
        super().__init__(f"{where}: {field_path}: {problem}")


# --------------------------------------------------------------------------- dataclasses


@dataclass
class Target(Record):
    name: str
    kind: str = "emulator"  # "emulator" or "live"
    base_urls: dict[str, str] = field(default_factory=dict)
    versions: dict[str, str] = field(default_factory=dict)
    profile: str | None = None  # the profile file (for `harness replay`), or a description
    emulator_config: str | None = None  # the embedded emulator's --emulator-config file

    _OPTIONAL = frozenset({"profile", "emulator_config"})


@dataclass
class Fixture(Record):
    id: str
    sha256: str | None = None


@dataclass
class Reproducer(Record):
    kind: str  # "curl" or "python"
    text: str
    file: str | None = None  # the script under the report directory (reproduce/<case>.sh|.py)

    _OPTIONAL = frozenset({"file"})


@dataclass
class CaseAlternative(Record):
    """Which documented side of a disputed clause the target showed in one case."""

    contradiction: int | None
    expected: str | None
    chosen: str | None
    alternatives: dict[str, str] = field(default_factory=dict)  # key -> summary

    @property
    def as_expected(self) -> bool:
        return self.chosen == self.expected

    def fill_from(self, clause: Clause) -> None:
        """Fill what the case left out from its disputed ``clause``: the contradiction, the
        expected (preferred) side and the sides' summaries."""
        if self.contradiction is None:
            self.contradiction = clause.contradiction
        if self.expected is None:
            self.expected = clause.preferred
        if not self.alternatives:
            self.alternatives = {a.key: a.summary for a in clause.alternatives}


@dataclass
class Case(Record):
    id: str
    clause: str
    surface: str
    outcome: Outcome
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
    reason: str | None = None  # not tested (skipped / error): a key of REASONS
    cause: str | None = None  # not tested: the one-line cause cases are grouped by
    audio: dict[str, float] | None = None  # audio seconds the case sent, per surface

    _KEYS = json_keys(
        "id nodeid clause surface tier requirement source outcome expected actual message "
        "alternative fixture reproducer evidence verdicts duration_s reason cause audio"
    )
    _OPTIONAL = frozenset({"reason", "cause", "audio"})  # absent when unset

    @property
    def tested(self) -> bool:
        return Outcome(self.outcome).tested


@dataclass
class LedgerEntry(Record):
    """One row of the contradictions ledger: the side a target chose for a disputed clause."""

    clause: str
    contradiction: int | None
    expected: str | None
    chosen: str | None
    cases: int

    @property
    def as_expected(self) -> bool:
        return self.chosen == self.expected


@dataclass
class SurfaceCoverage(Record):
    in_catalog: int
    exercised: int


@dataclass
class Coverage(Record):
    clauses_in_catalog: int
    clauses_exercised: int
    by_surface: dict[str, SurfaceCoverage] = field(default_factory=dict)


@dataclass
class NotTestedGroup(Record):
    """Cases that were not tested for one cause (e.g. a surface the target does not serve)."""

    cause: str
    reason: str
    outcome: str  # "skipped" or "error"
    cases: list[str] = field(default_factory=list)
    surfaces: dict[str, int] = field(default_factory=dict)

    _KEYS = ("cause", "reason", "outcome", "count", "surfaces", "cases")

    @property
    def count(self) -> int:
        return len(self.cases)


@dataclass
class Aborted(Record):
    reason: str
    exit_code: int


@dataclass
class Run(Record):
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
    finished: bool = False  # the run reached its end (not interrupted, not aborted)
    not_tested: list[NotTestedGroup] = field(default_factory=list)
    cost: dict[str, Any] | None = None  # live targets: estimate and spend per surface
    path: Path | None = None  # where it was loaded from (not serialised)

    _KEYS = json_keys(
        "schema_version harness_version complete finished aborted started_at finished_at "
        "duration_s strict exit_code target summary not_tested_by_reason not_tested cost "
        "cases ledger coverage"
    )

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
    def tested(self) -> int:
        """Cases that reached a verdict (anything but ``skipped`` and ``error``)."""
        return sum(1 for c in self.cases if c.tested)

    @property
    def not_tested_count(self) -> int:
        return len(self.cases) - self.tested

    @property
    def not_tested_by_reason(self) -> dict[str, int]:
        out: dict[str, int] = {}
        for g in self.not_tested:
            out[g.reason] = out.get(g.reason, 0) + g.count
        return out

    @property
    def verdict(self) -> str:
        """``conforms``, ``violations``, ``could-not-test``, ``nothing-run`` or ``partial``.

        ``conforms`` says nothing about completeness: check :attr:`complete` (or
        :attr:`not_tested_count`) before calling a run a full pass.
        """
        if self.aborted is not None or (self.cases and not any(c.tested for c in self.cases)):
            return "could-not-test"
        if self.summary.get("failed", 0):
            return "violations"
        if not self.finished:
            return "partial"
        if not self.cases:
            return "nothing-run"
        return "conforms"


# --------------------------------------------------------------------------- derived data


def compute_summary(cases: Iterable[Case]) -> dict[str, int]:
    cases = list(cases)
    summary = {"total": len(cases)}
    for o in OUTCOMES:
        summary[o] = sum(1 for c in cases if c.outcome == o)
    return summary


def compute_not_tested(cases: Iterable[Case]) -> list[NotTestedGroup]:
    """The cases that reached no verdict, grouped by cause (largest group first)."""
    groups: dict[tuple[str, str], NotTestedGroup] = {}
    for c in cases:
        if c.tested:
            continue
        reason = c.reason or ("harness-error" if c.outcome == "error" else "other")
        cause = c.cause or " ".join((c.message or c.outcome).split())
        g = groups.get((c.outcome, cause))
        if g is None:
            g = groups[(c.outcome, cause)] = NotTestedGroup(cause, reason, c.outcome)
        g.cases.append(c.id)
        g.surfaces[c.surface] = g.surfaces.get(c.surface, 0) + 1
    return sorted(groups.values(), key=lambda g: (-g.count, g.cause))


def is_complete(run: Run) -> bool:
    """Finished, something ran, and every case reached a verdict."""
    return run.finished and bool(run.cases) and all(c.tested for c in run.cases)


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
    """``conformance.json`` fields through :mod:`harness.configio` (the one typed reader);
    its errors become :class:`ReportFormatError` naming this file and the field."""

    def __init__(self, where: str) -> None:
        self.where = where

    def fail(self, path: str, problem: str) -> ReportFormatError:
        return ReportFormatError(self.where, path, problem)

    def _check(self, check: Callable[..., Any], value: Any, path: str, **kw: Any) -> Any:
        try:
            return check(value, path, **kw)
        except FieldError as exc:
            raise self.fail(exc.path, exc.problem) from None

    def obj(self, value: Any, path: str) -> dict[str, Any]:
        return self._check(cio.table, value, path, what="an object")

    def req(self, d: dict[str, Any], key: str, path: str) -> Any:
        if key not in d:
            raise self.fail(cio.join(path, key), "expected a value, got nothing")
        return d[key]

    def str_(self, value: Any, path: str, *, optional: bool = False) -> str | None:
        return None if value is None and optional else self._check(cio.string, value, path)

    def int_(self, value: Any, path: str, *, optional: bool = False) -> int | None:
        return None if value is None and optional else self._check(cio.integer, value, path)

    def num(self, value: Any, path: str, *, optional: bool = False) -> float | None:
        return None if value is None and optional else self._check(cio.number, value, path)

    def bool_(self, value: Any, path: str) -> bool:
        return self._check(cio.boolean, value, path)

    def list_(self, value: Any, path: str) -> list[Any]:
        return [] if value is None else self._check(cio.array, value, path)

    def str_list(self, value: Any, path: str) -> list[str]:
        return [] if value is None else self._check(cio.strings, value, path)

    def str_map(self, value: Any, path: str) -> dict[str, str]:
        if value is None:
            return {}
        d = self.obj(value, path)
        for k, v in d.items():
            self.str_(v, f"{path}.{k}")
        return dict(d)


def parse_case(data: Any, where: str = "case", path: str = "case") -> Case:
    """One case object; raises :class:`ReportFormatError` naming the bad field."""
    r = _Reader(where)
    d = r.obj(data, path)
    outcome = r.str_(r.req(d, "outcome", path), f"{path}.outcome")
    if outcome not in OUTCOMES:
        raise r.fail(f"{path}.outcome", f"expected {cio.one_of(OUTCOMES)}, got {outcome!r}")
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
            file=r.str_(rp.get("file"), f"{path}.reproducer.file", optional=True),
        )
    verdicts = d.get("verdicts")
    return Case(
        id=r.str_(r.req(d, "id", path), f"{path}.id"),  # type: ignore[arg-type]
        clause=r.str_(r.req(d, "clause", path), f"{path}.clause"),  # type: ignore[arg-type]
        surface=r.str_(r.req(d, "surface", path), f"{path}.surface"),  # type: ignore[arg-type]
        outcome=Outcome(outcome),
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
        reason=r.str_(d.get("reason"), f"{path}.reason", optional=True),
        cause=r.str_(d.get("cause"), f"{path}.cause", optional=True),
        audio=_audio(r, d.get("audio"), f"{path}.audio"),
    )


def _audio(r: _Reader, value: Any, path: str) -> dict[str, float] | None:
    if value is None:
        return None
    d = r.obj(value, path)
    return {s: r.num(v, f"{path}.{s}") for s, v in d.items()}  # type: ignore[misc]


def parse_run(data: Any, where: str = REPORT_FILE) -> Run:
    """A whole report from its JSON value. ``where`` names the file in error messages."""
    r = _Reader(where)
    d = r.obj(data, "(top level)")
    version = r.int_(r.req(d, "schema_version", ""), "schema_version")
    if version != SCHEMA_VERSION:
        raise r.fail("schema_version", f"expected {SCHEMA_VERSION}, got {version}")
    complete = r.bool_(r.req(d, "complete", ""), "complete")
    # Reports before `finished` existed used `complete` for "the run reached its end".
    finished = r.bool_(d.get("finished", complete), "finished")
    t = r.obj(r.req(d, "target", ""), "target")
    target = Target(
        name=r.str_(r.req(t, "name", "target"), "target.name"),  # type: ignore[arg-type]
        kind=r.str_(t.get("kind", "emulator"), "target.kind"),  # type: ignore[arg-type]
        base_urls=r.str_map(t.get("base_urls"), "target.base_urls"),
        versions=r.str_map(t.get("versions"), "target.versions"),
        profile=r.str_(t["profile"], "target.profile") if t.get("profile") is not None else None,  # type: ignore[arg-type]
        emulator_config=r.str_(t.get("emulator_config"), "target.emulator_config", optional=True),
    )
    cases: list[Case] = []
    seen: set[str] = set()
    for i, c in enumerate(r.list_(d.get("cases"), "cases")):
        case = parse_case(c, where, f"cases[{i}]")
        if case.id in seen:
            raise r.fail(f"cases[{i}].id", f"expected an id no other case has, got {case.id!r}")
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
        finished=finished,
        not_tested=_parse_not_tested(r, d.get("not_tested"), cases),
        cost=r.obj(d["cost"], "cost") if d.get("cost") is not None else None,
    )


def _parse_not_tested(r: _Reader, value: Any, cases: list[Case]) -> list[NotTestedGroup]:
    if value is None:
        return compute_not_tested(cases)
    groups = []
    for i, g in enumerate(r.list_(value, "not_tested")):
        p = f"not_tested[{i}]"
        g = r.obj(g, p)
        surfaces = r.obj(g.get("surfaces") or {}, f"{p}.surfaces")
        for s, n in surfaces.items():
            r.int_(n, f"{p}.surfaces.{s}")
        groups.append(
            NotTestedGroup(
                cause=r.str_(r.req(g, "cause", p), f"{p}.cause"),  # type: ignore[arg-type]
                reason=r.str_(r.req(g, "reason", p), f"{p}.reason"),  # type: ignore[arg-type]
                outcome=r.str_(g.get("outcome", "skipped"), f"{p}.outcome"),  # type: ignore[arg-type]
                cases=r.str_list(g.get("cases"), f"{p}.cases"),
                surfaces=dict(surfaces),
            )
        )
    return groups


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
