"""Named switches that make the emulator break a documented promise on purpose.

A conformance suite proves that its checks can fail by running against the
emulator with one of these on. A deviation is enabled for every request in the
config (``[deviations] enabled``), for one key (``deviations`` on the key), or
for one request with the ``X-Emulator-Deviation`` header (comma-separated).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from types import MappingProxyType

SHORT_AUDIO_400 = "short-audio-400"
QUEUE_INSTEAD_OF_REJECT = "queue-instead-of-reject"
TRIMMED_TIMESTAMPS = "trimmed-timestamps"
NO_CONTENT_LOW_CONFIDENCE = "no-content-confidence"
WRONG_DETAIL = "wrong-detail"
MISSING_FIELD = "missing-field"
CONSTANT_DURATION = "constant-duration"
CONSTANT_DURATION_MS = 2000  # what `constant-duration` reports, whatever the audio lasts
# Streaming switches: declared here, implemented by the streaming surfaces.
CLOSE_1000_INSTEAD_OF_4002 = "close-1000-instead-of-4002"
OMIT_DONE = "omit-done"
HANG_AFTER_END = "hang-after-end"
NO_ERROR_BEFORE_CLOSE = "no-error-before-close"
PARTIALS_WITHOUT_FLAG = "partials-without-flag"
# KugelAudio switches: implemented by harness.emulator.kugel.
KUGEL_RETRY_AFTER_IN_BODY = "kugel-retry-after-in-body"
KUGEL_CODE_MISMATCH = "kugel-code-mismatch"
KUGEL_FORBIDDEN_CODE = "kugel-forbidden-code"
KUGEL_NO_ERROR_FRAME = "kugel-no-error-frame"
KUGEL_ERROR_ONLY = "kugel-error-only"

PLATFORM_NO_REALTIME_URL = "platform-no-realtime-url"
PLATFORM_JOB_NEVER_COMPLETES = "platform-job-never-completes"
DEVIATIONS: Mapping[str, str] = MappingProxyType(
    {
        SHORT_AUDIO_400: "answer 400 instead of 422 for audio under the deepfake minimum",
        QUEUE_INSTEAD_OF_REJECT: "wait for a free slot instead of rejecting over the concurrency limit",
        TRIMMED_TIMESTAMPS: "report SVD frame times relative to the trimmed audio, not the file",
        NO_CONTENT_LOW_CONFIDENCE: "give silent (no-content) frames a confidence below 1.0",
        WRONG_DETAIL: "send a different `detail` string than documented on every error",
        MISSING_FIELD: "drop the required `duration_ms` field from 200 responses",
        CONSTANT_DURATION: "report `duration_ms` 2000 in every REST 200, whatever the audio lasts",
        CLOSE_1000_INSTEAD_OF_4002: "close 1000 instead of 4002 for undecodable streamed audio",
        OMIT_DONE: "close a stream without sending the `done` message",
        HANG_AFTER_END: "after the end of a stream send nothing more and never close it",
        NO_ERROR_BEFORE_CLOSE: "close with an error code without sending an `error` message first",
        PARTIALS_WITHOUT_FLAG: "send partial_utterance messages without partial_results=true",
        PLATFORM_NO_REALTIME_URL: "answer a realtime_websocket submission without `realtime_url`",
        PLATFORM_JOB_NEVER_COMPLETES: "keep every Platform job `processing`, never `completed`",
        KUGEL_RETRY_AFTER_IN_BODY: "KugelAudio: put `retry_after` in 429/503 bodies and frames",
        KUGEL_CODE_MISMATCH: "KugelAudio: `code` is 200 on HTTP, the close code on WS frames",
        KUGEL_FORBIDDEN_CODE: "KugelAudio: 403 carries the undocumented error_code ACCESS_DENIED",
        KUGEL_NO_ERROR_FRAME: "KugelAudio: close a TTS socket without the error frame",
        KUGEL_ERROR_ONLY: "KugelAudio: error bodies and frames carry only `error`",
    }
)

# The switches only the WebSocket surfaces act on.
STREAM_DEVIATIONS: Mapping[str, str] = MappingProxyType(
    {
        n: DEVIATIONS[n]
        for n in (
            CLOSE_1000_INSTEAD_OF_4002,
            OMIT_DONE,
            HANG_AFTER_END,
            NO_ERROR_BEFORE_CLOSE,
            PARTIALS_WITHOUT_FLAG,
        )
    }
)

WRONG_DETAIL_TEXT = "Something went wrong."  # what `wrong-detail` sends instead


def check_deviation_names(names: Iterable[str]) -> None:
    """Raise ``ValueError`` naming the known deviations if one is unknown."""
    for n in names:
        if n not in DEVIATIONS:
            raise ValueError(f"unknown deviation {n!r}; known: {', '.join(DEVIATIONS)}")


def parse_deviation_header(value: str | None) -> frozenset[str]:
    """``"a, b"`` -> ``{"a", "b"}``; raises ``ValueError`` for an unknown name."""
    if not value:
        return frozenset()
    names = [n.strip() for n in value.split(",") if n.strip()]
    check_deviation_names(names)
    return frozenset(names)
