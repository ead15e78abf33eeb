"""Clauses of ``vfast-batch`` (English VFast) alone: the response."""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Clause, Tier
from ..sources import (
    VFAST_SPEC,
    src,
)
from .batch_shared import VFAST, spec

# --------------------------------------------------------------------------
# English VFast: response
# --------------------------------------------------------------------------

CLAUSES: tuple[Clause, ...] = (
    clause(
        id="vfast-batch/response-schema",
        surface=VFAST,
        requirement=(
            "A VFast 200 is one JSON object with a string `text` (empty when nothing was "
            "recognised) and an integer `duration_ms`."
        ),
        sources=(
            spec(VFAST, "responses 200"),
            src(VFAST_SPEC, "components.schemas.TranscriptionResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(status=200, behaviour="`text` and `duration_ms` present with those types"),
        ),
        tags=("schema",),
    ),
    clause(
        id="vfast-batch/transcript-only",
        surface=VFAST,
        requirement=(
            "VFast returns a bare transcript: no per-utterance list, speakers, emotion, accent "
            "or PII/PHI tags, and it takes no enrichment fields."
        ),
        sources=(
            src(VFAST_SPEC, "info.description"),
            src(VFAST_SPEC, "components.schemas.TranscriptionResponse (text, duration_ms only)"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=200,
                behaviour="no `utterances` key; sending `speaker_diarization=true` adds nothing",
            ),
        ),
        tags=("schema",),
    ),
    clause(
        id="vfast-batch/cased-punctuated",
        surface=VFAST,
        requirement="VFast's English transcript comes with capitalisation and punctuation.",
        sources=(
            src(VFAST_SPEC, "info.description"),
            src(VFAST_SPEC, "components.schemas.TranscriptionResponse.text"),
        ),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(status=200, behaviour="`text` is not all lower case and has punctuation"),
        ),
        tags=("schema",),
    ),
)
