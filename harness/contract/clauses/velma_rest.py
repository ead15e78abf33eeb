"""Clauses for the four Velma-2 HTTP batch endpoints, one surface each.

``stt-batch`` (multilingual STT), ``vfast-batch`` (English VFast), ``svd-batch``
(deepfake detection) and ``pii-batch`` (PII/PHI redaction): authentication,
admission and quota, every documented status with its ``detail`` strings,
request fields and defaults, the 200 response shapes, and the deepfake and
redaction semantics. Rules shared by every Velma-2 endpoint (raw formats, the
100 MB size, header casing, backoff, pricing, error-body shapes in general)
live in ``velma_common``; a clause here states what one endpoint does.

Data only: no I/O.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from typing import Any

from ..model import Alternative, Clause, Outcome, Source, Surface, Tier
from ..sources import (
    AUDIO_FORMATS_PAGE,
    AUTH_PAGE,
    FAQ_PAGE,
    PII_BATCH_SPEC,
    STT_BATCH_SPEC,
    STT_GUIDE,
    SVD_BATCH_SPEC,
    TROUBLESHOOTING_PAGE,
    VFAST_SPEC,
    src,
)
from ..tables import (
    BATCH_PROCESSING_TIMEOUT_S,
    CONTAINER_FORMATS,
    DETAIL_BAD_VALUE,
    DETAIL_CANNOT_VALIDATE,
    DETAIL_EMPTY,
    DETAIL_FORBIDDEN,
    DETAIL_INSUFFICIENT_CREDITS,
    DETAIL_INVALID_CONFIG,
    DETAIL_INVALID_LANGUAGE_TEMPLATE,
    DETAIL_MODEL_NOT_ENABLED,
    DETAIL_MONTHLY_LIMIT,
    DETAIL_TOO_SHORT,
    DETAIL_UNPROCESSABLE,
    DETAIL_UNSUPPORTED_COMMON,
    DETAIL_UNSUPPORTED_SVD,
    MIN_SVD_DURATION_S,
    NO_CONTENT_CONFIDENCE,
    PII_END_PADDING_MS_DEFAULT,
    PII_START_PADDING_MS_DEFAULT,
    REST_STATUSES,
    SVD_RECOMMENDED_RANGE_S,
    SVD_WINDOW_S,
    UPLOAD_PART,
    VELMA_HTTP_AUTH_HEADER,
    VELMA_PATHS,
    VFAST_OPUS_ONLY,
)

STT = Surface.STT_BATCH
VFAST = Surface.VFAST_BATCH
SVD = Surface.SVD_BATCH
PII = Surface.PII_BATCH
BATCH: tuple[Surface, ...] = (STT, VFAST, SVD, PII)

# The docs index in our material; the "Transcription" guide it links to
# (docs.modulate.ai/get-started/stt) shows utterances with `end_ms`
# (contradiction 12). Citation only.
DOCS_INDEX = STT_GUIDE

_SPEC = {STT: STT_BATCH_SPEC, VFAST: VFAST_SPEC, SVD: SVD_BATCH_SPEC, PII: PII_BATCH_SPEC}
_NAME = {
    STT: "STT Batch",
    VFAST: "STT Batch English VFast",
    SVD: "Deepfake Detection Batch",
    PII: "PII/PHI Redaction Batch",
}
_UNSUPPORTED = {
    STT: DETAIL_UNSUPPORTED_COMMON,
    VFAST: DETAIL_UNSUPPORTED_COMMON,
    SVD: DETAIL_UNSUPPORTED_SVD,
    PII: DETAIL_UNSUPPORTED_COMMON,
}

# --------------------------------------------------------------------------
# Wire values stated in the batch specs (each quoted from the file named).
# --------------------------------------------------------------------------

# stt-batch and pii-batch `language` form field and STTConfig.language.
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$"
# The specs' 400 example: `language=english` is refused with this text.
INVALID_LANGUAGE_EXAMPLE = "english"
DETAIL_INVALID_LANGUAGE_EXAMPLE = DETAIL_INVALID_LANGUAGE_TEMPLATE.format(INVALID_LANGUAGE_EXAMPLE)

# stt-batch per-request flags and their defaults (requestBody; FAQ parameter table).
STT_FLAG_DEFAULTS = {
    "speaker_diarization": True,
    "emotion_signal": False,
    "accent_signal": False,
    "deepfake_signal": False,
    "pii_phi_tagging": False,
}

# stt-batch STTConfig.custom_terms and CustomTerm limits.
CUSTOM_TERMS_MAX_ENTRIES = 1000
CUSTOM_TERMS_MAX_JSON_CHARS = 8000  # the serialized term strings must stay *under* this
CUSTOM_TERM_DEFINITION_MAX_CHARS = 256
CUSTOM_TERM_MAX_PRONUNCIATIONS = 16
CUSTOM_TERM_PRONUNCIATION_MAX_CHARS = 128

STT_UTTERANCE_FIELDS = (
    "utterance_uuid",
    "text",
    "start_ms",
    "duration_ms",
    "speaker",
    "language",
    "emotion",
    "accent",
    "deepfake_score",
)
PII_UTTERANCE_FIELDS = STT_UTTERANCE_FIELDS[:6]

# stt-batch Utterance.emotion / .accent: "possible values include" (an open list).
EMOTION_LABELS = (
    "Neutral", "Calm", "Happy", "Amused", "Excited", "Proud", "Affectionate", "Interested",
    "Hopeful", "Frustrated", "Angry", "Contemptuous", "Concerned", "Afraid", "Sad", "Ashamed",
    "Bored", "Tired", "Surprised", "Anxious", "Stressed", "Disgusted", "Disappointed",
    "Confused", "Relieved", "Confident",
)  # fmt: skip
ACCENT_LABELS = (
    "American", "British", "Australian", "Southern", "Indian", "Irish", "Scottish",
    "Eastern_European", "African", "Asian", "Latin_American", "Middle_Eastern", "Unknown",
)  # fmt: skip

# svd-batch FrameResult.verdict enum.
SVD_VERDICTS = ("synthetic", "non-synthetic", "no-content")

# pii-batch redaction markers (RedactionMetadata.text) and the FAQ's tags (contradiction 11).
PII_MARKER_TEMPLATE = "<pii:{category}></pii:{category}>"
PHI_MARKER = "<phi></phi>"
PII_MARKER_EXAMPLE = "Hello, my name is <pii:name></pii:name>."
FAQ_REDACTION_TAGS = ("[FIRSTNAME]", "[SSN]", "[PHI]")
PII_RESPONSE_PARTS = ("metadata", "audio")
PII_METADATA_FIELDS = ("text", "duration_ms", "utterances", "redaction_ranges")

_FASTAPI_422 = "FastAPI validation body: `detail` is a list of {`loc`, `msg`, `type`} objects"


# --------------------------------------------------------------------------
# Helpers
# --------------------------------------------------------------------------


def _per_surface(
    slug: str, surfaces: Iterable[Surface], make: Callable[[Surface], dict[str, Any]]
) -> tuple[Clause, ...]:
    """One clause ``<surface>/<slug>`` per surface; ``make(surface)`` gives the other fields."""
    return tuple(Clause(id=f"{s.value}/{slug}", surface=s, **make(s)) for s in surfaces)


def _spec(s: Surface, section: str) -> Source:
    """A section of ``s``'s OpenAPI file, under its one operation."""
    return src(_SPEC[s], f"POST {VELMA_PATHS[s]} {section}")


def _documented(s: Surface, status: int) -> tuple[Outcome, ...]:
    """``status`` with each `detail` string REST_STATUSES documents for ``s`` (else bare)."""
    details = (
        d for row in REST_STATUSES if (row.surface, row.status) == (s, status) for d in row.details
    )
    return tuple(Outcome(status=status, detail=d) for d in dict.fromkeys(details)) or (
        Outcome(status=status),
    )


def _formats(s: Surface) -> str:
    return ", ".join(f".{ext}" for ext in CONTAINER_FORMATS[s.value])


# --------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------

_AUTH_TABLE = src(AUTH_PAGE, "Authentication error codes > HTTP endpoints")
_SVD_403_NOTE = src(AUTH_PAGE, "Authentication error codes > HTTP endpoints (SVD Batch note)")

# Row 16: a request without the key header. The seed pages treat it as an authentication
# failure; every batch spec declares the header a required parameter, so a FastAPI service
# refuses it in request validation, before any handler runs.
_MISSING_KEY_422 = Outcome(
    status=422,
    behaviour=f'{_FASTAPI_422}; one `loc` is ["header", "{VELMA_HTTP_AUTH_HEADER}"]',
)


def _missing_key(s: Surface) -> dict[str, Any]:
    on_401 = (_AUTH_TABLE, src(TROUBLESHOOTING_PAGE, "401 Unauthorized"))
    on_422 = (
        _spec(s, "responses 422 (a required field such as the `X-API-Key` header missing)"),
        src(_SPEC[s], "components.schemas.HTTPValidationError"),
    )
    svd_403 = Alternative(
        key="403",
        summary=(
            "SVD Batch sends no separate 401: key problems, a missing key among them, get 403 "
            "with a `detail` that tells them apart from a spent usage limit."
        ),
        sources=(_SVD_403_NOTE,),
        outcomes=(Outcome(status=403),),
    )
    return dict(
        requirement=(
            f"A request with no `{VELMA_HTTP_AUTH_HEADER}` header is refused before any "
            "processing; the seed pages call it an authentication failure (401"
            + (", or 403 on SVD Batch" if s is SVD else "")
            + "), the spec a missing required field (422 with FastAPI's validation body)."
        ),
        sources=(*on_401, *((_SVD_403_NOTE,) if s is SVD else ()), *on_422),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="401",
                summary="A missing key is an authentication failure, answered 401 like a bad one.",
                sources=on_401,
                outcomes=(Outcome(status=401),),
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
        _spec(s, "responses 403 (the spec lists no 401)"),
        _spec(s, "responses 502"),
    )
    return dict(
        requirement=(
            f"A key in `{VELMA_HTTP_AUTH_HEADER}` that the service does not accept is refused "
            f"on {_NAME[s]} before any processing; the authentication page says 401, while "
            "the spec documents no 401 and answers key problems with 403 (or 502 when the "
            "key cannot be checked)."
        ),
        sources=(_AUTH_TABLE, *on_spec),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="401",
                summary="An unknown or wrong key is an authentication failure: 401.",
                sources=(_AUTH_TABLE,),
                outcomes=(Outcome(status=401),),
            ),
            Alternative(
                key="403",
                summary=(
                    "The spec has no 401: a request the service does not permit, a bad key "
                    f"included, gets 403 (its example `detail` is `{DETAIL_FORBIDDEN}`)."
                ),
                sources=on_spec[:1],
                outcomes=(Outcome(status=403, detail=DETAIL_FORBIDDEN),),
                spec_literal=True,
            ),
            Alternative(
                key="502",
                summary=(
                    "The spec's other refusal of a request it could not validate: 502 (its "
                    f"example `detail` is `{DETAIL_CANNOT_VALIDATE}`)."
                ),
                sources=on_spec[1:],
                outcomes=(Outcome(status=502, detail=DETAIL_CANNOT_VALIDATE),),
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
    *_per_surface(
        "auth-header",
        BATCH,
        lambda s: dict(
            requirement=(
                f"The {_NAME[s]} endpoint takes its API key from the `{VELMA_HTTP_AUTH_HEADER}` "
                "request header; a valid key there admits the request."
            ),
            sources=(
                src(AUTH_PAGE, "Passing your API key > HTTP batch endpoints"),
                src(FAQ_PAGE, "How do I authenticate my requests?"),
                src(_SPEC[s], "components.securitySchemes.ApiKeyAuth"),
            ),
            tier=Tier.MUST,
            outcomes=(
                Outcome(
                    status=200,
                    behaviour=f"a valid key in `{VELMA_HTTP_AUTH_HEADER}` and a valid upload succeed",
                ),
            ),
            tags=("auth",),
        ),
    ),
    *_per_surface("missing-key", BATCH, lambda s: _missing_key(s)),
    *_per_surface("invalid-key", (STT, VFAST, PII), lambda s: _invalid_key(s)),
    Clause(
        id="svd-batch/invalid-key",
        surface=SVD,
        requirement=(
            "A key the service does not recognise is refused on Deepfake Detection Batch; the "
            "pages disagree on whether the status is 401 or 403."
        ),
        sources=(_AUTH_TABLE, _SVD_403_NOTE, src(TROUBLESHOOTING_PAGE, "401 Unauthorized")),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="401",
                summary="Bad keys get 401 on every HTTP endpoint, SVD Batch included.",
                sources=(src(TROUBLESHOOTING_PAGE, "401 Unauthorized"), _AUTH_TABLE),
                outcomes=(Outcome(status=401),),
            ),
            Alternative(
                key="403",
                summary=(
                    "SVD Batch has no separate 401: an unauthorized key gets 403, and the "
                    "`detail` tells it apart from a spent usage limit."
                ),
                sources=(_SVD_403_NOTE, _spec(SVD, "responses 403 (the spec lists no 401)")),
                outcomes=(
                    Outcome(status=403, behaviour="`detail` differs from the usage-limit 403"),
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
    *_per_surface(
        "model-not-enabled",
        BATCH,
        lambda s: dict(
            requirement=(
                f"A valid key whose organisation has no access to the {_NAME[s]} model is "
                f"refused with 403; the seed pages give the detail `{DETAIL_MODEL_NOT_ENABLED}`, "
                f"the spec's only 403 body is `{DETAIL_FORBIDDEN}`."
            ),
            sources=(
                src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
                _AUTH_TABLE,
                *((_SVD_403_NOTE,) if s is SVD else ()),
                _spec(s, "responses 403"),
            ),
            tier=Tier.MUST,
            outcomes=(
                Outcome(status=403, detail=DETAIL_MODEL_NOT_ENABLED),
                Outcome(status=403, detail=DETAIL_FORBIDDEN),
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
    Outcome(status=403, detail=DETAIL_MONTHLY_LIMIT),
    Outcome(status=403, behaviour="`detail` says the monthly limit is reached in other words"),
)
_QUOTA_429 = (Outcome(status=429, detail=DETAIL_INSUFFICIENT_CREDITS),)


def _concurrency(s: Surface) -> dict[str, Any]:
    common = dict(
        requirement=(
            f"On {_NAME[s]}, a request arriving while the organisation already has as many "
            "in-flight requests to this model as its concurrency limit allows is refused."
        ),
        tier=Tier.MUST,
        tags=("admission",),
    )
    if s is not SVD:
        listed = (_LIMIT_TABLE,) if s in (STT, VFAST) else ()
        return dict(common, sources=(*_CONCURRENCY_SEEDS, *listed), outcomes=(Outcome(status=429),))
    return dict(
        common,
        sources=(*_CONCURRENCY_SEEDS, _LIMIT_TABLE),
        alternatives=(
            Alternative(
                key="429",
                summary="Going over the concurrency limit on any REST endpoint gives 429.",
                sources=_CONCURRENCY_SEEDS,
                outcomes=(Outcome(status=429),),
            ),
            Alternative(
                key="403",
                summary="SVD Batch reports an exceeded concurrency limit with 403, like a spent quota.",
                sources=(_LIMIT_TABLE, _SVD_403_NOTE),
                outcomes=(Outcome(status=403),),
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
    on_429 = (*((_LIMIT_TABLE,) if s in (STT, VFAST) else ()), _spec(s, "responses 429"))
    return dict(
        requirement=(
            f"Once the organisation's monthly audio hours for {_NAME[s]} are used up, a new "
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
    *_per_surface("concurrency-limit", BATCH, _concurrency),
    *_per_surface(
        "concurrency-immediate",
        BATCH,
        lambda s: dict(
            requirement=(
                f"{_NAME[s]} refuses an over-limit request straight away; it is never parked "
                "until an in-flight request finishes."
            ),
            sources=(src(AUTH_PAGE, "Rate limits"),),
            tier=Tier.MUST,
            outcomes=(
                Outcome(
                    behaviour=(
                        "the refusal arrives while the in-flight requests are still running, "
                        "without waiting for a slot"
                    )
                ),
            ),
            tags=("admission",),
        ),
    ),
    *_per_surface("monthly-quota", BATCH, _monthly_quota),
)

# --------------------------------------------------------------------------
# Uploads: formats, empty, undecodable, missing part
# --------------------------------------------------------------------------

_FORMATS_INTRO = src(
    AUDIO_FORMATS_PAGE, "introduction (HTTP batch endpoints accept common containers)"
)
_FAQ_TAG_VS_REDACT = src(FAQ_PAGE, "Models and capabilities > PII/PHI tagging vs PII/PHI redaction")
_FORMATS_ERRORS = src(AUDIO_FORMATS_PAGE, "error table")
_FAQ_FORMATS = src(FAQ_PAGE, "What audio formats are supported?")


def _container_formats(s: Surface) -> dict[str, Any]:
    accepted = Outcome(
        status=200,
        behaviour=f"valid audio under each of {_formats(s)} is decoded by its extension and analysed",
    )
    common = dict(
        requirement=(
            f"{_NAME[s]} accepts a valid recording in any container its spec lists "
            f"({_formats(s)}) and processes it."
        ),
        tier=Tier.MUST,
        tags=("audio-validation",),
    )
    spec_list = _spec(s, f"requestBody `{UPLOAD_PART}` (supported formats)")
    if s is not VFAST:
        return dict(
            common,
            sources=(_FORMATS_INTRO, spec_list, *((_FAQ_FORMATS,) if s is not SVD else ())),
            outcomes=(accepted,),
        )
    opus_only = ", ".join(f".{ext}" for ext in VFAST_OPUS_ONLY)
    return dict(
        common,
        requirement=(
            "VFast decodes uploads by extension; the pages disagree on whether only Opus or "
            f"every listed container ({_formats(s)}) is accepted."
        ),
        sources=(
            _FORMATS_INTRO,
            spec_list,
            src(TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format"),
        ),
        alternatives=(
            Alternative(
                key="containers",
                summary="VFast takes the same ten containers as the other transcription endpoints.",
                sources=(_FORMATS_INTRO, spec_list),
                outcomes=(accepted,),
                spec_literal=True,
            ),
            Alternative(
                key="opus-only",
                summary="VFast takes Opus only; MP3, WAV or any other container is refused with 400.",
                sources=(
                    src(TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format"),
                    src(TROUBLESHOOTING_PAGE, "STT Batch English VFast — silent 60-second timeout"),
                ),
                outcomes=(
                    Outcome(
                        status=400,
                        behaviour=(
                            f"valid .mp3 or .wav audio is refused while valid {opus_only} "
                            "audio is transcribed"
                        ),
                    ),
                ),
            ),
        ),
        preferred="containers",
        rationale=(
            "The spec lists the accepted extensions in machine-readable form and the "
            "audio-formats page names the spec as the authoritative list."
        ),
        contradiction=7,
    )


def _empty_file(s: Surface) -> dict[str, Any]:
    sources = (
        _spec(s, f"requestBody `{UPLOAD_PART}` (empty files rejected)"),
        _spec(s, "responses 400 (empty_file)"),
        *((_FORMATS_ERRORS,) if s is not PII else ()),
    )
    requirement = f"{_NAME[s]} refuses a zero-byte `{UPLOAD_PART}` with 400 `{DETAIL_EMPTY}`."
    if s is not SVD:
        return dict(
            requirement=requirement,
            sources=sources,
            tier=Tier.MUST,
            outcomes=(Outcome(status=400, detail=DETAIL_EMPTY),),
            tags=("audio-validation",),
        )
    too_short = src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short")
    return dict(
        requirement=(
            "Deepfake Detection Batch refuses a zero-byte upload; the pages disagree on 400 "
            f"`{DETAIL_EMPTY}` or the too-short 422."
        ),
        sources=(*sources, too_short),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="400-empty",
                summary="An empty upload is a bad request with the empty-file detail.",
                sources=sources,
                outcomes=(Outcome(status=400, detail=DETAIL_EMPTY),),
                spec_literal=True,
            ),
            Alternative(
                key="422-too-short",
                summary="An empty upload has no audio, so it fails the 0.5 s minimum with 422.",
                sources=(too_short,),
                outcomes=(Outcome(status=422, detail=DETAIL_TOO_SHORT),),
            ),
        ),
        preferred="400-empty",
        rationale=(
            "The spec gives the exact status and detail for an empty upload and the "
            "audio-formats page agrees, against a general remark on the troubleshooting page."
        ),
        contradiction=9,
        tags=("audio-validation", "deepfake"),
    )


def _undecodable(s: Surface) -> dict[str, Any]:
    if s is PII:
        return dict(
            requirement=(
                "PII/PHI Redaction Batch refuses a corrupt file under a supported extension as "
                "invalid input (400); its spec gives no detail string for this case."
            ),
            sources=(_spec(s, "responses 400 (Invalid input)"),),
            tier=Tier.SHOULD,
            outcomes=(Outcome(status=400, detail=DETAIL_UNPROCESSABLE), Outcome(status=400)),
            tags=("audio-validation",),
        )
    status = 422 if s is SVD else 400
    # The example's key differs per file.
    example = {STT: "unprocessable_audio", VFAST: "unprocessable", SVD: "audio_unprocessable"}[s]
    return dict(
        requirement=(
            f"{_NAME[s]} refuses bytes that cannot be decoded as the extension's format "
            f"(corrupt or mislabelled data) with {status} `{DETAIL_UNPROCESSABLE}`."
        ),
        sources=(
            _spec(s, f"responses {status} ({example})"),
            *((_FORMATS_ERRORS,) if s is VFAST else ()),
        ),
        tier=Tier.MUST,
        outcomes=(Outcome(status=status, detail=DETAIL_UNPROCESSABLE),),
        tags=("audio-validation",),
    )


_UPLOADS: tuple[Clause, ...] = (
    *_per_surface("container-formats", BATCH, _container_formats),
    *_per_surface(
        "unsupported-format",
        BATCH,
        lambda s: dict(
            requirement=(
                f"An upload whose extension {_NAME[s]} does not list is refused with 400 and a "
                "detail naming the accepted extensions."
            ),
            sources=(
                _spec(s, "responses 400 (invalid_format)"),
                src(TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format"),
                *((_FORMATS_ERRORS,) if s is not PII else ()),
            ),
            tier=Tier.MUST,
            outcomes=(Outcome(status=400, detail=_UNSUPPORTED[s]),),
            tags=("audio-validation",),
        ),
    ),
    *_per_surface("empty-file", BATCH, _empty_file),
    *_per_surface("undecodable", BATCH, _undecodable),
    *_per_surface(
        "missing-upload-file",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {_NAME[s]}, a request without the `{UPLOAD_PART}` part fails validation with "
                "422 in FastAPI's shape."
            ),
            sources=(
                _spec(s, f"requestBody (required `{UPLOAD_PART}`)"),
                _spec(s, "responses 422"),
                src(_SPEC[s], "components.schemas.HTTPValidationError"),
            ),
            tier=Tier.MUST,
            outcomes=(
                Outcome(
                    status=422,
                    behaviour=f'{_FASTAPI_422}; one `loc` ends with "{UPLOAD_PART}"',
                ),
            ),
            tags=("request-fields", "error-shape"),
        ),
    ),
    *_per_surface(
        "bad-value",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {_NAME[s]}, a request value that cannot be read (for instance a flag that is "
                f"not a boolean) is refused with 400 `{DETAIL_BAD_VALUE}`; FastAPI's 422 also "
                "fits the spec's validation rule."
                if s in (STT, PII)
                else f"When {_NAME[s]} rejects a malformed request value it answers 400 "
                f"`{DETAIL_BAD_VALUE}`; the spec names no field that can trigger it."
            ),
            sources=(_spec(s, "responses 400 (bad_value)"), _spec(s, "responses 422")),
            tier=Tier.SHOULD if s in (STT, PII) else Tier.INFO,
            outcomes=(
                Outcome(status=400, detail=DETAIL_BAD_VALUE),
                Outcome(status=422, behaviour=_FASTAPI_422),
            ),
            tags=("request-fields",),
        ),
    ),
    *_per_surface(
        "short-audio",
        (STT, VFAST, PII),
        lambda s: dict(
            requirement=(
                f"{_NAME[s]} has no minimum length: a very short clip is transcribed, possibly "
                "to an empty or near-empty text."
            ),
            sources=(src(FAQ_PAGE, "Is there a minimum audio length?"),),
            tier=Tier.INFO,
            outcomes=(Outcome(status=200, behaviour="text may be empty or only a word or two"),),
            tags=("audio-validation",),
        ),
    ),
)

# --------------------------------------------------------------------------
# Server-side failures: 500, 502, 503, 504
# --------------------------------------------------------------------------

_SERVER: tuple[Clause, ...] = (
    *_per_surface(
        "internal-error-500",
        BATCH,
        lambda s: dict(
            requirement=f"An internal failure on {_NAME[s]} is reported as 500 with a fixed detail.",
            sources=(_spec(s, "responses 500"),),
            tier=Tier.MUST,
            outcomes=_documented(s, 500),
            tags=("server-error",),
        ),
    ),
    *_per_surface(
        "bad-gateway-502",
        BATCH,
        lambda s: dict(
            requirement=(
                f"When {_NAME[s]} cannot validate the request upstream"
                + (" or cannot complete it" if s is STT else "")
                + ", it answers 502 with the documented detail."
            ),
            sources=(_spec(s, "responses 502"),),
            tier=Tier.MUST,
            outcomes=_documented(s, 502),
            tags=("server-error",),
        ),
    ),
    *_per_surface(
        "overloaded-503",
        BATCH,
        lambda s: dict(
            requirement=(
                f"When inference for {_NAME[s]} is temporarily overloaded the request gets 503, "
                "and the same request can succeed later."
            ),
            sources=(
                src(TROUBLESHOOTING_PAGE, "503 Service Unavailable"),
                src(FAQ_PAGE, "What does a 503 response mean?"),
                *((_spec(s, "responses 503"),) if s is VFAST else ()),
            ),
            tier=Tier.MUST,
            outcomes=_documented(s, 503),
            tags=("overload",),
        ),
    ),
    *_per_surface(
        "timeout-504",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {_NAME[s]}, a request whose processing runs past "
                f"{BATCH_PROCESSING_TIMEOUT_S:g} s ends in 504, never in a late 200."
            ),
            sources=(
                src(TROUBLESHOOTING_PAGE, "504 Gateway Timeout"),
                src(FAQ_PAGE, "What does a 504 response mean?"),
                *(
                    (
                        src(
                            TROUBLESHOOTING_PAGE,
                            "STT Batch English VFast — silent 60-second timeout",
                        ),
                    )
                    if s is VFAST
                    else ()
                ),
                *((_spec(s, "responses 504"),) if s in (VFAST, SVD) else ()),
            ),
            tier=Tier.MUST,
            outcomes=_documented(s, 504),
            tags=("timeout",),
        ),
    ),
)

# --------------------------------------------------------------------------
# Responses common to every batch surface
# --------------------------------------------------------------------------

_RESPONSE_SCHEMA = {
    STT: "TranscriptionResponse",
    VFAST: "TranscriptionResponse",
    SVD: "DetectionAPIResponse",
    PII: "RedactionMetadata",
}

_COMMON_RESPONSES: tuple[Clause, ...] = (
    *_per_surface(
        "duration-ms",
        BATCH,
        lambda s: dict(
            requirement=(
                f"On {_NAME[s]}, the result's top-level `duration_ms` is a non-negative integer equal "
                "to the length of the submitted audio, in milliseconds."
            ),
            sources=(src(_SPEC[s], f"components.schemas.{_RESPONSE_SCHEMA[s]}.duration_ms"),),
            tier=Tier.MUST,
            outcomes=(
                Outcome(
                    status=200,
                    behaviour="`duration_ms` matches the decoded file length to within rounding",
                ),
            ),
            tags=("schema",),
        ),
    ),
)

# --------------------------------------------------------------------------
# STT Batch (multilingual): request fields and response
# --------------------------------------------------------------------------

_FLAG_DEFAULT_EFFECT = {
    "speaker_diarization": "each utterance carries a 1-based integer `speaker`, one per voice",
    "emotion_signal": "every utterance has `emotion: null`",
    "accent_signal": "every utterance has `accent: null`",
    "deepfake_signal": "every utterance has `deepfake_score: null`",
    "pii_phi_tagging": "utterance and top-level texts carry no PII/PHI tags",
}
_FLAG_ON_EFFECT = {
    "emotion_signal": (
        "`emotion`",
        "every utterance has a string `emotion` label",
    ),
    "accent_signal": (
        "`accent`",
        "every utterance has a string `accent` label",
    ),
    "deepfake_signal": (
        "`deepfake_score`",
        "`deepfake_score` is a number in [0, 1] (0 natural, 1 synthetic), or null for an "
        "utterance that could not be scored",
    ),
}


def _flag_default(flag: str) -> Clause:
    default = STT_FLAG_DEFAULTS[flag]
    return Clause(
        id=f"stt-batch/{flag.replace('_', '-')}-default",
        surface=STT,
        requirement=(f"Leaving out `{flag}` behaves as `{flag}={str(default).lower()}`."),
        sources=(
            _spec(STT, f"requestBody `{flag}` default {str(default).lower()}"),
            src(FAQ_PAGE, "Models and capabilities > parameter table"),
        ),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour=_FLAG_DEFAULT_EFFECT[flag]),),
        tags=("request-fields", *(("pii",) if flag == "pii_phi_tagging" else ())),
    )


def _flag_on(flag: str) -> Clause:
    field_name, effect = _FLAG_ON_EFFECT[flag]
    return Clause(
        id=f"stt-batch/{flag.replace('_', '-')}",
        surface=STT,
        requirement=f"With `{flag}=true`, each utterance's {field_name} is filled in.",
        sources=(
            _spec(STT, f"requestBody `{flag}`"),
            src(STT_BATCH_SPEC, f"components.schemas.Utterance.{field_name.strip('`')}"),
        ),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour=effect),),
        tags=("request-fields", *(("deepfake",) if flag == "deepfake_signal" else ())),
    )


def _speaker_distinct(s: Surface) -> Clause:
    return Clause(
        id=f"{s.value}/speaker-distinct",
        surface=s,
        requirement=(
            "With diarization on, different voices should get different `speaker` numbers. The "
            "spec says diarization tells speakers apart and shows numbers only by example "
            "(1, 2), so this is a recommendation; one number per voice is judged elsewhere."
        ),
        sources=(_spec(s, "requestBody `speaker_diarization`"),),
        tier=Tier.SHOULD,
        outcomes=(Outcome(status=200, behaviour="two voices in one file get two numbers"),),
        tags=("request-fields",),
    )


_STT: tuple[Clause, ...] = (
    *(_flag_default(f) for f in STT_FLAG_DEFAULTS),
    *(_flag_on(f) for f in _FLAG_ON_EFFECT),
    _speaker_distinct(STT),
    Clause(
        id="stt-batch/speaker-numbering",
        surface=STT,
        requirement=(
            "`speaker` numbers start at 1 and stay the same for one voice throughout a file; "
            "they carry no meaning across files."
        ),
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.speaker"),),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour="speakers are integers >= 1; one voice keeps one number within the file",
            ),
        ),
        tags=("request-fields",),
    ),
    Clause(
        id="stt-batch/emotion-labels",
        surface=STT,
        requirement="An `emotion` label is one of the spec's documented emotions.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.emotion (possible values)"),),
        tier=Tier.INFO,
        outcomes=(Outcome(status=200, behaviour=f"`emotion` in {', '.join(EMOTION_LABELS)}"),),
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/accent-labels",
        surface=STT,
        requirement="An `accent` label is one of the spec's documented accents.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.accent (possible values)"),),
        tier=Tier.INFO,
        outcomes=(Outcome(status=200, behaviour=f"`accent` in {', '.join(ACCENT_LABELS)}"),),
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/pii-phi-tagging",
        surface=STT,
        requirement=(
            "With `pii_phi_tagging=true`, detected PII/PHI in the transcript is enclosed in tags "
            "while the spoken words themselves stay in the text (tagging, not redaction)."
        ),
        sources=(
            _spec(STT, "requestBody `pii_phi_tagging`"),
            _FAQ_TAG_VS_REDACT,
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    "a spoken name or number still appears in `text`, surrounded by a tag; the "
                    "tag syntax itself is not documented for STT"
                ),
            ),
        ),
        tags=("request-fields", "pii"),
    ),
    Clause(
        id="stt-batch/language-hint",
        surface=STT,
        requirement=(
            "An optional `language` hint is accepted as an ISO 639-1 code in any letter case, "
            "with BCP 47 subtags allowed (only the primary subtag counts); without it each "
            "utterance's language is detected on its own."
        ),
        sources=(
            _spec(STT, "requestBody `language`"),
            src(STT_BATCH_SPEC, "components.schemas.Utterance.language"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour="`en`, `EN`, `en-US` and `en_US` are all accepted as the same hint",
            ),
        ),
        tags=("request-fields",),
    ),
    Clause(
        id="stt-batch/code-switching",
        surface=STT,
        requirement=(
            "With no language hint, utterances in one file may report different `language` "
            'codes when the speakers switch languages. The spec says "may", so whether a '
            "switch is identified is recorded, not judged."
        ),
        sources=(_spec(STT, "description"), _spec(STT, "responses 200 (multilingual example)")),
        tier=Tier.INFO,
        outcomes=(
            Outcome(
                status=200,
                behaviour="a file with English then French speech yields utterances `en` then `fr`",
            ),
            Outcome(status=200, behaviour="one language is reported for the whole file"),
        ),
        tags=("request-fields",),
    ),
    Clause(
        id="stt-batch/config-override",
        surface=STT,
        requirement=(
            "A JSON `config` form field overrides each top-level form field it names; form "
            "fields it leaves out keep their own value or default."
        ),
        sources=(
            _spec(STT, "requestBody `config`"),
            src(STT_BATCH_SPEC, "components.schemas.STTConfig"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    'form `emotion_signal=false` with config `{"emotion_signal": true}` gives '
                    "emotion labels; config `{}` changes nothing"
                ),
            ),
        ),
        tags=("request-fields",),
    ),
    Clause(
        id="stt-batch/invalid-config",
        surface=STT,
        requirement=(
            f"A `config` that is not JSON or does not fit STTConfig is refused with 400 "
            f"`{DETAIL_INVALID_CONFIG}`."
        ),
        sources=(_spec(STT, "responses 400 (invalid_config)"),),
        tier=Tier.MUST,
        outcomes=(Outcome(status=400, detail=DETAIL_INVALID_CONFIG),),
        tags=("request-fields",),
    ),
    Clause(
        id="stt-batch/custom-terms",
        surface=STT,
        requirement=(
            "`config.custom_terms` takes plain strings or {term, definition, pronunciations} "
            "objects; a blank string term or blank pronunciation is dropped without an error (an object with an empty `term` breaks the schema minimum)."
        ),
        sources=(
            src(STT_BATCH_SPEC, "components.schemas.STTConfig.custom_terms"),
            src(STT_BATCH_SPEC, "components.schemas.CustomTerm"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(status=200, behaviour="a list mixing strings, objects and blanks succeeds"),
        ),
        tags=("request-fields",),
    ),
    Clause(
        id="stt-batch/custom-terms-limits",
        surface=STT,
        requirement=(
            f"`custom_terms` beyond the spec's bounds ({CUSTOM_TERMS_MAX_ENTRIES} entries, term "
            f"strings serialised under {CUSTOM_TERMS_MAX_JSON_CHARS} characters, definitions "
            f"up to {CUSTOM_TERM_DEFINITION_MAX_CHARS}, at most {CUSTOM_TERM_MAX_PRONUNCIATIONS} "
            f"pronunciations of up to {CUSTOM_TERM_PRONUNCIATION_MAX_CHARS} printable ASCII "
            "characters) makes an invalid configuration."
        ),
        sources=(
            src(STT_BATCH_SPEC, "components.schemas.STTConfig.custom_terms"),
            src(STT_BATCH_SPEC, "components.schemas.CustomTerm"),
            _spec(STT, "responses 400 (invalid_config)"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(status=400, detail=DETAIL_INVALID_CONFIG),
            Outcome(status=422, behaviour=_FASTAPI_422),
        ),
        tags=("request-fields",),
    ),
    Clause(
        id="stt-batch/response-schema",
        surface=STT,
        requirement=(
            "A 200 is JSON with `text` (string, empty when nothing was recognised), "
            "`duration_ms` and an `utterances` array (empty when nothing was recognised)."
        ),
        sources=(
            _spec(STT, "responses 200"),
            src(STT_BATCH_SPEC, "components.schemas.TranscriptionResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour='all three fields present, silence gives `text: ""` and `utterances: []`',
            ),
        ),
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/utterance-schema",
        surface=STT,
        requirement=(
            f"Every utterance carries all of {', '.join(f'`{f}`' for f in STT_UTTERANCE_FIELDS)} "
            "with the spec's types, the three signals null when not computed."
        ),
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance"),),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    "`utterance_uuid` a UUID string, `text` and `language` strings, `start_ms`, "
                    "`duration_ms` integers >= 0, `speaker` integer, `emotion`/`accent` string or "
                    "null, `deepfake_score` number in [0, 1] or null"
                ),
            ),
        ),
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/utterance-uuid-unique",
        surface=STT,
        requirement="No two utterances in one result share an `utterance_uuid`.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.Utterance.utterance_uuid"),),
        tier=Tier.MUST,
        outcomes=(
            Outcome(status=200, behaviour="the UUIDs of one response are pairwise distinct"),
        ),
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/utterances-ordered",
        surface=STT,
        requirement="Utterances are listed by ascending `start_ms`.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.TranscriptionResponse.utterances"),),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour="`start_ms` never decreases along the list"),),
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/text-concatenation",
        surface=STT,
        requirement="The top-level `text` is the utterances' texts joined in order.",
        sources=(src(STT_BATCH_SPEC, "components.schemas.TranscriptionResponse.text"),),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour="each utterance's `text` appears in `text`, in the utterances' order",
            ),
        ),
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/utterance-timing",
        surface=STT,
        requirement=(
            "An utterance's position in the file is given in milliseconds; the documents "
            "disagree on whether its end is `end_ms` or follows from `start_ms` + `duration_ms`."
        ),
        sources=(
            src(STT_BATCH_SPEC, "components.schemas.Utterance"),
            src(DOCS_INDEX, "Transcription guide (get-started/stt), STT Batch example response"),
        ),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="start-duration",
                summary="Each utterance has integer `start_ms` and `duration_ms`; no `end_ms`.",
                sources=(
                    src(STT_BATCH_SPEC, "components.schemas.Utterance (required fields)"),
                    _spec(STT, "responses 200 (multilingual example)"),
                ),
                outcomes=(
                    Outcome(
                        status=200,
                        behaviour=(
                            "`start_ms` and `duration_ms` present; the utterance ends at "
                            "`start_ms + duration_ms`"
                        ),
                    ),
                ),
                spec_literal=True,
            ),
            Alternative(
                key="end-ms",
                summary="Each utterance has `start_ms` and `end_ms`.",
                sources=(
                    src(
                        DOCS_INDEX,
                        "Transcription guide (get-started/stt), STT Batch example response",
                    ),
                ),
                outcomes=(
                    Outcome(status=200, behaviour="`start_ms` and `end_ms` present, end >= start"),
                ),
            ),
        ),
        preferred="start-duration",
        rationale=(
            "The spec's Utterance schema is the machine-readable wire shape and requires "
            "`duration_ms`; the guide's example is an informal sketch."
        ),
        contradiction=12,
        tags=("schema",),
    ),
    Clause(
        id="stt-batch/invalid-language",
        surface=STT,
        requirement=(
            f"A `language` outside the pattern `{LANGUAGE_PATTERN}` (e.g. "
            f"`{INVALID_LANGUAGE_EXAMPLE}`) is refused with 400 and a detail quoting the value."
        ),
        sources=(
            _spec(STT, "responses 400 (invalid_language)"),
            _spec(STT, "requestBody `language` pattern"),
        ),
        tier=Tier.MUST,
        outcomes=(Outcome(status=400, detail=DETAIL_INVALID_LANGUAGE_EXAMPLE),),
        tags=("request-fields",),
    ),
)

# --------------------------------------------------------------------------
# English VFast: response
# --------------------------------------------------------------------------

_VFAST: tuple[Clause, ...] = (
    Clause(
        id="vfast-batch/response-schema",
        surface=VFAST,
        requirement=(
            "A VFast 200 is one JSON object with a string `text` (empty when nothing was "
            "recognised) and an integer `duration_ms`."
        ),
        sources=(
            _spec(VFAST, "responses 200"),
            src(VFAST_SPEC, "components.schemas.TranscriptionResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(status=200, behaviour="`text` and `duration_ms` present with those types"),
        ),
        tags=("schema",),
    ),
    Clause(
        id="vfast-batch/transcript-only",
        surface=VFAST,
        requirement=(
            "VFast returns a bare transcript: no per-utterance list, speakers, emotion, accent "
            "or PII/PHI tags, and it takes no enrichment fields."
        ),
        sources=(
            src(VFAST_SPEC, "info.description"),
            src(VFAST_SPEC, "components.schemas.TranscriptionResponse (text, duration_ms only)"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(
                status=200,
                behaviour="no `utterances` key; sending `speaker_diarization=true` adds nothing",
            ),
        ),
        tags=("schema",),
    ),
    Clause(
        id="vfast-batch/cased-punctuated",
        surface=VFAST,
        requirement="VFast's English transcript comes with capitalisation and punctuation.",
        sources=(
            src(VFAST_SPEC, "info.description"),
            src(VFAST_SPEC, "components.schemas.TranscriptionResponse.text"),
        ),
        tier=Tier.INFO,
        outcomes=(
            Outcome(status=200, behaviour="`text` is not all lower case and has punctuation"),
        ),
        tags=("schema",),
    ),
)

# --------------------------------------------------------------------------
# Deepfake (SVD) batch: minimum length, windows, silence, frames
# --------------------------------------------------------------------------

_SVD_NOTES = src(SVD_BATCH_SPEC, "info.description — Behavior Notes")
_FAQ_SVD_LENGTH = src(FAQ_PAGE, "What is the recommended audio length for deepfake detection?")
_FRAME = "components.schemas.FrameResult"
_MIN_MS = round(MIN_SVD_DURATION_S * 1000)
_WINDOW_MS = round(SVD_WINDOW_S * 1000)

_SVD: tuple[Clause, ...] = (
    Clause(
        id="svd-batch/too-short",
        surface=SVD,
        requirement=(
            f"Audio shorter than {MIN_SVD_DURATION_S:g} s is refused with 422 `{DETAIL_TOO_SHORT}`."
        ),
        sources=(
            _spec(SVD, "description"),
            _spec(SVD, "responses 422 (audio_too_short)"),
            src(FAQ_PAGE, "Is there a minimum audio length?"),
            src(FAQ_PAGE, "My file was rejected with 422. Why?"),
            src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short"),
            _FORMATS_ERRORS,
        ),
        tier=Tier.MUST,
        outcomes=(Outcome(status=422, detail=DETAIL_TOO_SHORT),),
        tags=("audio-validation", "deepfake"),
    ),
    Clause(
        id="svd-batch/minimum-accepted",
        surface=SVD,
        requirement=f"A clip of exactly {MIN_SVD_DURATION_S:g} s is long enough and is analysed.",
        sources=(src(FAQ_PAGE, "Is there a minimum audio length?"), _spec(SVD, "description")),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour=f"a {_MIN_MS} ms clip yields at least one frame"),),
        tags=("audio-validation", "deepfake"),
    ),
    Clause(
        id="svd-batch/metadata-only",
        surface=SVD,
        requirement=(
            "A non-empty file that holds a container header or metadata but no audio samples "
            "is refused; the pages disagree on 422 too-short or 400 empty."
        ),
        sources=(
            src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short"),
            _FORMATS_ERRORS,
        ),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="422-too-short",
                summary="A file with no samples counts as audio under the minimum length.",
                sources=(
                    src(TROUBLESHOOTING_PAGE, "422 Unprocessable Entity — audio too short"),
                    src(FAQ_PAGE, "My file was rejected with 422. Why?"),
                    _spec(SVD, "responses 422 (audio_too_short)"),
                ),
                outcomes=(Outcome(status=422, detail=DETAIL_TOO_SHORT),),
                spec_literal=True,
            ),
            Alternative(
                key="400-empty",
                summary="A file with no samples is an empty file, a 400.",
                sources=(_FORMATS_ERRORS, _spec(SVD, "responses 400 (empty_file)")),
                outcomes=(Outcome(status=400, detail=DETAIL_EMPTY),),
            ),
        ),
        preferred="422-too-short",
        rationale=(
            "The troubleshooting page names sample-less files explicitly and the spec's "
            "0.5 s rule agrees, while the empty-file 400 reads as a zero-byte upload."
        ),
        contradiction=9,
        tags=("audio-validation", "deepfake"),
    ),
    Clause(
        id="svd-batch/window-padding",
        surface=SVD,
        requirement=(
            f"A clip of at least {MIN_SVD_DURATION_S:g} s but shorter than one "
            f"{SVD_WINDOW_S:g} s window is padded internally and still gets frame verdicts. "
            "Whether a frame may extend over the padding is not documented and not judged."
        ),
        sources=(_FAQ_SVD_LENGTH, _SVD_NOTES),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    f"a clip between {_MIN_MS} and {_WINDOW_MS} ms yields at least one frame "
                    "with a synthetic or non-synthetic verdict"
                ),
            ),
        ),
        tags=("deepfake",),
    ),
    Clause(
        id="svd-batch/recommended-length",
        surface=SVD,
        requirement=(
            f"Clips of {SVD_RECOMMENDED_RANGE_S[0]:g}–{SVD_RECOMMENDED_RANGE_S[1]:g} s are the "
            "recommended input; inside that range analysis completes normally."
        ),
        sources=(_FAQ_SVD_LENGTH, _spec(SVD, "description")),
        tier=Tier.INFO,
        outcomes=(Outcome(status=200),),
        tags=("deepfake",),
    ),
    Clause(
        id="svd-batch/silence-trim-timestamps",
        surface=SVD,
        requirement=(
            "Silence at the start and end of the file is left out of analysis, yet every frame's "
            "times are measured from the start of the file as uploaded."
        ),
        sources=(_FAQ_SVD_LENGTH, _SVD_NOTES),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    "with 2 s of leading silence, the first speech verdict starts at or after "
                    "2000 ms, and the silent stretch is `no-content`"
                ),
            ),
        ),
        tags=("deepfake",),
    ),
    Clause(
        id="svd-batch/no-content",
        surface=SVD,
        requirement=(
            "A frame with only silence or no usable audio gets verdict `no-content` and a "
            f"confidence of exactly {NO_CONTENT_CONFIDENCE:g}."
        ),
        sources=(
            _SVD_NOTES,
            src(SVD_BATCH_SPEC, f"{_FRAME}.verdict"),
            src(FAQ_PAGE, "What does the confidence score mean?"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=f'silent frames have `verdict: "no-content"`, `confidence: {NO_CONTENT_CONFIDENCE}`',
            ),
        ),
        tags=("deepfake",),
    ),
    Clause(
        id="svd-batch/response-schema",
        surface=SVD,
        requirement=(
            "A 200 is JSON with `filename` (the uploaded name, or null), an ordered `frames` "
            "array and an integer `duration_ms`."
        ),
        sources=(
            _spec(SVD, "responses 200"),
            src(SVD_BATCH_SPEC, "components.schemas.DetectionAPIResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour="`filename` echoes the multipart filename (null only without one)",
            ),
        ),
        tags=("schema", "deepfake"),
    ),
    Clause(
        id="svd-batch/frame-schema",
        surface=SVD,
        requirement=(
            "Each frame has integer `start_time_ms` and `end_time_ms` (>= 0), a `verdict` and "
            "a `confidence`, all present."
        ),
        sources=(src(SVD_BATCH_SPEC, _FRAME),),
        tier=Tier.MUST,
        outcomes=(
            Outcome(status=200, behaviour="four required keys with those types; start < end"),
        ),
        tags=("schema", "deepfake"),
    ),
    Clause(
        id="svd-batch/verdict-enum",
        surface=SVD,
        requirement=f"A frame's `verdict` is one of {', '.join(f'`{v}`' for v in SVD_VERDICTS)}.",
        sources=(src(SVD_BATCH_SPEC, f"{_FRAME}.verdict"), src(SVD_BATCH_SPEC, "info.description")),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour=f"`verdict` in {SVD_VERDICTS}"),),
        tags=("schema", "deepfake"),
    ),
    Clause(
        id="svd-batch/confidence-range",
        surface=SVD,
        requirement="A frame's `confidence` is a number from 0 to 1 inclusive, in its own verdict.",
        sources=(
            src(SVD_BATCH_SPEC, f"{_FRAME}.confidence"),
            src(FAQ_PAGE, "What does the confidence score mean?"),
        ),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour="0 <= `confidence` <= 1 for every frame"),),
        tags=("schema", "deepfake"),
    ),
    Clause(
        id="svd-batch/frames-ordered",
        surface=SVD,
        requirement=(
            "Frames come in time order and together cover the file: the spec says the ordered "
            "frames cover the full duration, but not that they meet without gap or overlap, so "
            "only the order and the reach (the first within one window of the start, the last "
            "within one window of `duration_ms`) are judged."
        ),
        sources=(
            src(SVD_BATCH_SPEC, "components.schemas.DetectionAPIResponse.frames"),
            src(SVD_BATCH_SPEC, "info.description"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    f"`start_time_ms` never decreases; 0 <= start < end; the first frame starts "
                    f"before {_WINDOW_MS} ms and the last ends within {_WINDOW_MS} ms of "
                    "`duration_ms`"
                ),
            ),
        ),
        tags=("schema", "deepfake"),
    ),
)

# --------------------------------------------------------------------------
# PII/PHI redaction batch: request, multipart response, redaction
# --------------------------------------------------------------------------

_META = "components.schemas.RedactionMetadata"

_PII: tuple[Clause, ...] = (
    Clause(
        id="pii-batch/speaker-diarization-default",
        surface=PII,
        requirement="Leaving out `speaker_diarization` behaves as `speaker_diarization=true`.",
        sources=(_spec(PII, "requestBody `speaker_diarization` default true"),),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour=_FLAG_DEFAULT_EFFECT["speaker_diarization"]),),
        tags=("request-fields",),
    ),
    _speaker_distinct(PII),
    Clause(
        id="pii-batch/padding-defaults",
        surface=PII,
        requirement=(
            f"Silencing starts `start_redaction_padding_ms` (default {PII_START_PADDING_MS_DEFAULT}) "
            f"before and ends `end_redaction_padding_ms` (default {PII_END_PADDING_MS_DEFAULT}) "
            "after each detected span."
        ),
        sources=(
            _spec(PII, "requestBody `start_redaction_padding_ms`"),
            _spec(PII, "requestBody `end_redaction_padding_ms`"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    f"with the defaults each range begins {PII_START_PADDING_MS_DEFAULT} ms before "
                    "its span and ends with it; other values move the edges by that much"
                ),
            ),
        ),
        tags=("request-fields", "pii"),
    ),
    Clause(
        id="pii-batch/padding-negative",
        surface=PII,
        requirement="A negative redaction padding is refused as a malformed value.",
        sources=(
            _spec(PII, "requestBody `start_redaction_padding_ms` minimum 0"),
            _spec(PII, "responses 400 (bad_value)"),
            _spec(PII, "responses 422"),
        ),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(status=400, detail=DETAIL_BAD_VALUE),
            Outcome(status=422, behaviour=_FASTAPI_422),
        ),
        tags=("request-fields", "pii"),
    ),
    Clause(
        id="pii-batch/language-hint",
        surface=PII,
        requirement=(
            "An optional `language` hint is accepted as an ISO 639-1 code in any letter case, "
            "BCP 47 subtags allowed; without it each utterance's language is detected."
        ),
        sources=(_spec(PII, "requestBody `language`"),),
        tier=Tier.MUST,
        outcomes=(Outcome(status=200, behaviour="`en`, `EN` and `en-US` are all accepted"),),
        tags=("request-fields",),
    ),
    Clause(
        id="pii-batch/invalid-language",
        surface=PII,
        requirement=(
            f"A `language` outside the pattern `{LANGUAGE_PATTERN}` (e.g. "
            f"`{INVALID_LANGUAGE_EXAMPLE}`) is refused with 400 and a detail quoting the value."
        ),
        sources=(
            _spec(PII, "responses 400 (invalid_language)"),
            _spec(PII, "requestBody `language`"),
        ),
        tier=Tier.MUST,
        outcomes=(Outcome(status=400, detail=DETAIL_INVALID_LANGUAGE_EXAMPLE),),
        tags=("request-fields",),
    ),
    Clause(
        id="pii-batch/multipart-response",
        surface=PII,
        requirement=(
            "A 200 is a `multipart/form-data` body with a `metadata` part holding JSON and an "
            "`audio` part holding the redacted recording as MP3."
        ),
        sources=(
            src(PII_BATCH_SPEC, "info.description — Response Format"),
            _spec(PII, "responses 200"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    f"parts {PII_RESPONSE_PARTS}: `metadata` parses as JSON, `audio` decodes "
                    "as MP3 of about `duration_ms`"
                ),
            ),
        ),
        tags=("schema", "pii"),
    ),
    Clause(
        id="pii-batch/errors-json",
        surface=PII,
        requirement="Unlike its multipart success, every PII batch error is a JSON body.",
        sources=(_spec(PII, "responses 400/403/422/429/500/502 (application/json)"),),
        tier=Tier.MUST,
        outcomes=(Outcome(behaviour="non-200 responses have `Content-Type: application/json`"),),
        tags=("error-shape", "pii"),
    ),
    Clause(
        id="pii-batch/metadata-schema",
        surface=PII,
        requirement=(
            f"The `metadata` JSON has {', '.join(f'`{f}`' for f in PII_METADATA_FIELDS)}; each "
            f"utterance has {', '.join(f'`{f}`' for f in PII_UTTERANCE_FIELDS)} and no signals."
        ),
        sources=(src(PII_BATCH_SPEC, _META), src(PII_BATCH_SPEC, "components.schemas.Utterance")),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour="required keys present with the spec's types; utterances by ascending `start_ms`",
            ),
        ),
        tags=("schema", "pii"),
    ),
    Clause(
        id="pii-batch/redaction-text",
        surface=PII,
        requirement=(
            "Each PII/PHI span in the transcript is replaced by a marker and the words around "
            "it are kept; the documents disagree on the marker's form."
        ),
        sources=(
            src(PII_BATCH_SPEC, f"{_META}.text"),
            _FAQ_TAG_VS_REDACT,
        ),
        tier=Tier.MUST,
        alternatives=(
            Alternative(
                key="empty-markers",
                summary=(
                    f"Spans become empty tags, `{PII_MARKER_TEMPLATE}` for personal data and "
                    f"`{PHI_MARKER}` for health data."
                ),
                sources=(
                    src(PII_BATCH_SPEC, f"{_META}.text"),
                    src(PII_BATCH_SPEC, "components.schemas.Utterance.text"),
                    _spec(PII, "responses 200 (redacted example)"),
                ),
                outcomes=(
                    Outcome(
                        status=200,
                        behaviour=(
                            f"e.g. `{PII_MARKER_EXAMPLE}`; the redacted words never appear in "
                            "`text` or an utterance's `text`"
                        ),
                    ),
                ),
                spec_literal=True,
            ),
            Alternative(
                key="bracket-tags",
                summary=f"Spans become entity-type tags such as {', '.join(FAQ_REDACTION_TAGS)}.",
                sources=(_FAQ_TAG_VS_REDACT,),
                outcomes=(
                    Outcome(
                        status=200,
                        behaviour="e.g. `Hello, my name is [FIRSTNAME].`; the redacted words are gone",
                    ),
                ),
            ),
        ),
        preferred="empty-markers",
        rationale=(
            "The spec states the marker syntax for this wire field and shows it in its example; "
            "the FAQ's tags are an illustrative aside."
        ),
        contradiction=11,
        tags=("pii",),
    ),
    Clause(
        id="pii-batch/redaction-ranges",
        surface=PII,
        requirement=(
            "`redaction_ranges` lists the final silenced stretches as [start_ms, end_ms] integer "
            "pairs, already padded and with overlapping stretches merged."
        ),
        sources=(
            src(PII_BATCH_SPEC, f"{_META}.redaction_ranges"),
            _spec(PII, "requestBody (padding fields)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    "each item is two integers with start < end; items are ascending and no two "
                    "overlap; each covers a redacted span widened by the paddings"
                ),
            ),
        ),
        tags=("pii",),
    ),
    Clause(
        id="pii-batch/silenced-audio",
        surface=PII,
        requirement=(
            "In the returned MP3 every `redaction_ranges` stretch is silent, and the audio "
            "outside them is kept."
        ),
        sources=(
            src(PII_BATCH_SPEC, "info.description"),
            _spec(PII, "responses 200 `audio`"),
            src(PII_BATCH_SPEC, f"{_META}.redaction_ranges"),
            _FAQ_TAG_VS_REDACT,
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=200,
                behaviour=(
                    "decoded audio is near-silent inside each range and keeps the input's "
                    "energy outside (allowing for MP3 coding)"
                ),
            ),
        ),
        tags=("pii",),
    ),
)

# --------------------------------------------------------------------------
# Every endpoint: the request itself
# --------------------------------------------------------------------------

_REQUEST: tuple[Clause, ...] = _per_surface(
    "endpoint",
    BATCH,
    lambda s: dict(
        requirement=(
            f"{_NAME[s]} is a multipart/form-data POST to `{VELMA_PATHS[s]}` whose audio travels "
            f"in the `{UPLOAD_PART}` part; the answer is synchronous."
        ),
        sources=(
            src(AUTH_PAGE, "Passing your API key > HTTP batch endpoints"),
            _spec(s, "requestBody"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
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

CLAUSES: tuple[Clause, ...] = (
    *_REQUEST,
    *_AUTH,
    *_ADMISSION,
    *_UPLOADS,
    *_SERVER,
    *_COMMON_RESPONSES,
    *_STT,
    *_VFAST,
    *_SVD,
    *_PII,
)
