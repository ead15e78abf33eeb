"""Run the user's command against an emulator prepared for one scenario.

One emulator child per scenario (:func:`harness.emulator.child.start_child`), its record
emptied and its refusal script set through the control endpoint; the command runs in its
own process group with the target in its environment, bounded by ``timeout_s`` and killed
(group SIGTERM, then SIGKILL) at the end. What it did is read back from the emulator's own
record (``GET /_emulator/record``), never from the client's say-so.
"""

from __future__ import annotations

import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.audio import write_to
from harness.emulator.child import ChildEmulator, start_child
from harness.emulator.wire import CONTROL_PREFIX, TOKEN_HEADER

from .scenarios import Scenario

OUTPUT_LIMIT = 64 * 1024  # bytes of stdout/stderr kept per stream


class CouldNotAudit(Exception):
    """The audit has no verdict: the message says why (exit 3)."""


@dataclass
class ClientRun:
    scenario: str
    command: list[str]
    exit_code: int | None
    timed_out: bool
    duration_s: float
    stdout: str
    stderr: str
    t0: float  # wall clock when the command started
    entries: list[dict[str, Any]] = field(default_factory=list)  # the emulator's record
    files: list[str] = field(default_factory=list)  # what HARNESS_AUDIO_DIR held
    secrets: dict[str, str] = field(default_factory=dict, repr=False)  # env name -> key given

    def redacted(self, text: str) -> str:
        """``text`` with every key the client was given replaced by its variable's name."""
        for name, value in self.secrets.items():
            if value:
                text = text.replace(value, "${" + name + "}")
        return text


def _control(child: ChildEmulator, method: str, name: str, body: Any = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    req = urllib.request.Request(
        f"{child.base_url}{CONTROL_PREFIX}/{name}",
        data=data,
        method=method,
        headers={TOKEN_HEADER: child.token, "Content-Type": "application/json"},
    )
    with urllib.request.urlopen(req, timeout=10) as resp:  # noqa: S310 (loopback only)
        return json.loads(resp.read())


FIXTURES = ("clip-wav-16000-1ch-0.1s", "clip-wav-16000-1ch-0.3s", "clip-wav-16000-1ch-0.49s")


def write_fixtures(folder: Path, n: int) -> list[str]:
    """``n`` small WAV clips from the fixture catalog (:mod:`harness.audio`), numbered."""
    names = []
    for i in range(n):
        fixture = FIXTURES[i % len(FIXTURES)]
        name = f"{i + 1:02d}-{fixture}.wav"
        write_to(fixture, folder / name)
        names.append(name)
    return names


def _kill_group(proc: subprocess.Popen[bytes]) -> None:
    for sig, wait in ((signal.SIGTERM, 2.0), (signal.SIGKILL, 5.0)):
        try:
            os.killpg(proc.pid, sig)
        except ProcessLookupError:
            return
        try:
            proc.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


def run_client(scenario: Scenario, command: list[str], timeout_s: float) -> ClientRun:
    """Run ``command`` against a fresh emulator for ``scenario``; raises :class:`CouldNotAudit`."""
    if not command:
        raise CouldNotAudit("no command given: write it after `--`")
    exe = shutil.which(command[0])
    if exe is None:
        raise CouldNotAudit(f"command not found: {command[0]!r}")
    child = start_child(dict(scenario.emulator))
    audio = Path(tempfile.mkdtemp(prefix="harness-audit-"))
    try:
        _control(child, "POST", "reset", {})
        # a script, even an empty one, switches the emulator's record on
        _control(child, "POST", "script", dict(scenario.script or {}))
        files = write_fixtures(audio, scenario.files)
        key = child.config.key_for_role(scenario.key_role) or ""
        kugel_key = child.config.kugel.keys.get(scenario.kugel_role, "")
        env = {
            **os.environ,
            "MODULATE_API_BASE": child.base_url,
            "MODULATE_WS_BASE": child.ws_base_url,
            "MODULATE_API_KEY": key,
            "KUGEL_API_BASE": child.base_url,
            "KUGEL_API_KEY": kugel_key,
            "HARNESS_AUDIO_DIR": str(audio),
        }
        t0 = time.time()
        start = time.monotonic()
        try:
            proc = subprocess.Popen(
                [exe, *command[1:]],
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=subprocess.PIPE,
                stderr=subprocess.PIPE,
                start_new_session=True,  # its own process group: killed as one
            )
        except OSError as exc:
            raise CouldNotAudit(f"cannot start {command[0]!r}: {exc.strerror}") from None
        timed_out = False
        try:
            out, err = proc.communicate(timeout=timeout_s)
        except subprocess.TimeoutExpired:
            timed_out = True
            _kill_group(proc)
            out, err = proc.communicate()
        finally:
            _kill_group(proc)  # whatever it left behind in its group
        duration = time.monotonic() - start
        entries = _control(child, "GET", "record")["entries"]
        return ClientRun(
            scenario=scenario.name,
            command=list(command),
            exit_code=None if timed_out else proc.returncode,
            timed_out=timed_out,
            duration_s=round(duration, 3),
            stdout=out[-OUTPUT_LIMIT:].decode("utf-8", "replace"),
            stderr=err[-OUTPUT_LIMIT:].decode("utf-8", "replace"),
            t0=t0,
            entries=entries,
            files=files,
            secrets={"MODULATE_API_KEY": key, "KUGEL_API_KEY": kugel_key},
        )
    finally:
        child.stop()
        shutil.rmtree(audio, ignore_errors=True)


def usable(run: ClientRun, timeout_s: float) -> None:
    """Raise :class:`CouldNotAudit` when the run gives nothing to judge."""
    tail = run.redacted((run.stderr.strip().splitlines() or [""])[-1][:300])
    if run.timed_out:
        raise CouldNotAudit(
            f"{run.scenario}: the command did not finish within {timeout_s:g} s"
            " (killed; raise --timeout if it needs longer)"
        )
    if not run.entries:
        how = f"exited with {run.exit_code}" + (f" ({tail})" if tail else "")
        raise CouldNotAudit(
            f"{run.scenario}: the command never contacted the target ({how}); it must read "
            "MODULATE_API_BASE / KUGEL_API_BASE and HARNESS_AUDIO_DIR"
        )
