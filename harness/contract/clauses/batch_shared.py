"""What the four Velma-2 batch clause modules share: surfaces, names, citations, helpers.

Data only: no I/O.
"""

from __future__ import annotations

from typing import Any

from ..model import Acceptable, Source, Surface, Tier
from ..sources import (
    AUDIO_FORMATS_PAGE,
    AUTH_PAGE,
    FAQ_PAGE,
    PII_BATCH_SPEC,
    STT_BATCH_SPEC,
    SVD_BATCH_SPEC,
    VFAST_SPEC,
    src,
)
from ..tables import (
    CONTAINER_FORMATS,
    DETAIL_INVALID_LANGUAGE_EXAMPLE,
    DETAIL_UNSUPPORTED_COMMON,
    DETAIL_UNSUPPORTED_SVD,
    INVALID_LANGUAGE_EXAMPLE,
    LANGUAGE_PATTERN,
    REST_STATUSES,
    REST_SURFACES,
    VELMA_PATHS,
)

STT = Surface.STT_BATCH
VFAST = Surface.VFAST_BATCH
SVD = Surface.SVD_BATCH
PII = Surface.PII_BATCH
BATCH: tuple[Surface, ...] = tuple(Surface(s) for s in REST_SURFACES)

SPEC = {STT: STT_BATCH_SPEC, VFAST: VFAST_SPEC, SVD: SVD_BATCH_SPEC, PII: PII_BATCH_SPEC}
NAME = {
    STT: "STT Batch",
    VFAST: "STT Batch English VFast",
    SVD: "Deepfake Detection Batch",
    PII: "PII/PHI Redaction Batch",
}
UNSUPPORTED = {
    STT: DETAIL_UNSUPPORTED_COMMON,
    VFAST: DETAIL_UNSUPPORTED_COMMON,
    SVD: DETAIL_UNSUPPORTED_SVD,
    PII: DETAIL_UNSUPPORTED_COMMON,
}


FASTAPI_422 = "FastAPI validation body: `detail` is a list of {`loc`, `msg`, `type`} objects"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def spec(s: Surface, section: str) -> Source:
    """A section of ``s``'s OpenAPI file, under its one operation."""
    return src(SPEC[s], f"POST {VELMA_PATHS[s]} {section}")


def documented(s: Surface, status: int) -> tuple[Acceptable, ...]:
    """``status`` with each `detail` string REST_STATUSES documents for ``s`` (else bare)."""
    details = (
        d for row in REST_STATUSES if (row.surface, row.status) == (s, status) for d in row.details
    )
    return tuple(Acceptable(status=status, detail=d) for d in dict.fromkeys(details)) or (
        Acceptable(status=status),
    )


def format_list(s: Surface) -> str:
    return ", ".join(f".{ext}" for ext in CONTAINER_FORMATS[s.value])


AUTH_TABLE = src(AUTH_PAGE, "Authentication error codes > HTTP endpoints")
SVD_403_NOTE = src(AUTH_PAGE, "Authentication error codes > HTTP endpoints (SVD Batch note)")


FAQ_TAG_VS_REDACT = src(FAQ_PAGE, "Models and capabilities > PII/PHI tagging vs PII/PHI redaction")
FORMATS_ERRORS = src(AUDIO_FORMATS_PAGE, "error table")

FLAG_DEFAULT_EFFECT = {
    "speaker_diarization": "each utterance carries a 1-based integer `speaker`, one per voice",
    "emotion_signal": "every utterance has `emotion: null`",
    "accent_signal": "every utterance has `accent: null`",
    "deepfake_signal": "every utterance has `deepfake_score: null`",
    "pii_phi_tagging": "utterance and top-level texts carry no PII/PHI tags",
}


def invalid_language(s: Surface, field: Source) -> dict[str, Any]:
    """The fields of ``<s>/invalid-language`` (stt-batch and pii-batch); ``field`` cites it."""
    return dict(
        requirement=(
            f"A `language` outside the pattern `{LANGUAGE_PATTERN}` (e.g. "
            f"`{INVALID_LANGUAGE_EXAMPLE}`) is refused with 400 and a detail quoting the value."
        ),
        sources=(spec(s, "responses 400 (invalid_language)"), field),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=400, detail=DETAIL_INVALID_LANGUAGE_EXAMPLE),),
        tags=("request-fields",),
    )


def speaker_distinct(s: Surface) -> dict[str, Any]:
    """The fields of ``<s>/speaker-distinct`` (stt-batch and pii-batch)."""
    return dict(
        requirement=(
            "With diarization on, different voices should get different `speaker` numbers. The "
            "spec says diarization tells speakers apart and shows numbers only by example "
            "(1, 2), so this is a recommendation; one number per voice is judged elsewhere."
        ),
        sources=(spec(s, "requestBody `speaker_diarization`"),),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(status=200, behaviour="two voices in one file get two numbers"),),
        tags=("request-fields",),
    )
