"""KugelAudio's documented error tables, as plain data (re-exported by ``tables``).

Every value is taken from the vendor's pages; the comments name where. No I/O,
no project imports.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from types import MappingProxyType

# --------------------------------------------------------------------------
# KugelAudio error contract. seeds/kugelaudio-errors.txt § "HTTP and WebSocket
# payloads" and § "WebSocket close codes".
# --------------------------------------------------------------------------

KUGEL_ERROR_FIELDS = ("error", "error_code", "code")
KUGEL_ERROR_CODES = (
    "VALIDATION_ERROR",
    "UNAUTHORIZED",
    "INSUFFICIENT_CREDITS",
    "NOT_FOUND",
    "RATE_LIMITED",
    "INTERNAL_ERROR",
    "MODEL_UNAVAILABLE",
)


@dataclass(frozen=True)
class KugelErrorRow:
    status: int
    error_code: str
    message: str
    meaning: str  # our words


KUGEL_ERRORS: tuple[KugelErrorRow, ...] = (
    KugelErrorRow(400, "VALIDATION_ERROR", "Invalid request", "payload or WS message malformed"),
    KugelErrorRow(400, "VALIDATION_ERROR", "Invalid JSON body", "HTTP body is not JSON"),
    KugelErrorRow(400, "VALIDATION_ERROR", "text required", "no text to synthesise"),
    KugelErrorRow(400, "VALIDATION_ERROR", "Unsupported audio format", "reference audio format"),
    KugelErrorRow(400, "VALIDATION_ERROR", "Invalid voice metadata", "voice metadata invalid"),
    KugelErrorRow(401, "UNAUTHORIZED", "Unauthorized", "key missing, invalid or not accepted"),
    KugelErrorRow(402, "INSUFFICIENT_CREDITS", "Insufficient credits", "org out of credits"),
    KugelErrorRow(403, "UNAUTHORIZED", "Forbidden", "valid key, resource not accessible"),
    KugelErrorRow(404, "NOT_FOUND", "Voice not found", "voice missing or not visible"),
    KugelErrorRow(404, "NOT_FOUND", "Dictionary not found", "dictionary missing or not visible"),
    KugelErrorRow(404, "NOT_FOUND", "Entry not found", "dictionary entry missing or not visible"),
    KugelErrorRow(404, "NOT_FOUND", "Project not found", "project missing or not visible"),
    KugelErrorRow(404, "NOT_FOUND", "Reference not found", "voice reference missing or not visible"),
    KugelErrorRow(429, "RATE_LIMITED", "Rate limit exceeded", "org rate limit exceeded"),
    KugelErrorRow(429, "RATE_LIMITED", "Request exceeds the maximum character limit",
                  "text longer than the tier allows per request"),
    KugelErrorRow(500, "INTERNAL_ERROR", "Audio generation failed", "generation failed"),
    KugelErrorRow(500, "INTERNAL_ERROR", "Sample generation failed", "voice sample failed"),
    KugelErrorRow(500, "INTERNAL_ERROR", "Failed to fetch voice", "voice metadata not loaded"),
    KugelErrorRow(503, "MODEL_UNAVAILABLE", "Model overloaded, please try again later.",
                  "cluster capacity full"),
    KugelErrorRow(503, "MODEL_UNAVAILABLE",
                  "The requested model is temporarily unavailable. Please try again shortly.",
                  "selected model unavailable"),
)  # fmt: skip

KUGEL_CLOSE_CODES = MappingProxyType(
    {
        4001: ("UNAUTHORIZED", "authentication failed"),
        4003: ("INSUFFICIENT_CREDITS", "not enough credits"),
        4029: ("RATE_LIMITED", "rate limit exceeded"),
        4500: ("MODEL_UNAVAILABLE", "model unavailable or overloaded"),
        4000: ("INTERNAL_ERROR", "generic generation failure"),
    }
)
KUGEL_RETRY_AFTER_HEADER = "Retry-After"  # never `retry_after` in the body

# The shortest wait we accept as "backing off" before a KugelAudio retry: the errors page
# gives no figure; our reading of "back off", stated in clause kugel/client-backs-off.
KUGEL_MIN_BACKOFF_S = 0.5

# The HTTP-style `code` each error_code carries (the first table row for it).
PAYLOAD_CODE: dict[str, int] = {}
for _r in KUGEL_ERRORS:
    PAYLOAD_CODE.setdefault(_r.error_code, _r.status)


def slug(message: str) -> str:
    """Stable clause-ID slug from a KugelAudio `error` message.

    First phrase only (up to the first '.' or ','), lower case, articles dropped:
    "The requested model is temporarily unavailable. ..." -> "requested-model-is-
    temporarily-unavailable".
    """
    phrase = re.split(r"[.,]", message, maxsplit=1)[0].lower()
    words = [w for w in re.findall(r"[a-z0-9]+", phrase) if w not in ("the", "a", "an")]
    return "-".join(words)
