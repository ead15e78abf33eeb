"""The processing-time model of the batch surfaces, and how a request ends.

Processing time is modelled, not measured: ``audio_s / speed + base_s``. When
that exceeds the documented 60 s limit the request ends in 504. The emulator
sleeps ``modelled * time_scale`` seconds, so with ``time_scale = 0.01`` the
limit is reached after 0.6 s of wall time. Injected faults (:mod:`.faults`)
end a request early: overload, internal error, upstream failure or timeout.
"""

from __future__ import annotations

import asyncio
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import ProcessingConfig
    from .faults import FaultPlan


class Ending(StrEnum):
    """How one batch request's processing ends (the emulator's, not a conformance verdict)."""

    OK = "ok"
    OVERLOAD = "overload"  # -> 503
    INTERNAL = "internal-error"  # -> 500
    UPSTREAM = "upstream-failure"  # -> 502
    TIMEOUT = "timeout"  # -> 504


class ProcessingModel:
    """How long a batch request "takes", and whether it times out."""

    def __init__(self, cfg: ProcessingConfig) -> None:
        self.cfg = cfg

    def load_delay(self, in_flight: int) -> float:
        """The ``knee_*`` latency for ``in_flight`` requests of one organisation and model."""
        cfg = self.cfg
        if not cfg.knee_in_flight or in_flight <= cfg.knee_in_flight:
            return 0.0
        return (in_flight - cfg.knee_in_flight) * cfg.knee_latency_s

    def modelled_seconds(self, audio_s: float) -> float:
        return audio_s / self.cfg.speed + self.cfg.base_s

    async def run(self, audio_s: float, plan: FaultPlan) -> Ending:
        """Sleep as long as the request takes and say how it ends."""
        cfg = self.cfg
        if plan.overload:
            await _sleep(cfg.overload_latency_s * cfg.time_scale + plan.latency_s)
            return Ending.OVERLOAD
        if plan.internal_error:
            await _sleep(plan.latency_s)
            return Ending.INTERNAL
        if plan.upstream_failure:
            await _sleep(plan.latency_s)
            return Ending.UPSTREAM
        modelled = self.modelled_seconds(audio_s)
        if plan.timeout or modelled > cfg.timeout_s:
            await _sleep(cfg.timeout_s * cfg.time_scale + plan.latency_s)
            return Ending.TIMEOUT
        await _sleep(modelled * cfg.time_scale + plan.latency_s)
        return Ending.OK


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
