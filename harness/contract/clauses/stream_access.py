"""Streaming clauses every Velma-2 WebSocket surface has: authentication and admission.

Each topic is stamped out for the three streaming surfaces with ``per_surface``.
"""

from __future__ import annotations

from ..build import clause, per_surface
from ..model import Acceptable, Alternative, Clause, Source, Surface, Tier
from ..tables import (
    DETAIL_CANNOT_VALIDATE,
    DETAIL_FORBIDDEN,
    DETAIL_INSUFFICIENT_CREDITS,
)
from .stream_shared import (
    AUTH_LIMIT_CODES,
    AUTH_LIMITS,
    AUTH_RETRY,
    AUTH_WS_CODES,
    AUTH_WS_KEY,
    FAQ_CLOSE,
    FAQ_LIMITS,
    PII,
    STREAM,
    STT,
    SVD,
    TS_4001,
    TS_4003,
    TS_4029,
    closes,
    err,
    errors_doc,
    msg,
    query,
)

# --------------------------------------------------------------------------
# Authentication (contradiction 5) and admission (contradiction 6)
# --------------------------------------------------------------------------

_KEY_PREFERRED = {STT: "4001", SVD: "4003", PII: "4003"}
_KEY_RATIONALE = {
    STT: "Three seed pages name 4001 for a bad key on STT streaming specifically, and the STT spec "
    "never says what a bad key gets, so the surface-specific statement wins.",
    SVD: "The SVD spec and the authentication page's SVD row both put authentication failures on "
    "4003, and the only 4001 statements are scoped to STT streaming.",
    PII: "Decided from the PII spec: its close-code list has no 4001 and gives 4003 to requests "
    "that cannot be validated or are not permitted, and the seeds scope 4001 to STT only.",
}


def _key_alternatives(surface: Surface, what: str) -> tuple[Alternative, ...]:
    a4001_sources: tuple[Source, ...]
    a4003_sources: tuple[Source, ...]
    if surface is STT:
        a4001_sources = (TS_4001, AUTH_WS_CODES, FAQ_CLOSE)
        a4003_sources = (closes(STT), AUTH_WS_CODES)
        s4001 = f"STT streaming closes with 4001 when the key is {what}."
        s4003 = "The STT spec lists no 4001; 4003 is its only code for a request it cannot validate or permit (as on SVD)."
    elif surface is SVD:
        a4001_sources = (FAQ_CLOSE, TS_4001)
        a4003_sources = (AUTH_WS_CODES, closes(SVD), FAQ_CLOSE)
        s4001 = "The close-code table reserves 4001 for an invalid key; read as applying to every streaming surface."
        s4003 = f"Deepfake streaming reports a {what} key as an authentication failure with 4003."
    else:
        a4001_sources = (FAQ_CLOSE, TS_4001, AUTH_WS_CODES)
        a4003_sources = (closes(PII), FAQ_CLOSE)
        s4001 = "The close-code table reserves 4001 for an invalid key; read as applying to every streaming surface."
        s4003 = "The PII spec lists no 4001; a request it cannot validate or permit ends with 4003."
    behaviour = "the upgrade succeeds and the server closes at once, before any audio"
    return (
        Alternative(
            "4001", s4001, a4001_sources, (Acceptable(close_code=4001, behaviour=behaviour),)
        ),
        Alternative(
            "4003", s4003, a4003_sources, (err(4003, behaviour=behaviour),), spec_literal=True
        ),
    )


def _key_clause(surface: Surface, slug: str, what: str, requirement: str) -> Clause:
    return clause(
        id=f"{surface.value}/{slug}",
        surface=surface,
        requirement=requirement,
        sources=(AUTH_WS_KEY, AUTH_WS_CODES, query(surface, "api_key")),
        tier=Tier.MUST,
        tags=("auth", "close-code"),
        alternatives=_key_alternatives(surface, what),
        preferred=_KEY_PREFERRED[surface],
        rationale=_KEY_RATIONALE[surface],
        contradiction=5,
    )


def _auth_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []
    for s in STREAM:
        out.append(
            _key_clause(
                s,
                "missing-key",
                "missing",
                "A connection without the `api_key` query parameter is refused with a close code "
                "right after the upgrade; no audio is processed.",
            )
        )
        out.append(
            _key_clause(
                s,
                "invalid-key",
                "invalid",
                "A connection whose `api_key` is not a valid key is refused with a close code "
                "right after the upgrade; no audio is processed.",
            )
        )
    out += per_surface(
        "key-in-query-only",
        STREAM,
        lambda s: dict(
            requirement=(
                "The key is documented only as the `api_key` query parameter; what happens to a key "
                "sent solely as an `X-API-Key` header on the upgrade request is left open."
            ),
            sources=(AUTH_WS_KEY, query(s, "api_key")),
            outcomes=(
                Acceptable(behaviour=f"refused exactly like {s.value}/missing-key"),
                Acceptable(behaviour="accepted as if the key were in the query"),
            ),
        ),
        tier=Tier.INFO,
        tags=("auth",),
    )
    out += per_surface(
        "model-not-enabled",
        STREAM,
        lambda s: dict(
            requirement=(
                "A valid key whose organisation does not have this model enabled gets an `error` "
                "message and close 4003."
            ),
            sources=(
                (TS_4003, AUTH_WS_CODES, FAQ_CLOSE, closes(s))
                if s is not PII
                else (FAQ_CLOSE, TS_4003, closes(s))
            ),
            outcomes=(err(4003, DETAIL_FORBIDDEN),),
        ),
        tier=Tier.MUST,
        tags=("auth", "close-code"),
    )
    out += per_surface(
        "usage-denied",
        (STT, SVD),
        lambda s: dict(
            requirement=(
                "A valid key whose usage is denied for a reason other than the monthly quota or the "
                "concurrency limit gets an `error` message and close 4003."
            ),
            sources=(AUTH_WS_CODES, closes(s)),
            outcomes=(err(4003, DETAIL_FORBIDDEN),),
        ),
        tier=Tier.MUST,
        tags=("auth", "admission", "close-code"),
    )
    out += per_surface(
        "validation-unavailable",
        STREAM,
        lambda s: dict(
            requirement=(
                "When the service cannot check the request (validation backend unavailable) it sends "
                "an `error` message and closes with 4003; the client may retry."
            ),
            sources=(closes(s), msg(s, "error")),
            outcomes=(err(4003, DETAIL_CANNOT_VALIDATE),),
        ),
        tier=Tier.MUST,
        tags=("auth", "close-code"),
    )
    return tuple(out)


_LIMIT_BEHAVIOUR = (
    "close follows the upgrade at once; the connection is not held open waiting for a slot"
)


def _limit_clause(surface: Surface, slug: str, requirement: str, credits: bool) -> Clause:
    detail = DETAIL_INSUFFICIENT_CREDITS if credits else None
    tags = ("admission", "quota", "close-code")
    if surface is SVD:
        return clause(
            id=f"{SVD.value}/{slug}",
            surface=SVD,
            requirement=requirement,
            sources=(FAQ_LIMITS, TS_4029, AUTH_LIMIT_CODES, closes(SVD)),
            tier=Tier.MUST,
            tags=tags,
            alternatives=(
                Alternative(
                    "4029",
                    "Every WebSocket surface refuses a connection over the monthly quota or the "
                    "concurrency limit with 4029 at the handshake.",
                    (FAQ_LIMITS, TS_4029, *((closes(SVD),) if credits else ())),
                    (err(4029, detail, _LIMIT_BEHAVIOUR),),
                    spec_literal=credits,  # the spec's 4029 is about credits, not concurrency
                ),
                Alternative(
                    "4003",
                    "Deepfake streaming reports limits as 'usage denied' with 4003.",
                    (AUTH_LIMIT_CODES, AUTH_WS_CODES),
                    (err(4003, None, _LIMIT_BEHAVIOUR),),
                ),
            ),
            preferred="4029",
            rationale=(
                "The SVD spec itself maps insufficient credits to 4029 and two seed pages agree, "
                "so the authentication page's SVD row is the lone dissent."
                if credits
                else "Two seed pages give 4029 for a concurrency refusal on every WebSocket "
                "surface and the SVD spec keeps 4003 for requests it cannot validate or permit; "
                "only the authentication page's SVD row says 4003."
            ),
            contradiction=6,
        )
    sources = [FAQ_LIMITS, TS_4029, closes(surface)]
    if surface is STT:
        sources.insert(2, AUTH_LIMIT_CODES)
    return clause(
        id=f"{surface.value}/{slug}",
        surface=surface,
        requirement=requirement,
        sources=sources,
        tier=Tier.MUST,
        outcomes=(err(4029, detail, _LIMIT_BEHAVIOUR),),
        tags=tags,
    )


def _admission_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []
    for s in STREAM:
        out.append(
            _limit_clause(
                s,
                "monthly-quota",
                "When the organisation's monthly audio-hour quota for this model is used up, a new "
                "connection is refused at the handshake with a close code and an `error` message.",
                credits=True,
            )
        )
        out.append(
            _limit_clause(
                s,
                "concurrency-limit",
                "A connection beyond the organisation's limit of simultaneous connections for this "
                "model is refused at the handshake with a close code.",
                credits=False,
            )
        )
    out += per_surface(
        "admission-immediate",
        STREAM,
        lambda s: dict(
            requirement=(
                "A connection over the concurrency limit fails straight away; it is never queued "
                "until another connection ends."
            ),
            sources=(AUTH_LIMITS, FAQ_LIMITS, TS_4029),
            outcomes=(
                Acceptable(
                    behaviour=f"{s.value}/concurrency-limit close arrives without waiting for a slot"
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("admission", "quota"),
    )
    out += per_surface(
        "admission-at-handshake",
        STREAM,
        lambda s: dict(
            requirement=(
                "Authentication and limit refusals are reported as a WebSocket close code on the "
                "freshly upgraded connection, not as an HTTP error status on the upgrade request."
            ),
            sources=(
                AUTH_WS_CODES,
                FAQ_LIMITS,
                TS_4029,
                closes(s),
                *(() if s is SVD else (errors_doc(s),)),
            ),
            outcomes=(
                Acceptable(
                    behaviour="HTTP 101, then a close frame carrying the documented code, without "
                    "the client having to send audio"
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("auth", "admission", "close-code"),
    )
    out += per_surface(
        "quota-persists",
        STREAM,
        lambda s: dict(
            requirement=(
                "Once the monthly quota is exhausted, every later connection is refused the same way "
                "until the monthly period resets; retrying does not help."
            ),
            sources=(AUTH_LIMITS, AUTH_RETRY),
            outcomes=(
                Acceptable(
                    behaviour=f"each new connection gets the {s.value}/monthly-quota refusal"
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("admission", "quota"),
    )
    return tuple(out)


CLAUSES: tuple[Clause, ...] = (*_auth_clauses(), *_admission_clauses())
