"""Clauses of ``pii-stream`` (PII/PHI redaction streaming) alone: utterance and MP3 pairs, padding, markers."""

from __future__ import annotations

from .. import sources as S
from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import src
from ..tables import (
    PII_END_PADDING_MS_DEFAULT,
    PII_START_PADDING_MS_DEFAULT,
)
from .stream_shared import (
    FAQ_MODELS,
    FAQ_TAG_VS_REDACT,
    PII,
    closes,
    err,
    flow,
    msg,
    query,
    spec,
    utterance_uuid,
)

# --------------------------------------------------------------------------
# PII/PHI redaction streaming: utterance + MP3 pairs, padding, markers
# --------------------------------------------------------------------------

_PII_UTT_MSG = spec(PII, "components.messages.UtteranceResult")
_PII_UTT = spec(PII, "components.schemas.StreamingUtterance")
_PII_CLIP = spec(PII, "components.messages.RedactedAudioClip")
_PII_DONE = msg(PII, "done")
_PII_TRAIL = spec(PII, "components.messages.TrailingAudioClip")
_PII_INFO = spec(PII, "components.schemas.RedactedAudioInfo")


CLAUSES: tuple[Clause, ...] = (
    clause(
        id="pii-stream/utterance-shape",
        surface=PII,
        requirement=(
            'A finished utterance arrives as `{"type": "utterance", "utterance": {...}, '
            '"redacted_audio": {...} | null}`; the utterance has utterance_uuid, text, start_ms, '
            "duration_ms, speaker and language."
        ),
        sources=(_PII_UTT_MSG, _PII_UTT),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance", behaviour="validates against schemas_stream PII utterance"
            ),
        ),
        tags=("schema", "pii"),
    ),
    clause(
        id="pii-stream/utterance-uuid",
        surface=PII,
        **utterance_uuid(PII),
    ),
    clause(
        id="pii-stream/language-detected",
        surface=PII,
        requirement="Without a hint, each utterance carries its own detected language code.",
        sources=(_PII_UTT, query(PII, "language")),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="utterance", behaviour="language is a non-empty code such as 'en'"),
        ),
        tags=("schema",),
    ),
    clause(
        id="pii-stream/audio-follows-utterance",
        surface=PII,
        requirement=(
            "An utterance whose `redacted_audio` is not null is followed immediately by exactly one "
            "binary frame holding that window's redacted audio as MP3."
        ),
        sources=(_PII_UTT_MSG, _PII_CLIP, flow(PII), FAQ_MODELS),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour="next frame is binary and decodes as MP3 (audio/mpeg); then a text frame",
            ),
        ),
        tags=("pii", "protocol"),
    ),
    clause(
        id="pii-stream/no-audio-when-null",
        surface=PII,
        requirement=(
            "An utterance whose audio was already sent (out of order) has `redacted_audio` null and "
            "no binary frame after it."
        ),
        sources=(_PII_UTT_MSG,),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance", behaviour="redacted_audio null and the next frame is text"
            ),
        ),
        tags=("pii", "protocol"),
    ),
    clause(
        id="pii-stream/clip-window",
        surface=PII,
        requirement=(
            "`redacted_audio.start_ms`/`duration_ms` describe the clip that follows: it runs from "
            "where the previous clip ended to the end of this utterance, so clips tile the stream."
        ),
        sources=(_PII_UTT_MSG, _PII_INFO),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour="each clip starts where the last ended (first at 0); MP3 length ~ duration_ms",
            ),
        ),
        tags=("pii", "schema"),
    ),
    clause(
        id="pii-stream/done-shape",
        surface=PII,
        requirement=(
            'PII streaming finishes with `{"type": "done", "duration_ms": <int>, '
            '"trailing_redacted_audio": {...} | null}`, all three fields present.'
        ),
        sources=(_PII_DONE,),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="done", behaviour="validates against schemas_stream PII done"),
        ),
        tags=("schema", "end-of-stream", "pii"),
    ),
    clause(
        id="pii-stream/trailing-audio",
        surface=PII,
        requirement=(
            "When `trailing_redacted_audio` is not null, exactly one binary MP3 frame with the audio "
            "after the last utterance follows `done`; when null, nothing follows before close 1000."
        ),
        sources=(_PII_DONE, _PII_TRAIL),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                close_code=1000,
                message="done",
                behaviour="zero or one MP3 frame after done, matching trailing_redacted_audio",
            ),
        ),
        tags=("pii", "end-of-stream"),
    ),
    clause(
        id="pii-stream/redaction-markers",
        surface=PII,
        requirement=(
            "Each PII/PHI span in the utterance `text` is replaced by a marker, the rest of the "
            "text being kept; the documents disagree on the marker's form."
        ),
        sources=(_PII_UTT, FAQ_TAG_VS_REDACT),
        tier=Tier.MUST,
        tags=("pii", "schema"),
        alternatives=(
            Alternative(
                "marker-tags",
                "Empty marker tags: `<pii:CATEGORY></pii:CATEGORY>` for personal data, "
                "`<phi></phi>` for health data.",
                (
                    _PII_UTT,
                    _PII_UTT_MSG,
                    src(S.PII_BATCH_SPEC, "components.schemas.Utterance.text"),
                ),
                (
                    Acceptable(
                        message="utterance",
                        behaviour="spans appear as <pii:name></pii:name> or <phi></phi>",
                    ),
                ),
                spec_literal=True,
            ),
            Alternative(
                "entity-tags",
                "Bracketed entity-type tags such as `[FIRSTNAME]`, `[SSN]`, `[PHI]`.",
                (FAQ_TAG_VS_REDACT,),
                (
                    Acceptable(
                        message="utterance",
                        behaviour="spans appear as [FIRSTNAME], [SSN], [PHI]",
                    ),
                ),
            ),
        ),
        preferred="marker-tags",
        rationale="The PII streaming spec describes the text field's markers exactly and shows them in its example, where the FAQ only gives illustrative tags.",
        contradiction=11,
    ),
    clause(
        id="pii-stream/redaction-ranges",
        surface=PII,
        requirement=(
            "In the MP3 clips, the audio under every detected PII/PHI span is silenced, the silence "
            "starting `start_redaction_padding_ms` earlier and ending `end_redaction_padding_ms` "
            "later than the span; the rest of the audio is kept."
        ),
        sources=(
            query(PII, "start_redaction_padding_ms"),
            query(PII, "end_redaction_padding_ms"),
            spec(PII, "info.description"),
            FAQ_TAG_VS_REDACT,
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour="silence in the clip covers [span_start - start_pad, span_end + end_pad]; non-PII speech audible"
            ),
        ),
        tags=("pii",),
    ),
    clause(
        id="pii-stream/redaction-padding",
        surface=PII,
        requirement=(
            f"`start_redaction_padding_ms` defaults to {PII_START_PADDING_MS_DEFAULT} and "
            f"`end_redaction_padding_ms` to {PII_END_PADDING_MS_DEFAULT}; both take integers >= 0."
        ),
        sources=(
            query(PII, "start_redaction_padding_ms"),
            query(PII, "end_redaction_padding_ms"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour="without the parameters the silence begins 100 ms before a span and ends at its end"
            ),
        ),
        tags=("pii", "query-params"),
    ),
    clause(
        id="pii-stream/redaction-padding-invalid",
        surface=PII,
        requirement=(
            "A negative or non-integer padding value breaks the parameter schema and should be "
            "rejected like any invalid connection parameter."
        ),
        sources=(query(PII, "start_redaction_padding_ms"), closes(PII)),
        tier=Tier.SHOULD,
        outcomes=(err(1003),),
        tags=("pii", "query-params", "close-code"),
    ),
)
