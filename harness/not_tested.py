"""Could-not-test is never a violation: skips and errors that say why.

A case that cannot be tested (the surface is not served, the profile lacks a role or a
limit, the cost cap is reached, a set-up step failed) ends ``skipped`` or ``error`` with
two labels the report groups by: a ``reason`` (a key of
:data:`harness.report.model.REASONS`) and a one-line ``cause``
("stt-stream: not served (HTTP 404 on upgrade)"). Cases raise these through
:func:`not_tested` and :func:`setup_failed`, or the ``case`` fixture does it for them.

A target that shows the same failure on several streams in a row (no ``done``, no close)
is remembered per surface (:class:`FailurePatterns`); the surface's later cases that would
wait for a stream's end are then not tested, with that pattern as their cause.
"""

from __future__ import annotations

import re
import threading
import time
from typing import Any, NoReturn

import pytest

#: An upgrade or a valid request answered with one of these: the surface may not be served.
NOT_SERVED_STATUSES = (404, 405)


class NotTested(pytest.skip.Exception):  # type: ignore[misc,name-defined]
    """A skip with a reason category and a cause to group by."""

    def __init__(self, reason: str, cause: str, detail: str | None = None) -> None:
        super().__init__(msg=detail or cause)
        self.reason = reason
        self.cause = cause


class CouldNotTest(Exception):
    """The case could not be tested: an ``error`` with a reason and a cause, never ``failed``."""

    def __init__(self, reason: str, cause: str, detail: str | None = None) -> None:
        super().__init__(detail or cause)
        self.reason = reason
        self.cause = cause


def not_tested(reason: str, cause: str, detail: str | None = None) -> NoReturn:
    """End the case ``skipped``: ``reason`` from REASONS, ``cause`` one line to group by."""
    raise NotTested(reason, cause, detail)


def setup_failed(step: str, what: str) -> NoReturn:
    """A set-up step the case needs failed: ``error`` "set-up failed: <step>: <what>"."""
    raise CouldNotTest("set-up-failed", f"set-up failed: {step}: {what}")


# --------------------------------------------------------------------------- repeated failures

#: The same failure pattern on this many streams in a row of one surface: the surface's
#: remaining cases that wait for a stream's end are not run (each would wait out its timeout).
REPEATS_BEFORE_SHORTCUT = 3
#: A wait for a stream's end that has lasted longer than this may be a stall in progress:
#: a new wait on the same surface first waits for its outcome (targets answer in well under
#: a second; a stall lasts the whole timeout).
SUSPECT_AFTER_S = 5.0
#: A case whose wait for a stream's end has lasted longer than this, or that is held by
#: :meth:`FailurePatterns.begin`, is idle: it only waits on the network, so a run with
#: ``--jobs N`` does not count it among its N (see :meth:`FailurePatterns.idle`).
IDLE_AFTER_S = 1.0
PATTERN_REASON = "target-stalled"  # the target stopped finishing a surface's streams


class FailurePatterns:
    """Per surface, the failure pattern of the last streams and how often it came in a row.

    Thread-safe: cases may run on several threads. Once a pattern has been seen
    ``threshold`` times in a row on a surface, :meth:`cause` names it (and stays set for
    the rest of the run, so every later case of the surface carries the same cause).
    """

    def __init__(self, threshold: int = REPEATS_BEFORE_SHORTCUT) -> None:
        self.threshold = threshold
        self._lock = threading.Condition()
        self._last: dict[str, tuple[str, int]] = {}  # surface -> (pattern, times in a row)
        self._tripped: dict[str, str] = {}  # surface -> cause
        self._waits: dict[str, dict[int, float]] = {}  # surface -> wait -> since (monotonic)
        self._held = 0  # waits being held by begin() right now

    def begin(self, surface: str, wait: int, patience_s: float) -> str | None:
        """A wait for a stream's end is about to start: the surface's cause if it has
        tripped. While the waits on the surface that have lasted over :data:`SUSPECT_AFTER_S`
        (perhaps stalls in progress, when cases run at once) are enough to trip it, their
        outcome is awaited first, for at most ``patience_s``, so that a stall is not met again
        and again in parallel; when they could not trip it, waiting for them gains nothing."""
        deadline = time.monotonic() + patience_s
        with self._lock:
            while surface not in self._tripped:
                now = time.monotonic()
                since = self._waits.get(surface, {}).values()
                suspects = sum(1 for t in since if now - t > SUSPECT_AFTER_S)
                in_a_row = self._last.get(surface, ("", 0))[1]
                if now >= deadline or not suspects or in_a_row + suspects < self.threshold:
                    break
                self._held += 1
                try:
                    self._lock.wait(timeout=min(0.5, deadline - now))
                finally:
                    self._held -= 1
            cause = self._tripped.get(surface)
            if cause is None:
                self._waits.setdefault(surface, {})[wait] = time.monotonic()
            return cause

    def idle(self, after_s: float = IDLE_AFTER_S) -> int:
        """How many cases are only waiting: held by :meth:`begin`, or waiting for a stream's
        end for longer than ``after_s`` (a stalled target keeps them so for its whole
        timeout). The scheduler lets that many more cases run beside them."""
        with self._lock:
            now = time.monotonic()
            waiting = sum(
                1 for waits in self._waits.values() for t in waits.values() if now - t > after_s
            )
            return waiting + self._held

    def end(self, surface: str, wait: int) -> None:
        """The wait started by :meth:`begin` is over (however it ended)."""
        with self._lock:
            self._waits.get(surface, {}).pop(wait, None)
            self._lock.notify_all()

    def seen(self, surface: str, pattern: str | None) -> None:
        """One stream of ``surface`` ended with ``pattern`` (None: it ended as it should)."""
        with self._lock:
            self._lock.notify_all()
            if surface in self._tripped:
                return
            if pattern is None:
                self._last.pop(surface, None)
                return
            before, times = self._last.get(surface, (pattern, 0))
            times = times + 1 if before == pattern else 1
            self._last[surface] = (pattern, times)
            if times >= self.threshold:
                self._tripped[surface] = (
                    f"{surface}: {pattern} on {times} streams in a row; "
                    "the surface's later cases that wait for a stream's end were not run"
                )

    def cause(self, surface: str) -> str | None:
        with self._lock:
            return self._tripped.get(surface)


def stream_end_pattern(result: Any) -> str | None:
    """The failure pattern of a stream's end (a :class:`harness.client.ws.WsResult`), or
    None when the target finished it (a close, whatever its code)."""
    if not getattr(result, "timed_out", False) or result.close_code is not None:
        return None
    if "done" in result.types:
        return "`done` but no close after the end of the stream"
    return "no `done` and no close after the end of the stream"


class EndOfStreamWatch:
    """Tells :class:`FailurePatterns` how each stream of ``surface`` ended, and skips the
    wait (``not_tested``) once the surface has shown the same stall too often."""

    def __init__(self, patterns: FailurePatterns, surface: str, patience_s: float = 15.0) -> None:
        self.patterns = patterns
        self.surface = surface
        self.patience_s = patience_s

    def before(self) -> None:
        cause = self.patterns.begin(self.surface, id(self), self.patience_s)
        if cause:
            not_tested(PATTERN_REASON, cause)

    def after(self, result: Any) -> None:
        self.patterns.end(self.surface, id(self))
        pattern = stream_end_pattern(result)
        if pattern is None and not _finished_normally(result):
            return  # closed with an error before `done`: says nothing of how streams end
        self.patterns.seen(self.surface, pattern)


def _finished_normally(result: Any) -> bool:
    """The stream got its ``done`` or a normal close (1000)."""
    return "done" in getattr(result, "types", ()) or getattr(result, "close_code", None) == 1000


PATTERNS: pytest.StashKey[FailurePatterns] = pytest.StashKey()
_PATTERNS_LOCK = threading.Lock()


def patterns_of(config: pytest.Config) -> FailurePatterns:
    """The run's memory of failure patterns (one per pytest run, in ``config.stash``)."""
    with _PATTERNS_LOCK:
        found = config.stash.get(PATTERNS, None)
        if found is None:
            found = config.stash[PATTERNS] = FailurePatterns()
        return found


# Plain ``pytest.skip(text)`` in a case: the reason read from our own wording.
_SKIP_PATTERNS: tuple[tuple[str, str], ...] = (
    (r"^the profile has no \w+\.keys\.", "missing-role"),
    (r"^the profile has no key", "missing-role"),
    (r"^the profile has no \w+\.(ws_)?base_url", "missing-surface"),
    (r"^the profile states no ", "missing-limit"),
    (r"^needs the emulator", "needs-emulator"),
    (r"over --max-cost", "cost-cap"),
    (r"^needs a fault|^no way to make|cannot be made to", "cannot-provoke"),
    (r"not served", "not-served"),
)


def classify_skip(message: str) -> str:
    """The reason of a plain skip from its text ("other" when none fits)."""
    for pattern, reason in _SKIP_PATTERNS:
        if re.search(pattern, message):
            return reason
    return "other"


def error_cause(exc: BaseException) -> str:
    """A one-line cause for an unexpected exception, stable enough to group cases by."""
    text = " ".join(str(exc).split())
    text = re.sub(r"\b\d+(\.\d+)?\s*(s|ms|B|bytes)\b", "N \\2", text)  # sizes, durations
    return f"could not test: {type(exc).__name__}: {text[:160]}"


__all__ = [
    "NOT_SERVED_STATUSES",
    "REPEATS_BEFORE_SHORTCUT",
    "CouldNotTest",
    "EndOfStreamWatch",
    "FailurePatterns",
    "NotTested",
    "classify_skip",
    "error_cause",
    "not_tested",
    "patterns_of",
    "setup_failed",
    "stream_end_pattern",
]
