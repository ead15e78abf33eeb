"""The ``harness`` command in a child process, as the tests run it."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[1]


def run_harness(
    *args: str,
    env: Mapping[str, str] | None = None,
    cwd: Path = ROOT,
    timeout: float = 120,
) -> subprocess.CompletedProcess[str]:
    """``python -m harness.cli ARGS``, output captured as text. ``env`` is added to this
    process's environment; the project is put first on ``PYTHONPATH``, so ``cwd`` may be
    anywhere."""
    path = os.pathsep.join(p for p in (str(ROOT), os.environ.get("PYTHONPATH", "")) if p)
    full_env = {**os.environ, "PYTHONPATH": path, **(env or {})}
    return subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        cwd=cwd,
        env=full_env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )


def harness_run(
    report_dir: Path,
    *args: str,
    target: Path | None = None,
    config: Path | None = None,
    clauses: Iterable[str] = (),
    **kwargs: Any,
) -> subprocess.CompletedProcess[str]:
    """``harness run --report-dir DIR [--target T] [--emulator-config C] [--clause X]... ARGS``
    (``kwargs``: those of :func:`run_harness`)."""
    head = ["run", "--report-dir", str(report_dir)]
    if target is not None:
        head += ["--target", str(target)]
    if config is not None:
        head += ["--emulator-config", str(config)]
    for clause in clauses:
        head += ["--clause", clause]
    return run_harness(*head, *args, **kwargs)
