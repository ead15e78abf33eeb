"""The few lines a person reads in the terminal at the end of a run."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from .model import OUTCOMES, Run

_COLUMNS = ("surface", *OUTCOMES, "total")


def _table(headers: Sequence[str], rows: Sequence[Sequence[object]]) -> str:
    table = [[str(h) for h in headers], *[["" if v is None else str(v) for v in r] for r in rows]]
    widths = [max(len(r[i]) for r in table) for i in range(len(headers))]

    def line(r: Sequence[str]) -> str:
        first = r[0].ljust(widths[0])
        rest = (v.rjust(w) for v, w in zip(r[1:], widths[1:], strict=True))
        return "  ".join([first, *rest]).rstrip()

    lines = [line(r) for r in table]
    lines.insert(1, "  ".join("-" * w for w in widths))
    return "\n".join(lines)


def _one_line(text: str | None, width: int = 100) -> str:
    s = " ".join((text or "").split())
    return s if len(s) <= width else s[: width - 1] + "…"


def verdict_line(run: Run) -> str:
    s = run.summary
    v = run.verdict
    if v == "could-not-test":
        why = run.aborted.reason if run.aborted else "every case errored"
        return f"COULD NOT TEST: {why}"
    if v == "violations":
        n = s.get("failed", 0)
        tail = " (partial run)" if not run.complete else ""
        return f"{n} VIOLATION{'S' if n != 1 else ''}{tail}"
    if v == "partial":
        return f"PARTIAL RUN: {s.get('total', 0)} cases so far, no violations yet"
    extra = f", {s['non-strict']} non-strict" if s.get("non-strict") else ""
    return f"CONFORMS{extra}"


def terminal_summary(run: Run, paths: Sequence[str | Path] | None = None) -> str:
    """A table per surface, the failed cases with clause and message, and the report paths.

    ``paths`` defaults to the run's ``conformance.json`` and ``index.html`` when known.
    """
    surfaces: dict[str, dict[str, int]] = {}
    for c in run.cases:
        counts = surfaces.setdefault(c.surface, dict.fromkeys(OUTCOMES, 0))
        counts[c.outcome] += 1
    rows = [
        (s, *(counts[o] for o in OUTCOMES), sum(counts.values()))
        for s, counts in sorted(surfaces.items())
    ]
    totals = [sum(r[i + 1] for r in rows) for i in range(len(OUTCOMES))]  # type: ignore[misc]
    rows.append(("all", *totals, sum(totals)))

    out = [
        f"Conformance: {run.target.name} ({run.target.kind})" + (" --strict" if run.strict else "")
    ]
    out.append(_table(_COLUMNS, rows))
    failed = run.by_outcome("failed")
    if failed:
        out.append("")
        out.append(f"Failed ({len(failed)}):")
        for c in failed:
            out.append(f"  {c.id}")
            out.append(f"      [{c.tier or '?'}] {c.clause}: {_one_line(c.message or c.actual)}")
    errors = run.by_outcome("error")
    if errors:
        out.append("")
        out.append(f"Could not test ({len(errors)}):")
        for c in errors[:10]:
            out.append(f"  {c.id}: {_one_line(c.message)}")
        if len(errors) > 10:
            out.append(f"  … and {len(errors) - 10} more (see the report)")
    out.append("")
    out.append(verdict_line(run))
    if paths is None and run.report_dir is not None:
        d = run.report_dir
        paths = [d / "conformance.json"] + (
            [d / "index.html"] if (d / "index.html").exists() else []
        )
    for p in paths or ():
        out.append(f"report: {p}")
    return "\n".join(out)
