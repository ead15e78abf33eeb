"""``harness load NAME``: run one scenario headless with Locust, bounded, and report it.

The scenario runs as ``python -m locust -f loadtests/NAME.py --headless`` in a child process
(Locust patches its process with gevent). Outputs in ``--report-dir`` (default
``reports/load/<NAME>-<timestamp>/``): ``locust.json`` (exact totals), ``locust_stats.csv``
and friends, ``locust.html``, ``results.json`` (the scenario's own figures and thresholds)
and ``capacity.html``. Every file is swept for key values afterwards.

Distributed (``--workers N``, ``--master``, ``--worker --master-host HOST``; processes in
:mod:`harness.load.cluster`, messages and merging in :mod:`harness.load.distributed`): the
master merges the workers' figures and alone writes the outputs. By hand, with plain Locust:

    locust -f loadtests/streaming.py --master --headless --expect-workers 2 -u 200 -r 50 -t 60s \\
        --json-file out/locust --results-file out/results.json --target-profile target.toml
    locust -f loadtests/streaming.py --worker --master-host 127.0.0.1 --target-profile target.toml

``harness load capacity --surface SURFACE``: the stepped capacity search
(:mod:`harness.load.capacity`); its levels bound the run's time.

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
    "soak": ("soak.py", 200, 600.0),
    "capacity": ("capacity.py", 1, 0.0),  # users and duration: from the search's levels
}
MAX_DURATION_S = 3600.0
# the capacity search's defaults (harness/load/capacity.py reads them too)
CAPACITY_DEFAULTS = {"start": 2, "step": 2, "max": 12, "hold_s": 4.0, "settle_s": 1.0}
CAPACITY_REFINE_STEPS = 4


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
    workers: int = 0  # > 0: a Locust master and this many local workers
    role: str = "local"  # local | master (remote workers) | worker (of a remote master)
    master_host: str = "127.0.0.1"
    master_port: int = 0  # 0: a free port (local workers) or Locust's 5557
    capacity: dict[str, object] = field(default_factory=dict)  # surface, start, ... slo


def capacity_args(o: LoadOptions) -> tuple[list[str], float]:
    """The capacity search's options for Locust, and its time bound (seconds)."""
    c = {**CAPACITY_DEFAULTS, **{k: v for k, v in o.capacity.items() if v is not None}}
    start, step, top = int(c["start"]), int(c["step"]), int(c["max"])  # type: ignore[call-overload]
    hold, settle = float(c["hold_s"]), float(c["settle_s"])  # type: ignore[arg-type]
    if start < 1 or step < 1 or top < start:
        raise LoadError(
            f"capacity levels: need --start >= 1, --step >= 1 and --max >= --start "
            f"(got {start}, {step}, {top})"
        )
    if not 0 < hold <= 600:
        raise LoadError(f"--hold-s must be > 0 and <= 600 s, got {hold}")
    from .common import LoadUsageError
    from .slo import kind_of, levels, objectives, slowest_latency

    try:
        n = len(levels(start, step, top)) + CAPACITY_REFINE_STEPS
        kind = kind_of(str(c.get("surface") or "svd-stream"))
        slowest = slowest_latency(objectives(kind, c.get("slo")))  # type: ignore[arg-type]
    except LoadUsageError as exc:
        raise LoadError(str(exc)) from None
    if slowest is not None and hold * 1000.0 <= slowest.limit:
        print(
            f"harness: warning: --hold-s {hold:g} is not longer than the slowest latency "
            f"objective ({slowest.metric} <= {slowest.limit:g} ms): a step in which nothing "
            "answers in time is reported as no-data, not as a breach; hold each level for "
            f"more than {slowest.limit / 1000.0:g} s",
            file=sys.stderr,
        )
    args = ["--start", str(start), "--step", str(step), "--max", str(top), "--hold-s", str(hold)]
    if c.get("surface"):
        args += ["--surface", str(c["surface"])]
    for slo in c.get("slo") or []:  # type: ignore[attr-defined]
        args += ["--slo", str(slo)]
    return args, n * (hold + settle + 1.5) + 20.0


def locustfile(name: str) -> Path:
    if name not in SCENARIOS:
        raise LoadError(f"unknown scenario {name!r}; known: {', '.join(SCENARIOS)}")
    return REPO / "loadtests" / SCENARIOS[name][0]


def command(o: LoadOptions, out: Path) -> list[str]:
    from .common import MAX_USERS

    _, default_users, default_duration = SCENARIOS[o.name]
    users = o.users if o.users is not None else default_users
    search: list[str] = []
    if o.name == "capacity":
        search, default_duration = capacity_args(o)
        default_duration = min(default_duration, MAX_DURATION_S)
    elif o.capacity:
        raise LoadError(f"{', '.join(o.capacity)}: options of the capacity scenario only")
    duration = o.duration if o.duration is not None else default_duration
    if not 1 <= users <= MAX_USERS:
        raise LoadError(f"--users must be 1..{MAX_USERS}, got {users}")
    if not 0 < duration <= MAX_DURATION_S:
        raise LoadError(f"--duration must be > 0 and <= {MAX_DURATION_S:g} s, got {duration}")
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile(o.name)), "--headless"]
    if search:  # the search's shape sets users and ends the run; --max-seconds bounds it
        cmd += search
    else:
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


#: Locust's own ``--help`` leaves out a locustfile's options: load it, then print the parser.
HELP_CODE = (
    "import runpy, sys; runpy.run_path(sys.argv[1]); "
    "from locust.argument_parser import get_parser; get_parser().print_help()"
)


def wants_help(extra: list[str]) -> bool:
    """``--locust-args --help`` (or ``-- --help``): show Locust's and the scenario's options."""
    return any(a in ("-h", "--help") for a in extra)


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
    if name == "capacity" and isinstance(r.get("capacity"), dict):
        from .report import level_unit, quiet_levels

        c = r["capacity"]
        b, unit = c.get("first_breach"), level_unit(c)
        breach = (
            f"first breach at {b['level']} {unit}: {b['metric']} = {b['value']} "
            f"(limit {b['limit']})"
            if b
            else "no breach up to the highest level"
        )
        lines = [
            f"{c.get('surface')}: max within SLO {c.get('max_within_slo')} {unit}; {breach}; "
            f"limiting signal {c.get('limiting_signal')}"
        ]
        return lines + quiet_levels(c)
    if name == "tts" and r.get("skipped"):
        return [f"skipped: {r['skipped']}"]
    return []


def run_load(o: LoadOptions) -> int:
    from .common import is_loopback_url, target_from_profile
    from .report import end_summary, redact_outputs, write_capacity_page

    locustfile(o.name)
    if o.target:
        t = target_from_profile(o.target)
        if t.live or not is_loopback_url(t.base_url):
            if not o.allow_live:
                raise LoadError("the target is not loopback; add --allow-live and --max-cost")
            if o.max_cost is None or o.max_cost < 0:
                raise LoadError("a live target needs --max-cost USD (>= 0)")
    env = dict(os.environ)
    env["PYTHONPATH"] = str(REPO) + os.pathsep + env.get("PYTHONPATH", "")
    if o.role == "worker":
        return _run_worker(o, env)
    if wants_help(o.extra):  # Locust's and the scenario's options; no run, no report folder
        cmd = [sys.executable, "-c", HELP_CODE, str(locustfile(o.name))]
        return subprocess.run(cmd, env=env).returncode
    stamp = time.strftime("%Y%m%d-%H%M%S")
    out = Path(o.report_dir) if o.report_dir else REPO / "reports" / "load" / f"{o.name}-{stamp}"
    out = out.resolve()  # Locust runs with the folder as its working directory
    cmd = command(o, out)  # bad options fail here, before any folder exists
    created = not out.exists()
    if o.workers or o.role == "master":
        returncode = _run_distributed(o, cmd, env, out)
    else:
        out.mkdir(parents=True, exist_ok=True)
        returncode = subprocess.run(cmd, env=env, cwd=str(out)).returncode
    proc = subprocess.CompletedProcess(cmd, returncode)
    redact_outputs(out, _secrets(o))
    results_path = out / "results.json"
    if not results_path.exists():
        if created and not any(out.iterdir()):
            out.rmdir()  # a failed run leaves no empty report folder behind
        print(
            f"harness: load scenario {o.name} wrote no results (locust exit {proc.returncode})",
            file=sys.stderr,
        )
        return 3 if proc.returncode not in (0, 1, 2) else max(proc.returncode, 1)
    results = json.loads(results_path.read_text())
    page = write_capacity_page(out, results)
    breached = [t for t in results.get("thresholds", []) if not t["ok"]]
    print(end_summary(o.name, out, results, headline(results), page))
    if proc.returncode not in (0, 1):
        return 3
    return 1 if breached or proc.returncode == 1 else 0


def _worker_extra(o: LoadOptions) -> list[str]:
    extra = list(o.extra)
    if o.allow_live:
        extra.append("--allow-live")
    if o.max_cost is not None:
        extra += ["--max-cost", str(o.max_cost)]
    return extra


def _run_distributed(o: LoadOptions, cmd: list[str], env: dict[str, str], out: Path) -> int:
    """A master and local workers (``--workers N``), or a master alone (``--master``)."""
    from . import cluster

    if not SCENARIOS_DISTRIBUTABLE.get(o.name):
        raise LoadError(
            f"--workers/--master: {o.name} cannot run distributed (it runs one user); "
            f"these can: {', '.join(n for n, ok in SCENARIOS_DISTRIBUTABLE.items() if ok)}"
        )
    n = o.workers or 1
    try:
        cluster.check_workers(n)
    except cluster.ClusterError as exc:
        raise LoadError(str(exc)) from None
    users = o.users if o.users is not None else SCENARIOS[o.name][1]
    if o.name != "capacity" and users < n:
        raise LoadError(f"--users {users} is fewer than --workers {n}: a worker would idle")
    duration = float(cmd[cmd.index("--max-seconds") + 1])
    if o.role == "master":
        port = o.master_port or cluster.DEFAULT_MASTER_PORT
        args = cluster.master_args(n, port, "", share_target=False)
        out.mkdir(parents=True, exist_ok=True)
        timeout = duration + cluster.WAIT_FOR_WORKERS_S + 60
        return subprocess.run([*cmd, *args], env=env, cwd=str(out), timeout=timeout).returncode
    port = o.master_port or cluster.free_port()
    args = cluster.master_args(n, port, "127.0.0.1", share_target=not o.target)
    out.mkdir(parents=True, exist_ok=True)
    return cluster.run_local(
        [*cmd, *args],
        locustfile(o.name),
        n,
        port,
        o.target,
        _worker_extra(o),
        env,
        out,
        timeout_s=duration + 90,
    )


def _run_worker(o: LoadOptions, env: dict[str, str]) -> int:
    """``--worker``: a Locust worker of a master elsewhere, in the foreground (writes nothing)."""
    from . import cluster

    port = o.master_port or cluster.DEFAULT_MASTER_PORT
    cmd = cluster.worker_command(locustfile(o.name), o.master_host, port, o.target, [])
    if not o.target:
        cmd.remove("--target-from-master")  # a remote master's target is not ours to reach
    return subprocess.run([*cmd, *_worker_extra(o)], env=env).returncode


# which scenarios merge on a master (their state is a metrics.Tally; see distributed.py)
SCENARIOS_DISTRIBUTABLE = {
    "concurrency-probe": False,
    "backoff": False,
    "streaming": True,
    "quota": False,
    "tts": True,
    "http-rps": True,
    "soak": False,
    "capacity": True,
}
