"""Clauses of every Velma-2 endpoint (surface ``velma``): raw audio parameters, recommended
setups, the batch limits.

Per-surface statuses and message details live in the surface modules. Data only: no I/O.
"""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Alternative, Clause, Tier
from ..sources import (
    AUDIO_FORMATS_PAGE,
    FAQ_PAGE,
    PII_BATCH_SPEC,
    STT_BATCH_SPEC,
    SVD_BATCH_SPEC,
    TROUBLESHOOTING_PAGE,
    VFAST_SPEC,
    src,
)
from ..tables import (
    BATCH_PROCESSING_TIMEOUT_S,
    MAX_BATCH_UPLOAD_BYTES,
    MAX_BATCH_UPLOAD_BYTES_BINARY,
    PASSTHROUGH,
    RAW_FORMAT_NAMES,
    RECOMMENDED_RAW_SETUPS,
    UPLOAD_PART,
)
from .velma_shared import (
    CHANNELS,
    FMT_BATCH_EXTENSION,
    FMT_STREAM_INTRO,
    RATE_LIST,
    RAW_LIST,
    TS_1003,
    V,
    batch_op,
    each_channel,
)

# --------------------------------------------------------------------------
# Raw (headerless) audio on the streaming endpoints
# --------------------------------------------------------------------------

_RAW_AUDIO: tuple[Clause, ...] = (
    clause(
        id="velma/raw-formats",
        surface=V,
        requirement=(
            f"A streaming connection may declare any of the {len(RAW_FORMAT_NAMES)} raw sample "
            f"encodings as `audio_format`: {RAW_LIST}; with valid `sample_rate` and "
            "`num_channels` the connection is accepted and the audio is analysed."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "Supported raw formats"),
            FMT_STREAM_INTRO,
            *each_channel("bindings.ws.query.audio_format"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    "for every listed raw `audio_format` the stream is not closed with 1003 or "
                    "4002 and yields results followed by `done`"
                )
            ),
        ),
        tags=("raw-format",),
    ),
    clause(
        id="velma/raw-sample-rates",
        surface=V,
        requirement=(
            f"Raw audio accepts exactly these `sample_rate` values in Hz: {RATE_LIST}; "
            "each one is taken as given and resampled for analysis."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "Supported sample_rate values"),
            *each_channel("bindings.ws.query.sample_rate"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    "each listed rate with a raw format opens a stream that runs to `done`; "
                    "result timestamps follow the declared rate"
                )
            ),
        ),
        tags=("raw-format",),
    ),
    clause(
        id="velma/raw-channels",
        surface=V,
        requirement=(
            f"Raw audio accepts `num_channels` from {CHANNELS}; multi-channel input is "
            "mixed down to a single channel before analysis."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "num_channels range"),
            *each_channel("bindings.ws.query.num_channels"),
            # The troubleshooting page names only 1 or 2 (a subset of the range).
            TS_1003,
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                behaviour=(
                    f"every channel count {CHANNELS} is accepted; interleaved frames of that "
                    "width are consumed and one mono analysis is reported (no per-channel results)"
                )
            ),
        ),
        tags=("raw-format",),
    ),
    clause(
        id="velma/raw-requires-params",
        surface=V,
        requirement=(
            "A raw `audio_format` carries no header, so the connection must also declare "
            "`sample_rate` and `num_channels`; a raw format missing either is refused at "
            "connection time."
        ),
        sources=(
            FMT_STREAM_INTRO,
            src(AUDIO_FORMATS_PAGE, "Deepfake Detection streaming > raw formats"),
            src(AUDIO_FORMATS_PAGE, "error table (close code 1003)"),
            *each_channel("description, 'WebSocket Close Codes' (1003)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                close_code=1003,
                behaviour="an `error` message precedes the close; no audio is analysed",
            ),
        ),
        tags=("raw-format",),
    ),
    clause(
        id="velma/raw-invalid-params",
        surface=V,
        requirement=(
            f"An `audio_format` outside the endpoint's list, a `sample_rate` outside {RATE_LIST}, "
            f"or a `num_channels` outside {CHANNELS} is refused at connection time."
        ),
        sources=(
            src(AUDIO_FORMATS_PAGE, "error table (close code 1003)"),
            src(FAQ_PAGE, "What WebSocket close codes should I handle? (1003)"),
            TS_1003,
            *each_channel("description, 'WebSocket Close Codes' (1003)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                close_code=1003,
                behaviour="an `error` message naming the bad parameter precedes the close",
            ),
        ),
        tags=("raw-format", "close-code"),
    ),
    clause(
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
            Acceptable(
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
    return clause(
        id=f"velma/raw-setup-{fmt}-{rate}-{channels}",
        surface=V,
        requirement=(
            f"The recommended setup for {use_case} — `audio_format={fmt}`, "
            f"`sample_rate={rate}`, `num_channels={channels}` — is accepted and analysed."
        ),
        sources=(src(AUDIO_FORMATS_PAGE, "use-case table"),),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(behaviour="the stream opens, is not closed with 1003, and runs to `done`"),
        ),
        tags=("raw-format",),
    )


_RAW_SETUPS: tuple[Clause, ...] = tuple(_setup_clause(*row) for row in RECOMMENDED_RAW_SETUPS)

# --------------------------------------------------------------------------
# Batch (HTTP) endpoints
# --------------------------------------------------------------------------

_MB = MAX_BATCH_UPLOAD_BYTES // 1_000_000

_BATCH: tuple[Clause, ...] = (
    clause(
        id="velma/extension-decides",
        surface=V,
        requirement=(
            f"A batch endpoint chooses how to decode the `{UPLOAD_PART}` part from its "
            "filename extension, not from the bytes or the part's content type."
        ),
        sources=(
            FMT_BATCH_EXTENSION,
            batch_op(STT_BATCH_SPEC, "responses 400"),
            batch_op(VFAST_SPEC, "requestBody `upload_file`"),
            batch_op(SVD_BATCH_SPEC, "requestBody `upload_file`"),
            batch_op(PII_BATCH_SPEC, "responses 400 (invalid_format)"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=400,
                behaviour=(
                    "valid audio under an extension the endpoint does not list is refused with 400"
                ),
            ),
            Acceptable(
                behaviour=(
                    "bytes of one container under another listed extension are decoded as the "
                    "extension says (refused as undecodable, never silently sniffed)"
                ),
            ),
        ),
        tags=("limits",),
    ),
    clause(
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
                    Acceptable(
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
                outcomes=(Acceptable(status=504),),
            ),
            Alternative(
                key="rejected-4xx",
                summary=(
                    f"{_MB} MB is a hard ceiling; a larger upload is refused (no status named)."
                ),
                sources=(src(FAQ_PAGE, "Is there a file size limit?"),),
                outcomes=(
                    Acceptable(status=413, behaviour="refused before processing"),
                    Acceptable(status=400, behaviour="refused before processing"),
                    Acceptable(status=422, behaviour="refused before processing"),
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
    clause(
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
            batch_op(VFAST_SPEC, "responses 504"),
            batch_op(SVD_BATCH_SPEC, "responses 504"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=504,
                behaviour=(
                    f"sent no later than shortly after {BATCH_PROCESSING_TIMEOUT_S:g} s of "
                    'processing, with a `{"detail": str}` body'
                ),
            ),
        ),
        tags=("timeout", "limits"),
    ),
    clause(
        id="velma/overload-503",
        surface=V,
        requirement=(
            "When inference is temporarily overloaded the endpoint answers 503; the condition "
            "is transient, so a later retry with backoff can succeed."
        ),
        sources=(
            src(FAQ_PAGE, "What does a 503 response mean?"),
            src(TROUBLESHOOTING_PAGE, "503 Service Unavailable"),
            batch_op(VFAST_SPEC, "responses 503"),
        ),
        tier=Tier.MUST,
        outcomes=(
            Acceptable(
                status=503,
                behaviour="the same request succeeds once load falls, without any client change",
            ),
        ),
        tags=("overload",),
    ),
)


CLAUSES: tuple[Clause, ...] = (*_RAW_AUDIO, *_RAW_SETUPS, *_BATCH)
