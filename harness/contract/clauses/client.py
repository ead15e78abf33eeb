"""Clauses addressed to clients that only ``harness audit-client`` judges: KugelAudio's
client guidance, and what a Velma-2 streaming client does with each close code. (The
Velma-2 REST retry and concurrency clauses, which the load scenarios judge too, live in
:mod:`.velma_client`.) Data only: no I/O.

Every clause here is SHOULD: the pages advise clients, they cannot promise what a client
does, so a client that misses one is ``non-strict`` (``--strict`` makes it fail).

The IDs keep their surface's prefix (``velma/client-…``, ``kugel/client-…``) rather than a
``client/`` one: the catalog holds an ID's prefix equal to its surface (``problems()``), a
surface has one vendor (the KugelAudio wording rule reads it), and IDs are never renamed
(docs/CLAUSE-AUTHORING.md rule 1; ``velma/client-*`` are also suite and baseline case keys).
"""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Clause, Surface, Tier
from ..sources import AUTH_PAGE, FAQ_PAGE, TROUBLESHOOTING_PAGE, src
from ..tables import KUGEL_RETRY_AFTER_HEADER
from .kugel_shared import S_CLOSE, S_HANDLING, S_RETRY, S_ROWS, S_SHAPE
from .velma_shared import V

#: the shortest wait we accept as "backing off" before a KugelAudio retry (the page gives
#: no figure; our reading of "back off", stated in the clause)
KUGEL_MIN_BACKOFF_S = 0.5

_VELMA_STREAMING: tuple[Clause, ...] = (
    clause(
        id="velma/client-stream-internal-error",
        surface=V,
        requirement=(
            "After a 1011 close (internal error during streaming) a client does not reconnect "
            "at once: a reconnection first waits the documented backoff, 2**attempt + "
            "uniform(0, 1) s, as the overload guidance asks of any retry. Resending is not "
            "required, but the audio is never dropped silently: the stream gets its result "
            "or the program reports the failure (exits non-zero)."
        ),
        sources=(
            src(FAQ_PAGE, "What WebSocket close codes should I handle?"),
            src(TROUBLESHOOTING_PAGE, "503 Service Unavailable"),
            src(FAQ_PAGE, "What does a 503 response mean?"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                close_code=1011,
                behaviour="any reconnection waits at least the documented backoff; every stream "
                "gets its result or the program exits non-zero",
            ),
        ),
        tags=("backoff", "close-code"),
    ),
    clause(
        id="velma/client-stream-no-retry",
        surface=V,
        requirement=(
            "After a 4001 close (invalid API key, STT streaming) or a 4003 close (model not "
            "enabled, or usage denied) a client does not keep reconnecting with the same key: "
            "at most one further attempt of a stream. (Deepfake streaming also uses 4003 for "
            "rate limits, contradiction 6; STT streaming has 4029 for them.)"
        ),
        sources=(
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4001 (STT Streaming)"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4003"),
            src(AUTH_PAGE, "Authentication error codes > WebSocket endpoints"),
            src(AUTH_PAGE, "Retry guidance"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(close_code=4001, behaviour="at most one further connection per stream"),
            Acceptable(close_code=4003, behaviour="at most one further connection per stream"),
        ),
        tags=("backoff", "close-code"),
    ),
)

_KUGEL: tuple[Clause, ...] = (
    clause(
        id="kugel/client-honours-retry-after",
        surface=Surface.KUGEL,
        requirement=(
            f"A client that gets an HTTP error with a `{KUGEL_RETRY_AFTER_HEADER}` header waits "
            "at least that long before it tries the same request again."
        ),
        sources=(S_RETRY,),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=429,
                behaviour=f"the next attempt starts no earlier than `{KUGEL_RETRY_AFTER_HEADER}` "
                "seconds after the refusal",
            ),
        ),
        tags=("backoff", "client"),
    ),
    clause(
        id="kugel/client-backs-off",
        surface=Surface.KUGEL,
        requirement=(
            "After a rate-limit refusal (`RATE_LIMITED`: HTTP 429, or WebSocket close 4029) "
            f"without a `{KUGEL_RETRY_AFTER_HEADER}` header, or an overload "
            "(`MODEL_UNAVAILABLE`: HTTP 503, close 4500), a client backs off and retries "
            "later: it tries the same request again, but not at once. The page gives no "
            f"figure; we read 'back off' as a first wait of at least {KUGEL_MIN_BACKOFF_S:g} s "
            "and no later wait shorter than the one before."
        ),
        sources=(S_HANDLING, S_ROWS, S_CLOSE),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=429,
                behaviour=f"retried after at least {KUGEL_MIN_BACKOFF_S:g} s, waits not "
                "shrinking, until served",
            ),
            Acceptable(status=503, behaviour="retried later, not at once, until served"),
            Acceptable(close_code=4029, behaviour="reconnected later, not at once, until served"),
        ),
        tags=("backoff", "client"),
    ),
    clause(
        id="kugel/client-no-retry",
        surface=Surface.KUGEL,
        requirement=(
            "A 402 (`INSUFFICIENT_CREDITS`: the organisation lacks credits) or a 403 (the key "
            "is valid but cannot use the resource) does not change by asking again, so a "
            "client does not retry it: at most one further attempt of the same request."
        ),
        sources=(S_ROWS,),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(status=402, behaviour="at most one further attempt"),
            Acceptable(status=403, behaviour="at most one further attempt"),
        ),
        tags=("backoff", "client"),
    ),
    clause(
        id="kugel/client-keys-off-error-code",
        surface=Surface.KUGEL,
        requirement=(
            "A client decides what to do from `error_code` and `code`, never from the `error` "
            "text, which is for display only: a `RATE_LIMITED` refusal whose `error` text "
            "reads like another error is still backed off and retried until served."
        ),
        sources=(S_SHAPE, S_HANDLING),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=429,
                behaviour="the same request is retried and served whatever the `error` text says",
            ),
        ),
        tags=("backoff", "client"),
    ),
)

CLAUSES: tuple[Clause, ...] = (*_VELMA_STREAMING, *_KUGEL)
