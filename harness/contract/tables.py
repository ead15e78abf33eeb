"""Documented tables and limits, as plain data.

Every value here is a fact taken from the vendors' pages or specs; each block
names where. The one record table kept as data, ``REST_STATUSES``, is read from
``velma_statuses.toml`` (this folder) at import; otherwise no I/O, and no project imports but
the data-file reader (:mod:`harness.contract.load`) and the placeholder engine
(:mod:`harness.contract.template`).
Paths in the comments are citations (``seeds/...`` = a seed page,
``specs/...`` = a vendor spec); they are never opened.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from .load import or_exit, records

# KugelAudio's tables live in their own module; re-exported here.
from .tables_kugel import (  # noqa: F401
    KUGEL_CLOSE_CODES,
    KUGEL_ERROR_CODES,
    KUGEL_ERROR_FIELDS,
    KUGEL_ERRORS,
    KUGEL_RETRY_AFTER_HEADER,
    KugelErrorRow,
)
from .template import expand

# --------------------------------------------------------------------------
# Surface groups (the values of ``harness.contract.model.Surface``), in the
# catalog's order. Import these; never type a group out again.
# --------------------------------------------------------------------------

REST_SURFACES = ("stt-batch", "vfast-batch", "svd-batch", "pii-batch")  # Velma-2 HTTP batch
STREAM_SURFACES = ("stt-stream", "svd-stream", "pii-stream")  # Velma-2 WebSocket
VELMA_SURFACES = REST_SURFACES + STREAM_SURFACES  # every Velma-2 model endpoint
TRANSCRIBING_REST = ("stt-batch", "vfast-batch", "pii-batch")  # batch endpoints that return text
KUGEL_SURFACES = ("kugel-http", "kugel-ws")
# How clause texts name a surface (``${surface_name}`` in a catalog family).
SURFACE_NAMES = MappingProxyType(
    {
        "stt-batch": "STT Batch",
        "vfast-batch": "STT Batch English VFast",
        "svd-batch": "Deepfake Detection Batch",
        "pii-batch": "PII/PHI Redaction Batch",
    }
)

# --------------------------------------------------------------------------
# Raw (headerless) audio formats
# seeds/modulate-audio-formats.txt § "Supported raw formats";
# specs/modulate/velma-2-*-streaming.asyncapi.yml, `audio_format` enum.
# --------------------------------------------------------------------------

SampleKind = Literal["signed", "unsigned", "float", "mulaw", "alaw"]


@dataclass(frozen=True)
class RawFormat:
    """A headerless sample encoding, by its documented ``audio_format`` name."""

    name: str
    kind: SampleKind
    bits: int  # bits per sample as stored
    endian: Literal["little", "big", "none"]  # "none" for single-byte formats

    @property
    def sample_bytes(self) -> int:
        return self.bits // 8

    def frame_bytes(self, num_channels: int) -> int:
        return self.sample_bytes * num_channels


def _raw(name: str, kind: SampleKind, bits: int) -> RawFormat:
    if bits == 8:
        endian: Literal["little", "big", "none"] = "none"
    else:
        endian = "little" if name.endswith("le") else "big"
    return RawFormat(name, kind, bits, endian)


RAW_FORMATS: tuple[RawFormat, ...] = (
    _raw("s8", "signed", 8),
    _raw("s16le", "signed", 16),
    _raw("s16be", "signed", 16),
    _raw("s24le", "signed", 24),
    _raw("s24be", "signed", 24),
    _raw("s32le", "signed", 32),
    _raw("s32be", "signed", 32),
    _raw("u8", "unsigned", 8),
    _raw("u16le", "unsigned", 16),
    _raw("u16be", "unsigned", 16),
    _raw("u24le", "unsigned", 24),
    _raw("u24be", "unsigned", 24),
    _raw("u32le", "unsigned", 32),
    _raw("u32be", "unsigned", 32),
    _raw("f32le", "float", 32),
    _raw("f32be", "float", 32),
    _raw("f64le", "float", 64),
    _raw("f64be", "float", 64),
    _raw("mulaw", "mulaw", 8),
    _raw("alaw", "alaw", 8),
)
RAW_FORMAT_NAMES: tuple[str, ...] = tuple(f.name for f in RAW_FORMATS)
RAW_FORMATS_BY_NAME = MappingProxyType({f.name: f for f in RAW_FORMATS})

# seeds/modulate-audio-formats.txt § "Supported sample_rate values"
SAMPLE_RATES: tuple[int, ...] = (8000, 11025, 16000, 22050, 32000, 44100, 48000, 96000)

# seeds/modulate-audio-formats.txt § "num_channels range" (downmixed to mono).
# The troubleshooting page's 1003 section says "1 or 2" (a narrower statement;
# see clause velma/raw-channels).
MIN_CHANNELS = 1
MAX_CHANNELS = 8

# seeds/modulate-audio-formats.txt § "The s16le passthrough optimization"
PASSTHROUGH = ("s16le", 16000, 1)

# seeds/modulate-audio-formats.txt § use-case table
RECOMMENDED_RAW_SETUPS: tuple[tuple[str, str, int, int], ...] = (
    ("default / native app", "s16le", 16000, 1),
    ("Web Audio API (AudioWorklet)", "f32le", 48000, 1),
    ("native stereo capture", "s16le", 48000, 2),
    ("telephony (mu-law)", "mulaw", 8000, 1),
    ("telephony (A-law)", "alaw", 8000, 1),
)

# --------------------------------------------------------------------------
# Container formats per endpoint (file extensions for batch; `audio_format`
# values for streaming). specs/modulate/*.yml upload_file descriptions and
# `audio_format` enums; seeds/modulate-faq.txt § "What audio formats are supported?"
# --------------------------------------------------------------------------

_COMMON_BATCH = ("aac", "aiff", "flac", "mov", "mp3", "mp4", "ogg", "opus", "wav", "webm")

CONTAINER_FORMATS = MappingProxyType(
    {
        "stt-batch": _COMMON_BATCH,
        "vfast-batch": _COMMON_BATCH,
        "pii-batch": _COMMON_BATCH,
        "svd-batch": (
            "3gp",
            "3gpp",
            "aac",
            "aiff",
            "amr",
            "au",
            "flac",
            "m4a",
            "mov",
            "mp3",
            "mp4",
            "ogg",
            "opus",
            "wav",
            "webm",
            "wma",
        ),
        # self-describing formats accepted as `audio_format` on streaming
        "stt-stream": ("wav", "mp3", "ogg", "flac", "webm", "aac", "aiff"),
        "pii-stream": ("wav", "mp3", "ogg", "flac", "webm", "aac", "aiff"),
        "svd-stream": (
            "wav",
            "mp3",
            "ogg",
            "flac",
            "webm",
            "aac",
            "aiff",
            "au",
            "wma",
            "opus",
            "amr",
            "mp4",
            "m4a",
            "3gp",
            "3gpp",
        ),
    }
)

# Batch endpoints decide decoding by file extension (seeds/modulate-audio-formats.txt, intro).
# VFast per the troubleshooting page accepts Opus only (contradiction 7).
VFAST_OPUS_ONLY = ("opus",)

# Streaming `audio_format` acceptance: STT and PII auto-detect when omitted;
# SVD requires it always (specs/.../svd-streaming `audio_format`).
AUDIO_FORMAT_REQUIRED = MappingProxyType(
    {"stt-stream": False, "pii-stream": False, "svd-stream": True}
)

# --------------------------------------------------------------------------
# Endpoint paths. seeds/modulate-authentication-and-rate-limits.txt § "Passing your API key"
# --------------------------------------------------------------------------

VELMA_PATHS = MappingProxyType(
    {
        "stt-batch": "/api/velma-2-stt-batch",
        "vfast-batch": "/api/velma-2-stt-batch-english-vfast",
        "svd-batch": "/api/velma-2-synthetic-voice-detection-batch",
        "pii-batch": "/api/velma-2-pii-phi-redaction-batch",
        "stt-stream": "/api/velma-2-stt-streaming",
        "svd-stream": "/api/velma-2-synthetic-voice-detection-streaming",
        "pii-stream": "/api/velma-2-pii-phi-redaction-streaming",
    }
)
VELMA_HTTP_AUTH_HEADER = "X-API-Key"
VELMA_WS_AUTH_QUERY = "api_key"

# The Velma-2 host (contradiction 18): the authentication page's surface table and the
# troubleshooting page's connection example, against every Velma-2 spec's `servers`.
VELMA_HOST_PAGES = "modulate-developer-apis.com"
VELMA_HOST_SPECS = "platform.modulate.ai"
UPLOAD_PART = "upload_file"

PLATFORM_PATHS = MappingProxyType(
    {"submit": "/api_service", "job_status": "/api_service/job_status/{job_id}"}
)
PLATFORM_AUTH_HEADERS = ("accountuuid", "apikey")

# --------------------------------------------------------------------------
# Limits. Sources per line.
# --------------------------------------------------------------------------

MIN_SVD_DURATION_S = 0.5  # seeds/modulate-faq.txt § minimum audio length; svd-batch spec
SVD_WINDOW_S = 4.0  # seeds/modulate-faq.txt § recommended length (4 s analysis window)
SVD_RECOMMENDED_RANGE_S = (4.0, 60.0)  # seeds/modulate-faq.txt § recommended length
SVD_STREAM_FIRST_RESULT_S = 0.5  # seeds/modulate-faq.txt § models table ("from 500ms onward")
SVD_STREAM_CADENCE_S = 1.0  # specs/.../svd-streaming description: about one prediction a second
NO_CONTENT_CONFIDENCE = 1.0  # seeds/modulate-faq.txt § confidence score
# "100 MB": the pages do not say decimal or binary. We treat the limit as
# 100 * 10**6 bytes and test just above 100 MiB so that both readings agree.
MAX_BATCH_UPLOAD_BYTES = 100 * 1000 * 1000
MAX_BATCH_UPLOAD_BYTES_BINARY = 100 * 1024 * 1024
BATCH_PROCESSING_TIMEOUT_S = 60.0  # seeds/modulate-troubleshooting.txt § 504
PLATFORM_MAX_SINGLE_FILE_BYTES = 5 * 1000 * 1000  # seeds/...authentication... § Platform "≤ 5 MB"
PII_START_PADDING_MS_DEFAULT = (
    100  # specs/.../pii-phi-redaction-streaming `start_redaction_padding_ms`
)
PII_END_PADDING_MS_DEFAULT = 0  # specs/.../pii-phi-redaction-streaming `end_redaction_padding_ms`
STT_DEEPFAKE_SCORE_MIN_UTTERANCE_S = 0.5  # specs/.../stt-streaming: null score under 0.5 s

# --------------------------------------------------------------------------
# Pricing, USD per audio hour. seeds/modulate-faq.txt § "How is usage billed?"
# --------------------------------------------------------------------------

PRICE_PER_AUDIO_HOUR_USD = MappingProxyType(
    {
        "vfast-batch": 0.025,
        "stt-batch": 0.03,
        "stt-stream": 0.06,
        "pii-batch": 0.05,
        "pii-stream": 0.08,
        "svd-batch": 0.25,
        "svd-stream": 0.25,
    }
)


def audio_cost_usd(surface: str, audio_seconds: float) -> float:
    """What ``audio_seconds`` of audio costs on ``surface`` by the published price list."""
    try:
        price = PRICE_PER_AUDIO_HOUR_USD[surface]
    except KeyError:
        known = ", ".join(PRICE_PER_AUDIO_HOUR_USD)
        raise ValueError(f"no published price for surface {surface!r} (priced: {known})") from None
    return price * audio_seconds / 3600.0


# --------------------------------------------------------------------------
# Documented client backoff. seeds/modulate-troubleshooting.txt § "429 Too Many
# Requests (REST)"; seeds/modulate-faq.txt § 503: exponential backoff with jitter.
# wait(attempt) = BASE ** attempt + uniform(0, JITTER_S), attempt = 0, 1, ...
# --------------------------------------------------------------------------


@dataclass(frozen=True)
class BackoffPolicy:
    base: float = 2.0
    jitter_s: float = 1.0
    max_retries: int = 5
    retry_statuses: tuple[int, ...] = (429, 503)

    def wait_bounds(self, attempt: int) -> tuple[float, float]:
        """Smallest and largest documented wait (seconds) after failed ``attempt``."""
        if attempt < 0:
            raise ValueError(f"attempt must be >= 0, got {attempt}")
        low = self.base**attempt
        return low, low + self.jitter_s


DOCUMENTED_BACKOFF = BackoffPolicy()

# --------------------------------------------------------------------------
# Velma-2 WebSocket close codes.
# seeds/modulate-faq.txt § "What WebSocket close codes should I handle?";
# seeds/modulate-troubleshooting.txt; seeds/modulate-authentication-and-rate-limits.txt.
# --------------------------------------------------------------------------

VELMA_CLOSE_CODES = MappingProxyType(
    {
        1000: "normal closure after the done message",
        1003: "invalid query parameters (audio_format, sample_rate or num_channels)",
        1011: "internal server error while streaming",
        4001: "invalid or missing API key (STT streaming)",
        4002: "the audio cannot be decoded, or differs from its declared format",
        4003: "authentication failed, model not enabled, or usage denied",
        4029: "rate limit: monthly quota or concurrency limit",
    }
)

# --------------------------------------------------------------------------
# Velma-2 REST statuses with their documented `detail` strings, per endpoint.
# specs/modulate/*.openapi.yml `responses`; seeds for 401/403/503/504.
# --------------------------------------------------------------------------

DETAIL_UNSUPPORTED_COMMON = (
    "Unsupported file format. Supported formats: .aac, .aiff, .flac, .mov, .mp3, .mp4, "
    ".ogg, .opus, .wav, .webm."
)
DETAIL_UNSUPPORTED_SVD = (
    "Unsupported file format. Supported formats: .3gp, .3gpp, .aac, .aiff, .amr, .au, "
    ".flac, .m4a, .mov, .mp3, .mp4, .ogg, .opus, .wav, .webm, .wma."
)
DETAIL_EMPTY = "The uploaded file is empty."
DETAIL_UNPROCESSABLE = (
    "The audio could not be processed. It may be corrupted or in an unsupported format."
)
DETAIL_TOO_SHORT = "The audio is too short to analyze."
DETAIL_BAD_VALUE = "Invalid request."
DETAIL_INVALID_CONFIG = "Invalid configuration."
DETAIL_FORBIDDEN = "This request is not permitted."
DETAIL_INSUFFICIENT_CREDITS = "Insufficient credits."
DETAIL_INTERNAL = "Internal server error"
DETAIL_CANNOT_VALIDATE = "Unable to validate request. Please try again."
DETAIL_NOT_COMPLETED = "Unable to complete the request. Please try again."
DETAIL_UNAVAILABLE = "The service is temporarily unavailable. Please try again later."
DETAIL_TIMEOUT = "The request timed out. Please try again."
# Seeds: the troubleshooting page's 403 table (phrases, "or similar").
DETAIL_MONTHLY_LIMIT = "monthly limit reached"
DETAIL_MODEL_NOT_ENABLED = "model access not enabled"
# stt-batch and pii-batch specs, 400 `invalid_language` example (shown for language='english');
# fill with the rejected value: DETAIL_INVALID_LANGUAGE_TEMPLATE.format(value).
DETAIL_INVALID_LANGUAGE_TEMPLATE = (
    "Invalid language={!r}. Expected an ISO 639-1 language code (e.g. 'en', 'fr')."
)


@dataclass(frozen=True)
class StatusRow:
    surface: str  # one of REST_SURFACES
    status: int
    cause: str
    details: tuple[str, ...] = ()  # documented `detail` strings, if any


# The rows are data: velma_statuses.toml, one [[status]] per row; its `details` name the
# DETAIL_* texts above as ${DETAIL_...}.
_DETAILS = MappingProxyType({n: v for n, v in globals().items() if n.startswith("DETAIL_")})


def _detail(text: str) -> str:
    return expand(text, _DETAILS, "names no DETAIL_ text of harness/contract/tables.py")


_STATUSES_FILE = Path(__file__).resolve().parent / "velma_statuses.toml"


def read_statuses(path: Path = _STATUSES_FILE) -> tuple[StatusRow, ...]:
    """The ``[[status]]`` rows of ``path`` (:class:`~.load.DataFileError` on a bad one)."""
    return records(path, "status", StatusRow, expand=_detail, choices={"surface": REST_SURFACES})


REST_STATUSES: tuple[StatusRow, ...] = or_exit(read_statuses)


# --------------------------------------------------------------------------
# Request fields and response shapes of the batch specs (each quoted from
# specs/modulate/velma-2-*-batch*.openapi.yml) and of the streaming AsyncAPI
# files (`bindings.ws.query`, STTStreamConfig, CustomTerm).
# --------------------------------------------------------------------------

# stt-batch / pii-batch `language` form field, STTConfig.language, and the streaming
# `language` query parameter and configuration field: one pattern in every file.
LANGUAGE_PATTERN = r"^[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*$"
# The batch specs' 400 example: `language=english` is refused with this text.
INVALID_LANGUAGE_EXAMPLE = "english"
DETAIL_INVALID_LANGUAGE_EXAMPLE = DETAIL_INVALID_LANGUAGE_TEMPLATE.format(INVALID_LANGUAGE_EXAMPLE)

# STTConfig.custom_terms / STTStreamConfig.custom_terms and CustomTerm (batch and streaming agree).
CUSTOM_TERMS_MAX_ENTRIES = 1000
CUSTOM_TERMS_MAX_JSON_CHARS = 8000  # the serialized term strings must stay *under* this
CUSTOM_TERM_DEFINITION_MAX_CHARS = 256
CUSTOM_TERM_MAX_PRONUNCIATIONS = 16
CUSTOM_TERM_PRONUNCIATION_MAX_CHARS = 128

# stt-batch per-request flags and their defaults (requestBody; FAQ parameter table).
STT_BATCH_FLAG_DEFAULTS = MappingProxyType(
    {
        "speaker_diarization": True,
        "emotion_signal": False,
        "accent_signal": False,
        "deepfake_signal": False,
        "pii_phi_tagging": False,
    }
)
# Streaming query flags and their documented defaults (`bindings.ws.query`).
STT_STREAM_FLAG_DEFAULTS = MappingProxyType({**STT_BATCH_FLAG_DEFAULTS, "partial_results": False})
PII_STREAM_FLAG_DEFAULTS = MappingProxyType(
    {
        "speaker_diarization": True,
        "start_redaction_padding_ms": PII_START_PADDING_MS_DEFAULT,
        "end_redaction_padding_ms": PII_END_PADDING_MS_DEFAULT,
    }
)
# STT first-frame configuration (STTStreamConfig).
STT_CONFIG_FIELDS = (*STT_STREAM_FLAG_DEFAULTS, "language", "custom_terms")

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

# stt-batch / stt-stream Utterance.emotion / .accent: "possible values include" (open lists).
EMOTION_LABELS = (
    "Neutral",
    "Calm",
    "Happy",
    "Amused",
    "Excited",
    "Proud",
    "Affectionate",
    "Interested",
    "Hopeful",
    "Frustrated",
    "Angry",
    "Contemptuous",
    "Concerned",
    "Afraid",
    "Sad",
    "Ashamed",
    "Bored",
    "Tired",
    "Surprised",
    "Anxious",
    "Stressed",
    "Disgusted",
    "Disappointed",
    "Confused",
    "Relieved",
    "Confident",
)
ACCENT_LABELS = (
    "American",
    "British",
    "Australian",
    "Southern",
    "Indian",
    "Irish",
    "Scottish",
    "Eastern_European",
    "African",
    "Asian",
    "Latin_American",
    "Middle_Eastern",
    "Unknown",
)

# svd-batch FrameResult.verdict and svd-stream Frame.verdict enum.
SVD_VERDICTS = ("synthetic", "non-synthetic", "no-content")

# pii-batch redaction markers (RedactionMetadata.text) and the FAQ's tags (contradiction 11).
PII_MARKER_TEMPLATE = "<pii:{category}></pii:{category}>"
PHI_MARKER = "<phi></phi>"
PII_MARKER_EXAMPLE = "Hello, my name is <pii:name></pii:name>."
FAQ_REDACTION_TAGS = ("[FIRSTNAME]", "[SSN]", "[PHI]")
PII_RESPONSE_PARTS = ("metadata", "audio")
PII_METADATA_FIELDS = ("text", "duration_ms", "utterances", "redaction_ranges")

# --------------------------------------------------------------------------
# Streaming wire values: the `error` texts of the three AsyncAPI files, their
# `audio_format` and message enums, and the close codes each names.
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
    {s: RAW_FORMAT_NAMES + CONTAINER_FORMATS[s] for s in STREAM_SURFACES}
)

#: ``type`` values of the JSON messages each surface sends.
SERVER_MESSAGE_TYPES = MappingProxyType(
    {
        "stt-stream": ("utterance", "partial_utterance", "done", "error"),
        "svd-stream": ("frame", "done", "error"),
        "pii-stream": ("utterance", "done", "error"),
    }
)

#: Close codes the pages or specs name for each surface (subset of VELMA_CLOSE_CODES).
STREAM_CLOSE_CODES = MappingProxyType(
    {
        "stt-stream": (1000, 1003, 1011, 4001, 4002, 4003, 4029),
        "svd-stream": (1000, 1003, 1011, 4002, 4003, 4029),
        "pii-stream": (1000, 1003, 1011, 4002, 4003, 4029),
    }
)


def audio_format_error(surface: str, value: str) -> str:
    """The documented ``error`` text for an ``audio_format`` the surface does not accept."""
    allowed = sorted(STREAM_AUDIO_FORMATS[surface])
    return f"Invalid audio_format={value!r}. Valid values: {allowed!r}"


def sample_rate_error(value: int) -> str:
    """The documented ``error`` text for a ``sample_rate`` outside the list."""
    return f"Invalid sample_rate={value}. Valid values: {list(SAMPLE_RATES)!r}"


def num_channels_error(value: int) -> str:
    """The documented ``error`` text for a ``num_channels`` outside 1..8."""
    return f"Invalid num_channels={value}. Must be between {MIN_CHANNELS} and {MAX_CHANNELS}"
