"""Clauses of ``pii-batch`` (PII/PHI redaction batch) alone: request, multipart response, redaction."""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import (
    PII_BATCH_SPEC,
    src,
)
from ..tables import (
    DETAIL_BAD_VALUE,
    FAQ_REDACTION_TAGS,
    PHI_MARKER,
    PII_END_PADDING_MS_DEFAULT,
    PII_MARKER_EXAMPLE,
    PII_MARKER_TEMPLATE,
    PII_METADATA_FIELDS,
    PII_RESPONSE_PARTS,
    PII_START_PADDING_MS_DEFAULT,
    PII_UTTERANCE_FIELDS,
)
from .batch_shared import (
    FAQ_TAG_VS_REDACT,
    FASTAPI_422,
    FLAG_DEFAULT_EFFECT,
    PII,
    invalid_language,
    speaker_distinct,
    spec,
)

# --------------------------------------------------------------------------
# PII/PHI redaction batch: request, multipart response, redaction
# --------------------------------------------------------------------------

_META = "components.schemas.RedactionMetadata"

CLAUSES: tuple[Clause, ...] = (
    clause(
        id="pii-batch/speaker-diarization-default",
        surface=PII,
        requirement="Leaving out `speaker_diarization` behaves as `speaker_diarization=true`.",
        sources=(spec(PII, "requestBody `speaker_diarization` default true"),),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour=FLAG_DEFAULT_EFFECT["speaker_diarization"]),),
        tags=("request-fields",),
    ),
    clause(id="pii-batch/speaker-distinct", surface=PII, **speaker_distinct(PII)),
    clause(
        id="pii-batch/padding-defaults",
        surface=PII,
        requirement=(
            f"Silencing starts `start_redaction_padding_ms` (default {PII_START_PADDING_MS_DEFAULT}) "
            f"before and ends `end_redaction_padding_ms` (default {PII_END_PADDING_MS_DEFAULT}) "
            "after each detected span."
        ),
        sources=(
            spec(PII, "requestBody `start_redaction_padding_ms`"),
            spec(PII, "requestBody `end_redaction_padding_ms`"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    f"with the defaults each range begins {PII_START_PADDING_MS_DEFAULT} ms before "
                    "its span and ends with it; other values move the edges by that much"
                ),
            ),
        ),
        tags=("request-fields", "pii"),
    ),
    clause(
        id="pii-batch/padding-negative",
        surface=PII,
        requirement="A negative redaction padding is refused as a malformed value.",
        sources=(
            spec(PII, "requestBody `start_redaction_padding_ms` minimum 0"),
            spec(PII, "responses 400 (bad_value)"),
            spec(PII, "responses 422"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(status=400, detail=DETAIL_BAD_VALUE),
            Acceptable(status=422, behaviour=FASTAPI_422),
        ),
        tags=("request-fields", "pii"),
    ),
    clause(
        id="pii-batch/language-hint",
        surface=PII,
        requirement=(
            "An optional `language` hint is accepted as an ISO 639-1 code in any letter case, "
            "BCP 47 subtags allowed; without it each utterance's language is detected."
        ),
        sources=(spec(PII, "requestBody `language`"),),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour="`en`, `EN` and `en-US` are all accepted"),),
        tags=("request-fields",),
    ),
    clause(
        id="pii-batch/invalid-language",
        surface=PII,
        **invalid_language(PII, spec(PII, "requestBody `language`")),
    ),
    clause(
        id="pii-batch/multipart-response",
        surface=PII,
        requirement=(
            "A 200 is a `multipart/form-data` body with a `metadata` part holding JSON and an "
            "`audio` part holding the redacted recording as MP3."
        ),
        sources=(
            src(PII_BATCH_SPEC, "info.description — Response Format"),
            spec(PII, "responses 200"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    f"parts {PII_RESPONSE_PARTS}: `metadata` parses as JSON, `audio` decodes "
                    "as MP3 of about `duration_ms`"
                ),
            ),
        ),
        tags=("schema", "pii"),
    ),
    clause(
        id="pii-batch/errors-json",
        surface=PII,
        requirement="Unlike its multipart success, every PII batch error is a JSON body.",
        sources=(spec(PII, "responses 400/403/422/429/500/502 (application/json)"),),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="non-200 responses have `Content-Type: application/json`"),),
        tags=("error-shape", "pii"),
    ),
    clause(
        id="pii-batch/metadata-schema",
        surface=PII,
        requirement=(
            f"The `metadata` JSON has {', '.join(f'`{f}`' for f in PII_METADATA_FIELDS)}; each "
            f"utterance has {', '.join(f'`{f}`' for f in PII_UTTERANCE_FIELDS)} and no signals."
        ),
        sources=(src(PII_BATCH_SPEC, _META), src(PII_BATCH_SPEC, "components.schemas.Utterance")),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour="required keys present with the spec's types; utterances by ascending `start_ms`",
            ),
        ),
        tags=("schema", "pii"),
    ),
    clause(
        id="pii-batch/redaction-text",
        surface=PII,
        requirement=(
            "Each PII/PHI span in the transcript is replaced by a marker and the words around "
            "it are kept; the documents disagree on the marker's form."
        ),
        sources=(
            src(PII_BATCH_SPEC, f"{_META}.text"),
            FAQ_TAG_VS_REDACT,
        ),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="empty-markers",
                summary=(
                    f"Spans become empty tags, `{PII_MARKER_TEMPLATE}` for personal data and "
                    f"`{PHI_MARKER}` for health data."
                ),
                sources=(
                    src(PII_BATCH_SPEC, f"{_META}.text"),
                    src(PII_BATCH_SPEC, "components.schemas.Utterance.text"),
                    spec(PII, "responses 200 (redacted example)"),
                ),
                outcomes=(
                    Acceptable(
                        status=200,
                        behaviour=(
                            f"e.g. `{PII_MARKER_EXAMPLE}`; the redacted words never appear in "
                            "`text` or an utterance's `text`"
                        ),
                    ),
                ),
                spec_literal=True,
            ),
            Alternative(
                key="bracket-tags",
                summary=f"Spans become entity-type tags such as {', '.join(FAQ_REDACTION_TAGS)}.",
                sources=(FAQ_TAG_VS_REDACT,),
                outcomes=(
                    Acceptable(
                        status=200,
                        behaviour="e.g. `Hello, my name is [FIRSTNAME].`; the redacted words are gone",
                    ),
                ),
            ),
        ),
        preferred="empty-markers",
        rationale=(
            "The spec states the marker syntax for this wire field and shows it in its example; "
            "the FAQ's tags are an illustrative aside."
        ),
        contradiction=11,
        tags=("pii",),
    ),
    clause(
        id="pii-batch/redaction-ranges",
        surface=PII,
        requirement=(
            "`redaction_ranges` lists the final silenced stretches as [start_ms, end_ms] integer "
            "pairs, already padded and with overlapping stretches merged."
        ),
        sources=(
            src(PII_BATCH_SPEC, f"{_META}.redaction_ranges"),
            spec(PII, "requestBody (padding fields)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    "each item is two integers with start < end; items are ascending and no two "
                    "overlap; each covers a redacted span widened by the paddings"
                ),
            ),
        ),
        tags=("pii",),
    ),
    clause(
        id="pii-batch/silenced-audio",
        surface=PII,
        requirement=(
            "In the returned MP3 every `redaction_ranges` stretch is silent, and the audio "
            "outside them is kept."
        ),
        sources=(
            src(PII_BATCH_SPEC, "info.description"),
            spec(PII, "responses 200 `audio`"),
            src(PII_BATCH_SPEC, f"{_META}.redaction_ranges"),
            FAQ_TAG_VS_REDACT,
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    "decoded audio is near-silent inside each range and keeps the input's "
                    "energy outside (allowing for MP3 coding)"
                ),
            ),
        ),
        tags=("pii",),
    ),
)
