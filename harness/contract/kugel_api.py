"""KugelAudio TTS wire surface as data: REST operations, WebSocket channels and messages.

REST operations come from KugelAudio's own OpenAPI
(``specs/kugelaudio/kugelaudio-tts.openapi.json``). The WebSocket channels and
messages come from a third-party AsyncAPI transcription of KugelAudio's docs
(``specs/kugelaudio/kugelaudio-tts-streaming.asyncapi.yml``): useful, not
authoritative. Paths in comments are citations, never opened. The REST operations are read
from ``kugel_operations.toml`` (this folder) at import; no other I/O here.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from pathlib import Path
from types import MappingProxyType
from typing import Literal

from .load import or_exit, records
from .tables_kugel import KUGEL_ERRORS, slug

# --------------------------------------------------------------------------
# Hosts and authentication.
# AsyncAPI `servers` (production, eu); AsyncAPI `securitySchemes.apiKeyQuery`
# (api_key query; Bearer also accepted on the handshake); OpenAPI `x-api-key`
# header parameter (declared on the /v1/billing/* operations only). The OpenAPI
# declares no securitySchemes at all.
# --------------------------------------------------------------------------

HOSTS = MappingProxyType({"production": "api.kugelaudio.com", "eu": "api.eu.kugelaudio.com"})
AUTH_HEADER = "Authorization"
BEARER_PREFIX = "Bearer "
API_KEY_HEADER = "x-api-key"
WS_API_KEY_QUERY = "api_key"

# --------------------------------------------------------------------------
# Request limits. OpenAPI `SynthesizeRequest`, list/entry query parameters;
# AsyncAPI `generateRequest` where marked.
# --------------------------------------------------------------------------

TEXT_MAX_CHARS = 10_000  # SynthesizeRequest.text maxLength (also AsyncAPI generateRequest)
TEXT_MIN_CHARS = 1  # SynthesizeRequest.text minLength
LANGUAGE_MAX_CHARS = 10  # SynthesizeRequest.language maxLength
DEFAULT_SAMPLE_RATE = 24_000  # SynthesizeRequest.sample_rate default
WS_SAMPLE_RATES = (8000, 16000, 22050, 24000)  # AsyncAPI generateRequest.sample_rate enum
CFG_SCALE_RANGE = (1.2, 2.5)  # OpenAPI: clamped to this; AsyncAPI: minimum/maximum
CFG_SCALE_DEFAULT = 2.0
TEMPERATURE_RANGE = (0.0, 1.0)
TEMPERATURE_DEFAULT = 0.4
SPEED_RANGE = (0.8, 1.2)
SPEED_DEFAULT = 1.0
MAX_NEW_TOKENS_RANGE = (1, 8192)
MAX_NEW_TOKENS_DEFAULT = 2048
DICTIONARY_IDS_MAX = 50
OUTPUT_FORMAT_EXAMPLES = ("pcm_8000", "ulaw_8000", "alaw_8000")  # SynthesizeRequest.output_format
VOICES_LIMIT_RANGE = (1, 100)  # GET /v1/voices `limit`
VOICES_LIMIT_DEFAULT = 20
ENTRIES_LIMIT_RANGE = (1, 500)  # GET /v1/dictionaries/{dict_id}/entries `limit`
ENTRIES_LIMIT_DEFAULT = 100
ENTRIES_SEARCH_MAX_CHARS = 200
MODEL_MAX_INPUT_LENGTH_DEFAULT = 5000  # ModelInfo.max_input_length default (cf. TEXT_MAX_CHARS)

# --------------------------------------------------------------------------
# REST operations. OpenAPI `paths`; the table is data: kugel_operations.toml,
# one [[operation]] per RestOperation, keys named like its fields.
# --------------------------------------------------------------------------

# The 404 `error` messages an operation's `not_found` may name, by their slug.
NOT_FOUND_ERRORS = MappingProxyType(
    {slug(row.message): row.message for row in KUGEL_ERRORS if row.status == 404}
)


Group = Literal["tts", "models", "voices", "references", "dictionaries", "entries"]


@dataclass(frozen=True)
class RestOperation:
    """One documented REST operation of the public TTS surface."""

    key: str  # stable slug, used in clause IDs: kugel-http/<key>
    method: str
    path: str
    operation_id: str  # OpenAPI operationId (citation)
    group: Group
    summary: str  # what it does, in our words
    success_status: int
    response: str  # OpenAPI schema name of the success body; "" when there is no body
    request: str = ""  # media type and schema of the request body; "" when none
    path_params: tuple[str, ...] = ()
    query_params: tuple[str, ...] = ()
    # KugelAudio `error` messages (seeds/kugelaudio-errors.txt 404 rows) that a
    # missing or invisible path/query resource yields on this operation. The data file
    # names each by its slug (a key of NOT_FOUND_ERRORS).
    not_found: tuple[str, ...] = ()

    @property
    def has_body(self) -> bool:
        return bool(self.response)


_OPERATIONS_FILE = Path(__file__).resolve().parent / "kugel_operations.toml"


def read_operations(path: Path = _OPERATIONS_FILE) -> tuple[RestOperation, ...]:
    """The ``[[operation]]`` entries of ``path`` (:class:`~.load.DataFileError` on a bad one);
    the file names each `not_found` message by its slug."""
    read = records(
        path, "operation", RestOperation, name_key="key", choices={"not_found": NOT_FOUND_ERRORS}
    )
    return tuple(
        replace(op, not_found=tuple(NOT_FOUND_ERRORS[s] for s in op.not_found)) for op in read
    )


REST_OPERATIONS: tuple[RestOperation, ...] = or_exit(read_operations)

REST_OPERATIONS_BY_KEY = MappingProxyType({op.key: op for op in REST_OPERATIONS})

# Operations the OpenAPI also lists but that are outside the public TTS surface
# this harness checks: ops probes, on-prem licensing, billing internals, the
# ElevenLabs and Vapi compatibility layers, ASR, and internal maintenance.
OTHER_OPERATIONS: tuple[tuple[str, str], ...] = (
    ("GET", "/health"),
    ("GET", "/ready"),
    ("GET", "/v1/license/health"),
    ("GET", "/v1/license/deployment-status"),
    ("POST", "/v1/license/activate"),
    ("GET", "/v1/license/files"),
    ("POST", "/v1/license/validate"),
    ("POST", "/v1/license/usage"),
    ("GET", "/v1/license/status"),
    ("POST", "/v1/license/revoke"),
    ("POST", "/v1/license/resolve-api-key"),
    ("GET", "/v1/license/voices"),
    ("GET", "/v1/license/voices/{voice_id}"),
    ("PUT", "/v1/license/voices/{voice_id}/references/{reference_id}/encoding"),
    ("GET", "/v1/billing/credit-state"),
    ("POST", "/v1/billing/record-usage"),
    ("POST", "/predict"),
    ("POST", "/v1/normalize"),
    ("POST", "/v1/post-overrides/reload"),
    ("POST", "/v1/dictionaries/{project_id}/invalidate"),  # internal, master key only
    ("POST", "/11labs/v1/text-to-speech/{voice_id}"),
    ("POST", "/11labs/v1/text-to-speech/{voice_id}/stream"),
    ("GET", "/11labs/v1/voices"),
    ("GET", "/11labs/v1/voices/{voice_id}"),
    ("GET", "/11labs/v1/models"),
    ("GET", "/11labs/health"),
    ("POST", "/vapi/synthesize"),
    ("POST", "/v1/audio/transcriptions"),
)


def operation(key: str) -> RestOperation:
    """The REST operation with this key (KeyError names the known keys)."""
    try:
        return REST_OPERATIONS_BY_KEY[key]
    except KeyError:
        known = ", ".join(REST_OPERATIONS_BY_KEY)
        raise KeyError(f"no KugelAudio operation {key!r} (known: {known})") from None


def find_operation(method: str, path: str) -> RestOperation | None:
    """The public operation documented for ``method`` + path template, if any."""
    for op in REST_OPERATIONS:
        if op.method == method.upper() and op.path == path:
            return op
    return None


# --------------------------------------------------------------------------
# WebSocket channels and messages. AsyncAPI `channels`, `components.messages`
# (third-party transcription). Each message is told apart by a key it carries.
# --------------------------------------------------------------------------

WS_TTS_PATH = "/ws/tts"
WS_STREAM_PATH = "/ws/tts/stream"
WS_MULTI_PATH = "/ws/tts/multi"

Direction = Literal["client", "server"]


@dataclass(frozen=True)
class WsMessage:
    """One WebSocket JSON message type."""

    name: str  # AsyncAPI message name
    direction: Direction  # who sends it
    marker: str  # a key whose presence identifies the message
    fields: tuple[str, ...]
    required: tuple[str, ...] = ()


WS_MESSAGES: tuple[WsMessage, ...] = (
    # client -> server
    WsMessage("generateRequest", "client", "text",
              ("text", "model_id", "voice_id", "cfg_scale", "temperature", "max_new_tokens",
               "sample_rate", "output_format", "normalize", "language", "speed",
               "word_timestamps", "speaker_prefix", "dictionary_ids"),
              ("text", "voice_id")),
    WsMessage("configMessage", "client", "voice_id",
              ("voice_id", "model_id", "cfg_scale", "temperature", "sample_rate", "normalize",
               "language", "word_timestamps", "flush_timeout_ms", "max_buffer_length",
               "chunk_length_schedule", "auto_mode", "speed", "dictionary_ids")),
    WsMessage("textMessage", "client", "text", ("text", "flush"), ("text",)),
    WsMessage("flushMessage", "client", "flush", ("flush",)),
    WsMessage("cancelMessage", "client", "cancel", ("cancel",)),
    WsMessage("closeMessage", "client", "close", ("close",)),
    WsMessage("updateSettings", "client", "update_settings", ("update_settings",)),
    WsMessage("contextText", "client", "context_id",
              ("context_id", "text", "flush", "output_format", "voice_settings"),
              ("context_id",)),
    WsMessage("contextFlush", "client", "context_id", ("context_id", "flush"), ("context_id",)),
    WsMessage("closeContext", "client", "close_context",
              ("context_id", "close_context", "immediate"), ("context_id",)),
    WsMessage("closeSocket", "client", "close_socket", ("close_socket",)),
    # server -> client
    WsMessage("audioChunk", "server", "audio",
              ("audio", "enc", "idx", "sr", "samples", "context_id")),
    WsMessage("wordTimestamps", "server", "word_timestamps", ("word_timestamps",)),
    WsMessage("settingsUpdated", "server", "settings_updated", ("settings_updated", "settings")),
    WsMessage("finalWithUsage", "server", "final",
              ("final", "chunks", "total_samples", "dur_ms", "gen_ms", "rtf", "usage")),
    WsMessage("errorFrame", "server", "error_code", ("error", "error_code", "code", "context_id")),
)  # fmt: skip

WS_MESSAGES_BY_NAME = MappingProxyType({m.name: m for m in WS_MESSAGES})


@dataclass(frozen=True)
class WsChannel:
    key: str
    path: str
    summary: str  # our words
    client_messages: tuple[str, ...]
    server_messages: tuple[str, ...]


WS_CHANNELS: tuple[WsChannel, ...] = (
    WsChannel("tts", WS_TTS_PATH,
              "one JSON request per cycle; audio chunks, then a `final` message with usage; "
              "the socket may carry further cycles",
              ("generateRequest", "updateSettings"),
              ("audioChunk", "wordTimestamps", "settingsUpdated", "finalWithUsage", "errorFrame")),
    WsChannel("stream", WS_STREAM_PATH,
              "sticky config, then text pieces; a flush ends the turn",
              ("configMessage", "textMessage", "flushMessage", "cancelMessage", "closeMessage",
               "updateSettings"),
              ("audioChunk", "wordTimestamps", "errorFrame")),
    WsChannel("multi", WS_MULTI_PATH,
              "independent audio streams over one socket, each addressed by context_id",
              ("contextText", "contextFlush", "closeContext", "closeSocket", "updateSettings"),
              ("audioChunk", "errorFrame")),
)  # fmt: skip

WS_CHANNELS_BY_PATH = MappingProxyType({c.path: c for c in WS_CHANNELS})

# Audio chunk payload: base64 PCM16 (AsyncAPI audioChunk: `enc` example).
AUDIO_CHUNK_ENCODING = "pcm_s16le"
PCM16_BYTES_PER_SAMPLE = 2

# updateSettings: the six sticky fields, and the fields it refuses (VALIDATION_ERROR frame).
UPDATE_SETTINGS_FIELDS = (
    "cfg_scale",
    "temperature",
    "speed",
    "max_new_tokens",
    "language",
    "normalize",
)
UPDATE_SETTINGS_REJECTED = (
    "voice_id",
    "model_id",
    "sample_rate",
    "output_format",
    "dictionary_ids",
)

# /ws/tts/stream session controls (closeMessage description).
STREAM_END_SESSION_KEYS = ("close", "end_session")  # end the session, keep the socket
STREAM_CLOSE_SOCKET_KEY = "close_socket"  # end the session and close the socket
STREAM_IDLE_AUTO_FLUSH_S = 5.0  # "about 5 seconds"; a warning frame is emitted
STREAM_CONFIG_DEFAULTS = MappingProxyType(
    {
        "flush_timeout_ms": 500,
        "max_buffer_length": 1000,
        "chunk_length_schedule": (5, 80, 150, 250),
        "auto_mode": False,
    }
)

# /ws/tts/multi limits (channel description).
MULTI_MAX_CONTEXTS = 20
MULTI_CONTEXT_IDLE_S = 20.0

# Error codes that only the third-party transcriptions name (not on the errors page).
TRANSCRIBED_ONLY_ERROR_CODES = ("MISSING_VOICE_ID", "TOO_MANY_CONTEXTS")
MISSING_VOICE_ID_MESSAGE = "voice_id is required"  # kugelaudio-error-codes.yml
