"""Load-generator figures (prints them; never fails on timing).

    python benchmarks/bench_load.py [--streams 250,500,1000] [--distributed-streams 1000]
        [--skip-streams] [--skip-http] [--skip-probe] [--skip-backoff] [--skip-distributed]
        [--skip-capacity]

1. Concurrency probe against the emulator with a limit of 3 (and with the
   ``queue-instead-of-reject`` deviation): observed limit and mode.
2. Backoff at the documented scale (waits 1 s, 2 s, ...): judged deviation of every wait
   from its scheduled value, p50 / p99 / max.
3. Streaming: N concurrent real-time streams (svd-stream, 100 ms chunks, 10 s of audio each)
   from ONE Locust process; the generator's own pacing lag p99, and the largest N with
   p99 <= 20 ms.
4. HTTP generator: requests/s of the harness's FastHttpUser against ``wrk`` on the same
   emulator route (POST vfast-batch, answered 401 at admission), same run.
5. Distributed: ``harness load streaming --workers 2`` with N streams in total against one
   emulator; the merged figures (sessions started, pacing lag p99 over both workers) and
   each worker's share (not pinned: the two workers and the emulator share the machine).
6. Capacity search: wall time of ``harness load capacity --surface svd-stream`` with its
   default levels against the emulator child (organisation limit 5), and what it found.

The emulator runs in its own process pinned to CPU 0, generators on CPU 1 (2+ cores).
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from harness.emulator.child import start_child  # noqa: E402
from harness.load.common import multipart  # noqa: E402
from harness.load.emu import scenario_emulator_data  # noqa: E402

GEN_CPU, EMU_CPU = 1, 0


def _pin() -> None:
    if hasattr(os, "sched_setaffinity") and (os.cpu_count() or 1) > 1:
        os.sched_setaffinity(0, {GEN_CPU})


def profile_for(child, tmp: Path) -> Path:
    path = tmp / "target.toml"
    path.write_text(
        f'name = "emu"\nkind = "emulator"\n[velma]\nbase_url = "{child.base_url}"\n'
        f'[velma.keys]\nvalid = "{child.key}"\n[emulator]\n'
        f'control_url = "{child.base_url}/_emulator"\ncontrol_token = "{child.token}"\n'
    )
    return path


def locust(
    scenario: str, tmp: Path, users: int, run_time: str, *args: str, rate: int | None = None
) -> dict:
    res = tmp / f"{scenario}-{users}.json"
    cmd = [
        sys.executable,
        "-m",
        "locust",
        "-f",
        str(REPO / "loadtests" / f"{scenario}.py"),
        "--headless",
        "-u",
        str(users),
        "-r",
        str(rate or users),
        "--run-time",
        run_time,
        "--only-summary",
        "--results-file",
        str(res),
        *args,
    ]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    subprocess.run(cmd, cwd=tmp, env=env, preexec_fn=_pin, capture_output=True, timeout=900)
    return json.loads(res.read_text())


def bench_probe(tmp: Path) -> None:
    for dev in ([], ["--deviation", "queue-instead-of-reject"]):
        r = locust("concurrency_probe", tmp, 1, "60s", "--probe-limit", "3", *dev)
        for what in ("http", "ws"):
            v = r[what]
            print(
                f"  probe {what:<4} {'queue dev.' if dev else 'default   '}: limit="
                f"{v['observed_limit']} mode={v['mode']} signal={v['signal']} "
                f"rejection p50={v['rejection_p50_ms']} ms service={v['service_ms']} ms "
                f"slots released after unclean close: {v.get('released_after_s')} s"
            )


def bench_backoff(tmp: Path) -> None:
    r = locust("backoff", tmp, 1, "120s", "--clients", "8", "--block-s", "3")
    d, i = r["documented"], r["immediate"]
    j = d["judged"]
    print(
        f"  backoff documented: {d['attempts']} attempts, judged |deviation| p50={j['p50']} ms "
        f"p99={j['p99']} ms max={j['max']} ms (n={j['n']}), below lower bound: "
        f"{d['low_violations']}, recovery p50={d['recovery']['p50']} ms, goodput={d['goodput']:.3f}"
    )
    print(
        f"  backoff immediate : {i['attempts']} attempts (storm while limited: {i['storm']}), "
        f"recovery p50={i['recovery']['p50']} ms, goodput={i['goodput']:.4f}"
    )


def bench_streams(tmp: Path, counts: list[int]) -> None:
    child = start_child(scenario_emulator_data(concurrency=100_000), cpu=EMU_CPU)
    try:
        prof = profile_for(child, tmp)
        best = 0
        for n in counts:
            ramp = max(1, n // 4)
            run = f"{int(n / ramp + 13)}s"
            r = locust(
                "streaming",
                tmp,
                n,
                run,
                "--target-profile",
                str(prof),
                "--stream-seconds",
                "10",
                rate=ramp,
            )
            p = r["pacing_lag_ms"]
            ok = p["p99"] is not None and p["p99"] <= 20.0
            best = n if ok and r["started"] >= n else best
            print(
                f"  streams={n:5d}: started={r['started']} sessions done={r['sessions']} "
                f"pacing lag p50={p['p50']} p99={p['p99']} max={p['max']} ms; "
                f"result lag p99={r['result_lag_ms']['p99']} ms; ttfr p95={r['ttfr_ms']['p95']} ms; "
                f"closes={r['close_codes']}"
            )
        print(
            f"  => one generator process sustains {best} real-time streams with p99 pacing lag "
            f"<= 20 ms (largest tried that held; goal >= 1000)"
        )
    finally:
        child.stop()


def bench_http(tmp: Path, seconds: int = 8) -> None:
    child = start_child(scenario_emulator_data(), cpu=EMU_CPU)
    try:
        prof = profile_for(child, tmp)
        r = locust("http_rps", tmp, 64, f"{seconds}s", "--target-profile", str(prof))
        ours = r["requests"] / seconds
        wrk = shutil.which("wrk")
        if wrk is None:
            print(f"  http: harness FastHttpUser {ours:.0f} req/s; wrk not installed, no ratio")
            return
        body, ctype = multipart("rps.wav", b"RIFF0000WAVE")
        lua = tmp / "post.lua"
        lua.write_text(
            'wrk.method = "POST"\n'
            f"wrk.body = {json.dumps(body.decode('latin-1'))}\n"
            f'wrk.headers["Content-Type"] = "{ctype}"\n'
            'wrk.headers["X-API-Key"] = "rps-not-a-key"\n'
        )
        url = child.base_url + "/api/velma-2-stt-batch-english-vfast"
        out = subprocess.run(
            [wrk, "-t1", "-c64", f"-d{seconds}s", "-s", str(lua), url],
            capture_output=True,
            text=True,
            preexec_fn=_pin,
        ).stdout
        m = re.search(r"Requests/sec:\s+([\d.]+)", out)
        theirs = float(m.group(1)) if m else float("nan")
        non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
        print(
            f"  http: harness FastHttpUser {ours:.0f} req/s (64 users, {r['failures']} failures);"
            f" wrk {theirs:.0f} req/s (64 conns, {non2xx.group(1) if non2xx else 0} non-2xx);"
            f" ratio {ours / theirs:.2f} (goal >= 0.3)"
        )
    finally:
        child.stop()


def _harness(*args: str, timeout: float = 900) -> tuple[float, subprocess.CompletedProcess]:
    import time

    env = dict(os.environ, PYTHONPATH=str(REPO))
    t = time.perf_counter()
    p = subprocess.run(
        [sys.executable, "-m", "harness.cli", *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    return time.perf_counter() - t, p


def bench_distributed(tmp: Path, total: int) -> None:
    child = start_child(scenario_emulator_data(concurrency=100_000), cpu=EMU_CPU)
    try:
        prof = profile_for(child, tmp)
        out = tmp / "distributed"
        ramp = max(1, total // 4)
        wall, p = _harness(
            "load",
            "streaming",
            "--workers",
            "2",
            "--users",
            str(total),
            "--duration",
            str(int(total / ramp + 13)),
            "--target",
            str(prof),
            "--report-dir",
            str(out),
            "--",
            "-r",
            str(ramp),
            "--stream-seconds",
            "10",
        )
        r = json.loads((out / "results.json").read_text())
        pl = r["pacing_lag_ms"]
        print(
            f"  distributed: {total} streams on 2 workers: started={r['started']} "
            f"sessions done={r['sessions']} merged pacing lag p50={pl['p50']} p99={pl['p99']} "
            f"max={pl['max']} ms (n={pl['n']}); ttfr p95={r['ttfr_ms']['p95']} ms; "
            f"exit {p.returncode}; wall {wall:.1f} s"
        )
        for wid, w in sorted(r["workers"].items()):
            print(
                f"    {wid}: started={w['started']} pacing lag p99={w['pacing_lag_ms']['p99']} ms "
                f"(n={w['pacing_lag_ms']['n']}) final report={w['final_report']}"
            )
        sums = r["started"] == sum(w["started"] for w in r["workers"].values())
        print(
            f"  => merged streams with 2 workers: {r['started']} started "
            f"(merged counts equal the sum of the workers': {sums})"
        )
    finally:
        child.stop()


def bench_capacity(tmp: Path) -> None:
    out = tmp / "capacity"
    wall, p = _harness("load", "capacity", "--surface", "svd-stream", "--report-dir", str(out))
    c = json.loads((out / "results.json").read_text())["capacity"]
    print(
        f"  capacity search (svd-stream, default levels, emulator limit 5): wall {wall:.1f} s, "
        f"{len(c['steps'])} steps {[s['level'] for s in c['steps']]}; max_within_slo="
        f"{c['max_within_slo']} first_breach={c['first_breach']} "
        f"limiting_signal={c['limiting_signal']} (exit {p.returncode})"
    )


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--streams", default="250,500,1000")
    ap.add_argument("--distributed-streams", type=int, default=1000)
    ap.add_argument("--skip-distributed", action="store_true")
    ap.add_argument("--skip-capacity", action="store_true")
    ap.add_argument("--skip-streams", action="store_true")
    ap.add_argument("--skip-http", action="store_true")
    ap.add_argument("--skip-probe", action="store_true")
    ap.add_argument("--skip-backoff", action="store_true")
    args = ap.parse_args()
    with tempfile.TemporaryDirectory(prefix="bench-load-") as d:
        tmp = Path(d)
        print(
            f"bench_load ({os.cpu_count()} CPUs; emulator on CPU {EMU_CPU}, generator on CPU {GEN_CPU})"
        )
        if not args.skip_probe:
            bench_probe(tmp)
        if not args.skip_backoff:
            bench_backoff(tmp)
        if not args.skip_http:
            bench_http(tmp)
        if not args.skip_streams:
            bench_streams(tmp, [int(x) for x in args.streams.split(",")])
        if not args.skip_distributed:
            bench_distributed(tmp, args.distributed_streams)
        if not args.skip_capacity:
            bench_capacity(tmp)


if __name__ == "__main__":
    main()
