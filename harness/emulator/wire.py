"""The emulator's own wire vocabulary: control headers, the control path, fault names.

Imports nothing, so suites, load scenarios and the control client
(:mod:`harness.client.control`) use these names without loading the emulator.
A fault belongs to the families of surfaces that honour it
(:data:`FAULT_FAMILIES`); :mod:`.faults` says what each one does.
"""

from __future__ import annotations

from collections.abc import Mapping
from enum import StrEnum
from types import MappingProxyType

CONTROL_PREFIX = "/_emulator"  # GET state, POST reset, POST switches
TOKEN_HEADER = "X-Emulator-Token"  # the control token, on every control call
FAULT_HEADER = "X-Emulator-Fault"  # faults for one request (comma-separated)
DEVIATION_HEADER = "X-Emulator-Deviation"  # deviations for one request (comma-separated)


class Family(StrEnum):
    """The vendor APIs the emulator serves; each fault applies to some of them."""

    VELMA = "velma"  # Velma-2 batch and streaming
    PLATFORM = "platform"  # Modulate Platform API (takes no faults)
    KUGEL = "kugel"  # KugelAudio TTS, REST and WebSocket


# Velma-2 (and the two KugelAudio honours: overload, latency).
OVERLOAD = "overload"
TIMEOUT = "timeout"
INTERNAL_ERROR = "internal-error"
UPSTREAM_FAILURE = "upstream-failure"
VALIDATION_UNAVAILABLE = "validation-unavailable"
LATENCY = "latency"  # latency=SECONDS
MIDSTREAM = "internal-midstream"  # internal-midstream[=Ns|=Mf]
# KugelAudio only.
MODEL_UNAVAILABLE = "model-unavailable"
GENERATION_FAILED = "generation-failed"
SAMPLE_FAILED = "sample-failed"
FETCH_VOICE_FAILED = "fetch-voice-failed"

_VELMA = frozenset({Family.VELMA})
_KUGEL = frozenset({Family.KUGEL})
FAULT_FAMILIES: Mapping[str, frozenset[Family]] = MappingProxyType(
    {
        OVERLOAD: _VELMA | _KUGEL,
        TIMEOUT: _VELMA,
        INTERNAL_ERROR: _VELMA,
        UPSTREAM_FAILURE: _VELMA,
        VALIDATION_UNAVAILABLE: _VELMA,
        LATENCY: _VELMA | _KUGEL,
        MIDSTREAM: _VELMA,
        MODEL_UNAVAILABLE: _KUGEL,
        GENERATION_FAILED: _KUGEL,
        SAMPLE_FAILED: _KUGEL,
        FETCH_VOICE_FAILED: _KUGEL,
    }
)
# The KugelAudio faults written by name alone (the ``[kugel] faults`` config list).
KUGEL_FAULTS: tuple[str, ...] = (
    OVERLOAD,
    MODEL_UNAVAILABLE,
    GENERATION_FAILED,
    SAMPLE_FAILED,
    FETCH_VOICE_FAILED,
)


def fault(name: str, value: float | str | None = None) -> str:
    """One fault as written: ``fault("latency", 0.4)`` is ``latency=0.4``; a name already
    written with its value (``internal-midstream=2f``) is taken as it is."""
    if name.partition("=")[0] not in FAULT_FAMILIES:
        raise ValueError(f"unknown fault {name!r}; expected one of {', '.join(FAULT_FAMILIES)}")
    if value is None:
        return name
    return f"{name}={value:g}" if isinstance(value, float | int) else f"{name}={value}"


def fault_header(name: str, value: float | str | None = None) -> dict[str, str]:
    """The request header that injects one fault: ``{FAULT_HEADER: fault(name, value)}``."""
    return {FAULT_HEADER: fault(name, value)}
