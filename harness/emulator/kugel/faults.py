"""KugelAudio faults: which documented 500 / 503 a request is made to end in.

Written as names, from the ``[kugel] faults`` config list (every request), the
``X-Emulator-Kugel-Fault`` request header (comma-separated; on WebSocket, the upgrade
request's) or ``POST /_emulator/kugel/switches`` (until ``/_emulator/kugel/reset``).
The generic ``overload`` fault (``X-Emulator-Fault``, ``[faults]``) counts as
``overload`` here too.

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

FAULT_HEADER = "X-Emulator-Kugel-Fault"
OVERLOAD = "overload"
MODEL_UNAVAILABLE = "model-unavailable"
GENERATION_FAILED = "generation-failed"
SAMPLE_FAILED = "sample-failed"
FETCH_VOICE_FAILED = "fetch-voice-failed"
KUGEL_FAULTS: tuple[str, ...] = (
    OVERLOAD,
    MODEL_UNAVAILABLE,
    GENERATION_FAILED,
    SAMPLE_FAILED,
    FETCH_VOICE_FAILED,
)


def parse_kugel_faults(items: Iterable[str]) -> frozenset[str]:
    """Names -> set; raises ``ValueError`` naming the known faults."""
    out = set()
    for raw in items:
        name = raw.strip()
        if not name:
            continue
        if name not in KUGEL_FAULTS:
            raise ValueError(f"unknown kugel fault {name!r}; known: {', '.join(KUGEL_FAULTS)}")
        out.add(name)
    return frozenset(out)


def parse_fault_header(value: str | None) -> frozenset[str]:
    return parse_kugel_faults(value.split(",")) if value else frozenset()
