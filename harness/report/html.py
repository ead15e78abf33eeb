"""``index.html``: one self-contained page per run (inline CSS and images, no external assets).

Failures come first, each with its clause, Expected / Actual, fixture and reproducer (after
h2spec and Schemathesis); then the other outcomes, the contradictions ledger, coverage and two
small plots. Everything from the report is escaped by jinja2's autoescape. The ``<head>``
(the one stylesheet) and the page header come from ``templates/_layout.html.j2``, which the
load pages (``capacity.html``, :mod:`harness.load.report`) share.
"""

from __future__ import annotations

import base64
import io
import json
import os
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

from harness.outcomes import worst

from .model import OUTCOMES, REASONS, SEVERITY, Case, Run
from .summary import not_run_text

TEMPLATE = "index.html.j2"

COLOURS = {
    "passed": "#2e7d32",
    "failed": "#c62828",
    "error": "#6a1b9a",
    "non-strict": "#ef6c00",
    "informational": "#1565c0",
    "skipped": "#9e9e9e",
}

#: The order sections appear in: what needs attention first.
SECTION_ORDER = ("failed", "error", "non-strict", "informational", "skipped", "passed")
#: Cases of these outcomes are shown one by one; skipped and error ones grouped by cause.
CASE_SECTIONS = ("failed", "non-strict", "informational", "passed")
SECTION_TITLES = {
    "failed": "Failures",
    "error": "Could not test (harness errors)",
    "non-strict": "Non-strict (a SHOULD not followed, or another documented side)",
    "informational": "Informational (behaviour the documents leave open)",
    "skipped": "Skipped",
    "passed": "Passed",
}


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.PackageLoader("harness.report", "templates"),
        autoescape=True,  # every template here is HTML
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters["seconds"] = _seconds
    return env


def _seconds(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value * 1000:.0f} ms" if value < 1 else f"{value:.2f} s"


def _catalog() -> dict[str, Any]:
    from harness.contract import all_clauses

    return {c.id: c for c in all_clauses()}


# --------------------------------------------------------------------------- view model


def _verdict(run: Run) -> dict[str, str]:
    s = run.summary
    v = run.verdict
    if v == "could-not-test":
        why = run.aborted.reason if run.aborted else f"no case was tested; {not_run_text(run)}"
        return {"cls": "v-error", "title": "Could not test", "detail": why}
    if v == "nothing-run":
        return {
            "cls": "v-partial",
            "title": "Nothing was run",
            "detail": "no case matched the selection: this report says nothing about the target",
        }
    total = s.get("total", len(run.cases))
    not_run = not_run_text(run)
    partial = "" if run.finished else " (partial run: the report is incomplete)"
    if not_run:
        partial += f"; {run.tested} of {total} cases tested, {not_run}"
    if v == "violations":
        n = s.get("failed", 0)
        return {
            "cls": "v-failed",
            "title": f"{n} violation{'s' if n != 1 else ''}",
            "detail": f"{n} case{'s' if n != 1 else ''} broke a promise the documents make"
            + partial,
        }
    if v == "partial":
        return {
            "cls": "v-partial",
            "title": "Partial run",
            "detail": f"{total} cases recorded so far; no violations among them",
        }
    extra = f"; {s['non-strict']} non-strict" if s.get("non-strict") else ""
    if not_run:
        return {
            "cls": "v-incomplete",
            "title": f"Conforms on {run.tested} of {total} cases",
            "detail": f"{not_run}; no violations among the cases tested{extra}",
        }
    return {
        "cls": "v-passed",
        "title": "Conforms",
        "detail": f"all {total} cases tested, no violations{extra}",
    }


def _not_tested(run: Run, views: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """The cases that reached no verdict, one block per cause."""
    groups = []
    for g in run.not_tested:
        groups.append(
            {
                "g": g,
                "reason": REASONS.get(g.reason, g.reason),
                "surfaces": ", ".join(f"{s} {n}" for s, n in sorted(g.surfaces.items())),
                "cases": [views[cid] for cid in g.cases if cid in views],
            }
        )
    return groups


def _anchor(index: int) -> str:
    return f"case-{index}"


def _matrix(run: Run, catalog: dict[str, Any], anchors: dict[str, str]) -> list[dict[str, Any]]:
    by_clause: dict[str, list[Case]] = defaultdict(list)
    for c in run.cases:
        by_clause[c.clause].append(c)
    surfaces: dict[str, list[str]] = {}
    for cid, clause in catalog.items():
        surfaces.setdefault(clause.surface.value, []).append(cid)
    for c in run.cases:  # clauses the catalog does not hold
        ids = surfaces.setdefault(c.surface, [])
        if c.clause not in ids:
            ids.append(c.clause)
    rows = []
    for surface, ids in surfaces.items():
        cells = []
        for cid in ids:
            cases = by_clause.get(cid, [])
            outcome = worst(c.outcome for c in cases)
            if outcome is None:
                cells.append({"clause": cid, "outcome": None, "title": f"{cid}: not exercised"})
                continue
            counts = Counter(c.outcome for c in cases)
            tally = ", ".join(f"{n} {o}" for o, n in sorted(counts.items()))
            first = next(c for c in cases if c.outcome == outcome)
            cells.append(
                {
                    "clause": cid,
                    "outcome": outcome,
                    "title": f"{cid}: {outcome} ({tally})",
                    "href": "#" + anchors[first.id],
                }
            )
        exercised = sum(1 for c in cells if c["outcome"] not in (None, "skipped", "error"))
        rows.append({"surface": surface, "cells": cells, "exercised": exercised})
    return rows


def _ledger(run: Run, catalog: dict[str, Any]) -> list[dict[str, Any]]:
    summaries: dict[str, dict[str, str]] = {}
    for c in run.cases:
        if c.alternative and c.alternative.alternatives and c.clause not in summaries:
            summaries[c.clause] = c.alternative.alternatives
    rows = []
    for e in run.ledger:
        alts = summaries.get(e.clause)
        if not alts and e.clause in catalog and catalog[e.clause].disputed:
            alts = {a.key: a.summary for a in catalog[e.clause].alternatives}
        rows.append(
            {
                "entry": e,
                "alternatives": [
                    {
                        "key": k,
                        "summary": v,
                        "expected": k == e.expected,
                        "chosen": k == e.chosen,
                    }
                    for k, v in (alts or {}).items()
                ],
            }
        )
    # Departures from the expected side first.
    rows.sort(key=lambda r: r["entry"].as_expected)
    return rows


def _coverage(run: Run) -> list[dict[str, Any]]:
    if run.coverage is None:
        return []
    rows = []
    for surface, sc in run.coverage.by_surface.items():
        pct = 100.0 * sc.exercised / sc.in_catalog if sc.in_catalog else 100.0
        rows.append(
            {
                "surface": surface,
                "in_catalog": sc.in_catalog,
                "exercised": sc.exercised,
                "pct": min(pct, 100.0),
            }
        )
    return rows


def _case_view(c: Case, anchor: str) -> dict[str, Any]:
    return {
        "c": c,
        "anchor": anchor,
        "evidence": json.dumps(c.evidence, indent=2, ensure_ascii=False) if c.evidence else "",
        "search": " ".join(
            x for x in (c.id, c.clause, c.surface, c.outcome, c.message or "", c.actual or "") if x
        ).lower(),
    }


# --------------------------------------------------------------------------- plots


def _png(fig: Any) -> str:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=110, bbox_inches="tight")
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _plots(run: Run) -> list[dict[str, str]]:
    """Outcomes per surface (stacked bars) and case durations; empty without matplotlib."""
    if not run.cases:
        return []
    try:
        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt
    except Exception:  # noqa: BLE001 - plots are a garnish, never a reason to fail
        return []
    plots = []
    surfaces = sorted({c.surface for c in run.cases})
    counts = {o: [0] * len(surfaces) for o in OUTCOMES}
    for c in run.cases:
        counts[c.outcome][surfaces.index(c.surface)] += 1
    fig, ax = plt.subplots(figsize=(7.5, 0.35 * len(surfaces) + 1.2))
    left = [0] * len(surfaces)
    for o in SECTION_ORDER[::-1]:
        if any(counts[o]):
            ax.barh(surfaces, counts[o], left=left, color=COLOURS[o], label=o)
            left = [a + b for a, b in zip(left, counts[o], strict=True)]
    ax.invert_yaxis()
    ax.set_xlabel("cases")
    ax.legend(loc="upper left", bbox_to_anchor=(1.01, 1.0), fontsize=8, frameon=False)
    ax.spines[["top", "right"]].set_visible(False)
    plots.append({"title": "Outcomes per surface", "src": _png(fig)})
    plt.close(fig)

    durations = [c.duration_s for c in run.cases if c.duration_s is not None]
    if durations:
        fig, ax = plt.subplots(figsize=(7.5, 2.6))
        ax.hist([d * 1000 for d in durations], bins=min(30, max(5, len(durations) // 3)))
        ax.set_xlabel("case duration (ms)")
        ax.set_ylabel("cases")
        ax.spines[["top", "right"]].set_visible(False)
        plots.append({"title": "Case durations", "src": _png(fig)})
        plt.close(fig)
    return plots


# --------------------------------------------------------------------------- entry points


def render_html(run: Run, *, plots: bool = True) -> str:
    """The whole page as a string."""
    catalog = _catalog()
    anchors = {c.id: _anchor(i) for i, c in enumerate(run.cases)}
    grouped: dict[str, list[dict[str, Any]]] = {o: [] for o in SECTION_ORDER}
    views: dict[str, dict[str, Any]] = {}
    for c in run.cases:
        views[c.id] = _case_view(c, anchors[c.id])
        grouped[c.outcome].append(views[c.id])
    sections = [
        {"key": o, "title": SECTION_TITLES[o], "cases": grouped[o]}
        for o in CASE_SECTIONS
        if grouped[o]
    ]
    untested = grouped["error"] + grouped["skipped"]
    if untested:  # right after the failures: what this run could not say anything about
        at = 1 if sections and sections[0]["key"] == "failed" else 0
        title = "Not tested (skipped or could not test, grouped by cause; never a violation)"
        sections.insert(at, {"key": "not-tested", "title": title, "cases": untested})
    summary = [(o, run.summary.get(o, 0)) for o in OUTCOMES]
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            run=run,
            verdict=_verdict(run),
            summary=summary,
            total=run.summary.get("total", len(run.cases)),
            matrix=_matrix(run, catalog, anchors),
            sections=sections,
            ledger=_ledger(run, catalog),
            not_tested=_not_tested(run, views),
            not_tested_total=run.not_tested_count,
            coverage=_coverage(run),
            plots=_plots(run) if plots else [],
            colours=COLOURS,
            severity=SEVERITY,
        )
    )


def write_html(run: Run, path: str | Path) -> Path:
    """Write :func:`render_html` to ``path`` (atomically) and return it."""
    p = Path(path)
    p.parent.mkdir(parents=True, exist_ok=True)
    tmp = p.with_name(f".{p.name}.{os.getpid()}.tmp")
    tmp.write_text(render_html(run), encoding="utf-8")
    os.replace(tmp, p)
    return p
