"""Shared by the detection self-tests: run `harness run` against a switched emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# As the embedded run: 60 s of modelled processing in 0.12 s.
FAST = "[processing]\ntime_scale = 0.002\n"


def run_switched(
    tmp: Path, name: str, config: str, clauses: Iterable[str], strict: bool = False
) -> tuple[int, dict]:
    """`harness run --emulator-config` with ``config`` (plus FAST); exit code and report."""
    cfg = tmp / f"{name}.toml"
    cfg.write_text(FAST + config, encoding="utf-8")
    args = [sys.executable, "-m", "harness.cli", "run", "--emulator-config", str(cfg)]
    args += ["--report-dir", str(tmp / name)]
    for c in clauses:
        args += ["--clause", c]
    if strict:
        args.append("--strict")
    r = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=300, env=dict(os.environ)
    )
    report = tmp / name / "latest" / "conformance.json"
    assert report.exists(), f"{name}: no report\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r.returncode, json.loads(report.read_text())


def outcomes(report: dict, clause: str) -> list[str]:
    return [c["outcome"] for c in report["cases"] if c["clause"] == clause]
