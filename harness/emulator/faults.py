"""Injected faults: one mechanism for every family of surfaces (:class:`~.wire.Family`).

A fault is written by name, with a value for two of them (``latency=SECONDS``,
``internal-midstream[=AFTER]``). Faults come from the config (``[faults] enabled`` for
every request, ``faults`` on one key, ``[kugel] faults`` for the KugelAudio surfaces),
from ``POST /_emulator/switches`` (until reset), or from one request's
``X-Emulator-Fault`` header (comma-separated; the WebSocket surfaces read it from the
upgrade request). Names and header builders: :mod:`.wire`. A surface acts on the faults
of its family and ignores the others; the Platform API takes none.

Velma-2:

=======================  ==============================  ===================================
fault                    REST (Velma-2 batch)            WebSocket (Velma-2 streaming)
=======================  ==============================  ===================================
overload                 503                             ``error`` + 1011 on the 1st frame
timeout                  504                             ``error`` + 1011 on the 1st frame
internal-error           500 ``Internal server error``   ``error`` + 1011 on the 1st frame
upstream-failure         502, the surface's documented   ``error`` + 1011 on the 1st frame
                         "could not complete" detail
validation-unavailable   502 "Unable to validate ..."    ``error`` + 4003 at once
=======================  ==============================  ===================================

On the REST surfaces ``validation-unavailable`` answers where the key would be checked
(before admission and the body); the others answer at the processing step, in the order
overload, internal-error, upstream-failure, timeout (:mod:`.processing`). Only STT Batch
documents the "Unable to complete ..." detail for 502; the other batch surfaces document
one 502 detail, which ``upstream-failure`` uses there. On the WebSocket surfaces there is
no status to send once the connection is open, so the processing faults mean the
documented internal error: ``error`` then close 1011 when the first audio frame arrives;
``validation-unavailable`` refuses the connection right after the upgrade, like a key
that cannot be checked.

``internal-midstream`` is for the WebSocket surfaces only (REST ignores it): the session
delivers results as usual, then sends ``error`` and closes 1011 once ``AFTER`` is reached.
``AFTER`` is ``Ns`` (or a bare number): N seconds of streamed audio, counted on the
decoded audio after the frame that reaches it (a container decoded only at end of stream
reaches it at end of stream, before ``done``); or ``Mf``: on receipt of the M-th non-empty
binary frame, before it is processed. Without ``=AFTER`` it is ``1f``. Several
mid-stream faults: whichever comes first.

KugelAudio (``overload`` and ``latency`` as above, and four of its own):

=====================  ==========================================  ===========
fault                  REST                                        WebSocket
=====================  ==========================================  ===========
overload               503 "Model overloaded, ..." + Retry-After   frame, 4500
model-unavailable      503 "The requested model is ..." + R-A      frame, 4500
generation-failed      500 "Audio generation failed" (synthesis)   frame, 4000
sample-failed          500 "Sample generation failed" (generate-sample)
fetch-voice-failed     500 "Failed to fetch voice" (voice get, synthesis with voice_id)
=====================  ==========================================  ===========
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from .wire import (
    FAULT_FAMILIES,
    INTERNAL_ERROR,
    KUGEL_FAULTS,
    LATENCY,
    MIDSTREAM,
    OVERLOAD,
    TIMEOUT,
    UPSTREAM_FAILURE,
    VALIDATION_UNAVAILABLE,
)

KINDS: tuple[str, ...] = tuple(FAULT_FAMILIES)
_VALUED = {LATENCY: "latency=SECONDS", MIDSTREAM: "internal-midstream[=Ns|=Mf]"}
_EXPECTED = ", ".join(_VALUED.get(k, k) for k in KINDS)


@dataclass(frozen=True)
class FaultSpec:
    kind: str  # one of KINDS
    seconds: float = 0.0  # latency; for internal-midstream: seconds of audio (0: use frames)
    frames: int = 0  # for internal-midstream: the frame that fails

    def __str__(self) -> str:
        if self.kind == LATENCY:
            return f"latency={self.seconds:g}"
        if self.kind == MIDSTREAM:
            return (
                f"{MIDSTREAM}={self.frames}f" if self.frames else f"{MIDSTREAM}={self.seconds:g}s"
            )
        return self.kind


def _parse_midstream(text: str, value: str) -> FaultSpec:
    v = value.strip().lower()
    if not v:
        return FaultSpec(MIDSTREAM, frames=1)
    try:
        if v.endswith("f"):
            frames = int(v[:-1])
            if frames < 1:
                raise ValueError
            return FaultSpec(MIDSTREAM, frames=frames)
        seconds = float(v.removesuffix("s"))
    except ValueError:
        raise ValueError(
            f"fault {text!r}: expected internal-midstream=SECONDSs (audio) or =FRAMESf"
            " (FRAMES >= 1)"
        ) from None
    if not 0 < seconds <= 86400:
        raise ValueError(f"fault {text!r}: seconds of audio must be > 0 and <= 86400")
    return FaultSpec(MIDSTREAM, seconds=seconds)


def parse_fault(text: str) -> FaultSpec:
    name, _, value = text.strip().partition("=")
    name = name.strip()
    if name not in KINDS:
        raise ValueError(f"unknown fault {text.strip()!r}; expected one of {_EXPECTED}")
    if name == MIDSTREAM:
        return _parse_midstream(text.strip(), value)
    if name == LATENCY:
        try:
            seconds = float(value)
        except ValueError:
            raise ValueError(
                f"fault {text.strip()!r}: expected latency=SECONDS (a number)"
            ) from None
        if not seconds >= 0 or seconds > 3600:
            raise ValueError(f"fault {text.strip()!r}: latency must be between 0 and 3600 s")
        return FaultSpec(LATENCY, seconds)
    if value:
        raise ValueError(f"fault {text.strip()!r}: {name} takes no value")
    return FaultSpec(name)


def parse_fault_list(items: Iterable[str]) -> tuple[FaultSpec, ...]:
    return tuple(parse_fault(i) for i in items)


def parse_fault_header(value: str | None) -> tuple[FaultSpec, ...]:
    if not value:
        return ()
    return parse_fault_list(p for p in value.split(",") if p.strip())


def parse_kugel_faults(items: Iterable[str]) -> frozenset[str]:
    """The ``[kugel] faults`` list (names alone) -> set; ``ValueError`` names the known ones."""
    out = set()
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        if name not in KUGEL_FAULTS:
            raise ValueError(f"unknown kugel fault {name!r}; known: {', '.join(KUGEL_FAULTS)}")
        out.add(name)
    return frozenset(out)


@dataclass(frozen=True)
class FaultPlan:
    """Every fault that applies to one request, combined."""

    overload: bool = False
    timeout: bool = False
    internal_error: bool = False
    upstream_failure: bool = False
    validation_unavailable: bool = False
    latency_s: float = 0.0
    midstream_frames: int | None = None  # internal-midstream=Mf (the earliest)
    midstream_audio_s: float | None = None  # internal-midstream=Ns (the earliest)
    kugel: frozenset[str] = frozenset()  # the KugelAudio faults by name (overload included)

    @classmethod
    def of(cls, faults: Iterable[FaultSpec]) -> FaultPlan:
        fs = list(faults)
        mid = [f for f in fs if f.kind == MIDSTREAM]
        frames = [f.frames for f in mid if f.frames]
        seconds = [f.seconds for f in mid if not f.frames]
        return cls(
            overload=any(f.kind == OVERLOAD for f in fs),
            timeout=any(f.kind == TIMEOUT for f in fs),
            internal_error=any(f.kind == INTERNAL_ERROR for f in fs),
            upstream_failure=any(f.kind == UPSTREAM_FAILURE for f in fs),
            validation_unavailable=any(f.kind == VALIDATION_UNAVAILABLE for f in fs),
            latency_s=sum(f.seconds for f in fs if f.kind == LATENCY),
            midstream_frames=min(frames) if frames else None,
            midstream_audio_s=min(seconds) if seconds else None,
            kugel=frozenset(f.kind for f in fs if f.kind in KUGEL_FAULTS),
        )

    @property
    def stream_fail_frame(self) -> int | None:
        """The binary frame on whose receipt a WebSocket session fails with 1011 (if any):
        ``internal-midstream=Mf``, or the first one under ``overload``, ``timeout``,
        ``internal-error`` or ``upstream-failure``."""
        frames = [n for n in (self.midstream_frames,) if n is not None]
        if self.overload or self.timeout or self.internal_error or self.upstream_failure:
            frames.append(1)
        return min(frames) if frames else None
