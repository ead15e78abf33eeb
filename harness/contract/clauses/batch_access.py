"""Batch clauses every Velma-2 batch surface has: the request, authentication and admission.

Written once per topic and stamped out for each batch surface by ``per_surface``.
"""

from __future__ import annotations

from typing import Any

from ..build import clause, per_surface
from ..model import Acceptable, Alternative, Clause, Surface, Tier
from ..sources import (
    AUTH_PAGE,
    FAQ_PAGE,
    TROUBLESHOOTING_PAGE,
    src,
)
from ..tables import (
    DETAIL_CANNOT_VALIDATE,
    DETAIL_FORBIDDEN,
    DETAIL_INSUFFICIENT_CREDITS,
    DETAIL_MODEL_NOT_ENABLED,
    DETAIL_MONTHLY_LIMIT,
    UPLOAD_PART,
    VELMA_HTTP_AUTH_HEADER,
    VELMA_PATHS,
)
from .batch_shared import (
    AUTH_TABLE,
    BATCH,
    FASTAPI_422,
    NAME,
    PII,
    SPEC,
    STT,
    SVD,
    SVD_403_NOTE,
    VFAST,
    spec,
)

# --------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------


# Row 16: a request without the key header. The seed pages treat it as an authentication
# failure; every batch spec declares the header a required parameter, so a FastAPI service
# refuses it in request validation, before any handler runs.
_MISSING_KEY_422 = Acceptable(
    status=422,
    behaviour=f'{FASTAPI_422}; one `loc` is ["header", "{VELMA_HTTP_AUTH_HEADER}"]',
)


def _missing_key(s: Surface) -> dict[str, Any]:
    on_401 = (AUTH_TABLE, src(TROUBLESHOOTING_PAGE, "401 Unauthorized"))
    on_422 = (
        spec(s, "responses 422 (a required field such as the `X-API-Key` header missing)"),
        src(SPEC[s], "components.schemas.HTTPValidationError"),
    )
    svd_403 = Alternative(
        key="403",
        summary=(
            "SVD Batch sends no separate 401: key problems, a missing key among them, get 403 "
            "with a `detail` that tells them apart from a spent usage limit."
        ),
        sources=(SVD_403_NOTE,),
        outcomes=(Acceptable(status=403),),
    )
    return dict(
        requirement=(
            f"A request with no `{VELMA_HTTP_AUTH_HEADER}` header is refused before any "
            "processing; the seed pages call it an authentication failure (401"
            + (", or 403 on SVD Batch" if s is SVD else "")
            + "), the spec a missing required field (422 with FastAPI's validation body)."
        ),
        sources=(*on_401, *((SVD_403_NOTE,) if s is SVD else ()), *on_422),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="401",
                summary="A missing key is an authentication failure, answered 401 like a bad one.",
                sources=on_401,
                outcomes=(Acceptable(status=401),),
            ),
            *((svd_403,) if s is SVD else ()),
            Alternative(
                key="422",
                summary=(
                    f"`{VELMA_HTTP_AUTH_HEADER}` is a required header parameter of the "
                    "operation; leaving it out fails request validation: 422, `detail` a list "
                    "of {`loc`, `msg`, `type`} items, one naming the header."
                ),
                sources=on_422,
                outcomes=(_MISSING_KEY_422,),
                spec_literal=True,
            ),
        ),
        preferred="422",
        rationale=(
            "All four specs agree and one shows the body; a FastAPI service checks required "
            "parameters before any handler code runs, so the 422 is the framework's own answer, "
            "while the seed pages' 401 lines are prose covering bad and missing keys together."
        ),
        contradiction=16,
        tags=("auth",),
    )


# Row 17: a key the service does not accept, on the three batch surfaces without their own
# SVD-style note (svd-batch/invalid-key is row 4).
def _invalid_key(s: Surface) -> dict[str, Any]:
    on_spec = (
        spec(s, "responses 403 (the spec lists no 401)"),
        spec(s, "responses 502"),
    )
    return dict(
        requirement=(
            f"A key in `{VELMA_HTTP_AUTH_HEADER}` that the service does not accept is refused "
            f"on {NAME[s]} before any processing; the authentication page says 401, while "
            "the spec documents no 401 and answers key problems with 403 (or 502 when the "
            "key cannot be checked)."
        ),
        sources=(AUTH_TABLE, *on_spec),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="401",
                summary="An unknown or wrong key is an authentication failure: 401.",
                sources=(AUTH_TABLE,),
                outcomes=(Acceptable(status=401),),
            ),
            Alternative(
                key="403",
                summary=(
                    "The spec has no 401: a request the service does not permit, a bad key "
                    f"included, gets 403 (its example `detail` is `{DETAIL_FORBIDDEN}`)."
                ),
                sources=on_spec[:1],
                outcomes=(Acceptable(status=403, detail=DETAIL_FORBIDDEN),),
                spec_literal=True,
            ),
            Alternative(
                key="502",
                summary=(
                    "The spec's other refusal of a request it could not validate: 502 (its "
                    f"example `detail` is `{DETAIL_CANNOT_VALIDATE}`)."
                ),
                sources=on_spec[1:],
                outcomes=(Acceptable(status=502, detail=DETAIL_CANNOT_VALIDATE),),
            ),
        ),
        preferred="401",
        rationale=(
            "The authentication page gives 401 for a bad key and names SVD Batch as the one "
            "endpoint without it, which implies the other three send it; a spec that omits a "
            "status is weaker evidence than a page that states one, and 502 asks for a retry, "
            "which fits an outage rather than a key that is simply wrong."
        ),
        contradiction=17,
        tags=("auth",),
    )


_AUTH: tuple[Clause, ...] = (
    *per_surface(
        "auth-header",
        BATCH,
        lambda s: dict(
            requirement=(
                f"The {NAME[s]} endpoint takes its API key from the `{VELMA_HTTP_AUTH_HEADER}` "
                "request header; a valid key there admits the request."
            ),
            sources=(
                src(AUTH_PAGE, "Passing your API key > HTTP batch endpoints"),
                src(FAQ_PAGE, "How do I authenticate my requests?"),
                src(SPEC[s], "components.securitySchemes.ApiKeyAuth"),
            ),
            tier=Tier.MUST,
            outcomes=(
                Acceptable(
                    status=200,
                    behaviour=f"a valid key in `{VELMA_HTTP_AUTH_HEADER}` and a valid upload succeed",
                ),
            ),
            tags=("auth",),
        ),
    ),
    *per_surface("missing-key", BATCH, lambda s: _missing_key(s)),
    *per_surface("invalid-key", (STT, VFAST, PII), lambda s: _invalid_key(s)),
    clause(
        id="svd-batch/invalid-key",
        surface=SVD,
        requirement=(
            "A key the service does not recognise is refused on Deepfake Detection Batch; the "
            "pages disagree on whether the status is 401 or 403."
        ),
        sources=(AUTH_TABLE, SVD_403_NOTE, src(TROUBLESHOOTING_PAGE, "401 Unauthorized")),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="401",
                summary="Bad keys get 401 on every HTTP endpoint, SVD Batch included.",
                sources=(src(TROUBLESHOOTING_PAGE, "401 Unauthorized"), AUTH_TABLE),
                outcomes=(Acceptable(status=401),),
            ),
            Alternative(
                key="403",
                summary=(
                    "SVD Batch has no separate 401: an unauthorized key gets 403, and the "
                    "`detail` tells it apart from a spent usage limit."
                ),
                sources=(SVD_403_NOTE, spec(SVD, "responses 403 (the spec lists no 401)")),
                outcomes=(
                    Acceptable(status=403, behaviour="`detail` differs from the usage-limit 403"),
                ),
                spec_literal=True,
            ),
        ),
        preferred="403",
        rationale=(
            "The authentication page names SVD Batch explicitly and its spec documents no 401, "
            "whereas the 401 statement is a generic one for all endpoints."
        ),
        contradiction=4,
        tags=("auth",),
    ),
    *per_surface(
        "model-not-enabled",
        BATCH,
        lambda s: dict(
            requirement=(
                f"A valid key whose organisation has no access to the {NAME[s]} model is "
                f"refused with 403; the seed pages give the detail `{DETAIL_MODEL_NOT_ENABLED}`, "
                f"the spec's only 403 body is `{DETAIL_FORBIDDEN}`."
            ),
            sources=(
                src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
                AUTH_TABLE,
                *((SVD_403_NOTE,) if s is SVD else ()),
                spec(s, "responses 403"),
            ),
            tier=Tier.MUST,
            outcomes=(
                Acceptable(status=403, detail=DETAIL_MODEL_NOT_ENABLED),
                Acceptable(status=403, detail=DETAIL_FORBIDDEN),
            ),
            tags=("auth",),
        ),
    ),
)

# --------------------------------------------------------------------------
# Admission: concurrency and monthly quota
# --------------------------------------------------------------------------

_LIMIT_TABLE = src(AUTH_PAGE, "Rate limit error codes")
_CONCURRENCY_SEEDS = (
    src(TROUBLESHOOTING_PAGE, "429 Too Many Requests (REST)"),
    src(FAQ_PAGE, "What rate limits apply?"),
)
_QUOTA_SEEDS = (
    src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
    src(FAQ_PAGE, "What rate limits apply?"),
)
_QUOTA_403 = (
    Acceptable(status=403, detail=DETAIL_MONTHLY_LIMIT),
    Acceptable(status=403, behaviour="`detail` says the monthly limit is reached in other words"),
)
_QUOTA_429 = (Acceptable(status=429, detail=DETAIL_INSUFFICIENT_CREDITS),)


def _concurrency(s: Surface) -> dict[str, Any]:
    common = dict(
        requirement=(
            f"On {NAME[s]}, a request arriving while the organisation already has as many "
            "in-flight requests to this model as its concurrency limit allows is refused."
        ),
        tier=Tier.MUST,
        tags=("admission",),
    )
    if s is not SVD:
        listed = (_LIMIT_TABLE,) if s in (STT, VFAST) else ()
        return dict(
            common, sources=(*_CONCURRENCY_SEEDS, *listed), outcomes=(Acceptable(status=429),)
        )
    return dict(
        common,
        sources=(*_CONCURRENCY_SEEDS, _LIMIT_TABLE),
        alternatives=(
            Alternative(
                key="429",
                summary="Going over the concurrency limit on any REST endpoint gives 429.",
                sources=_CONCURRENCY_SEEDS,
                outcomes=(Acceptable(status=429),),
            ),
            Alternative(
                key="403",
                summary="SVD Batch reports an exceeded concurrency limit with 403, like a spent quota.",
                sources=(_LIMIT_TABLE, SVD_403_NOTE),
                outcomes=(Acceptable(status=403),),
            ),
        ),
        preferred="403",
        rationale=(
            "The authentication page's per-endpoint table names SVD Batch and 403, which is more "
            "specific than the generic 429 of the troubleshooting page and FAQ."
        ),
        contradiction=2,
    )


# Row 3: which side each endpoint's own documents take, and why the preferred one wins.
_QUOTA_PREFERENCE = {
    STT: (
        "429",
        "The spec (machine-readable) and the authentication page's row for STT Batch agree on "
        "429, against the generic 403 of the troubleshooting page and FAQ.",
    ),
    VFAST: (
        "429",
        "The spec (machine-readable) and the authentication page's row for VFast agree on 429, "
        "against the generic 403 of the troubleshooting page and FAQ.",
    ),
    SVD: (
        "403",
        "Three seed pages agree on 403, one of them in a row naming SVD Batch, while the spec's "
        "429 speaks of credits rather than the monthly limit.",
    ),
    PII: (
        "429",
        "The endpoint's own spec is the only source specific to it and is machine-readable; the "
        "403 statements are generic.",
    ),
}


def _monthly_quota(s: Surface) -> dict[str, Any]:
    preferred, rationale = _QUOTA_PREFERENCE[s]
    on_403 = (*_QUOTA_SEEDS, *((_LIMIT_TABLE,) if s is SVD else ()))
    on_429 = (*((_LIMIT_TABLE,) if s in (STT, VFAST) else ()), spec(s, "responses 429"))
    return dict(
        requirement=(
            f"Once the organisation's monthly audio hours for {NAME[s]} are used up, a new "
            "request is refused; the pages disagree on 403 or 429."
        ),
        sources=(*on_403, *on_429),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="403",
                summary="A spent monthly quota is a 403 whose detail mentions the monthly limit.",
                sources=on_403,
                outcomes=_QUOTA_403,
            ),
            Alternative(
                key="429",
                summary=(
                    "A spent monthly quota is a 429; the spec's body for it is "
                    f"`{DETAIL_INSUFFICIENT_CREDITS}`."
                ),
                sources=on_429,
                outcomes=_QUOTA_429,
                spec_literal=True,
            ),
        ),
        preferred=preferred,
        rationale=rationale,
        contradiction=3,
        tags=("quota",),
    )


_ADMISSION: tuple[Clause, ...] = (
    *per_surface("concurrency-limit", BATCH, _concurrency),
    *per_surface(
        "concurrency-immediate",
        BATCH,
        lambda s: dict(
            requirement=(
                f"{NAME[s]} refuses an over-limit request straight away; it is never parked "
                "until an in-flight request finishes."
            ),
            sources=(src(AUTH_PAGE, "Rate limits"),),
            tier=Tier.MUST,
            outcomes=(
                Acceptable(
                    behaviour=(
                        "the refusal arrives while the in-flight requests are still running, "
                        "without waiting for a slot"
                    )
                ),
            ),
            tags=("admission",),
        ),
    ),
    *per_surface("monthly-quota", BATCH, _monthly_quota),
)


# --------------------------------------------------------------------------
# Every endpoint: the request itself
# --------------------------------------------------------------------------

_REQUEST: tuple[Clause, ...] = per_surface(
    "endpoint",
    BATCH,
    lambda s: dict(
        requirement=(
            f"{NAME[s]} is a multipart/form-data POST to `{VELMA_PATHS[s]}` whose audio travels "
            f"in the `{UPLOAD_PART}` part; the answer is synchronous."
        ),
        sources=(
            src(AUTH_PAGE, "Passing your API key > HTTP batch endpoints"),
            spec(s, "requestBody"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=200,
                behaviour=(
                    "the result is in the response body"
                    + (" (multipart)" if s is PII else " (application/json)")
                ),
            ),
        ),
        tags=("request-fields",),
    ),
)


CLAUSES: tuple[Clause, ...] = (*_REQUEST, *_AUTH, *_ADMISSION)
