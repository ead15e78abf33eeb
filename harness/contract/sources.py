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


def src(document: str, section: str) -> Source:
    """Shorthand used by the clause modules."""
    return Source(document, section)
