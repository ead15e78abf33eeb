"""Clauses of ``stt-stream`` alone: configuration frame, utterances, partials, signals.

Shared streaming topics: ``stream_access``, ``stream_query``, ``stream_protocol``.
"""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import STT_GUIDE, src
from ..tables import (
    CUSTOM_TERM_DEFINITION_MAX_CHARS,
    CUSTOM_TERM_MAX_PRONUNCIATIONS,
    CUSTOM_TERM_PRONUNCIATION_MAX_CHARS,
    CUSTOM_TERMS_MAX_ENTRIES,
    CUSTOM_TERMS_MAX_JSON_CHARS,
    DETAIL_INVALID_CONFIG,
    STT_DEEPFAKE_SCORE_MIN_UTTERANCE_S,
)
from .stream_shared import (
    CHANNEL,
    FAQ_ENRICH,
    FAQ_EOS,
    FAQ_PARTIALS,
    FAQ_TAG_VS_REDACT,
    STT,
    closes,
    err,
    flow,
    msg,
    query,
    spec,
    utterance_uuid,
)

# --------------------------------------------------------------------------
# STT streaming: config frame, utterances, partials, enrichment signals
# --------------------------------------------------------------------------

_CFG = spec(STT, "components.messages.ConfigFrame")
_CFG_SCHEMA = spec(STT, "components.schemas.STTStreamConfig")
_CFG_TERM = spec(STT, "components.schemas.CustomTerm")
_STT_UTT = spec(STT, "components.schemas.StreamingUtterance")
_STT_PARTIAL = spec(STT, "components.schemas.PartialUtterance")
_STT_FLOW = flow(STT)


_CFG_TAGS = ("config-frame", "protocol")


CLAUSES: tuple[Clause, ...] = (
    clause(
        id="stt-stream/config-frame",
        surface=STT,
        requirement=(
            "The client may send one JSON configuration as its first, text, frame; if the first "
            "frame is binary it counts as audio and the query parameters apply unchanged."
        ),
        sources=(_CFG, _STT_FLOW),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour="streams opened with and without a config frame both work",
            ),
        ),
        tags=_CFG_TAGS,
    ),
    clause(
        id="stt-stream/config-frame-overrides",
        surface=STT,
        requirement=(
            "A field present in the configuration frame wins over the query parameter of the same "
            "name; fields left out keep the query (or default) value."
        ),
        sources=(_CFG, _CFG_SCHEMA),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour='?emotion_signal=false plus {"emotion_signal": true} gives non-null emotion',
            ),
        ),
        tags=_CFG_TAGS,
    ),
    clause(
        id="stt-stream/config-frame-fields",
        surface=STT,
        requirement=(
            "The configuration frame takes only optional fields: six booleans (speaker_diarization, "
            "emotion_signal, accent_signal, deepfake_signal, pii_phi_tagging, partial_results), "
            "`language` (pattern or null) and `custom_terms` (null or a list)."
        ),
        sources=(_CFG_SCHEMA,),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour="{} and any subset of these fields with valid values are accepted"
            ),
        ),
        tags=("config-frame", "schema"),
    ),
    clause(
        id="stt-stream/config-frame-invalid",
        surface=STT,
        requirement=(
            "A first text frame that is not valid JSON, or holds a value outside the configuration "
            'schema, gets `error` "Invalid configuration." and close 1003.'
        ),
        sources=(closes(STT), msg(STT, "error"), _CFG),
        tier=Tier.MUST,
        outcomes=(err(1003, DETAIL_INVALID_CONFIG),),
        tags=("config-frame", "close-code"),
    ),
    clause(
        id="stt-stream/custom-terms-limits",
        surface=STT,
        requirement=(
            f"`custom_terms` holds at most {CUSTOM_TERMS_MAX_ENTRIES} entries whose term strings, "
            f"serialised together as JSON, stay under {CUSTOM_TERMS_MAX_JSON_CHARS} characters; each "
            "entry is a string or an object with a non-empty `term`, an optional `definition` of "
            f"at most {CUSTOM_TERM_DEFINITION_MAX_CHARS} characters and at most "
            f"{CUSTOM_TERM_MAX_PRONUNCIATIONS} `pronunciations` of at most "
            f"{CUSTOM_TERM_PRONUNCIATION_MAX_CHARS} characters. Beyond these it is an invalid configuration."
        ),
        sources=(_CFG_SCHEMA, _CFG_TERM, closes(STT)),
        tier=Tier.MUST,
        outcomes=(
            err(1003, DETAIL_INVALID_CONFIG, "for 1001 entries, or a 257-character definition"),
        ),
        tags=("config-frame", "close-code"),
    ),
    clause(
        id="stt-stream/custom-terms-blank-dropped",
        surface=STT,
        requirement=(
            "Blank terms and blank pronunciations in `custom_terms` are silently dropped, not "
            "rejected; null or an absent list means no biasing."
        ),
        sources=(_CFG_SCHEMA,),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance", behaviour="a list with a blank string entry is accepted"
            ),
        ),
        tags=("config-frame",),
    ),
    clause(
        id="stt-stream/config-frame-empty-first",
        surface=STT,
        requirement=(
            "An empty text frame sent first is both a (malformed) configuration and the "
            "end-of-stream signal; the documents do not say which reading wins."
        ),
        sources=(_CFG, msg(STT, "eos"), FAQ_EOS),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(close_code=1000, message="done", behaviour="done with duration_ms 0"),
            err(1003, DETAIL_INVALID_CONFIG),
        ),
        tags=("config-frame", "end-of-stream"),
    ),
    clause(
        id="stt-stream/config-frame-unknown-field",
        surface=STT,
        requirement=(
            "The configuration schema does not forbid extra properties, yet invalid configuration "
            "is rejected; whether an unknown field is ignored or refused is left open."
        ),
        sources=(_CFG_SCHEMA, closes(STT)),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(behaviour="unknown field ignored, stream proceeds"),
            err(1003, DETAIL_INVALID_CONFIG),
        ),
        tags=("config-frame",),
    ),
    clause(
        id="stt-stream/late-text-frame",
        surface=STT,
        requirement=(
            "A non-empty text frame after audio has started is neither a configuration nor the "
            "end signal; the documents leave its handling open."
        ),
        sources=(_CFG, msg(STT, "eos")),
        tier=Tier.INFO,
        outcomes=(Acceptable(behaviour="ignored, stream proceeds"), err(1003)),
        tags=_CFG_TAGS,
    ),
    clause(
        id="stt-stream/utterance-shape",
        surface=STT,
        requirement=(
            'A finished utterance arrives as `{"type": "utterance", "utterance": {...}}` with all of '
            "utterance_uuid, text (possibly empty), start_ms, duration_ms, speaker, language, "
            "emotion, accent and deepfake_score present."
        ),
        sources=(spec(STT, "components.messages.UtteranceResult"), _STT_UTT),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance", behaviour="validates against schemas_stream STT utterance"
            ),
        ),
        tags=("schema",),
    ),
    clause(
        id="stt-stream/utterance-timing",
        surface=STT,
        requirement=(
            "Utterance timing is given relative to the start of the stream, in milliseconds; the "
            "documents disagree on the field names."
        ),
        sources=(_STT_UTT,),
        tier=Tier.MUST,
        tags=("schema",),
        alternatives=(
            Alternative(
                "start-duration",
                "`start_ms` and `duration_ms` (integers >= 0); the end is their sum.",
                (_STT_UTT, spec(STT, "components.messages.UtteranceResult examples")),
                (
                    Acceptable(
                        message="utterance",
                        behaviour="integer start_ms and duration_ms present; no end_ms needed",
                    ),
                ),
                spec_literal=True,
            ),
            Alternative(
                "end-ms",
                "Some integration guides read an `end_ms` field on each utterance.",
                (src(STT_GUIDE, "example utterance with `end_ms`"),),
                (Acceptable(message="utterance", behaviour="start_ms and end_ms present"),),
            ),
        ),
        preferred="start-duration",
        rationale="The STT AsyncAPI schema lists `start_ms` and `duration_ms` as required and has no `end_ms`, and it is the machine-readable source for wire shapes.",
        contradiction=12,
    ),
    clause(
        id="stt-stream/utterance-uuid",
        surface=STT,
        **utterance_uuid(STT),
    ),
    clause(
        id="stt-stream/language-detected",
        surface=STT,
        requirement=(
            "Without a hint, each utterance carries its own detected language code; consecutive "
            "utterances may report different languages."
        ),
        sources=(spec(STT, f"channels.{CHANNEL[STT]} description"), _STT_UTT),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="utterance", behaviour="language is a non-empty code such as 'en'"),
        ),
        tags=("schema",),
    ),
    clause(
        id="stt-stream/emotion-signal",
        surface=STT,
        requirement=(
            "`emotion_signal` is off by default and `emotion` is then null; when on, `emotion` holds "
            "a label of the speaker's tone (e.g. Neutral, Frustrated)."
        ),
        sources=(query(STT, "emotion_signal"), _STT_UTT, FAQ_ENRICH),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="utterance", behaviour="emotion null when off; a string when on"),
        ),
        tags=("query-params", "schema"),
    ),
    clause(
        id="stt-stream/accent-signal",
        surface=STT,
        requirement=(
            "`accent_signal` is off by default and `accent` is then null; when on, `accent` holds a "
            "label such as American or British."
        ),
        sources=(query(STT, "accent_signal"), _STT_UTT, FAQ_ENRICH),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="utterance", behaviour="accent null when off; a string when on"),
        ),
        tags=("query-params", "schema"),
    ),
    clause(
        id="stt-stream/deepfake-signal",
        surface=STT,
        requirement=(
            "`deepfake_signal` is off by default and `deepfake_score` is then null; when on, it is "
            "a number from 0.0 (natural) to 1.0 (synthetic)."
        ),
        sources=(query(STT, "deepfake_signal"), _STT_UTT, FAQ_ENRICH),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour="deepfake_score null when off; 0 <= score <= 1 when on",
            ),
        ),
        tags=("query-params", "schema", "deepfake"),
    ),
    clause(
        id="stt-stream/deepfake-score-short",
        surface=STT,
        requirement=(
            f"Even with `deepfake_signal` on, an utterance shorter than "
            f"{STT_DEEPFAKE_SCORE_MIN_UTTERANCE_S} s has `deepfake_score` null."
        ),
        sources=(_STT_UTT,),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour="duration_ms < 500 implies deepfake_score is null",
            ),
        ),
        tags=("deepfake", "schema"),
    ),
    clause(
        id="stt-stream/pii-phi-tagging",
        surface=STT,
        requirement=(
            "`pii_phi_tagging` is off by default; when on, PII/PHI spans in `text` are wrapped in "
            "tags while the words themselves are kept (the tag syntax is not documented)."
        ),
        sources=(query(STT, "pii_phi_tagging"), _STT_UTT, FAQ_TAG_VS_REDACT, FAQ_ENRICH),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour="with tagging on, the spoken PII words still appear in text, inside tags",
            ),
        ),
        tags=("pii", "query-params"),
    ),
    clause(
        id="stt-stream/partials-off-by-default",
        surface=STT,
        requirement=(
            "Without `partial_results=true` (query or configuration frame) the server sends no "
            "`partial_utterance` messages."
        ),
        sources=(query(STT, "partial_results"), FAQ_PARTIALS),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="no message with type partial_utterance"),),
        tags=("partials",),
    ),
    clause(
        id="stt-stream/partial-utterance",
        surface=STT,
        requirement=(
            "With `partial_results=true` the server may send interim "
            '`{"type": "partial_utterance", "partial_utterance": {...}}` messages before an '
            "utterance is final; text is always present, start_ms and speaker may be null."
        ),
        sources=(
            query(STT, "partial_results"),
            spec(STT, "components.messages.PartialUtteranceResult"),
            _STT_PARTIAL,
            FAQ_PARTIALS,
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="partial_utterance",
                behaviour="validates against schemas_stream STT partial_utterance",
            ),
        ),
        tags=("partials", "schema"),
    ),
    clause(
        id="stt-stream/partial-superseded",
        surface=STT,
        requirement=(
            "Each partial replaces the one before it, and the final `utterance` replaces all partials "
            "of its segment; no partial arrives after `done`."
        ),
        sources=(query(STT, "partial_results"), _STT_PARTIAL, FAQ_PARTIALS),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="utterance",
                behaviour="a run of partials ends with an utterance; none follows done",
            ),
        ),
        tags=("partials",),
    ),
    clause(
        id="stt-stream/partial-signals",
        surface=STT,
        requirement=(
            "Each partial reports the current interim emotion, accent and deepfake_score for the "
            "signals switched on; a signal that is off or not yet known is null."
        ),
        sources=(query(STT, "partial_results"), _STT_PARTIAL),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                message="partial_utterance",
                behaviour="signal fields present; null when the signal is off",
            ),
        ),
        tags=("partials", "schema", "deepfake"),
    ),
    clause(
        id="stt-stream/done-shape",
        surface=STT,
        requirement='STT streaming finishes with `{"type": "done", "duration_ms": <int >= 0>}`.',
        sources=(msg(STT, "done"),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="done", behaviour="validates against schemas_stream STT done"),
        ),
        tags=("schema", "end-of-stream"),
    ),
)
