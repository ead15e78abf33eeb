"""Each load scenario, headless with tiny bounds, against an emulator child on 127.0.0.1.

Timing claims (backoff deviation, streams per generator, HTTP rate) are benchmarks
(``benchmarks/bench_load.py``); here only non-timing facts are asserted.
"""

from __future__ import annotations

import json
import os
import shlex
import socket
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
KEY = "load-valid-key"


def locust(
    scenario: str, out: Path, *args: str, users: int = 1, run_time: str = "30s", timeout: float = 60
) -> tuple[int, dict]:
    results = out / "results.json"
    cmd = [sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / f"{scenario}.py")]
    cmd += ["--headless", "-u", str(users), "-r", str(users), "--run-time", run_time]
    cmd += ["--only-summary", "--results-file", str(results), "--json-file", str(out / "locust")]
    cmd += args
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.run(cmd, cwd=out, env=env, capture_output=True, text=True, timeout=timeout)
    assert results.exists(), p.stderr[-3000:]
    return p.returncode, json.loads(results.read_text())


def test_probe_reports_exactly_3_and_immediate(tmp_path: Path) -> None:
    rc, r = locust("concurrency_probe", tmp_path, "--probe-limit", "3", "--hold-s", "0.25")
    assert rc == 0
    http, ws = r["http"], r["ws"]
    assert (http["observed_limit"], http["mode"], http["signal"]) == (3, "immediate", ["429"])
    assert http["slots_released"] is True
    assert (ws["observed_limit"], ws["mode"], ws["signal"]) == (3, "immediate", ["4029"])
    assert ws["slots_released"] is True
    totals = {
        e["name"]: e["num_requests"] for e in json.loads((tmp_path / "locust.json").read_text())
    }
    assert totals["POST vfast-batch n=04"] >= 4


def test_probe_reports_queued_with_the_deviation(tmp_path: Path) -> None:
    args = shlex.split("--probe-limit 3 --hold-s 0.25 --deviation queue-instead-of-reject")
    rc, r = locust("concurrency_probe", tmp_path, *args)
    assert rc == 0
    assert (r["http"]["observed_limit"], r["http"]["mode"]) == (3, "queued")
    assert (r["ws"]["observed_limit"], r["ws"]["mode"]) == (3, "queued")


def test_backoff_attempts_follow_the_documented_bounds(tmp_path: Path) -> None:
    args = shlex.split("--wait-scale 0.1 --block-s 0.6 --clients 3 --max-deviation-ms 1000")
    rc, r = locust("backoff", tmp_path, *args)
    doc, imm = r["documented"], r["immediate"]
    assert doc["successes"] == 3 and imm["successes"] == 3
    assert doc["low_violations"] == 0
    for w in doc["waits"]:
        assert w["actual_s"] >= w["low_bound_s"]
    # attempts: 0.6 s of limit with waits 0.1 + 0.2 + 0.4 + 0.8 (x~1..1.5): 3..5 per client;
    # the last two retries come 1.5 s and more after the start, well after the limit clears
    for n in doc["attempts_per_client"].values():
        assert 2 <= n <= 6
    assert imm["storm"] > doc["attempts"]  # the retry storm
    assert imm["goodput"] < doc["goodput"]


def test_quota_rejects_everything_after_exhaustion(tmp_path: Path) -> None:
    rc, r = locust("quota", tmp_path, "--quota-seconds", "3", "--after", "3")
    assert rc == 0
    assert r["accepted_before_exhaustion"] == 3
    assert r["accepted_after_exhaustion"] == 0
    assert r["undocumented_after_exhaustion"] == 0
    assert set(r["after"]) <= set(r["documented_statuses"])


def test_streaming_fixed_and_open_model(tmp_path: Path) -> None:
    rc, r = locust("streaming", tmp_path, "--stream-seconds", "1", users=5, run_time="3s")
    assert r["sessions"] >= 5
    assert r["close_codes"].get("1000", 0) >= 5
    assert r["ttfr_ms"]["n"] >= 5 and r["result_lag_ms"]["n"] >= 5
    names = {e["name"] for e in json.loads((tmp_path / "locust.json").read_text())}
    events = ("connect", "first-result", "result", "done", "close 1000")
    assert {f"ws svd-stream {e}" for e in events} <= names
    open_dir = tmp_path / "open"
    open_dir.mkdir()
    args = shlex.split("--stream-seconds 1 --arrival-rate 10")
    rc, r = locust("streaming", open_dir, *args, users=2, run_time="3s")
    assert r["started"] >= 5
    assert "late_sessions" in r


def test_tts_runs_or_skips_cleanly(tmp_path: Path) -> None:
    rc, r = locust("tts", tmp_path, users=3, run_time="3s")
    assert rc == 0
    assert r.get("skipped") or r["status"].get("200", 0) > 0


def test_harness_load_writes_reports_without_the_key(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "harness.cli", "load", "backoff", "--report-dir", str(out)]
    cmd += ["--duration", "20", "--locust-args"]
    cmd += ["--wait-scale 0.05 --block-s 0.3 --clients 2 --max-deviation-ms 1000"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert p.returncode == 0, p.stdout + p.stderr
    files = {f.name for f in out.iterdir()}
    wanted = shlex.split("locust.json locust_stats.csv locust.html results.json capacity.html")
    assert set(wanted) <= files
    for f in out.iterdir():
        assert KEY not in f.read_text(errors="replace"), f.name
    assert "data:image/png;base64" in (out / "capacity.html").read_text()
    assert KEY not in p.stdout + p.stderr


@pytest.fixture
def emulator_profile(tmp_path: Path):
    from harness.emulator.child import start_child
    from harness.load.emu import scenario_emulator_data

    child = start_child(scenario_emulator_data(concurrency=1000))
    path = tmp_path / "target.toml"
    path.write_text(
        f'name = "emu"\nkind = "emulator"\n[velma]\nbase_url = "{child.base_url}"\n'
        f'[velma.keys]\nvalid = "{child.key}"\n[emulator]\n'
        f'control_url = "{child.base_url}/_emulator"\ncontrol_token = "{child.token}"\n'
    )
    yield path, child
    child.stop()


def test_master_and_two_workers_on_loopback(tmp_path: Path, emulator_profile) -> None:
    profile, child = emulator_profile
    env = dict(os.environ, PYTHONPATH=str(REPO))
    f = str(REPO / "loadtests" / "streaming.py")
    common = ["--target-profile", str(profile), "--stream-seconds", "1"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = str(s.getsockname()[1])
    locust_f = [sys.executable, "-m", "locust", "-f", f]
    master_args = shlex.split(
        f"--master --headless --expect-workers 2 --master-bind-host 127.0.0.1 "
        f"--master-bind-port {port} -u 4 -r 4 --run-time 4s --only-summary"
    )
    master_args += ["--json-file", str(tmp_path / "locust"), "--csv", str(tmp_path / "locust")]
    master = subprocess.Popen(
        [*locust_f, *master_args, *common],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
    )
    worker_args = shlex.split(f"--worker --master-host 127.0.0.1 --master-port {port}")
    workers = [
        subprocess.Popen(
            [*locust_f, *worker_args, *common],
            cwd=tmp_path,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for _ in range(2)
    ]
    try:
        _, err = master.communicate(timeout=45)
    finally:
        for w in workers:
            try:
                w.wait(timeout=15)
            except subprocess.TimeoutExpired:
                w.kill()
        if master.poll() is None:
            master.kill()
    stats = json.loads((tmp_path / "locust.json").read_text())
    by_name = {e["name"]: e["num_requests"] for e in stats}
    assert by_name.get("ws svd-stream connect", 0) >= 4, err[-2000:]
    assert "2 workers connected" in err
    assert by_name.get("ws svd-stream close 1000", 0) >= 1
    for p in tmp_path.iterdir():
        if p.is_file() and p.suffix in (".json", ".csv", ".html"):
            assert child.key not in p.read_text(errors="replace")
