"""What the KugelAudio clause modules share: surfaces, citations, table-row helpers.

Data only: no I/O.
"""

from __future__ import annotations

import re

from .. import kugel_api as api
from ..model import Acceptable, Alternative, Source, Surface
from ..sources import KUGEL_ASYNCAPI, KUGEL_ERRORS_PAGE, KUGEL_ERRORS_SPEC, KUGEL_OPENAPI, src
from ..tables import (
    KUGEL_ERRORS,
    KugelErrorRow,
)

HTTP = Surface.KUGEL_HTTP
WS = Surface.KUGEL_WS
BOTH = Surface.KUGEL

# ---------------------------------------------------------------- citations
S_SHAPE = src(KUGEL_ERRORS_PAGE, "error shape (field table)")
S_RETRY = src(KUGEL_ERRORS_PAGE, "error shape (retry_after note)")
S_ROWS = src(KUGEL_ERRORS_PAGE, "HTTP and WebSocket payloads")
S_CLOSE = src(KUGEL_ERRORS_PAGE, "WebSocket close codes")
S_HANDLING = src(KUGEL_ERRORS_PAGE, "Handling errors")
T_ENVELOPE = src(KUGEL_ERRORS_SPEC, "envelope (third-party transcription)")
T_ROWS = src(KUGEL_ERRORS_SPEC, "errors (third-party transcription)")
T_CLASSES = src(KUGEL_ERRORS_SPEC, "error_code_classes (third-party transcription)")
T_CLOSE = src(KUGEL_ERRORS_SPEC, "websocket_close_codes (third-party transcription)")
T_SECURITY = src(KUGEL_ASYNCAPI, "components.securitySchemes.apiKeyQuery (third-party)")
T_ERROR_FRAME = src(KUGEL_ASYNCAPI, "components.messages.errorFrame (third-party)")
T_TTS = src(KUGEL_ASYNCAPI, "channels.streamSpeech /ws/tts (third-party)")
T_GENERATE = src(KUGEL_ASYNCAPI, "components.messages.generateRequest (third-party)")
T_CHUNK = src(KUGEL_ASYNCAPI, "components.messages.audioChunk (third-party)")
T_FINAL = src(KUGEL_ASYNCAPI, "components.messages.finalWithUsage (third-party)")
T_SETTINGS = src(KUGEL_ASYNCAPI, "components.messages.updateSettings (third-party)")
T_STREAM = src(KUGEL_ASYNCAPI, "channels.streamInput /ws/tts/stream (third-party)")
T_CONTROLS = src(KUGEL_ASYNCAPI, "components.messages.cancelMessage, closeMessage (third-party)")
T_WORDS = src(KUGEL_ASYNCAPI, "components.messages.wordTimestamps (third-party)")
T_MULTI = src(KUGEL_ASYNCAPI, "channels.multiContext /ws/tts/multi (third-party)")
O_SYNTH = src(KUGEL_OPENAPI, "components.schemas.SynthesizeRequest")
O_VALIDATION = src(KUGEL_OPENAPI, "components.schemas.HTTPValidationError (422 on operations)")
O_BILLING_KEY = src(
    KUGEL_OPENAPI,
    "paths /v1/billing/credit-state get (billing_credit_state_v1_billing_credit_state_get) "
    "parameters `x-api-key`",
)
O_WORDS = src(KUGEL_OPENAPI, "components.schemas.WordTimestamp")


def op_source(op: api.RestOperation) -> Source:
    return src(KUGEL_OPENAPI, f"paths {op.path} {op.method.lower()} ({op.operation_id})")


# --------------------------------------------------------------- helpers


def slug(message: str) -> str:
    """Stable ID slug from a KugelAudio `error` message.

    First phrase only (up to the first '.' or ','), lower case, articles dropped:
    "The requested model is temporarily unavailable. ..." -> "requested-model-is-
    temporarily-unavailable".
    """
    phrase = re.split(r"[.,]", message, maxsplit=1)[0].lower()
    words = [w for w in re.findall(r"[a-z0-9]+", phrase) if w not in ("the", "a", "an")]
    return "-".join(words)


def row_outcome(row: KugelErrorRow) -> Acceptable:
    return Acceptable(status=row.status, error_code=row.error_code, detail=row.message)


def row(message: str) -> KugelErrorRow:
    for r in KUGEL_ERRORS:
        if r.message == message:
            return r
    raise KeyError(message)


# The HTTP-style `code` each error_code carries (the first table row for it).
PAYLOAD_CODE: dict[str, int] = {}
for _r in KUGEL_ERRORS:
    PAYLOAD_CODE.setdefault(_r.error_code, _r.status)

# A request the schema forbids, refused in either documented wire form
# (which one is the target's choice is contradiction 15, kugel-http/validation-failure).
INVALID = (
    Acceptable(status=400, error_code="VALIDATION_ERROR"),
    Acceptable(status=422, behaviour='FastAPI body {"detail": [{"loc", "msg", "type"}, ...]}'),
)
O_TTS_422 = src(KUGEL_OPENAPI, "paths /v1/tts/generate post responses 422 (HTTPValidationError)")


def validation_dispute(
    envelope: tuple[Acceptable, ...], on_page: tuple[Source, ...], on_spec: tuple[Source, ...] = ()
) -> dict:
    """Contradiction 15 on one malformed-request clause: the errors page's 400 envelope
    (``envelope``: the outcomes that keep it) or the OpenAPI's 422 validation body."""
    return dict(
        alternatives=(
            Alternative(
                key="400-envelope",
                summary='errors page: 400, error_code "VALIDATION_ERROR", in the '
                "{error, error_code, code} envelope",
                sources=on_page,
                outcomes=envelope,
            ),
            Alternative(
                key="422-fastapi",
                summary='OpenAPI: 422 with FastAPI\'s HTTPValidationError {"detail": [...]} '
                "on every operation",
                sources=(O_VALIDATION, *on_spec),
                outcomes=(INVALID[1],),
                spec_literal=True,
            ),
        ),
        preferred="400-envelope",
        rationale=(
            "The errors page is the document written about error bodies, while the OpenAPI's "
            "422 is the framework's generated default attached to every operation alike. One "
            "choice for every malformed-request clause: a service has one validation layer."
        ),
        contradiction=15,
    )


CODE_TAGS: dict[str, tuple[str, ...]] = {
    "VALIDATION_ERROR": ("validation",),
    "UNAUTHORIZED": ("auth",),
    "INSUFFICIENT_CREDITS": ("credits",),
    "NOT_FOUND": ("not-found",),
    "RATE_LIMITED": ("rate-limit", "retry-after"),
    "INTERNAL_ERROR": ("internal",),
    "MODEL_UNAVAILABLE": ("overload", "retry-after"),
}

# Topic tags per message, and the condition in our words (fallback: the table's meaning).
TOPIC_TAGS: dict[str, tuple[str, ...]] = {
    "text required": ("tts",),
    "Unsupported audio format": ("references", "voices"),
    "Invalid voice metadata": ("voices",),
    "Voice not found": ("voices",),
    "Dictionary not found": ("dictionaries",),
    "Entry not found": ("dictionaries",),
    "Project not found": ("projects", "dictionaries"),
    "Reference not found": ("references", "voices"),
    "Request exceeds the maximum character limit": ("tts",),
    "Audio generation failed": ("tts",),
    "Sample generation failed": ("voices",),
    "Failed to fetch voice": ("voices",),
}
WHEN: dict[str, str] = {
    "Invalid request": "an HTTP request body is malformed or breaks its schema",
    "Invalid JSON body": "an HTTP request body does not parse as JSON",
    "text required": "a synthesis request carries no text",
    "Unsupported audio format": (
        "reference audio (POST /v1/voices `files`, or a reference upload) is in a file format "
        "the service does not take"
    ),
    "Invalid voice metadata": (
        "the metadata of a new voice (the JSON body or the multipart `metadata` part of "
        "POST /v1/voices) does not parse or does not validate"
    ),
    "Unauthorized": "the API key is absent, wrong, or not accepted for the call",
    "Insufficient credits": "the organisation lacks the credits the request would use",
    "Forbidden": "a valid key asks for a resource it may not use",
    "Voice not found": "the voice named does not exist or the caller cannot see it",
    "Dictionary not found": "the dictionary named does not exist or the caller cannot see it",
    "Entry not found": "the dictionary entry named does not exist or the caller cannot see it",
    "Project not found": "the project named does not exist or the caller cannot see it",
    "Reference not found": "the voice reference named does not exist or the caller cannot see it",
    "Rate limit exceeded": "the organisation goes over its request rate limit",
    "Request exceeds the maximum character limit": (
        "one request's text is longer than the organisation's tier allows"
    ),
    "Audio generation failed": "synthesis fails before any usable audio exists",
    "Sample generation failed": "rendering a voice sample fails",
    "Failed to fetch voice": "the voice's metadata cannot be loaded",
    "Model overloaded, please try again later.": "cluster capacity is momentarily exhausted",
    "The requested model is temporarily unavailable. Please try again shortly.": (
        "the model asked for is momentarily unavailable"
    ),
}


def ops_for(message: str) -> tuple[str, ...]:
    return tuple(op.key for op in api.REST_OPERATIONS if message in op.not_found)


def row_requirement(row: KugelErrorRow) -> str:
    when = WHEN.get(row.message, row.meaning)
    text = (
        f'When {when}, the answer is HTTP {row.status} with error_code "{row.error_code}", '
        f'error "{row.message}" and code {row.status}.'
    )
    ops = ops_for(row.message)
    if ops:
        text += f" Operations: {', '.join(ops)}."
    return text


def row_tags(row: KugelErrorRow) -> tuple[str, ...]:
    return ("error-shape", *CODE_TAGS[row.error_code], *TOPIC_TAGS.get(row.message, ()))
