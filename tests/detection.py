"""Shared by the detection self-tests: run `harness run` against a switched emulator."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# As the embedded run: 60 s of modelled processing in 0.12 s.
FAST = "[processing]\ntime_scale = 0.002\n"


def run_switched(
    tmp: Path,
    name: str,
    config: str,
    clauses: Iterable[str],
    strict: bool = False,
    timeout_s: float = 300,
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
        args, cwd=ROOT, capture_output=True, text=True, timeout=timeout_s, env=dict(os.environ)
    )
    report = tmp / name / "latest" / "conformance.json"
    assert report.exists(), f"{name}: no report\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r.returncode, json.loads(report.read_text())


def outcomes(report: dict, clause: str) -> list[str]:
    return [c["outcome"] for c in report["cases"] if c["clause"] == clause]


def assert_all_pass(report: dict, clauses: Iterable[str]) -> None:
    """Each clause is checked by a case, and every case of it passed (the baseline run)."""
    for clause in clauses:
        got = outcomes(report, clause)
        assert got, f"no case checks {clause}"
        assert set(got) <= {"passed"}, f"{clause} does not pass on the plain emulator: {got}"


def flips(surfaces: set[str], cannot: Iterable[tuple[str, str]] = ()) -> dict[str, str]:
    """Every disputed clause on ``surfaces`` -> a documented side other than the preferred
    one (skipping the (clause, side) pairs the emulator ``cannot`` take)."""
    from harness.contract import disputed

    skip = set(cannot)
    out: dict[str, str] = {}
    for c in disputed():
        if c.surface.value not in surfaces:
            continue
        for a in c.alternatives:
            if a.key != c.preferred and (c.id, a.key) not in skip:
                out[c.id] = a.key
                break
    return out


def run_all(
    tmp: Path,
    selections: dict[str, tuple[str, ...]],
    flipped: dict[str, str],
    baseline: Iterable[str],
    workers: int = 2,
) -> dict[str, tuple[int, dict]]:
    """The standard detection runs, in parallel: a baseline over ``baseline``, one run per
    deviation (``selections``: deviation -> clause prefixes), and a strict run with every
    ``flipped`` side next to a strict baseline over the same clauses."""
    jobs: dict[str, tuple[str, tuple[str, ...], bool]] = {"baseline": ("", tuple(baseline), False)}
    for dev, selection in selections.items():
        jobs[dev] = (f'[deviations]\nenabled = ["{dev}"]\n', selection, False)
    body = "\n".join(f'"{cid}" = "{key}"' for cid, key in sorted(flipped.items()))
    jobs["alternatives"] = (f"[alternatives]\n{body}\n", tuple(sorted(flipped)), True)
    jobs["alternatives-baseline"] = ("", tuple(sorted(flipped)), True)
    with ThreadPoolExecutor(max_workers=workers) as pool:
        futures = {
            n: pool.submit(run_switched, tmp, n, cfg, sel, strict)
            for n, (cfg, sel, strict) in jobs.items()
        }
        return {n: f.result() for n, f in futures.items()}
