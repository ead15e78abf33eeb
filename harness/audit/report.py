"""The audit's report files: ``conformance.json`` (the format of ``harness run``, one case
per scenario and clause), ``junit.xml``, ``index.html`` (the run page) and
``timeline.html`` (one attempt-timeline plot per scenario, matplotlib)."""

from __future__ import annotations

import html
import os
from pathlib import Path
from typing import Any
from xml.etree import ElementTree as ET

from harness.contract import catalog
from harness.report import ReportWriter, Run, write_html
from harness.report.model import Case

from .judge import AuditVerdict
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
        + [
            {
                "client": {
                    "command": run.command,
                    "exit_code": run.exit_code,
                    "duration_s": run.duration_s,
                    "stdout": run.stdout[-2000:],
                    "stderr": run.stderr[-2000:],
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


def timeline_png(run: ClientRun, path_filter: str) -> str | None:
    """Attempts per file over time, coloured by status; a data URL, or None."""
    try:
        os.environ.setdefault("MPLBACKEND", "Agg")
        import matplotlib

        matplotlib.use("Agg", force=True)
        import matplotlib.pyplot as plt

        from harness.report.html import _png
    except Exception:  # noqa: BLE001 - plots are a garnish
        return None
    entries = [e for e in run.entries if e["path"] == path_filter] or run.entries
    files = sorted({e.get("file") or "?" for e in entries})
    fig, ax = plt.subplots(figsize=(8, 0.5 * len(files) + 1.5))
    colours = {2: "tab:green", 4: "tab:red", 5: "tab:orange"}
    span = max((e["end"] - run.t0 for e in entries), default=1.0)
    for e in entries:
        y = files.index(e.get("file") or "?")
        status = e.get("status") or 0
        ax.barh(
            y,
            max(e["end"] - e["t"], span / 150),
            left=e["t"] - run.t0,
            color=colours.get(status // 100, "tab:grey"),
            height=0.5,
        )
        ax.text(e["t"] - run.t0, y + 0.3, str(status), fontsize=7)
    ax.set_xlim(left=0)
    ax.set_yticks(range(len(files)), files)
    ax.set_xlabel("seconds since the client started")
    ax.set_title(f"{run.scenario}: attempts (green 2xx, red 4xx, orange 5xx)")
    data = _png(fig)
    plt.close(fig)
    return data


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
    write_html(run_, report_dir / "index.html")
    parts = ["<html><head><meta charset='utf-8'><title>audit-client timelines</title></head><body>"]
    for scenario, run, vs in results:
        parts.append(
            f"<h2>{html.escape(scenario.name)}</h2><p>{html.escape(scenario.description)}</p>"
        )
        parts.append(
            "<ul>"
            + "".join(
                f"<li><b>{v.outcome}</b> {html.escape(v.clause)}: {html.escape(v.message)}</li>"
                for v in vs
            )
            + "</ul>"
        )
        png = timeline_png(run, scenario.path)
        if png:
            parts.append(f"<img alt='attempt timeline' src='{png}'>")
        parts.append(f"<p>exit code {run.exit_code}, {run.duration_s} s</p>")
    parts.append("</body></html>")
    (report_dir / "timeline.html").write_text("\n".join(parts), encoding="utf-8")
    return run_
