"""Clauses of every Velma-2 endpoint (surface ``velma``): authentication, the 401/403 split,
error body shapes, admission and quota.

Per-surface statuses and message details live in the surface modules. Data only: no I/O.
"""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import (
    AUTH_PAGE,
    FAQ_PAGE,
    PII_STREAM_SPEC,
    RFC_9110,
    RFC_9113,
    STT_BATCH_SPEC,
    STT_STREAM_SPEC,
    SVD_BATCH_SPEC,
    TROUBLESHOOTING_PAGE,
    src,
)
from ..tables import (
    DETAIL_MODEL_NOT_ENABLED,
    DETAIL_MONTHLY_LIMIT,
    VELMA_HOST_PAGES,
    VELMA_HOST_SPECS,
    VELMA_HTTP_AUTH_HEADER,
    VELMA_WS_AUTH_QUERY,
)
from .velma_shared import BATCH_SPECS, STREAM_SPECS, V, batch_op, each, each_channel

# --------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------

_AUTH: tuple[Clause, ...] = (
    clause(
        id="velma/auth-http-header",
        surface=V,
        requirement=(
            f"Every HTTP batch request authenticates with the key in the `{VELMA_HTTP_AUTH_HEADER}` "
            "request header; a key elsewhere (query string, `Authorization`) does not count."
        ),
        sources=(
            src(AUTH_PAGE, "Passing your API key > HTTP batch endpoints"),
            src(FAQ_PAGE, "How do I authenticate my requests?"),
            src(TROUBLESHOOTING_PAGE, "401 Unauthorized"),
            *each(BATCH_SPECS, "components.securitySchemes.ApiKeyAuth"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    f"a valid key in `{VELMA_HTTP_AUTH_HEADER}` is processed; the same key only "
                    "in the query string or an `Authorization` header is refused as unauthenticated"
                )
            ),
        ),
        tags=("auth",),
    ),
    clause(
        id="velma/auth-ws-query",
        surface=V,
        requirement=(
            f"A WebSocket connection authenticates only with the `{VELMA_WS_AUTH_QUERY}` query "
            "parameter of the opening request; a key offered after the handshake (in a frame or "
            "any later header) cannot authenticate it."
        ),
        sources=(
            src(AUTH_PAGE, "Passing your API key > WebSocket streaming endpoints"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4001 (STT Streaming)"),
            *each_channel("bindings.ws.query.api_key"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    f"with a valid `{VELMA_WS_AUTH_QUERY}` the stream runs; without it the "
                    "connection is refused at the handshake and sending the key afterwards "
                    "changes nothing"
                )
            ),
        ),
        tags=("auth",),
    ),
    clause(
        id="velma/key-org-scope",
        surface=V,
        requirement=(
            "An API key is tied to one organisation and itself determines which models it "
            "may use and its usage limits, fixed when the key is made. Whether two keys of one "
            "organisation share access and limits is not documented; it is recorded only."
        ),
        sources=(src(AUTH_PAGE, "API keys"),),
        tier=Tier.INFO,
        outcomes=(
            Acceptable(behaviour="two keys of one organisation share model access and limits"),
            Acceptable(behaviour="each key of the organisation has its own access and limits"),
        ),
        tags=("auth", "quota"),
    ),
    clause(
        id="velma/auth-header-casing",
        surface=V,
        requirement=(
            f"Whether the `{VELMA_HTTP_AUTH_HEADER}` header is recognised under another letter "
            "case (e.g. `x-api-key`)."
        ),
        sources=(
            src(TROUBLESHOOTING_PAGE, "401 Unauthorized"),
            src(RFC_9110, "5.1 Field Names"),
        ),
        tier=Tier.SHOULD,
        alternatives=(
            Alternative(
                key="case-insensitive",
                summary=(
                    "Header names are case-insensitive in HTTP, and HTTP/2 sends them in lower "
                    "case, so any casing of the name authenticates."
                ),
                sources=(
                    src(RFC_9110, "5.1 Field Names"),
                    src(RFC_9113, "8.2 HTTP Fields"),
                ),
                outcomes=(
                    Acceptable(
                        status=200,
                        behaviour=(
                            "`x-api-key` and `X-API-KEY` carrying a valid key are processed "
                            f"exactly like `{VELMA_HTTP_AUTH_HEADER}`"
                        ),
                    ),
                ),
            ),
            Alternative(
                key="exact-casing",
                summary=(
                    f"Only the spelling `{VELMA_HTTP_AUTH_HEADER}` is recognised; "
                    "`x-api-key` counts as a missing key."
                ),
                sources=(src(TROUBLESHOOTING_PAGE, "401 Unauthorized"),),
                outcomes=(
                    Acceptable(
                        status=401,
                        behaviour="a valid key under `x-api-key` is refused as missing",
                    ),
                ),
            ),
        ),
        preferred="case-insensitive",
        rationale=(
            "RFC 9110 makes field names case-insensitive and HTTP/2 lower-cases them on the "
            "wire, so a casing-sensitive server would refuse every HTTP/2 client and many "
            "proxies; the troubleshooting line reads as advice on the header's name."
        ),
        contradiction=8,
        tags=("auth",),
    ),
    clause(
        id="velma/auth-missing-key",
        surface=V,
        requirement=(
            f"A batch request without an `{VELMA_HTTP_AUTH_HEADER}` header is refused without "
            "processing. The status is disputed per surface (contradiction 16, "
            "`<surface>/missing-key`): the seeds name 401, the specs FastAPI's 422; this clause "
            "holds on either side."
        ),
        sources=(
            src(AUTH_PAGE, "Authentication error codes > HTTP endpoints"),
            src(TROUBLESHOOTING_PAGE, "401 Unauthorized"),
            batch_op(STT_BATCH_SPEC, "responses 422 (missing `X-API-Key` header)"),
            batch_op(SVD_BATCH_SPEC, "responses 422 (missing `X-API-Key` header)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(status=401),
            Acceptable(status=422, behaviour="FastAPI validation body naming the header in `loc`"),
        ),
        tags=("auth", "error-shape"),
    ),
    clause(
        id="velma/auth-invalid-key-401",
        surface=V,
        requirement=(
            "An HTTP request whose key is unknown or revoked is refused with a "
            '`{"detail": str}` body and nothing processed. Which status is disputed per '
            "surface (contradictions 4 and 17, `<surface>/invalid-key`): the authentication "
            "page says 401, the specs list only 403 and 502; this clause holds on any side."
        ),
        sources=(
            src(AUTH_PAGE, "Authentication error codes > HTTP endpoints"),
            src(STT_BATCH_SPEC, "POST /api/velma-2-stt-batch responses 403 and 502 (no 401)"),
        ),
        tier=Tier.MUST,
        outcomes=tuple(
            Acceptable(status=status, behaviour='`{"detail": str}` body; nothing processed')
            for status in (401, 403, 502)
        ),
        tags=("auth",),
    ),
    clause(
        id="velma/auth-forbidden-403",
        surface=V,
        requirement=(
            "As a general rule, a valid key that may not use the model, or whose organisation's "
            "usage limit is spent, is answered 403 rather than 401."
        ),
        sources=(
            src(AUTH_PAGE, "Authentication error codes > HTTP endpoints"),
            src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
            src(FAQ_PAGE, "What rate limits apply?"),
        ),
        tier=Tier.MUST,
        outcomes=(Acceptable(status=403, behaviour='`{"detail": str}` body; nothing processed'),),
        tags=("auth", "quota"),
    ),
    clause(
        id="velma/forbidden-detail-distinguishes",
        surface=V,
        requirement=(
            "A 403 for a model that is not enabled and a 403 for a spent usage limit should "
            "carry different `detail` texts, so a client can tell them apart. The pages give "
            'the texts as examples ("or similar"), so only their being different is judged, '
            "and as a recommendation: no page promises the exact strings."
        ),
        sources=(
            src(AUTH_PAGE, "Authentication error codes > HTTP endpoints"),
            src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=403,
                behaviour="the two causes never share one `detail` string",
            ),
        ),
        tags=("auth", "error-shape"),
    ),
    clause(
        id="velma/forbidden-detail-model-access",
        surface=V,
        requirement=(
            f"The 403 for a model not enabled for the organisation says `{DETAIL_MODEL_NOT_ENABLED}`."
        ),
        sources=(src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),),
        tier=Tier.SHOULD,
        outcomes=(Acceptable(status=403, detail=DETAIL_MODEL_NOT_ENABLED),),
        tags=("auth", "error-shape"),
    ),
    clause(
        id="velma/forbidden-detail-monthly-limit",
        surface=V,
        requirement=(
            f"The 403 for a spent monthly quota says `{DETAIL_MONTHLY_LIMIT}` or words to that "
            "effect."
        ),
        sources=(src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(status=403, detail=DETAIL_MONTHLY_LIMIT),
            Acceptable(status=403, behaviour="`detail` mentions the monthly limit in other words"),
        ),
        tags=("auth", "quota", "error-shape"),
    ),
    clause(
        id="velma/host",
        surface=V,
        requirement=(
            "The host that serves the Velma-2 model APIs: the seed pages and the specs name "
            "different ones. Judged from the base URLs of the profile, not from any response."
        ),
        sources=(
            src(AUTH_PAGE, "surfaces table (Velma-2 model APIs row)"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4001 (STT Streaming), fix example"),
            *each(BATCH_SPECS, "servers[0].url"),
            *each(STREAM_SPECS, "servers.production.host"),
        ),
        tier=Tier.INFO,
        alternatives=(
            Alternative(
                key=VELMA_HOST_PAGES,
                summary=(
                    "The authentication page lists this host for the Velma-2 model APIs and the "
                    "troubleshooting page connects to it in its example."
                ),
                sources=(
                    src(AUTH_PAGE, "surfaces table (Velma-2 model APIs row)"),
                    src(
                        TROUBLESHOOTING_PAGE,
                        "WebSocket close code 4001 (STT Streaming), fix example",
                    ),
                ),
                outcomes=(
                    Acceptable(behaviour=f"the profile's Velma-2 host is {VELMA_HOST_PAGES}"),
                ),
            ),
            Alternative(
                key=VELMA_HOST_SPECS,
                summary="Every Velma-2 OpenAPI and AsyncAPI file names this host as its server.",
                sources=(
                    *each(BATCH_SPECS, "servers[0].url"),
                    *each(STREAM_SPECS, "servers.production.host"),
                ),
                outcomes=(
                    Acceptable(behaviour=f"the profile's Velma-2 host is {VELMA_HOST_SPECS}"),
                ),
                spec_literal=True,
            ),
        ),
        preferred=VELMA_HOST_PAGES,
        rationale=(
            "The seed pages are the primary contract and state the host in a table written for "
            "the purpose, with a full connection URL as example; a spec's `servers` line is one "
            "generated default per file. INFO: the host is configuration, not behaviour a target "
            "can keep or break, and it is recorded only when the profile points at one of them."
        ),
        contradiction=18,
        tags=("host",),
    ),
)

# --------------------------------------------------------------------------
# Error body shapes
# --------------------------------------------------------------------------

_ERROR_SHAPES: tuple[Clause, ...] = (
    clause(
        id="velma/error-body-detail",
        surface=V,
        requirement=(
            'Every REST error response is a JSON object `{"detail": str}` whose text is for '
            "people; 422 validation failures are the one exception."
        ),
        sources=(
            *each(BATCH_SPECS, "components.schemas.ErrorResponse"),
            src(AUTH_PAGE, "Authentication error codes > HTTP endpoints (the detail field)"),
            src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    "4xx/5xx responses other than 422 have `Content-Type: application/json` and "
                    "a string `detail`"
                )
            ),
        ),
        tags=("error-shape",),
    ),
    clause(
        id="velma/error-422-shape",
        surface=V,
        requirement=(
            'A 422 body is either `{"detail": str}` or FastAPI\'s validation form '
            '`{"detail": [{"loc": [...], "msg": str, "type": str}, ...]}`.'
        ),
        sources=(
            *each(BATCH_SPECS, "components.schemas.HTTPValidationError"),
            batch_op(SVD_BATCH_SPEC, "responses 422 (oneOf ErrorResponse / HTTPValidationError)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(status=422, behaviour="`detail` is a string"),
            Acceptable(
                status=422,
                behaviour=(
                    "`detail` is a list of objects each with `loc` (list of str/int), `msg` (str) "
                    "and `type` (str)"
                ),
            ),
        ),
        tags=("error-shape",),
    ),
)

# --------------------------------------------------------------------------
# Admission and quota
# --------------------------------------------------------------------------

_OVER_LIMIT = (
    Acceptable(status=429),
    Acceptable(status=403),
    Acceptable(close_code=4029),
    Acceptable(close_code=4003),
)

_LIMIT_SOURCES = (
    src(AUTH_PAGE, "Rate limits"),
    src(AUTH_PAGE, "Rate limit error codes"),
    src(FAQ_PAGE, "What rate limits apply?"),
)

_ADMISSION: tuple[Clause, ...] = (
    clause(
        id="velma/limits-per-org-per-model",
        surface=V,
        requirement=(
            "Two separate limits — in-flight requests/connections and monthly audio hours — are "
            "kept per organisation and per model; spending one model's limit leaves other "
            "models untouched."
        ),
        sources=(src(AUTH_PAGE, "Rate limits"), src(FAQ_PAGE, "What rate limits apply?")),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    "an organisation at its limit on one model is still admitted on another; "
                    "hitting the concurrency limit does not consume monthly quota or vice versa"
                )
            ),
        ),
        tags=("admission", "quota"),
    ),
    clause(
        id="velma/concurrency-immediate-reject",
        surface=V,
        requirement=(
            "A request or connection beyond the concurrency limit is refused at once; it is "
            "never held in a queue until a slot frees."
        ),
        sources=(
            *_LIMIT_SOURCES,
            src(TROUBLESHOOTING_PAGE, "429 Too Many Requests (REST)"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4029"),
        ),
        tier=Tier.MUST,
        outcomes=tuple(
            Acceptable(
                status=o.status,
                close_code=o.close_code,
                behaviour="returned without waiting for any in-flight request to finish",
            )
            for o in _OVER_LIMIT
        ),
        tags=("admission",),
    ),
    clause(
        id="velma/concurrency-slot-frees",
        surface=V,
        requirement=(
            "A concurrency slot is given back when its request completes or its connection "
            "closes; the next request is then admitted."
        ),
        sources=(src(AUTH_PAGE, "Retry guidance"),),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    "after an in-flight request at the limit finishes, a new request from the "
                    "same organisation and model is admitted"
                )
            ),
        ),
        tags=("admission",),
    ),
    clause(
        id="velma/monthly-limit-sticky",
        surface=V,
        requirement=(
            "Once the organisation's monthly audio hours for a model are spent, every further "
            "request for it is refused until the period resets; retrying does not help."
        ),
        sources=(
            *_LIMIT_SOURCES,
            src(AUTH_PAGE, "Retry guidance"),
            src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4029"),
        ),
        tier=Tier.MUST,
        outcomes=tuple(
            Acceptable(
                status=o.status,
                close_code=o.close_code,
                behaviour="the same refusal repeats on every retry within the period",
            )
            for o in _OVER_LIMIT
        ),
        tags=("quota",),
    ),
    clause(
        id="velma/quota-counts-audio-hours",
        surface=V,
        requirement=(
            "The monthly limit counts hours of audio processed, not requests, bytes or "
            "connection time."
        ),
        sources=(src(AUTH_PAGE, "Rate limits"), src(FAQ_PAGE, "What rate limits apply?")),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    "usage grows by each request's reported `duration_ms`; many short requests "
                    "and one long request of equal total audio spend the same quota"
                )
            ),
        ),
        tags=("quota",),
    ),
    clause(
        id="velma/ws-reject-at-handshake",
        surface=V,
        requirement=(
            "A WebSocket connection that fails authentication, model access or a limit is turned "
            "away as it opens, before any audio is taken."
        ),
        sources=(
            src(AUTH_PAGE, "Authentication error codes > WebSocket endpoints"),
            src(FAQ_PAGE, "What rate limits apply?"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4029"),
            *each_channel("description, 'Connection Flow'", (STT_STREAM_SPEC, PII_STREAM_SPEC)),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                close_code=4001, behaviour="closed right after the upgrade, before any result"
            ),
            Acceptable(
                close_code=4003, behaviour="closed right after the upgrade, before any result"
            ),
            Acceptable(
                close_code=4029, behaviour="closed right after the upgrade, before any result"
            ),
            Acceptable(status=401, behaviour="the upgrade itself is refused with an HTTP status"),
            Acceptable(status=403, behaviour="the upgrade itself is refused with an HTTP status"),
            Acceptable(status=429, behaviour="the upgrade itself is refused with an HTTP status"),
        ),
        tags=("admission", "auth", "close-code"),
    ),
)


CLAUSES: tuple[Clause, ...] = (*_AUTH, *_ERROR_SHAPES, *_ADMISSION)
