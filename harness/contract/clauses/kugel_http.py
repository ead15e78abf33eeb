"""KugelAudio REST clauses (``kugel-http``): one per OpenAPI operation, then the REST rules.

Every KugelAudio clause's text is judged at INFO (``kugel.CLAUSES``). Data only: no I/O.
"""

from __future__ import annotations

from .. import kugel_api as api
from ..build import clause
from ..model import Acceptable, Clause, Tier
from ..sources import KUGEL_OPENAPI, src
from .kugel_shared import (
    HTTP,
    INVALID,
    O_SYNTH,
    O_TTS_422,
    O_VALIDATION,
    S_ROWS,
    T_GENERATE,
    T_ROWS,
    op_source,
    row,
    row_outcome,
    validation_dispute,
)

# -------------------------------------------------- REST operations (OpenAPI)

_GROUP_TAGS: dict[str, tuple[str, ...]] = {
    "tts": ("tts",),
    "models": ("tts",),
    "voices": ("voices",),
    "references": ("voices", "references"),
    "dictionaries": ("dictionaries",),
    "entries": ("dictionaries",),
}
_BODY_OVERRIDE = {
    "tts-generate": (
        "a PCM16 audio body, not JSON (the OpenAPI labels it application/json, empty schema)"
    ),
}


def _body(op: api.RestOperation) -> str:
    if op.key in _BODY_OVERRIDE:
        return _BODY_OVERRIDE[op.key]
    if not op.has_body:
        return "no body"
    if op.response[0].islower():  # "object", "array of ..."
        return f"a JSON {op.response}"
    return f"a JSON body matching {op.response}"


def _op_clause(op: api.RestOperation) -> Clause:
    tags = _GROUP_TAGS[op.group]
    if "project_id" in op.query_params:
        tags = (*tags, "projects")
    return clause(
        id=f"kugel-http/{op.key}",
        surface=HTTP,
        requirement=(
            f"`{op.method} {op.path}` {op.summary}; success is HTTP {op.success_status} "
            f"with {_body(op)}."
        ),
        sources=(op_source(op),),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=op.success_status, behaviour=_body(op)),),
        tags=tags,
    )


_OPERATIONS = tuple(_op_clause(op) for op in api.REST_OPERATIONS)

_S_VOICES = op_source(api.operation("voices-list"))
_S_ENTRIES = op_source(api.operation("dictionary-entries-list"))
_S_SAMPLE = op_source(api.operation("voice-generate-sample"))
_S_REPLACE = op_source(api.operation("dictionary-entries-replace"))
_S_DICTS = op_source(api.operation("dictionaries-list"))
_too_long = row("Request exceeds the maximum character limit")
_v_lo, _v_hi = api.VOICES_LIMIT_RANGE
_e_lo, _e_hi = api.ENTRIES_LIMIT_RANGE
_c_lo, _c_hi = api.CFG_SCALE_RANGE
_t_lo, _t_hi = api.TEMPERATURE_RANGE
_s_lo, _s_hi = api.SPEED_RANGE
_m_lo, _m_hi = api.MAX_NEW_TOKENS_RANGE

_REST_RULES = (
    clause(
        id="kugel-http/tts-request-limits",
        surface=HTTP,
        requirement=(
            f"A synthesis request is refused as invalid when text is empty, language is over "
            f"{api.LANGUAGE_MAX_CHARS} characters, temperature leaves {_t_lo}-{_t_hi}, speed leaves "
            f"{_s_lo}-{_s_hi}, max_new_tokens leaves {_m_lo}-{_m_hi}, or dictionary_ids has "
            f"more than {api.DICTIONARY_IDS_MAX} items."
        ),
        sources=(O_SYNTH, T_GENERATE, S_ROWS, O_VALIDATION),
        tier=Tier.MUST,
        **validation_dispute((INVALID[0],), (S_ROWS,), (O_SYNTH, O_TTS_422)),
        tags=("tts", "validation"),
    ),
    clause(
        id="kugel-http/closed-request-bodies",
        surface=HTTP,
        requirement=(
            "JSON request bodies for synthesis, dictionaries and entries admit no unknown "
            "fields, so e.g. `project_id` in a dictionary PATCH body is refused as invalid."
        ),
        sources=(
            O_SYNTH,
            src(KUGEL_OPENAPI, "components.schemas.UpdateDictionaryRequest (additionalProperties)"),
            src(KUGEL_OPENAPI, "components.schemas.EntryPayload (additionalProperties)"),
            S_ROWS,
            O_VALIDATION,
        ),
        tier=Tier.MUST,
        **validation_dispute(
            (INVALID[0],),
            (S_ROWS,),
            (
                src(KUGEL_OPENAPI, "paths /v1/dictionaries/{dict_id} patch responses 422"),
                src(KUGEL_OPENAPI, "paths /v1/dictionaries/{dict_id}/entries post responses 422"),
            ),
        ),
        tags=("validation", "tts", "dictionaries"),
    ),
    clause(
        id="kugel-http/tts-cfg-scale-clamped",
        surface=HTTP,
        requirement=(
            f"On REST a cfg_scale outside {_c_lo}-{_c_hi} is pulled into that range and "
            "synthesis proceeds; the WebSocket transcription lists the same bounds as hard limits."
        ),
        sources=(O_SYNTH, T_GENERATE),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=200, behaviour=f"audio produced with cfg_scale in [{_c_lo}, {_c_hi}]"
            ),
        ),
        tags=("tts",),
    ),
    clause(
        id="kugel-http/tts-text-over-limit",
        surface=HTTP,
        requirement=(
            "Text over the tier's per-request allowance gets 429 with error "
            f'"{_too_long.message}"; text over the schema limit of {api.TEXT_MAX_CHARS} may '
            "instead be refused as invalid. Which check wins is not documented."
        ),
        sources=(S_ROWS, O_SYNTH),
        tier=Tier.INFO,
        outcomes=(row_outcome(_too_long), *INVALID),
        tags=("tts", "rate-limit", "validation"),
    ),
    clause(
        id="kugel-http/tts-missing-voice-id",
        surface=HTTP,
        requirement=(
            "Synthesis without voice_id: the OpenAPI makes it optional, while the transcriptions "
            f'say there is no default voice and answer 400 "{api.MISSING_VOICE_ID_MESSAGE}" '
            "(error_code MISSING_VOICE_ID, outside the documented set)."
        ),
        sources=(O_SYNTH, T_ROWS, T_GENERATE),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(
                status=400, error_code="MISSING_VOICE_ID", detail=api.MISSING_VOICE_ID_MESSAGE
            ),
            Acceptable(status=400, error_code="VALIDATION_ERROR"),
            Acceptable(status=200, behaviour="audio in a server-chosen default voice"),
        ),
        tags=("tts", "validation", "voices"),
    ),
    clause(
        id="kugel-http/tts-output-format",
        surface=HTTP,
        requirement=(
            "With output_format (e.g. "
            + ", ".join(f'"{t}"' for t in api.OUTPUT_FORMAT_EXAMPLES)
            + ") the token decides codec and rate; without it the body is linear PCM16 at "
            "sample_rate. What a target does when the two disagree is not documented."
        ),
        sources=(O_SYNTH,),
        tier=Tier.INFO,
        outcomes=(*INVALID, Acceptable(status=200, behaviour="audio follows output_format")),
        tags=("tts", "validation"),
    ),
    clause(
        id="kugel-http/tts-dictionary-selection",
        surface=HTTP,
        requirement=(
            "Without dictionary_ids every active dictionary of the project for the language "
            "applies; an empty list applies none; a list applies exactly those, inactive ones "
            "included, whatever their language."
        ),
        sources=(O_SYNTH,),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(status=200, behaviour="replacements heard match the selection rule"),),
        tags=("tts", "dictionaries", "projects"),
    ),
    clause(
        id="kugel-http/paging-limits",
        surface=HTTP,
        requirement=(
            f"Voice listing takes limit {_v_lo}-{_v_hi} (default {api.VOICES_LIMIT_DEFAULT}); "
            f"entry listing takes limit {_e_lo}-{_e_hi} (default {api.ENTRIES_LIMIT_DEFAULT}) "
            f"and search up to {api.ENTRIES_SEARCH_MAX_CHARS} characters; offset is never "
            "negative. Values outside are refused as invalid."
        ),
        sources=(_S_VOICES, _S_ENTRIES, S_ROWS, O_VALIDATION),
        tier=Tier.MUST,
        **validation_dispute(
            (INVALID[0],),
            (S_ROWS,),
            (
                src(KUGEL_OPENAPI, "paths /v1/voices get responses 422"),
                src(KUGEL_OPENAPI, "paths /v1/dictionaries/{dict_id}/entries get responses 422"),
            ),
        ),
        tags=("validation", "voices", "dictionaries"),
    ),
    clause(
        id="kugel-http/voice-not-owned",
        surface=HTTP,
        requirement=(
            "Changing, publishing, sampling or managing references of a voice the caller does "
            "not own is refused; whether as 403 or as 404 (not visible) is not documented."
        ),
        sources=(S_ROWS, op_source(api.operation("voice-update"))),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(status=403, error_code="UNAUTHORIZED", detail="Forbidden"),
            row_outcome(row("Voice not found")),
        ),
        tags=("voices", "auth", "not-found"),
    ),
    clause(
        id="kugel-http/generate-sample-needs-reference",
        surface=HTTP,
        requirement=(
            "A sample is only rendered once the voice has a reference recording; the status "
            "for a voice without one is not documented (400 VALIDATION_ERROR is our convention)."
        ),
        sources=(_S_SAMPLE, S_ROWS),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(status=400, error_code="VALIDATION_ERROR"),
            row_outcome(row("Sample generation failed")),
        ),
        tags=("voices", "references", "validation"),
    ),
    clause(
        id="kugel-http/project-scoping",
        surface=HTTP,
        requirement=(
            "Dictionary calls act on the key's project unless `project_id` names another the "
            "caller may use; a dictionary of a project the caller cannot see is answered as "
            "missing: 404 NOT_FOUND, as the dictionary row or the project row of the payload "
            "table (the text tells which, and is display text only)."
        ),
        sources=(_S_DICTS, S_ROWS),
        tier=Tier.MUST,
        outcomes=(
            row_outcome(row("Dictionary not found")),
            row_outcome(row("Project not found")),
        ),
        tags=("projects", "dictionaries", "not-found"),
    ),
    clause(
        id="kugel-http/entries-replace-idempotent",
        surface=HTTP,
        requirement=(
            "Bulk replace is atomic and idempotent: entries are upserted by word, others "
            "removed, and sending the same list again leaves the same entries (nothing deleted)."
        ),
        sources=(_S_REPLACE, src(KUGEL_OPENAPI, "components.schemas.BulkReplaceEntriesRequest")),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=200, behaviour="second identical PUT reports deleted == 0"),),
        tags=("dictionaries",),
    ),
)


CLAUSES: tuple[Clause, ...] = (*_OPERATIONS, *_REST_RULES)
