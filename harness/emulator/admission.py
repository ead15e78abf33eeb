"""Who may call what, how many at once, and how much audio per month.

Every surface (REST or WebSocket) asks the same questions in the same order:

1. key -> organisation             (reject: ``bad-key``)
2. is the model enabled for it?    (reject: ``no-model-access``)
3. is the monthly quota used up?   (reject: ``quota``)
4. is a concurrency slot free?     (reject at once: ``concurrency``; or wait, when queueing)

Decisions are values; each surface maps a :class:`Reason` to its own documented
status or close code. A slot is held with ``async with admission.hold(...)`` (or
``with admission.hold_sync(...)`` from a thread) for the whole request or
connection; audio is charged with :meth:`Admission.charge` using true durations.
All state is behind one lock, so any thread or event loop may use it.
"""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from .config import EmulatorConfig, KeyConfig, OrgConfig

_QUEUE_POLL_S = 0.005


class Reason(StrEnum):
    BAD_KEY = "bad-key"
    NO_MODEL_ACCESS = "no-model-access"
    QUOTA = "quota"
    CONCURRENCY = "concurrency"


@dataclass(frozen=True)
class Decision:
    """The answer for one request: admitted, or rejected with a reason."""

    admitted: bool
    reason: Reason | None = None
    key: KeyConfig | None = None
    org: OrgConfig | None = None
    surface: str = ""

    @classmethod
    def reject(
        cls,
        reason: Reason,
        surface: str,
        key: KeyConfig | None = None,
        org: OrgConfig | None = None,
    ) -> Decision:
        return cls(False, reason, key, org, surface)


class Admission:
    """Keys, model access, per-organisation per-model concurrency, monthly quota."""

    def __init__(self, config: EmulatorConfig) -> None:
        self._config = config
        self._lock = threading.Lock()
        self._in_flight: dict[tuple[str, str], int] = {}
        self._used_s: dict[str, float] = {}
        self._used_by_model_s: dict[tuple[str, str], float] = {}
        self.reset()

    # ------------------------------------------------------------------ questions 1-3

    def check(self, api_key: str | None, surface: str) -> Decision:
        """Key, model and quota (no slot is taken)."""
        key = self._config.keys.get(api_key or "")
        if key is None:
            return Decision.reject(Reason.BAD_KEY, surface)
        org = self._config.orgs[key.org]
        if surface not in org.models:
            return Decision.reject(Reason.NO_MODEL_ACCESS, surface, key, org)
        with self._lock:
            used = self._model_used(org, surface)
        if used >= org.quota_audio_hours * 3600.0:
            return Decision.reject(Reason.QUOTA, surface, key, org)
        return Decision(True, None, key, org, surface)

    # ------------------------------------------------------------------ question 4

    def try_acquire(self, org: OrgConfig, surface: str) -> bool:
        """Take a slot if one is free; never waits."""
        slot = (org.name, surface)
        with self._lock:
            n = self._in_flight.get(slot, 0)
            if n >= org.limit_for(surface):
                return False
            self._in_flight[slot] = n + 1
            return True

    def release(self, org: OrgConfig, surface: str) -> None:
        slot = (org.name, surface)
        with self._lock:
            self._in_flight[slot] = max(0, self._in_flight.get(slot, 0) - 1)

    def _admit(self, api_key: str | None, surface: str, queue: bool) -> Iterator[Decision | None]:
        """The steps :meth:`hold` and :meth:`hold_sync` share: yields ``None`` while it
        should wait ``_QUEUE_POLL_S`` for a slot, then the decision (admitted: a slot is
        held, to be released by the caller)."""
        decision = self.check(api_key, surface)
        if not decision.admitted:
            yield decision
            return
        assert decision.org is not None
        while not self.try_acquire(decision.org, surface):
            if not queue or decision.org.limit_for(surface) == 0:
                yield Decision.reject(Reason.CONCURRENCY, surface, decision.key, decision.org)
                return
            yield None
        yield decision

    @contextmanager
    def _releasing(self, decision: Decision, surface: str) -> Iterator[Decision]:
        try:
            yield decision
        finally:
            if decision.admitted and decision.org is not None:
                self.release(decision.org, surface)

    @asynccontextmanager
    async def hold(
        self, api_key: str | None, surface: str, *, queue: bool = False
    ) -> AsyncIterator[Decision]:
        """Admit and hold a slot for the block; yields the decision (check ``admitted``).

        With ``queue=True`` (the ``queue-instead-of-reject`` deviation) it waits
        for a slot instead of rejecting.
        """
        steps = self._admit(api_key, surface, queue)
        while (decision := next(steps)) is None:
            await asyncio.sleep(_QUEUE_POLL_S)
        with self._releasing(decision, surface):
            yield decision

    @contextmanager
    def hold_sync(
        self, api_key: str | None, surface: str, *, queue: bool = False
    ) -> Iterator[Decision]:
        """:meth:`hold` for threads."""
        steps = self._admit(api_key, surface, queue)
        while (decision := next(steps)) is None:
            time.sleep(_QUEUE_POLL_S)
        with self._releasing(decision, surface):
            yield decision

    # ------------------------------------------------------------------ quota

    def charge(self, decision: Decision, audio_seconds: float) -> None:
        """Count ``audio_seconds`` of processed audio against the organisation's quota."""
        if decision.org is None or audio_seconds <= 0:
            return
        org = decision.org.name
        with self._lock:
            self._used_s[org] = self._used_s.get(org, 0.0) + audio_seconds
            slot = (org, decision.surface)
            self._used_by_model_s[slot] = self._used_by_model_s.get(slot, 0.0) + audio_seconds

    def _model_used(self, org: OrgConfig, surface: str) -> float:
        """The monthly limit is per organisation *and per model* (caller holds the lock)."""
        start = org.used_audio_hours * 3600.0
        return start + self._used_by_model_s.get((org.name, surface), 0.0)

    def used_seconds(self, org: str) -> float:
        with self._lock:
            return self._used_s.get(org, 0.0)

    # ------------------------------------------------------------------ control

    def reset(self) -> None:
        """Usage back to the configured starting point (in-flight requests are untouched)."""
        with self._lock:
            self._used_s = {o.name: o.used_audio_hours * 3600.0 for o in self._config.orgs.values()}
            self._used_by_model_s = {}

    def in_flight(self, org: str, surface: str) -> int:
        with self._lock:
            return self._in_flight.get((org, surface), 0)

    def snapshot(self) -> dict[str, Any]:
        """In-flight counts and usage, as plain data (for the control endpoint)."""
        with self._lock:
            orgs: dict[str, Any] = {}
            for o in self._config.orgs.values():
                orgs[o.name] = {
                    "in_flight": {
                        s: n for (on, s), n in sorted(self._in_flight.items()) if on == o.name and n
                    },
                    "used_audio_seconds": round(self._used_s.get(o.name, 0.0), 3),
                    "quota_audio_seconds": o.quota_audio_hours * 3600.0,
                    "used_by_model_seconds": {
                        s: round(v, 3)
                        for (on, s), v in sorted(self._used_by_model_s.items())
                        if on == o.name
                    },
                }
            total = sum(self._in_flight.values())
        return {"in_flight_total": total, "orgs": orgs}
