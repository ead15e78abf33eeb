"""The few lines a person reads in the terminal at the end of a run.

One set of counts (the table), the failures with expected and actual on one line, the
non-strict cases, the cases that were not tested grouped by cause, the cost of a live run,
and a verdict line that never says a bare CONFORMS when part of the selection was not tested.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from .model import OUTCOMES, REASONS, NotTestedGroup, Run

_COLUMNS = ("surface", *OUTCOMES, "total")
GROUPS_SHOWN = 12  # not-tested causes listed in the terminal (all of them are in the report)


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


def _plural(n: int, word: str) -> str:
    return f"{n} {word}{'' if n == 1 else 's'}"


def not_run_text(run: Run) -> str:
    """ "286 not run: cost cap" or "290 not run: 286 cost cap, 4 surface not served"."""
    by_reason = run.not_tested_by_reason
    n = sum(by_reason.values())
    if not n:
        return ""
    labels = [(REASONS.get(r, r), c) for r, c in sorted(by_reason.items(), key=lambda x: -x[1])]
    if len(labels) == 1:
        return f"{n} not run: {labels[0][0]}"
    return f"{n} not run: " + ", ".join(f"{c} {label}" for label, c in labels)


def verdict_line(run: Run) -> str:
    s = run.summary
    v = run.verdict
    total = s.get("total", len(run.cases))
    if v == "could-not-test":
        why = run.aborted.reason if run.aborted else f"no case was tested; {not_run_text(run)}"
        return f"COULD NOT TEST: {why}"
    if v == "nothing-run":
        return "NOTHING RUN: no case matched the selection"
    not_run = not_run_text(run)
    if v == "violations":
        n = s.get("failed", 0)
        tail = f" ({run.tested} of {total} cases tested; {not_run})" if not_run else ""
        if not run.finished:
            tail += " (partial run)"
        return f"{n} VIOLATION{'S' if n != 1 else ''}{tail}"
    if v == "partial":
        return f"PARTIAL RUN: {total} cases so far, no violations yet"
    extra = f" ({s['non-strict']} non-strict)" if s.get("non-strict") else ""
    if not_run:
        return f"CONFORMS on {run.tested} of {total} cases{extra}; {not_run}"
    return f"CONFORMS (all {total} cases tested){extra}"


def _per_surface(part: Mapping[str, Any]) -> str:
    rows = [f"{s} ${v.get('usd', 0.0):.4f}" for s, v in (part.get("surfaces") or {}).items()]
    return f" ({', '.join(rows)})" if rows else ""


def cost_lines(cost: Mapping[str, Any]) -> list[str]:
    """Estimate and spend of a live run, per surface (the ``cost`` object of the report)."""
    est, spent = cost.get("estimate") or {}, cost.get("spent") or {}
    cap = cost.get("cap_usd")
    cap_text = "no cap" if cap is None else f"cap ${cap:.4f}"
    return [
        f"Cost estimate: ${est.get('usd', 0.0):.4f} for {est.get('audio_s', 0.0):.1f} s of audio"
        f"{_per_surface(est)}; {cap_text}",
        f"Cost spent:    ${spent.get('usd', 0.0):.4f} for {spent.get('audio_s', 0.0):.1f} s of "
        f"audio{_per_surface(spent)}",
    ]


def _group_line(g: NotTestedGroup) -> str:
    where = ""
    if len(g.surfaces) > 1:
        where = " (" + ", ".join(f"{s} {n}" for s, n in sorted(g.surfaces.items())) + ")"
    return f"  {_one_line(g.cause, 110)}: {_plural(g.count, 'case')} {g.outcome}{where}"


def terminal_summary(run: Run, paths: Sequence[str | Path] | None = None) -> str:
    """A table per surface, the failed, non-strict and not-tested cases, cost, report paths.

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
        out += ["", f"Failed ({len(failed)}):"]
        for c in failed:
            out.append(f"  {c.id}")
            out.append(f"      [{c.tier or '?'}] {c.clause}: {_one_line(c.message or c.actual)}")
            expected = " | ".join(c.expected) or "-"
            out.append(
                f"      expected {_one_line(expected, 90)} — actual {_one_line(c.actual, 90) or '-'}"
            )
    non_strict = run.by_outcome("non-strict")
    if non_strict:
        out += ["", f"Non-strict ({len(non_strict)}; not violations, --strict fails them):"]
        for c in non_strict:
            out.append(f"  [{c.tier or '?'}] {c.id}: {_one_line(c.message or c.actual, 90)}")
    if run.not_tested:
        n = sum(g.count for g in run.not_tested)
        out += ["", f"Not tested ({_plural(n, 'case')}, {_plural(len(run.not_tested), 'cause')}):"]
        out += [_group_line(g) for g in run.not_tested[:GROUPS_SHOWN]]
        if len(run.not_tested) > GROUPS_SHOWN:
            rest = run.not_tested[GROUPS_SHOWN:]
            out.append(
                f"  … and {_plural(sum(g.count for g in rest), 'case')} for "
                f"{_plural(len(rest), 'other cause')} (see the report)"
            )
    if run.cost:
        out.append("")
        out += cost_lines(run.cost)
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
