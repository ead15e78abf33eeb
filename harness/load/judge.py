"""The judging half of the load scenarios: pure functions, no Locust, no gevent.

Kept apart so that tests (and reports) can use them without importing Locust, which
monkey-patches the importing process with gevent.
"""

from __future__ import annotations

import random
import statistics
from dataclasses import dataclass
from typing import Any

from harness.contract import tables as T

from .common import Threshold, pct, summary_ms

POLICY = T.DOCUMENTED_BACKOFF


# --------------------------------------------------------------------------- thresholds


class Measured(Threshold):
    """A threshold on a figure the run may not have measured (the target's memory when it
    is not our emulator child, a limit the probe did not reach): without a value it is not
    judged, ``ok`` with ``not_measured`` (could-not-test is never a breach)."""

    def check(self, results: Any) -> dict[str, Any]:
        out = super().check(results)
        if out["value"] is None:
            out.update(ok=True, not_measured=True)
        return out


# --------------------------------------------------------------------------- probe


@dataclass
class Attempt:
    outcome: str  # served | queued | rejected | error
    latency_s: float
    signal: str = ""


def classify(attempts: list[Attempt], service_s: float) -> list[Attempt]:
    for a in attempts:
        if a.outcome == "served" and a.latency_s >= max(1.5 * service_s, service_s + 0.2):
            a.outcome = "queued"
    return attempts


def probe_conclusion(steps: list[dict[str, Any]], service_s: float, max_n: int) -> dict[str, Any]:
    """The probe's conclusion from its steps (pure; tested directly)."""
    for step in steps:
        if step["rejected"] or step["queued"]:
            rej = [x for x in step["rejection_latencies_s"]]
            rej_p50 = pct(rej, 0.5)
            if step["rejected"]:
                mode = (
                    "immediate"
                    if rej_p50 is not None and rej_p50 < 0.5 * service_s
                    else "rejected-slowly"
                )
            else:
                mode = "queued"
            return {
                "observed_limit": step["served"],
                "mode": mode,
                "at_step": step["n"],
                "signal": sorted(set(step["signals"])),
                "rejection_p50_ms": None if rej_p50 is None else round(rej_p50 * 1000, 2),
                "service_ms": round(service_s * 1000, 2),
            }
    return {
        "observed_limit": None,
        "mode": "none",
        "at_step": max_n,
        "signal": [],
        "rejection_p50_ms": None,
        "service_ms": round(service_s * 1000, 2),
    }


def step_record(n: int, attempts: list[Attempt]) -> dict[str, Any]:
    return {
        "n": n,
        "served": sum(a.outcome == "served" for a in attempts),
        "queued": sum(a.outcome == "queued" for a in attempts),
        "rejected": sum(a.outcome == "rejected" for a in attempts),
        "errors": sum(a.outcome == "error" for a in attempts),
        "latency_ms": summary_ms(a.latency_s for a in attempts if a.outcome != "rejected"),
        "rejection_latencies_s": [a.latency_s for a in attempts if a.outcome == "rejected"],
        "signals": [a.signal for a in attempts if a.outcome == "rejected"],
    }


# --------------------------------------------------------------------------- backoff


def scheduled_wait(
    attempt: int, rng: random.Random, scale: float = 1.0, retry_after: float | None = None
) -> float:
    """The documented wait after failed ``attempt`` (scaled), honouring ``Retry-After``."""
    low, high = POLICY.wait_bounds(attempt)
    wait = (low + rng.uniform(0.0, high - low)) * scale
    if retry_after is not None:
        wait = max(wait, retry_after)
    return wait


def retry_after(headers: Any) -> float | None:
    value = headers.get(T.KUGEL_RETRY_AFTER_HEADER) if headers is not None else None
    try:
        return float(value) if value is not None else None
    except ValueError:
        return None  # an HTTP date: not used by either vendor


def analyse_backoff(
    docs: list[dict[str, Any]],
    imms: list[dict[str, Any]],
    t_start: float,
    t_clear: float,
    scale: float,
    i_start: float | None = None,
    i_clear: float | None = None,
) -> dict[str, Any]:
    """Judge the attempt logs (pure; times are perf_counter seconds)."""
    by_client: dict[int, list[dict[str, Any]]] = {}
    for e in docs:
        by_client.setdefault(e["client"], []).append(e)
    deviations, lows, waits = [], 0, []
    for entries in by_client.values():
        entries.sort(key=lambda e: e["attempt"])
        for prev, nxt in zip(entries, entries[1:], strict=False):
            actual = nxt["t"] - prev["end"]
            deviations.append(actual - prev["scheduled_wait"])
            waits.append(
                {
                    "client": prev["client"],
                    "attempt": prev["attempt"],
                    "actual_s": actual,
                    "scheduled_s": prev["scheduled_wait"],
                    "low_bound_s": prev["low_bound"],
                }
            )
            if actual < prev["low_bound"]:
                lows += 1

    i_start = t_start if i_start is None else i_start
    i_clear = t_clear if i_clear is None else i_clear

    def recovery(log: list[dict[str, Any]], clear: float) -> dict[str, float | int | None]:
        oks = [e["end"] - clear for e in log if 200 <= e["status"] < 300]
        return summary_ms(max(0.0, x) for x in oks)

    def successes(log: list[dict[str, Any]]) -> int:
        return sum(200 <= e["status"] < 300 for e in log)

    storm = [e for e in imms if e["t"] < i_clear]
    timeline = [
        {
            "policy": p,
            "client": e["client"],
            "attempt": e["attempt"],
            "t_s": round(e["t"] - start, 4),
            "status": e["status"],
        }
        for p, log, start in (("documented", docs, t_start), ("immediate", imms, i_start))
        for e in log
        if p == "documented" or e["attempt"] % 10 == 0 or 200 <= e["status"] < 300
    ]
    return {
        "wait_scale": scale,
        "limit_cleared_at_s": round(t_clear - t_start, 4),
        "documented": {
            "attempts": len(docs),
            "attempts_per_client": {c: len(v) for c, v in sorted(by_client.items())},
            "successes": successes(docs),
            "judged": {
                **summary_ms(abs(d) for d in deviations),
                "signed_p50_ms": None if not deviations else round(pct(deviations, 0.5) * 1000, 3),
            },
            "low_violations": lows,
            "waits": waits,
            "recovery": recovery(docs, t_clear),
            "goodput": successes(docs) / max(1, len(docs)),
        },
        "immediate": {
            "attempts": len(imms),
            "storm": len(storm),
            "successes": successes(imms),
            "recovery": recovery(imms, i_clear),
            "goodput": successes(imms) / max(1, len(imms)),
        },
        "immediate_limit_cleared_at_s": round(i_clear - i_start, 4),
        "timeline": timeline,
    }


# --------------------------------------------------------------------------- soak


def rss_mb(pid: int | None) -> float | None:
    """Resident memory of ``pid`` in MB (VmRSS from ``/proc``); ``None`` if unknown."""
    if pid is None:
        return None
    try:
        with open(f"/proc/{pid}/status", encoding="ascii") as f:
            for line in f:
                if line.startswith("VmRSS:"):
                    return round(int(line.split()[1]) / 1024.0, 2)
    except (OSError, ValueError, IndexError):
        return None
    return None


def growth_mb(samples: list[tuple[float, float | None]]) -> tuple[float | None, str | None]:
    """Memory growth over ``(t_s, mb)`` samples, or ``None`` and why it could not be had."""
    pts = [(t, mb) for t, mb in samples if mb is not None]
    if not pts:
        return None, "not measured"
    warmup = min(60.0, 0.1 * pts[-1][0])
    after = [mb for t, mb in pts if t >= warmup]
    if len(after) < 6:
        return None, f"too few samples after the warm-up ({len(after)} < 6)"
    return round(statistics.median(after[-3:]) - statistics.median(after[:3]), 2), None


def answered(sent: list[float | None], chunk_ms: float, total_ms: float, covered_ms: float) -> int:
    """How many sent chunks the results covered (chunk ``k`` ends at ``(k+1) * chunk_ms``)."""
    return sum(
        1
        for k, at in enumerate(sent)
        if at is not None and min((k + 1) * chunk_ms, total_ms) <= covered_ms + 1e-6
    )
