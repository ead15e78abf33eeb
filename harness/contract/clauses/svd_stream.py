"""Clauses of ``svd-stream`` (deepfake streaming) alone: frames, cadence, window."""

from __future__ import annotations

from .. import sources as S
from ..build import clause
from ..model import Acceptable, Clause, Tier
from ..sources import src
from ..tables import (
    DETAIL_UNPROCESSABLE,
    MIN_SVD_DURATION_S,
    NO_CONTENT_CONFIDENCE,
    SVD_STREAM_CADENCE_S,
    SVD_STREAM_FIRST_RESULT_S,
    SVD_VERDICTS,
    SVD_WINDOW_S,
)
from .stream_shared import (
    FAQ_CONFIDENCE,
    FAQ_MODELS,
    FAQ_SVD_LENGTH,
    FMT_PASSTHROUGH,
    SVD,
    closes,
    err,
    query,
    spec,
)

# --------------------------------------------------------------------------
# Deepfake (SVD) streaming: frames, cadence, window
# --------------------------------------------------------------------------

_FRAME = spec(SVD, "components.schemas.Frame")
_FRAME_OP = spec(SVD, "operations.receiveFrameResult")


_FIRST_MS = int(SVD_STREAM_FIRST_RESULT_S * 1000)
_WINDOW_MS = int(SVD_WINDOW_S * 1000)


CLAUSES: tuple[Clause, ...] = (
    clause(
        id="svd-stream/frame-shape",
        surface=SVD,
        requirement=(
            'Each analysed window arrives as `{"type": "frame", "frame": {...}}` with integer '
            "start_time_ms and end_time_ms, a `verdict` and a `confidence` between 0 and 1."
        ),
        sources=(spec(SVD, "components.schemas.FrameResultMessage"), _FRAME),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="frame", behaviour="validates against schemas_stream SVD frame"),
        ),
        tags=("schema", "deepfake"),
    ),
    clause(
        id="svd-stream/verdict-values",
        surface=SVD,
        requirement="`verdict` is one of " + ", ".join(f"`{v}`" for v in SVD_VERDICTS) + ".",
        sources=(_FRAME,),
        tier=Tier.MUST,
        outcomes=(Acceptable(message="frame", behaviour=f"verdict in {SVD_VERDICTS}"),),
        tags=("schema", "deepfake"),
    ),
    clause(
        id="svd-stream/no-content-confidence",
        surface=SVD,
        requirement=(
            f"A window that is silent or has no usable audio gets verdict `no-content` with "
            f"confidence exactly {NO_CONTENT_CONFIDENCE}."
        ),
        sources=(FAQ_CONFIDENCE, _FRAME),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="frame", behaviour="verdict no-content implies confidence == 1.0"),
        ),
        tags=("deepfake",),
    ),
    clause(
        id="svd-stream/first-result",
        surface=SVD,
        requirement=(
            f"The first `frame` comes once {_FIRST_MS} ms of audio has been received, without "
            f"waiting for end of stream; no frame covers less than {_FIRST_MS} ms of audio."
        ),
        sources=(FAQ_MODELS, _FRAME_OP, src(S.FAQ_PAGE, "Is there a minimum audio length?")),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="frame",
                behaviour=f"first frame before end of stream; its end_time_ms >= {_FIRST_MS}",
            ),
        ),
        tags=("deepfake", "protocol"),
    ),
    clause(
        id="svd-stream/cadence",
        surface=SVD,
        requirement=(
            f"After the first result, frames follow about every {SVD_STREAM_CADENCE_S:g} s of "
            "streamed audio."
        ),
        sources=(_FRAME_OP, FAQ_MODELS),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(message="frame", behaviour="consecutive end_time_ms differ by about 1000"),
        ),
        tags=("deepfake", "protocol"),
    ),
    clause(
        id="svd-stream/window",
        surface=SVD,
        requirement=(
            f"The analysis window starts at the beginning of the stream and grows until it spans "
            f"{_WINDOW_MS} ms, then slides forward keeping that length."
        ),
        sources=(_FRAME_OP, FAQ_SVD_LENGTH),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                message="frame",
                behaviour=f"start_time_ms == 0 while end_time_ms <= {_WINDOW_MS}; afterwards end - start == {_WINDOW_MS}",
            ),
        ),
        tags=("deepfake",),
    ),
    clause(
        id="svd-stream/chronological",
        surface=SVD,
        requirement=(
            "Frames arrive in chronological order of the audio they cover, and their times are "
            "positions in the original stream within 0..duration_ms."
        ),
        sources=(_FRAME_OP, _FRAME, FAQ_SVD_LENGTH),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="frame",
                behaviour="end_time_ms non-decreasing; start < end <= done.duration_ms",
            ),
        ),
        tags=("deepfake", "protocol"),
    ),
    clause(
        id="svd-stream/done-shape",
        surface=SVD,
        requirement=(
            'Deepfake streaming finishes with `{"type": "done", "duration_ms": <int>, '
            '"frame_count": <int>}`. The spec counts the frames *analysed*, and no-content frames '
            "skip the model, so frame_count lies between the frames with a speech verdict and "
            "all `frame` messages sent."
        ),
        sources=(
            spec(SVD, "components.schemas.DoneMessage"),
            spec(SVD, "operations.receiveDone"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="done",
                behaviour="non-no-content frames <= frame_count <= frames received",
            ),
        ),
        tags=("schema", "end-of-stream", "deepfake"),
    ),
    clause(
        id="svd-stream/short-stream",
        surface=SVD,
        requirement=(
            f"A stream that ends before {MIN_SVD_DURATION_S} s of audio has arrived: the documents "
            "do not say whether it ends with an empty `done` or an error."
        ),
        sources=(FAQ_MODELS, spec(SVD, "operations.receiveDone")),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(close_code=1000, message="done", behaviour="frame_count 0"),
            err(4002),
        ),
        tags=("deepfake", "end-of-stream"),
    ),
    clause(
        id="svd-stream/mp4-streamable",
        surface=SVD,
        requirement=(
            "MP4-family input (`mp4`, `m4a`, `3gp`, `3gpp`) has to be laid out for streaming (index "
            "first); a non-streamable file draws an audio-processing `error` and close 4002."
        ),
        sources=(query(SVD, "audio_format"), closes(SVD)),
        tier=Tier.MUST,
        outcomes=(err(4002, DETAIL_UNPROCESSABLE, "e.g. an MP4 with its moov box at the end"),),
        tags=("query-params", "close-code"),
    ),
    clause(
        id="svd-stream/format-equivalence",
        surface=SVD,
        requirement=(
            "The same audio gives the same verdicts whatever supported format carries it; s16le at "
            "16 kHz mono merely skips conversion."
        ),
        sources=(FMT_PASSTHROUGH,),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                message="frame",
                behaviour="s16le/16000/1 and f32le/48000/1 of one clip give matching verdicts",
            ),
        ),
        tags=("deepfake",),
    ),
)
