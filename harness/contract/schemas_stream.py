"""JSON Schema documents (draft 2020-12, plain dicts) for the Velma-2 streaming messages.

One schema per JSON message each streaming surface sends (``utterance``,
``partial_utterance``, ``frame``, ``done``, ``error``) and one for the optional STT
configuration frame the client sends first. Field names, types, bounds, enums and
``required`` lists follow the three AsyncAPI files:

* ``specs/modulate/velma-2-stt-streaming.asyncapi.yml`` (UtteranceResult,
  PartialUtteranceResult, DoneResult, ErrorResponse, STTStreamConfig, CustomTerm)
* ``specs/modulate/velma-2-synthetic-voice-detection-streaming.asyncapi.yml``
  (FrameResultMessage, Frame, DoneMessage, ErrorResponse)
* ``specs/modulate/velma-2-pii-phi-redaction-streaming.asyncapi.yml`` (UtteranceResult,
  RedactedAudioInfo, DoneResult, ErrorResponse)

Descriptions are ours. Like the specs, the object schemas do not forbid extra properties
(no ``additionalProperties: false``); a stricter check is the harness's choice, not the
contract's. The binary frames (audio in, MP3 clips out) have no JSON schema. Data only: no
validator library is imported here.
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

from .tables import (
    CUSTOM_TERM_DEFINITION_MAX_CHARS,
    CUSTOM_TERM_MAX_PRONUNCIATIONS,
    CUSTOM_TERM_PRONUNCIATION_MAX_CHARS,
    CUSTOM_TERMS_MAX_ENTRIES,
    CUSTOM_TERMS_MAX_JSON_CHARS,
    LANGUAGE_PATTERN,
    PII_UTTERANCE_FIELDS,
    STT_STREAM_FLAG_DEFAULTS,
    SVD_VERDICTS,
)

DIALECT = "https://json-schema.org/draft/2020-12/schema"

Schema = dict[str, Any]


def _doc(id_: str, title: str, body: Schema) -> Schema:
    return {
        "$schema": DIALECT,
        "$id": f"urn:voice-contract-harness:stream:{id_}",
        "title": title,
        **body,
    }


def _nullable(schema: Schema, description: str) -> Schema:
    return {"oneOf": [schema, {"type": "null"}], "description": description}


def _ms(description: str) -> Schema:
    return {"type": "integer", "minimum": 0, "description": description}


_SCORE = {"type": "number", "minimum": 0, "maximum": 1}


def _message(type_: str, description: str, properties: Schema, required: list[str]) -> Schema:
    return {
        "type": "object",
        "description": description,
        "required": ["type", *required],
        "properties": {
            "type": {"type": "string", "const": type_, "description": "Message kind."},
            **properties,
        },
    }


# --------------------------------------------------------------------------
# Shared pieces
# --------------------------------------------------------------------------

ERROR: Schema = _doc(
    "error",
    "error (all streaming surfaces)",
    _message(
        "error",
        "Sent once before the server closes with any code other than 1000.",
        {"error": {"type": "string", "description": "Readable explanation of what went wrong."}},
        ["error"],
    ),
)

_UTTERANCE_BASE: Schema = {
    "utterance_uuid": {
        "type": "string",
        "format": "uuid",
        "description": "Identifier unique to this utterance.",
    },
    "text": {"type": "string", "description": "What was said; may be the empty string."},
    "start_ms": _ms("Where the utterance begins, in ms from the start of the stream."),
    "duration_ms": _ms("How long the utterance lasts, in ms."),
    "speaker": {
        "type": "integer",
        "description": "Speaker number, counting from 1, stable within a connection.",
    },
    "language": {
        "type": "string",
        "description": "Language code detected for this utterance, e.g. 'en'.",
    },
}
_UTTERANCE_BASE_REQUIRED = list(PII_UTTERANCE_FIELDS)  # the fields STT and PII share

# --------------------------------------------------------------------------
# STT streaming
# --------------------------------------------------------------------------

_STT_SIGNALS: Schema = {
    "emotion": _nullable(
        {"type": "string"}, "Tone label (e.g. 'Neutral'); null unless emotion_signal is on."
    ),
    "accent": _nullable(
        {"type": "string"}, "Accent label (e.g. 'British'); null unless accent_signal is on."
    ),
    "deepfake_score": _nullable(
        _SCORE,
        "0 = natural voice, 1 = synthetic; null when deepfake_signal is off or the utterance "
        "is shorter than 0.5 s.",
    ),
}

STT_UTTERANCE: Schema = _doc(
    "stt-stream/utterance",
    "utterance (stt-stream)",
    _message(
        "utterance",
        "One finished utterance.",
        {
            "utterance": {
                "type": "object",
                "required": [*_UTTERANCE_BASE_REQUIRED, "emotion", "accent", "deepfake_score"],
                "properties": {**_UTTERANCE_BASE, **_STT_SIGNALS},
            }
        },
        ["utterance"],
    ),
)

STT_PARTIAL_UTTERANCE: Schema = _doc(
    "stt-stream/partial_utterance",
    "partial_utterance (stt-stream)",
    _message(
        "partial_utterance",
        "Interim text for speech still in progress; replaced by the next partial and by the final utterance.",
        {
            "partial_utterance": {
                "type": "object",
                "required": ["text", "start_ms", "speaker", "emotion", "accent", "deepfake_score"],
                "properties": {
                    "text": {"type": "string", "description": "Text so far; may be empty."},
                    "start_ms": _nullable(
                        {"type": "integer", "minimum": 0},
                        "Segment start in ms, or null while unknown.",
                    ),
                    "speaker": _nullable(
                        {"type": "integer"}, "Speaker number from 1, or null while unknown."
                    ),
                    "emotion": _nullable({"type": "string"}, "Latest interim tone, or null."),
                    "accent": _nullable({"type": "string"}, "Latest interim accent, or null."),
                    "deepfake_score": _nullable(
                        _SCORE, "Latest interim synthetic-voice score, or null."
                    ),
                },
            }
        },
        ["partial_utterance"],
    ),
)

STT_DONE: Schema = _doc(
    "stt-stream/done",
    "done (stt-stream)",
    _message(
        "done",
        "Last message after the end-of-stream signal; a 1000 close follows.",
        {"duration_ms": _ms("Length of all audio processed on the connection, in ms.")},
        ["duration_ms"],
    ),
)

CUSTOM_TERM: Schema = {
    "type": "object",
    "required": ["term"],
    "properties": {
        "term": {"type": "string", "minLength": 1, "description": "Word or name to favour."},
        "definition": {
            "type": "string",
            "maxLength": CUSTOM_TERM_DEFINITION_MAX_CHARS,
            "description": "Short gloss of the term.",
        },
        "pronunciations": {
            "type": "array",
            "maxItems": CUSTOM_TERM_MAX_PRONUNCIATIONS,
            "items": {"type": "string", "maxLength": CUSTOM_TERM_PRONUNCIATION_MAX_CHARS},
            "description": "X-SAMPA or hyphenated respellings (stressed syllable in capitals), printable ASCII.",
        },
    },
}

STT_CONFIG_FRAME: Schema = _doc(
    "stt-stream/config",
    "configuration frame (stt-stream, client to server)",
    {
        "type": "object",
        "description": "Optional first text frame; each field present overrides the query parameter of that name.",
        "properties": {
            **{flag: {"type": "boolean"} for flag in STT_STREAM_FLAG_DEFAULTS},
            "language": _nullable(
                {"type": "string", "pattern": LANGUAGE_PATTERN}, "Language hint, or null."
            ),
            "custom_terms": {
                "oneOf": [
                    {"type": "null"},
                    {
                        "type": "array",
                        "maxItems": CUSTOM_TERMS_MAX_ENTRIES,
                        "items": {"oneOf": [{"type": "string"}, {"$ref": "#/$defs/CustomTerm"}]},
                    },
                ],
                "description": "Vocabulary to bias recognition; the term strings, as JSON, must total "
                f"under {CUSTOM_TERMS_MAX_JSON_CHARS} characters (not expressible in JSON Schema). "
                "Blank entries are dropped.",
            },
        },
        "$defs": {"CustomTerm": CUSTOM_TERM},
    },
)

# --------------------------------------------------------------------------
# Deepfake (SVD) streaming
# --------------------------------------------------------------------------

SVD_FRAME: Schema = _doc(
    "svd-stream/frame",
    "frame (svd-stream)",
    _message(
        "frame",
        "Verdict for one analysis window.",
        {
            "frame": {
                "type": "object",
                "required": ["start_time_ms", "end_time_ms", "verdict", "confidence"],
                "properties": {
                    "start_time_ms": _ms(
                        "Window start, as a position in the original stream (ms)."
                    ),
                    "end_time_ms": _ms("Window end, as a position in the original stream (ms)."),
                    "verdict": {
                        "type": "string",
                        "enum": list(SVD_VERDICTS),
                        "description": "Synthetic speech, natural speech, or nothing usable (silence).",
                    },
                    "confidence": {
                        **_SCORE,
                        "description": "Certainty of the verdict; exactly 1.0 for no-content.",
                    },
                },
            }
        },
        ["frame"],
    ),
)

SVD_DONE: Schema = _doc(
    "svd-stream/done",
    "done (svd-stream)",
    _message(
        "done",
        "Last message once every frame has been sent; a 1000 close follows.",
        {
            "duration_ms": _ms("Length of the audio streamed, in ms."),
            "frame_count": {
                "type": "integer",
                "minimum": 0,
                "description": "How many frames were analysed.",
            },
        },
        ["duration_ms", "frame_count"],
    ),
)

# --------------------------------------------------------------------------
# PII/PHI redaction streaming
# --------------------------------------------------------------------------

REDACTED_AUDIO_INFO: Schema = {
    "type": "object",
    "required": ["start_ms", "duration_ms"],
    "properties": {
        "start_ms": _ms("Where the following MP3 clip begins in the original stream (ms)."),
        "duration_ms": _ms("Length of that clip (ms)."),
    },
}

PII_UTTERANCE: Schema = _doc(
    "pii-stream/utterance",
    "utterance (pii-stream)",
    _message(
        "utterance",
        "One finished utterance with PII/PHI replaced by empty marker tags; when redacted_audio "
        "is not null exactly one binary MP3 frame follows.",
        {
            "utterance": {
                "type": "object",
                "required": list(_UTTERANCE_BASE_REQUIRED),
                "properties": {
                    **_UTTERANCE_BASE,
                    "text": {
                        "type": "string",
                        "description": "Redacted text: <pii:CATEGORY></pii:CATEGORY> or <phi></phi> in place of each span.",
                    },
                },
            },
            "redacted_audio": {
                "oneOf": [{"$ref": "#/$defs/RedactedAudioInfo"}, {"type": "null"}],
                "description": "Window of the clip that follows; null when this utterance's audio went out earlier.",
            },
        },
        ["utterance", "redacted_audio"],
    )
    | {"$defs": {"RedactedAudioInfo": REDACTED_AUDIO_INFO}},
)

PII_DONE: Schema = _doc(
    "pii-stream/done",
    "done (pii-stream)",
    _message(
        "done",
        "Last JSON message; when trailing_redacted_audio is not null one more MP3 frame follows, then a 1000 close.",
        {
            "duration_ms": _ms("Length of all audio processed, in ms."),
            "trailing_redacted_audio": {
                "oneOf": [{"$ref": "#/$defs/RedactedAudioInfo"}, {"type": "null"}],
                "description": "Audio after the last utterance, or null when none is left.",
            },
        },
        ["duration_ms", "trailing_redacted_audio"],
    )
    | {"$defs": {"RedactedAudioInfo": REDACTED_AUDIO_INFO}},
)

# --------------------------------------------------------------------------
# Index
# --------------------------------------------------------------------------

#: (surface, message type) -> schema of a server-to-client JSON message.
SERVER_MESSAGES = MappingProxyType(
    {
        ("stt-stream", "utterance"): STT_UTTERANCE,
        ("stt-stream", "partial_utterance"): STT_PARTIAL_UTTERANCE,
        ("stt-stream", "done"): STT_DONE,
        ("stt-stream", "error"): ERROR,
        ("svd-stream", "frame"): SVD_FRAME,
        ("svd-stream", "done"): SVD_DONE,
        ("svd-stream", "error"): ERROR,
        ("pii-stream", "utterance"): PII_UTTERANCE,
        ("pii-stream", "done"): PII_DONE,
        ("pii-stream", "error"): ERROR,
    }
)

#: (surface, name) -> schema of a client-to-server JSON frame.
CLIENT_MESSAGES = MappingProxyType({("stt-stream", "config"): STT_CONFIG_FRAME})


def server_schema(surface: str, message_type: str) -> Schema:
    """The schema for ``message_type`` on ``surface``; KeyError names what exists."""
    try:
        return SERVER_MESSAGES[(surface, message_type)]
    except KeyError:
        known = ", ".join(f"{s}:{t}" for s, t in SERVER_MESSAGES)
        raise KeyError(f"no schema for {surface}:{message_type} (known: {known})") from None
