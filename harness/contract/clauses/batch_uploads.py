"""Batch clauses every Velma-2 batch surface has: uploads, server failures, `duration_ms`.

Each topic is written once; ``per_surface`` gives every batch surface its clause.
"""

from __future__ import annotations

from typing import Any

from ..build import per_surface
from ..model import Acceptable, Alternative, Clause, Surface, Tier
from ..sources import (
    AUDIO_FORMATS_PAGE,
    FAQ_PAGE,
    TROUBLESHOOTING_PAGE,
    src,
)
from ..tables import (
    BATCH_PROCESSING_TIMEOUT_S,
    DETAIL_BAD_VALUE,
    DETAIL_EMPTY,
    DETAIL_TOO_SHORT,
    DETAIL_UNPROCESSABLE,
    UPLOAD_PART,
    VFAST_OPUS_ONLY,
)
from .batch_shared import (
    BATCH,
    FASTAPI_422,
    FORMATS_ERRORS,
    NAME,
    PII,
    SPEC,
    STT,
    SVD,
    UNSUPPORTED,
    VFAST,
    documented,
    format_list,
    spec,
)

# --------------------------------------------------------------------------
# Uploads: formats, empty, undecodable, missing part
# --------------------------------------------------------------------------

_FORMATS_INTRO = src(
    AUDIO_FORMATS_PAGE, "introduction (HTTP batch endpoints accept common containers)"
)

_FAQ_FORMATS = src(FAQ_PAGE, "What audio formats are supported?")


def _container_formats(s: Surface) -> dict[str, Any]:
    accepted = Acceptable(
        status=200,
        behaviour=f"valid audio under each of {format_list(s)} is decoded by its extension and analysed",
    )
    common = dict(
        requirement=(
            f"{NAME[s]} accepts a valid recording in any container its spec lists "
            f"({format_list(s)}) and processes it."
        ),
        tier=Tier.MUST,
        tags=("audio-validation",),
    )
    spec_list = spec(s, f"requestBody `{UPLOAD_PART}` (supported formats)")
    if s is not VFAST:
        return dict(
            common,
            sources=(_FORMATS_INTRO, spec_list, *((_FAQ_FORMATS,) if s is not SVD else ())),
            outcomes=(accepted,),
        )
    opus_only = ", ".join(f".{ext}" for ext in VFAST_OPUS_ONLY)
    return dict(
        common,
        requirement=(
            "VFast decodes uploads by extension; the pages disagree on whether only Opus or "
            f"every listed container ({format_list(s)}) is accepted."
        ),
        sources=(
            _FORMATS_INTRO,
            spec_list,
            src(TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format"),
        ),
        alternatives=(
            Alternative(
                key="containers",
                summary="VFast takes the same ten containers as the other transcription endpoints.",
                sources=(_FORMATS_INTRO, spec_list),
                outcomes=(accepted,),
                spec_literal=True,
            ),
            Alternative(
                key="opus-only",
                summary="VFast takes Opus only; MP3, WAV or any other container is refused with 400.",
                sources=(
                    src(TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format"),
                    src(TROUBLESHOOTING_PAGE, "STT Batch English VFast — silent 60-second timeout"),
                ),
                outcomes=(
                    Acceptable(
                        status=400,
                        behaviour=(
                            f"valid .mp3 or .wav audio is refused while valid {opus_only} "
                            "audio is transcribed"
                        ),
                    ),
                ),
            ),
        ),
        preferred="containers",
        rationale=(
            "The spec lists the accepted extensions in machine-readable form and the "
            "audio-formats page names the spec as the authoritative list."
        ),
        contradiction=7,
    )


def _empty_file(s: Surface) -> dict[str, Any]:
    sources = (
        spec(s, f"requestBody `{UPLOAD_PART}` (empty files rejected)"),
        spec(s, "responses 400 (empty_file)"),
        *((FORMATS_ERRORS,) if s is not PII else ()),
    )
    requirement = f"{NAME[s]} refuses a zero-byte `{UPLOAD_PART}` with 400 `{DETAIL_EMPTY}`."
    if s is not SVD:
        return dict(
            requirement=requirement,
            sources=sources,
            tier=Tier.MUST,
            outcomes=(Acceptable(status=400, detail=DETAIL_EMPTY),),
            tags=("audio-validation",),
        )
    too_short = src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short")
    return dict(
        requirement=(
            "Deepfake Detection Batch refuses a zero-byte upload; the pages disagree on 400 "
            f"`{DETAIL_EMPTY}` or the too-short 422."
        ),
        sources=(*sources, too_short),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="400-empty",
                summary="An empty upload is a bad request with the empty-file detail.",
                sources=sources,
                outcomes=(Acceptable(status=400, detail=DETAIL_EMPTY),),
                spec_literal=True,
            ),
            Alternative(
                key="422-too-short",
                summary="An empty upload has no audio, so it fails the 0.5 s minimum with 422.",
                sources=(too_short,),
                outcomes=(Acceptable(status=422, detail=DETAIL_TOO_SHORT),),
            ),
        ),
        preferred="400-empty",
        rationale=(
            "The spec gives the exact status and detail for an empty upload and the "
            "audio-formats page agrees, against a general remark on the troubleshooting page."
        ),
        contradiction=9,
        tags=("audio-validation", "deepfake"),
    )


def _undecodable(s: Surface) -> dict[str, Any]:
    if s is PII:
        return dict(
            requirement=(
                "PII/PHI Redaction Batch refuses a corrupt file under a supported extension as "
                "invalid input (400); its spec gives no detail string for this case."
            ),
            sources=(spec(s, "responses 400 (Invalid input)"),),
            tier=Tier.SHOULD,
            outcomes=(Acceptable(status=400, detail=DETAIL_UNPROCESSABLE), Acceptable(status=400)),
            tags=("audio-validation",),
        )
    status = 422 if s is SVD else 400
    # The example's key differs per file.
    example = {STT: "unprocessable_audio", VFAST: "unprocessable", SVD: "audio_unprocessable"}[s]
    return dict(
        requirement=(
            f"{NAME[s]} refuses bytes that cannot be decoded as the extension's format "
            f"(corrupt or mislabelled data) with {status} `{DETAIL_UNPROCESSABLE}`."
        ),
        sources=(
            spec(s, f"responses {status} ({example})"),
            *((FORMATS_ERRORS,) if s is VFAST else ()),
        ),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=status, detail=DETAIL_UNPROCESSABLE),),
        tags=("audio-validation",),
    )


_UPLOADS: tuple[Clause, ...] = (
    *per_surface("container-formats", BATCH, _container_formats),
    *per_surface(
        "unsupported-format",
        BATCH,
        lambda s: dict(
            requirement=(
                f"An upload whose extension {NAME[s]} does not list is refused with 400 and a "
                "detail naming the accepted extensions."
            ),
            sources=(
                spec(s, "responses 400 (invalid_format)"),
                src(TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format"),
                *((FORMATS_ERRORS,) if s is not PII else ()),
            ),
            tier=Tier.MUST,
            outcomes=(Acceptable(status=400, detail=UNSUPPORTED[s]),),
            tags=("audio-validation",),
        ),
    ),
    *per_surface("empty-file", BATCH, _empty_file),
    *per_surface("undecodable", BATCH, _undecodable),
    *per_surface(
        "missing-upload-file",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {NAME[s]}, a request without the `{UPLOAD_PART}` part fails validation with "
                "422 in FastAPI's shape."
            ),
            sources=(
                spec(s, f"requestBody (required `{UPLOAD_PART}`)"),
                spec(s, "responses 422"),
                src(SPEC[s], "components.schemas.HTTPValidationError"),
            ),
            tier=Tier.MUST,
            outcomes=(
                Acceptable(
                    status=422,
                    behaviour=f'{FASTAPI_422}; one `loc` ends with "{UPLOAD_PART}"',
                ),
            ),
            tags=("request-fields", "error-shape"),
        ),
    ),
    *per_surface(
        "bad-value",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {NAME[s]}, a request value that cannot be read (for instance a flag that is "
                f"not a boolean) is refused with 400 `{DETAIL_BAD_VALUE}`; FastAPI's 422 also "
                "fits the spec's validation rule."
                if s in (STT, PII)
                else f"When {NAME[s]} rejects a malformed request value it answers 400 "
                f"`{DETAIL_BAD_VALUE}`; the spec names no field that can trigger it."
            ),
            sources=(spec(s, "responses 400 (bad_value)"), spec(s, "responses 422")),
            tier=Tier.SHOULD if s in (STT, PII) else Tier.INFO,
            outcomes=(
                Acceptable(status=400, detail=DETAIL_BAD_VALUE),
                Acceptable(status=422, behaviour=FASTAPI_422),
            ),
            tags=("request-fields",),
        ),
    ),
    *per_surface(
        "short-audio",
        (STT, VFAST, PII),
        lambda s: dict(
            requirement=(
                f"{NAME[s]} has no minimum length: a very short clip is transcribed, possibly "
                "to an empty or near-empty text."
            ),
            sources=(src(FAQ_PAGE, "Is there a minimum audio length?"),),
            tier=Tier.INFO,
            outcomes=(Acceptable(status=200, behaviour="text may be empty or only a word or two"),),
            tags=("audio-validation",),
        ),
    ),
)

# --------------------------------------------------------------------------
# Server-side failures: 500, 502, 503, 504
# --------------------------------------------------------------------------

_SERVER: tuple[Clause, ...] = (
    *per_surface(
        "internal-error-500",
        BATCH,
        lambda s: dict(
            requirement=f"An internal failure on {NAME[s]} is reported as 500 with a fixed detail.",
            sources=(spec(s, "responses 500"),),
            tier=Tier.MUST,
            outcomes=documented(s, 500),
            tags=("server-error",),
        ),
    ),
    *per_surface(
        "bad-gateway-502",
        BATCH,
        lambda s: dict(
            requirement=(
                f"When {NAME[s]} cannot validate the request upstream"
                + (" or cannot complete it" if s is STT else "")
                + ", it answers 502 with the documented detail."
            ),
            sources=(spec(s, "responses 502"),),
            tier=Tier.MUST,
            outcomes=documented(s, 502),
            tags=("server-error",),
        ),
    ),
    *per_surface(
        "overloaded-503",
        BATCH,
        lambda s: dict(
            requirement=(
                f"When inference for {NAME[s]} is temporarily overloaded the request gets 503, "
                "and the same request can succeed later."
            ),
            sources=(
                src(TROUBLESHOOTING_PAGE, "503 Service Unavailable"),
                src(FAQ_PAGE, "What does a 503 response mean?"),
                *((spec(s, "responses 503"),) if s is VFAST else ()),
            ),
            tier=Tier.MUST,
            outcomes=documented(s, 503),
            tags=("overload",),
        ),
    ),
    *per_surface(
        "timeout-504",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {NAME[s]}, a request whose processing runs past "
                f"{BATCH_PROCESSING_TIMEOUT_S:g} s ends in 504, never in a late 200."
            ),
            sources=(
                src(TROUBLESHOOTING_PAGE, "504 Gateway Timeout"),
                src(FAQ_PAGE, "What does a 504 response mean?"),
                *(
                    (
                        src(
                            TROUBLESHOOTING_PAGE,
                            "STT Batch English VFast — silent 60-second timeout",
                        ),
                    )
                    if s is VFAST
                    else ()
                ),
                *((spec(s, "responses 504"),) if s in (VFAST, SVD) else ()),
            ),
            tier=Tier.MUST,
            outcomes=documented(s, 504),
            tags=("timeout",),
        ),
    ),
)

# --------------------------------------------------------------------------
# Responses common to every batch surface
# --------------------------------------------------------------------------

_RESPONSE_SCHEMA = {
    STT: "TranscriptionResponse",
    VFAST: "TranscriptionResponse",
    SVD: "DetectionAPIResponse",
    PII: "RedactionMetadata",
}

_COMMON_RESPONSES: tuple[Clause, ...] = (
    *per_surface(
        "duration-ms",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {NAME[s]}, the result's top-level `duration_ms` is a non-negative integer equal "
                "to the length of the submitted audio, in milliseconds."
            ),
            sources=(src(SPEC[s], f"components.schemas.{_RESPONSE_SCHEMA[s]}.duration_ms"),),
            tier=Tier.MUST,
            outcomes=(
                Acceptable(
                    status=200,
                    behaviour="`duration_ms` matches the decoded file length to within rounding",
                ),
            ),
            tags=("schema",),
        ),
    ),
)


CLAUSES: tuple[Clause, ...] = (*_UPLOADS, *_SERVER, *_COMMON_RESPONSES)
