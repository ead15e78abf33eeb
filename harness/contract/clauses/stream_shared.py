"""What the three Velma-2 streaming clause modules share: surfaces, citations, helpers.

Acceptable conventions (how to read ``Acceptable`` on these surfaces)
---------------------------------------------------------------------
* ``Acceptable(close_code=N, message="error")``: the server sends one JSON text message whose
  ``type`` is ``"error"`` and then closes with code N. When ``detail`` is set it is the text
  the spec gives as the ``error`` example; it is judged apart, as wording (SHOULD), never as
  part of the codes verdict.
* ``Acceptable(close_code=N)`` with no ``message``: only the close code is documented; no page or
  spec says an ``error`` message comes first (this is the case for 4001, which no spec lists).
* ``Acceptable(close_code=1000, message="done")``: ``done`` is the last JSON message (on
  ``pii-stream`` possibly followed by one trailing MP3 frame), then a normal close.
* ``Acceptable(message=T)`` without a close code: the server sends a JSON message of type T and the
  stream goes on; ``behaviour`` says what to check in it.
* ``Acceptable(behaviour=...)`` alone: any other observable result (e.g. the connection stays open).
* Error texts that embed the offending value (bad ``audio_format``, ``sample_rate``,
  ``num_channels``) are built by ``tables.audio_format_error``, ``tables.sample_rate_error`` and
  ``tables.num_channels_error``; the clause outcomes carry the spec's own example value
  (``tables.EXAMPLE_BAD_VALUES``), so a probe that sends that value can compare ``detail`` exactly.


The wire strings themselves (``ERR_*``, enums, close codes per surface) are in ``tables``.
"""

from __future__ import annotations

from typing import Any

from .. import sources as S
from ..model import Acceptable, Source, Surface, Tier
from ..sources import src
from ..tables import STREAM_SURFACES

STT = Surface.STT_STREAM
SVD = Surface.SVD_STREAM
PII = Surface.PII_STREAM
STREAM: tuple[Surface, ...] = tuple(Surface(s) for s in STREAM_SURFACES)


# --------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------

SPEC_DOC = {STT: S.STT_STREAM_SPEC, SVD: S.SVD_STREAM_SPEC, PII: S.PII_STREAM_SPEC}
CHANNEL = {
    STT: "velma2SttStreaming",
    SVD: "streaming-detection",
    PII: "velma2PiiPhiRedactionStreaming",
}
# Message component names differ between the three files.
MSG = {
    STT: {
        "error": "ErrorResponse",
        "done": "DoneResult",
        "eos": "EndOfStream",
        "audio": "AudioChunk",
    },
    SVD: {"error": "error", "done": "done", "eos": "endOfStream", "audio": "audioData"},
    PII: {
        "error": "ErrorResponse",
        "done": "DoneResult",
        "eos": "EndOfStream",
        "audio": "AudioChunk",
    },
}


def spec(surface: Surface, where: str) -> Source:
    return src(SPEC_DOC[surface], where)


def closes(surface: Surface) -> Source:
    return spec(surface, f"channels.{CHANNEL[surface]} description, 'WebSocket Close Codes'")


def query(surface: Surface, name: str) -> Source:
    return spec(surface, f"channels.{CHANNEL[surface]} bindings.ws.query.{name}")


def msg(surface: Surface, kind: str) -> Source:
    return spec(surface, f"components.messages.{MSG[surface][kind]}")


def flow(surface: Surface) -> Source:
    if surface is SVD:
        return spec(SVD, "operations.signalEnd / receiveDone")
    return spec(surface, f"channels.{CHANNEL[surface]} description, 'Connection Flow'")


def receive_ops(surface: Surface) -> Source:
    """The operation(s) listing every message the server sends."""
    ops = {
        STT: "operations.receiveTranscription",
        SVD: "operations.receiveFrameResult / receiveDone / receiveError",
        PII: "operations.receiveRedaction",
    }
    return spec(surface, ops[surface])


def errors_doc(surface: Surface) -> Source:
    if surface is SVD:
        return spec(SVD, "operations.receiveError")
    return spec(surface, f"channels.{CHANNEL[surface]} description, 'Error Handling'")


FAQ_CLOSE = src(S.FAQ_PAGE, "Streaming (WebSocket) > What WebSocket close codes should I handle?")
FAQ_EOS = src(S.FAQ_PAGE, "Streaming (WebSocket) > How do I signal the end of my audio stream?")
FAQ_PARTIALS = src(S.FAQ_PAGE, "Streaming (WebSocket) > partial_results")
FAQ_LIMITS = src(S.FAQ_PAGE, "Rate limits > What rate limits apply?")
FAQ_MODELS = src(S.FAQ_PAGE, "Models and capabilities > What models are available?")
FAQ_ENRICH = src(S.FAQ_PAGE, "Models and capabilities > parameter table")
FAQ_TAG_VS_REDACT = src(
    S.FAQ_PAGE, "Models and capabilities > PII/PHI tagging vs PII/PHI redaction"
)
FAQ_CONFIDENCE = src(S.FAQ_PAGE, "What does the confidence score mean?")
FAQ_SVD_LENGTH = src(S.FAQ_PAGE, "What is the recommended audio length for deepfake detection?")

TS_4001 = src(S.TROUBLESHOOTING_PAGE, "WebSocket close code 4001 (STT Streaming)")
TS_4003 = src(S.TROUBLESHOOTING_PAGE, "WebSocket close code 4003")
TS_4029 = src(S.TROUBLESHOOTING_PAGE, "WebSocket close code 4029")
TS_1003 = src(
    S.TROUBLESHOOTING_PAGE, "WebSocket close code 1003 — invalid query parameters (SVD Streaming)"
)
TS_4002 = src(
    S.TROUBLESHOOTING_PAGE, "WebSocket close code 4002 — audio data doesn’t match declared format"
)
TS_400 = src(S.TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format (SVD Streaming row)")

AUTH_WS_KEY = src(S.AUTH_PAGE, "Passing your API key > WebSocket streaming endpoints")
AUTH_WS_CODES = src(S.AUTH_PAGE, "Authentication error codes > WebSocket endpoints")
AUTH_LIMITS = src(S.AUTH_PAGE, "Rate limits")
AUTH_LIMIT_CODES = src(S.AUTH_PAGE, "Rate limit error codes")
AUTH_RETRY = src(S.AUTH_PAGE, "Retry guidance")

FMT_INTRO = src(S.AUDIO_FORMATS_PAGE, "introduction (per-endpoint format summary)")
FMT_SVD_CONTAINERS = src(S.AUDIO_FORMATS_PAGE, "Deepfake Detection streaming > container formats")
FMT_SVD_RAW = src(S.AUDIO_FORMATS_PAGE, "Deepfake Detection streaming > raw formats")
FMT_RATES = src(S.AUDIO_FORMATS_PAGE, "Supported sample_rate values")
FMT_CHANNELS = src(S.AUDIO_FORMATS_PAGE, "num_channels range")
FMT_PASSTHROUGH = src(S.AUDIO_FORMATS_PAGE, "The s16le passthrough optimization")
FMT_STATUS = src(S.AUDIO_FORMATS_PAGE, "error table (1003 at connect, 4002 at decode)")

# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def err(code: int, detail: str | None = None, behaviour: str | None = None) -> Acceptable:
    """An ``error`` message, then a close with ``code``."""
    return Acceptable(close_code=code, message="error", detail=detail, behaviour=behaviour)


RESULT = {STT: "utterance", SVD: "frame", PII: "utterance"}
LIVE_RESULTS = {
    STT: spec(STT, "info.description"),
    SVD: spec(SVD, "operations.receiveFrameResult"),
    PII: flow(PII),
}


def utterance_uuid(s: Surface) -> dict[str, Any]:
    """The fields of ``<s>/utterance-uuid`` (stt-stream and pii-stream say the same)."""
    return dict(
        requirement=(
            "Every utterance carries a UUID of its own; no two utterances on a connection share one."
        ),
        sources=(spec(s, "components.schemas.StreamingUtterance"),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance", behaviour="utterance_uuid parses as a UUID and is unique"
            ),
        ),
        tags=("schema",),
    )
