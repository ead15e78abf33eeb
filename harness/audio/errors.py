"""The one exception the fixture factory raises for bad audio parameters."""

from __future__ import annotations

from collections.abc import Iterable


class AudioSpecError(ValueError):
    """A field of an audio request or fixture spec has a value that is not allowed.

    The message always names the field, the bad value and what is allowed.
    """

    def __init__(self, field: str, value: object, allowed: str | Iterable[object], why: str = ""):
        self.field = field
        self.value = value
        if isinstance(allowed, str):
            self.allowed = allowed
        else:
            self.allowed = ", ".join(str(a) for a in allowed)
        reason = why or "is not allowed"
        super().__init__(f"{field} {value!r} {reason}; allowed: {self.allowed}")
