"""The run's vocabulary: what a case ends as (:class:`Outcome`) and what a run exits with
(:class:`ExitCode`), each decided here and nowhere else.

Outcome, worst first (when a case or clause has several, the worst one is its colour):

=================== ======== ======================================================
outcome             severity meaning
=================== ======== ======================================================
``failed``          5        a MUST clause broken (or a disputed side under strict)
``error``           4        could not test: set-up failed, harness error, no verdict
``non-strict``      3        a SHOULD clause missed, or another documented side
``informational``   2        an INFO clause: recorded, never a violation
``passed``          1        kept
``skipped``         0        not tested (not served, no role, cost cap...)
=================== ======== ======================================================

Exit code of a run (:func:`exit_code`): 0 no ``failed``; 1 at least one ``failed``; 2 usage
or profile error, or nothing selected; 3 could not test (aborted, every case skipped or
errored, or with ``require_complete`` any case not tested).
"""

from __future__ import annotations

from collections.abc import Iterable
from enum import IntEnum, StrEnum


class Outcome(StrEnum):
    """A case's (or a verdict's) outcome; the value is what ``conformance.json`` holds."""

    PASSED = "passed"
    FAILED = "failed"
    NON_STRICT = "non-strict"
    INFORMATIONAL = "informational"
    SKIPPED = "skipped"
    ERROR = "error"

    @property
    def severity(self) -> int:
        """Higher is worse (see the module table)."""
        return _SEVERITY[self]

    @property
    def tested(self) -> bool:
        """The case reached a verdict (``skipped`` and ``error`` did not)."""
        return self not in (Outcome.SKIPPED, Outcome.ERROR)


_SEVERITY = {
    Outcome.SKIPPED: 0,
    Outcome.PASSED: 1,
    Outcome.INFORMATIONAL: 2,
    Outcome.NON_STRICT: 3,
    Outcome.ERROR: 4,
    Outcome.FAILED: 5,
}

#: Every outcome, in the order reports list them (after Autobahn|Testsuite).
OUTCOMES: tuple[Outcome, ...] = tuple(Outcome)

#: Worst first.
BY_SEVERITY: tuple[Outcome, ...] = tuple(sorted(Outcome, key=_SEVERITY.__getitem__, reverse=True))

#: The outcomes of a case that was not tested (never a violation).
NOT_TESTED: tuple[Outcome, ...] = tuple(o for o in Outcome if not o.tested)


def worst(outcomes: Iterable[str]) -> Outcome | None:
    """The most severe of ``outcomes``, or ``None`` for none."""
    found = [Outcome(o) for o in outcomes]
    return max(found, key=_SEVERITY.__getitem__) if found else None


class ExitCode(IntEnum):
    """What ``harness run`` (and every subcommand) exits with."""

    CONFORMS = 0  # success / no violation
    VIOLATIONS = 1  # at least one case failed
    USAGE = 2  # usage, profile or input error; or the selection matched no case
    COULD_NOT_TEST = 3  # target unreachable, harness error, nothing (or, asked, not all) tested


def exit_code(outcomes: Iterable[str], *, require_complete: bool = False) -> ExitCode:
    """The exit code of a run that ended with these case outcomes (not aborted)."""
    found = [Outcome(o) for o in outcomes]
    if Outcome.FAILED in found:
        return ExitCode.VIOLATIONS
    if not found:
        return ExitCode.USAGE
    untested = [o for o in found if not o.tested]
    if len(untested) == len(found):  # nothing of the selection was tested
        return ExitCode.COULD_NOT_TEST
    if require_complete and untested:
        return ExitCode.COULD_NOT_TEST
    return ExitCode.CONFORMS
