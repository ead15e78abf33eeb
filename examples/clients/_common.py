"""What the example clients share (not a client itself; copy it along with the one you use).

Every client takes its target from the environment that ``harness audit-client`` sets
(:func:`environment`). The Velma-2 clients also share their bookkeeping (:class:`Tally`:
attempts and requests in flight) and the lines they print (:func:`report`), so that the
policy and the naive client can be compared line for line. Needs only the stdlib.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path


def environment(*names: str) -> dict[str, str] | None:
    """The named variables; None, after saying on stderr which one is missing."""
    try:
        return {name: os.environ[name] for name in names}
    except KeyError as exc:
        prog = Path(sys.argv[0]).name
        print(f"{prog}: missing environment variable {exc.args[0]}", file=sys.stderr)
        return None


@dataclass(frozen=True)
class VelmaTarget:
    base: str  # MODULATE_API_BASE, without a trailing slash
    ws_base: str  # MODULATE_WS_BASE (streaming only, else "")
    key: str
    files: list[Path]  # HARNESS_AUDIO_DIR's files, hidden ones left out, by name


def velma_target(streaming: bool) -> VelmaTarget | None:
    """The Velma-2 target and the files to transcribe; None when a variable is missing."""
    names = ["MODULATE_API_BASE", "MODULATE_API_KEY", "HARNESS_AUDIO_DIR"]
    env = environment(*names, *(["MODULATE_WS_BASE"] if streaming else []))
    if env is None:
        return None
    folder = Path(env["HARNESS_AUDIO_DIR"])
    files = sorted(p for p in folder.iterdir() if p.is_file() and not p.name.startswith("."))
    ws_base = env.get("MODULATE_WS_BASE", "").rstrip("/")
    return VelmaTarget(
        env["MODULATE_API_BASE"].rstrip("/"), ws_base, env["MODULATE_API_KEY"], files
    )


@dataclass
class Outcome:
    name: str
    ok: bool
    attempts: int
    detail: str


class Tally:
    """In-flight bookkeeping: the client's own account of what it did on the wire."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.attempts = 0

    @contextmanager
    def attempt(self) -> Iterator[None]:
        """One request (or connection) in flight for the duration of the block."""
        self.in_flight += 1
        self.attempts += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            yield
        finally:
            self.in_flight -= 1


def report(outcomes: list[Outcome], tally: Tally) -> int:
    """One line per file, then ``summary``; the exit code: 0 when every file got its result."""
    for o in outcomes:
        print(f"{'ok' if o.ok else 'failed'} {o.name} attempts={o.attempts} {o.detail}")
    done = sum(o.ok for o in outcomes)
    print(
        f"summary files={len(outcomes)} ok={done} attempts={tally.attempts} "
        f"max_in_flight={tally.max_in_flight}"
    )
    return 0 if done == len(outcomes) else 1
