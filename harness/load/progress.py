"""Progress during a load run: a line on stderr every few seconds, and the run's time series.

:func:`install` (called by :func:`harness.load.common.register`) adds Locust listeners that,
on a local run or on the master (never on a worker), sample Locust's request statistics every
second or so:

* every ``--progress-s`` seconds (default 5; 0 turns the lines off) one line goes to stderr:
  elapsed time, users, requests (and their rate), p95 of the requests since the last line,
  errors, and what the scenario adds (its state's or its run's ``progress_text()``, e.g. the
  soak's open streams and memory). Only totals and fixed texts: no request name, no key.
* the samples become ``series.json`` beside ``--results-file``: per interval the users,
  requests, failures and latency percentiles, in total and per request name. The capacity page
  plots them ("latency percentiles over time") for every scenario.

Percentiles of an interval come from the difference of Locust's cumulative response-time
histograms (``StatsEntry.response_times``, whole milliseconds) between two samples: exact
for the interval, and correct on a master, whose histograms are the workers' merged.

Importable without Locust (Locust is imported by :func:`install` only).
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

DEFAULT_PRINT_S = 5.0
MAX_POINTS = 600  # samples kept in series.json, whatever the run's length
MAX_NAMES = 24  # request names kept per sample (the busiest)


def hist_diff(now: Mapping[int, int], before: Mapping[int, int]) -> dict[int, int]:
    """``now - before`` of two cumulative ``{ms: count}`` histograms."""
    out = {}
    for k, v in now.items():
        d = v - before.get(k, 0)
        if d > 0:
            out[k] = d
    return out


def hist_pct(hist: Mapping[int, int], p: float) -> float | None:
    """The ``p`` percentile (0..1) of a ``{ms: count}`` histogram (nearest rank)."""
    total = sum(hist.values())
    if not total:
        return None
    rank = max(1, int(-(-p * total // 1)))  # ceil
    seen = 0
    for k in sorted(hist):
        seen += hist[k]
        if seen >= rank:
            return float(k)
    return float(max(hist))


@dataclass
class _Snap:
    requests: int = 0
    failures: int = 0
    hist: dict[int, int] = field(default_factory=dict)


def _snap(entry: Any) -> _Snap:
    return _Snap(entry.num_requests, entry.num_failures, dict(entry.response_times))


def _figures(now: _Snap, before: _Snap | None) -> dict[str, Any]:
    before = before or _Snap()
    h = hist_diff(now.hist, before.hist)
    return {
        "requests": now.requests - before.requests,
        "failures": now.failures - before.failures,
        "p50_ms": hist_pct(h, 0.5),
        "p95_ms": hist_pct(h, 0.95),
        "p99_ms": hist_pct(h, 0.99),
    }


@dataclass
class Progress:
    """One run's sampler (hung on ``environment.harness_progress``)."""

    name: str
    print_s: float
    tick_s: float
    write: Callable[[str], None]
    t0: float = field(default_factory=time.monotonic)
    series: list[dict[str, Any]] = field(default_factory=list)
    last: dict[tuple[str, str], _Snap] = field(default_factory=dict)
    last_total: _Snap | None = None
    printed_total: _Snap | None = None
    printed_at: float = 0.0
    greenlet: Any = None
    before: tuple[_Snap | None, dict[tuple[str, str], _Snap]] | None = None

    def sample(self, environment: Any, final: bool = False) -> dict[str, Any]:
        """One point of the series; ``final``: a last interval shorter than half a tick is
        folded into the one before (no spike from dividing by a sliver of time)."""
        stats = environment.stats
        t = time.monotonic() - self.t0
        short = bool(self.series) and t - self.series[-1]["t_s"] < self.tick_s / 2
        if final and short and self.before is not None:
            self.series.pop()
            self.last_total, self.last = self.before
        self.before = (self.last_total, dict(self.last))
        total = _snap(stats.total)
        point: dict[str, Any] = {"t_s": round(t, 3), "users": _users(environment)}
        point.update(_figures(total, self.last_total))
        by_name = {}
        for key, entry in list(stats.entries.items()):
            snap = _snap(entry)
            fig = _figures(snap, self.last.get(key))
            self.last[key] = snap
            if fig["requests"]:
                name = key[0] if key[0] not in by_name else f"{key[1]} {key[0]}"
                by_name[name] = fig
        busiest = sorted(by_name.items(), key=lambda kv: -kv[1]["requests"])[:MAX_NAMES]
        point["by_name"] = dict(busiest)
        self.last_total = total
        self.series.append(point)
        if len(self.series) > MAX_POINTS:  # keep every other point: bounded, still even
            self.series = self.series[::2]
        return point

    def line(self, environment: Any) -> str:
        total = _snap(environment.stats.total)
        fig = _figures(total, self.printed_total)
        t = time.monotonic() - self.t0
        window = max(1e-9, t - self.printed_at)
        self.printed_total, self.printed_at = total, t
        p95 = "–" if fig["p95_ms"] is None else f"{fig['p95_ms']:.0f} ms"
        err_ratio = total.failures / total.requests if total.requests else 0.0
        parts = [
            f"[load {self.name}] {t:5.0f} s",
            f"users {_users(environment)}",
            f"requests {total.requests} ({fig['requests'] / window:.1f}/s)",
            f"p95 {p95}",
            f"errors {total.failures} ({100.0 * err_ratio:.2f} %)",
        ]
        extra = _extra(environment)
        if extra:
            parts.append(extra)
        return " | ".join(parts)

    def run(self, environment: Any) -> None:
        import gevent

        while True:
            gevent.sleep(self.tick_s)
            with contextlib.suppress(Exception):  # progress never breaks a run
                self.sample(environment)
                if (
                    self.print_s > 0
                    and time.monotonic() - self.t0 - self.printed_at >= self.print_s
                ):
                    self.write(self.line(environment))


def _users(environment: Any) -> int:
    runner = environment.runner
    return int(getattr(runner, "user_count", 0) or 0) if runner is not None else 0


def _extra(environment: Any) -> str:
    """What the scenario adds to the line: ``progress_text()`` of its state or its run."""
    run = getattr(environment, "harness", None)
    for owner in (getattr(run, "state", None), run):
        fn = getattr(owner, "progress_text", None)
        if callable(fn):
            with contextlib.suppress(Exception):
                return str(fn())
    return ""


def _stderr(text: str) -> None:
    print(text, file=sys.stderr, flush=True)


def _arguments(parser: Any) -> None:
    parser.add_argument(
        "--progress-s",
        type=float,
        default=float(os.environ.get("HARNESS_LOAD_PROGRESS_S") or DEFAULT_PRINT_S),
        help="a progress line on stderr every this many seconds (0: none)",
    )


def _is_worker(environment: Any) -> bool:
    from locust.runners import WorkerRunner

    return isinstance(environment.runner, WorkerRunner)


def _start(environment: Any) -> None:
    if _is_worker(environment) or getattr(environment, "harness_progress", None) is not None:
        return
    opts = environment.parsed_options
    run = getattr(environment, "harness", None)
    name = getattr(getattr(run, "scenario", None), "name", "") or "run"
    run_time = float(getattr(opts, "run_time", 0) or 0)
    tick = max(1.0, run_time / MAX_POINTS)
    p = Progress(name, float(getattr(opts, "progress_s", DEFAULT_PRINT_S)), tick, _stderr)
    environment.harness_progress = p
    import gevent

    p.greenlet = gevent.spawn(p.run, environment)


def _stop(environment: Any) -> None:
    p = getattr(environment, "harness_progress", None)
    if not isinstance(p, Progress) or p.greenlet is None:
        return
    p.greenlet.kill(block=False)
    p.greenlet = None
    with contextlib.suppress(Exception):
        p.sample(environment, final=True)


def series_path(results_file: str) -> Path:
    return Path(results_file).with_name("series.json")


def _quit(environment: Any) -> None:
    _stop(environment)
    p = getattr(environment, "harness_progress", None)
    opts = environment.parsed_options
    path = getattr(opts, "results_file", "") if opts is not None else ""
    if not isinstance(p, Progress) or not path:
        return
    body = {"interval_s": p.tick_s, "points": p.series}
    with contextlib.suppress(OSError):
        series_path(path).parent.mkdir(parents=True, exist_ok=True)
        series_path(path).write_text(json.dumps(body, indent=1) + "\n")


def install(events: Any) -> None:
    """Add the progress listeners to Locust's ``events`` (once per process)."""
    events.init_command_line_parser.add_listener(lambda parser, **_: _arguments(parser))
    events.test_start.add_listener(lambda environment, **_: _start(environment))
    events.test_stop.add_listener(lambda environment, **_: _stop(environment))
    events.quitting.add_listener(lambda environment, **_: _quit(environment))
