"""Injected faults (503 overload, 504 timeout, added latency) and the processing-time model.

A fault is written ``overload``, ``timeout`` or ``latency=SECONDS``. Faults come
from the config (every request, or one key), from the control endpoint, or from
one request's ``X-Emulator-Fault`` header (comma-separated).

Processing time is modelled, not measured: ``audio_s / speed + base_s``. When
that exceeds the documented 60 s limit the request ends in 504. The emulator
sleeps ``modelled * time_scale`` seconds, so with ``time_scale = 0.01`` the
limit is reached after 0.6 s of wall time.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from .config import ProcessingConfig

FAULT_HEADER = "X-Emulator-Fault"
KINDS = ("overload", "timeout", "latency")


@dataclass(frozen=True)
class FaultSpec:
    kind: str  # one of KINDS
    seconds: float = 0.0  # for latency

    def __str__(self) -> str:
        return f"latency={self.seconds:g}" if self.kind == "latency" else self.kind


def parse_fault(text: str) -> FaultSpec:
    name, _, value = text.strip().partition("=")
    name = name.strip()
    if name not in KINDS:
        raise ValueError(
            f"unknown fault {text.strip()!r}; expected one of overload, timeout, latency=SECONDS"
        )
    if name == "latency":
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError(
                f"fault {text.strip()!r}: expected latency=SECONDS (a number)"
            ) from None
        if not seconds >= 0 or seconds > 3600:
            raise ValueError(f"fault {text.strip()!r}: latency must be between 0 and 3600 s")
        return FaultSpec("latency", seconds)
    if value:
        raise ValueError(f"fault {text.strip()!r}: {name} takes no value")
    return FaultSpec(name)


def parse_fault_list(items: Iterable[str]) -> tuple[FaultSpec, ...]:
    return tuple(parse_fault(i) for i in items)


def parse_fault_header(value: str | None) -> tuple[FaultSpec, ...]:
    if not value:
        return ()
    return parse_fault_list(p for p in value.split(",") if p.strip())


@dataclass(frozen=True)
class FaultPlan:
    """Every fault that applies to one request, combined."""

    overload: bool = False
    timeout: bool = False
    latency_s: float = 0.0

    @classmethod
    def of(cls, faults: Iterable[FaultSpec]) -> FaultPlan:
        fs = list(faults)
        return cls(
            overload=any(f.kind == "overload" for f in fs),
            timeout=any(f.kind == "timeout" for f in fs),
            latency_s=sum(f.seconds for f in fs if f.kind == "latency"),
        )


class Verdict(StrEnum):
    OK = "ok"
    OVERLOAD = "overload"  # -> 503
    TIMEOUT = "timeout"  # -> 504


class ProcessingModel:
    """How long a batch request "takes", and whether it times out."""

    def __init__(self, cfg: ProcessingConfig) -> None:
        self.cfg = cfg

    def modelled_seconds(self, audio_s: float) -> float:
        return audio_s / self.cfg.speed + self.cfg.base_s

    async def run(self, audio_s: float, plan: FaultPlan) -> Verdict:
        """Sleep as long as the request takes and say how it ends."""
        cfg = self.cfg
        if plan.overload:
            await _sleep(cfg.overload_latency_s * cfg.time_scale + plan.latency_s)
            return Verdict.OVERLOAD
        modelled = self.modelled_seconds(audio_s)
        if plan.timeout or modelled > cfg.timeout_s:
            await _sleep(cfg.timeout_s * cfg.time_scale + plan.latency_s)
            return Verdict.TIMEOUT
        await _sleep(modelled * cfg.time_scale + plan.latency_s)
        return Verdict.OK


async def _sleep(seconds: float) -> None:
    if seconds > 0:
        await asyncio.sleep(seconds)
