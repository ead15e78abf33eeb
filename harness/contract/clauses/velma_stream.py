"""Clauses for the three Velma-2 streaming surfaces: ``stt-stream``, ``svd-stream``, ``pii-stream``.

Each clause is one documented behaviour of a WebSocket endpoint: authentication by the
``api_key`` query parameter, admission (concurrency and monthly quota), query parameters,
the STT first-frame configuration, the server's message types and shapes, end of stream,
close codes, the deepfake cadence and the PII audio-clip framing. Behaviours shared by all
three surfaces are written once and stamped out per surface by :func:`_per_surface`.

Outcome conventions (how to read ``Outcome`` on these surfaces)
----------------------------------------------------------------
* ``Outcome(close_code=N, message="error")``: the server sends one JSON text message whose
  ``type`` is ``"error"`` and then closes with code N. When ``detail`` is set it is the text
  the spec gives as the ``error`` example; it is judged apart, as wording (SHOULD), never as
  part of the codes verdict.
* ``Outcome(close_code=N)`` with no ``message``: only the close code is documented; no page or
  spec says an ``error`` message comes first (this is the case for 4001, which no spec lists).
* ``Outcome(close_code=1000, message="done")``: ``done`` is the last JSON message (on
  ``pii-stream`` possibly followed by one trailing MP3 frame), then a normal close.
* ``Outcome(message=T)`` without a close code: the server sends a JSON message of type T and the
  stream goes on; ``behaviour`` says what to check in it.
* ``Outcome(behaviour=...)`` alone: any other observable result (e.g. the connection stays open).
* Error texts that embed the offending value (bad ``audio_format``, ``sample_rate``,
  ``num_channels``) are built by :func:`audio_format_error`, :func:`sample_rate_error` and
  :func:`num_channels_error`; the clause outcomes carry the spec's own example value
  (:data:`EXAMPLE_BAD_VALUES`), so a probe that sends that value can compare ``detail`` exactly.

The wire strings of the streaming ``error`` messages that ``tables.py`` does not hold are kept
here as ``ERR_*`` constants (taken from the ``error`` examples of the three AsyncAPI files).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from types import MappingProxyType

from .. import sources as S
from ..model import Alternative, Clause, Outcome, Source, Surface, Tier
from ..sources import STT_GUIDE, src
from ..tables import (
    AUDIO_FORMAT_REQUIRED,
    CONTAINER_FORMATS,
    DETAIL_CANNOT_VALIDATE,
    DETAIL_FORBIDDEN,
    DETAIL_INSUFFICIENT_CREDITS,
    DETAIL_INTERNAL,
    DETAIL_INVALID_CONFIG,
    DETAIL_UNPROCESSABLE,
    MAX_CHANNELS,
    MIN_CHANNELS,
    MIN_SVD_DURATION_S,
    NO_CONTENT_CONFIDENCE,
    PII_END_PADDING_MS_DEFAULT,
    PII_START_PADDING_MS_DEFAULT,
    RAW_FORMAT_NAMES,
    SAMPLE_RATES,
    STT_DEEPFAKE_SCORE_MIN_UTTERANCE_S,
    SVD_STREAM_CADENCE_S,
    SVD_STREAM_FIRST_RESULT_S,
    SVD_WINDOW_S,
    VELMA_CLOSE_CODES,
)

STT = Surface.STT_STREAM
SVD = Surface.SVD_STREAM
PII = Surface.PII_STREAM
STREAM_SURFACES: tuple[Surface, ...] = (STT, SVD, PII)

# --------------------------------------------------------------------------
# Wire values of the streaming surfaces (AsyncAPI files, `error` examples and
# `audio_format` / message enums). Data only.
# --------------------------------------------------------------------------

ERR_RAW_NEEDS_PARAMS = "Raw audio formats require sample_rate and num_channels query parameters"
ERR_PARAMS_NEED_FORMAT = "sample_rate and num_channels require audio_format to be specified"
ERR_FORMAT_REQUIRED = (
    "audio_format query parameter is required. "
    "Example: audio_format=s16le&sample_rate=16000&num_channels=1"
)
ERR_FORMAT_MISMATCH = "Audio data does not match the declared audio_format."
ERR_INVALID_INPUT_AUDIO = "Invalid input audio"  # STT/PII example; no close code attached

#: The value each spec uses in its "invalid value" error examples.
EXAMPLE_BAD_VALUES = MappingProxyType(
    {
        "audio_format": MappingProxyType(
            {"stt-stream": "mp4", "pii-stream": "mp4", "svd-stream": "mp2"}
        ),
        "sample_rate": 50000,
        "num_channels": 12,
    }
)

#: ``audio_format`` values each surface accepts (raw names first, then self-describing ones).
STREAM_AUDIO_FORMATS = MappingProxyType(
    {s.value: RAW_FORMAT_NAMES + CONTAINER_FORMATS[s.value] for s in STREAM_SURFACES}
)

#: ``type`` values of the JSON messages each surface sends.
SERVER_MESSAGE_TYPES = MappingProxyType(
    {
        "stt-stream": ("utterance", "partial_utterance", "done", "error"),
        "svd-stream": ("frame", "done", "error"),
        "pii-stream": ("utterance", "done", "error"),
    }
)

SVD_VERDICTS = ("synthetic", "non-synthetic", "no-content")

#: Close codes the pages or specs name for each surface (subset of VELMA_CLOSE_CODES).
STREAM_CLOSE_CODES = MappingProxyType(
    {
        "stt-stream": (1000, 1003, 1011, 4001, 4002, 4003, 4029),
        "svd-stream": (1000, 1003, 1011, 4002, 4003, 4029),
        "pii-stream": (1000, 1003, 1011, 4002, 4003, 4029),
    }
)

# Query flags and their documented defaults (specs, `bindings.ws.query`).
STT_FLAG_DEFAULTS = MappingProxyType(
    {
        "speaker_diarization": True,
        "emotion_signal": False,
        "accent_signal": False,
        "deepfake_signal": False,
        "pii_phi_tagging": False,
        "partial_results": False,
    }
)
PII_FLAG_DEFAULTS = MappingProxyType(
    {
        "speaker_diarization": True,
        "start_redaction_padding_ms": PII_START_PADDING_MS_DEFAULT,
        "end_redaction_padding_ms": PII_END_PADDING_MS_DEFAULT,
    }
)
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$"

# STT first-frame configuration (STTStreamConfig / CustomTerm).
STT_CONFIG_FIELDS = (
    "speaker_diarization",
    "emotion_signal",
    "accent_signal",
    "deepfake_signal",
    "pii_phi_tagging",
    "partial_results",
    "language",
    "custom_terms",
)
CUSTOM_TERMS_MAX_ITEMS = 1000
CUSTOM_TERMS_MAX_CHARS = 8000  # serialized term strings must total *under* this
CUSTOM_TERM_DEFINITION_MAX = 256
CUSTOM_TERM_PRONUNCIATIONS_MAX = 16
CUSTOM_TERM_PRONUNCIATION_MAX_LEN = 128

# Labels the STT spec lists as examples ("possible values include"): not closed sets.
EMOTION_EXAMPLES = (
    "Neutral", "Calm", "Happy", "Amused", "Excited", "Proud", "Affectionate", "Interested",
    "Hopeful", "Frustrated", "Angry", "Contemptuous", "Concerned", "Afraid", "Sad", "Ashamed",
    "Bored", "Tired", "Surprised", "Anxious", "Stressed", "Disgusted", "Disappointed",
    "Confused", "Relieved", "Confident",
)  # fmt: skip
ACCENT_EXAMPLES = (
    "American", "British", "Australian", "Southern", "Indian", "Irish", "Scottish",
    "Eastern_European", "African", "Asian", "Latin_American", "Middle_Eastern", "Unknown",
)  # fmt: skip


def audio_format_error(surface: Surface | str, value: str) -> str:
    """The documented ``error`` text for an ``audio_format`` the surface does not accept."""
    allowed = sorted(STREAM_AUDIO_FORMATS[Surface(surface).value])
    return f"Invalid audio_format={value!r}. Valid values: {allowed!r}"


def sample_rate_error(value: int) -> str:
    """The documented ``error`` text for a ``sample_rate`` outside the list."""
    return f"Invalid sample_rate={value}. Valid values: {list(SAMPLE_RATES)!r}"


def num_channels_error(value: int) -> str:
    """The documented ``error`` text for a ``num_channels`` outside 1..8."""
    return f"Invalid num_channels={value}. Must be between {MIN_CHANNELS} and {MAX_CHANNELS}"


# --------------------------------------------------------------------------
# Citations
# --------------------------------------------------------------------------

_SPEC_DOC = {STT: S.STT_STREAM_SPEC, SVD: S.SVD_STREAM_SPEC, PII: S.PII_STREAM_SPEC}
_CHANNEL = {
    STT: "velma2SttStreaming",
    SVD: "streaming-detection",
    PII: "velma2PiiPhiRedactionStreaming",
}
# Message component names differ between the three files.
_MSG = {
    STT: {
        "error": "ErrorResponse",
        "done": "DoneResult",
        "eos": "EndOfStream",
        "audio": "AudioChunk",
    },
    SVD: {"error": "error", "done": "done", "eos": "endOfStream", "audio": "audioData"},
    PII: {
        "error": "ErrorResponse",
        "done": "DoneResult",
        "eos": "EndOfStream",
        "audio": "AudioChunk",
    },
}


def _spec(surface: Surface, where: str) -> Source:
    return src(_SPEC_DOC[surface], where)


def _closes(surface: Surface) -> Source:
    return _spec(surface, f"channels.{_CHANNEL[surface]} description, 'WebSocket Close Codes'")


def _query(surface: Surface, name: str) -> Source:
    return _spec(surface, f"channels.{_CHANNEL[surface]} bindings.ws.query.{name}")


def _msg(surface: Surface, kind: str) -> Source:
    return _spec(surface, f"components.messages.{_MSG[surface][kind]}")


def _flow(surface: Surface) -> Source:
    if surface is SVD:
        return _spec(SVD, "operations.signalEnd / receiveDone")
    return _spec(surface, f"channels.{_CHANNEL[surface]} description, 'Connection Flow'")


def _receive_ops(surface: Surface) -> Source:
    """The operation(s) listing every message the server sends."""
    ops = {
        STT: "operations.receiveTranscription",
        SVD: "operations.receiveFrameResult / receiveDone / receiveError",
        PII: "operations.receiveRedaction",
    }
    return _spec(surface, ops[surface])


def _errors_doc(surface: Surface) -> Source:
    if surface is SVD:
        return _spec(SVD, "operations.receiveError")
    return _spec(surface, f"channels.{_CHANNEL[surface]} description, 'Error Handling'")


FAQ_CLOSE = src(S.FAQ_PAGE, "Streaming (WebSocket) > What WebSocket close codes should I handle?")
FAQ_EOS = src(S.FAQ_PAGE, "Streaming (WebSocket) > How do I signal the end of my audio stream?")
FAQ_PARTIALS = src(S.FAQ_PAGE, "Streaming (WebSocket) > partial_results")
FAQ_LIMITS = src(S.FAQ_PAGE, "Rate limits > What rate limits apply?")
FAQ_MODELS = src(S.FAQ_PAGE, "Models and capabilities > What models are available?")
FAQ_ENRICH = src(S.FAQ_PAGE, "Models and capabilities > parameter table")
FAQ_TAG_VS_REDACT = src(
    S.FAQ_PAGE, "Models and capabilities > PII/PHI tagging vs PII/PHI redaction"
)
FAQ_CONFIDENCE = src(S.FAQ_PAGE, "What does the confidence score mean?")
FAQ_SVD_LENGTH = src(S.FAQ_PAGE, "What is the recommended audio length for deepfake detection?")

TS_4001 = src(S.TROUBLESHOOTING_PAGE, "WebSocket close code 4001 (STT Streaming)")
TS_4003 = src(S.TROUBLESHOOTING_PAGE, "WebSocket close code 4003")
TS_4029 = src(S.TROUBLESHOOTING_PAGE, "WebSocket close code 4029")
TS_1003 = src(
    S.TROUBLESHOOTING_PAGE, "WebSocket close code 1003 — invalid query parameters (SVD Streaming)"
)
TS_4002 = src(
    S.TROUBLESHOOTING_PAGE, "WebSocket close code 4002 — audio data doesn’t match declared format"
)
TS_400 = src(S.TROUBLESHOOTING_PAGE, "400 Bad Request — wrong format (SVD Streaming row)")

AUTH_WS_KEY = src(S.AUTH_PAGE, "Passing your API key > WebSocket streaming endpoints")
AUTH_WS_CODES = src(S.AUTH_PAGE, "Authentication error codes > WebSocket endpoints")
AUTH_LIMITS = src(S.AUTH_PAGE, "Rate limits")
AUTH_LIMIT_CODES = src(S.AUTH_PAGE, "Rate limit error codes")
AUTH_RETRY = src(S.AUTH_PAGE, "Retry guidance")

FMT_INTRO = src(S.AUDIO_FORMATS_PAGE, "introduction (per-endpoint format summary)")
FMT_SVD_CONTAINERS = src(S.AUDIO_FORMATS_PAGE, "Deepfake Detection streaming > container formats")
FMT_SVD_RAW = src(S.AUDIO_FORMATS_PAGE, "Deepfake Detection streaming > raw formats")
FMT_RATES = src(S.AUDIO_FORMATS_PAGE, "Supported sample_rate values")
FMT_CHANNELS = src(S.AUDIO_FORMATS_PAGE, "num_channels range")
FMT_PASSTHROUGH = src(S.AUDIO_FORMATS_PAGE, "The s16le passthrough optimization")
FMT_STATUS = src(S.AUDIO_FORMATS_PAGE, "error table (1003 at connect, 4002 at decode)")

# --------------------------------------------------------------------------
# Building blocks
# --------------------------------------------------------------------------


def _clause(
    surface: Surface,
    slug: str,
    requirement: str,
    sources: Iterable[Source],
    tier: Tier,
    outcomes: Iterable[Outcome] = (),
    tags: Iterable[str] = (),
    **dispute: object,
) -> Clause:
    return Clause(
        id=f"{surface.value}/{slug}",
        surface=surface,
        requirement=requirement,
        sources=tuple(sources),
        tier=tier,
        outcomes=tuple(outcomes),
        tags=tuple(tags),
        **dispute,  # type: ignore[arg-type]
    )


def _per_surface(
    slug: str,
    tier: Tier,
    tags: Sequence[str],
    make: Callable[[Surface], tuple[str, Sequence[Source], Sequence[Outcome]]],
    surfaces: Sequence[Surface] = STREAM_SURFACES,
) -> tuple[Clause, ...]:
    """One clause per surface; ``make`` returns (requirement, sources, outcomes)."""
    out = []
    for s in surfaces:
        requirement, sources, outcomes = make(s)
        out.append(_clause(s, slug, requirement, sources, tier, outcomes, tags))
    return tuple(out)


def _err(code: int, detail: str | None = None, behaviour: str | None = None) -> Outcome:
    """An ``error`` message, then a close with ``code``."""
    return Outcome(close_code=code, message="error", detail=detail, behaviour=behaviour)


_RESULT = {STT: "utterance", SVD: "frame", PII: "utterance"}
_LIVE_RESULTS = {
    STT: _spec(STT, "info.description"),
    SVD: _spec(SVD, "operations.receiveFrameResult"),
    PII: _flow(PII),
}

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
        a4003_sources = (_closes(STT), AUTH_WS_CODES)
        s4001 = f"STT streaming closes with 4001 when the key is {what}."
        s4003 = "The STT spec lists no 4001; 4003 is its only code for a request it cannot validate or permit (as on SVD)."
    elif surface is SVD:
        a4001_sources = (FAQ_CLOSE, TS_4001)
        a4003_sources = (AUTH_WS_CODES, _closes(SVD), FAQ_CLOSE)
        s4001 = "The close-code table reserves 4001 for an invalid key; read as applying to every streaming surface."
        s4003 = f"Deepfake streaming reports a {what} key as an authentication failure with 4003."
    else:
        a4001_sources = (FAQ_CLOSE, TS_4001, AUTH_WS_CODES)
        a4003_sources = (_closes(PII), FAQ_CLOSE)
        s4001 = "The close-code table reserves 4001 for an invalid key; read as applying to every streaming surface."
        s4003 = "The PII spec lists no 4001; a request it cannot validate or permit ends with 4003."
    behaviour = "the upgrade succeeds and the server closes at once, before any audio"
    return (
        Alternative("4001", s4001, a4001_sources, (Outcome(close_code=4001, behaviour=behaviour),)),
        Alternative(
            "4003", s4003, a4003_sources, (_err(4003, behaviour=behaviour),), spec_literal=True
        ),
    )


def _key_clause(surface: Surface, slug: str, what: str, requirement: str) -> Clause:
    return _clause(
        surface,
        slug,
        requirement,
        (AUTH_WS_KEY, AUTH_WS_CODES, _query(surface, "api_key")),
        Tier.MUST,
        tags=("auth", "close-code"),
        alternatives=_key_alternatives(surface, what),
        preferred=_KEY_PREFERRED[surface],
        rationale=_KEY_RATIONALE[surface],
        contradiction=5,
    )


def _auth_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []
    for s in STREAM_SURFACES:
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
    out += _per_surface(
        "key-in-query-only",
        Tier.INFO,
        ("auth",),
        lambda s: (
            "The key is documented only as the `api_key` query parameter; what happens to a key "
            "sent solely as an `X-API-Key` header on the upgrade request is left open.",
            (AUTH_WS_KEY, _query(s, "api_key")),
            (
                Outcome(behaviour=f"refused exactly like {s.value}/missing-key"),
                Outcome(behaviour="accepted as if the key were in the query"),
            ),
        ),
    )
    out += _per_surface(
        "model-not-enabled",
        Tier.MUST,
        ("auth", "close-code"),
        lambda s: (
            "A valid key whose organisation does not have this model enabled gets an `error` "
            "message and close 4003.",
            (
                (TS_4003, AUTH_WS_CODES, FAQ_CLOSE, _closes(s))
                if s is not PII
                else (FAQ_CLOSE, TS_4003, _closes(s))
            ),
            (_err(4003, DETAIL_FORBIDDEN),),
        ),
    )
    out += _per_surface(
        "usage-denied",
        Tier.MUST,
        ("auth", "admission", "close-code"),
        lambda s: (
            "A valid key whose usage is denied for a reason other than the monthly quota or the "
            "concurrency limit gets an `error` message and close 4003.",
            (AUTH_WS_CODES, _closes(s)),
            (_err(4003, DETAIL_FORBIDDEN),),
        ),
        surfaces=(STT, SVD),
    )
    out += _per_surface(
        "validation-unavailable",
        Tier.MUST,
        ("auth", "close-code"),
        lambda s: (
            "When the service cannot check the request (validation backend unavailable) it sends "
            "an `error` message and closes with 4003; the client may retry.",
            (_closes(s), _msg(s, "error")),
            (_err(4003, DETAIL_CANNOT_VALIDATE),),
        ),
    )
    return tuple(out)


_LIMIT_BEHAVIOUR = (
    "close follows the upgrade at once; the connection is not held open waiting for a slot"
)


def _limit_clause(surface: Surface, slug: str, requirement: str, credits: bool) -> Clause:
    detail = DETAIL_INSUFFICIENT_CREDITS if credits else None
    tags = ("admission", "quota", "close-code")
    if surface is SVD:
        return _clause(
            SVD,
            slug,
            requirement,
            (FAQ_LIMITS, TS_4029, AUTH_LIMIT_CODES, _closes(SVD)),
            Tier.MUST,
            tags=tags,
            alternatives=(
                Alternative(
                    "4029",
                    "Every WebSocket surface refuses a connection over the monthly quota or the "
                    "concurrency limit with 4029 at the handshake.",
                    (FAQ_LIMITS, TS_4029, *((_closes(SVD),) if credits else ())),
                    (_err(4029, detail, _LIMIT_BEHAVIOUR),),
                    spec_literal=credits,  # the spec's 4029 is about credits, not concurrency
                ),
                Alternative(
                    "4003",
                    "Deepfake streaming reports limits as 'usage denied' with 4003.",
                    (AUTH_LIMIT_CODES, AUTH_WS_CODES),
                    (_err(4003, None, _LIMIT_BEHAVIOUR),),
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
    sources = [FAQ_LIMITS, TS_4029, _closes(surface)]
    if surface is STT:
        sources.insert(2, AUTH_LIMIT_CODES)
    return _clause(
        surface,
        slug,
        requirement,
        sources,
        Tier.MUST,
        (_err(4029, detail, _LIMIT_BEHAVIOUR),),
        tags,
    )


def _admission_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []
    for s in STREAM_SURFACES:
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
    out += _per_surface(
        "admission-immediate",
        Tier.MUST,
        ("admission", "quota"),
        lambda s: (
            "A connection over the concurrency limit fails straight away; it is never queued "
            "until another connection ends.",
            (AUTH_LIMITS, FAQ_LIMITS, TS_4029),
            (
                Outcome(
                    behaviour=f"{s.value}/concurrency-limit close arrives without waiting for a slot"
                ),
            ),
        ),
    )
    out += _per_surface(
        "admission-at-handshake",
        Tier.MUST,
        ("auth", "admission", "close-code"),
        lambda s: (
            "Authentication and limit refusals are reported as a WebSocket close code on the "
            "freshly upgraded connection, not as an HTTP error status on the upgrade request.",
            (
                AUTH_WS_CODES,
                FAQ_LIMITS,
                TS_4029,
                _closes(s),
                *(() if s is SVD else (_errors_doc(s),)),
            ),
            (
                Outcome(
                    behaviour="HTTP 101, then a close frame carrying the documented code, without "
                    "the client having to send audio"
                ),
            ),
        ),
    )
    out += _per_surface(
        "quota-persists",
        Tier.MUST,
        ("admission", "quota"),
        lambda s: (
            "Once the monthly quota is exhausted, every later connection is refused the same way "
            "until the monthly period resets; retrying does not help.",
            (AUTH_LIMITS, AUTH_RETRY),
            (Outcome(behaviour=f"each new connection gets the {s.value}/monthly-quota refusal"),),
        ),
    )
    return tuple(out)


# --------------------------------------------------------------------------
# Query parameters
# --------------------------------------------------------------------------


def _query_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []

    def bad_params(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        sources = [FAQ_CLOSE, _closes(s), _msg(s, "error")]
        if s is SVD:
            sources += [FMT_STATUS, TS_1003]
        return (
            "Invalid, unsupported or inconsistent query parameters are rejected when the "
            "connection is made, before any audio: an `error` message, then close 1003.",
            sources,
            (_err(1003, behaviour="sent on connect; the server does not wait for audio"),),
        )

    out += _per_surface("bad-query-params", Tier.MUST, ("query-params", "close-code"), bad_params)

    def fmt_values(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        bad = EXAMPLE_BAD_VALUES["audio_format"][s.value]
        n_cont = len(CONTAINER_FORMATS[s.value])
        sources = [_query(s, "audio_format"), _msg(s, "error"), FMT_INTRO]
        if s is SVD:
            sources.append(FMT_SVD_CONTAINERS)
        return (
            f"`audio_format` accepts the 20 raw names and {n_cont} self-describing names of this "
            "surface; any other value gets an `error` naming the value and the sorted valid list, "
            "then close 1003.",
            sources,
            (
                _err(
                    1003,
                    audio_format_error(s, bad),
                    f"for audio_format={bad}; other values per audio_format_error()",
                ),
            ),
        )

    out += _per_surface(
        "audio-format-values", Tier.MUST, ("query-params", "close-code"), fmt_values
    )

    def rate_values(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        bad = EXAMPLE_BAD_VALUES["sample_rate"]
        return (
            "`sample_rate` must be one of the eight documented rates; any other integer gets an "
            "`error` quoting the value and the list, then close 1003.",
            (_query(s, "sample_rate"), _msg(s, "error"), FMT_RATES, FAQ_CLOSE),
            (
                _err(
                    1003,
                    sample_rate_error(bad),
                    f"for sample_rate={bad}; others per sample_rate_error()",
                ),
            ),
        )

    out += _per_surface(
        "sample-rate-values", Tier.MUST, ("query-params", "close-code"), rate_values
    )

    def channel_range(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        bad = EXAMPLE_BAD_VALUES["num_channels"]
        return (
            f"`num_channels` outside {MIN_CHANNELS}..{MAX_CHANNELS} gets an `error` quoting the "
            "value and the range, then close 1003.",
            (_query(s, "num_channels"), _msg(s, "error"), FMT_CHANNELS, FAQ_CLOSE),
            (
                _err(
                    1003,
                    num_channels_error(bad),
                    f"for num_channels={bad}; others per num_channels_error()",
                ),
            ),
        )

    out += _per_surface(
        "num-channels-range", Tier.MUST, ("query-params", "close-code"), channel_range
    )

    out += _per_surface(
        "raw-needs-rate-and-channels",
        Tier.MUST,
        ("query-params", "close-code"),
        lambda s: (
            "A raw `audio_format` without `sample_rate`, without `num_channels`, or without both "
            "is rejected with the documented `error` text and close 1003.",
            (
                _query(s, "audio_format"),
                _closes(s),
                _msg(s, "error"),
                *((FMT_SVD_RAW, TS_1003) if s is SVD else (FMT_INTRO,)),
            ),
            (_err(1003, ERR_RAW_NEEDS_PARAMS),),
        ),
    )

    def params_need_format(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        outcomes = [_err(1003, ERR_PARAMS_NEED_FORMAT)]
        if s is SVD:  # `audio_format` is mandatory there, so either text fits
            outcomes.append(_err(1003, ERR_FORMAT_REQUIRED))
        return (
            "`sample_rate` or `num_channels` given without `audio_format` is rejected with an "
            "`error` and close 1003.",
            (_query(s, "sample_rate"), _query(s, "num_channels"), _msg(s, "error"), _closes(s)),
            outcomes,
        )

    out += _per_surface(
        "params-need-audio-format", Tier.MUST, ("query-params", "close-code"), params_need_format
    )

    out += _per_surface(
        "container-with-rate-channels",
        Tier.INFO,
        ("query-params",),
        lambda s: (
            "Clients must not send `sample_rate`/`num_channels` with a self-describing "
            "`audio_format`; the documents do not say whether the server rejects or ignores them.",
            (
                _query(s, "sample_rate"),
                _query(s, "num_channels"),
                *((FMT_SVD_CONTAINERS,) if s is SVD else ()),
            ),
            (_err(1003), Outcome(behaviour="accepted; the stream's own header values are used")),
        ),
    )

    out += _per_surface(
        "audio-format-optional",
        Tier.MUST,
        ("query-params",),
        lambda s: (
            "`audio_format` may be left out: the server then detects a self-describing format "
            "(wav, mp3, ogg, flac, webm, aac, aiff) from the stream's headers; a given value "
            "overrides detection.",
            (_query(s, "audio_format"), FMT_INTRO),
            (
                Outcome(
                    message="utterance",
                    behaviour="a WAV or MP3 stream sent without audio_format is transcribed",
                ),
            ),
        ),
        surfaces=tuple(s for s in STREAM_SURFACES if not AUDIO_FORMAT_REQUIRED[s.value]),
    )
    out.append(
        _clause(
            SVD,
            "audio-format-required",
            "Deepfake streaming needs `audio_format` on every connection; leaving it out gets the "
            "documented `error` and close 1003.",
            (_query(SVD, "audio_format"), _closes(SVD), _msg(SVD, "error"), FMT_INTRO, TS_1003),
            Tier.MUST,
            (_err(1003, ERR_FORMAT_REQUIRED),),
            ("query-params", "close-code"),
        )
    )

    out += _per_surface(
        "language-hint",
        Tier.MUST,
        ("query-params",),
        lambda s: (
            "A `language` hint matching the documented pattern (ISO 639-1, any case, optional "
            "region or script subtags such as `en-US`) is accepted; only the primary subtag is used.",
            (_query(s, "language"),),
            (
                Outcome(
                    message="utterance",
                    behaviour="language=EN-us is accepted and utterances follow",
                ),
            ),
        ),
        surfaces=(STT, PII),
    )
    out += _per_surface(
        "language-invalid",
        Tier.MUST,
        ("query-params", "close-code"),
        lambda s: (
            "A `language` value that does not match the documented pattern is an invalid "
            "connection parameter: `error`, then close 1003.",
            (_query(s, "language"), _closes(s)),
            (_err(1003, behaviour="e.g. language=english1"),),
        ),
        surfaces=(STT, PII),
    )
    out += _per_surface(
        "speaker-diarization",
        Tier.MUST,
        ("query-params", "schema"),
        lambda s: (
            "`speaker_diarization` defaults to true; each utterance then carries a 1-based integer "
            "`speaker`, stable for a speaker within one connection.",
            (
                _query(s, "speaker_diarization"),
                _spec(s, "components.schemas.StreamingUtterance.speaker"),
                FAQ_ENRICH,
            ),
            (Outcome(message="utterance", behaviour="speaker is an integer >= 1"),),
        ),
        surfaces=(STT, PII),
    )

    # contradiction-free dispute between the troubleshooting page and the formats page/spec
    out.append(
        _clause(
            SVD,
            "multichannel",
            "Raw deepfake streams declaring 3 to 8 channels: the pages disagree on whether they "
            "are accepted.",
            (TS_1003, FMT_CHANNELS, _query(SVD, "num_channels")),
            Tier.MUST,
            tags=("query-params", "close-code"),
            alternatives=(
                Alternative(
                    "1-8",
                    "Any channel count from 1 to 8 is accepted and downmixed to mono.",
                    (FMT_CHANNELS, _query(SVD, "num_channels"), _msg(SVD, "error")),
                    (
                        Outcome(
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
                    (_err(1003, behaviour="num_channels=6 is refused"),),
                ),
            ),
            preferred="1-8",
            rationale="The SVD spec's `num_channels` bounds and its own error text ('Must be "
            "between 1 and 8') are machine-readable and agree with the formats page.",
            contradiction=None,
        )
    )

    # contradiction 1: raw-only versus containers on deepfake streaming
    out.append(
        _clause(
            SVD,
            "container-input",
            "Deepfake streaming with a container `audio_format` (e.g. `wav`, `webm`) and no "
            "`sample_rate`/`num_channels`: the pages disagree on whether it is accepted.",
            (FMT_SVD_CONTAINERS, _query(SVD, "audio_format"), TS_1003, TS_400),
            Tier.MUST,
            tags=("query-params", "close-code"),
            alternatives=(
                Alternative(
                    "containers-accepted",
                    "Container formats are accepted and carry their own rate and channel count, "
                    "so the two parameters are left out.",
                    (
                        FMT_SVD_CONTAINERS,
                        FMT_INTRO,
                        _query(SVD, "audio_format"),
                        _query(SVD, "sample_rate"),
                    ),
                    (
                        Outcome(
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
                        _err(
                            1003,
                            behaviour="audio_format=wav without sample_rate/num_channels is refused",
                        ),
                    ),
                ),
            ),
            preferred="containers-accepted",
            rationale="The SVD spec's `audio_format` enum lists 15 container values and says "
            "their rate and channels must not be sent, which the formats page repeats.",
            contradiction=1,
        )
    )
    return tuple(out)


# --------------------------------------------------------------------------
# Protocol common to the three surfaces: audio, results, errors, end of stream
# --------------------------------------------------------------------------


def _protocol_clauses() -> tuple[Clause, ...]:
    out: list[Clause] = []

    def audio_frames(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        if s is SVD:
            return (
                "Audio goes to the server as binary frames in the declared format; frames may be "
                "of any size and the server buffers across them.",
                (_msg(SVD, "audio"), _spec(SVD, "operations.sendAudio")),
                (
                    Outcome(
                        behaviour="chunks of odd sizes (not sample-aligned) give the same frames"
                    ),
                ),
            )
        return (
            "Audio goes to the server as binary frames in the declared (or auto-detected) format"
            + (", after the optional configuration frame." if s is STT else "."),
            (_msg(s, "audio"), _flow(s)),
            (
                Outcome(
                    message="utterance", behaviour="speech sent as binary frames is transcribed"
                ),
            ),
        )

    out += _per_surface("audio-binary-frames", Tier.MUST, ("protocol",), audio_frames)
    out += _per_surface(
        "message-types",
        Tier.MUST,
        ("protocol", "schema"),
        lambda s: (
            "Every JSON message from the server has a `type` among "
            + ", ".join(f"`{t}`" for t in SERVER_MESSAGE_TYPES[s.value])
            + ("; the only binary frames are MP3 clips." if s is PII else "."),
            (_receive_ops(s),),
            (Outcome(behaviour=f"type in {SERVER_MESSAGE_TYPES[s.value]}"),),
        ),
    )
    out += _per_surface(
        "results-while-streaming",
        Tier.MUST,
        ("protocol",),
        lambda s: (
            f"Each `{_RESULT[s]}` is sent as soon as it is ready while audio is still arriving, "
            "not held back until end of stream.",
            (_LIVE_RESULTS[s], FAQ_MODELS),
            (
                Outcome(
                    message=_RESULT[s],
                    behaviour="arrives before the client sends the empty text frame",
                ),
            ),
        ),
    )
    out += _per_surface(
        "error-shape",
        Tier.MUST,
        ("protocol", "schema"),
        lambda s: (
            'An error is reported as `{"type": "error", "error": <text>}`, both fields present, '
            "`error` a human-readable string.",
            (_msg(s, "error") if s is not SVD else _spec(SVD, "components.schemas.ErrorResponse"),),
            (Outcome(message="error", behaviour="object with string fields type and error"),),
        ),
    )
    out += _per_surface(
        "error-before-close",
        Tier.MUST,
        ("protocol", "close-code"),
        lambda s: (
            "When the server closes for an error, with a code the spec lists with an `error` "
            "message (1003, 4003, 4029"
            + ("; 4002 on deepfake streaming" if s is SVD else "")
            + ") or after an error during processing (undecodable audio, an internal failure), "
            "an `error` message comes right before the close; after an `error` message the "
            "server closes the connection"
            + (" and sends no binary frame." if s is PII else ".")
            + " Nothing is promised for 4001, which no spec lists.",
            (_closes(s), _errors_doc(s), *((_msg(PII, "error"),) if s is PII else ())),
            (Outcome(message="error", behaviour="the message directly precedes the close frame"),),
        ),
    )
    out += _per_surface(
        "internal-error",
        Tier.MUST,
        ("protocol", "close-code"),
        lambda s: (
            "An internal failure while streaming is reported with an `error` message and close 1011.",
            (
                FAQ_CLOSE,
                _msg(s, "error")
                if s is not SVD
                else _spec(SVD, "components.schemas.ErrorResponse"),
                _errors_doc(s),
            ),
            (_err(1011, DETAIL_INTERNAL),),
        ),
    )

    def undecodable(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        if s is SVD:
            return (
                "Audio that cannot be decoded (truncated or corrupt stream, or an MP4-family "
                "stream not in streamable layout) ends with an `error` and close 4002.",
                (
                    _closes(SVD),
                    FMT_STATUS,
                    _query(SVD, "audio_format"),
                    _spec(SVD, "components.schemas.ErrorResponse"),
                    FAQ_CLOSE,
                ),
                (_err(4002, DETAIL_UNPROCESSABLE),),
            )
        return (
            "Audio that cannot be decoded (corrupt bytes, or no recognisable format when "
            "`audio_format` is omitted) is refused: an `error` message, then a close with an "
            "error code (not 1000). The spec names no code for it (its list is 1000, 1003, "
            "4003, 4029); 4002 is judged apart, as a recommendation "
            f"({s.value}/audio-error-4002).",
            (_errors_doc(s), _msg(s, "error"), _closes(s)),
            (
                Outcome(
                    message="error",
                    detail=ERR_INVALID_INPUT_AUDIO,
                    behaviour="the server closes with a code other than 1000 right after it",
                ),
            ),
        )

    out += _per_surface("undecodable", Tier.MUST, ("protocol", "close-code"), undecodable)

    def mismatch(s: Surface) -> tuple[str, Sequence[Source], Sequence[Outcome]]:
        req = (
            "Audio that does not match the declared `audio_format` (e.g. WebM bytes on an "
            "`s16le` connection) ends with an `error` and close 4002."
        )
        if s is SVD:
            return (
                req,
                (
                    _closes(SVD),
                    FMT_STATUS,
                    TS_4002,
                    FAQ_CLOSE,
                    _spec(SVD, "components.schemas.ErrorResponse"),
                ),
                (_err(4002, ERR_FORMAT_MISMATCH),),
            )
        return (
            "Audio that does not match the declared `audio_format` (e.g. WebM bytes on an "
            "`s16le` connection) is refused: an `error` message, then a close with an error "
            "code (not 1000). The spec's close-code list has no 4002; the FAQ and the "
            "troubleshooting page give it for this case, judged apart as a recommendation "
            f"({s.value}/audio-error-4002).",
            (_errors_doc(s), _msg(s, "error"), FAQ_CLOSE, TS_4002),
            (
                Outcome(
                    message="error",
                    behaviour="the server closes with a code other than 1000 right after it",
                ),
            ),
        )

    out += _per_surface("format-mismatch", Tier.MUST, ("protocol", "close-code"), mismatch)
    out += _per_surface(
        "audio-error-4002",
        Tier.SHOULD,
        ("protocol", "close-code"),
        lambda s: (
            "Undecodable or mismatched audio should close with 4002: the FAQ's close-code table "
            "and the troubleshooting page give 4002 to audio that does not match the declared "
            "format, and the formats page to undecodable deepfake streams, but this surface's "
            "spec does not list the code.",
            (FAQ_CLOSE, TS_4002, FMT_STATUS),
            (_err(4002),),
        ),
        surfaces=(STT, PII),
    )

    out += _per_surface(
        "end-of-stream",
        Tier.MUST,
        ("end-of-stream", "protocol"),
        lambda s: (
            'An empty text frame ("") ends the input: the server processes what it has buffered, '
            "sends every outstanding result, then `done`, then closes with 1000.",
            (FAQ_EOS, _msg(s, "eos"), _flow(s), FAQ_CLOSE),
            (
                Outcome(
                    close_code=1000,
                    message="done",
                    behaviour="no result for audio sent before the empty frame is lost",
                ),
            ),
        ),
    )
    out += _per_surface(
        "empty-binary-not-eos",
        Tier.INFO,
        ("end-of-stream", "protocol"),
        lambda s: (
            "Whether a zero-length binary frame ends the input is not documented: the pages "
            "name an empty TEXT frame as the end of stream and say nothing of empty binary "
            "frames, so what the server does is recorded (stays open, or ends the stream).",
            (FAQ_EOS, _msg(s, "eos")),
            (
                Outcome(behaviour="connection open, no done, later audio still processed"),
                Outcome(close_code=1000, message="done", behaviour="the empty frame ended input"),
            ),
        ),
    )
    out += _per_surface(
        "done-last",
        Tier.MUST,
        ("end-of-stream", "protocol"),
        lambda s: (
            "`done` comes after every other result and is the last JSON message"
            + (" (at most one trailing MP3 frame may follow it)" if s is PII else "")
            + "; the server then closes with 1000 without waiting for the client.",
            (FAQ_EOS, FAQ_CLOSE, _flow(s), _closes(s)),
            (Outcome(close_code=1000, message="done"),),
        ),
    )
    out += _per_surface(
        "done-duration",
        Tier.MUST,
        ("end-of-stream", "schema"),
        lambda s: (
            "`done.duration_ms` is the total length, in whole milliseconds, of the audio the "
            "server received on the connection.",
            (_msg(s, "done") if s is not SVD else _spec(SVD, "components.schemas.DoneMessage"),),
            (Outcome(message="done", behaviour="duration_ms matches the audio sent, to rounding"),),
        ),
    )
    out += _per_surface(
        "documented-close-codes",
        Tier.INFO,
        ("close-code",),
        lambda s: (
            "The codes the documents name for this surface are "
            + ", ".join(str(c) for c in STREAM_CLOSE_CODES[s.value])
            + ". The FAQ lists them as codes to handle, which does not promise that no other "
            "code occurs, so a close with another code is recorded, not judged.",
            (FAQ_CLOSE, _closes(s), *((AUTH_WS_CODES, TS_4001) if s is STT else ())),
            tuple(
                Outcome(
                    close_code=c,
                    message="done" if c == 1000 else None,
                    behaviour=VELMA_CLOSE_CODES[c],
                )
                for c in STREAM_CLOSE_CODES[s.value]
            ),
        ),
    )
    return tuple(out)


# --------------------------------------------------------------------------
# STT streaming: config frame, utterances, partials, enrichment signals
# --------------------------------------------------------------------------

_CFG = _spec(STT, "components.messages.ConfigFrame")
_CFG_SCHEMA = _spec(STT, "components.schemas.STTStreamConfig")
_CFG_TERM = _spec(STT, "components.schemas.CustomTerm")
_STT_UTT = _spec(STT, "components.schemas.StreamingUtterance")
_STT_PARTIAL = _spec(STT, "components.schemas.PartialUtterance")
_STT_FLOW = _flow(STT)


def _stt_clauses() -> tuple[Clause, ...]:
    c = _clause
    cfg_tags = ("config-frame", "protocol")
    return (
        c(STT, "config-frame",
          "The client may send one JSON configuration as its first, text, frame; if the first "
          "frame is binary it counts as audio and the query parameters apply unchanged.",
          (_CFG, _STT_FLOW), Tier.MUST,
          (Outcome(message="utterance", behaviour="streams opened with and without a config frame both work"),),
          cfg_tags),
        c(STT, "config-frame-overrides",
          "A field present in the configuration frame wins over the query parameter of the same "
          "name; fields left out keep the query (or default) value.",
          (_CFG, _CFG_SCHEMA), Tier.MUST,
          (Outcome(message="utterance", behaviour="?emotion_signal=false plus {\"emotion_signal\": true} gives non-null emotion"),),
          cfg_tags),
        c(STT, "config-frame-fields",
          "The configuration frame takes only optional fields: six booleans (speaker_diarization, "
          "emotion_signal, accent_signal, deepfake_signal, pii_phi_tagging, partial_results), "
          "`language` (pattern or null) and `custom_terms` (null or a list).",
          (_CFG_SCHEMA,), Tier.MUST,
          (Outcome(behaviour="{} and any subset of these fields with valid values are accepted"),),
          ("config-frame", "schema")),
        c(STT, "config-frame-invalid",
          "A first text frame that is not valid JSON, or holds a value outside the configuration "
          "schema, gets `error` \"Invalid configuration.\" and close 1003.",
          (_closes(STT), _msg(STT, "error"), _CFG), Tier.MUST,
          (_err(1003, DETAIL_INVALID_CONFIG),),
          ("config-frame", "close-code")),
        c(STT, "custom-terms-limits",
          f"`custom_terms` holds at most {CUSTOM_TERMS_MAX_ITEMS} entries whose term strings, "
          f"serialised together as JSON, stay under {CUSTOM_TERMS_MAX_CHARS} characters; each "
          "entry is a string or an object with a non-empty `term`, an optional `definition` of "
          f"at most {CUSTOM_TERM_DEFINITION_MAX} characters and at most "
          f"{CUSTOM_TERM_PRONUNCIATIONS_MAX} `pronunciations` of at most "
          f"{CUSTOM_TERM_PRONUNCIATION_MAX_LEN} characters. Beyond these it is an invalid configuration.",
          (_CFG_SCHEMA, _CFG_TERM, _closes(STT)), Tier.MUST,
          (_err(1003, DETAIL_INVALID_CONFIG, "for 1001 entries, or a 257-character definition"),),
          ("config-frame", "close-code")),
        c(STT, "custom-terms-blank-dropped",
          "Blank terms and blank pronunciations in `custom_terms` are silently dropped, not "
          "rejected; null or an absent list means no biasing.",
          (_CFG_SCHEMA,), Tier.MUST,
          (Outcome(message="utterance", behaviour="a list with a blank string entry is accepted"),),
          ("config-frame",)),
        c(STT, "config-frame-empty-first",
          "An empty text frame sent first is both a (malformed) configuration and the "
          "end-of-stream signal; the documents do not say which reading wins.",
          (_CFG, _msg(STT, "eos"), FAQ_EOS), Tier.INFO,
          (Outcome(close_code=1000, message="done", behaviour="done with duration_ms 0"),
           _err(1003, DETAIL_INVALID_CONFIG)),
          ("config-frame", "end-of-stream")),
        c(STT, "config-frame-unknown-field",
          "The configuration schema does not forbid extra properties, yet invalid configuration "
          "is rejected; whether an unknown field is ignored or refused is left open.",
          (_CFG_SCHEMA, _closes(STT)), Tier.INFO,
          (Outcome(behaviour="unknown field ignored, stream proceeds"), _err(1003, DETAIL_INVALID_CONFIG)),
          ("config-frame",)),
        c(STT, "late-text-frame",
          "A non-empty text frame after audio has started is neither a configuration nor the "
          "end signal; the documents leave its handling open.",
          (_CFG, _msg(STT, "eos")), Tier.INFO,
          (Outcome(behaviour="ignored, stream proceeds"), _err(1003)),
          cfg_tags),
        c(STT, "utterance-shape",
          'A finished utterance arrives as `{"type": "utterance", "utterance": {...}}` with all of '
          "utterance_uuid, text (possibly empty), start_ms, duration_ms, speaker, language, "
          "emotion, accent and deepfake_score present.",
          (_spec(STT, "components.messages.UtteranceResult"), _STT_UTT), Tier.MUST,
          (Outcome(message="utterance", behaviour="validates against schemas_stream STT utterance"),),
          ("schema",)),
        c(STT, "utterance-timing",
          "Utterance timing is given relative to the start of the stream, in milliseconds; the "
          "documents disagree on the field names.",
          (_STT_UTT,), Tier.MUST,
          tags=("schema",),
          alternatives=(
              Alternative(
                  "start-duration",
                  "`start_ms` and `duration_ms` (integers >= 0); the end is their sum.",
                  (_STT_UTT, _spec(STT, "components.messages.UtteranceResult examples")),
                  (Outcome(message="utterance", behaviour="integer start_ms and duration_ms present; no end_ms needed"),),
                  spec_literal=True,
              ),
              Alternative(
                  "end-ms",
                  "Some integration guides read an `end_ms` field on each utterance.",
                  (src(STT_GUIDE, "example utterance with `end_ms`"),),
                  (Outcome(message="utterance", behaviour="start_ms and end_ms present"),),
              ),
          ),
          preferred="start-duration",
          rationale="The STT AsyncAPI schema lists `start_ms` and `duration_ms` as required and has no `end_ms`, and it is the machine-readable source for wire shapes.",
          contradiction=12),
        c(STT, "utterance-uuid",
          "Every utterance carries a UUID of its own; no two utterances on a connection share one.",
          (_STT_UTT,), Tier.MUST,
          (Outcome(message="utterance", behaviour="utterance_uuid parses as a UUID and is unique"),),
          ("schema",)),
        c(STT, "language-detected",
          "Without a hint, each utterance carries its own detected language code; consecutive "
          "utterances may report different languages.",
          (_spec(STT, f"channels.{_CHANNEL[STT]} description"), _STT_UTT), Tier.MUST,
          (Outcome(message="utterance", behaviour="language is a non-empty code such as 'en'"),),
          ("schema",)),
        c(STT, "emotion-signal",
          "`emotion_signal` is off by default and `emotion` is then null; when on, `emotion` holds "
          "a label of the speaker's tone (e.g. Neutral, Frustrated).",
          (_query(STT, "emotion_signal"), _STT_UTT, FAQ_ENRICH), Tier.MUST,
          (Outcome(message="utterance", behaviour="emotion null when off; a string when on"),),
          ("query-params", "schema")),
        c(STT, "accent-signal",
          "`accent_signal` is off by default and `accent` is then null; when on, `accent` holds a "
          "label such as American or British.",
          (_query(STT, "accent_signal"), _STT_UTT, FAQ_ENRICH), Tier.MUST,
          (Outcome(message="utterance", behaviour="accent null when off; a string when on"),),
          ("query-params", "schema")),
        c(STT, "deepfake-signal",
          "`deepfake_signal` is off by default and `deepfake_score` is then null; when on, it is "
          "a number from 0.0 (natural) to 1.0 (synthetic).",
          (_query(STT, "deepfake_signal"), _STT_UTT, FAQ_ENRICH), Tier.MUST,
          (Outcome(message="utterance", behaviour="deepfake_score null when off; 0 <= score <= 1 when on"),),
          ("query-params", "schema", "deepfake")),
        c(STT, "deepfake-score-short",
          f"Even with `deepfake_signal` on, an utterance shorter than "
          f"{STT_DEEPFAKE_SCORE_MIN_UTTERANCE_S} s has `deepfake_score` null.",
          (_STT_UTT,), Tier.MUST,
          (Outcome(message="utterance", behaviour="duration_ms < 500 implies deepfake_score is null"),),
          ("deepfake", "schema")),
        c(STT, "pii-phi-tagging",
          "`pii_phi_tagging` is off by default; when on, PII/PHI spans in `text` are wrapped in "
          "tags while the words themselves are kept (the tag syntax is not documented).",
          (_query(STT, "pii_phi_tagging"), _STT_UTT, FAQ_TAG_VS_REDACT, FAQ_ENRICH), Tier.MUST,
          (Outcome(message="utterance", behaviour="with tagging on, the spoken PII words still appear in text, inside tags"),),
          ("pii", "query-params")),
        c(STT, "partials-off-by-default",
          "Without `partial_results=true` (query or configuration frame) the server sends no "
          "`partial_utterance` messages.",
          (_query(STT, "partial_results"), FAQ_PARTIALS), Tier.MUST,
          (Outcome(behaviour="no message with type partial_utterance"),),
          ("partials",)),
        c(STT, "partial-utterance",
          "With `partial_results=true` the server may send interim "
          '`{"type": "partial_utterance", "partial_utterance": {...}}` messages before an '
          "utterance is final; text is always present, start_ms and speaker may be null.",
          (_query(STT, "partial_results"), _spec(STT, "components.messages.PartialUtteranceResult"), _STT_PARTIAL, FAQ_PARTIALS),
          Tier.MUST,
          (Outcome(message="partial_utterance", behaviour="validates against schemas_stream STT partial_utterance"),),
          ("partials", "schema")),
        c(STT, "partial-superseded",
          "Each partial replaces the one before it, and the final `utterance` replaces all partials "
          "of its segment; no partial arrives after `done`.",
          (_query(STT, "partial_results"), _STT_PARTIAL, FAQ_PARTIALS), Tier.MUST,
          (Outcome(message="utterance", behaviour="a run of partials ends with an utterance; none follows done"),),
          ("partials",)),
        c(STT, "partial-signals",
          "Each partial reports the current interim emotion, accent and deepfake_score for the "
          "signals switched on; a signal that is off or not yet known is null.",
          (_query(STT, "partial_results"), _STT_PARTIAL), Tier.MUST,
          (Outcome(message="partial_utterance", behaviour="signal fields present; null when the signal is off"),),
          ("partials", "schema", "deepfake")),
        c(STT, "done-shape",
          'STT streaming finishes with `{"type": "done", "duration_ms": <int >= 0>}`.',
          (_msg(STT, "done"),), Tier.MUST,
          (Outcome(message="done", behaviour="validates against schemas_stream STT done"),),
          ("schema", "end-of-stream")),
    )  # fmt: skip


# --------------------------------------------------------------------------
# Deepfake (SVD) streaming: frames, cadence, window
# --------------------------------------------------------------------------

_FRAME = _spec(SVD, "components.schemas.Frame")
_FRAME_OP = _spec(SVD, "operations.receiveFrameResult")


def _svd_clauses() -> tuple[Clause, ...]:
    c = _clause
    first_ms = int(SVD_STREAM_FIRST_RESULT_S * 1000)
    window_ms = int(SVD_WINDOW_S * 1000)
    return (
        c(SVD, "frame-shape",
          'Each analysed window arrives as `{"type": "frame", "frame": {...}}` with integer '
          "start_time_ms and end_time_ms, a `verdict` and a `confidence` between 0 and 1.",
          (_spec(SVD, "components.schemas.FrameResultMessage"), _FRAME), Tier.MUST,
          (Outcome(message="frame", behaviour="validates against schemas_stream SVD frame"),),
          ("schema", "deepfake")),
        c(SVD, "verdict-values",
          "`verdict` is one of " + ", ".join(f"`{v}`" for v in SVD_VERDICTS) + ".",
          (_FRAME,), Tier.MUST,
          (Outcome(message="frame", behaviour=f"verdict in {SVD_VERDICTS}"),),
          ("schema", "deepfake")),
        c(SVD, "no-content-confidence",
          f"A window that is silent or has no usable audio gets verdict `no-content` with "
          f"confidence exactly {NO_CONTENT_CONFIDENCE}.",
          (FAQ_CONFIDENCE, _FRAME), Tier.MUST,
          (Outcome(message="frame", behaviour="verdict no-content implies confidence == 1.0"),),
          ("deepfake",)),
        c(SVD, "first-result",
          f"The first `frame` comes once {first_ms} ms of audio has been received, without "
          f"waiting for end of stream; no frame covers less than {first_ms} ms of audio.",
          (FAQ_MODELS, _FRAME_OP, src(S.FAQ_PAGE, "Is there a minimum audio length?")), Tier.MUST,
          (Outcome(message="frame", behaviour=f"first frame before end of stream; its end_time_ms >= {first_ms}"),),
          ("deepfake", "protocol")),
        c(SVD, "cadence",
          f"After the first result, frames follow about every {SVD_STREAM_CADENCE_S:g} s of "
          "streamed audio.",
          (_FRAME_OP, FAQ_MODELS), Tier.SHOULD,
          (Outcome(message="frame", behaviour="consecutive end_time_ms differ by about 1000"),),
          ("deepfake", "protocol")),
        c(SVD, "window",
          f"The analysis window starts at the beginning of the stream and grows until it spans "
          f"{window_ms} ms, then slides forward keeping that length.",
          (_FRAME_OP, FAQ_SVD_LENGTH), Tier.SHOULD,
          (Outcome(message="frame", behaviour=f"start_time_ms == 0 while end_time_ms <= {window_ms}; afterwards end - start == {window_ms}"),),
          ("deepfake",)),
        c(SVD, "chronological",
          "Frames arrive in chronological order of the audio they cover, and their times are "
          "positions in the original stream within 0..duration_ms.",
          (_FRAME_OP, _FRAME, FAQ_SVD_LENGTH), Tier.MUST,
          (Outcome(message="frame", behaviour="end_time_ms non-decreasing; start < end <= done.duration_ms"),),
          ("deepfake", "protocol")),
        c(SVD, "done-shape",
          'Deepfake streaming finishes with `{"type": "done", "duration_ms": <int>, '
          '"frame_count": <int>}`. The spec counts the frames *analysed*, and no-content frames '
          "skip the model, so frame_count lies between the frames with a speech verdict and "
          "all `frame` messages sent.",
          (_spec(SVD, "components.schemas.DoneMessage"), _spec(SVD, "operations.receiveDone")), Tier.MUST,
          (Outcome(message="done", behaviour="non-no-content frames <= frame_count <= frames received"),),
          ("schema", "end-of-stream", "deepfake")),
        c(SVD, "short-stream",
          f"A stream that ends before {MIN_SVD_DURATION_S} s of audio has arrived: the documents "
          "do not say whether it ends with an empty `done` or an error.",
          (FAQ_MODELS, _spec(SVD, "operations.receiveDone")), Tier.INFO,
          (Outcome(close_code=1000, message="done", behaviour="frame_count 0"),
           _err(4002)),
          ("deepfake", "end-of-stream")),
        c(SVD, "mp4-streamable",
          "MP4-family input (`mp4`, `m4a`, `3gp`, `3gpp`) has to be laid out for streaming (index "
          "first); a non-streamable file draws an audio-processing `error` and close 4002.",
          (_query(SVD, "audio_format"), _closes(SVD)), Tier.MUST,
          (_err(4002, DETAIL_UNPROCESSABLE, "e.g. an MP4 with its moov box at the end"),),
          ("query-params", "close-code")),
        c(SVD, "format-equivalence",
          "The same audio gives the same verdicts whatever supported format carries it; s16le at "
          "16 kHz mono merely skips conversion.",
          (FMT_PASSTHROUGH,), Tier.SHOULD,
          (Outcome(message="frame", behaviour="s16le/16000/1 and f32le/48000/1 of one clip give matching verdicts"),),
          ("deepfake",)),
    )  # fmt: skip


# --------------------------------------------------------------------------
# PII/PHI redaction streaming: utterance + MP3 pairs, padding, markers
# --------------------------------------------------------------------------

_PII_UTT_MSG = _spec(PII, "components.messages.UtteranceResult")
_PII_UTT = _spec(PII, "components.schemas.StreamingUtterance")
_PII_CLIP = _spec(PII, "components.messages.RedactedAudioClip")
_PII_DONE = _msg(PII, "done")
_PII_TRAIL = _spec(PII, "components.messages.TrailingAudioClip")
_PII_INFO = _spec(PII, "components.schemas.RedactedAudioInfo")


def _pii_clauses() -> tuple[Clause, ...]:
    c = _clause
    return (
        c(PII, "utterance-shape",
          'A finished utterance arrives as `{"type": "utterance", "utterance": {...}, '
          '"redacted_audio": {...} | null}`; the utterance has utterance_uuid, text, start_ms, '
          "duration_ms, speaker and language.",
          (_PII_UTT_MSG, _PII_UTT), Tier.MUST,
          (Outcome(message="utterance", behaviour="validates against schemas_stream PII utterance"),),
          ("schema", "pii")),
        c(PII, "utterance-uuid",
          "Every utterance carries a UUID of its own; no two utterances on a connection share one.",
          (_PII_UTT,), Tier.MUST,
          (Outcome(message="utterance", behaviour="utterance_uuid parses as a UUID and is unique"),),
          ("schema",)),
        c(PII, "language-detected",
          "Without a hint, each utterance carries its own detected language code.",
          (_PII_UTT, _query(PII, "language")), Tier.MUST,
          (Outcome(message="utterance", behaviour="language is a non-empty code such as 'en'"),),
          ("schema",)),
        c(PII, "audio-follows-utterance",
          "An utterance whose `redacted_audio` is not null is followed immediately by exactly one "
          "binary frame holding that window's redacted audio as MP3.",
          (_PII_UTT_MSG, _PII_CLIP, _flow(PII), FAQ_MODELS), Tier.MUST,
          (Outcome(message="utterance", behaviour="next frame is binary and decodes as MP3 (audio/mpeg); then a text frame"),),
          ("pii", "protocol")),
        c(PII, "no-audio-when-null",
          "An utterance whose audio was already sent (out of order) has `redacted_audio` null and "
          "no binary frame after it.",
          (_PII_UTT_MSG,), Tier.MUST,
          (Outcome(message="utterance", behaviour="redacted_audio null and the next frame is text"),),
          ("pii", "protocol")),
        c(PII, "clip-window",
          "`redacted_audio.start_ms`/`duration_ms` describe the clip that follows: it runs from "
          "where the previous clip ended to the end of this utterance, so clips tile the stream.",
          (_PII_UTT_MSG, _PII_INFO), Tier.MUST,
          (Outcome(message="utterance", behaviour="each clip starts where the last ended (first at 0); MP3 length ~ duration_ms"),),
          ("pii", "schema")),
        c(PII, "done-shape",
          'PII streaming finishes with `{"type": "done", "duration_ms": <int>, '
          '"trailing_redacted_audio": {...} | null}`, all three fields present.',
          (_PII_DONE,), Tier.MUST,
          (Outcome(message="done", behaviour="validates against schemas_stream PII done"),),
          ("schema", "end-of-stream", "pii")),
        c(PII, "trailing-audio",
          "When `trailing_redacted_audio` is not null, exactly one binary MP3 frame with the audio "
          "after the last utterance follows `done`; when null, nothing follows before close 1000.",
          (_PII_DONE, _PII_TRAIL), Tier.MUST,
          (Outcome(close_code=1000, message="done", behaviour="zero or one MP3 frame after done, matching trailing_redacted_audio"),),
          ("pii", "end-of-stream")),
        c(PII, "redaction-markers",
          "Each PII/PHI span in the utterance `text` is replaced by a marker, the rest of the "
          "text being kept; the documents disagree on the marker's form.",
          (_PII_UTT, FAQ_TAG_VS_REDACT), Tier.MUST,
          tags=("pii", "schema"),
          alternatives=(
              Alternative(
                  "marker-tags",
                  "Empty marker tags: `<pii:CATEGORY></pii:CATEGORY>` for personal data, "
                  "`<phi></phi>` for health data.",
                  (_PII_UTT, _PII_UTT_MSG, src(S.PII_BATCH_SPEC, "components.schemas.Utterance.text")),
                  (Outcome(message="utterance", behaviour="spans appear as <pii:name></pii:name> or <phi></phi>"),),
                  spec_literal=True,
              ),
              Alternative(
                  "entity-tags",
                  "Bracketed entity-type tags such as `[FIRSTNAME]`, `[SSN]`, `[PHI]`.",
                  (FAQ_TAG_VS_REDACT,),
                  (Outcome(message="utterance", behaviour="spans appear as [FIRSTNAME], [SSN], [PHI]"),),
              ),
          ),
          preferred="marker-tags",
          rationale="The PII streaming spec describes the text field's markers exactly and shows them in its example, where the FAQ only gives illustrative tags.",
          contradiction=11),
        c(PII, "redaction-ranges",
          "In the MP3 clips, the audio under every detected PII/PHI span is silenced, the silence "
          "starting `start_redaction_padding_ms` earlier and ending `end_redaction_padding_ms` "
          "later than the span; the rest of the audio is kept.",
          (_query(PII, "start_redaction_padding_ms"), _query(PII, "end_redaction_padding_ms"), _spec(PII, "info.description"), FAQ_TAG_VS_REDACT),
          Tier.MUST,
          (Outcome(behaviour="silence in the clip covers [span_start - start_pad, span_end + end_pad]; non-PII speech audible"),),
          ("pii",)),
        c(PII, "redaction-padding",
          f"`start_redaction_padding_ms` defaults to {PII_START_PADDING_MS_DEFAULT} and "
          f"`end_redaction_padding_ms` to {PII_END_PADDING_MS_DEFAULT}; both take integers >= 0.",
          (_query(PII, "start_redaction_padding_ms"), _query(PII, "end_redaction_padding_ms")), Tier.MUST,
          (Outcome(behaviour="without the parameters the silence begins 100 ms before a span and ends at its end"),),
          ("pii", "query-params")),
        c(PII, "redaction-padding-invalid",
          "A negative or non-integer padding value breaks the parameter schema and should be "
          "rejected like any invalid connection parameter.",
          (_query(PII, "start_redaction_padding_ms"), _closes(PII)), Tier.SHOULD,
          (_err(1003),),
          ("pii", "query-params", "close-code")),
    )  # fmt: skip


CLAUSES: tuple[Clause, ...] = (
    *_auth_clauses(),
    *_admission_clauses(),
    *_query_clauses(),
    *_protocol_clauses(),
    *_stt_clauses(),
    *_svd_clauses(),
    *_pii_clauses(),
)
