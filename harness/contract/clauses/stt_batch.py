"""Clauses of ``stt-batch`` (multilingual STT batch) alone: request fields and the response.

Shared batch topics: ``batch_access`` and ``batch_uploads``.
"""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import (
    FAQ_PAGE,
    STT_BATCH_SPEC,
    STT_GUIDE,
    src,
)
from ..tables import (
    ACCENT_LABELS,
    CUSTOM_TERM_DEFINITION_MAX_CHARS,
    CUSTOM_TERM_MAX_PRONUNCIATIONS,
    CUSTOM_TERM_PRONUNCIATION_MAX_CHARS,
    CUSTOM_TERMS_MAX_ENTRIES,
    CUSTOM_TERMS_MAX_JSON_CHARS,
    DETAIL_INVALID_CONFIG,
    EMOTION_LABELS,
    STT_BATCH_FLAG_DEFAULTS,
    STT_UTTERANCE_FIELDS,
)
from .batch_shared import (
    FAQ_TAG_VS_REDACT,
    FASTAPI_422,
    FLAG_DEFAULT_EFFECT,
    STT,
    invalid_language,
    speaker_distinct,
    spec,
)

# --------------------------------------------------------------------------
# STT Batch (multilingual): request fields and response
# --------------------------------------------------------------------------


_FLAG_ON_EFFECT = {
    "emotion_signal": (
        "`emotion`",
        "every utterance has a string `emotion` label",
    ),
    "accent_signal": (
        "`accent`",
        "every utterance has a string `accent` label",
    ),
    "deepfake_signal": (
        "`deepfake_score`",
        "`deepfake_score` is a number in [0, 1] (0 natural, 1 synthetic), or null for an "
        "utterance that could not be scored",
    ),
}


def _flag_default(flag: str) -> Clause:
    default = STT_BATCH_FLAG_DEFAULTS[flag]
    return clause(
        id=f"stt-batch/{flag.replace('_', '-')}-default",
        surface=STT,
        requirement=(f"Leaving out `{flag}` behaves as `{flag}={str(default).lower()}`."),
        sources=(
            spec(STT, f"requestBody `{flag}` default {str(default).lower()}"),
            src(FAQ_PAGE, "Models and capabilities > parameter table"),
        ),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour=FLAG_DEFAULT_EFFECT[flag]),),
        tags=("request-fields", *(("pii",) if flag == "pii_phi_tagging" else ())),
    )


def _flag_on(flag: str) -> Clause:
    field_name, effect = _FLAG_ON_EFFECT[flag]
    return clause(
        id=f"stt-batch/{flag.replace('_', '-')}",
        surface=STT,
        requirement=f"With `{flag}=true`, each utterance's {field_name} is filled in.",
        sources=(
            spec(STT, f"requestBody `{flag}`"),
            src(STT_BATCH_SPEC, f"components.schemas.Utterance.{field_name.strip('`')}"),
        ),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour=effect),),
        tags=("request-fields", *(("deepfake",) if flag == "deepfake_signal" else ())),
    )


CLAUSES: tuple[Clause, ...] = (
    *(_flag_default(f) for f in STT_BATCH_FLAG_DEFAULTS),
    *(_flag_on(f) for f in _FLAG_ON_EFFECT),
    clause(id="stt-batch/speaker-distinct", surface=STT, **speaker_distinct(STT)),
    clause(
        id="stt-batch/speaker-numbering",
        surface=STT,
        requirement=(
            "`speaker` numbers start at 1 and stay the same for one voice throughout a file; "
            "they carry no meaning across files."
        ),
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.speaker"),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour="speakers are integers >= 1; one voice keeps one number within the file",
            ),
        ),
        tags=("request-fields",),
    ),
    clause(
        id="stt-batch/emotion-labels",
        surface=STT,
        requirement="An `emotion` label is one of the spec's documented emotions.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.emotion (possible values)"),),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=200, behaviour=f"`emotion` in {', '.join(EMOTION_LABELS)}"),),
        tags=("schema",),
    ),
    clause(
        id="stt-batch/accent-labels",
        surface=STT,
        requirement="An `accent` label is one of the spec's documented accents.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.accent (possible values)"),),
        tier=Tier.INFO,
        outcomes=(Acceptable(status=200, behaviour=f"`accent` in {', '.join(ACCENT_LABELS)}"),),
        tags=("schema",),
    ),
    clause(
        id="stt-batch/pii-phi-tagging",
        surface=STT,
        requirement=(
            "With `pii_phi_tagging=true`, detected PII/PHI in the transcript is enclosed in tags "
            "while the spoken words themselves stay in the text (tagging, not redaction)."
        ),
        sources=(
            spec(STT, "requestBody `pii_phi_tagging`"),
            FAQ_TAG_VS_REDACT,
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    "a spoken name or number still appears in `text`, surrounded by a tag; the "
                    "tag syntax itself is not documented for STT"
                ),
            ),
        ),
        tags=("request-fields", "pii"),
    ),
    clause(
        id="stt-batch/language-hint",
        surface=STT,
        requirement=(
            "An optional `language` hint is accepted as an ISO 639-1 code in any letter case, "
            "with BCP 47 subtags allowed (only the primary subtag counts); without it each "
            "utterance's language is detected on its own."
        ),
        sources=(
            spec(STT, "requestBody `language`"),
            src(STT_BATCH_SPEC, "components.schemas.Utterance.language"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour="`en`, `EN`, `en-US` and `en_US` are all accepted as the same hint",
            ),
        ),
        tags=("request-fields",),
    ),
    clause(
        id="stt-batch/code-switching",
        surface=STT,
        requirement=(
            "With no language hint, utterances in one file may report different `language` "
            'codes when the speakers switch languages. The spec says "may", so whether a '
            "switch is identified is recorded, not judged."
        ),
        sources=(spec(STT, "description"), spec(STT, "responses 200 (multilingual example)")),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(
                status=200,
                behaviour="a file with English then French speech yields utterances `en` then `fr`",
            ),
            Acceptable(status=200, behaviour="one language is reported for the whole file"),
        ),
        tags=("request-fields",),
    ),
    clause(
        id="stt-batch/config-override",
        surface=STT,
        requirement=(
            "A JSON `config` form field overrides each top-level form field it names; form "
            "fields it leaves out keep their own value or default."
        ),
        sources=(
            spec(STT, "requestBody `config`"),
            src(STT_BATCH_SPEC, "components.schemas.STTConfig"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    'form `emotion_signal=false` with config `{"emotion_signal": true}` gives '
                    "emotion labels; config `{}` changes nothing"
                ),
            ),
        ),
        tags=("request-fields",),
    ),
    clause(
        id="stt-batch/invalid-config",
        surface=STT,
        requirement=(
            f"A `config` that is not JSON or does not fit STTConfig is refused with 400 "
            f"`{DETAIL_INVALID_CONFIG}`."
        ),
        sources=(spec(STT, "responses 400 (invalid_config)"),),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=400, detail=DETAIL_INVALID_CONFIG),),
        tags=("request-fields",),
    ),
    clause(
        id="stt-batch/custom-terms",
        surface=STT,
        requirement=(
            "`config.custom_terms` takes plain strings or {term, definition, pronunciations} "
            "objects; a blank string term or blank pronunciation is dropped without an error (an object with an empty `term` breaks the schema minimum)."
        ),
        sources=(
            src(STT_BATCH_SPEC, "components.schemas.STTConfig.custom_terms"),
            src(STT_BATCH_SPEC, "components.schemas.CustomTerm"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(status=200, behaviour="a list mixing strings, objects and blanks succeeds"),
        ),
        tags=("request-fields",),
    ),
    clause(
        id="stt-batch/custom-terms-limits",
        surface=STT,
        requirement=(
            f"`custom_terms` beyond the spec's bounds ({CUSTOM_TERMS_MAX_ENTRIES} entries, term "
            f"strings serialised under {CUSTOM_TERMS_MAX_JSON_CHARS} characters, definitions "
            f"up to {CUSTOM_TERM_DEFINITION_MAX_CHARS}, at most {CUSTOM_TERM_MAX_PRONUNCIATIONS} "
            f"pronunciations of up to {CUSTOM_TERM_PRONUNCIATION_MAX_CHARS} printable ASCII "
            "characters) makes an invalid configuration."
        ),
        sources=(
            src(STT_BATCH_SPEC, "components.schemas.STTConfig.custom_terms"),
            src(STT_BATCH_SPEC, "components.schemas.CustomTerm"),
            spec(STT, "responses 400 (invalid_config)"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(status=400, detail=DETAIL_INVALID_CONFIG),
            Acceptable(status=422, behaviour=FASTAPI_422),
        ),
        tags=("request-fields",),
    ),
    clause(
        id="stt-batch/response-schema",
        surface=STT,
        requirement=(
            "A 200 is JSON with `text` (string, empty when nothing was recognised), "
            "`duration_ms` and an `utterances` array (empty when nothing was recognised)."
        ),
        sources=(
            spec(STT, "responses 200"),
            src(STT_BATCH_SPEC, "components.schemas.TranscriptionResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour='all three fields present, silence gives `text: ""` and `utterances: []`',
            ),
        ),
        tags=("schema",),
    ),
    clause(
        id="stt-batch/utterance-schema",
        surface=STT,
        requirement=(
            f"Every utterance carries all of {', '.join(f'`{f}`' for f in STT_UTTERANCE_FIELDS)} "
            "with the spec's types, the three signals null when not computed."
        ),
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance"),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    "`utterance_uuid` a UUID string, `text` and `language` strings, `start_ms`, "
                    "`duration_ms` integers >= 0, `speaker` integer, `emotion`/`accent` string or "
                    "null, `deepfake_score` number in [0, 1] or null"
                ),
            ),
        ),
        tags=("schema",),
    ),
    clause(
        id="stt-batch/utterance-uuid-unique",
        surface=STT,
        requirement="No two utterances in one result share an `utterance_uuid`.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.utterance_uuid"),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(status=200, behaviour="the UUIDs of one response are pairwise distinct"),
        ),
        tags=("schema",),
    ),
    clause(
        id="stt-batch/utterances-ordered",
        surface=STT,
        requirement="Utterances are listed by ascending `start_ms`.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.TranscriptionResponse.utterances"),),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour="`start_ms` never decreases along the list"),),
        tags=("schema",),
    ),
    clause(
        id="stt-batch/text-concatenation",
        surface=STT,
        requirement="The top-level `text` is the utterances' texts joined in order.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.TranscriptionResponse.text"),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour="each utterance's `text` appears in `text`, in the utterances' order",
            ),
        ),
        tags=("schema",),
    ),
    clause(
        id="stt-batch/utterance-timing",
        surface=STT,
        requirement=(
            "An utterance's position in the file is given in milliseconds; the documents "
            "disagree on whether its end is `end_ms` or follows from `start_ms` + `duration_ms`."
        ),
        sources=(
            src(STT_BATCH_SPEC, "components.schemas.Utterance"),
            src(STT_GUIDE, "Transcription guide (get-started/stt), STT Batch example response"),
        ),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="start-duration",
                summary="Each utterance has integer `start_ms` and `duration_ms`; no `end_ms`.",
                sources=(
                    src(STT_BATCH_SPEC, "components.schemas.Utterance (required fields)"),
                    spec(STT, "responses 200 (multilingual example)"),
                ),
                outcomes=(
                    Acceptable(
                        status=200,
                        behaviour=(
                            "`start_ms` and `duration_ms` present; the utterance ends at "
                            "`start_ms + duration_ms`"
                        ),
                    ),
                ),
                spec_literal=True,
            ),
            Alternative(
                key="end-ms",
                summary="Each utterance has `start_ms` and `end_ms`.",
                sources=(
                    src(
                        STT_GUIDE,
                        "Transcription guide (get-started/stt), STT Batch example response",
                    ),
                ),
                outcomes=(
                    Acceptable(
                        status=200, behaviour="`start_ms` and `end_ms` present, end >= start"
                    ),
                ),
            ),
        ),
        preferred="start-duration",
        rationale=(
            "The spec's Utterance schema is the machine-readable wire shape and requires "
            "`duration_ms`; the guide's example is an informal sketch."
        ),
        contradiction=12,
        tags=("schema",),
    ),
    clause(
        id="stt-batch/invalid-language",
        surface=STT,
        **invalid_language(STT, spec(STT, "requestBody `language` pattern")),
    ),
)
