"""What changed between two runs: regressions, fixes, changed alternatives, new and gone cases.

Cases are matched by ``id`` (stable across runs by the report format's promise).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from harness.records import Record, json_keys

from .model import Case, Run

_BAD = ("failed", "error")
_GOOD = ("passed", "non-strict", "informational")


@dataclass(frozen=True)
class CaseChange(Record):
    id: str
    clause: str
    before: str | None  # outcome in the baseline (None: the case is new)
    after: str | None  # outcome now (None: the case is gone)
    message: str | None = None  # the current message (or the baseline's, when gone)


@dataclass(frozen=True)
class AlternativeChange(Record):
    id: str
    clause: str
    contradiction: int | None
    expected: str | None
    before: str | None  # the side chosen in the baseline
    after: str | None  # the side chosen now


@dataclass
class RunDiff(Record):
    baseline: str
    current: str
    regressed: list[CaseChange] = field(default_factory=list)
    fixed: list[CaseChange] = field(default_factory=list)
    changed: list[CaseChange] = field(default_factory=list)  # other outcome changes
    changed_alternative: list[AlternativeChange] = field(default_factory=list)
    appeared: list[CaseChange] = field(default_factory=list)
    disappeared: list[CaseChange] = field(default_factory=list)
    untested: list[CaseChange] = field(default_factory=list)  # tested before, skipped now
    current_partial: bool = False
    allow_missing: bool = False

    _KEYS = json_keys(
        "baseline current current_partial allow_missing regressed fixed changed "
        "changed_alternative appeared disappeared untested"
    )

    @property
    def has_regressions(self) -> bool:
        return bool(self.regressed)

    def format_text(self) -> str:
        out = [f"baseline: {self.baseline}", f"current:  {self.current}"]
        if self.current_partial:
            out.append("note: the current run did not finish (finished: false)")
        missing = len(self.disappeared) + len(self.untested)
        if missing and self.allow_missing:
            out.append(f"note: {missing} baseline cases not tested now (allowed: --allow-missing)")

        def section(title: str, items: list[CaseChange]) -> None:
            if not items:
                return
            out.append("")
            out.append(f"{title} ({len(items)}):")
            for c in items:
                arrow = f"{c.before or '(new)'} -> {c.after or '(gone)'}"
                out.append(f"  {c.id}  {arrow}")
                if c.message:
                    out.append(f"      {c.clause}: {' '.join(c.message.split())[:100]}")

        section("Regressed", self.regressed)
        section("Fixed", self.fixed)
        section("Other outcome changes", self.changed)
        if self.changed_alternative:
            out.append("")
            out.append(f"Changed alternative ({len(self.changed_alternative)}):")
            for a in self.changed_alternative:
                row = f" (contradiction #{a.contradiction})" if a.contradiction else ""
                out.append(f"  {a.id}  {a.before} -> {a.after}{row}; expected side: {a.expected}")
        section("Appeared", self.appeared)
        section("Disappeared (in the baseline, not in the current run)", self.disappeared)
        section("No longer tested (a verdict before, skipped now)", self.untested)
        out.append("")
        out.append(
            f"{len(self.regressed)} regressed, {len(self.fixed)} fixed, "
            f"{len(self.changed_alternative)} changed alternative, "
            f"{len(self.appeared)} appeared, {len(self.disappeared)} disappeared, "
            f"{len(self.untested)} no longer tested"
        )
        return "\n".join(out)


def _change(case: Case, before: str | None, after: str | None) -> CaseChange:
    return CaseChange(case.id, case.clause, before, after, case.message)


def diff_runs(baseline: Run, current: Run, *, allow_missing: bool = False) -> RunDiff:
    """Compare two runs case by case.

    - regressed: now ``failed`` or ``error`` and was neither before, or was ``error`` and is now
      ``failed``; a new case that fails counts too; and, unless ``allow_missing``, a case of
      the baseline that is missing now (unless it was ``skipped`` then) or that reached a
      verdict then and is ``skipped`` now (a run that tests less never passes a gate silently).
    - fixed: was ``failed``/``error``, now ``passed``/``non-strict``/``informational``.
    - changed_alternative: a disputed clause's ``chosen`` side differs.
    """
    d = RunDiff(
        baseline=str(baseline.path or "baseline"),
        current=str(current.path or "current"),
        current_partial=not current.finished,
        allow_missing=allow_missing,
    )
    before = {c.id: c for c in baseline.cases}
    now = {c.id: c for c in current.cases}
    for cid, cur in now.items():
        old = before.get(cid)
        if old is None:
            d.appeared.append(_change(cur, None, cur.outcome))
            if cur.outcome == "failed":
                d.regressed.append(_change(cur, None, cur.outcome))
            continue
        a, b = old.outcome, cur.outcome
        if a != b:
            if (b in _BAD and a not in _BAD) or (a == "error" and b == "failed"):
                d.regressed.append(_change(cur, a, b))
            elif b == "skipped" and a in _GOOD:
                d.untested.append(_change(cur, a, b))
                if not allow_missing:
                    d.regressed.append(_change(cur, a, b))
            elif a in _BAD and b in _GOOD:
                d.fixed.append(_change(cur, a, b))
            else:
                d.changed.append(_change(cur, a, b))
        if old.alternative and cur.alternative and old.alternative.chosen != cur.alternative.chosen:
            d.changed_alternative.append(
                AlternativeChange(
                    cid,
                    cur.clause,
                    cur.alternative.contradiction,
                    cur.alternative.expected,
                    old.alternative.chosen,
                    cur.alternative.chosen,
                )
            )
    for cid, old in before.items():
        if cid not in now:
            d.disappeared.append(_change(old, old.outcome, None))
            if not allow_missing and old.outcome != "skipped":  # a skip lost nothing
                d.regressed.append(_change(old, old.outcome, None))
    return d
