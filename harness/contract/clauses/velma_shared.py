"""What the clause modules of surface ``velma`` (every Velma-2 endpoint) share: citation helpers.

Data only: no I/O.
"""

from __future__ import annotations

from ..model import Source, Surface
from ..sources import (
    AUDIO_FORMATS_PAGE,
    PII_BATCH_SPEC,
    PII_STREAM_SPEC,
    STT_BATCH_SPEC,
    STT_STREAM_SPEC,
    SVD_BATCH_SPEC,
    SVD_STREAM_SPEC,
    TROUBLESHOOTING_PAGE,
    VFAST_SPEC,
    src,
)
from ..tables import (
    MAX_CHANNELS,
    MIN_CHANNELS,
    RAW_FORMAT_NAMES,
    REST_SURFACES,
    SAMPLE_RATES,
    VELMA_PATHS,
)

V = Surface.VELMA

BATCH_SPECS = (STT_BATCH_SPEC, VFAST_SPEC, SVD_BATCH_SPEC, PII_BATCH_SPEC)
STREAM_SPECS = (STT_STREAM_SPEC, SVD_STREAM_SPEC, PII_STREAM_SPEC)

RAW_LIST = ", ".join(f"`{n}`" for n in RAW_FORMAT_NAMES)
RATE_LIST = ", ".join(str(r) for r in SAMPLE_RATES)
CHANNELS = f"{MIN_CHANNELS}–{MAX_CHANNELS}"


def each(documents: tuple[str, ...], section: str) -> tuple[Source, ...]:
    return tuple(src(d, section) for d in documents)


# Keys that differ between the files: a citation names the file's own key.
STREAM_CHANNEL = {
    STT_STREAM_SPEC: "velma2SttStreaming",
    SVD_STREAM_SPEC: "streaming-detection",
    PII_STREAM_SPEC: "velma2PiiPhiRedactionStreaming",
}
STREAM_EOS = {
    STT_STREAM_SPEC: "EndOfStream",
    SVD_STREAM_SPEC: "endOfStream",
    PII_STREAM_SPEC: "EndOfStream",
}
BATCH_PATH = dict(
    zip(
        BATCH_SPECS,
        (VELMA_PATHS[n] for n in REST_SURFACES),
        strict=True,
    )
)


def each_channel(part: str, documents: tuple[str, ...] = STREAM_SPECS) -> tuple[Source, ...]:
    """``part`` of each streaming file's channel, e.g. ``bindings.ws.query.api_key``."""
    return tuple(src(d, f"channels.{STREAM_CHANNEL[d]} {part}") for d in documents)


def each_eos(note: str = "") -> tuple[Source, ...]:
    """Each streaming file's end-of-stream message."""
    return tuple(
        src(d, f"components.messages.{STREAM_EOS[d]} {note}".strip()) for d in STREAM_SPECS
    )


FMT_STREAM_INTRO = src(
    AUDIO_FORMATS_PAGE, "introduction (streaming endpoints accept raw PCM / mu-law / A-law)"
)
FMT_BATCH_EXTENSION = src(
    AUDIO_FORMATS_PAGE, "introduction (HTTP batch endpoints: the file extension decides)"
)
TS_1003 = src(
    TROUBLESHOOTING_PAGE, "WebSocket close code 1003 — invalid query parameters (SVD Streaming)"
)
TS_4002 = src(
    TROUBLESHOOTING_PAGE, "WebSocket close code 4002 — audio data doesn’t match declared format"
)


def batch_op(document: str, part: str) -> Source:
    """``part`` of a batch file's one operation, e.g. ``responses 504``."""
    return src(document, f"POST {BATCH_PATH[document]} {part}")
