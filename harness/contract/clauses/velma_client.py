"""Clauses of every Velma-2 endpoint (surface ``velma``): documented client retry behaviour,
pricing, and the WebSocket close-code table as a whole.

Per-surface statuses and message details live in the surface modules. Data only: no I/O.
"""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Clause, Tier
from ..sources import (
    AUDIO_FORMATS_PAGE,
    AUTH_PAGE,
    FAQ_PAGE,
    PII_BATCH_SPEC,
    PII_STREAM_SPEC,
    STT_BATCH_SPEC,
    STT_STREAM_SPEC,
    SVD_STREAM_SPEC,
    TROUBLESHOOTING_PAGE,
    src,
)
from ..tables import (
    DOCUMENTED_BACKOFF,
    PRICE_PER_AUDIO_HOUR_USD,
    VELMA_CLOSE_CODES,
)
from .velma_shared import TS_1003, TS_4002, V, each_channel, each_eos

# --------------------------------------------------------------------------
# Documented client behaviour (judges clients, e.g. our load scenarios)
# --------------------------------------------------------------------------

_B = DOCUMENTED_BACKOFF


def _wait_range(attempt: int) -> str:
    low, high = _B.wait_bounds(attempt)
    return f"after attempt {attempt}: {low:g}–{high:g} s"


_WAITS = "; ".join(_wait_range(n) for n in range(_B.max_retries))
_RETRY_STATUSES = " and ".join(str(s) for s in _B.retry_statuses)

_CLIENT: tuple[Clause, ...] = (
    clause(
        id="velma/client-backoff-jitter",
        surface=V,
        requirement=(
            f"A client retrying after {_RETRY_STATUSES} waits {_B.base:g}**attempt seconds plus "
            f"a uniform random 0–{_B.jitter_s:g} s, counting attempts from 0."
        ),
        sources=(
            src(TROUBLESHOOTING_PAGE, "429 Too Many Requests (REST)"),
            src(TROUBLESHOOTING_PAGE, "503 Service Unavailable"),
            src(FAQ_PAGE, "What does a 503 response mean?"),
        ),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(behaviour=f"observed gaps between attempts fall within: {_WAITS}"),),
        tags=("backoff",),
    ),
    clause(
        id="velma/client-max-retries",
        surface=V,
        requirement=(f"A client gives up after at most {_B.max_retries} retries of one request."),
        sources=(src(TROUBLESHOOTING_PAGE, "429 Too Many Requests (REST)"),),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                behaviour=(
                    f"no more than {_B.max_retries + 1} attempts in all "
                    f"(the page's sample makes {_B.max_retries})"
                )
            ),
        ),
        tags=("backoff",),
    ),
    clause(
        id="velma/client-retry-statuses",
        surface=V,
        requirement=(
            f"A client retries with backoff only on {_RETRY_STATUSES}, never in a tight loop; "
            "other errors are returned to the caller."
        ),
        sources=(
            src(TROUBLESHOOTING_PAGE, "429 Too Many Requests (REST)"),
            src(TROUBLESHOOTING_PAGE, "503 Service Unavailable"),
            src(FAQ_PAGE, "What does a 503 response mean?"),
        ),
        tier=Tier.SHOULD,
        outcomes=tuple(
            Acceptable(status=s, behaviour="retried after a backoff wait, not immediately")
            for s in _B.retry_statuses
        ),
        tags=("backoff", "overload"),
    ),
    clause(
        id="velma/client-concurrency-retry",
        surface=V,
        requirement=(
            "After a concurrency refusal a client waits a few seconds before trying again and, "
            "on WebSocket, reconnects with fewer simultaneous connections."
        ),
        sources=(
            src(AUTH_PAGE, "Retry guidance"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4029"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=429,
                behaviour="the next attempt comes after a delay of at least one second",
            ),
            Acceptable(
                close_code=4029,
                behaviour="the client reconnects after a delay with fewer simultaneous connections",
            ),
        ),
        tags=("backoff", "admission"),
    ),
    clause(
        id="velma/client-monthly-no-retry",
        surface=V,
        requirement=(
            "After a monthly-limit refusal a client stops retrying that model until the period "
            "resets."
        ),
        sources=(src(AUTH_PAGE, "Retry guidance"),),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=403,
                behaviour="no further request to that model follows in the same run",
            ),
        ),
        tags=("backoff", "quota"),
    ),
    clause(
        id="velma/client-semaphore",
        surface=V,
        requirement=(
            "A client bounds its own in-flight requests per model with a semaphore sized to the "
            "organisation's concurrency limit."
        ),
        sources=(src(AUTH_PAGE, "Python semaphore pattern"),),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                behaviour=(
                    "in-flight requests never exceed the configured limit, so no concurrency "
                    "refusal is provoked by the client itself"
                )
            ),
        ),
        tags=("admission", "backoff"),
    ),
)

# --------------------------------------------------------------------------
# Billing
# --------------------------------------------------------------------------


def _price_clause(surface: str, price: float) -> Clause:
    return clause(
        id=f"velma/price-{surface}",
        surface=V,
        requirement=f"`{surface}` is billed at ${price:g} per hour of audio processed.",
        sources=(src(FAQ_PAGE, "How is usage billed?"),),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(
                behaviour=(
                    f"charge = {price:g} USD × audio seconds / 3600 "
                    f"(one audio hour costs ${price:g})"
                )
            ),
        ),
        tags=("pricing",),
    )


_BILLING: tuple[Clause, ...] = (
    clause(
        id="velma/billed-duration",
        surface=V,
        requirement=(
            "Usage is measured from the audio's true length; the `duration_ms` a response "
            "reports is that length and is what gets billed."
        ),
        sources=(
            src(FAQ_PAGE, "How is usage billed?"),
            src(STT_BATCH_SPEC, "components.schemas.TranscriptionResponse.duration_ms"),
            src(PII_BATCH_SPEC, "components.schemas.RedactionMetadata.duration_ms"),
            src(STT_STREAM_SPEC, "components.messages.DoneResult"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    "`duration_ms` matches the decoded length of the submitted audio, not the "
                    "file size, upload time or processing time"
                )
            ),
        ),
        tags=("pricing", "quota"),
    ),
    *(_price_clause(s, p) for s, p in PRICE_PER_AUDIO_HOUR_USD.items()),
)

# --------------------------------------------------------------------------
# WebSocket closing, as a whole
# --------------------------------------------------------------------------

_CLOSE_CODE_LIST = ", ".join(str(c) for c in VELMA_CLOSE_CODES)

_CLOSING: tuple[Clause, ...] = (
    clause(
        id="velma/close-codes",
        surface=V,
        requirement=(
            f"The FAQ lists the close codes a Velma-2 client should handle ({_CLOSE_CODE_LIST}), "
            "each with its cause. A list of codes to handle is not a promise that no other code "
            "occurs, so the code each provoked cause closed with is recorded; the per-surface "
            "clauses judge the codes the specs promise."
        ),
        sources=(
            src(FAQ_PAGE, "What WebSocket close codes should I handle?"),
            src(AUDIO_FORMATS_PAGE, "error table (close codes 1003, 4002)"),
            src(AUTH_PAGE, "Authentication error codes > WebSocket endpoints"),
            src(AUTH_PAGE, "Rate limit error codes"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4001 (STT Streaming)"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4003"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4029"),
            TS_1003,
            TS_4002,
            *each_channel("description, 'WebSocket Close Codes'"),
        ),
        tier=Tier.INFO,
        outcomes=tuple(
            Acceptable(close_code=code, behaviour=meaning)
            for code, meaning in VELMA_CLOSE_CODES.items()
        ),
        tags=("close-code",),
    ),
    clause(
        id="velma/ws-error-before-close",
        surface=V,
        requirement=(
            'An `{"type": "error", "error": str}` message comes right before each close the '
            "specs pair with one: 1003, 4003 and 4029 on every streaming surface and 4002 on "
            "deepfake streaming (close-code lists), and the close that ends an error during "
            "processing, such as an internal failure or undecodable audio (error-handling "
            "sections). Nothing is promised for 4001, which no spec lists."
        ),
        sources=(
            *each_channel("description, 'WebSocket Close Codes'"),
            src(STT_STREAM_SPEC, "channels.velma2SttStreaming description, 'Error Handling'"),
            src(STT_STREAM_SPEC, "components.messages.ErrorResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(message="error", behaviour="the last text message before a non-1000 close"),
        ),
        tags=("close-code", "error-shape"),
    ),
    clause(
        id="velma/end-of-stream",
        surface=V,
        requirement=(
            'An empty text frame ("") ends the input: the server finishes buffered audio, '
            "sends what results remain, then `done`, then closes normally."
        ),
        sources=(
            src(FAQ_PAGE, "How do I signal the end of my audio stream?"),
            src(STT_STREAM_SPEC, "components.messages.EndOfStream"),
            src(SVD_STREAM_SPEC, "operations.signalEnd"),
            src(PII_STREAM_SPEC, "components.messages.EndOfStream"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                close_code=1000,
                message="done",
                behaviour="`done` is the last message; results for all sent audio come before it",
            ),
        ),
        tags=("close-code",),
    ),
    clause(
        id="velma/empty-binary-not-eos",
        surface=V,
        requirement=(
            "The documents name an empty TEXT frame as the end of input and say nothing about "
            "a zero-length binary frame; whether one ends the stream is recorded, not judged."
        ),
        sources=(
            *each_eos("(text/plain, const '')"),
            src(SVD_STREAM_SPEC, "components.messages.audioData (frames of any size)"),
        ),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(
                behaviour="no `done` follows an empty binary frame; later audio is analysed"
            ),
            Acceptable(
                close_code=1000, message="done", behaviour="the empty frame ended the input"
            ),
        ),
        tags=("close-code",),
    ),
)

CLAUSES: tuple[Clause, ...] = (*_CLIENT, *_BILLING, *_CLOSING)
