"""``harness load NAME``: run one scenario headless with Locust, bounded, and report it.

The scenario runs as ``python -m locust -f loadtests/NAME.py --headless`` in a child process
(Locust patches its process with gevent). Outputs in ``--report-dir`` (default
``reports/load/<NAME>-<timestamp>/``): ``locust.json`` (exact totals), ``locust_stats.csv``
and friends, ``locust.html``, ``results.json`` (the scenario's own figures and thresholds)
and ``capacity.html``. Every file is swept for key values afterwards.

Distributed (documented, not used by ``harness load``): start a master and workers by hand,
all with the same scenario file and ``--target-profile`` (workers resolve the target; the
master sends nothing):

    locust -f loadtests/streaming.py --master --headless --expect-workers 2 -u 200 -r 50 -t 60s \\
        --json-file out/locust --target-profile target.toml
    locust -f loadtests/streaming.py --worker --master-host 127.0.0.1 --target-profile target.toml

Exit codes: 0 thresholds kept; 1 a threshold breached or Locust recorded failures; 2 bad
options (e.g. a non-loopback target without --allow-live / --max-cost); 3 harness error.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
SCENARIOS = {
    "concurrency-probe": ("concurrency_probe.py", 1, 120.0),
    "backoff": ("backoff.py", 1, 120.0),
    "streaming": ("streaming.py", 10, 30.0),
    "quota": ("quota.py", 1, 60.0),
    "tts": ("tts.py", 5, 20.0),
    "http-rps": ("http_rps.py", 32, 10.0),
}
MAX_DURATION_S = 3600.0


class LoadError(ValueError):
    """Bad ``harness load`` options (exit 2)."""


@dataclass
class LoadOptions:
    name: str
    target: str | None = None
    users: int | None = None
    duration: float | None = None
    report_dir: str | None = None
    allow_live: bool = False
    max_cost: float | None = None
    extra: list[str] = field(default_factory=list)


def locustfile(name: str) -> Path:
    if name not in SCENARIOS:
        raise LoadError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return REPO / "loadtests" / SCENARIOS[name][0]


def command(o: LoadOptions, out: Path) -> list[str]:
    from .common import MAX_USERS

    _, default_users, default_duration = SCENARIOS[o.name]
    users = o.users if o.users is not None else default_users
    duration = o.duration if o.duration is not None else default_duration
    if not 1 <= users <= MAX_USERS:
        raise LoadError(f"--users must be 1..{MAX_USERS}, got {users}")
    if not 0 < duration <= MAX_DURATION_S:
        raise LoadError(f"--duration must be > 0 and <= {MAX_DURATION_S:g} s, got {duration}")
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile(o.name)), "--headless"]
    cmd += ["-u", str(users), "-r", str(max(1, users)), "--run-time", f"{int(duration) or 1}s"]
    cmd += ["--only-summary", "--csv", str(out / "locust"), "--html", str(out / "locust.html")]
    cmd += ["--json-file", str(out / "locust"), "--results-file", str(out / "results.json")]
    cmd += ["--max-seconds", str(duration + 30)]
    if o.target:
        cmd += ["--target-profile", o.target]
    if o.allow_live:
        cmd.append("--allow-live")
    if o.max_cost is not None:
        cmd += ["--max-cost", str(o.max_cost)]
    return cmd + list(o.extra)


def _secrets(o: LoadOptions) -> list[str]:
    from .emu import LOAD_KEY

    found = [LOAD_KEY]
    try:
        from harness.emulator.kugel.config import DEFAULT_KEYS

        found += list(DEFAULT_KEYS.values())
    except ImportError:
        pass
    if o.target:
        from harness.target import load_profile

        found += [s.value for s in load_profile(o.target).secrets()]
    return found


def headline(r: dict) -> list[str]:
    """The scenario's key figures, one line each."""
    name = r.get("scenario")
    if name == "concurrency-probe":
        return [
            f"{k}: {v.get('model')} observed limit {v.get('observed_limit')}, {v.get('mode')}, "
            f"signal {v.get('signal')}, slots released after unclean close: "
            f"{v.get('slots_released')} ({v.get('released_after_s')} s)"
            for k, v in r.items()
            if isinstance(v, dict) and "observed_limit" in v
        ]
    if name == "backoff" and "documented" in r:
        d, i = r["documented"], r["immediate"]
        return [
            f"documented: {d['attempts']} attempts, judged deviation p50 {d['judged']['p50']} ms "
            f"p99 {d['judged']['p99']} ms, goodput {d['goodput']:.3f}",
            f"immediate: {i['attempts']} attempts (storm {i['storm']}), goodput {i['goodput']:.4f}",
        ]
    if name == "streaming":
        return [
            f"sessions {r.get('sessions')}, late {r.get('late_sessions')}, closes {r.get('close_codes')}",
            f"ttfr p95 {r['ttfr_ms']['p95']} ms, result lag p99 {r['result_lag_ms']['p99']} ms, "
            f"pacing lag p99 {r['pacing_lag_ms']['p99']} ms",
        ]
    if name == "quota":
        return [
            f"accepted after exhaustion: {r.get('accepted_after_exhaustion')}; "
            f"answers after: {r.get('after')}"
        ]
    if name == "tts" and r.get("skipped"):
        return [f"skipped: {r['skipped']}"]
    return []


def run_load(o: LoadOptions) -> int:
    from .common import is_loopback_url, target_from_profile
    from .report import redact_outputs, write_capacity_page

    locustfile(o.name)
    if o.target:
        t = target_from_profile(o.target)
        if t.live or not is_loopback_url(t.base_url):
            if not o.allow_live:
                raise LoadError("the target is not loopback; add --allow-live and --max-cost")
            if o.max_cost is None or o.max_cost < 0:
                raise LoadError("a live target needs --max-cost USD (>= 0)")
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(o.report_dir) if o.report_dir else REPO / "reports" / "load" / f"{o.name}-{stamp}"
    out.mkdir(parents=True, exist_ok=True)
    cmd = command(o, out)
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    proc = subprocess.run(cmd, env=env, cwd=str(out))
    redact_outputs(out, _secrets(o))
    results_path = out / "results.json"
    if not results_path.exists():
        print(
            f"harness: load scenario {o.name} wrote no results (locust exit {proc.returncode})",
            file=sys.stderr,
        )
        return 3 if proc.returncode not in (0, 1, 2) else max(proc.returncode, 1)
    results = json.loads(results_path.read_text())
    page = write_capacity_page(out, results)
    breached = [t for t in results.get("thresholds", []) if not t["ok"]]
    print(f"load {o.name}: {out}")
    for line in headline(results):
        print(f"  {line}")
    for t in results.get("thresholds", []):
        print(
            f"  {'ok ' if t['ok'] else 'BREACHED'} {t['metric']} = {t['value']} (<= {t['limit']})"
        )
    print(f"  capacity page: {page}")
    if proc.returncode not in (0, 1):
        return 3
    return 1 if breached or proc.returncode == 1 else 0
