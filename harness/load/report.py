"""After a load run: keep keys out of every output file, and write the capacity page.

``capacity.html`` (self-contained, PNGs inline) shows the scenario's results: for the
concurrency probe, latency percentiles and rejection rate against concurrency with the
observed limit marked; for backoff, the attempt timelines of both policies; for every
scenario, the thresholds and the results JSON.
"""

from __future__ import annotations

import base64
import html
import json
from collections.abc import Iterable
from io import BytesIO
from pathlib import Path
from typing import Any

from harness.redact import Redactor


def redact_outputs(directory: Path, secrets: Iterable[str]) -> list[Path]:
    """Rewrite every text file under ``directory`` without the secrets; returns those changed."""
    redactor = Redactor(secrets)
    changed = []
    for path in sorted(directory.rglob("*")):
        if not path.is_file():
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (UnicodeDecodeError, OSError):
            continue
        clean = redactor.text(text)
        if clean != text:
            path.write_text(clean, encoding="utf-8")
            changed.append(path)
    return changed


def _png(fig: Any) -> str:
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    return base64.b64encode(buf.getvalue()).decode()


def probe_figures(results: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = []
    for what, r in results.items():
        if not isinstance(r, dict) or "steps" not in r:
            continue
        steps = r["steps"]
        n = [s["n"] for s in steps]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(10, 3.5))
        for p in ("p50", "p95", "p99"):
            a1.plot(n, [s["latency_ms"].get(p) for s in steps], marker="o", label=p)
        a1.set_xlabel("concurrency (in flight)")
        a1.set_ylabel("latency of admitted (ms)")
        a1.legend()
        a2.plot(n, [s["rejected"] / max(1, s["n"]) for s in steps], marker="o", color="C3")
        a2.set_xlabel("concurrency (in flight)")
        a2.set_ylabel("rejection rate")
        a2.set_ylim(-0.05, 1.05)
        if r.get("observed_limit"):
            for a in (a1, a2):
                a.axvline(r["observed_limit"], color="k", linestyle="--", label="observed limit")
        fig.suptitle(f"{what}: {r.get('model')} limit={r.get('observed_limit')} ({r.get('mode')})")
        out.append((f"{what} concurrency", _png(fig)))
        plt.close(fig)
    return out


def backoff_figures(results: dict[str, Any]) -> list[tuple[str, str]]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    timeline = results.get("timeline") or []
    if not timeline:
        return []
    fig, axes = plt.subplots(2, 1, figsize=(10, 5), sharex=False)
    for ax, policy, clear in zip(
        axes,
        ("documented", "immediate"),
        (results.get("limit_cleared_at_s"), results.get("immediate_limit_cleared_at_s")),
        strict=True,
    ):
        pts = [e for e in timeline if e["policy"] == policy]
        ok = [e for e in pts if 200 <= e["status"] < 300]
        bad = [e for e in pts if not 200 <= e["status"] < 300]
        ax.scatter(
            [e["t_s"] for e in bad],
            [e["client"] for e in bad],
            marker="x",
            c="C3",
            label="rejected",
        )
        ax.scatter(
            [e["t_s"] for e in ok], [e["client"] for e in ok], marker="o", c="C2", label="succeeded"
        )
        if clear is not None:
            ax.axvline(clear, color="k", linestyle="--", label="limit cleared")
        ax.set_ylabel(f"{policy}\nclient")
        ax.legend(loc="upper left", fontsize=7)
    axes[-1].set_xlabel("seconds since the limit began")
    out = [("backoff attempt timelines", _png(fig))]
    plt.close(fig)
    return out


def write_capacity_page(directory: Path, results: dict[str, Any]) -> Path:
    scenario = results.get("scenario", "?")
    figures: list[tuple[str, str]] = []
    if scenario == "concurrency-probe":
        figures = probe_figures(results)
    elif scenario == "backoff":
        figures = backoff_figures(results)
    rows = "".join(
        f"<tr><td>{html.escape(str(t['metric']))}</td><td>&le; {t['limit']}</td>"
        f"<td>{html.escape(str(t['value']))}</td><td>{'ok' if t['ok'] else 'BREACHED'}</td></tr>"
        for t in results.get("thresholds", [])
    )
    imgs = "".join(
        f"<h2>{html.escape(title)}</h2><img src='data:image/png;base64,{data}'>"
        for title, data in figures
    )
    shown = {k: v for k, v in results.items() if k not in ("timeline",)}
    page = (
        f"<!doctype html><meta charset='utf-8'><title>capacity: {html.escape(scenario)}</title>"
        f"<h1>Load scenario: {html.escape(scenario)}</h1>"
        f"<table border=1><tr><th>threshold</th><th>limit</th><th>value</th><th></th></tr>{rows}</table>"
        f"{imgs}<h2>results</h2><pre>{html.escape(json.dumps(shown, indent=2, default=str))}</pre>"
        "<p>Exact request totals: locust.json (Locust's --json-file); CSV: locust_stats.csv; "
        "Locust's own page: locust.html.</p>"
    )
    path = directory / "capacity.html"
    path.write_text(page, encoding="utf-8")
    return path
