"""Clauses for KugelAudio TTS (surfaces ``kugel-http``, ``kugel-ws``, ``kugel``).

Sources, by weight:
- seeds/kugelaudio-errors.txt: the primary contract for the error envelope, the
  20-row payload table and the 5 WebSocket close codes (tables.KUGEL_ERRORS,
  tables.KUGEL_CLOSE_CODES). One clause per row, generated below.
- specs/kugelaudio/kugelaudio-tts.openapi.json: KugelAudio's own OpenAPI; the REST
  operations (harness.contract.kugel_api.REST_OPERATIONS), one clause each.
- specs/kugelaudio/kugelaudio-tts-streaming.asyncapi.yml and
  kugelaudio-error-codes.yml: third-party transcriptions of KugelAudio's docs.
  Clauses resting only on them are SHOULD or INFO and say so.
"""

from __future__ import annotations

import re
from dataclasses import replace

from .. import kugel_api as api
from ..model import Alternative, Clause, Outcome, Source, Surface, Tier
from ..sources import KUGEL_ASYNCAPI, KUGEL_ERRORS_PAGE, KUGEL_ERRORS_SPEC, KUGEL_OPENAPI, src
from ..tables import (
    KUGEL_CLOSE_CODES,
    KUGEL_ERROR_CODES,
    KUGEL_ERRORS,
    KUGEL_RETRY_AFTER_HEADER,
    KugelErrorRow,
)

_HTTP = Surface.KUGEL_HTTP
_WS = Surface.KUGEL_WS
_BOTH = Surface.KUGEL

# ---------------------------------------------------------------- citations
_S_SHAPE = src(KUGEL_ERRORS_PAGE, "error shape (field table)")
_S_RETRY = src(KUGEL_ERRORS_PAGE, "error shape (retry_after note)")
_S_ROWS = src(KUGEL_ERRORS_PAGE, "HTTP and WebSocket payloads")
_S_CLOSE = src(KUGEL_ERRORS_PAGE, "WebSocket close codes")
_S_HANDLING = src(KUGEL_ERRORS_PAGE, "Handling errors")
_T_ENVELOPE = src(KUGEL_ERRORS_SPEC, "envelope (third-party transcription)")
_T_ROWS = src(KUGEL_ERRORS_SPEC, "errors (third-party transcription)")
_T_CLASSES = src(KUGEL_ERRORS_SPEC, "error_code_classes (third-party transcription)")
_T_CLOSE = src(KUGEL_ERRORS_SPEC, "websocket_close_codes (third-party transcription)")
_T_SECURITY = src(KUGEL_ASYNCAPI, "components.securitySchemes.apiKeyQuery (third-party)")
_T_ERROR_FRAME = src(KUGEL_ASYNCAPI, "components.messages.errorFrame (third-party)")
_T_TTS = src(KUGEL_ASYNCAPI, "channels.streamSpeech /ws/tts (third-party)")
_T_GENERATE = src(KUGEL_ASYNCAPI, "components.messages.generateRequest (third-party)")
_T_CHUNK = src(KUGEL_ASYNCAPI, "components.messages.audioChunk (third-party)")
_T_FINAL = src(KUGEL_ASYNCAPI, "components.messages.finalWithUsage (third-party)")
_T_SETTINGS = src(KUGEL_ASYNCAPI, "components.messages.updateSettings (third-party)")
_T_STREAM = src(KUGEL_ASYNCAPI, "channels.streamInput /ws/tts/stream (third-party)")
_T_CONTROLS = src(KUGEL_ASYNCAPI, "components.messages.cancelMessage, closeMessage (third-party)")
_T_WORDS = src(KUGEL_ASYNCAPI, "components.messages.wordTimestamps (third-party)")
_T_MULTI = src(KUGEL_ASYNCAPI, "channels.multiContext /ws/tts/multi (third-party)")
_O_SYNTH = src(KUGEL_OPENAPI, "components.schemas.SynthesizeRequest")
_O_VALIDATION = src(KUGEL_OPENAPI, "components.schemas.HTTPValidationError (422 on operations)")
_O_BILLING_KEY = src(
    KUGEL_OPENAPI,
    "paths /v1/billing/credit-state get (billing_credit_state_v1_billing_credit_state_get) "
    "parameters `x-api-key`",
)
_O_WORDS = src(KUGEL_OPENAPI, "components.schemas.WordTimestamp")


def _op_source(op: api.RestOperation) -> Source:
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


def _row_outcome(row: KugelErrorRow) -> Outcome:
    return Outcome(status=row.status, error_code=row.error_code, detail=row.message)


def _row(message: str) -> KugelErrorRow:
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
_INVALID = (
    Outcome(status=400, error_code="VALIDATION_ERROR"),
    Outcome(status=422, behaviour='FastAPI body {"detail": [{"loc", "msg", "type"}, ...]}'),
)
_O_TTS_422 = src(KUGEL_OPENAPI, "paths /v1/tts/generate post responses 422 (HTTPValidationError)")


def _validation_dispute(
    envelope: tuple[Outcome, ...], on_page: tuple[Source, ...], on_spec: tuple[Source, ...] = ()
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
                sources=(_O_VALIDATION, *on_spec),
                outcomes=(_INVALID[1],),
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


_CODE_TAGS: dict[str, tuple[str, ...]] = {
    "VALIDATION_ERROR": ("validation",),
    "UNAUTHORIZED": ("auth",),
    "INSUFFICIENT_CREDITS": ("credits",),
    "NOT_FOUND": ("not-found",),
    "RATE_LIMITED": ("rate-limit", "retry-after"),
    "INTERNAL_ERROR": ("internal",),
    "MODEL_UNAVAILABLE": ("overload", "retry-after"),
}

# Topic tags per message, and the condition in our words (fallback: the table's meaning).
_TOPIC_TAGS: dict[str, tuple[str, ...]] = {
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
_WHEN: dict[str, str] = {
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


def _ops_for(message: str) -> tuple[str, ...]:
    return tuple(op.key for op in api.REST_OPERATIONS if message in op.not_found)


def _row_requirement(row: KugelErrorRow) -> str:
    when = _WHEN.get(row.message, row.meaning)
    text = (
        f'When {when}, the answer is HTTP {row.status} with error_code "{row.error_code}", '
        f'error "{row.message}" and code {row.status}.'
    )
    ops = _ops_for(row.message)
    if ops:
        text += f" Operations: {', '.join(ops)}."
    return text


def _row_tags(row: KugelErrorRow) -> tuple[str, ...]:
    return ("error-shape", *_CODE_TAGS[row.error_code], *_TOPIC_TAGS.get(row.message, ()))


# ------------------------------------------------- payload table (20 rows)


def _forbidden_clause(row: KugelErrorRow) -> Clause:
    """Contradiction 13: the 403 row pairs with UNAUTHORIZED, not FORBIDDEN."""
    return Clause(
        id=f"kugel-http/{slug(row.message)}",
        surface=_HTTP,
        requirement=(
            f'When {_WHEN[row.message]}, the answer is HTTP 403 with error "{row.message}" and '
            "code 403; the documented error_code is UNAUTHORIZED, the same as for 401."
        ),
        sources=(_S_ROWS, _T_CLASSES),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="UNAUTHORIZED",
                summary="403 carries error_code UNAUTHORIZED, the class 401 also uses",
                sources=(_S_ROWS, _T_ROWS, _T_CLASSES),
                outcomes=(_row_outcome(row),),
            ),
            Alternative(
                key="FORBIDDEN",
                summary=(
                    "the reading a client author may expect from the status and the "
                    '"Forbidden" text: a FORBIDDEN error_code (no KugelAudio page says so)'
                ),
                sources=(_S_ROWS,),
                outcomes=(Outcome(status=row.status, error_code="FORBIDDEN", detail=row.message),),
            ),
        ),
        preferred="UNAUTHORIZED",
        rationale=(
            "The errors page, the specific source for error bodies, pairs 403 with UNAUTHORIZED "
            "and lists no FORBIDDEN code, so clients branching on error_code expect that."
        ),
        contradiction=13,
        tags=_row_tags(row),
    )


# Payload rows about a malformed request: the OpenAPI answers them 422 (contradiction 15).
# "Unsupported audio format" and "Invalid voice metadata" are checked by handler code on
# operations whose OpenAPI entry declares no 422 body, so they stay plain.
ROW15_MESSAGES = ("Invalid request", "Invalid JSON body", "text required")


def _row_clause(row: KugelErrorRow) -> Clause:
    if row.status == 403:
        return _forbidden_clause(row)
    if row.message in ROW15_MESSAGES:
        return Clause(
            id=f"kugel-http/{slug(row.message)}",
            surface=_HTTP,
            requirement=_row_requirement(row)
            + " The OpenAPI answers a malformed request with 422 and FastAPI's validation body "
            "instead (contradiction 15).",
            sources=(_S_ROWS, _T_ROWS, _O_VALIDATION, _O_TTS_422),
            tier=Tier.MUST,
            tags=_row_tags(row),
            **_validation_dispute((_row_outcome(row),), (_S_ROWS, _T_ROWS), (_O_TTS_422,)),
        )
    return Clause(
        id=f"kugel-http/{slug(row.message)}",
        surface=_HTTP,
        requirement=_row_requirement(row),
        sources=(_S_ROWS, _T_ROWS),
        tier=Tier.MUST,
        outcomes=(_row_outcome(row),),
        tags=_row_tags(row),
    )


_PAYLOAD_ROWS = tuple(_row_clause(r) for r in KUGEL_ERRORS)

# ---------------------------------------------- close-code table (5 rows)

_CLOSE_WHEN: dict[int, str] = {
    4001: "the key fails authentication",
    4003: "the organisation has run out of credits",
    4029: "the organisation goes over its rate limit",
    4500: "the selected model is unavailable or overloaded",
    4000: "generation fails for a generic reason",
}


def _close_clause(close_code: int, error_code: str, meaning: str) -> Clause:
    payload = PAYLOAD_CODE[error_code]
    return Clause(
        id=f"kugel-ws/close-{close_code}",
        surface=_WS,
        requirement=(
            f"When {_CLOSE_WHEN.get(close_code, meaning)} on an open TTS socket, the server "
            f"closes with {close_code}; an error frame sent before that close carries error_code "
            f'"{error_code}" and code {payload}. The page only describes closes that follow an '
            "error frame, without promising one, so a missing frame is judged by "
            "kugel-ws/error-frame-before-close, not here. Refusals before the upgrade are "
            "covered by kugel-ws/auth-failure-path and kugel-ws/insufficient-credits."
        ),
        sources=(_S_CLOSE, _T_CLOSE),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                close_code=close_code,
                behaviour=(
                    f'any error frame before the close has error_code "{error_code}" and '
                    f"code {payload}"
                ),
            ),
        ),
        tags=("close-code", "websocket", *_CODE_TAGS[error_code]),
    )


_CLOSE_ROWS = tuple(
    _close_clause(code, error_code, meaning)
    for code, (error_code, meaning) in KUGEL_CLOSE_CODES.items()
)

# ------------------------------------------------ envelope and general rules

_codes = ", ".join(KUGEL_ERROR_CODES)
_CODES_7 = tuple(KUGEL_ERROR_CODES)
_CODES_9 = (*KUGEL_ERROR_CODES, *api.TRANSCRIBED_ONLY_ERROR_CODES)
_T_CODE_ENUM = src(
    KUGEL_ASYNCAPI, "components.messages.errorFrame payload error_code enum (third-party)"
)
_NO_CODE_422 = Outcome(
    status=422, behaviour="a FastAPI validation body (contradiction 15), which has no error_code"
)

_GENERAL = (
    Clause(
        id="kugel/error-envelope",
        surface=_BOTH,
        requirement=(
            "Every HTTP error body and every WebSocket error frame is one JSON object with "
            "`error` (string), `error_code` (string) and `code` (integer). The 422 side of "
            "contradiction 15 is the one documented exception."
        ),
        sources=(_S_SHAPE, _T_ENVELOPE, _T_ERROR_FRAME),
        tier=Tier.MUST,
        outcomes=(Outcome(behaviour="JSON object; error: str, error_code: str, code: int"),),
        tags=("error-shape",),
    ),
    Clause(
        id="kugel-http/code-matches-status",
        surface=_HTTP,
        requirement="The `code` in an HTTP error body equals the response's HTTP status.",
        sources=(_S_SHAPE, _T_ENVELOPE),
        tier=Tier.MUST,
        outcomes=(Outcome(behaviour="body.code == HTTP status"),),
        tags=("error-shape",),
    ),
    Clause(
        id="kugel/error-code-documented",
        surface=_BOTH,
        requirement=(
            "`error_code` is always one of the documented classes; the errors page's tables "
            f"name seven ({_codes}), the error-code list adds MISSING_VOICE_ID and the "
            "streaming AsyncAPI's error frame adds it and TOO_MANY_CONTEXTS. A FastAPI 422 "
            "body (contradiction 15) has no error_code and is not judged here."
        ),
        sources=(_S_ROWS, _S_CLOSE, _T_CLASSES, _T_CODE_ENUM),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="7-codes",
                summary="errors page: only the seven classes of its payload and close-code tables",
                sources=(_S_ROWS, _S_CLOSE),
                outcomes=(*(Outcome(error_code=c) for c in _CODES_7), _NO_CODE_422),
            ),
            Alternative(
                key="9-codes",
                summary=(
                    "error-code list and AsyncAPI error frame: the seven, plus MISSING_VOICE_ID "
                    "(synthesis without a voice_id) and TOO_MANY_CONTEXTS (a context over the "
                    "limit of /ws/tts/multi)"
                ),
                sources=(_T_CLASSES, _T_ROWS, _T_CODE_ENUM),
                outcomes=(*(Outcome(error_code=c) for c in _CODES_9), _NO_CODE_422),
                spec_literal=True,
            ),
        ),
        preferred="7-codes",
        rationale=(
            "The errors page is the primary source and its tables are the set clients are told "
            "to branch on; the two extra codes appear only in third-party transcriptions. A "
            "target that never sends them keeps both sides; one that does is on the 9-code side."
        ),
        contradiction=19,
        tags=("error-shape",),
    ),
    Clause(
        id="kugel/error-text-display-only",
        surface=_BOTH,
        requirement=(
            "Clients are told to branch on `error_code` and `code` and to show `error` only; a "
            "target must therefore make those two fields enough to tell conditions apart, and "
            "this harness's own client logic never reads `error`."
        ),
        sources=(_S_SHAPE, _S_HANDLING),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="error_code + code identify the condition without `error`"),),
        tags=("error-shape",),
    ),
    Clause(
        id="kugel/no-retry-after-in-body",
        surface=_BOTH,
        requirement="No error body or error frame contains a `retry_after` key.",
        sources=(_S_RETRY, _T_ENVELOPE),
        tier=Tier.MUST,
        outcomes=(Outcome(behaviour="`retry_after` absent from the JSON"),),
        tags=("error-shape", "retry-after"),
    ),
    Clause(
        id="kugel-http/retry-after-header",
        surface=_HTTP,
        requirement=(
            f"A 429 or 503 answer sends the `{KUGEL_RETRY_AFTER_HEADER}` header whenever the "
            "server knows when a retry can succeed; the page makes it conditional."
        ),
        sources=(_S_RETRY, _T_ROWS),
        tier=Tier.SHOULD,
        outcomes=(Outcome(header=KUGEL_RETRY_AFTER_HEADER),),
        tags=("retry-after", "rate-limit", "overload"),
    ),
    Clause(
        id="kugel-ws/error-frame-before-close",
        surface=_WS,
        requirement=(
            "When the server ends a socket because of an error, it should send the JSON error "
            "frame first and then close with a code from the close-code table. The page speaks "
            "of the frame conditionally (for a close that follows one), so a close without it "
            "is a recommendation missed, not a violation."
        ),
        sources=(_S_CLOSE, _T_ERROR_FRAME),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="error frame received before the close frame"),),
        tags=("websocket", "close-code", "error-shape"),
    ),
    Clause(
        id="kugel-ws/close-code-separate",
        surface=_WS,
        requirement=(
            "The close code and the frame's JSON `code` are separate values: the frame keeps "
            "the HTTP-style status (e.g. 429) while the close uses the 4xxx code (e.g. 4029)."
        ),
        sources=(_S_CLOSE, _T_ERROR_FRAME),
        tier=Tier.MUST,
        outcomes=(Outcome(behaviour="frame.code is an HTTP-style status, never the close code"),),
        tags=("websocket", "close-code", "error-shape"),
    ),
    Clause(
        id="kugel-ws/error-frame-payloads",
        surface=_WS,
        requirement=(
            "WebSocket error frames use the rows of the payload table: their (error_code, code) "
            'pair is a row\'s, e.g. a malformed message yields "VALIDATION_ERROR" with code 400. '
            "The row's `error` text is display text, recorded only."
        ),
        sources=(_S_ROWS, _S_CLOSE),
        tier=Tier.MUST,
        outcomes=tuple(
            Outcome(error_code=r.error_code, detail=r.message, behaviour=f"frame code {r.status}")
            for r in KUGEL_ERRORS
        ),
        tags=("websocket", "error-shape"),
    ),
)

# --------------------------------------------------------- contradictions

_insufficient = _row("Insufficient credits")
_DISPUTED = (
    Clause(
        id="kugel-http/validation-failure",
        surface=_HTTP,
        requirement=(
            "A request that breaks the documented schema (missing field, wrong type, value out "
            "of range, unknown field) is refused; the two KugelAudio documents give different "
            "statuses and bodies for the refusal."
        ),
        sources=(_S_ROWS, _O_VALIDATION, _O_TTS_422),
        tier=Tier.MUST,
        **_validation_dispute(
            (
                Outcome(
                    status=400,
                    error_code="VALIDATION_ERROR",
                    behaviour="body {error, error_code, code} with code 400",
                ),
            ),
            (_S_SHAPE, _S_ROWS, _T_ROWS),
            (_O_TTS_422,),
        ),
        tags=("validation", "error-shape"),
    ),
    Clause(
        id="kugel-ws/insufficient-credits",
        surface=_WS,
        requirement=(
            "A socket opened by an organisation already out of credits is refused either at the "
            "upgrade with HTTP 402 or, once open, by an INSUFFICIENT_CREDITS frame (code 402) "
            "and close 4003. Plain HTTP always answers 402 (kugel-http/insufficient-credits)."
        ),
        sources=(_S_ROWS, _S_CLOSE),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="close-4003",
                summary="close-code table: upgrade accepted, error frame, then close 4003",
                sources=(_S_CLOSE, _T_CLOSE),
                outcomes=(
                    Outcome(
                        close_code=4003,
                        error_code=_insufficient.error_code,
                        detail=_insufficient.message,
                        behaviour="error frame with code 402 precedes the close",
                    ),
                ),
            ),
            Alternative(
                key="http-402",
                summary="payload table read for the handshake: the upgrade is refused with 402",
                sources=(_S_ROWS,),
                outcomes=(
                    Outcome(
                        status=402,
                        error_code=_insufficient.error_code,
                        detail=_insufficient.message,
                        behaviour="no 101; 402 response with the JSON error envelope",
                    ),
                ),
            ),
        ),
        preferred="close-4003",
        rationale=(
            "The close-code table is the source specific to the WebSocket transport, and only "
            "after the upgrade can a client read the frame's error_code as the page asks."
        ),
        contradiction=14,
        tags=("credits", "websocket", "close-code"),
    ),
)

# ------------------------------------------------------------ authentication

_AUTH = (
    Clause(
        id="kugel-http/auth-bearer",
        surface=_HTTP,
        requirement=(
            f"REST calls authenticate with `{api.AUTH_HEADER}: {api.BEARER_PREFIX}<key>`. Only "
            "the third-party transcription names this header; the OpenAPI declares no scheme."
        ),
        sources=(_T_SECURITY, _S_ROWS),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="valid key as Bearer token is not refused with 401"),),
        tags=("auth",),
    ),
    Clause(
        id="kugel-http/auth-x-api-key",
        surface=_HTTP,
        requirement=(
            f"REST calls may instead send the key as `{api.API_KEY_HEADER}`; the OpenAPI shows "
            "that header on its billing operations only."
        ),
        sources=(_O_BILLING_KEY, _S_ROWS),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="valid key in x-api-key is not refused with 401"),),
        tags=("auth",),
    ),
    Clause(
        id="kugel-ws/auth-api-key-query",
        surface=_WS,
        requirement=(
            f"A TTS socket authenticates with the `{api.WS_API_KEY_QUERY}` query parameter on "
            "its URL (third-party transcription only)."
        ),
        sources=(_T_SECURITY,),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="upgrade with a valid api_key query succeeds (101)"),),
        tags=("auth", "websocket"),
    ),
    Clause(
        id="kugel-ws/auth-bearer-handshake",
        surface=_WS,
        requirement=(
            "A Bearer `Authorization` header on the upgrade request is accepted in place of "
            "the query parameter (third-party transcription only)."
        ),
        sources=(_T_SECURITY,),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="upgrade with a valid Bearer header succeeds (101)"),),
        tags=("auth", "websocket"),
    ),
    Clause(
        id="kugel-ws/auth-failure-path",
        surface=_WS,
        requirement=(
            "A bad key on a socket is refused either at the upgrade (HTTP 401 with the "
            "envelope) or just after it (UNAUTHORIZED frame, close 4001); no close code can "
            "precede the 101, and the documents do not say which path applies."
        ),
        sources=(_S_ROWS, _S_CLOSE),
        tier=Tier.INFO,
        outcomes=(
            Outcome(status=401, error_code="UNAUTHORIZED", detail="Unauthorized"),
            Outcome(close_code=4001, error_code="UNAUTHORIZED"),
        ),
        tags=("auth", "websocket", "close-code"),
    ),
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
    return Clause(
        id=f"kugel-http/{op.key}",
        surface=_HTTP,
        requirement=(
            f"`{op.method} {op.path}` {op.summary}; success is HTTP {op.success_status} "
            f"with {_body(op)}."
        ),
        sources=(_op_source(op),),
        tier=Tier.MUST,
        outcomes=(Outcome(status=op.success_status, behaviour=_body(op)),),
        tags=tags,
    )


_OPERATIONS = tuple(_op_clause(op) for op in api.REST_OPERATIONS)

_S_VOICES = _op_source(api.operation("voices-list"))
_S_ENTRIES = _op_source(api.operation("dictionary-entries-list"))
_S_SAMPLE = _op_source(api.operation("voice-generate-sample"))
_S_REPLACE = _op_source(api.operation("dictionary-entries-replace"))
_S_DICTS = _op_source(api.operation("dictionaries-list"))
_too_long = _row("Request exceeds the maximum character limit")
_v_lo, _v_hi = api.VOICES_LIMIT_RANGE
_e_lo, _e_hi = api.ENTRIES_LIMIT_RANGE
_c_lo, _c_hi = api.CFG_SCALE_RANGE
_t_lo, _t_hi = api.TEMPERATURE_RANGE
_s_lo, _s_hi = api.SPEED_RANGE
_m_lo, _m_hi = api.MAX_NEW_TOKENS_RANGE

_REST_RULES = (
    Clause(
        id="kugel-http/tts-request-limits",
        surface=_HTTP,
        requirement=(
            f"A synthesis request is refused as invalid when text is empty, language is over "
            f"{api.LANGUAGE_MAX_CHARS} characters, temperature leaves {_t_lo}-{_t_hi}, speed leaves "
            f"{_s_lo}-{_s_hi}, max_new_tokens leaves {_m_lo}-{_m_hi}, or dictionary_ids has "
            f"more than {api.DICTIONARY_IDS_MAX} items."
        ),
        sources=(_O_SYNTH, _T_GENERATE, _S_ROWS, _O_VALIDATION),
        tier=Tier.MUST,
        **_validation_dispute((_INVALID[0],), (_S_ROWS,), (_O_SYNTH, _O_TTS_422)),
        tags=("tts", "validation"),
    ),
    Clause(
        id="kugel-http/closed-request-bodies",
        surface=_HTTP,
        requirement=(
            "JSON request bodies for synthesis, dictionaries and entries admit no unknown "
            "fields, so e.g. `project_id` in a dictionary PATCH body is refused as invalid."
        ),
        sources=(
            _O_SYNTH,
            src(KUGEL_OPENAPI, "components.schemas.UpdateDictionaryRequest (additionalProperties)"),
            src(KUGEL_OPENAPI, "components.schemas.EntryPayload (additionalProperties)"),
            _S_ROWS,
            _O_VALIDATION,
        ),
        tier=Tier.MUST,
        **_validation_dispute(
            (_INVALID[0],),
            (_S_ROWS,),
            (
                src(KUGEL_OPENAPI, "paths /v1/dictionaries/{dict_id} patch responses 422"),
                src(KUGEL_OPENAPI, "paths /v1/dictionaries/{dict_id}/entries post responses 422"),
            ),
        ),
        tags=("validation", "tts", "dictionaries"),
    ),
    Clause(
        id="kugel-http/tts-cfg-scale-clamped",
        surface=_HTTP,
        requirement=(
            f"On REST a cfg_scale outside {_c_lo}-{_c_hi} is pulled into that range and "
            "synthesis proceeds; the WebSocket transcription lists the same bounds as hard limits."
        ),
        sources=(_O_SYNTH, _T_GENERATE),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(status=200, behaviour=f"audio produced with cfg_scale in [{_c_lo}, {_c_hi}]"),
        ),
        tags=("tts",),
    ),
    Clause(
        id="kugel-http/tts-text-over-limit",
        surface=_HTTP,
        requirement=(
            "Text over the tier's per-request allowance gets 429 with error "
            f'"{_too_long.message}"; text over the schema limit of {api.TEXT_MAX_CHARS} may '
            "instead be refused as invalid. Which check wins is not documented."
        ),
        sources=(_S_ROWS, _O_SYNTH),
        tier=Tier.INFO,
        outcomes=(_row_outcome(_too_long), *_INVALID),
        tags=("tts", "rate-limit", "validation"),
    ),
    Clause(
        id="kugel-http/tts-missing-voice-id",
        surface=_HTTP,
        requirement=(
            "Synthesis without voice_id: the OpenAPI makes it optional, while the transcriptions "
            f'say there is no default voice and answer 400 "{api.MISSING_VOICE_ID_MESSAGE}" '
            "(error_code MISSING_VOICE_ID, outside the documented set)."
        ),
        sources=(_O_SYNTH, _T_ROWS, _T_GENERATE),
        tier=Tier.INFO,
        outcomes=(
            Outcome(status=400, error_code="MISSING_VOICE_ID", detail=api.MISSING_VOICE_ID_MESSAGE),
            Outcome(status=400, error_code="VALIDATION_ERROR"),
            Outcome(status=200, behaviour="audio in a server-chosen default voice"),
        ),
        tags=("tts", "validation", "voices"),
    ),
    Clause(
        id="kugel-http/tts-output-format",
        surface=_HTTP,
        requirement=(
            "With output_format (e.g. "
            + ", ".join(f'"{t}"' for t in api.OUTPUT_FORMAT_EXAMPLES)
            + ") the token decides codec and rate; without it the body is linear PCM16 at "
            "sample_rate. What a target does when the two disagree is not documented."
        ),
        sources=(_O_SYNTH,),
        tier=Tier.INFO,
        outcomes=(*_INVALID, Outcome(status=200, behaviour="audio follows output_format")),
        tags=("tts", "validation"),
    ),
    Clause(
        id="kugel-http/tts-dictionary-selection",
        surface=_HTTP,
        requirement=(
            "Without dictionary_ids every active dictionary of the project for the language "
            "applies; an empty list applies none; a list applies exactly those, inactive ones "
            "included, whatever their language."
        ),
        sources=(_O_SYNTH,),
        tier=Tier.SHOULD,
        outcomes=(Outcome(status=200, behaviour="replacements heard match the selection rule"),),
        tags=("tts", "dictionaries", "projects"),
    ),
    Clause(
        id="kugel-http/paging-limits",
        surface=_HTTP,
        requirement=(
            f"Voice listing takes limit {_v_lo}-{_v_hi} (default {api.VOICES_LIMIT_DEFAULT}); "
            f"entry listing takes limit {_e_lo}-{_e_hi} (default {api.ENTRIES_LIMIT_DEFAULT}) "
            f"and search up to {api.ENTRIES_SEARCH_MAX_CHARS} characters; offset is never "
            "negative. Values outside are refused as invalid."
        ),
        sources=(_S_VOICES, _S_ENTRIES, _S_ROWS, _O_VALIDATION),
        tier=Tier.MUST,
        **_validation_dispute(
            (_INVALID[0],),
            (_S_ROWS,),
            (
                src(KUGEL_OPENAPI, "paths /v1/voices get responses 422"),
                src(KUGEL_OPENAPI, "paths /v1/dictionaries/{dict_id}/entries get responses 422"),
            ),
        ),
        tags=("validation", "voices", "dictionaries"),
    ),
    Clause(
        id="kugel-http/voice-not-owned",
        surface=_HTTP,
        requirement=(
            "Changing, publishing, sampling or managing references of a voice the caller does "
            "not own is refused; whether as 403 or as 404 (not visible) is not documented."
        ),
        sources=(_S_ROWS, _op_source(api.operation("voice-update"))),
        tier=Tier.INFO,
        outcomes=(
            Outcome(status=403, error_code="UNAUTHORIZED", detail="Forbidden"),
            _row_outcome(_row("Voice not found")),
        ),
        tags=("voices", "auth", "not-found"),
    ),
    Clause(
        id="kugel-http/generate-sample-needs-reference",
        surface=_HTTP,
        requirement=(
            "A sample is only rendered once the voice has a reference recording; the status "
            "for a voice without one is not documented (400 VALIDATION_ERROR is our convention)."
        ),
        sources=(_S_SAMPLE, _S_ROWS),
        tier=Tier.INFO,
        outcomes=(
            Outcome(status=400, error_code="VALIDATION_ERROR"),
            _row_outcome(_row("Sample generation failed")),
        ),
        tags=("voices", "references", "validation"),
    ),
    Clause(
        id="kugel-http/project-scoping",
        surface=_HTTP,
        requirement=(
            "Dictionary calls act on the key's project unless `project_id` names another the "
            "caller may use; a dictionary of a project the caller cannot see is answered as "
            "missing: 404 NOT_FOUND, as the dictionary row or the project row of the payload "
            "table (the text tells which, and is display text only)."
        ),
        sources=(_S_DICTS, _S_ROWS),
        tier=Tier.MUST,
        outcomes=(
            _row_outcome(_row("Dictionary not found")),
            _row_outcome(_row("Project not found")),
        ),
        tags=("projects", "dictionaries", "not-found"),
    ),
    Clause(
        id="kugel-http/entries-replace-idempotent",
        surface=_HTTP,
        requirement=(
            "Bulk replace is atomic and idempotent: entries are upserted by word, others "
            "removed, and sending the same list again leaves the same entries (nothing deleted)."
        ),
        sources=(_S_REPLACE, src(KUGEL_OPENAPI, "components.schemas.BulkReplaceEntriesRequest")),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour="second identical PUT reports deleted == 0"),),
        tags=("dictionaries",),
    ),
)

# ----------------------------------------------------- WebSocket (AsyncAPI)

_rates = ", ".join(str(r) for r in api.WS_SAMPLE_RATES)
_WEBSOCKET = (
    Clause(
        id="kugel-ws/tts-request-cycle",
        surface=_WS,
        requirement=(
            f"On `{api.WS_TTS_PATH}` the client sends one JSON request (text, voice_id, options); "
            "the server streams audio chunk messages and ends the cycle with one `final` "
            "message, after which the same socket takes the next request."
        ),
        sources=(_T_TTS, _T_GENERATE),
        tier=Tier.SHOULD,
        outcomes=(Outcome(message="final", behaviour="≥1 audio chunk, then final; socket open"),),
        tags=("websocket", "tts"),
    ),
    Clause(
        id="kugel-ws/tts-audio-chunk",
        surface=_WS,
        requirement=(
            f'Each audio chunk carries `audio` (base64 PCM16, enc "{api.AUDIO_CHUNK_ENCODING}"), '
            "`idx` counting from 0 by one, `sr` equal to the requested sample_rate (default "
            f"{api.DEFAULT_SAMPLE_RATE}) and `samples` equal to the decoded byte count / 2."
        ),
        sources=(_T_CHUNK, _T_GENERATE),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="audio, idx, sr, samples present and consistent"),),
        tags=("websocket", "tts"),
    ),
    Clause(
        id="kugel-ws/tts-final",
        surface=_WS,
        requirement=(
            "The `final` message has final true, `chunks` equal to the chunks sent, "
            "`total_samples` equal to their sum, timing (dur_ms, gen_ms, rtf) and a `usage` "
            "object (audio_seconds, characters, cost_cents or null, currency, model_id)."
        ),
        sources=(_T_FINAL,),
        tier=Tier.SHOULD,
        outcomes=(Outcome(message="final", behaviour="counts match the chunks received"),),
        tags=("websocket", "tts", "credits"),
    ),
    Clause(
        id="kugel-ws/tts-request-validation",
        surface=_WS,
        requirement=(
            f"A /ws/tts request without text, or with sample_rate outside {{{_rates}}}, gets a "
            "VALIDATION_ERROR frame (code 400) and no audio; one without voice_id gets that or, "
            "per the transcription, MISSING_VOICE_ID."
        ),
        sources=(_T_GENERATE, _S_ROWS),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(error_code="VALIDATION_ERROR", behaviour="error frame, code 400"),
            Outcome(error_code="MISSING_VOICE_ID", behaviour="only when voice_id is missing"),
        ),
        tags=("websocket", "tts", "validation"),
    ),
    Clause(
        id="kugel-ws/update-settings",
        surface=_WS,
        requirement=(
            "`update_settings` changes the sticky defaults of "
            + ", ".join(api.UPDATE_SETTINGS_FIELDS)
            + " and is acknowledged by `settings_updated`; naming "
            + ", ".join(api.UPDATE_SETTINGS_REJECTED)
            + " instead earns a VALIDATION_ERROR frame."
        ),
        sources=(_T_SETTINGS,),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(message="settings_updated"),
            Outcome(error_code="VALIDATION_ERROR", behaviour="only for identity/format fields"),
        ),
        tags=("websocket", "tts", "validation"),
    ),
    Clause(
        id="kugel-ws/stream-turns",
        surface=_WS,
        requirement=(
            f"On `{api.WS_STREAM_PATH}` a config message sets sticky options, text arrives in "
            "pieces, and a flush ends the turn with audio chunks and a usage-free `final`; an "
            f"idle turn is flushed after about {api.STREAM_IDLE_AUTO_FLUSH_S:g} s with a warning."
        ),
        sources=(_T_STREAM, _T_FINAL),
        tier=Tier.SHOULD,
        outcomes=(Outcome(message="final", behaviour="audio for the turn's text, then final"),),
        tags=("websocket", "tts"),
    ),
    Clause(
        id="kugel-ws/stream-controls",
        surface=_WS,
        requirement=(
            '`{"cancel": true}` drops the current turn and `{"close": true}` (alias '
            '`end_session`) ends the session, both keeping the socket; `{"close_socket": true}` '
            "ends the session and also shuts the socket."
        ),
        sources=(_T_CONTROLS,),
        tier=Tier.SHOULD,
        outcomes=(Outcome(behaviour="socket stays open except after close_socket"),),
        tags=("websocket", "tts"),
    ),
    Clause(
        id="kugel-ws/word-timestamps",
        surface=_WS,
        requirement=(
            "With word_timestamps true a `word_timestamps` message follows the audio; its items "
            "use start_ms/end_ms/char_start/char_end/score per the docs transcription, but "
            "start_s/end_s/confidence in the OpenAPI's WordTimestamp."
        ),
        sources=(_T_WORDS, _O_WORDS),
        tier=Tier.INFO,
        outcomes=(
            Outcome(message="word_timestamps", behaviour="items with start_ms, end_ms"),
            Outcome(message="word_timestamps", behaviour="items with start_s, end_s, confidence"),
        ),
        tags=("websocket", "tts"),
    ),
    Clause(
        id="kugel-ws/multi-context",
        surface=_WS,
        requirement=(
            f"`{api.WS_MULTI_PATH}` carries up to {api.MULTI_MAX_CONTEXTS} streams keyed by "
            f"context_id, each closed after {api.MULTI_CONTEXT_IDLE_S:g} s idle; one more is "
            "refused, per the transcription with TOO_MANY_CONTEXTS, a code the errors page lacks."
        ),
        sources=(_T_MULTI, _T_ERROR_FRAME),
        tier=Tier.INFO,
        outcomes=(
            Outcome(error_code="TOO_MANY_CONTEXTS"),
            Outcome(error_code="VALIDATION_ERROR"),
        ),
        tags=("websocket", "tts", "validation"),
    ),
)

# The errors page tells clients to show `error` and never parse it: on every KugelAudio
# clause the text is recorded (wording INFO), while status, error_code and code are judged.
CLAUSES: tuple[Clause, ...] = tuple(
    replace(c, wording=Tier.INFO)
    for c in (
        *_PAYLOAD_ROWS,
        *_CLOSE_ROWS,
        *_GENERAL,
        *_DISPUTED,
        *_AUTH,
        *_OPERATIONS,
        *_REST_RULES,
        *_WEBSOCKET,
    )
)
