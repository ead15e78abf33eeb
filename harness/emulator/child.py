"""The emulator in a child process: the one launcher of the embedded target and of load runs.

A conformance run's client and target then use two cores, and a Locust process (monkey-
patched by gevent) never hosts uvicorn. :func:`start_child` takes the config as a TOML
path, as TOML data (a mapping, e.g. :func:`harness.load.emu.scenario_emulator_data`) or
``None`` (the defaults), checks it in the parent, and starts ``python -m
harness.emulator.child``. The protocol is one JSON line each way: the parent writes
``{"path" | "data", "token", "time_scale", "cpu"}`` to the child's stdin; the child
serves on a free loopback port and answers ``{"base_url"}`` on stdout. The child exits
when its stdin closes (:meth:`ChildEmulator.stop`, or the parent dying) and, on Linux,
with its parent (``PR_SET_PDEATHSIG``).
"""

from __future__ import annotations

import json
import os
import secrets
import select
import signal
import subprocess
import sys
import threading
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from .config import EmulatorConfig, load_config_dict, load_emulator_config

ConfigSource = str | Path | Mapping[str, Any] | None  # TOML path, TOML data, or the defaults


def build_config(
    source: ConfigSource, token: str, time_scale: float | None = None
) -> EmulatorConfig:
    """The same configuration in parent and child (keys, limits, token, time scale)."""
    if isinstance(source, Mapping):
        config = load_config_dict(source)
    else:
        config = load_emulator_config(source)
    if time_scale is not None:
        config = config.with_changes(processing=replace(config.processing, time_scale=time_scale))
    return config.with_changes(control_token=token)


@dataclass
class ChildEmulator:
    base_url: str
    token: str
    config: EmulatorConfig
    proc: subprocess.Popen[bytes] = field(repr=False)

    @property
    def ws_base_url(self) -> str:
        return "ws" + self.base_url[len("http") :]

    @property
    def key(self) -> str:
        """The config's valid Velma-2 key ("" when there is none)."""
        return self.config.key_for_role("valid") or ""

    def stop(self) -> None:
        if self.proc.poll() is not None:
            return
        if self.proc.stdin is not None:
            self.proc.stdin.close()
        try:
            self.proc.wait(timeout=5)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait(timeout=5)


def _die_with_parent() -> None:  # runs in the child before exec
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_child(
    source: ConfigSource = None,
    *,
    time_scale: float | None = None,
    cpu: int | None = None,
    timeout_s: float = 20.0,
) -> ChildEmulator:
    """Start the emulator in a child process; returns once it serves."""
    token = secrets.token_urlsafe(18)
    config = build_config(source, token, time_scale)  # a bad config fails here, not in the child
    launch: dict[str, Any] = {"token": token, "time_scale": time_scale, "cpu": cpu}
    if isinstance(source, Mapping):
        launch["data"] = dict(source)
    else:
        launch["path"] = str(source) if source is not None else None
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.emulator.child"],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    assert proc.stdin is not None and proc.stdout is not None
    proc.stdin.write(json.dumps(launch).encode() + b"\n")
    proc.stdin.flush()
    ready, _, _ = select.select([proc.stdout], [], [], timeout_s)
    line = proc.stdout.readline() if ready else b""
    if not line:
        child = ChildEmulator("", token, config, proc)
        child.stop()
        raise RuntimeError(
            f"the emulator process exited with {proc.returncode} at start-up"
            if ready
            else f"the emulator did not serve within {timeout_s} s"
        )
    return ChildEmulator(json.loads(line)["base_url"], token, config, proc)


def _exit_when_stdin_closes() -> None:
    sys.stdin.buffer.read()
    os._exit(0)


def main() -> None:
    from .server import free_port, serve

    launch = json.loads(sys.stdin.buffer.readline())
    if launch.get("cpu") is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(launch["cpu"])})
    source = launch["data"] if "data" in launch else launch.get("path")
    config = build_config(source, launch["token"], launch.get("time_scale"))
    threading.Thread(target=_exit_when_stdin_closes, daemon=True).start()
    host = "127.0.0.1"
    port = free_port(host)

    def ready(_state: object) -> None:
        sys.stdout.write(json.dumps({"base_url": f"http://{host}:{port}"}) + "\n")
        sys.stdout.flush()
        os.dup2(os.open(os.devnull, os.O_WRONLY), 1)  # nobody reads the pipe any more

    serve(host, port, config, on_ready=ready)


if __name__ == "__main__":
    main()
