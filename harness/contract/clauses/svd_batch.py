"""Clauses of ``svd-batch`` (deepfake detection batch) alone: length, windows, frames."""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import (
    FAQ_PAGE,
    SVD_BATCH_SPEC,
    TROUBLESHOOTING_PAGE,
    src,
)
from ..tables import (
    DETAIL_EMPTY,
    DETAIL_TOO_SHORT,
    MIN_SVD_DURATION_S,
    NO_CONTENT_CONFIDENCE,
    SVD_RECOMMENDED_RANGE_S,
    SVD_VERDICTS,
    SVD_WINDOW_S,
)
from .batch_shared import FORMATS_ERRORS, SVD, spec

# --------------------------------------------------------------------------
# Deepfake (SVD) batch: minimum length, windows, silence, frames
# --------------------------------------------------------------------------

_SVD_NOTES = src(SVD_BATCH_SPEC, "info.description — Behavior Notes")
_FAQ_SVD_LENGTH = src(FAQ_PAGE, "What is the recommended audio length for deepfake detection?")
_FRAME = "components.schemas.FrameResult"
_MIN_MS = round(MIN_SVD_DURATION_S * 1000)
_WINDOW_MS = round(SVD_WINDOW_S * 1000)

CLAUSES: tuple[Clause, ...] = (
    clause(
        id="svd-batch/too-short",
        surface=SVD,
        requirement=(
            f"Audio shorter than {MIN_SVD_DURATION_S:g} s is refused with 422 `{DETAIL_TOO_SHORT}`."
        ),
        sources=(
            spec(SVD, "description"),
            spec(SVD, "responses 422 (audio_too_short)"),
            src(FAQ_PAGE, "Is there a minimum audio length?"),
            src(FAQ_PAGE, "My file was rejected with 422. Why?"),
            src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short"),
            FORMATS_ERRORS,
        ),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=422, detail=DETAIL_TOO_SHORT),),
        tags=("audio-validation", "deepfake"),
    ),
    clause(
        id="svd-batch/minimum-accepted",
        surface=SVD,
        requirement=f"A clip of exactly {MIN_SVD_DURATION_S:g} s is long enough and is analysed.",
        sources=(src(FAQ_PAGE, "Is there a minimum audio length?"), spec(SVD, "description")),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(status=200, behaviour=f"a {_MIN_MS} ms clip yields at least one frame"),
        ),
        tags=("audio-validation", "deepfake"),
    ),
    clause(
        id="svd-batch/metadata-only",
        surface=SVD,
        requirement=(
            "A non-empty file that holds a container header or metadata but no audio samples "
            "is refused; the pages disagree on 422 too-short or 400 empty."
        ),
        sources=(
            src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short"),
            FORMATS_ERRORS,
        ),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="422-too-short",
                summary="A file with no samples counts as audio under the minimum length.",
                sources=(
                    src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short"),
                    src(FAQ_PAGE, "My file was rejected with 422. Why?"),
                    spec(SVD, "responses 422 (audio_too_short)"),
                ),
                outcomes=(Acceptable(status=422, detail=DETAIL_TOO_SHORT),),
                spec_literal=True,
            ),
            Alternative(
                key="400-empty",
                summary="A file with no samples is an empty file, a 400.",
                sources=(FORMATS_ERRORS, spec(SVD, "responses 400 (empty_file)")),
                outcomes=(Acceptable(status=400, detail=DETAIL_EMPTY),),
            ),
        ),
        preferred="422-too-short",
        rationale=(
            "The troubleshooting page names sample-less files explicitly and the spec's "
            "0.5 s rule agrees, while the empty-file 400 reads as a zero-byte upload."
        ),
        contradiction=9,
        tags=("audio-validation", "deepfake"),
    ),
    clause(
        id="svd-batch/window-padding",
        surface=SVD,
        requirement=(
            f"A clip of at least {MIN_SVD_DURATION_S:g} s but shorter than one "
            f"{SVD_WINDOW_S:g} s window is padded internally and still gets frame verdicts. "
            "Whether a frame may extend over the padding is not documented and not judged."
        ),
        sources=(_FAQ_SVD_LENGTH, _SVD_NOTES),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    f"a clip between {_MIN_MS} and {_WINDOW_MS} ms yields at least one frame "
                    "with a synthetic or non-synthetic verdict"
                ),
            ),
        ),
        tags=("deepfake",),
    ),
    clause(
        id="svd-batch/recommended-length",
        surface=SVD,
        requirement=(
            f"Clips of {SVD_RECOMMENDED_RANGE_S[0]:g}–{SVD_RECOMMENDED_RANGE_S[1]:g} s are the "
            "recommended input; inside that range analysis completes normally."
        ),
        sources=(_FAQ_SVD_LENGTH, spec(SVD, "description")),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=200),),
        tags=("deepfake",),
    ),
    clause(
        id="svd-batch/silence-trim-timestamps",
        surface=SVD,
        requirement=(
            "Silence at the start and end of the file is left out of analysis, yet every frame's "
            "times are measured from the start of the file as uploaded."
        ),
        sources=(_FAQ_SVD_LENGTH, _SVD_NOTES),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    "with 2 s of leading silence, the first speech verdict starts at or after "
                    "2000 ms, and the silent stretch is `no-content`"
                ),
            ),
        ),
        tags=("deepfake",),
    ),
    clause(
        id="svd-batch/no-content",
        surface=SVD,
        requirement=(
            "A frame with only silence or no usable audio gets verdict `no-content` and a "
            f"confidence of exactly {NO_CONTENT_CONFIDENCE:g}."
        ),
        sources=(
            _SVD_NOTES,
            src(SVD_BATCH_SPEC, f"{_FRAME}.verdict"),
            src(FAQ_PAGE, "What does the confidence score mean?"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=f'silent frames have `verdict: "no-content"`, `confidence: {NO_CONTENT_CONFIDENCE}`',
            ),
        ),
        tags=("deepfake",),
    ),
    clause(
        id="svd-batch/response-schema",
        surface=SVD,
        requirement=(
            "A 200 is JSON with `filename` (the uploaded name, or null), an ordered `frames` "
            "array and an integer `duration_ms`."
        ),
        sources=(
            spec(SVD, "responses 200"),
            src(SVD_BATCH_SPEC, "components.schemas.DetectionAPIResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour="`filename` echoes the multipart filename (null only without one)",
            ),
        ),
        tags=("schema", "deepfake"),
    ),
    clause(
        id="svd-batch/frame-schema",
        surface=SVD,
        requirement=(
            "Each frame has integer `start_time_ms` and `end_time_ms` (>= 0), a `verdict` and "
            "a `confidence`, all present."
        ),
        sources=(src(SVD_BATCH_SPEC, _FRAME),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(status=200, behaviour="four required keys with those types; start < end"),
        ),
        tags=("schema", "deepfake"),
    ),
    clause(
        id="svd-batch/verdict-enum",
        surface=SVD,
        requirement=f"A frame's `verdict` is one of {', '.join(f'`{v}`' for v in SVD_VERDICTS)}.",
        sources=(src(SVD_BATCH_SPEC, f"{_FRAME}.verdict"), src(SVD_BATCH_SPEC, "info.description")),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour=f"`verdict` in {SVD_VERDICTS}"),),
        tags=("schema", "deepfake"),
    ),
    clause(
        id="svd-batch/confidence-range",
        surface=SVD,
        requirement="A frame's `confidence` is a number from 0 to 1 inclusive, in its own verdict.",
        sources=(
            src(SVD_BATCH_SPEC, f"{_FRAME}.confidence"),
            src(FAQ_PAGE, "What does the confidence score mean?"),
        ),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour="0 <= `confidence` <= 1 for every frame"),),
        tags=("schema", "deepfake"),
    ),
    clause(
        id="svd-batch/frames-ordered",
        surface=SVD,
        requirement=(
            "Frames come in time order and together cover the file: the spec says the ordered "
            "frames cover the full duration, but not that they meet without gap or overlap, so "
            "only the order and the reach (the first within one window of the start, the last "
            "within one window of `duration_ms`) are judged."
        ),
        sources=(
            src(SVD_BATCH_SPEC, "components.schemas.DetectionAPIResponse.frames"),
            src(SVD_BATCH_SPEC, "info.description"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    f"`start_time_ms` never decreases; 0 <= start < end; the first frame starts "
                    f"before {_WINDOW_MS} ms and the last ends within {_WINDOW_MS} ms of "
                    "`duration_ms`"
                ),
            ),
        ),
        tags=("schema", "deepfake"),
    ),
)
