"""Error bodies for the REST surfaces, and which status each admission reason gets.

``{"detail": "..."}`` for documented errors; FastAPI's
``{"detail": [{"type", "loc", "msg", "input"}]}`` for 422 validation errors.
The status for a rejected key, model, quota or concurrency slot follows the
alternative chosen in the config (see :mod:`.alternatives`).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.responses import JSONResponse

from harness.contract import tables as T

from .admission import Reason
from .alternatives import CONCURRENCY, QUOTA, REST_BAD_KEY, SVD_BAD_KEY, Choices
from .deviations import WRONG_DETAIL, WRONG_DETAIL_TEXT
from .formfields import field_error
from .state import RequestContext

# Our own wording where the documents give a status but no `detail` string.
DETAIL_INVALID_KEY = "Invalid API key."
DETAIL_MISSING_KEY = "Missing API key."
DETAIL_CONCURRENCY = "Too many concurrent requests."
DETAIL_TOO_LARGE = "The uploaded file is too large."


def error(status: int, detail: str, ctx: RequestContext | None = None) -> JSONResponse:
    if ctx is not None and ctx.has(WRONG_DETAIL):
        detail = WRONG_DETAIL_TEXT
    return JSONResponse({"detail": detail}, status_code=status)


def emulator_error(status: int, message: str) -> JSONResponse:
    """An error about the emulator's own controls (not part of any documented contract)."""
    return JSONResponse({"detail": message, "emulator": True}, status_code=status)


def missing(loc: Sequence[str | int]) -> dict[str, Any]:
    return field_error("missing", loc, "Field required")


def validation_error(errors: Sequence[dict[str, Any]]) -> JSONResponse:
    return JSONResponse({"detail": list(errors)}, status_code=422)


def invalid_language_detail(value: str) -> str:
    return f"Invalid language={value!r}. Expected an ISO 639-1 language code (e.g. 'en', 'fr')."


def missing_key_detail(status: int | None) -> str:
    """The `detail` for a missing key answered with ``status`` (not 422)."""
    return T.DETAIL_FORBIDDEN if status == 403 else DETAIL_MISSING_KEY


def rejection(reason: Reason, surface: str, choices: Choices) -> tuple[int, str]:
    """The status and `detail` a REST surface answers for a rejected request."""
    if reason is Reason.BAD_KEY:
        # row 4 on SVD Batch, row 17 on the other three
        o = choices.outcome(SVD_BAD_KEY, surface, "status") or choices.outcome(
            REST_BAD_KEY, surface, "status"
        )
        status = o.status if o and o.status else 401
        default = T.DETAIL_FORBIDDEN if status == 403 else DETAIL_INVALID_KEY
        return status, (o.detail if o and o.detail else default)
    if reason is Reason.NO_MODEL_ACCESS:
        return 403, T.DETAIL_MODEL_NOT_ENABLED
    if reason is Reason.QUOTA:
        o = choices.outcome(QUOTA, surface, "status")
        status = o.status if o and o.status else 403
        default = T.DETAIL_INSUFFICIENT_CREDITS if status == 429 else T.DETAIL_MONTHLY_LIMIT
        return status, (o.detail if o and o.detail else default)
    o = choices.outcome(CONCURRENCY, surface, "status")
    status = o.status if o and o.status else 429
    return status, (o.detail if o and o.detail else DETAIL_CONCURRENCY)
