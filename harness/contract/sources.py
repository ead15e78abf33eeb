"""Short names for the documents clauses cite (citations only; never opened)."""

from __future__ import annotations

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
    """Shorthand used by the clause modules."""
    return Source(document, section)


# Every document a clause may cite (a test holds the catalog to this list).
ALL_DOCUMENTS = frozenset(
    {
        *SEED_PAGES,
        STT_BATCH_SPEC,
        VFAST_SPEC,
        SVD_BATCH_SPEC,
        PII_BATCH_SPEC,
        STT_STREAM_SPEC,
        SVD_STREAM_SPEC,
        PII_STREAM_SPEC,
        KUGEL_OPENAPI,
        KUGEL_ASYNCAPI,
        KUGEL_ERRORS_SPEC,
        DOCS_INDEX,
        STT_GUIDE,
        RFC_9110,
        RFC_9113,
    }
)
