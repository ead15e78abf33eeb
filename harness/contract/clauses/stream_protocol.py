"""Streaming protocol clauses of the three WebSocket surfaces: audio, results, errors, end of stream.

Topics common to the streams, stamped out per surface by ``per_surface``.
"""

from __future__ import annotations

from typing import Any

from ..build import per_surface
from ..model import Acceptable, Clause, Surface, Tier
from ..tables import (
    DETAIL_INTERNAL,
    DETAIL_UNPROCESSABLE,
    ERR_FORMAT_MISMATCH,
    ERR_INVALID_INPUT_AUDIO,
    SERVER_MESSAGE_TYPES,
    STREAM_CLOSE_CODES,
    VELMA_CLOSE_CODES,
)
from .stream_shared import (
    AUTH_WS_CODES,
    FAQ_CLOSE,
    FAQ_EOS,
    FAQ_MODELS,
    FMT_STATUS,
    LIVE_RESULTS,
    PII,
    RESULT,
    STREAM,
    STT,
    SVD,
    TS_4001,
    TS_4002,
    closes,
    err,
    errors_doc,
    flow,
    msg,
    query,
    receive_ops,
    spec,
)

# --------------------------------------------------------------------------
# Protocol common to the three surfaces: audio, results, errors, end of stream
# --------------------------------------------------------------------------


def _protocol_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []

    def audio_frames(s: Surface) -> dict[str, Any]:
        if s is SVD:
            return dict(
                requirement=(
                    "Audio goes to the server as binary frames in the declared format; frames may be "
                    "of any size and the server buffers across them."
                ),
                sources=(msg(SVD, "audio"), spec(SVD, "operations.sendAudio")),
                outcomes=(
                    Acceptable(
                        behaviour="chunks of odd sizes (not sample-aligned) give the same frames"
                    ),
                ),
            )
        return dict(
            requirement=(
                "Audio goes to the server as binary frames in the declared (or auto-detected) format"
                + (", after the optional configuration frame." if s is STT else ".")
            ),
            sources=(msg(s, "audio"), flow(s)),
            outcomes=(
                Acceptable(
                    message="utterance", behaviour="speech sent as binary frames is transcribed"
                ),
            ),
        )

    out += per_surface(
        "audio-binary-frames", STREAM, audio_frames, tier=Tier.MUST, tags=("protocol",)
    )
    out += per_surface(
        "message-types",
        STREAM,
        lambda s: dict(
            requirement=(
                "Every JSON message from the server has a `type` among "
                + ", ".join(f"`{t}`" for t in SERVER_MESSAGE_TYPES[s.value])
                + ("; the only binary frames are MP3 clips." if s is PII else ".")
            ),
            sources=(receive_ops(s),),
            outcomes=(Acceptable(behaviour=f"type in {SERVER_MESSAGE_TYPES[s.value]}"),),
        ),
        tier=Tier.MUST,
        tags=("protocol", "schema"),
    )
    out += per_surface(
        "results-while-streaming",
        STREAM,
        lambda s: dict(
            requirement=(
                f"Each `{RESULT[s]}` is sent as soon as it is ready while audio is still arriving, "
                "not held back until end of stream."
            ),
            sources=(LIVE_RESULTS[s], FAQ_MODELS),
            outcomes=(
                Acceptable(
                    message=RESULT[s],
                    behaviour="arrives before the client sends the empty text frame",
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("protocol",),
    )
    out += per_surface(
        "error-shape",
        STREAM,
        lambda s: dict(
            requirement=(
                'An error is reported as `{"type": "error", "error": <text>}`, both fields present, '
                "`error` a human-readable string."
            ),
            sources=(
                msg(s, "error") if s is not SVD else spec(SVD, "components.schemas.ErrorResponse"),
            ),
            outcomes=(
                Acceptable(message="error", behaviour="object with string fields type and error"),
            ),
        ),
        tier=Tier.MUST,
        tags=("protocol", "schema"),
    )
    out += per_surface(
        "error-before-close",
        STREAM,
        lambda s: dict(
            requirement=(
                "When the server closes for an error, with a code the spec lists with an `error` "
                "message (1003, 4003, 4029"
                + ("; 4002 on deepfake streaming" if s is SVD else "")
                + ") or after an error during processing (undecodable audio, an internal failure), "
                "an `error` message comes right before the close; after an `error` message the "
                "server closes the connection"
                + (" and sends no binary frame." if s is PII else ".")
                + " Nothing is promised for 4001, which no spec lists."
            ),
            sources=(closes(s), errors_doc(s), *((msg(PII, "error"),) if s is PII else ())),
            outcomes=(
                Acceptable(
                    message="error", behaviour="the message directly precedes the close frame"
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("protocol", "close-code"),
    )
    out += per_surface(
        "internal-error",
        STREAM,
        lambda s: dict(
            requirement="An internal failure while streaming is reported with an `error` message and close 1011.",
            sources=(
                FAQ_CLOSE,
                msg(s, "error") if s is not SVD else spec(SVD, "components.schemas.ErrorResponse"),
                errors_doc(s),
            ),
            outcomes=(err(1011, DETAIL_INTERNAL),),
        ),
        tier=Tier.MUST,
        tags=("protocol", "close-code"),
    )

    def undecodable(s: Surface) -> dict[str, Any]:
        if s is SVD:
            return dict(
                requirement=(
                    "Audio that cannot be decoded (truncated or corrupt stream, or an MP4-family "
                    "stream not in streamable layout) ends with an `error` and close 4002."
                ),
                sources=(
                    closes(SVD),
                    FMT_STATUS,
                    query(SVD, "audio_format"),
                    spec(SVD, "components.schemas.ErrorResponse"),
                    FAQ_CLOSE,
                ),
                outcomes=(err(4002, DETAIL_UNPROCESSABLE),),
            )
        return dict(
            requirement=(
                "Audio that cannot be decoded (corrupt bytes, or no recognisable format when "
                "`audio_format` is omitted) is refused: an `error` message, then a close with an "
                "error code (not 1000). The spec names no code for it (its list is 1000, 1003, "
                "4003, 4029); 4002 is judged apart, as a recommendation "
                f"({s.value}/audio-error-4002)."
            ),
            sources=(errors_doc(s), msg(s, "error"), closes(s)),
            outcomes=(
                Acceptable(
                    message="error",
                    detail=ERR_INVALID_INPUT_AUDIO,
                    behaviour="the server closes with a code other than 1000 right after it",
                ),
            ),
        )

    out += per_surface(
        "undecodable", STREAM, undecodable, tier=Tier.MUST, tags=("protocol", "close-code")
    )

    def mismatch(s: Surface) -> dict[str, Any]:
        req = (
            "Audio that does not match the declared `audio_format` (e.g. WebM bytes on an "
            "`s16le` connection) ends with an `error` and close 4002."
        )
        if s is SVD:
            return dict(
                requirement=req,
                sources=(
                    closes(SVD),
                    FMT_STATUS,
                    TS_4002,
                    FAQ_CLOSE,
                    spec(SVD, "components.schemas.ErrorResponse"),
                ),
                outcomes=(err(4002, ERR_FORMAT_MISMATCH),),
            )
        return dict(
            requirement=(
                "Audio that does not match the declared `audio_format` (e.g. WebM bytes on an "
                "`s16le` connection) is refused: an `error` message, then a close with an error "
                "code (not 1000). The spec's close-code list has no 4002; the FAQ and the "
                "troubleshooting page give it for this case, judged apart as a recommendation "
                f"({s.value}/audio-error-4002)."
            ),
            sources=(errors_doc(s), msg(s, "error"), FAQ_CLOSE, TS_4002),
            outcomes=(
                Acceptable(
                    message="error",
                    behaviour="the server closes with a code other than 1000 right after it",
                ),
            ),
        )

    out += per_surface(
        "format-mismatch",
        STREAM,
        mismatch,
        tier=Tier.MUST,
        tags=("protocol", "close-code"),
    )
    out += per_surface(
        "audio-error-4002",
        (STT, PII),
        lambda s: dict(
            requirement=(
                "Undecodable or mismatched audio should close with 4002: the FAQ's close-code table "
                "and the troubleshooting page give 4002 to audio that does not match the declared "
                "format, and the formats page to undecodable deepfake streams, but this surface's "
                "spec does not list the code."
            ),
            sources=(FAQ_CLOSE, TS_4002, FMT_STATUS),
            outcomes=(err(4002),),
        ),
        tier=Tier.SHOULD,
        tags=("protocol", "close-code"),
    )

    out += per_surface(
        "end-of-stream",
        STREAM,
        lambda s: dict(
            requirement=(
                'An empty text frame ("") ends the input: the server processes what it has buffered, '
                "sends every outstanding result, then `done`, then closes with 1000."
            ),
            sources=(FAQ_EOS, msg(s, "eos"), flow(s), FAQ_CLOSE),
            outcomes=(
                Acceptable(
                    close_code=1000,
                    message="done",
                    behaviour="no result for audio sent before the empty frame is lost",
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("end-of-stream", "protocol"),
    )
    out += per_surface(
        "empty-binary-not-eos",
        STREAM,
        lambda s: dict(
            requirement=(
                "Whether a zero-length binary frame ends the input is not documented: the pages "
                "name an empty TEXT frame as the end of stream and say nothing of empty binary "
                "frames, so what the server does is recorded (stays open, or ends the stream)."
            ),
            sources=(FAQ_EOS, msg(s, "eos")),
            outcomes=(
                Acceptable(behaviour="connection open, no done, later audio still processed"),
                Acceptable(
                    close_code=1000, message="done", behaviour="the empty frame ended input"
                ),
            ),
        ),
        tier=Tier.INFO,
        tags=("end-of-stream", "protocol"),
    )
    out += per_surface(
        "done-last",
        STREAM,
        lambda s: dict(
            requirement=(
                "`done` comes after every other result and is the last JSON message"
                + (" (at most one trailing MP3 frame may follow it)" if s is PII else "")
                + "; the server then closes with 1000 without waiting for the client."
            ),
            sources=(FAQ_EOS, FAQ_CLOSE, flow(s), closes(s)),
            outcomes=(Acceptable(close_code=1000, message="done"),),
        ),
        tier=Tier.MUST,
        tags=("end-of-stream", "protocol"),
    )
    out += per_surface(
        "done-duration",
        STREAM,
        lambda s: dict(
            requirement=(
                "`done.duration_ms` is the total length, in whole milliseconds, of the audio the "
                "server received on the connection."
            ),
            sources=(
                msg(s, "done") if s is not SVD else spec(SVD, "components.schemas.DoneMessage"),
            ),
            outcomes=(
                Acceptable(
                    message="done", behaviour="duration_ms matches the audio sent, to rounding"
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("end-of-stream", "schema"),
    )
    out += per_surface(
        "documented-close-codes",
        STREAM,
        lambda s: dict(
            requirement=(
                "The codes the documents name for this surface are "
                + ", ".join(str(c) for c in STREAM_CLOSE_CODES[s.value])
                + ". The FAQ lists them as codes to handle, which does not promise that no other "
                "code occurs, so a close with another code is recorded, not judged."
            ),
            sources=(FAQ_CLOSE, closes(s), *((AUTH_WS_CODES, TS_4001) if s is STT else ())),
            outcomes=tuple(
                Acceptable(
                    close_code=c,
                    message="done" if c == 1000 else None,
                    behaviour=VELMA_CLOSE_CODES[c],
                )
                for c in STREAM_CLOSE_CODES[s.value]
            ),
        ),
        tier=Tier.INFO,
        tags=("close-code",),
    )
    return tuple(out)


CLAUSES: tuple[Clause, ...] = _protocol_clauses()
