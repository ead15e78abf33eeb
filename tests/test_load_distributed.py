"""Distributed load runs: mergeable figures, a Locust master with workers, the examples.

Short and bounded: every Locust run here is a few seconds of a few streams on 127.0.0.1.
"""

from __future__ import annotations

import json
import os
import random
import re
import socket
import subprocess
import sys
from collections import Counter
from pathlib import Path

import pytest
from harness_cli import run_harness

from harness.cli import build_parser, main
from harness.load.common import pct
from harness.load.metrics import Histogram, Tally, merged

REPO = Path(__file__).resolve().parents[1]
EXAMPLES = REPO / "examples" / "load"


# --------------------------------------------------------------------------- histograms


def test_histogram_percentiles_are_within_about_one_percent() -> None:
    rng = random.Random(7)
    values = [rng.lognormvariate(-3, 1.2) for _ in range(20_000)]
    h = Histogram().extend(values)
    assert h.count == len(values)
    for p in (0.5, 0.95, 0.99):
        exact = pct(values, p)
        assert exact is not None
        assert abs(h.percentile(p) - exact) / exact < 0.011, p
    assert h.percentile(1.0) == max(values)  # the top rank is the exact max
    assert h.summary_ms()["max"] == round(max(values) * 1000, 3)
    assert Histogram().summary_ms() == {"n": 0, "p50": None, "p95": None, "p99": None, "max": None}


def test_histograms_merge_to_the_histogram_of_all_values() -> None:
    rng = random.Random(3)
    a = [rng.uniform(0.001, 0.5) for _ in range(3000)]
    b = [rng.uniform(0.2, 2.0) for _ in range(1000)]
    both = Histogram().extend(a + b)
    m = merged([Histogram().extend(a), Histogram().extend(b)])
    assert m == both  # counts, sum, min, max and every bucket
    # not an average of percentiles: the merged p50 is the p50 of all values
    avg_p50 = (Histogram().extend(a).percentile(0.5) + Histogram().extend(b).percentile(0.5)) / 2
    assert abs(m.percentile(0.5) - pct(a + b, 0.5)) < abs(avg_p50 - pct(a + b, 0.5))


def test_histogram_window_and_json_round_trip() -> None:
    h = Histogram().extend([0.01] * 10)
    start = h.copy()
    h.extend([0.2] * 5 + [0.0])
    window = h.minus(start)
    assert window.count == 6 and window.percentile(0.99) == pytest.approx(0.2, rel=0.011)
    assert window.percentile(0.1) == 0.0  # the zero bucket
    with pytest.raises(ValueError):
        start.minus(h)
    back = Histogram.from_dict(json.loads(json.dumps(h.to_dict())))
    assert back == h
    bad = h.to_dict() | {"n": h.count + 1}
    with pytest.raises(ValueError):
        Histogram.from_dict(bad)


def test_tally_merges_by_field_type() -> None:
    from dataclasses import dataclass, field

    @dataclass
    class T(Tally):
        n: int = 0
        codes: Counter[str] = field(default_factory=Counter)
        lag: Histogram = field(default_factory=Histogram)
        why: str | None = None
        worst: list[list[float]] = field(default_factory=list, metadata={"top": 2})

    a = T(2, Counter({"1000": 2}), Histogram().extend([0.1]), None, [[5.0, 1.0], [1.0, 2.0]])
    b = T(3, Counter({"1000": 1, "4029": 4}), Histogram().extend([0.3]), "skip", [[9.0, 0.5]])
    a.merge(T.from_dict(json.loads(json.dumps(b.to_dict()))))
    assert (a.n, dict(a.codes), a.lag.count, a.why) == (5, {"1000": 3, "4029": 4}, 2, "skip")
    assert a.worst == [[9.0, 0.5], [5.0, 1.0]]


# --------------------------------------------------------------------------- CLI checks


def test_distributed_options_are_checked(capsys) -> None:
    assert main(["load", "streaming", "--workers", "0"]) == 2
    assert main(["load", "streaming", "--workers", "99"]) == 2
    assert main(["load", "backoff", "--workers", "2"]) == 2  # one user: not distributable
    assert main(["load", "streaming", "--worker"]) == 2  # no --master-host
    assert main(["load", "streaming", "--workers", "2", "--master"]) == 2
    assert main(["load", "streaming", "--workers", "3", "--users", "2"]) == 2
    err = capsys.readouterr().err
    assert "--workers must be 1..16" in err and "cannot run distributed" in err


# --------------------------------------------------------------------------- master + workers


def test_streaming_with_two_workers_merges_into_one_result(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    p = run_harness(
        "load",
        "streaming",
        "--workers",
        "2",
        "--users",
        "4",
        "--duration",
        "4",
        "--report-dir",
        str(out),
        "--",
        "--stream-seconds",
        "1",
    )
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    r = json.loads((out / "results.json").read_text())
    workers = r["workers"]
    assert sorted(workers) == ["worker-0", "worker-1"]
    assert r["distributed"] == {"role": "master", "workers": 2}
    assert all(w["final_report"] for w in workers.values())
    assert all(w["sessions"] > 0 for w in workers.values())  # both workers ran streams
    for key in ("sessions", "started", "chunks_sent"):
        assert r[key] == sum(w[key] for w in workers.values()), key
    for key in ("ttfr_ms", "result_lag_ms", "connect_ms", "pacing_lag_ms"):
        assert r[key]["n"] == sum(w[key]["n"] for w in workers.values()), key
        assert r[key]["max"] == max(w[key]["max"] for w in workers.values()), key
    codes = sum((Counter(w["close_codes"]) for w in workers.values()), Counter())
    assert r["close_codes"] == dict(codes)
    assert [t["metric"] for t in r["thresholds"]] == [
        "ttfr_ms.p95",
        "error_ratio",
        "pacing_lag_ms.p99",
    ]
    assert (out / "capacity.html").exists() and (out / "locust.json").exists()
    assert len(list(out.rglob("results.json"))) == 1  # only the master wrote results
    assert {f.name for f in out.glob("worker-*.log")} == {"worker-0.log", "worker-1.log"}
    for f in out.rglob("*"):
        if f.is_file():
            assert "load-valid-key" not in f.read_text(errors="replace"), f.name


@pytest.fixture
def two_emulators(tmp_path: Path):
    """A healthy emulator and one whose streams all fail (overload: error + 1011)."""
    from harness.emulator.child import start_child
    from harness.load.emu import scenario_emulator_data

    bad_config = scenario_emulator_data(concurrency=100) | {"faults": {"enabled": ["overload"]}}
    children = [start_child(scenario_emulator_data(concurrency=100)), start_child(bad_config)]
    profiles = []
    for i, child in enumerate(children):
        path = tmp_path / f"target-{i}.toml"
        path.write_text(
            f'name = "emu{i}"\nkind = "emulator"\n[velma]\nbase_url = "{child.base_url}"\n'
            f'[velma.keys]\nvalid = "{child.key}"\n'
        )
        profiles.append(path)
    yield profiles, children
    for child in children:
        child.stop()


def test_a_breach_on_one_worker_fails_and_stops_the_run(tmp_path: Path, two_emulators) -> None:
    profiles, children = two_emulators
    env = dict(os.environ, PYTHONPATH=str(REPO))
    locust = [sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "streaming.py")]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    results = tmp_path / "results.json"
    master = subprocess.Popen(
        [
            *locust,
            "--master",
            "--headless",
            "--expect-workers",
            "2",
            "--master-bind-host",
            "127.0.0.1",
            "--master-bind-port",
            port,
            "-u",
            "4",
            "-r",
            "4",
            "--run-time",
            "40s",
            "--only-summary",
            "--results-file",
            str(results),
            "--target-profile",
            str(profiles[0]),
            "--stream-seconds",
            "1",
            "--stop-on-breach",
        ],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    workers = [
        subprocess.Popen(
            [
                *locust,
                "--worker",
                "--master-host",
                "127.0.0.1",
                "--master-port",
                port,
                "--target-profile",
                str(profile),
            ],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for profile in profiles
    ]
    try:
        _, err = master.communicate(timeout=60)
        # coordinated stop: the master's time limit ends every worker, none is killed here
        codes = [w.wait(timeout=20) for w in workers]
    finally:
        for proc in [master, *workers]:
            if proc.poll() is None:
                proc.kill()
                proc.wait()
    assert all(c is not None for c in codes)
    assert master.returncode == 1, err[-3000:]
    r = json.loads(results.read_text())
    by_worker = r["workers"]
    assert len(by_worker) == 2
    ratios = sorted(w["error_ratio"] for w in by_worker.values())
    assert ratios[0] == 0.0 and ratios[1] > 0.5  # one healthy worker, one failing
    verdict = {t["metric"]: t for t in r["thresholds"]}
    assert verdict["error_ratio"]["ok"] is False  # judged once, on the merged figures
    # --stop-on-breach: the master saw the merged breach and stopped every worker early
    assert r["stopped_on_breach"] == ["error_ratio"]
    assert r["sessions"] == sum(w["sessions"] for w in by_worker.values())
    assert len(list(tmp_path.rglob("results.json"))) == 1


# --------------------------------------------------------------------------- the examples


def _commands(path: Path) -> list[list[str]]:
    """Every ``command: [...]`` / ``args: [...]`` of a YAML file (flow lists of strings)."""
    out = []
    for line in path.read_text().splitlines():
        m = re.match(r"\s*(command|args):\s*(\[.*\])\s*$", line)
        if m:
            out.append(json.loads(m.group(2)))
    return out


@pytest.mark.parametrize("name", ["docker-compose.yml", "kubernetes.yml"])
def test_example_commands_parse_with_the_cli(name: str) -> None:
    from harness.cli import _load_distributed

    commands = _commands(EXAMPLES / name)
    loads = []
    for cmd in commands:
        argv = cmd[1:] if cmd[0] == "harness" else cmd
        if argv == []:
            continue
        args = build_parser().parse_args(argv)  # SystemExit (a failure) on a bad option
        if argv[0] == "load":
            loads.append((args, _load_distributed(args)))
    roles = {d["role"]: (a, d) for a, d in loads}
    assert set(roles) == {"master", "worker"}
    (ma, md), (wa, wd) = roles["master"], roles["worker"]
    assert ma.scenario == wa.scenario  # the same scenario on both sides
    assert md["master_port"] == wd["master_port"]
    assert ma.target == wa.target
    assert ma.allow_live and ma.max_cost == 0 and wa.allow_live and wa.max_cost == 0
    text = (EXAMPLES / name).read_text()  # the workers' --master-host is the master's service
    assert re.search(rf"^\s*(name: )?{re.escape(wd['master_host'])}:?\s*$", text, re.M)


def test_example_target_and_emulator_config_load() -> None:
    from harness.emulator import load_emulator_config
    from harness.target import load_profile

    cfg = load_emulator_config(str(EXAMPLES / "emulator.toml"))
    profile = load_profile(str(EXAMPLES / "target.toml"))
    key = profile.velma.key("valid")
    assert key is not None and key.value in cfg.keys
    assert "emulator:8080" in (profile.velma.base_url or "")
