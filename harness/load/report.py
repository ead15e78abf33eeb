"""After a load run: keep keys out of every output file, write the capacity page, and the
one-screen summary for the terminal.

``capacity.html`` (self-contained: one stylesheet shared with the conformance ``index.html``
through ``harness/report/templates/_layout.html.j2``, PNGs inline) shows for every scenario:

* a verdict banner and the thresholds with units (``0.902 ms``, limit ``≤ 10 ms``) and a
  verdict each (kept, BREACHED, not measured);
* plots: latency percentiles and load over time (from ``series.json``, written by
  :mod:`harness.load.progress` for every scenario); per scenario, the concurrency probe's
  latency and rejection rate by signal against concurrency with the observed limit marked;
  the backoff attempt timelines and wait deviations; the streaming percentiles, pacing lag
  and close codes; the soak's memory, latency and lost results over time; the capacity
  search's metrics against the level with the knee (``max_within_slo``), the first breach and
  the objective's limit marked, and its rejection rate by signal;
* per-worker figures beside the merged ones (distributed runs), Locust's request totals,
  and the raw results in a collapsed section.

Each plot is a ``<figure id="fig-...">``; tests look for them by id.
"""

from __future__ import annotations

import base64
import json
import math
import re
import time
from collections.abc import Callable, Iterable
from io import BytesIO
from pathlib import Path
from typing import Any

from harness.redact import Redactor

TEMPLATE = "capacity.html.j2"

# --------------------------------------------------------------------------- key sweep


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


# --------------------------------------------------------------------------- units

#: What each known threshold measures (shown beside it).
WHAT = {
    "documented.judged.p99": "p99 of |actual - scheduled| wait of documented-policy clients",
    "documented.low_violations": "waits shorter than the documented lower bound",
    "ttfr_ms.p95": "p95 time from the first chunk sent to the first result",
    "result_lag_ms.p99": "p99 result lag (receive time - send time of the chunk it covers)",
    "result_lag_ms.p95": "p95 result lag",
    "pacing_lag_ms.p99": "p99 lateness of the generator's own sends",
    "error_ratio": "failed sessions or requests / all",
    "latency_ms.p95": "p95 latency of successful requests",
    "accepted_after_exhaustion": "requests accepted after the quota ran out",
    "undocumented_after_exhaustion": "post-exhaustion answers not the documented rejection",
    "lost_results": "chunks sent that no result answered before done",
    "memory_growth_mb.generator": "resident memory growth of the load generator",
    "memory_growth_mb.target": "resident memory growth of the emulator process",
    "http.released_after_s": "REST slots free again after unclean disconnects",
    "ws.released_after_s": "stream slots free again after unclean disconnects",
}

COUNTS = {
    "lost_results": "results",
    "low_violations": "waits",
    "accepted_after_exhaustion": "requests",
    "undocumented_after_exhaustion": "requests",
}


def unit_of(metric: str) -> str:
    """The unit of a results path: ``ms``, ``s``, ``MB``, ``%`` (ratios) or a count noun."""
    parts = metric.split(".")
    if parts[-1] in ("n", "requests", "errors", "failures", "sessions", "samples"):
        return ""  # a count, whatever it counts
    if parts[0] == "documented" and parts[1:2] == ["judged"]:
        return "ms"  # summary_ms of the wait deviations
    for part in reversed(parts):
        if part.endswith("_ms"):
            return "ms"
        if part.endswith("_s"):
            return "s"
        if part.endswith("_mb"):
            return "MB"
        if part.endswith("ratio"):
            return "%"
        if part in COUNTS:
            return COUNTS[part]
    return ""


def num(value: Any) -> str:
    """A number as people read it: no float noise, 3 significant digits below 100."""
    if value is None:
        return "–"
    if isinstance(value, bool) or not isinstance(value, int | float):
        return str(value)
    if isinstance(value, int) or float(value).is_integer():
        return f"{int(value):,}".replace(",", " ") if abs(value) >= 10_000 else str(int(value))
    v = float(value)
    if abs(v) >= 100:
        return f"{v:.0f}"
    if abs(v) >= 10:
        return f"{v:.1f}"
    return f"{v:.3g}"


def with_unit(value: Any, unit: str) -> str:
    if value is None:
        return "–"
    if unit == "%":
        return f"{num(float(value) * 100.0)} %"
    return f"{num(value)} {unit}".rstrip()


def threshold_rows(thresholds: list[dict[str, Any]]) -> list[dict[str, str]]:
    rows = []
    for t in thresholds:
        unit = unit_of(str(t.get("metric", "")))
        if t.get("not_measured"):
            verdict, cls = "not measured", "skipped"
        elif t.get("ok"):
            verdict, cls = "kept", "passed"
        else:
            verdict, cls = "BREACHED", "failed"
        rows.append(
            {
                "metric": str(t.get("metric")),
                "what": WHAT.get(str(t.get("metric")), ""),
                "value": ("not measured" if t.get("value") is None else with_unit(t["value"], unit))
                + (f" {t['at']}" if t.get("at") else ""),
                "at": t.get("at", ""),
                "limit": f"≤ {with_unit(t.get('limit'), unit)}",
                "verdict": verdict,
                "cls": cls,
            }
        )
    return rows


def threshold_line(t: dict[str, Any]) -> str:
    """``0.902 ms (limit ≤ 10 ms)``: a threshold as the terminal shows it."""
    row = threshold_rows([t])[0]
    tag = {"kept": "ok      ", "BREACHED": "BREACHED", "not measured": "n/a     "}[row["verdict"]]
    return f"{tag} {row['metric']} = {row['value']} (limit {row['limit']})"


# --------------------------------------------------------------------------- inputs


def read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None


def request_rows(locust_json: Any) -> list[dict[str, Any]]:
    """Locust's per-name totals (``locust.json``) with percentiles from its histograms."""
    from .progress import hist_pct

    if not isinstance(locust_json, list):
        return []
    rows = []
    for e in locust_json:
        if not isinstance(e, dict):
            continue
        hist = {int(float(k)): int(v) for k, v in (e.get("response_times") or {}).items()}
        rows.append(
            {
                "method": e.get("method") or "",
                "name": e.get("name") or "",
                "n": e.get("num_requests", 0),
                "failures": e.get("num_failures", 0),
                **{
                    p: with_unit(hist_pct(hist, q), "ms")
                    for p, q in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99))
                },
                "max": with_unit(e.get("max_response_time"), "ms"),
            }
        )
    return sorted(rows, key=lambda r: (-int(r["n"] or 0), r["name"]))


# --------------------------------------------------------------------------- plots


def _plt() -> Any:
    import matplotlib

    matplotlib.use("Agg", force=True)
    import matplotlib.pyplot as plt

    return plt


def _png(fig: Any) -> str:
    buf = BytesIO()
    fig.savefig(buf, format="png", dpi=90, bbox_inches="tight")
    _plt().close(fig)
    return "data:image/png;base64," + base64.b64encode(buf.getvalue()).decode("ascii")


def _fig(fid: str, title: str, fig: Any, note: str = "") -> dict[str, str]:
    for ax in fig.axes:
        ax.spines[["top", "right"]].set_visible(False)
    return {"id": fid, "title": title, "src": _png(fig), "note": note}


def _finite(xs: Iterable[Any]) -> bool:
    return any(isinstance(x, int | float) and math.isfinite(x) for x in xs)


def series_figures(series: Any) -> list[dict[str, str]]:
    """Latency percentiles and load over time, from ``series.json`` (every scenario)."""
    pts = series.get("points") if isinstance(series, dict) else None
    if not pts:
        return []
    plt = _plt()
    t = [p["t_s"] for p in pts]
    out = []
    if _finite(p.get("p95_ms") for p in pts):
        names: dict[str, int] = {}
        for p in pts:
            for name, f in (p.get("by_name") or {}).items():
                names[name] = names.get(name, 0) + f.get("requests", 0)
        top = sorted(names, key=lambda n: -names[n])[:6]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4))
        for q, style in (("p50_ms", ":"), ("p95_ms", "-"), ("p99_ms", "--")):
            a1.plot(t, [p.get(q) for p in pts], style, marker=".", label=q[:3])
        a1.set_title("all requests", fontsize=10)
        a1.set_xlabel("time (s)")
        a1.set_ylabel("latency per interval (ms)")
        a1.legend(fontsize=8)
        for name in top:
            a2.plot(
                t,
                [(p.get("by_name") or {}).get(name, {}).get("p95_ms") for p in pts],
                marker=".",
                label=name,
            )
        a2.set_title("p95 per request name", fontsize=10)
        a2.set_xlabel("time (s)")
        a2.set_ylabel("p95 (ms)")
        if top:
            a2.legend(fontsize=7)
        out.append(
            _fig(
                "fig-latency-over-time",
                "Latency percentiles over time",
                fig,
                f"per {series.get('interval_s', 1):g} s interval, from Locust's response-time histograms",
            )
        )
    fig, a1 = plt.subplots(figsize=(11, 2.8))
    iv = [max(1e-9, b - a) for a, b in zip([0.0, *t[:-1]], t, strict=True)]
    a1.plot(t, [p.get("requests", 0) / d for p, d in zip(pts, iv, strict=True)], label="requests/s")
    a1.plot(
        t,
        [p.get("failures", 0) / d for p, d in zip(pts, iv, strict=True)],
        "C3",
        label="failures/s",
    )
    a1.set_xlabel("time (s)")
    a1.set_ylabel("per second")
    a2 = a1.twinx()
    a2.step(t, [p.get("users", 0) for p in pts], "k--", where="post", label="users")
    a2.set_ylabel("users")
    a1.legend(loc="upper left", fontsize=8)
    a2.legend(loc="upper right", fontsize=8)
    out.append(_fig("fig-load-over-time", "Load over time: users, requests and failures", fig))
    return out


def probe_figures(results: dict[str, Any]) -> list[dict[str, str]]:
    plt = _plt()
    out = []
    for what, r in results.items():
        if not isinstance(r, dict) or not r.get("steps"):
            continue
        steps = r["steps"]
        n = [s["n"] for s in steps]
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.5))
        for p in ("p50", "p95", "p99"):
            a1.plot(n, [s["latency_ms"].get(p) for s in steps], marker="o", label=p)
        a1.set_xlabel("concurrency (in flight)")
        a1.set_ylabel("latency of admitted (ms)")
        signals = sorted({sig for s in steps for sig in s.get("signals", [])})
        for i, sig in enumerate(signals):
            a2.plot(
                n,
                [s.get("signals", []).count(sig) / max(1, s["n"]) for s in steps],
                marker="o",
                color=f"C{3 + i}",
                label=f"rejected: {sig}",
            )
        a2.plot(
            n, [s["queued"] / max(1, s["n"]) for s in steps], marker="s", color="C1", label="queued"
        )
        a2.set_xlabel("concurrency (in flight)")
        a2.set_ylabel("share of the step")
        a2.set_ylim(-0.05, 1.05)
        if r.get("observed_limit"):
            for a in (a1, a2):
                a.axvline(r["observed_limit"], color="k", linestyle="--", label="observed limit")
        a1.legend(fontsize=8)
        a2.legend(fontsize=8)
        title = (
            f"{what}: {r.get('model')}, observed limit {r.get('observed_limit')} ({r.get('mode')})"
        )
        out.append(
            _fig(f"fig-probe-{what}", title, fig, "rejection rate by signal, and queued requests")
        )
        if all("started_s" in s for s in steps):
            fig, ax = plt.subplots(figsize=(11, 2.8))
            mid = [s["started_s"] + s.get("duration_s", 0) / 2 for s in steps]
            for p in ("p50", "p95", "p99"):
                ax.plot(mid, [s["latency_ms"].get(p) for s in steps], marker="o", label=p)
            for x, s in zip(mid, steps, strict=True):
                y = s["latency_ms"].get("p99")
                if y is not None:
                    ax.annotate(f"n={s['n']}", (x, y), fontsize=7, color="grey")
            ax.set_xlabel("time since the climb began (s)")
            ax.set_ylabel("latency (ms)")
            ax.legend(fontsize=8)
            out.append(_fig(f"fig-probe-{what}-over-time", f"{what}: latency over time", fig))
    return out


def backoff_figures(results: dict[str, Any]) -> list[dict[str, str]]:
    plt = _plt()
    out = []
    timeline = results.get("timeline") or []
    if timeline:
        fig, axes = plt.subplots(2, 1, figsize=(11, 5))
        for ax, policy, clear in zip(
            axes,
            ("documented", "immediate"),
            (results.get("limit_cleared_at_s"), results.get("immediate_limit_cleared_at_s")),
            strict=True,
        ):
            pts = [e for e in timeline if e["policy"] == policy]
            for served, marker, colour, label in (
                (False, "x", "C3", "rejected"),
                (True, "o", "C2", "succeeded"),
            ):
                sel = [e for e in pts if (200 <= e["status"] < 300) == served]
                xs, ys = [e["t_s"] for e in sel], [e["client"] for e in sel]
                ax.scatter(xs, ys, marker=marker, c=colour, label=label)
            if clear is not None:
                ax.axvline(clear, color="k", linestyle="--", label="limit cleared")
            ax.set_ylabel(f"{policy}\nclient")
            ax.legend(loc="upper left", fontsize=7)
        axes[-1].set_xlabel("seconds since the limit began")
        out.append(_fig("fig-backoff-timeline", "Backoff attempt timelines", fig))
    waits = (results.get("documented") or {}).get("waits") or []
    if waits:
        fig, ax = plt.subplots(figsize=(11, 2.8))
        dev = [(w["actual_s"] - w["scheduled_s"]) * 1000 for w in waits]
        ax.hist(dev, bins=min(30, max(5, len(dev))))
        ax.set_xlabel("actual - scheduled wait (ms)")
        ax.set_ylabel("waits")
        out.append(_fig("fig-backoff-deviation", "Documented clients: wait deviation", fig))
    return out


def _ladder(ax: Any, summaries: dict[str, Any]) -> None:
    """p50 / p95 / p99 / max of several ``summary_ms`` dicts as grouped bars (log scale)."""
    keys = ("p50", "p95", "p99", "max")
    names = [n for n, s in summaries.items() if isinstance(s, dict) and s.get("n")]
    width = 0.8 / max(1, len(keys))
    for i, k in enumerate(keys):
        ax.bar(
            [j + i * width for j in range(len(names))],
            [max(1e-3, summaries[n].get(k) or 1e-3) for n in names],
            width,
            label=k,
        )
    ax.set_xticks([j + 1.5 * width for j in range(len(names))], names, fontsize=8)
    ax.set_yscale("log")
    ax.set_ylabel("ms (log)")
    ax.legend(fontsize=8)


def _codes(ax: Any, codes: dict[str, int], title: str) -> None:
    names = sorted(codes, key=lambda c: -codes[c])
    colours = ["C2" if c in ("1000", "200") else "C3" for c in names]
    ax.bar(names, [codes[c] for c in names], color=colours)
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("count")


def streaming_figures(results: dict[str, Any]) -> list[dict[str, str]]:
    plt = _plt()
    out = []
    summaries = {
        k.removesuffix("_ms"): results.get(k)
        for k in ("connect_ms", "ttfr_ms", "result_lag_ms", "done_ms", "pacing_lag_ms")
    }
    if any(isinstance(s, dict) and s.get("n") for s in summaries.values()):
        fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.4), gridspec_kw={"width_ratios": [3, 1]})
        _ladder(a1, summaries)
        _codes(a2, results.get("close_codes") or {}, "close codes")
        out.append(_fig("fig-streaming-percentiles", "Stream latencies and close codes", fig))
    worst = results.get("worst_pacing") or []
    pacing = results.get("pacing_lag_ms") or {}
    if pacing.get("n"):
        fig, ax = plt.subplots(figsize=(11, 2.8))
        qs = [(q, pacing.get(q)) for q in ("p50", "p95", "p99", "max") if pacing.get(q) is not None]
        ax.plot([q for q, _ in qs], [v for _, v in qs], marker="o", label="pacing lag")
        for t in results.get("thresholds") or []:
            if str(t.get("metric", "")).startswith("pacing_lag_ms.") and t.get("limit") is not None:
                ax.axhline(t["limit"], color="C3", linestyle="--", label=f"limit: {t['metric']}")
        ax.set_ylabel("ms")
        if worst:
            ax.set_title(
                "worst sends: " + ", ".join(f"{lag} ms at {at} s" for lag, at in worst[:5]),
                fontsize=8,
            )
        ax.legend(fontsize=8)
        out.append(
            _fig(
                "fig-pacing-lag",
                "Pacing-lag distribution (the generator's own lateness)",
                fig,
                f"{pacing['n']} chunks sent",
            )
        )
    return out


def tts_figures(results: dict[str, Any]) -> list[dict[str, str]]:
    status = results.get("status") or {}
    if not status:
        return []
    plt = _plt()
    fig, (a1, a2) = plt.subplots(1, 2, figsize=(11, 3.2))
    _codes(a1, status, "answers by status")
    total = max(1, sum(status.values()))
    a2.bar(["429 rejection rate"], [status.get("429", 0) / total], color="C3")
    a2.set_ylim(0, 1)
    a2.set_title(f"{results.get('retry_after_honoured', 0)} Retry-After honoured", fontsize=10)
    out = [_fig("fig-tts-status", "TTS answers and rejection rate", fig)]
    if (results.get("latency_ms") or {}).get("n"):
        fig, ax = plt.subplots(figsize=(6, 2.8))
        _ladder(ax, {"generate": results["latency_ms"]})
        out.append(_fig("fig-tts-latency", "TTS latency (2xx)", fig))
    return out


def quota_figures(results: dict[str, Any]) -> list[dict[str, str]]:
    if "after" not in results:
        return []
    plt = _plt()
    fig, ax = plt.subplots(figsize=(8, 2.8))
    before = results.get("accepted_before_exhaustion", 0)
    after: dict[str, int] = {}
    for s in results.get("after") or []:
        after[str(s)] = after.get(str(s), 0) + 1
    ax.bar(["accepted before"], [before], color="C2")
    for code, n in sorted(after.items()):
        ok = code in {str(s) for s in results.get("documented_statuses", [])}
        ax.bar([f"after: {code}"], [n], color="C0" if ok else "C3")
    ax.bar(["accepted after"], [results.get("accepted_after_exhaustion", 0)], color="C3")
    ax.set_ylabel("requests")
    return [_fig("fig-quota", "Requests before and after the quota ran out", fig)]


def soak_figures(results: dict[str, Any]) -> list[dict[str, str]]:
    pts = results.get("series") or []
    if not pts:
        return []
    plt = _plt()
    t = [p["t_s"] for p in pts]
    out = []
    fig, ax = plt.subplots(figsize=(11, 3.0))
    for key, label in (("generator_rss_mb", "generator"), ("target_rss_mb", "emulator (target)")):
        if _finite(p.get(key) for p in pts):
            ax.plot(t, [p.get(key) for p in pts], marker=".", label=label)
    ax.set_xlabel("time (s)")
    ax.set_ylabel("resident memory (MB)")
    ax.legend(fontsize=8)
    growth = results.get("memory_growth_mb") or {}
    note = ", ".join(f"{k} growth {with_unit(v, 'MB')}" for k, v in growth.items())
    out.append(_fig("fig-soak-memory", "Memory over time", fig, note))
    fig, ax = plt.subplots(figsize=(11, 3.0))
    for key in ("ttfr_p95_ms", "result_lag_p95_ms", "result_lag_p99_ms", "pacing_lag_p99_ms"):
        ax.plot(t, [p.get(key) for p in pts], marker=".", label=key.removesuffix("_ms"))
    ax.set_xlabel("time (s)")
    ax.set_ylabel("ms per interval")
    ax.set_yscale("symlog", linthresh=1.0)
    ax.legend(fontsize=8)
    out.append(_fig("fig-soak-latency", "Soak latency percentiles over time", fig))
    fig, (a1, a2) = plt.subplots(
        1, 2, figsize=(11, 3.0), gridspec_kw={"width_ratios": [3, 1], "wspace": 0.45}
    )
    a1.plot(t, [p.get("streams_open") for p in pts], label="streams open")
    a1.set_xlabel("time (s)")
    a1.set_ylabel("streams")
    b = a1.twinx()
    b.plot(t, [p.get("lost_results") for p in pts], "C3", label="lost results (cumulative)")
    b.set_ylabel("lost results")
    b.set_ylim(0, max(1, *(p.get("lost_results") or 0 for p in pts)) * 1.1)
    a1.legend(loc="upper left", fontsize=8)
    b.legend(loc="lower right", fontsize=8)
    _codes(a2, results.get("close_codes") or {}, "close codes")
    out.append(_fig("fig-soak-streams", "Streams, lost results and close codes", fig))
    hist = pacing_hist_figure(results)
    if hist is not None:
        return [*out, hist]
    return out + [f for f in streaming_figures(results) if f["id"] == "fig-pacing-lag"]


def pacing_hist_figure(results: dict[str, Any]) -> dict[str, str] | None:
    """The pacing-lag distribution from a histogram in the results (``pacing_lag_hist``:
    :meth:`harness.load.metrics.Histogram.to_dict`, seconds)."""
    from .metrics import bucket_value

    data = results.get("pacing_lag_hist")
    if not isinstance(data, dict) or not data.get("b"):
        return None
    plt = _plt()
    bins: dict[int, int] = {}  # the 2 % buckets regrouped 10 to a decade, for the eye
    for i, n in data["b"]:
        ms = max(bucket_value(int(i)) * 1000.0, 1e-3)
        k = math.floor(math.log10(ms) * 10)
        bins[k] = bins.get(k, 0) + int(n)
    fig, ax = plt.subplots(figsize=(11, 2.8))
    left = [10 ** (k / 10) for k in sorted(bins)]
    ax.bar(
        left,
        [bins[k] for k in sorted(bins)],
        width=[x * (10**0.1 - 1) for x in left],
        align="edge",
    )
    ax.set_xscale("log")
    ax.set_xlabel("pacing lag (ms, log)")
    ax.set_ylabel("chunks")
    summary = results.get("pacing_lag_ms") or {}
    for q, style in (("p50", ":"), ("p99", "--")):
        if summary.get(q) is not None:
            ax.axvline(summary[q], color="k", linestyle=style, label=f"{q} {num(summary[q])} ms")
    for t in results.get("thresholds") or []:
        if str(t.get("metric", "")).startswith("pacing_lag_ms.") and t.get("limit") is not None:
            ax.axvline(t["limit"], color="C3", linestyle="-.", label=f"limit {t['metric']}")
    ax.legend(fontsize=8)
    return _fig(
        "fig-pacing-lag",
        "Pacing-lag distribution (the generator's own lateness)",
        fig,
        f"{data.get('n', 0)} chunks sent; bins 10 to a decade",
    )


def level_unit(cap: dict[str, Any]) -> str:
    model = str(cap.get("model") or cap.get("load_model") or "")
    return "sessions/s" if ("open" in model or "rate" in model) else "concurrent users"


def quiet_levels(cap: dict[str, Any]) -> list[str]:
    """A line naming the levels below the first breach that measured nothing ("no-data":
    no session arrived, or none had time to answer), when no level held: without it, "no
    level held" would read as if the lowest level had broken."""
    first = cap.get("first_breach") or {}
    if cap.get("max_within_slo") is not None or not first:
        return []
    steps = [s for s in cap.get("steps") or [] if isinstance(s, dict)]
    quiet = [s.get("level") for s in steps if s.get("verdict") == "no-data"]
    quiet = [q for q in quiet if isinstance(q, int | float) and q < first.get("level", 0)]
    if not quiet:
        return []
    unit = level_unit(cap)
    return [
        f"levels below the breach measured nothing ({', '.join(num(q) for q in quiet)} {unit}:"
        " no-data); hold each level longer (--hold-s) or start higher (--start)"
    ]


def capacity_figures(results: dict[str, Any]) -> list[dict[str, str]]:
    cap = results.get("capacity") or {}
    in_time = [s for s in cap.get("steps") or [] if isinstance(s, dict)]
    if not in_time:
        return []
    # one point per level (a refinement step re-runs a level: its later result counts)
    by_level = {s.get("level"): s for s in in_time if isinstance(s.get("level"), int | float)}
    steps = [by_level[k] for k in sorted(by_level)]
    plt = _plt()
    out = []
    levels = [s.get("level") for s in steps]
    unit = level_unit(cap)
    knee = cap.get("max_within_slo")
    breach = cap.get("first_breach") or {}
    limits = {
        t["metric"]: t["limit"] for t in results.get("thresholds") or [] if isinstance(t, dict)
    }
    for r in slo_rows(cap):
        limits.setdefault(r["metric"], r["limit"])
    if breach.get("metric"):
        limits.setdefault(breach["metric"], breach.get("limit"))
    metrics = sorted({m for s in steps for m in (s.get("metrics") or {})})
    if metrics:
        fig, axes = plt.subplots(1, len(metrics), figsize=(5.4 * len(metrics), 3.4), squeeze=False)
        for ax, m in zip(axes[0], metrics, strict=True):
            for q, style in (("p50", ":"), ("p95", "-"), ("p99", "--")):
                ax.plot(
                    levels,
                    [((s.get("metrics") or {}).get(m) or {}).get(q) for s in steps],
                    style,
                    marker="o",
                    label=q,
                )
            for key, lim in limits.items():
                if key.split(".")[0] == m and lim is not None:
                    ax.axhline(lim, color="C3", linestyle="-.", label=f"limit {key} ≤ {num(lim)}")
            if knee is not None:
                ax.axvline(knee, color="C2", linestyle="--", label=f"knee: {num(knee)}")
            if breach.get("level") is not None:
                ax.axvline(breach["level"], color="C3", linestyle=":", label="first breach")
                if breach.get("metric", "").split(".")[0] == m and breach.get("value") is not None:
                    ax.plot([breach["level"]], [breach["value"]], "rx", markersize=10)
            ax.set_xlabel(unit)
            ax.set_ylabel(f"{m}" + (" (ms)" if not m.endswith("_ms") else ""))
            ax.legend(fontsize=7)
        out.append(
            _fig(
                "fig-capacity-knee",
                f"Load against {', '.join(metrics)}, knee and limits marked",
                fig,
                f"holds {num(knee)} {unit} within the objectives"
                + (
                    f"; {breach.get('metric')} broke first at {num(breach.get('level'))}"
                    if breach
                    else ""
                ),
            )
        )
    fig, ax = plt.subplots(figsize=(11, 3.0))
    ax.plot(
        levels,
        [s.get("error_ratio") for s in steps],
        "--",
        marker="s",
        color="C7",
        label="error ratio",
    )
    signals = sorted({sig for s in steps for sig in (s.get("rejections") or {})})
    for i, sig in enumerate(signals):
        ax.plot(
            levels,
            [
                (s.get("rejections") or {}).get(sig, 0) / max(1, s.get("requests") or 0)
                for s in steps
            ],
            marker="o",
            color=f"C{3 + i}",
            label=f"rejected {sig}",
        )
    if knee is not None:
        ax.axvline(knee, color="C2", linestyle="--", label="knee")
    if cap.get("limiting_signal"):
        ax.set_title(f"limiting signal: {cap['limiting_signal']}", fontsize=10)
    ax.set_xlabel(unit)
    ax.set_ylabel("share of requests")
    ax.legend(fontsize=8)
    out.append(_fig("fig-capacity-rejections", "Rejection rate by signal, per level", fig))
    steps = in_time
    levels = [s.get("level") for s in steps]
    if metrics and all("started_s" in s for s in steps):
        fig, a1 = plt.subplots(figsize=(11, 2.8))
        mid = [s["started_s"] + (s.get("duration_s") or 0) / 2 for s in steps]
        for m in metrics:
            a1.plot(
                mid,
                [((s.get("metrics") or {}).get(m) or {}).get("p95") for s in steps],
                marker="o",
                label=f"{m} p95",
            )
        a1.set_xlabel("time (s)")
        a1.set_ylabel("p95")
        b = a1.twinx()
        b.step([s["started_s"] for s in steps], levels, "k--", where="post", label="level")
        b.set_ylabel(unit)
        a1.legend(loc="upper left", fontsize=8)
        out.append(_fig("fig-capacity-over-time", "Capacity search over time", fig))
    return out


FIGURES: dict[str, Callable[[dict[str, Any]], list[dict[str, str]]]] = {
    "concurrency-probe": probe_figures,
    "backoff": backoff_figures,
    "streaming": streaming_figures,
    "tts": tts_figures,
    "quota": quota_figures,
    "soak": soak_figures,
}


def figures(results: dict[str, Any], series: Any = None) -> list[dict[str, str]]:
    """Every plot of the page (empty without matplotlib; a plot never fails the page)."""
    try:
        out = []
        if results.get("capacity"):
            out += capacity_figures(results)
        fn = FIGURES.get(str(results.get("scenario")))
        if fn is not None:
            out += fn(results)
        out += series_figures(series)
        return out
    except ImportError:
        return []


# --------------------------------------------------------------------------- view model


def judged(results: dict[str, Any]) -> list[dict[str, Any]]:
    """The thresholds judged, and a capacity search's objectives at the knee and breach."""
    cap = results.get("capacity")
    extra = slo_rows(cap) if isinstance(cap, dict) else []
    return list(results.get("thresholds") or []) + extra


def _step_value(step: dict[str, Any], metric: str) -> Any:
    if metric in step and not isinstance(step[metric], dict):
        return step[metric]
    root, _, part = metric.partition(".")
    return ((step.get("metrics") or {}).get(root) or {}).get(part)


def slo_rows(cap: dict[str, Any]) -> list[dict[str, Any]]:
    """A capacity search's objectives as thresholds: each at the knee (kept), and the one
    that broke first at the breaching level."""
    steps = [s for s in cap.get("steps") or [] if isinstance(s, dict)]
    knee = cap.get("max_within_slo")
    at_knee = [s for s in steps if s.get("level") == knee and not s.get("breached")]
    breach = cap.get("first_breach") or {}
    unit = level_unit(cap)
    out = []
    for text in cap.get("slos") or []:
        m = re.match(r"^\s*([\w.]+)\s*<=\s*([-+\d.eE]+)\s*$", str(text))
        if m is None:
            continue
        metric, limit = m.group(1), float(m.group(2))
        if at_knee:
            value = _step_value(at_knee[-1], metric)
            out.append(
                {
                    "metric": metric,
                    "limit": limit,
                    "value": value,
                    "ok": True,
                    "at": f"at {num(knee)} {unit}",
                }
            )
        if breach.get("metric") == metric:
            out.append(
                {
                    "metric": metric,
                    "limit": limit,
                    "value": breach.get("value"),
                    "ok": False,
                    "at": f"at {num(breach.get('level'))} {unit}",
                }
            )
    return out


def _verdict(results: dict[str, Any], rows: list[dict[str, str]]) -> dict[str, str]:
    if results.get("skipped"):
        return {"cls": "v-error", "title": "Could not test", "detail": str(results["skipped"])}
    breached = [r for r in rows if r["verdict"] == "BREACHED" and not r.get("at")]
    cap = results.get("capacity")
    if isinstance(cap, dict) and not breached:
        knee, first = cap.get("max_within_slo"), cap.get("first_breach") or {}
        unit = level_unit(cap)
        detail = "no step broke an objective"
        if first:
            u = unit_of(str(first.get("metric", "")))
            detail = (
                f"{first.get('metric')} broke first at {num(first.get('level'))} "
                f"({with_unit(first.get('value'), u)}, limit ≤ {with_unit(first.get('limit'), u)})"
            )
        if cap.get("limiting_signal"):
            detail += f"; limiting signal {cap['limiting_signal']}"
        if knee is None:
            detail = "; ".join([detail, *quiet_levels(cap)])
            return {"cls": "v-failed", "title": "No level held the objectives", "detail": detail}
        return {
            "cls": "v-passed",
            "title": f"Holds {num(knee)} {unit} within the objectives",
            "detail": detail,
        }
    if breached:
        n = len(breached)
        return {
            "cls": "v-failed",
            "title": f"{n} of {len(rows)} threshold{'s' if len(rows) != 1 else ''} breached",
            "detail": ", ".join(f"{r['metric']} = {r['value']} ({r['limit']})" for r in breached),
        }
    if not rows:
        return {
            "cls": "v-incomplete",
            "title": "Measured (no thresholds)",
            "detail": "this scenario reports figures; nothing was judged",
        }
    unmeasured = sum(r["verdict"] == "not measured" for r in rows)
    detail = f"{len(rows) - unmeasured} kept"
    if unmeasured:
        detail += f", {unmeasured} not measured (never a breach)"
    return {"cls": "v-passed", "title": "Thresholds kept", "detail": detail}


def key_figures(results: dict[str, Any], requests: list[dict[str, Any]]) -> list[tuple[str, str]]:
    out: list[tuple[str, str]] = []
    if requests:
        out.append(("requests", num(sum(int(r["n"] or 0) for r in requests))))
        out.append(("failures", num(sum(int(r["failures"] or 0) for r in requests))))
    cap = results.get("capacity") or {}
    if cap:
        out.append((f"max within SLO ({level_unit(cap)})", num(cap.get("max_within_slo"))))
    for key, label, unit in (
        ("sessions", "sessions", ""),
        ("lost_results", "lost results", ""),
        ("error_ratio", "error ratio", "%"),
        ("ttfr_ms", "ttfr p95", "ms"),
        ("result_lag_ms", "result lag p99", "ms"),
        ("pacing_lag_ms", "pacing lag p99", "ms"),
        ("latency_ms", "latency p95", "ms"),
        ("rps", "requests/s", ""),
    ):
        v = results.get(key)
        if isinstance(v, dict):
            v = v.get("p99" if "p99" in label else "p95")
        if v is not None and not isinstance(v, dict):
            out.append((label, with_unit(v, unit)))
    for part in ("http", "ws"):
        r = results.get(part)
        if isinstance(r, dict) and "observed_limit" in r:
            out.append((f"{part} observed limit", num(r.get("observed_limit"))))
    return out


def _capacity_view(results: dict[str, Any]) -> dict[str, Any] | None:
    cap = results.get("capacity")
    if not isinstance(cap, dict):
        return None
    steps = [s for s in cap.get("steps") or [] if isinstance(s, dict)]
    metrics = sorted({m for s in steps for m in (s.get("metrics") or {})})
    breach = cap.get("first_breach")
    if isinstance(breach, dict):
        unit = unit_of(str(breach.get("metric", "")))
        breach = {
            **breach,
            "value_text": with_unit(breach.get("value"), unit),
            "limit_text": with_unit(breach.get("limit"), unit),
        }
    rows = []
    for s in steps:
        verdict = str(s.get("verdict") or ("breached" if s.get("breached") else "within"))
        rows.append(
            {
                "level": num(s.get("level")),
                "started": with_unit(s.get("started_s"), "s"),
                "requests": num(s.get("requests")),
                "errors": num(s.get("errors")),
                "error_ratio": with_unit(s.get("error_ratio"), "%"),
                "rejections": ", ".join(
                    f"{k}: {v}" for k, v in (s.get("rejections") or {}).items() if v
                ),
                "p95": [
                    with_unit(((s.get("metrics") or {}).get(m) or {}).get("p95"), unit_of(m))
                    for m in metrics
                ],
                "breached": ", ".join(str(b) for b in s.get("breached") or []),
                "verdict": verdict,
                "cls": "failed" if s.get("breached") else "passed",
            }
        )
    return {
        "surface": cap.get("surface"),
        "model": cap.get("model"),
        "max_within_slo": cap.get("max_within_slo"),
        "level_unit": level_unit(cap),
        "first_breach": breach,
        "limiting_signal": cap.get("limiting_signal"),
        "metric_names": metrics,
        "steps": rows,
    }


def _flat(d: Any, prefix: str = "", depth: int = 0) -> dict[str, Any]:
    out: dict[str, Any] = {}
    if not isinstance(d, dict) or depth > 2:
        return out
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flat(v, key + ".", depth + 1))
        elif isinstance(v, int | float) and not isinstance(v, bool):
            out[key] = v
    return out


def _workers_view(results: dict[str, Any]) -> dict[str, Any] | None:
    workers = results.get("workers")
    if not isinstance(workers, dict) or not workers:
        return None
    flats = {str(w): _flat(v) for w, v in workers.items()}
    columns: list[str] = []
    for f in flats.values():
        columns += [k for k in f if k not in columns]
    columns = columns[:12]
    merged = _flat({k: v for k, v in results.items() if k not in ("workers", "series")})
    rows = [
        {"id": w, "cells": [with_unit(f.get(c), unit_of(c)) for c in columns], "merged": False}
        for w, f in sorted(flats.items())
    ]
    rows.append(
        {
            "id": "merged",
            "cells": [with_unit(merged.get(c), unit_of(c)) for c in columns],
            "merged": True,
        }
    )
    return {"columns": columns, "rows": rows}


def _environment() -> Any:
    import jinja2

    env = jinja2.Environment(
        loader=jinja2.ChoiceLoader(
            [
                jinja2.PackageLoader("harness.load", "templates"),
                jinja2.PackageLoader("harness.report", "templates"),  # _layout.html.j2
            ]
        ),
        autoescape=True,
        undefined=jinja2.StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return env


def render_capacity_page(
    results: dict[str, Any],
    series: Any = None,
    locust_json: Any = None,
    folder: str = "",
    headline: list[str] | None = None,
    plots: bool = True,
) -> str:
    from harness.report.html import COLOURS

    rows = threshold_rows(judged(results))
    requests = request_rows(locust_json)
    shown = {k: v for k, v in results.items()}
    raw = json.dumps(shown, indent=2, default=str)
    duration = results.get("duration_s")
    if duration is None and isinstance(series, dict) and series.get("points"):
        duration = series["points"][-1].get("t_s")
    target = results.get("target") if isinstance(results.get("target"), dict) else {}
    return (
        _environment()
        .get_template(TEMPLATE)
        .render(
            scenario=str(results.get("scenario", "?")),
            target={"base_url": target.get("base_url"), "live": target.get("live")},
            duration=with_unit(duration, "s") if duration is not None else "",
            cost=f"{results['cost_usd']:.4f} USD" if "cost_usd" in results else None,
            generated=time.strftime("%Y-%m-%d %H:%M:%S %Z"),
            folder=folder,
            verdict=_verdict(results, rows),
            figures_line=key_figures(results, requests),
            headline=headline or [],
            thresholds=rows,
            skipped=results.get("skipped"),
            capacity=_capacity_view(results),
            plots=figures(results, series) if plots else [],
            workers=_workers_view(results),
            requests=requests,
            raw=raw,
            raw_size=f"{len(raw) / 1024:.1f} kB",
            has_series=bool(series),
            colours=COLOURS,
        )
    )


def write_capacity_page(directory: Path, results: dict[str, Any]) -> Path:
    """``capacity.html`` in ``directory`` from ``results`` and, when there, the run's
    ``series.json`` and ``locust.json``."""
    from .runner import headline

    directory = Path(directory)
    page = render_capacity_page(
        results,
        series=read_json(directory / "series.json"),
        locust_json=read_json(directory / "locust.json"),
        folder=str(directory),
        headline=_safe_headline(headline, results),
    )
    path = directory / "capacity.html"
    path.write_text(page, encoding="utf-8")
    return path


def _safe_headline(fn: Callable[[dict], list[str]], results: dict[str, Any]) -> list[str]:
    try:
        return list(fn(results))
    except (KeyError, TypeError, AttributeError):
        return []


# --------------------------------------------------------------------------- terminal


def end_summary(
    name: str, directory: Path, results: dict[str, Any], headline: list[str], page: Path
) -> str:
    """The one screen printed when a run ends: verdict, totals, key figures, thresholds."""
    rows = threshold_rows(judged(results))
    verdict = _verdict(results, rows)
    requests = request_rows(read_json(Path(directory) / "locust.json"))
    lines = [f"load {name}: {verdict['title']} — {verdict['detail']}"]
    figs = key_figures(results, requests)
    if figs:
        lines.append("  " + " · ".join(f"{label} {value}" for label, value in figs[:8]))
    lines += [f"  {line}" for line in headline[:6]]
    for t in judged(results):
        lines.append(f"  {threshold_line(t)}")
    lines.append(f"  report folder: {directory}")
    lines.append(f"  capacity page: {page}")
    return "\n".join(lines)
