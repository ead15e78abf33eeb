"""Wall time of a full conformance run against the embedded emulator, from cold fixtures.

Prints figures; asserts nothing about timing. Goal on the 2-core reference machine:
the whole run (fixture build included) in <= 45 s.

    .venv/bin/python benchmarks/bench_run.py [--repeat N]
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
GOAL_S = 45.0


def one_run(tmp: Path, cold: bool) -> tuple[float, int, dict]:
    fixtures = tmp / ("fixtures-cold" if cold else "fixtures")
    env = {**os.environ, "HARNESS_FIXTURE_DIR": str(fixtures)}
    if cold and fixtures.exists():
        import shutil

        shutil.rmtree(fixtures)
    reports = tmp / "reports"
    t0 = time.perf_counter()
    r = subprocess.run(
        [sys.executable, "-m", "harness.cli", "run", "--report-dir", str(reports)],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )  # fmt: skip
    wall = time.perf_counter() - t0
    report = json.loads((reports / "latest" / "conformance.json").read_text())
    return wall, r.returncode, report


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--repeat", type=int, default=1)
    args = ap.parse_args()
    with tempfile.TemporaryDirectory() as d:
        tmp = Path(d)
        for i in range(args.repeat):
            wall, code, report = one_run(tmp, cold=True)
            cases = report["cases"]
            in_cases = sum(c["duration_s"] for c in cases)
            print(
                f"run {i + 1}: {wall:6.1f} s wall (goal <= {GOAL_S:.0f} s), exit {code}, "
                f"{len(cases)} cases, {in_cases:.1f} s inside cases, "
                f"{wall - in_cases:.1f} s start-up, fixtures, reports and pytest overhead"
            )
            print(f"         summary: {report['summary']}")
            slow = sorted(cases, key=lambda c: -c["duration_s"])[:5]
            for c in slow:
                print(f"         slowest: {c['duration_s']:.2f} s {c['nodeid']}")


if __name__ == "__main__":
    main()
