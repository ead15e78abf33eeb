"""Every clause, grouped by module. Order here is the catalog's display order.

Clauses a whole group of surfaces shares are stamped out per surface in one topic
module (``batch_access``, ``batch_uploads``, ...); the clauses of one surface alone
live in that surface's module (``stt_batch``, ...). ``harness contract show ID``
names the file and line of any clause.
"""

from __future__ import annotations

from ..model import Clause
from . import (
    batch_access,
    batch_uploads,
    client,
    kugel,
    pii_batch,
    pii_stream,
    platform,
    stream_access,
    stream_protocol,
    stream_query,
    stt_batch,
    stt_stream,
    svd_batch,
    svd_stream,
    velma_access,
    velma_audio,
    velma_client,
    vfast_batch,
)

ALL_CLAUSES: tuple[Clause, ...] = (
    *velma_audio.CLAUSES,
    *velma_access.CLAUSES,
    *velma_client.CLAUSES,
    *batch_access.CLAUSES,
    *batch_uploads.CLAUSES,
    *stt_batch.CLAUSES,
    *vfast_batch.CLAUSES,
    *svd_batch.CLAUSES,
    *pii_batch.CLAUSES,
    *stream_access.CLAUSES,
    *stream_query.CLAUSES,
    *stream_protocol.CLAUSES,
    *stt_stream.CLAUSES,
    *svd_stream.CLAUSES,
    *pii_stream.CLAUSES,
    *platform.CLAUSES,
    *kugel.CLAUSES,
    *client.CLAUSES,
)
