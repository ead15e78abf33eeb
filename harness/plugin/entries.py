"""One typed report record (:class:`harness.report.model.Case`) per case, built once from
the case's verdicts, the clause and pytest's report, and redacted once.

The outcome: a skip is ``skipped``; a could-not-test, a harness exception or a case that made
no judgement is ``error``; a plain ``assert`` the target broke is ``failed``; otherwise the
worst of the case's verdicts. The record carries the main verdict's expected/actual, the
side a disputed clause's target chose, the evidence, and the reproducer of the exchange the
main verdict judged (a script under ``reproduce/`` for a failed or non-strict case).
"""

from __future__ import annotations

import dataclasses
from enum import Enum
from typing import Any, TypeVar

import pytest

from harness.checks import Verdict, worst
from harness.client import Recorder
from harness.contract import Clause, UnknownClauseError, get
from harness.not_tested import CouldNotTest, NotTested, classify_skip, error_cause
from harness.outcomes import Outcome
from harness.redact import Redactor
from harness.report.model import Case, CaseAlternative, Fixture, Reproducer

from .case import CaseContext, clause_id
from .session import HarnessSession

EVIDENCE_ITEMS = 10  # exchanges kept in a case's evidence (the judged one always among them)

_T = TypeVar("_T")


def case_record(
    item: pytest.Item,
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    ctx: CaseContext | None,
    hs: HarnessSession,
) -> Case:
    """The case's report record (redacted), complete: the writer adds nothing to it."""
    clause = _clause(item, ctx)
    verdicts = ctx.verdicts if ctx is not None else []
    outcome, message, reason, cause = _outcome(report, call, verdicts, hs.redactor)
    main: Verdict | None = None
    expected: list[str] = []
    actual = ""
    alternative: dict[str, Any] | None = None
    if verdicts:
        main = next((v for v in verdicts if v.outcome == outcome), verdicts[-1])
        expected = list(main.expected)
        actual = hs.redactor.text(main.actual)
        alternative = next((v.alternative for v in verdicts if v.alternative), None)
        if outcome.tested and not message:
            message = main.message
    cid = clause.id if clause else (clause_id(item) or "unknown/unknown")
    record = Case(
        id=f"{cid}::{item.name}",
        nodeid=item.nodeid,
        clause=cid,
        surface=clause.surface.value if clause else cid.split("/")[0],
        tier=clause.tier.value if clause else None,
        requirement=clause.requirement if clause else None,
        source=[str(s) for s in clause.sources] if clause else [],
        outcome=outcome,
        expected=expected,
        actual=actual,
        message=message,
        alternative=_alternative(alternative, clause),
        fixture=Fixture(**ctx.recorder.audio) if ctx is not None and ctx.recorder.audio else None,
        duration_s=round(report.duration, 4),
        verdicts={v.aspect: v.outcome for v in verdicts}
        if len({v.aspect for v in verdicts}) > 1
        else None,
    )
    if reason is not None:
        record.reason = reason
        record.cause = hs.redactor.text(" ".join((cause or message).split()))
    if ctx is not None and ctx.audio:
        record.audio = {s: round(v, 3) for s, v in sorted(ctx.audio.items())}
    if ctx is not None:
        try:
            attach_exchange(record, ctx, main, hs)
        finally:
            ctx.recorder.release()  # the run keeps every case's context: not its audio
    return redact(record, hs.redactor)


def _clause(item: pytest.Item, ctx: CaseContext | None) -> Clause | None:
    if ctx is not None and ctx._clause is not None:
        return ctx._clause
    cid = clause_id(item)
    if not cid:
        return None
    try:
        return get(cid)
    except UnknownClauseError:
        return None


def _outcome(
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    verdicts: list[Verdict],
    redactor: Redactor,
) -> tuple[Outcome, str, str | None, str | None]:
    """The case's outcome, message, and (not tested) reason and cause."""
    exc = call.excinfo.value if call.excinfo is not None else None
    if report.skipped:
        message = skip_reason(report)
        if isinstance(exc, NotTested):
            return Outcome.SKIPPED, message, exc.reason, exc.cause
        return Outcome.SKIPPED, message, classify_skip(message), message
    if isinstance(exc, CouldNotTest):
        return Outcome.ERROR, redactor.text(str(exc)), exc.reason, exc.cause
    if exc is not None and not isinstance(exc, AssertionError):
        message = redactor.text(f"could not test: {type(exc).__name__}: {exc}")
        return Outcome.ERROR, message, "harness-error", redactor.text(error_cause(exc))
    if exc is not None:  # a plain assert in the case: the target broke it
        return Outcome.FAILED, redactor.text(str(exc).split("\n")[0]), None, None
    if not verdicts:
        message = "the case made no judgement (a check that cannot fail)"
        return Outcome.ERROR, message, "no-judgement", message
    return worst([v.outcome for v in verdicts]), "", None, None


def _alternative(alt: dict[str, Any] | None, clause: Clause | None) -> CaseAlternative | None:
    """The documented side the target chose, with the clause's sides named."""
    if alt is None:
        return None
    out = CaseAlternative(
        contradiction=alt.get("contradiction"),
        expected=alt.get("expected"),
        chosen=alt.get("chosen"),
        alternatives=dict(alt.get("alternatives") or {}),
    )
    if clause is not None and clause.disputed:
        out.fill_from(clause)
    return out


def expected_actual(record: Case) -> str:
    exp = " | ".join(record.expected) or "-"
    return f"Expected: {exp}\nActual:   {record.actual or '-'}"


def _context_notes(rec: Recorder, judged: int) -> list[str]:
    """What a single request cannot repeat: the case's other exchanges, emulator switches."""
    notes = []
    made = [i for i, x in enumerate(rec.exchanges) if x is not None]
    if len(made) > 1:
        notes.append(
            f"The case made {len(made)} requests/sessions; this is #{made.index(judged) + 1}, "
            "the one its verdict judged. State the others left (load held, resources made, "
            "counters used) is not recreated here: see the case's evidence."
        )
    for at, what in rec.controls:
        when = "Before" if at <= judged else "After"
        notes.append(f"{when} it, the case switched the emulator (control endpoint: {what}).")
    return notes


def attach_exchange(record: Case, ctx: Any, main: Verdict | None, hs: Any) -> None:
    """Evidence, and the reproducer of the exchange the main verdict judged (written to
    ``reproduce/`` for a failed or non-strict case). ``ctx`` has a ``recorder``; ``hs`` a
    ``reproduce`` writer."""
    rec = ctx.recorder
    judged = main.extra.get("exchange") if main is not None else rec.last_exchange
    if not isinstance(judged, int) or not 0 <= judged < len(rec.items):
        judged = rec.last_exchange
    keep = list(range(min(len(rec.items), EVIDENCE_ITEMS)))
    if judged is not None and judged not in keep:
        keep = keep[: EVIDENCE_ITEMS - 1] + [judged]
    record.evidence = [
        {**rec.items[i], "judged": True} if i == judged else rec.items[i] for i in keep
    ]
    exchange = rec.exchanges[judged] if judged is not None else None
    if exchange is None or hs.reproduce is None:
        return
    summary = [f"{record.clause} [{record.tier}]: {record.outcome}"]
    if record.expected:
        summary.append("expected: " + " | ".join(record.expected))
    if record.actual:
        summary.append("the run saw: " + record.actual)
    summary += _context_notes(rec, judged)
    try:
        if record.outcome in (Outcome.FAILED, Outcome.NON_STRICT):
            record.reproducer = Reproducer(**hs.reproduce.write(record.id, exchange, summary))
        else:
            out = hs.reproduce.render(record.id, exchange, summary)
            record.reproducer = Reproducer(out.kind, out.core)  # no file: the gist
    except Exception as exc:  # noqa: BLE001 - a reproducer problem never hides the verdict
        record.reproducer = None
        note = f"(reproducer not written: {type(exc).__name__}: {exc})"
        record.message = f"{record.message} {note}".strip()


def skip_reason(report: pytest.TestReport) -> str:
    """A skip's text without pytest's "<exception type>: " prefix ("Skipped: ", or the full
    name of a subclass such as :class:`NotTested`)."""
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        text = str(report.longrepr[2])
        for kind in ("Skipped", f"{NotTested.__module__}.{NotTested.__qualname__}"):
            text = text.removeprefix(f"{kind}: ")
        return text
    return str(report.longrepr or "skipped")


def redact(value: _T, redactor: Redactor) -> _T:
    """Every string in a record (dataclasses, dicts, lists; dict keys too), outcomes aside."""
    if isinstance(value, Enum) or value is None:
        return value
    if isinstance(value, str):
        return redactor.text(value)  # type: ignore[return-value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        changes = {
            f.name: redact(getattr(value, f.name), redactor) for f in dataclasses.fields(value)
        }
        return dataclasses.replace(value, **changes)  # type: ignore[return-value]
    if isinstance(value, dict):
        return {redactor.text(str(k)): redact(v, redactor) for k, v in value.items()}  # type: ignore[return-value]
    if isinstance(value, list | tuple):
        return [redact(v, redactor) for v in value]  # type: ignore[return-value]
    return value
