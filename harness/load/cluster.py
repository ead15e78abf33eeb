"""Processes of a distributed ``harness load`` run (no Locust import: plain subprocesses).

* ``--workers N``: one Locust master and N local workers, all on 127.0.0.1 (a free port),
  bounded in number and time; every process still alive at the end is killed. Without
  ``--target`` the master starts the one emulator child and hands it to the workers
  (``--share-target`` / ``--target-from-master``, see :mod:`harness.load.distributed`).
* ``--master``: only the master (workers come from other machines); it waits at most
  :data:`WAIT_FOR_WORKERS_S` for them.
* ``--worker --master-host HOST``: only a worker, in the foreground; it writes nothing.
"""

from __future__ import annotations

import socket
import subprocess
import sys
import time
from pathlib import Path

MAX_WORKERS = 16
WAIT_FOR_WORKERS_S = 120
DEFAULT_MASTER_PORT = 5557


class ClusterError(ValueError):
    """Bad distributed options (exit 2)."""


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def check_workers(n: int) -> None:
    if not 1 <= n <= MAX_WORKERS:
        raise ClusterError(f"--workers must be 1..{MAX_WORKERS}, got {n}")


def master_args(workers: int, port: int, bind: str, share_target: bool) -> list[str]:
    out = ["--master", "--expect-workers", str(workers), "--master-bind-port", str(port)]
    out += ["--expect-workers-max-wait", str(WAIT_FOR_WORKERS_S)]
    if bind:
        out += ["--master-bind-host", bind]
    return out + (["--share-target"] if share_target else [])


def worker_command(
    locustfile: Path, host: str, port: int, target: str | None, extra: list[str]
) -> list[str]:
    cmd = [sys.executable, "-m", "locust", "-f", str(locustfile), "--worker"]
    cmd += ["--master-host", host, "--master-port", str(port)]
    cmd += ["--target-profile", target] if target else ["--target-from-master"]
    return cmd + extra


def run_local(
    master_cmd: list[str],
    locustfile: Path,
    workers: int,
    port: int,
    target: str | None,
    worker_extra: list[str],
    env: dict[str, str],
    out: Path,
    timeout_s: float,
) -> int:
    """Master + ``workers`` local workers; returns the master's exit code (-9: killed)."""
    check_workers(workers)
    master = subprocess.Popen(master_cmd, env=env, cwd=str(out))
    procs: list[subprocess.Popen[bytes]] = []
    logs = []
    try:
        for i in range(workers):
            log = open(out / f"worker-{i}.log", "wb")  # noqa: SIM115 - closed below
            logs.append(log)
            cmd = worker_command(locustfile, "127.0.0.1", port, target, worker_extra)
            procs.append(
                subprocess.Popen(cmd, env=env, cwd=str(out), stdout=log, stderr=subprocess.STDOUT)
            )
        deadline = time.monotonic() + timeout_s
        while master.poll() is None and time.monotonic() < deadline:
            time.sleep(0.2)
        if master.poll() is None:
            print(f"harness: the load master ran past {timeout_s:g} s; stopped", file=sys.stderr)
            master.kill()
        code = master.wait()
        for p in procs:  # a worker quits when the master says so; give it a moment
            try:
                p.wait(timeout=15)
            except subprocess.TimeoutExpired:
                p.kill()
                p.wait()
        return code
    finally:
        for p in [master, *procs]:
            if p.poll() is None:
                p.kill()
                p.wait()
        for log in logs:
            log.close()
