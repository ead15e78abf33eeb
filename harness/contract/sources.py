"""Short names for the documents clauses cite (citations only; never opened)."""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from .model import Source

# Seed pages: the primary contract.
KUGEL_ERRORS_PAGE = "seeds/kugelaudio-errors.txt"
AUDIO_FORMATS_PAGE = "seeds/modulate-audio-formats.txt"
AUTH_PAGE = "seeds/modulate-authentication-and-rate-limits.txt"
FAQ_PAGE = "seeds/modulate-faq.txt"
TROUBLESHOOTING_PAGE = "seeds/modulate-troubleshooting.txt"

SEED_PAGES = (
    KUGEL_ERRORS_PAGE,
    AUDIO_FORMATS_PAGE,
    AUTH_PAGE,
    FAQ_PAGE,
    TROUBLESHOOTING_PAGE,
)

# Vendor specs.
STT_BATCH_SPEC = "specs/modulate/velma-2-stt-batch.openapi.yml"
VFAST_SPEC = "specs/modulate/velma-2-stt-batch-english-vfast.openapi.yml"
SVD_BATCH_SPEC = "specs/modulate/velma-2-synthetic-voice-detection-batch.openapi.yml"
PII_BATCH_SPEC = "specs/modulate/velma-2-pii-phi-redaction-batch.openapi.yml"
STT_STREAM_SPEC = "specs/modulate/velma-2-stt-streaming.asyncapi.yml"
SVD_STREAM_SPEC = "specs/modulate/velma-2-synthetic-voice-detection-streaming.asyncapi.yml"
PII_STREAM_SPEC = "specs/modulate/velma-2-pii-phi-redaction-streaming.asyncapi.yml"
KUGEL_OPENAPI = "specs/kugelaudio/kugelaudio-tts.openapi.json"
KUGEL_ASYNCAPI = (
    "specs/kugelaudio/kugelaudio-tts-streaming.asyncapi.yml"  # third-party transcription
)
KUGEL_ERRORS_SPEC = "specs/kugelaudio/kugelaudio-error-codes.yml"  # third-party transcription
DOCS_INDEX = "specs/modulate/llms-index.txt"  # Modulate's index of its documentation pages
# The Transcription guide (listed in DOCS_INDEX) is where `end_ms` appears (contradiction 12).
STT_GUIDE = "docs.modulate.ai get-started/stt (listed in specs/modulate/llms-index.txt)"

# Standards.
RFC_9110 = "RFC 9110 (HTTP Semantics)"
RFC_9113 = "RFC 9113 (HTTP/2)"


def src(document: str, section: str) -> Source:
    """Shorthand for a :class:`Source`."""
    return Source(document, section)


# The short name ("doc-key") the catalog's TOML files cite each document by:
# ``sources = ["auth-page § Rate limits"]``. A family may write ``@spec``: its surface's own
# spec file (SURFACE_SPECS).
DOCUMENTS: Mapping[str, str] = MappingProxyType(
    {
        "kugel-errors-page": KUGEL_ERRORS_PAGE,
        "audio-formats-page": AUDIO_FORMATS_PAGE,
        "auth-page": AUTH_PAGE,
        "faq-page": FAQ_PAGE,
        "troubleshooting-page": TROUBLESHOOTING_PAGE,
        "stt-batch-spec": STT_BATCH_SPEC,
        "vfast-batch-spec": VFAST_SPEC,
        "svd-batch-spec": SVD_BATCH_SPEC,
        "pii-batch-spec": PII_BATCH_SPEC,
        "stt-stream-spec": STT_STREAM_SPEC,
        "svd-stream-spec": SVD_STREAM_SPEC,
        "pii-stream-spec": PII_STREAM_SPEC,
        "kugel-openapi": KUGEL_OPENAPI,
        "kugel-asyncapi": KUGEL_ASYNCAPI,
        "kugel-errors-spec": KUGEL_ERRORS_SPEC,
        "docs-index": DOCS_INDEX,
        "stt-guide": STT_GUIDE,
        "rfc-9110": RFC_9110,
        "rfc-9113": RFC_9113,
    }
)

# Each Velma-2 model surface's own spec file (``@spec`` in a family).
SURFACE_SPECS: Mapping[str, str] = MappingProxyType(
    {
        "stt-batch": STT_BATCH_SPEC,
        "vfast-batch": VFAST_SPEC,
        "svd-batch": SVD_BATCH_SPEC,
        "pii-batch": PII_BATCH_SPEC,
        "stt-stream": STT_STREAM_SPEC,
        "svd-stream": SVD_STREAM_SPEC,
        "pii-stream": PII_STREAM_SPEC,
    }
)

# Every document a clause may cite (a test holds the catalog to this list).
ALL_DOCUMENTS = frozenset(DOCUMENTS.values())
