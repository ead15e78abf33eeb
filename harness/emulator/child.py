"""The emulator in a child process: a conformance run's client and target on two cores.

``start_process`` picks a free loopback port, starts ``python -m harness.emulator.child``
and waits until it accepts connections. The child dies with its parent (Linux
``PR_SET_PDEATHSIG``) and on ``stop()``.
"""

from __future__ import annotations

import os
import secrets
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from pathlib import Path

from .config import EmulatorConfig, load_config

ENV_CONFIG = "HARNESS_EMULATOR_CONFIG"
ENV_PORT = "HARNESS_EMULATOR_PORT"
ENV_TOKEN = "HARNESS_EMULATOR_TOKEN"
ENV_TIME_SCALE = "HARNESS_EMULATOR_TIME_SCALE"


def build_config(path: str | None, token: str, time_scale: float | None) -> EmulatorConfig:
    """The same configuration in parent and child (keys, limits, token, time scale)."""
    config = load_config(path)
    if time_scale is not None:
        config = config.with_changes(processing=replace(config.processing, time_scale=time_scale))
    return config.with_changes(control_token=token)


@dataclass
class ChildEmulator:
    base_url: str
    token: str
    config: EmulatorConfig
    stop: Callable[[], None]


def _free_port(host: str) -> int:
    with socket.socket() as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def _die_with_parent() -> None:  # runs in the child before exec
    try:
        import ctypes

        libc = ctypes.CDLL("libc.so.6", use_errno=True)
        libc.prctl(1, signal.SIGTERM)  # PR_SET_PDEATHSIG
    except OSError:
        pass


def start_process(
    config_path: str | Path | None,
    *,
    time_scale: float | None = None,
    host: str = "127.0.0.1",
    timeout_s: float = 20.0,
) -> ChildEmulator:
    token = secrets.token_urlsafe(18)
    path = str(config_path) if config_path is not None else None
    config = build_config(path, token, time_scale)  # checks the file before the child starts
    port = _free_port(host)
    env = {**os.environ, ENV_PORT: str(port), ENV_TOKEN: token}
    if path is not None:
        env[ENV_CONFIG] = path
    if time_scale is not None:
        env[ENV_TIME_SCALE] = repr(time_scale)
    proc = subprocess.Popen(
        [sys.executable, "-m", "harness.emulator.child"],
        env=env,
        stdin=subprocess.DEVNULL,
        preexec_fn=_die_with_parent if sys.platform.startswith("linux") else None,  # noqa: PLW1509
    )
    deadline = time.monotonic() + timeout_s
    while True:
        if proc.poll() is not None:
            raise RuntimeError(f"the emulator process exited with {proc.returncode} at start-up")
        try:
            with socket.create_connection((host, port), timeout=0.2):
                break
        except OSError:
            if time.monotonic() > deadline:
                proc.kill()
                raise RuntimeError(
                    f"the emulator did not listen on {host}:{port} in {timeout_s} s"
                ) from None
            time.sleep(0.05)

    def stop() -> None:
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()

    return ChildEmulator(f"http://{host}:{port}", token, config, stop)


def main() -> None:
    from .server import serve

    scale = os.environ.get(ENV_TIME_SCALE)
    config = build_config(
        os.environ.get(ENV_CONFIG), os.environ[ENV_TOKEN], float(scale) if scale else None
    )
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
    serve("127.0.0.1", int(os.environ[ENV_PORT]), config)


if __name__ == "__main__":
    main()
