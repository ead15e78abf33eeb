"""Clauses that span every Velma-2 model endpoint (surface ``velma``).

Raw-audio parameters, batch limits, authentication, the 401/403 split, error
shapes, admission and quota, the documented client retry behaviour, pricing,
and the WebSocket close-code table as a whole. Per-surface statuses and
message details live in ``velma_rest`` and ``velma_stream``.

Data only: no I/O.
"""

from __future__ import annotations

from ..model import Alternative, Clause, Outcome, Source, Surface, Tier
from ..sources import (
    AUDIO_FORMATS_PAGE,
    AUTH_PAGE,
    FAQ_PAGE,
    PII_BATCH_SPEC,
    PII_STREAM_SPEC,
    RFC_9110,
    RFC_9113,
    STT_BATCH_SPEC,
    STT_STREAM_SPEC,
    SVD_BATCH_SPEC,
    SVD_STREAM_SPEC,
    TROUBLESHOOTING_PAGE,
    VFAST_SPEC,
    src,
)
from ..tables import (
    BATCH_PROCESSING_TIMEOUT_S,
    DETAIL_MODEL_NOT_ENABLED,
    DETAIL_MONTHLY_LIMIT,
    DOCUMENTED_BACKOFF,
    MAX_BATCH_UPLOAD_BYTES,
    MAX_BATCH_UPLOAD_BYTES_BINARY,
    MAX_CHANNELS,
    MIN_CHANNELS,
    PASSTHROUGH,
    PRICE_PER_AUDIO_HOUR_USD,
    RAW_FORMAT_NAMES,
    RECOMMENDED_RAW_SETUPS,
    SAMPLE_RATES,
    UPLOAD_PART,
    VELMA_CLOSE_CODES,
    VELMA_HOST_PAGES,
    VELMA_HOST_SPECS,
    VELMA_HTTP_AUTH_HEADER,
    VELMA_PATHS,
    VELMA_WS_AUTH_QUERY,
)

V = Surface.VELMA

# Standards cited by contradiction row 8 (citations only; never opened).

BATCH_SPECS = (STT_BATCH_SPEC, VFAST_SPEC, SVD_BATCH_SPEC, PII_BATCH_SPEC)
STREAM_SPECS = (STT_STREAM_SPEC, SVD_STREAM_SPEC, PII_STREAM_SPEC)

_RAW_LIST = ", ".join(f"`{n}`" for n in RAW_FORMAT_NAMES)
_RATE_LIST = ", ".join(str(r) for r in SAMPLE_RATES)
_CHANNELS = f"{MIN_CHANNELS}–{MAX_CHANNELS}"


def _each(documents: tuple[str, ...], section: str) -> tuple[Source, ...]:
    return tuple(src(d, section) for d in documents)


# Keys that differ between the files: a citation names the file's own key.
_STREAM_CHANNEL = {
    STT_STREAM_SPEC: "velma2SttStreaming",
    SVD_STREAM_SPEC: "streaming-detection",
    PII_STREAM_SPEC: "velma2PiiPhiRedactionStreaming",
}
_STREAM_EOS = {
    STT_STREAM_SPEC: "EndOfStream",
    SVD_STREAM_SPEC: "endOfStream",
    PII_STREAM_SPEC: "EndOfStream",
}
_BATCH_PATH = dict(
    zip(
        BATCH_SPECS,
        (VELMA_PATHS[n] for n in ("stt-batch", "vfast-batch", "svd-batch", "pii-batch")),
        strict=True,
    )
)


def _each_channel(part: str, documents: tuple[str, ...] = STREAM_SPECS) -> tuple[Source, ...]:
    """``part`` of each streaming file's channel, e.g. ``bindings.ws.query.api_key``."""
    return tuple(src(d, f"channels.{_STREAM_CHANNEL[d]} {part}") for d in documents)


def _each_eos(note: str = "") -> tuple[Source, ...]:
    """Each streaming file's end-of-stream message."""
    return tuple(
        src(d, f"components.messages.{_STREAM_EOS[d]} {note}".strip()) for d in STREAM_SPECS
    )


_FMT_STREAM_INTRO = src(
    AUDIO_FORMATS_PAGE, "introduction (streaming endpoints accept raw PCM / mu-law / A-law)"
)
_FMT_BATCH_EXTENSION = src(
    AUDIO_FORMATS_PAGE, "introduction (HTTP batch endpoints: the file extension decides)"
)
_TS_1003 = src(
    TROUBLESHOOTING_PAGE, "WebSocket close code 1003 — invalid query parameters (SVD Streaming)"
)
_TS_4002 = src(
    TROUBLESHOOTING_PAGE, "WebSocket close code 4002 — audio data doesn’t match declared format"
)


def _batch_op(document: str, part: str) -> Source:
    """``part`` of a batch file's one operation, e.g. ``responses 504``."""
    return src(document, f"POST {_BATCH_PATH[document]} {part}")


# --------------------------------------------------------------------------
# Raw (headerless) audio on the streaming endpoints
# --------------------------------------------------------------------------

_RAW_AUDIO: tuple[Clause, ...] = (
    Clause(
        id="velma/raw-formats",
        surface=V,
        requirement=(
            f"A streaming connection may declare any of the {len(RAW_FORMAT_NAMES)} raw sample "
            f"encodings as `audio_format`: {_RAW_LIST}; with valid `sample_rate` and "
            "`num_channels` the connection is accepted and the audio is analysed."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "Supported raw formats"),
            _FMT_STREAM_INTRO,
            *_each_channel("bindings.ws.query.audio_format"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    "for every listed raw `audio_format` the stream is not closed with 1003 or "
                    "4002 and yields results followed by `done`"
                )
            ),
        ),
        tags=("raw-format",),
    ),
    Clause(
        id="velma/raw-sample-rates",
        surface=V,
        requirement=(
            f"Raw audio accepts exactly these `sample_rate` values in Hz: {_RATE_LIST}; "
            "each one is taken as given and resampled for analysis."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "Supported sample_rate values"),
            *_each_channel("bindings.ws.query.sample_rate"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    "each listed rate with a raw format opens a stream that runs to `done`; "
                    "result timestamps follow the declared rate"
                )
            ),
        ),
        tags=("raw-format",),
    ),
    Clause(
        id="velma/raw-channels",
        surface=V,
        requirement=(
            f"Raw audio accepts `num_channels` from {_CHANNELS}; multi-channel input is "
            "mixed down to a single channel before analysis."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "num_channels range"),
            *_each_channel("bindings.ws.query.num_channels"),
            # The troubleshooting page names only 1 or 2 (a subset of the range).
            _TS_1003,
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    f"every channel count {_CHANNELS} is accepted; interleaved frames of that "
                    "width are consumed and one mono analysis is reported (no per-channel results)"
                )
            ),
        ),
        tags=("raw-format",),
    ),
    Clause(
        id="velma/raw-requires-params",
        surface=V,
        requirement=(
            "A raw `audio_format` carries no header, so the connection must also declare "
            "`sample_rate` and `num_channels`; a raw format missing either is refused at "
            "connection time."
        ),
        sources=(
            _FMT_STREAM_INTRO,
            src(AUDIO_FORMATS_PAGE, "Deepfake Detection streaming > raw formats"),
            src(AUDIO_FORMATS_PAGE, "error table (close code 1003)"),
            *_each_channel("description, 'WebSocket Close Codes' (1003)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                close_code=1003,
                behaviour="an `error` message precedes the close; no audio is analysed",
            ),
        ),
        tags=("raw-format",),
    ),
    Clause(
        id="velma/raw-invalid-params",
        surface=V,
        requirement=(
            f"An `audio_format` outside the endpoint's list, a `sample_rate` outside {_RATE_LIST}, "
            f"or a `num_channels` outside {_CHANNELS} is refused at connection time."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "error table (close code 1003)"),
            src(FAQ_PAGE, "What WebSocket close codes should I handle? (1003)"),
            _TS_1003,
            *_each_channel("description, 'WebSocket Close Codes' (1003)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                close_code=1003,
                behaviour="an `error` message naming the bad parameter precedes the close",
            ),
        ),
        tags=("raw-format", "close-code"),
    ),
    Clause(
        id="velma/raw-passthrough",
        surface=V,
        requirement=(
            f"`{PASSTHROUGH[0]}` at {PASSTHROUGH[1]} Hz with {PASSTHROUGH[2]} channel skips "
            "conversion internally; this is an efficiency detail with no observable effect "
            "on the results."
        ),
        sources=(src(AUDIO_FORMATS_PAGE, "The s16le passthrough optimization"),),
        tier=Tier.INFO,
        outcomes=(
            Outcome(
                behaviour=(
                    "results for the passthrough encoding carry the same fields and verdicts as "
                    "the same audio sent in another supported encoding; nothing marks the path"
                )
            ),
        ),
        tags=("raw-format",),
    ),
)


def _setup_clause(use_case: str, fmt: str, rate: int, channels: int) -> Clause:
    return Clause(
        id=f"velma/raw-setup-{fmt}-{rate}-{channels}",
        surface=V,
        requirement=(
            f"The recommended setup for {use_case} — `audio_format={fmt}`, "
            f"`sample_rate={rate}`, `num_channels={channels}` — is accepted and analysed."
        ),
        sources=(src(AUDIO_FORMATS_PAGE, "use-case table"),),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(behaviour="the stream opens, is not closed with 1003, and runs to `done`"),
        ),
        tags=("raw-format",),
    )


_RAW_SETUPS: tuple[Clause, ...] = tuple(_setup_clause(*row) for row in RECOMMENDED_RAW_SETUPS)

# --------------------------------------------------------------------------
# Batch (HTTP) endpoints
# --------------------------------------------------------------------------

_MB = MAX_BATCH_UPLOAD_BYTES // 1_000_000

_BATCH: tuple[Clause, ...] = (
    Clause(
        id="velma/extension-decides",
        surface=V,
        requirement=(
            f"A batch endpoint chooses how to decode the `{UPLOAD_PART}` part from its "
            "filename extension, not from the bytes or the part's content type."
        ),
        sources=(
            _FMT_BATCH_EXTENSION,
            _batch_op(STT_BATCH_SPEC, "responses 400"),
            _batch_op(VFAST_SPEC, "requestBody `upload_file`"),
            _batch_op(SVD_BATCH_SPEC, "requestBody `upload_file`"),
            _batch_op(PII_BATCH_SPEC, "responses 400 (invalid_format)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=400,
                behaviour=(
                    "valid audio under an extension the endpoint does not list is refused with 400"
                ),
            ),
            Outcome(
                behaviour=(
                    "bytes of one container under another listed extension are decoded as the "
                    "extension says (refused as undecodable, never silently sniffed)"
                ),
            ),
        ),
        tags=("limits",),
    ),
    Clause(
        id="velma/batch-max-size",
        surface=V,
        requirement=(
            f"Uploads up to {_MB} MB are within the documented size; what happens above it "
            "is not documented."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "Recommended maximum file size"),
            src(FAQ_PAGE, "Is there a file size limit?"),
            src(TROUBLESHOOTING_PAGE, "504 Gateway Timeout"),
        ),
        tier=Tier.INFO,
        alternatives=(
            Alternative(
                key="accepted",
                summary=(
                    f"{_MB} MB is only a recommendation; larger uploads are processed like any other."
                ),
                sources=(src(AUDIO_FORMATS_PAGE, "Recommended maximum file size"),),
                outcomes=(
                    Outcome(
                        status=200,
                        behaviour=(
                            f"an upload above {MAX_BATCH_UPLOAD_BYTES_BINARY} bytes is processed"
                        ),
                    ),
                ),
            ),
            Alternative(
                key="timeout-504",
                summary=(
                    "Oversized files are attempted, and may run past the processing limit "
                    "and end in a gateway timeout."
                ),
                sources=(src(TROUBLESHOOTING_PAGE, "504 Gateway Timeout"),),
                outcomes=(Outcome(status=504),),
            ),
            Alternative(
                key="rejected-4xx",
                summary=(
                    f"{_MB} MB is a hard ceiling; a larger upload is refused (no status named)."
                ),
                sources=(src(FAQ_PAGE, "Is there a file size limit?"),),
                outcomes=(
                    Outcome(status=413, behaviour="refused before processing"),
                    Outcome(status=400, behaviour="refused before processing"),
                    Outcome(status=422, behaviour="refused before processing"),
                ),
            ),
        ),
        preferred="accepted",
        rationale=(
            "Two of the three pages call 100 MB a recommendation and the troubleshooting page "
            "expects oversize files to be attempted (and possibly time out); no page names a "
            "rejection status. The emulator therefore processes them, bounded by "
            "velma/batch-timeout."
        ),
        contradiction=10,
        tags=("limits",),
    ),
    Clause(
        id="velma/batch-timeout",
        surface=V,
        requirement=(
            f"Batch processing is capped at {BATCH_PROCESSING_TIMEOUT_S:g} s; a request that "
            "needs longer ends with a gateway timeout instead of a late success."
        ),
        sources=(
            src(TROUBLESHOOTING_PAGE, "504 Gateway Timeout"),
            src(TROUBLESHOOTING_PAGE, "STT Batch English VFast — silent 60-second timeout"),
            src(FAQ_PAGE, "What does a 504 response mean?"),
            _batch_op(VFAST_SPEC, "responses 504"),
            _batch_op(SVD_BATCH_SPEC, "responses 504"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=504,
                behaviour=(
                    f"sent no later than shortly after {BATCH_PROCESSING_TIMEOUT_S:g} s of "
                    'processing, with a `{"detail": str}` body'
                ),
            ),
        ),
        tags=("timeout", "limits"),
    ),
    Clause(
        id="velma/overload-503",
        surface=V,
        requirement=(
            "When inference is temporarily overloaded the endpoint answers 503; the condition "
            "is transient, so a later retry with backoff can succeed."
        ),
        sources=(
            src(FAQ_PAGE, "What does a 503 response mean?"),
            src(TROUBLESHOOTING_PAGE, "503 Service Unavailable"),
            _batch_op(VFAST_SPEC, "responses 503"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                status=503,
                behaviour="the same request succeeds once load falls, without any client change",
            ),
        ),
        tags=("overload",),
    ),
)

# --------------------------------------------------------------------------
# Authentication
# --------------------------------------------------------------------------

_AUTH: tuple[Clause, ...] = (
    Clause(
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
            *_each(BATCH_SPECS, "components.securitySchemes.ApiKeyAuth"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    f"a valid key in `{VELMA_HTTP_AUTH_HEADER}` is processed; the same key only "
                    "in the query string or an `Authorization` header is refused as unauthenticated"
                )
            ),
        ),
        tags=("auth",),
    ),
    Clause(
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
            *_each_channel("bindings.ws.query.api_key"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    f"with a valid `{VELMA_WS_AUTH_QUERY}` the stream runs; without it the "
                    "connection is refused at the handshake and sending the key afterwards "
                    "changes nothing"
                )
            ),
        ),
        tags=("auth",),
    ),
    Clause(
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
            Outcome(behaviour="two keys of one organisation share model access and limits"),
            Outcome(behaviour="each key of the organisation has its own access and limits"),
        ),
        tags=("auth", "quota"),
    ),
    Clause(
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
                    Outcome(
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
                    Outcome(
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
    Clause(
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
            _batch_op(STT_BATCH_SPEC, "responses 422 (missing `X-API-Key` header)"),
            _batch_op(SVD_BATCH_SPEC, "responses 422 (missing `X-API-Key` header)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(status=401),
            Outcome(status=422, behaviour="FastAPI validation body naming the header in `loc`"),
        ),
        tags=("auth", "error-shape"),
    ),
    Clause(
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
            Outcome(status=status, behaviour='`{"detail": str}` body; nothing processed')
            for status in (401, 403, 502)
        ),
        tags=("auth",),
    ),
    Clause(
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
        outcomes=(Outcome(status=403, behaviour='`{"detail": str}` body; nothing processed'),),
        tags=("auth", "quota"),
    ),
    Clause(
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
            Outcome(
                status=403,
                behaviour="the two causes never share one `detail` string",
            ),
        ),
        tags=("auth", "error-shape"),
    ),
    Clause(
        id="velma/forbidden-detail-model-access",
        surface=V,
        requirement=(
            f"The 403 for a model not enabled for the organisation says `{DETAIL_MODEL_NOT_ENABLED}`."
        ),
        sources=(src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),),
        tier=Tier.SHOULD,
        outcomes=(Outcome(status=403, detail=DETAIL_MODEL_NOT_ENABLED),),
        tags=("auth", "error-shape"),
    ),
    Clause(
        id="velma/forbidden-detail-monthly-limit",
        surface=V,
        requirement=(
            f"The 403 for a spent monthly quota says `{DETAIL_MONTHLY_LIMIT}` or words to that "
            "effect."
        ),
        sources=(src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(status=403, detail=DETAIL_MONTHLY_LIMIT),
            Outcome(status=403, behaviour="`detail` mentions the monthly limit in other words"),
        ),
        tags=("auth", "quota", "error-shape"),
    ),
    Clause(
        id="velma/host",
        surface=V,
        requirement=(
            "The host that serves the Velma-2 model APIs: the seed pages and the specs name "
            "different ones. Judged from the base URLs of the profile, not from any response."
        ),
        sources=(
            src(AUTH_PAGE, "surfaces table (Velma-2 model APIs row)"),
            src(TROUBLESHOOTING_PAGE, "WebSocket close code 4001 (STT Streaming), fix example"),
            *_each(BATCH_SPECS, "servers[0].url"),
            *_each(STREAM_SPECS, "servers.production.host"),
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
                outcomes=(Outcome(behaviour=f"the profile's Velma-2 host is {VELMA_HOST_PAGES}"),),
            ),
            Alternative(
                key=VELMA_HOST_SPECS,
                summary="Every Velma-2 OpenAPI and AsyncAPI file names this host as its server.",
                sources=(
                    *_each(BATCH_SPECS, "servers[0].url"),
                    *_each(STREAM_SPECS, "servers.production.host"),
                ),
                outcomes=(Outcome(behaviour=f"the profile's Velma-2 host is {VELMA_HOST_SPECS}"),),
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
    Clause(
        id="velma/error-body-detail",
        surface=V,
        requirement=(
            'Every REST error response is a JSON object `{"detail": str}` whose text is for '
            "people; 422 validation failures are the one exception."
        ),
        sources=(
            *_each(BATCH_SPECS, "components.schemas.ErrorResponse"),
            src(AUTH_PAGE, "Authentication error codes > HTTP endpoints (the detail field)"),
            src(TROUBLESHOOTING_PAGE, "403 Forbidden (REST)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    "4xx/5xx responses other than 422 have `Content-Type: application/json` and "
                    "a string `detail`"
                )
            ),
        ),
        tags=("error-shape",),
    ),
    Clause(
        id="velma/error-422-shape",
        surface=V,
        requirement=(
            'A 422 body is either `{"detail": str}` or FastAPI\'s validation form '
            '`{"detail": [{"loc": [...], "msg": str, "type": str}, ...]}`.'
        ),
        sources=(
            *_each(BATCH_SPECS, "components.schemas.HTTPValidationError"),
            _batch_op(SVD_BATCH_SPEC, "responses 422 (oneOf ErrorResponse / HTTPValidationError)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(status=422, behaviour="`detail` is a string"),
            Outcome(
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
    Outcome(status=429),
    Outcome(status=403),
    Outcome(close_code=4029),
    Outcome(close_code=4003),
)

_LIMIT_SOURCES = (
    src(AUTH_PAGE, "Rate limits"),
    src(AUTH_PAGE, "Rate limit error codes"),
    src(FAQ_PAGE, "What rate limits apply?"),
)

_ADMISSION: tuple[Clause, ...] = (
    Clause(
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
            Outcome(
                behaviour=(
                    "an organisation at its limit on one model is still admitted on another; "
                    "hitting the concurrency limit does not consume monthly quota or vice versa"
                )
            ),
        ),
        tags=("admission", "quota"),
    ),
    Clause(
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
            Outcome(
                status=o.status,
                close_code=o.close_code,
                behaviour="returned without waiting for any in-flight request to finish",
            )
            for o in _OVER_LIMIT
        ),
        tags=("admission",),
    ),
    Clause(
        id="velma/concurrency-slot-frees",
        surface=V,
        requirement=(
            "A concurrency slot is given back when its request completes or its connection "
            "closes; the next request is then admitted."
        ),
        sources=(src(AUTH_PAGE, "Retry guidance"),),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    "after an in-flight request at the limit finishes, a new request from the "
                    "same organisation and model is admitted"
                )
            ),
        ),
        tags=("admission",),
    ),
    Clause(
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
            Outcome(
                status=o.status,
                close_code=o.close_code,
                behaviour="the same refusal repeats on every retry within the period",
            )
            for o in _OVER_LIMIT
        ),
        tags=("quota",),
    ),
    Clause(
        id="velma/quota-counts-audio-hours",
        surface=V,
        requirement=(
            "The monthly limit counts hours of audio processed, not requests, bytes or "
            "connection time."
        ),
        sources=(src(AUTH_PAGE, "Rate limits"), src(FAQ_PAGE, "What rate limits apply?")),
        tier=Tier.MUST,
        outcomes=(
            Outcome(
                behaviour=(
                    "usage grows by each request's reported `duration_ms`; many short requests "
                    "and one long request of equal total audio spend the same quota"
                )
            ),
        ),
        tags=("quota",),
    ),
    Clause(
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
            *_each_channel("description, 'Connection Flow'", (STT_STREAM_SPEC, PII_STREAM_SPEC)),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(close_code=4001, behaviour="closed right after the upgrade, before any result"),
            Outcome(close_code=4003, behaviour="closed right after the upgrade, before any result"),
            Outcome(close_code=4029, behaviour="closed right after the upgrade, before any result"),
            Outcome(status=401, behaviour="the upgrade itself is refused with an HTTP status"),
            Outcome(status=403, behaviour="the upgrade itself is refused with an HTTP status"),
            Outcome(status=429, behaviour="the upgrade itself is refused with an HTTP status"),
        ),
        tags=("admission", "auth", "close-code"),
    ),
)

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
    Clause(
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
        outcomes=(Outcome(behaviour=f"observed gaps between attempts fall within: {_WAITS}"),),
        tags=("backoff",),
    ),
    Clause(
        id="velma/client-max-retries",
        surface=V,
        requirement=(f"A client gives up after at most {_B.max_retries} retries of one request."),
        sources=(src(TROUBLESHOOTING_PAGE, "429 Too Many Requests (REST)"),),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(
                behaviour=(
                    f"no more than {_B.max_retries + 1} attempts in all "
                    f"(the page's sample makes {_B.max_retries})"
                )
            ),
        ),
        tags=("backoff",),
    ),
    Clause(
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
            Outcome(status=s, behaviour="retried after a backoff wait, not immediately")
            for s in _B.retry_statuses
        ),
        tags=("backoff", "overload"),
    ),
    Clause(
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
            Outcome(
                status=429,
                behaviour="the next attempt comes after a delay of at least one second",
            ),
            Outcome(
                close_code=4029,
                behaviour="the client reconnects after a delay with fewer simultaneous connections",
            ),
        ),
        tags=("backoff", "admission"),
    ),
    Clause(
        id="velma/client-monthly-no-retry",
        surface=V,
        requirement=(
            "After a monthly-limit refusal a client stops retrying that model until the period "
            "resets."
        ),
        sources=(src(AUTH_PAGE, "Retry guidance"),),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(
                status=403,
                behaviour="no further request to that model follows in the same run",
            ),
        ),
        tags=("backoff", "quota"),
    ),
    Clause(
        id="velma/client-semaphore",
        surface=V,
        requirement=(
            "A client bounds its own in-flight requests per model with a semaphore sized to the "
            "organisation's concurrency limit."
        ),
        sources=(src(AUTH_PAGE, "Python semaphore pattern"),),
        tier=Tier.SHOULD,
        outcomes=(
            Outcome(
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
    return Clause(
        id=f"velma/price-{surface}",
        surface=V,
        requirement=f"`{surface}` is billed at ${price:g} per hour of audio processed.",
        sources=(src(FAQ_PAGE, "How is usage billed?"),),
        tier=Tier.INFO,
        outcomes=(
            Outcome(
                behaviour=(
                    f"charge = {price:g} USD × audio seconds / 3600 "
                    f"(one audio hour costs ${price:g})"
                )
            ),
        ),
        tags=("pricing",),
    )


_BILLING: tuple[Clause, ...] = (
    Clause(
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
            Outcome(
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
    Clause(
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
            _TS_1003,
            _TS_4002,
            *_each_channel("description, 'WebSocket Close Codes'"),
        ),
        tier=Tier.INFO,
        outcomes=tuple(
            Outcome(close_code=code, behaviour=meaning)
            for code, meaning in VELMA_CLOSE_CODES.items()
        ),
        tags=("close-code",),
    ),
    Clause(
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
            *_each_channel("description, 'WebSocket Close Codes'"),
            src(STT_STREAM_SPEC, "channels.velma2SttStreaming description, 'Error Handling'"),
            src(STT_STREAM_SPEC, "components.messages.ErrorResponse"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Outcome(message="error", behaviour="the last text message before a non-1000 close"),
        ),
        tags=("close-code", "error-shape"),
    ),
    Clause(
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
            Outcome(
                close_code=1000,
                message="done",
                behaviour="`done` is the last message; results for all sent audio come before it",
            ),
        ),
        tags=("close-code",),
    ),
    Clause(
        id="velma/empty-binary-not-eos",
        surface=V,
        requirement=(
            "The documents name an empty TEXT frame as the end of input and say nothing about "
            "a zero-length binary frame; whether one ends the stream is recorded, not judged."
        ),
        sources=(
            *_each_eos("(text/plain, const '')"),
            src(SVD_STREAM_SPEC, "components.messages.audioData (frames of any size)"),
        ),
        tier=Tier.INFO,
        outcomes=(
            Outcome(behaviour="no `done` follows an empty binary frame; later audio is analysed"),
            Outcome(close_code=1000, message="done", behaviour="the empty frame ended the input"),
        ),
        tags=("close-code",),
    ),
)

CLAUSES: tuple[Clause, ...] = (
    *_RAW_AUDIO,
    *_RAW_SETUPS,
    *_BATCH,
    *_AUTH,
    *_ERROR_SHAPES,
    *_ADMISSION,
    *_CLIENT,
    *_BILLING,
    *_CLOSING,
)
