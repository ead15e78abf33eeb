"""KugelAudio error contract (surfaces ``kugel-http``, ``kugel-ws``, ``kugel``): the 20-row payload
table and the 5 close codes (one clause per row), the envelope, the contradictions, authentication.

Every KugelAudio clause's text is judged at INFO (``kugel.CLAUSES``). Data only: no I/O.
"""

from __future__ import annotations

from .. import kugel_api as api
from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import KUGEL_ASYNCAPI, src
from ..tables import (
    KUGEL_CLOSE_CODES,
    KUGEL_ERROR_CODES,
    KUGEL_ERRORS,
    KUGEL_RETRY_AFTER_HEADER,
    KugelErrorRow,
)
from .kugel_shared import (
    BOTH,
    CODE_TAGS,
    HTTP,
    O_BILLING_KEY,
    O_TTS_422,
    O_VALIDATION,
    PAYLOAD_CODE,
    S_CLOSE,
    S_HANDLING,
    S_RETRY,
    S_ROWS,
    S_SHAPE,
    T_CLASSES,
    T_CLOSE,
    T_ENVELOPE,
    T_ERROR_FRAME,
    T_ROWS,
    T_SECURITY,
    WHEN,
    WS,
    row,
    row_outcome,
    row_requirement,
    row_tags,
    slug,
    validation_dispute,
)

# ------------------------------------------------- payload table (20 rows)


def _forbidden_clause(row: KugelErrorRow) -> Clause:
    """Contradiction 13: the 403 row pairs with UNAUTHORIZED, not FORBIDDEN."""
    return clause(
        id=f"kugel-http/{slug(row.message)}",
        surface=HTTP,
        requirement=(
            f'When {WHEN[row.message]}, the answer is HTTP 403 with error "{row.message}" and '
            "code 403; the documented error_code is UNAUTHORIZED, the same as for 401."
        ),
        sources=(S_ROWS, T_CLASSES),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="UNAUTHORIZED",
                summary="403 carries error_code UNAUTHORIZED, the class 401 also uses",
                sources=(S_ROWS, T_ROWS, T_CLASSES),
                outcomes=(row_outcome(row),),
            ),
            Alternative(
                key="FORBIDDEN",
                summary=(
                    "the reading a client author may expect from the status and the "
                    '"Forbidden" text: a FORBIDDEN error_code (no KugelAudio page says so)'
                ),
                sources=(S_ROWS,),
                outcomes=(
                    Acceptable(status=row.status, error_code="FORBIDDEN", detail=row.message),
                ),
            ),
        ),
        preferred="UNAUTHORIZED",
        rationale=(
            "The errors page, the specific source for error bodies, pairs 403 with UNAUTHORIZED "
            "and lists no FORBIDDEN code, so clients branching on error_code expect that."
        ),
        contradiction=13,
        tags=row_tags(row),
    )


# Payload rows about a malformed request: the OpenAPI answers them 422 (contradiction 15).
# "Unsupported audio format" and "Invalid voice metadata" are checked by handler code on
# operations whose OpenAPI entry declares no 422 body, so they stay plain.
ROW15_MESSAGES = ("Invalid request", "Invalid JSON body", "text required")


def _row_clause(row: KugelErrorRow) -> Clause:
    if row.status == 403:
        return _forbidden_clause(row)
    if row.message in ROW15_MESSAGES:
        return clause(
            id=f"kugel-http/{slug(row.message)}",
            surface=HTTP,
            requirement=row_requirement(row)
            + " The OpenAPI answers a malformed request with 422 and FastAPI's validation body "
            "instead (contradiction 15).",
            sources=(S_ROWS, T_ROWS, O_VALIDATION, O_TTS_422),
            tier=Tier.MUST,
            tags=row_tags(row),
            **validation_dispute((row_outcome(row),), (S_ROWS, T_ROWS), (O_TTS_422,)),
        )
    return clause(
        id=f"kugel-http/{slug(row.message)}",
        surface=HTTP,
        requirement=row_requirement(row),
        sources=(S_ROWS, T_ROWS),
        tier=Tier.MUST,
        outcomes=(row_outcome(row),),
        tags=row_tags(row),
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
    return clause(
        id=f"kugel-ws/close-{close_code}",
        surface=WS,
        requirement=(
            f"When {_CLOSE_WHEN.get(close_code, meaning)} on an open TTS socket, the server "
            f"closes with {close_code}; an error frame sent before that close carries error_code "
            f'"{error_code}" and code {payload}. The page only describes closes that follow an '
            "error frame, without promising one, so a missing frame is judged by "
            "kugel-ws/error-frame-before-close, not here. Refusals before the upgrade are "
            "covered by kugel-ws/auth-failure-path and kugel-ws/insufficient-credits."
        ),
        sources=(S_CLOSE, T_CLOSE),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                close_code=close_code,
                behaviour=(
                    f'any error frame before the close has error_code "{error_code}" and '
                    f"code {payload}"
                ),
            ),
        ),
        tags=("close-code", "websocket", *CODE_TAGS[error_code]),
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
_NO_CODE_422 = Acceptable(
    status=422, behaviour="a FastAPI validation body (contradiction 15), which has no error_code"
)

_GENERAL = (
    clause(
        id="kugel/error-envelope",
        surface=BOTH,
        requirement=(
            "Every HTTP error body and every WebSocket error frame is one JSON object with "
            "`error` (string), `error_code` (string) and `code` (integer). The 422 side of "
            "contradiction 15 is the one documented exception."
        ),
        sources=(S_SHAPE, T_ENVELOPE, T_ERROR_FRAME),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="JSON object; error: str, error_code: str, code: int"),),
        tags=("error-shape",),
    ),
    clause(
        id="kugel-http/code-matches-status",
        surface=HTTP,
        requirement="The `code` in an HTTP error body equals the response's HTTP status.",
        sources=(S_SHAPE, T_ENVELOPE),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="body.code == HTTP status"),),
        tags=("error-shape",),
    ),
    clause(
        id="kugel/error-code-documented",
        surface=BOTH,
        requirement=(
            "`error_code` is always one of the documented classes; the errors page's tables "
            f"name seven ({_codes}), the error-code list adds MISSING_VOICE_ID and the "
            "streaming AsyncAPI's error frame adds it and TOO_MANY_CONTEXTS. A FastAPI 422 "
            "body (contradiction 15) has no error_code and is not judged here."
        ),
        sources=(S_ROWS, S_CLOSE, T_CLASSES, _T_CODE_ENUM),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="7-codes",
                summary="errors page: only the seven classes of its payload and close-code tables",
                sources=(S_ROWS, S_CLOSE),
                outcomes=(*(Acceptable(error_code=c) for c in _CODES_7), _NO_CODE_422),
            ),
            Alternative(
                key="9-codes",
                summary=(
                    "error-code list and AsyncAPI error frame: the seven, plus MISSING_VOICE_ID "
                    "(synthesis without a voice_id) and TOO_MANY_CONTEXTS (a context over the "
                    "limit of /ws/tts/multi)"
                ),
                sources=(T_CLASSES, T_ROWS, _T_CODE_ENUM),
                outcomes=(*(Acceptable(error_code=c) for c in _CODES_9), _NO_CODE_422),
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
    clause(
        id="kugel/error-text-display-only",
        surface=BOTH,
        requirement=(
            "Clients are told to branch on `error_code` and `code` and to show `error` only; a "
            "target must therefore make those two fields enough to tell conditions apart, and "
            "this harness's own client logic never reads `error`."
        ),
        sources=(S_SHAPE, S_HANDLING),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(behaviour="error_code + code identify the condition without `error`"),
        ),
        tags=("error-shape",),
    ),
    clause(
        id="kugel/no-retry-after-in-body",
        surface=BOTH,
        requirement="No error body or error frame contains a `retry_after` key.",
        sources=(S_RETRY, T_ENVELOPE),
        tier=Tier.MUST,
        outcomes=(Acceptable(behaviour="`retry_after` absent from the JSON"),),
        tags=("error-shape", "retry-after"),
    ),
    clause(
        id="kugel-http/retry-after-header",
        surface=HTTP,
        requirement=(
            f"A 429 or 503 answer sends the `{KUGEL_RETRY_AFTER_HEADER}` header whenever the "
            "server knows when a retry can succeed; the page makes it conditional."
        ),
        sources=(S_RETRY, T_ROWS),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(header=KUGEL_RETRY_AFTER_HEADER),),
        tags=("retry-after", "rate-limit", "overload"),
    ),
    clause(
        id="kugel-ws/error-frame-before-close",
        surface=WS,
        requirement=(
            "When the server ends a socket because of an error, it should send the JSON error "
            "frame first and then close with a code from the close-code table. The page speaks "
            "of the frame conditionally (for a close that follows one), so a close without it "
            "is a recommendation missed, not a violation."
        ),
        sources=(S_CLOSE, T_ERROR_FRAME),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour="error frame received before the close frame"),),
        tags=("websocket", "close-code", "error-shape"),
    ),
    clause(
        id="kugel-ws/close-code-separate",
        surface=WS,
        requirement=(
            "The close code and the frame's JSON `code` are separate values: the frame keeps "
            "the HTTP-style status (e.g. 429) while the close uses the 4xxx code (e.g. 4029)."
        ),
        sources=(S_CLOSE, T_ERROR_FRAME),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(behaviour="frame.code is an HTTP-style status, never the close code"),
        ),
        tags=("websocket", "close-code", "error-shape"),
    ),
    clause(
        id="kugel-ws/error-frame-payloads",
        surface=WS,
        requirement=(
            "WebSocket error frames use the rows of the payload table: their (error_code, code) "
            'pair is a row\'s, e.g. a malformed message yields "VALIDATION_ERROR" with code 400. '
            "The row's `error` text is display text, recorded only."
        ),
        sources=(S_ROWS, S_CLOSE),
        tier=Tier.MUST,
        outcomes=tuple(
            Acceptable(
                error_code=r.error_code, detail=r.message, behaviour=f"frame code {r.status}"
            )
            for r in KUGEL_ERRORS
        ),
        tags=("websocket", "error-shape"),
    ),
)

# --------------------------------------------------------- contradictions

_insufficient = row("Insufficient credits")
_DISPUTED = (
    clause(
        id="kugel-http/validation-failure",
        surface=HTTP,
        requirement=(
            "A request that breaks the documented schema (missing field, wrong type, value out "
            "of range, unknown field) is refused; the two KugelAudio documents give different "
            "statuses and bodies for the refusal."
        ),
        sources=(S_ROWS, O_VALIDATION, O_TTS_422),
        tier=Tier.MUST,
        **validation_dispute(
            (
                Acceptable(
                    status=400,
                    error_code="VALIDATION_ERROR",
                    behaviour="body {error, error_code, code} with code 400",
                ),
            ),
            (S_SHAPE, S_ROWS, T_ROWS),
            (O_TTS_422,),
        ),
        tags=("validation", "error-shape"),
    ),
    clause(
        id="kugel-ws/insufficient-credits",
        surface=WS,
        requirement=(
            "A socket opened by an organisation already out of credits is refused either at the "
            "upgrade with HTTP 402 or, once open, by an INSUFFICIENT_CREDITS frame (code 402) "
            "and close 4003. Plain HTTP always answers 402 (kugel-http/insufficient-credits)."
        ),
        sources=(S_ROWS, S_CLOSE),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="close-4003",
                summary="close-code table: upgrade accepted, error frame, then close 4003",
                sources=(S_CLOSE, T_CLOSE),
                outcomes=(
                    Acceptable(
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
                sources=(S_ROWS,),
                outcomes=(
                    Acceptable(
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
    clause(
        id="kugel-http/auth-bearer",
        surface=HTTP,
        requirement=(
            f"REST calls authenticate with `{api.AUTH_HEADER}: {api.BEARER_PREFIX}<key>`. Only "
            "the third-party transcription names this header; the OpenAPI declares no scheme."
        ),
        sources=(T_SECURITY, S_ROWS),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour="valid key as Bearer token is not refused with 401"),),
        tags=("auth",),
    ),
    clause(
        id="kugel-http/auth-x-api-key",
        surface=HTTP,
        requirement=(
            f"REST calls may instead send the key as `{api.API_KEY_HEADER}`; the OpenAPI shows "
            "that header on its billing operations only."
        ),
        sources=(O_BILLING_KEY, S_ROWS),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour="valid key in x-api-key is not refused with 401"),),
        tags=("auth",),
    ),
    clause(
        id="kugel-ws/auth-api-key-query",
        surface=WS,
        requirement=(
            f"A TTS socket authenticates with the `{api.WS_API_KEY_QUERY}` query parameter on "
            "its URL (third-party transcription only)."
        ),
        sources=(T_SECURITY,),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour="upgrade with a valid api_key query succeeds (101)"),),
        tags=("auth", "websocket"),
    ),
    clause(
        id="kugel-ws/auth-bearer-handshake",
        surface=WS,
        requirement=(
            "A Bearer `Authorization` header on the upgrade request is accepted in place of "
            "the query parameter (third-party transcription only)."
        ),
        sources=(T_SECURITY,),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour="upgrade with a valid Bearer header succeeds (101)"),),
        tags=("auth", "websocket"),
    ),
    clause(
        id="kugel-ws/auth-failure-path",
        surface=WS,
        requirement=(
            "A bad key on a socket is refused either at the upgrade (HTTP 401 with the "
            "envelope) or just after it (UNAUTHORIZED frame, close 4001); no close code can "
            "precede the 101, and the documents do not say which path applies."
        ),
        sources=(S_ROWS, S_CLOSE),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(status=401, error_code="UNAUTHORIZED", detail="Unauthorized"),
            Acceptable(close_code=4001, error_code="UNAUTHORIZED"),
        ),
        tags=("auth", "websocket", "close-code"),
    ),
)


CLAUSES: tuple[Clause, ...] = (*_PAYLOAD_ROWS, *_CLOSE_ROWS, *_GENERAL, *_DISPUTED, *_AUTH)
