"""Clauses addressed to KugelAudio clients that ``harness audit-client`` judges (the Velma-2
client clauses live in :mod:`.velma_client`). Data only: no I/O."""

from __future__ import annotations

from ..build import clause
from ..model import Acceptable, Clause, Surface, Tier
from ..tables import KUGEL_RETRY_AFTER_HEADER
from .kugel_shared import S_RETRY

CLAUSES: tuple[Clause, ...] = (
    clause(
        id="kugel/client-honours-retry-after",
        surface=Surface.KUGEL,
        requirement=(
            f"A client that gets an HTTP error with a `{KUGEL_RETRY_AFTER_HEADER}` header waits "
            "at least that long before it tries the same request again."
        ),
        sources=(S_RETRY,),
        tier=Tier.SHOULD,
        outcomes=(
            Acceptable(
                status=429,
                behaviour=f"the next attempt starts no earlier than `{KUGEL_RETRY_AFTER_HEADER}` "
                "seconds after the refusal",
            ),
        ),
        tags=("backoff", "client"),
    ),
)
