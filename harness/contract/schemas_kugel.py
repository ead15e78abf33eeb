"""JSON Schema documents (draft 2020-12, plain dicts) for KugelAudio TTS wire messages.

Field names, types, bounds and enums follow the vendor material: the error
envelope from seeds/kugelaudio-errors.txt; REST bodies from KugelAudio's OpenAPI
(specs/kugelaudio/kugelaudio-tts.openapi.json, components.schemas); WebSocket
messages from the third-party AsyncAPI transcription
(specs/kugelaudio/kugelaudio-tts-streaming.asyncapi.yml, components.messages).
Descriptions are ours. Data only: no I/O, no validator imported here.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from . import kugel_api as api
from .tables import KUGEL_ERROR_CODES, KUGEL_ERROR_FIELDS

DIALECT = "https://json-schema.org/draft/2020-12/schema"
_ID = "urn:voice-contract-harness:kugelaudio:"

Schema = dict[str, Any]


def _nullable(schema: Schema) -> Schema:
    return {"anyOf": [schema, {"type": "null"}]}


def _doc(name: str, schema: Schema) -> Schema:
    return {"$schema": DIALECT, "$id": _ID + name, **schema}


# ------------------------------------------------------------------ errors

ERROR_BODY: Schema = _doc(
    "error-body",
    {
        "title": "KugelAudio error envelope",
        "description": (
            "Body of every HTTP error and every WebSocket error frame. Programs branch on "
            "error_code and code; error is for people. retry_after never appears here "
            "(timing travels in the Retry-After header)."
        ),
        "type": "object",
        "required": list(KUGEL_ERROR_FIELDS),
        "properties": {
            "error": {"type": "string", "description": "Human-readable text; do not parse."},
            "error_code": {
                "type": "string",
                "enum": list(KUGEL_ERROR_CODES),
                "description": "Machine-readable class of the failure.",
            },
            "code": {
                "type": "integer",
                "minimum": 400,
                "maximum": 599,
                "description": "HTTP-style status; on a socket, distinct from the close code.",
            },
        },
        "not": {"required": ["retry_after"]},
    },
)

# FastAPI's 422 body, the OpenAPI's side of contradiction 15.
FASTAPI_VALIDATION_ERROR: Schema = _doc(
    "fastapi-validation-error",
    {
        "title": "FastAPI HTTPValidationError",
        "description": "The 422 body the OpenAPI declares on its operations: a list of problems.",
        "type": "object",
        "properties": {
            "detail": {
                "type": "array",
                "items": {
                    "type": "object",
                    "required": ["loc", "msg", "type"],
                    "properties": {
                        "loc": {
                            "type": "array",
                            "items": {"anyOf": [{"type": "string"}, {"type": "integer"}]},
                        },
                        "msg": {"type": "string"},
                        "type": {"type": "string"},
                        "input": {},
                        "ctx": {"type": "object"},
                    },
                },
            }
        },
    },
)

# --------------------------------------------------------------- TTS request

_t_lo, _t_hi = api.TEMPERATURE_RANGE
_s_lo, _s_hi = api.SPEED_RANGE
_m_lo, _m_hi = api.MAX_NEW_TOKENS_RANGE

TTS_REQUEST: Schema = _doc(
    "tts-request",
    {
        "title": "POST /v1/tts/generate body (SynthesizeRequest)",
        "description": "One complete synthesis job; unknown fields are refused.",
        "type": "object",
        "required": ["text"],
        "additionalProperties": False,
        "properties": {
            "text": {
                "type": "string",
                "minLength": api.TEXT_MIN_CHARS,
                "maxLength": api.TEXT_MAX_CHARS,
                "description": "What to speak.",
            },
            "voice_id": {
                "anyOf": [{"type": "integer"}, {"type": "string"}, {"type": "null"}],
                "description": "Voice handle, or the older numeric id.",
            },
            "cfg_scale": {
                "type": "number",
                "default": api.CFG_SCALE_DEFAULT,
                "description": "Guidance strength; the server clamps it into 1.2-2.5.",
            },
            "temperature": {
                "type": "number",
                "minimum": _t_lo,
                "maximum": _t_hi,
                "default": api.TEMPERATURE_DEFAULT,
                "description": "Sampling variability, 0 steadiest.",
            },
            "max_new_tokens": {
                "type": "integer",
                "minimum": _m_lo,
                "maximum": _m_hi,
                "default": api.MAX_NEW_TOKENS_DEFAULT,
            },
            "sample_rate": {
                "type": "integer",
                "default": api.DEFAULT_SAMPLE_RATE,
                "description": "Output rate in Hz when output_format is absent.",
            },
            "language": _nullable({"type": "string", "maxLength": api.LANGUAGE_MAX_CHARS}),
            "model_id": _nullable({"type": "string"}),
            "normalize": {"type": "boolean", "default": True},
            "project_id": _nullable({"type": "integer"}),
            "dictionary_ids": _nullable(
                {
                    "type": "array",
                    "items": {"type": "integer"},
                    "maxItems": api.DICTIONARY_IDS_MAX,
                }
            ),
            "speed": {
                "type": "number",
                "minimum": _s_lo,
                "maximum": _s_hi,
                "default": api.SPEED_DEFAULT,
            },
            "output_format": _nullable(
                {
                    "type": "string",
                    "description": "Codec-and-rate token such as pcm_8000; wins over sample_rate.",
                }
            ),
        },
    },
)

# -------------------------------------------------------------------- voices

_VOICE_COMMON: dict[str, Schema] = {
    "id": {"type": "integer"},
    "voice_id": {"type": "integer"},
    "handle": _nullable({"type": "string"}),
    "public_id": _nullable({"type": "string"}),
    "name": {"type": "string"},
    "category": {"type": "string", "default": "cloned"},
    "sex": _nullable({"type": "string"}),
    "age": _nullable({"type": "string"}),
    "quality": {"type": "string", "default": "mid"},
    "supported_languages": {"type": "array", "items": {"type": "string"}, "default": []},
    "sample_url": _nullable({"type": "string"}),
    "avatar_url": _nullable({"type": "string"}),
}

VOICE_INFO: Schema = _doc(
    "voice-info",
    {
        "title": "VoiceInfo",
        "description": "A voice as listed or fetched by id.",
        "type": "object",
        "required": ["id", "voice_id", "name"],
        "properties": {**_VOICE_COMMON, "description": _nullable({"type": "string"})},
    },
)

VOICE_DETAIL_INFO: Schema = _doc(
    "voice-detail-info",
    {
        "title": "VoiceDetailInfo",
        "description": "A voice as returned by create, update and publish.",
        "type": "object",
        "required": ["id", "voice_id", "name"],
        "properties": {
            **_VOICE_COMMON,
            "description": {"type": "string", "default": ""},
            "generative_voice_description": {"type": "string", "default": ""},
            "is_public": {"type": "boolean", "default": False},
            "verified": {"type": "boolean", "default": False},
            "pending_verification": {"type": "boolean", "default": False},
            "sample_text": {"type": "string", "default": ""},
        },
    },
)

VOICES_RESPONSE: Schema = _doc(
    "voices-response",
    {
        "title": "VoicesResponse",
        "description": "One page of visible voices.",
        "type": "object",
        "required": ["voices"],
        "properties": {
            "voices": {"type": "array", "items": VOICE_INFO},
            "total": {"type": "integer", "default": 0},
            "limit": {"type": "integer", "default": api.VOICES_LIMIT_DEFAULT},
            "offset": {"type": "integer", "default": 0},
        },
    },
)

VOICE_REFERENCE_INFO: Schema = _doc(
    "voice-reference-info",
    {
        "title": "VoiceReferenceInfo",
        "description": "One reference recording attached to a voice.",
        "type": "object",
        "required": ["id", "voice_id"],
        "properties": {
            "id": {"type": "integer"},
            "voice_id": {"type": "integer"},
            "name": {"type": "string", "default": ""},
            "reference_text": {"type": "string", "default": ""},
            "s3_path": {"type": "string", "default": ""},
            "audio_url": _nullable({"type": "string"}),
            "is_generated": {"type": "boolean", "default": False},
        },
    },
)

# ---------------------------------------------------------------- WebSocket

WS_GENERATE_REQUEST: Schema = _doc(
    "ws-generate-request",
    {
        "title": "/ws/tts request",
        "description": "The one JSON message a client sends per synthesis cycle.",
        "type": "object",
        "required": ["text", "voice_id"],
        "properties": {
            "text": {"type": "string", "maxLength": api.TEXT_MAX_CHARS},
            "model_id": {"type": "string", "default": "kugel-3"},
            "voice_id": {"type": "integer"},
            "cfg_scale": {
                "type": "number",
                "default": api.CFG_SCALE_DEFAULT,
                "minimum": api.CFG_SCALE_RANGE[0],
                "maximum": api.CFG_SCALE_RANGE[1],
            },
            "temperature": {
                "type": "number",
                "default": api.TEMPERATURE_DEFAULT,
                "minimum": _t_lo,
                "maximum": _t_hi,
            },
            "max_new_tokens": {
                "type": "integer",
                "default": api.MAX_NEW_TOKENS_DEFAULT,
                "minimum": _m_lo,
                "maximum": _m_hi,
            },
            "sample_rate": {
                "type": "integer",
                "default": api.DEFAULT_SAMPLE_RATE,
                "enum": list(api.WS_SAMPLE_RATES),
            },
            "output_format": {"type": "string", "description": "Codec-and-rate token."},
            "normalize": {"type": "boolean", "default": True},
            "language": {"type": "string", "description": "Two-letter ISO 639-1 code."},
            "speed": {
                "type": "number",
                "default": api.SPEED_DEFAULT,
                "minimum": _s_lo,
                "maximum": _s_hi,
            },
            "word_timestamps": {"type": "boolean", "default": False},
            "speaker_prefix": {"type": "boolean", "default": True},
            "dictionary_ids": {
                "type": "array",
                "maxItems": api.DICTIONARY_IDS_MAX,
                "items": {"type": "integer"},
            },
        },
    },
)

WS_AUDIO_CHUNK: Schema = _doc(
    "ws-audio-chunk",
    {
        "title": "Audio chunk",
        "description": "A slice of synthesised audio, base64 PCM16, numbered from 0.",
        "type": "object",
        "required": ["audio"],
        "properties": {
            "audio": {"type": "string", "contentEncoding": "base64"},
            "enc": {"type": "string", "examples": [api.AUDIO_CHUNK_ENCODING]},
            "idx": {"type": "integer", "minimum": 0, "description": "Position of the chunk."},
            "sr": {"type": "integer", "description": "Sample rate of this chunk in Hz."},
            "samples": {"type": "integer", "minimum": 0, "description": "Samples in `audio`."},
            "context_id": {"type": "string", "description": "Only on /ws/tts/multi."},
        },
    },
)

WS_FINAL: Schema = _doc(
    "ws-final",
    {
        "title": "Final message",
        "description": (
            "Closes one /ws/tts cycle with totals, timing and usage; the streaming channels "
            "send a shorter one without usage."
        ),
        "type": "object",
        "required": ["final"],
        "properties": {
            "final": {"type": "boolean", "const": True},
            "chunks": {"type": "integer", "minimum": 0},
            "total_samples": {"type": "integer", "minimum": 0},
            "dur_ms": {"type": "number"},
            "gen_ms": {"type": "number"},
            "rtf": {"type": "number", "description": "Generation time over audio time."},
            "usage": {
                "type": "object",
                "properties": {
                    "audio_seconds": {"type": "number", "description": "Billed quantity."},
                    "characters": {"type": "integer"},
                    "cost_cents": {
                        "type": ["number", "null"],
                        "description": "Charge in euro cents; null if it could not be worked out.",
                    },
                    "currency": {"type": "string", "examples": ["eur"]},
                    "model_id": {"type": "string"},
                    "cost_unavailable": {"type": "boolean"},
                },
            },
        },
    },
)

WS_ERROR_FRAME: Schema = _doc(
    "ws-error-frame",
    {
        "title": "WebSocket error frame",
        "description": (
            "The error envelope sent on a socket; a close with its own 4xxx code may follow. "
            "The transcription's enum adds MISSING_VOICE_ID and TOO_MANY_CONTEXTS, which are "
            "listed here so that a frame using them is recognised, not endorsed."
        ),
        "type": "object",
        "required": list(KUGEL_ERROR_FIELDS),
        "properties": {
            "error": {"type": "string"},
            "error_code": {
                "type": "string",
                "enum": [*KUGEL_ERROR_CODES, *api.TRANSCRIBED_ONLY_ERROR_CODES],
            },
            "code": {"type": "integer", "minimum": 400, "maximum": 599},
            "context_id": {"type": "string"},
        },
        "not": {"required": ["retry_after"]},
    },
)

SCHEMAS = MappingProxyType(
    {
        "error-body": ERROR_BODY,
        "fastapi-validation-error": FASTAPI_VALIDATION_ERROR,
        "tts-request": TTS_REQUEST,
        "voice-info": VOICE_INFO,
        "voice-detail-info": VOICE_DETAIL_INFO,
        "voices-response": VOICES_RESPONSE,
        "voice-reference-info": VOICE_REFERENCE_INFO,
        "ws-generate-request": WS_GENERATE_REQUEST,
        "ws-audio-chunk": WS_AUDIO_CHUNK,
        "ws-final": WS_FINAL,
        "ws-error-frame": WS_ERROR_FRAME,
    }
)
