"""Could-not-test is never a violation: skips and errors that say why.

A case that cannot be tested (the surface is not served, the profile lacks a role or a
limit, the cost cap is reached, a set-up step failed) ends ``skipped`` or ``error`` with
two labels the report groups by: a ``reason`` (a key of
:data:`harness.report.model.REASONS`) and a one-line ``cause``
("stt-stream: not served (HTTP 404 on upgrade)"). Cases raise these through
:func:`not_tested` and :func:`setup_failed`, or the ``case`` fixture does it for them.
"""

from __future__ import annotations

import re
from typing import NoReturn

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
    "CouldNotTest",
    "NotTested",
    "classify_skip",
    "error_cause",
    "not_tested",
    "setup_failed",
]
