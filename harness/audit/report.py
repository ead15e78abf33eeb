"""The audit's report files: ``conformance.json`` (the format of ``harness run``, one case
per scenario and clause, its evidence the checks' figures, the record's exchanges it judged
and the client's exit code and output with its keys replaced by their variable names),
``junit.xml``, ``index.html`` (the run page, with an "Attempt timelines" section) and
``timeline.html`` (the timelines alone: one attempt-timeline plot per scenario, matplotlib)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from harness.contract import catalog
from harness.report import ReportWriter, Run
from harness.report.html import render_html
from harness.report.model import Case

from .judge import AuditVerdict, chains, code_of, refusal_end
from .runner import ClientRun


def case_of(v: AuditVerdict, run: ClientRun) -> Case:
    c = catalog.get(v.clause)
    return Case(
        id=f"audit/{v.scenario}/{v.clause}",
        clause=v.clause,
        surface=str(c.surface),
        outcome=v.outcome,
        nodeid=f"audit-client::{v.scenario}",
        tier=v.tier,
        requirement=c.requirement,
        source=[str(s) for s in c.sources],
        expected=[a.behaviour for a in c.outcomes if getattr(a, "behaviour", None)],
        actual=v.message,
        message=v.message,
        evidence=[{"check": k.name, "kept": k.kept, **k.evidence} for k in v.checks]
        + [{"exchanges": v.exchanges, "t0": run.t0}]
        + [
            {
                "client": {
                    "command": run.command,
                    "exit_code": run.exit_code,
                    "duration_s": run.duration_s,
                    "stdout": run.redacted(run.stdout[-2000:]),
                    "stderr": run.redacted(run.stderr[-2000:]),
                }
            }
        ],
        duration_s=run.duration_s,
    )


def write_junit(cases: list[Case], path: Path) -> None:
    suite = ET.Element("testsuite", name="audit-client", tests=str(len(cases)))
    bad = 0
    for c in cases:
        tc = ET.SubElement(suite, "testcase", classname=c.nodeid or "audit", name=c.clause)
        if c.outcome in ("failed", "non-strict"):
            bad += 1
            ET.SubElement(tc, "failure", message=f"{c.outcome}: {c.message}")
        elif c.outcome in ("skipped", "error"):
            ET.SubElement(tc, "skipped", message=c.message or "")
    suite.set("failures", str(bad))
    ET.ElementTree(suite).write(path, encoding="utf-8", xml_declaration=True)


def timeline_png(run: ClientRun, scenario: Any) -> str | None:
    """Attempts per chain (file or stream) over time, coloured by outcome and labelled with
    the status or close code; a data URL, or None without matplotlib."""
    try:
        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        from harness.report.html import _png
    except Exception:  # noqa: BLE001 - plots are a garnish
        return None
    by_chain = chains(scenario, run) or {"?": list(run.entries)}
    rows = sorted(by_chain)
    entries = [(rows.index(k), e) for k, v in by_chain.items() for e in v]
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(rows) + 1.5))
    span = max((refusal_end(e) - run.t0 for _, e in entries), default=1.0)
    for y, e in entries:
        code = code_of(e)
        colour = (
            "tab:green"
            if 200 <= code < 300 or code == 1000
            else "tab:orange"
            if code >= 500 and code < 600 or code in (1011, 4500)
            else "tab:red"
        )
        end = refusal_end(e)
        ax.barh(y, max(end - e["t"], span / 150), left=e["t"] - run.t0, color=colour, height=0.5)
        label = str(e.get("status")) if e["kind"] == "http" else f"ws {e.get('close_code')}"
        ax.text(e["t"] - run.t0, y + 0.3, label, fontsize=7)
    ax.set_xlim(left=0)
    ax.set_yticks(range(len(rows)), rows)
    ax.set_xlabel("seconds since the client started")
    ax.set_title(
        f"{run.scenario}: attempts (green served, red 4xx / 4xxx close, orange 5xx / 1011)"
    )
    data = _png(fig)
    plt.close(fig)
    return data


def timeline_sections(results: list[tuple[Any, ClientRun, list[AuditVerdict]]]) -> str:
    """One section per scenario: its verdicts, its attempt timeline, the client's exit."""
    parts = []
    for scenario, run, vs in results:
        parts.append(
            f"<h3>{html.escape(scenario.name)}</h3><p>{html.escape(scenario.description)}</p>"
        )
        parts.append(
            "<ul>"
            + "".join(
                f"<li><b>{v.outcome}</b> {html.escape(v.clause)}: {html.escape(v.message)}</li>"
                for v in vs
            )
            + "</ul>"
        )
        png = timeline_png(run, scenario)
        if png:
            parts.append(
                f"<img alt='attempt timeline of {html.escape(scenario.name)}' src='{png}'>"
            )
        else:
            parts.append("<p>(no plot: matplotlib is not installed)</p>")
        parts.append(f"<p>exit code {run.exit_code}, {run.duration_s} s</p>")
    return "\n".join(parts)


def write_reports(
    report_dir: Path,
    results: list[tuple[Any, ClientRun, list[AuditVerdict]]],
    command: list[str],
) -> Run:
    report_dir.mkdir(parents=True, exist_ok=True)
    writer = ReportWriter(report_dir)
    writer.start({"name": "audit-client: " + " ".join(command), "kind": "client"})
    cases = []
    for _scenario, run, vs in results:
        for v in vs:
            cases.append(writer.add_case(case_of(v, run)))
    run_ = writer.finish()
    write_junit(cases, report_dir / "junit.xml")
    sections = timeline_sections(results)
    page = render_html(run_)
    block = f"<section id='attempt-timelines'><h2>Attempt timelines</h2>{sections}</section>"
    page = page.replace("</body>", block + "</body>", 1) if "</body>" in page else page + block
    (report_dir / "index.html").write_text(page, encoding="utf-8")
    (report_dir / "timeline.html").write_text(
        "<html><head><meta charset='utf-8'><title>audit-client timelines</title></head><body>"
        + sections
        + "</body></html>",
        encoding="utf-8",
    )
    return run_
