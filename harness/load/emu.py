"""The emulator as a child process, for load scenarios that run without a target profile.

Locust monkey-patches the process with gevent, so the emulator (uvicorn on uvloop, in a
real thread) cannot run inside a Locust process: it runs as ``python -m harness.load.emu``
on a free loopback port instead. The child reads its config (emulator TOML data as JSON)
from a file, prints one JSON line ``{"base_url", "token"}`` when it serves, and exits when
its stdin closes, so it never outlives the process that started it.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

LOAD_KEY = "load-valid-key"
LOAD_ORG = "load"


def load_config(
    *,
    concurrency: int = 1000,
    per_model: Mapping[str, int] | None = None,
    quota_audio_hours: float = 10_000.0,
    used_audio_hours: float = 0.0,
    deviations: tuple[str, ...] = (),
    time_scale: float = 0.0,
    key: str = LOAD_KEY,
) -> dict[str, Any]:
    """Emulator TOML data (as a dict) with one organisation and one valid key."""
    org: dict[str, Any] = {
        "concurrency": concurrency,
        "quota_audio_hours": quota_audio_hours,
        "used_audio_hours": used_audio_hours,
        "keys": [{"key": key, "role": "valid"}],
    }
    if per_model:
        org["concurrency_per_model"] = dict(per_model)
    return {
        "allow_request_overrides": True,
        "processing": {"time_scale": time_scale},
        "server": {"ws_idle_timeout_s": 0.0},
        "deviations": {"enabled": list(deviations)},
        "orgs": {LOAD_ORG: org},
    }


@dataclass
class ChildEmulator:
    base_url: str
    token: str
    key: str
    proc: subprocess.Popen[bytes] = field(repr=False)

    @property
    def ws_base_url(self) -> str:
        return "ws" + self.base_url[len("http") :]

    def stop(self) -> None:
        if self.proc.poll() is None:
            if self.proc.stdin is not None:
                self.proc.stdin.close()
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(timeout=5)


def spawn(config: Mapping[str, Any], *, cpu: int | None = None) -> ChildEmulator:
    """Start the emulator in a child process; returns once it serves."""
    fd, path = tempfile.mkstemp(prefix="harness-load-emu-", suffix=".json")
    with os.fdopen(fd, "w") as f:
        json.dump(config, f)
    cmd = [sys.executable, "-m", "harness.load.emu", path]
    if cpu is not None:
        cmd.append(str(cpu))
    proc = subprocess.Popen(cmd, stdin=subprocess.PIPE, stdout=subprocess.PIPE)
    assert proc.stdout is not None
    line = proc.stdout.readline()
    os.unlink(path)
    if not line:
        proc.wait(timeout=5)
        raise RuntimeError(f"the emulator child exited with {proc.returncode} before serving")
    info = json.loads(line)
    keys = [k["key"] for o in config.get("orgs", {}).values() for k in o.get("keys", [])]
    return ChildEmulator(info["base_url"], info["token"], keys[0] if keys else "", proc)


def main(argv: list[str]) -> None:
    from harness.emulator.config import load_config_dict
    from harness.emulator.server import start

    with open(argv[0]) as f:
        data = json.load(f)
    if len(argv) > 1 and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {int(argv[1])})
    running = start(load_config_dict(data))
    sys.stdout.write(json.dumps({"base_url": running.base_url, "token": running.token}) + "\n")
    sys.stdout.flush()
    sys.stdin.read()  # until the parent closes our stdin (or dies)
    running.stop()


if __name__ == "__main__":
    main(sys.argv[1:])
