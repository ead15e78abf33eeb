"""Streaming clauses on the connection's query parameters, per WebSocket surface.

A topic per parameter, stamped out per streaming surface (``per_surface``).
"""

from __future__ import annotations

from typing import Any

from ..build import clause, per_surface
from ..model import Acceptable, Alternative, Clause, Surface, Tier
from ..tables import (
    AUDIO_FORMAT_REQUIRED,
    CONTAINER_FORMATS,
    ERR_FORMAT_REQUIRED,
    ERR_PARAMS_NEED_FORMAT,
    ERR_RAW_NEEDS_PARAMS,
    EXAMPLE_BAD_VALUES,
    MAX_CHANNELS,
    MIN_CHANNELS,
    audio_format_error,
    num_channels_error,
    sample_rate_error,
)
from .stream_shared import (
    FAQ_CLOSE,
    FAQ_ENRICH,
    FMT_CHANNELS,
    FMT_INTRO,
    FMT_RATES,
    FMT_STATUS,
    FMT_SVD_CONTAINERS,
    FMT_SVD_RAW,
    PII,
    STREAM,
    STT,
    SVD,
    TS_400,
    TS_1003,
    closes,
    err,
    msg,
    query,
    spec,
)

# --------------------------------------------------------------------------
# Query parameters
# --------------------------------------------------------------------------


def _query_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []

    def bad_params(s: Surface) -> dict[str, Any]:
        sources = [FAQ_CLOSE, closes(s), msg(s, "error")]
        if s is SVD:
            sources += [FMT_STATUS, TS_1003]
        return dict(
            requirement=(
                "Invalid, unsupported or inconsistent query parameters are rejected when the "
                "connection is made, before any audio: an `error` message, then close 1003."
            ),
            sources=sources,
            outcomes=(err(1003, behaviour="sent on connect; the server does not wait for audio"),),
        )

    out += per_surface(
        "bad-query-params",
        STREAM,
        bad_params,
        tier=Tier.MUST,
        tags=("query-params", "close-code"),
    )

    def fmt_values(s: Surface) -> dict[str, Any]:
        bad = EXAMPLE_BAD_VALUES["audio_format"][s.value]
        n_cont = len(CONTAINER_FORMATS[s.value])
        sources = [query(s, "audio_format"), msg(s, "error"), FMT_INTRO]
        if s is SVD:
            sources.append(FMT_SVD_CONTAINERS)
        return dict(
            requirement=(
                f"`audio_format` accepts the 20 raw names and {n_cont} self-describing names of this "
                "surface; any other value gets an `error` naming the value and the sorted valid list, "
                "then close 1003."
            ),
            sources=sources,
            outcomes=(
                err(
                    1003,
                    audio_format_error(s, bad),
                    f"for audio_format={bad}; other values per audio_format_error()",
                ),
            ),
        )

    out += per_surface(
        "audio-format-values",
        STREAM,
        fmt_values,
        tier=Tier.MUST,
        tags=("query-params", "close-code"),
    )

    def rate_values(s: Surface) -> dict[str, Any]:
        bad = EXAMPLE_BAD_VALUES["sample_rate"]
        return dict(
            requirement=(
                "`sample_rate` must be one of the eight documented rates; any other integer gets an "
                "`error` quoting the value and the list, then close 1003."
            ),
            sources=(query(s, "sample_rate"), msg(s, "error"), FMT_RATES, FAQ_CLOSE),
            outcomes=(
                err(
                    1003,
                    sample_rate_error(bad),
                    f"for sample_rate={bad}; others per sample_rate_error()",
                ),
            ),
        )

    out += per_surface(
        "sample-rate-values",
        STREAM,
        rate_values,
        tier=Tier.MUST,
        tags=("query-params", "close-code"),
    )

    def channel_range(s: Surface) -> dict[str, Any]:
        bad = EXAMPLE_BAD_VALUES["num_channels"]
        return dict(
            requirement=(
                f"`num_channels` outside {MIN_CHANNELS}..{MAX_CHANNELS} gets an `error` quoting the "
                "value and the range, then close 1003."
            ),
            sources=(query(s, "num_channels"), msg(s, "error"), FMT_CHANNELS, FAQ_CLOSE),
            outcomes=(
                err(
                    1003,
                    num_channels_error(bad),
                    f"for num_channels={bad}; others per num_channels_error()",
                ),
            ),
        )

    out += per_surface(
        "num-channels-range",
        STREAM,
        channel_range,
        tier=Tier.MUST,
        tags=("query-params", "close-code"),
    )

    out += per_surface(
        "raw-needs-rate-and-channels",
        STREAM,
        lambda s: dict(
            requirement=(
                "A raw `audio_format` without `sample_rate`, without `num_channels`, or without both "
                "is rejected with the documented `error` text and close 1003."
            ),
            sources=(
                query(s, "audio_format"),
                closes(s),
                msg(s, "error"),
                *((FMT_SVD_RAW, TS_1003) if s is SVD else (FMT_INTRO,)),
            ),
            outcomes=(err(1003, ERR_RAW_NEEDS_PARAMS),),
        ),
        tier=Tier.MUST,
        tags=("query-params", "close-code"),
    )

    def params_need_format(s: Surface) -> dict[str, Any]:
        outcomes = [err(1003, ERR_PARAMS_NEED_FORMAT)]
        if s is SVD:  # `audio_format` is mandatory there, so either text fits
            outcomes.append(err(1003, ERR_FORMAT_REQUIRED))
        return dict(
            requirement=(
                "`sample_rate` or `num_channels` given without `audio_format` is rejected with an "
                "`error` and close 1003."
            ),
            sources=(
                query(s, "sample_rate"),
                query(s, "num_channels"),
                msg(s, "error"),
                closes(s),
            ),
            outcomes=outcomes,
        )

    out += per_surface(
        "params-need-audio-format",
        STREAM,
        params_need_format,
        tier=Tier.MUST,
        tags=("query-params", "close-code"),
    )

    out += per_surface(
        "container-with-rate-channels",
        STREAM,
        lambda s: dict(
            requirement=(
                "Clients must not send `sample_rate`/`num_channels` with a self-describing "
                "`audio_format`; the documents do not say whether the server rejects or ignores them."
            ),
            sources=(
                query(s, "sample_rate"),
                query(s, "num_channels"),
                *((FMT_SVD_CONTAINERS,) if s is SVD else ()),
            ),
            outcomes=(
                err(1003),
                Acceptable(behaviour="accepted; the stream's own header values are used"),
            ),
        ),
        tier=Tier.INFO,
        tags=("query-params",),
    )

    out += per_surface(
        "audio-format-optional",
        tuple(s for s in STREAM if not AUDIO_FORMAT_REQUIRED[s.value]),
        lambda s: dict(
            requirement=(
                "`audio_format` may be left out: the server then detects a self-describing format "
                "(wav, mp3, ogg, flac, webm, aac, aiff) from the stream's headers; a given value "
                "overrides detection."
            ),
            sources=(query(s, "audio_format"), FMT_INTRO),
            outcomes=(
                Acceptable(
                    message="utterance",
                    behaviour="a WAV or MP3 stream sent without audio_format is transcribed",
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("query-params",),
    )
    out.append(
        clause(
            id="svd-stream/audio-format-required",
            surface=SVD,
            requirement=(
                "Deepfake streaming needs `audio_format` on every connection; leaving it out gets the "
                "documented `error` and close 1003."
            ),
            sources=(
                query(SVD, "audio_format"),
                closes(SVD),
                msg(SVD, "error"),
                FMT_INTRO,
                TS_1003,
            ),
            tier=Tier.MUST,
            outcomes=(err(1003, ERR_FORMAT_REQUIRED),),
            tags=("query-params", "close-code"),
        )
    )

    out += per_surface(
        "language-hint",
        (STT, PII),
        lambda s: dict(
            requirement=(
                "A `language` hint matching the documented pattern (ISO 639-1, any case, optional "
                "region or script subtags such as `en-US`) is accepted; only the primary subtag is used."
            ),
            sources=(query(s, "language"),),
            outcomes=(
                Acceptable(
                    message="utterance",
                    behaviour="language=EN-us is accepted and utterances follow",
                ),
            ),
        ),
        tier=Tier.MUST,
        tags=("query-params",),
    )
    out += per_surface(
        "language-invalid",
        (STT, PII),
        lambda s: dict(
            requirement=(
                "A `language` value that does not match the documented pattern is an invalid "
                "connection parameter: `error`, then close 1003."
            ),
            sources=(query(s, "language"), closes(s)),
            outcomes=(err(1003, behaviour="e.g. language=english1"),),
        ),
        tier=Tier.MUST,
        tags=("query-params", "close-code"),
    )
    out += per_surface(
        "speaker-diarization",
        (STT, PII),
        lambda s: dict(
            requirement=(
                "`speaker_diarization` defaults to true; each utterance then carries a 1-based integer "
                "`speaker`, stable for a speaker within one connection."
            ),
            sources=(
                query(s, "speaker_diarization"),
                spec(s, "components.schemas.StreamingUtterance.speaker"),
                FAQ_ENRICH,
            ),
            outcomes=(Acceptable(message="utterance", behaviour="speaker is an integer >= 1"),),
        ),
        tier=Tier.MUST,
        tags=("query-params", "schema"),
    )

    # contradiction-free dispute between the troubleshooting page and the formats page/spec
    out.append(
        clause(
            id="svd-stream/multichannel",
            surface=SVD,
            requirement=(
                "Raw deepfake streams declaring 3 to 8 channels: the pages disagree on whether they "
                "are accepted."
            ),
            sources=(TS_1003, FMT_CHANNELS, query(SVD, "num_channels")),
            tier=Tier.MUST,
            tags=("query-params", "close-code"),
            alternatives=(
                Alternative(
                    "1-8",
                    "Any channel count from 1 to 8 is accepted and downmixed to mono.",
                    (FMT_CHANNELS, query(SVD, "num_channels"), msg(SVD, "error")),
                    (
                        Acceptable(
                            message="frame",
                            behaviour="num_channels=6 with a raw format is analysed",
                        ),
                    ),
                    spec_literal=True,
                ),
                Alternative(
                    "1-2",
                    "Only mono or stereo is valid; more channels is a bad parameter.",
                    (TS_1003,),
                    (err(1003, behaviour="num_channels=6 is refused"),),
                ),
            ),
            preferred="1-8",
            rationale=(
                "The SVD spec's `num_channels` bounds and its own error text ('Must be "
                "between 1 and 8') are machine-readable and agree with the formats page."
            ),
            contradiction=None,
        )
    )

    # contradiction 1: raw-only versus containers on deepfake streaming
    out.append(
        clause(
            id="svd-stream/container-input",
            surface=SVD,
            requirement=(
                "Deepfake streaming with a container `audio_format` (e.g. `wav`, `webm`) and no "
                "`sample_rate`/`num_channels`: the pages disagree on whether it is accepted."
            ),
            sources=(FMT_SVD_CONTAINERS, query(SVD, "audio_format"), TS_1003, TS_400),
            tier=Tier.MUST,
            tags=("query-params", "close-code"),
            alternatives=(
                Alternative(
                    "containers-accepted",
                    "Container formats are accepted and carry their own rate and channel count, "
                    "so the two parameters are left out.",
                    (
                        FMT_SVD_CONTAINERS,
                        FMT_INTRO,
                        query(SVD, "audio_format"),
                        query(SVD, "sample_rate"),
                    ),
                    (
                        Acceptable(
                            message="frame",
                            behaviour="audio_format=wav alone is accepted and frames follow",
                        ),
                    ),
                    spec_literal=True,
                ),
                Alternative(
                    "raw-only",
                    "Only raw PCM is accepted and all three parameters are always required; "
                    "anything else is a bad parameter.",
                    (TS_1003, TS_400),
                    (
                        err(
                            1003,
                            behaviour="audio_format=wav without sample_rate/num_channels is refused",
                        ),
                    ),
                ),
            ),
            preferred="containers-accepted",
            rationale=(
                "The SVD spec's `audio_format` enum lists 15 container values and says "
                "their rate and channels must not be sent, which the formats page repeats."
            ),
            contradiction=1,
        )
    )
    return tuple(out)


CLAUSES: tuple[Clause, ...] = _query_clauses()
