"""The KugelAudio error envelope ``{error, error_code, code}``, for REST and WebSocket.

A handler raises :class:`KugelError` with a row of the errors table (found by its
`error` message, :data:`harness.contract.tables.KUGEL_ERRORS`); :func:`rest_body`
and :func:`frame` render it, applying the chosen side of contradictions 13 and 15
and the ``kugel-*`` deviations. The one row outside the table, ``MISSING_VOICE_ID``, is
raised only on the 9-code side of contradiction 19 (:func:`missing_voice_code`);
``TOO_MANY_CONTEXTS`` never is, since the emulator does not serve ``/ws/tts/multi``. ``retry_after`` never appears in a body unless the
``kugel-retry-after-in-body`` deviation is on; the wait goes in ``Retry-After``.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse

from harness.contract import kugel_api as api
from harness.contract.tables import KUGEL_ERRORS, KugelErrorRow

from ..alternatives import KUGEL_CODE_SET, KUGEL_FORBIDDEN, KUGEL_VALIDATION, Choices
from ..deviations import (
    KUGEL_CODE_MISMATCH,
    KUGEL_ERROR_ONLY,
    KUGEL_FORBIDDEN_CODE,
    KUGEL_RETRY_AFTER_IN_BODY,
)

ROWS: dict[str, KugelErrorRow] = {r.message: r for r in KUGEL_ERRORS}
MISSING_VOICE = api.MISSING_VOICE_ID_MESSAGE
MISSING_VOICE_CODE = "MISSING_VOICE_ID"
# Not in the errors page's table: the transcriptions' row (contradiction 19, 9-code side).
EXTRA_ROWS: dict[str, KugelErrorRow] = {
    MISSING_VOICE: KugelErrorRow(400, MISSING_VOICE_CODE, MISSING_VOICE, "no voice_id given"),
}

INVALID_REQUEST = "Invalid request"
INVALID_JSON = "Invalid JSON body"
TEXT_REQUIRED = "text required"
UNSUPPORTED_AUDIO = "Unsupported audio format"
INVALID_METADATA = "Invalid voice metadata"
UNAUTHORIZED = "Unauthorized"
NO_CREDITS = "Insufficient credits"
FORBIDDEN = "Forbidden"
VOICE_NOT_FOUND = "Voice not found"
DICT_NOT_FOUND = "Dictionary not found"
ENTRY_NOT_FOUND = "Entry not found"
PROJECT_NOT_FOUND = "Project not found"
REFERENCE_NOT_FOUND = "Reference not found"
RATE_LIMITED = "Rate limit exceeded"
TOO_LONG = "Request exceeds the maximum character limit"
GENERATION_FAILED = "Audio generation failed"
SAMPLE_FAILED = "Sample generation failed"
FETCH_VOICE_FAILED = "Failed to fetch voice"
OVERLOADED = "Model overloaded, please try again later."
MODEL_UNAVAILABLE = "The requested model is temporarily unavailable. Please try again shortly."

FORBIDDEN_DEVIATION_CODE = "ACCESS_DENIED"  # undocumented: what kugel-forbidden-code sends
MISMATCH_HTTP_CODE = 200  # what kugel-code-mismatch puts in an HTTP body's `code`

# The close code that follows an error frame with this error_code (close-code table).
CLOSE_FOR: dict[str, int] = {
    "UNAUTHORIZED": 4001,
    "INSUFFICIENT_CREDITS": 4003,
    "RATE_LIMITED": 4029,
    "MODEL_UNAVAILABLE": 4500,
    "INTERNAL_ERROR": 4000,
}


class KugelError(Exception):
    """One documented error. ``detail``: FastAPI-style items for the 422 alternative."""

    def __init__(
        self,
        message: str,
        *,
        retry_after: float | None = None,
        detail: Sequence[dict[str, Any]] | None = None,
    ) -> None:
        super().__init__(message)
        self.row = ROWS[message] if message in ROWS else EXTRA_ROWS[message]
        self.retry_after = retry_after
        self.detail = list(detail) if detail else None

    @property
    def status(self) -> int:
        return self.row.status

    @property
    def retry_after_header(self) -> str | None:
        if self.retry_after is None:
            return None
        return str(max(1, math.ceil(self.retry_after)))


def validation_item(kind: str, loc: Sequence[str | int], msg: str, value: Any = None) -> dict:
    return {"type": kind, "loc": list(loc), "msg": msg, "input": value}


def error_code(err: KugelError, choices: Choices, deviations: frozenset[str]) -> str:
    if err.row.status == 403:
        if KUGEL_FORBIDDEN_CODE in deviations:
            return FORBIDDEN_DEVIATION_CODE
        o = choices.outcome(KUGEL_FORBIDDEN, "kugel-http", "error_code")
        if o is not None and o.error_code:
            return o.error_code
    return err.row.error_code


def envelope(
    err: KugelError, choices: Choices, deviations: frozenset[str], code: int
) -> dict[str, Any]:
    if KUGEL_ERROR_ONLY in deviations:
        body: dict[str, Any] = {"error": err.row.message}
    else:
        body = {
            "error": err.row.message,
            "error_code": error_code(err, choices, deviations),
            "code": code,
        }
    if KUGEL_RETRY_AFTER_IN_BODY in deviations and err.row.status in (429, 503):
        body["retry_after"] = int(err.retry_after_header or 1)
    return body


def missing_voice_code(choices: Choices) -> bool:
    """Synthesis without a voice_id gets MISSING_VOICE_ID (the chosen side of row 19 has it)."""
    alt = choices.alternative(KUGEL_CODE_SET, "kugel")
    return alt is not None and any(o.error_code == MISSING_VOICE_CODE for o in alt.outcomes)


def uses_422(choices: Choices) -> bool:
    alt = choices.alternative(KUGEL_VALIDATION, "kugel-http")
    return alt is not None and any(o.status == 422 for o in alt.outcomes)


def rest_response(err: KugelError, choices: Choices, deviations: frozenset[str]) -> JSONResponse:
    headers = {}
    if err.retry_after_header is not None:
        headers["Retry-After"] = err.retry_after_header
    if err.detail is not None and uses_422(choices):
        return JSONResponse({"detail": err.detail}, status_code=422, headers=headers)
    code = MISMATCH_HTTP_CODE if KUGEL_CODE_MISMATCH in deviations else err.status
    return JSONResponse(
        envelope(err, choices, deviations, code), status_code=err.status, headers=headers
    )


def ws_frame(
    err: KugelError, choices: Choices, deviations: frozenset[str], close_code: int | None
) -> dict[str, Any]:
    code = err.status
    if KUGEL_CODE_MISMATCH in deviations:
        code = close_code if close_code is not None else MISMATCH_HTTP_CODE
    return envelope(err, choices, deviations, code)
