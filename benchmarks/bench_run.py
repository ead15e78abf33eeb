"""Wall time of full conformance runs against the embedded emulator, clean and misbehaving.

Prints figures; asserts nothing about timing. In one invocation, every run on warm
fixtures (the cold fixture build is timed once, first):

- ``clean``: ``harness run`` against the embedded emulator (goal <= 25 s);
- ``latency-100ms``: the same with 100 ms before every HTTP response and WebSocket
  handshake (the emulator's benign ``latency`` variant; goal <= 60 s);
- ``never-done``: a target that never sends ``done`` nor closes a stream after its end
  (the ``hang-after-end`` deviation; goal: within 2x the clean run);
- ``example-config``: ``--emulator-config examples/emulator.toml`` (goal: about the clean run).

Absolute seconds and the ratio to the clean run. ``--jobs N`` is passed to ``harness run``
when that option exists.

    .venv/bin/python benchmarks/bench_run.py [--jobs N] [--only NAME ...] [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
EXAMPLE = ROOT / "examples" / "emulator.toml"
GOALS = {  # name -> (absolute goal in s, or None; goal as a ratio to clean, or None)
    "clean": (25.0, None),
    "latency-100ms": (60.0, None),
    "never-done": (None, 2.0),
    "example-config": (None, 1.2),
}
CONFIGS = {  # name -> emulator config TOML text (None: no --emulator-config; "example")
    "clean": None,
    "latency-100ms": '[benign]\nenabled = ["latency"]\nlatency_ms = 100\n',
    "never-done": '[deviations]\nenabled = ["hang-after-end"]\n',
    "example-config": "example",
}


def has_jobs_option() -> bool:
    r = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--help"],
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    return "--jobs" in r.stdout


def build_fixtures(fixtures: Path, env: dict[str, str]) -> float:
    if fixtures.exists():
        shutil.rmtree(fixtures)
    t0 = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "harness.cli", "fixtures", "build", "--out", str(fixtures)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        check=True,
    )
    return time.perf_counter() - t0


def one_run(tmp: Path, name: str, env: dict[str, str], jobs: str | None) -> tuple[float, int, dict]:
    args = [sys.executable, "-m", "harness.cli", "run", "--report-dir", str(tmp / name)]
    config = CONFIGS[name]
    if config == "example":
        args += ["--emulator-config", str(EXAMPLE)]
    elif config is not None:
        path = tmp / f"{name}.toml"
        path.write_text(config, encoding="utf-8")
        args += ["--emulator-config", str(path)]
    if jobs is not None:
        args += ["--jobs", jobs]
    t0 = time.perf_counter()
    r = subprocess.run(args, cwd=ROOT, env=env, capture_output=True, text=True)
    wall = time.perf_counter() - t0
    report_file = tmp / name / "latest" / "conformance.json"
    report = json.loads(report_file.read_text()) if report_file.exists() else {"cases": []}
    if not report["cases"]:
        print(f"  {name}: no report (exit {r.returncode}): {r.stderr.strip()[-400:]}")
    shutil.rmtree(tmp / name, ignore_errors=True)
    return wall, r.returncode, report


def describe(name: str, wall: float, code: int, report: dict, clean: float | None) -> None:
    cases = report["cases"]
    in_cases = sum(c.get("duration_s", 0.0) for c in cases)
    ratio = f"{wall / clean:4.2f}x clean" if clean else "      -    "
    goal_abs, goal_ratio = GOALS[name]
    goal = f"goal <= {goal_abs:.0f} s" if goal_abs else f"goal <= {goal_ratio:g}x clean"
    print(
        f"{name:15s} {wall:7.1f} s  {ratio}  ({goal}); exit {code}, {len(cases)} cases, "
        f"{in_cases:.1f} s inside cases"
    )
    counts = Counter(c["outcome"] for c in cases)
    print(f"{'':15s} outcomes: {dict(sorted(counts.items()))}")
    causes = Counter(c.get("cause") for c in cases if c.get("cause"))
    for cause, n in causes.most_common(3):
        print(f"{'':15s} not tested: {n} x {cause[:110]}")
    for c in sorted(cases, key=lambda c: -c.get("duration_s", 0.0))[:3]:
        print(f"{'':15s} slowest: {c['duration_s']:.2f} s {c['nodeid']}")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    ap.add_argument("--jobs", default=None, help="passed to `harness run --jobs` if it exists")
    ap.add_argument("--only", nargs="+", choices=list(CONFIGS), default=list(CONFIGS))
    args = ap.parse_args()
    jobs = args.jobs
    if jobs is not None and not has_jobs_option():
        print(f"harness run has no --jobs option: --jobs {jobs} ignored")
        jobs = None
    names = ["clean", *(n for n in args.only if n != "clean")]  # ratios need the clean run
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        env = {**os.environ, "HARNESS_FIXTURE_DIR": str(tmp / "fixtures")}
        build_s = build_fixtures(tmp / "fixtures", env)
        print(f"fixtures (cold build): {build_s:.1f} s; runs below on warm fixtures")
        print(f"jobs: {jobs if jobs is not None else 'the default of harness run'}")
        for i in range(args.repeat):
            if args.repeat > 1:
                print(f"-- round {i + 1}")
            clean: float | None = None
            for name in names:
                wall, code, report = one_run(tmp, name, env, jobs)
                if name == "clean":
                    clean = wall
                describe(name, wall, code, report, clean if name != "clean" else None)


if __name__ == "__main__":
    main()
