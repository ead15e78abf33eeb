"""Every clause, grouped by module. Order here is the catalog's display order."""

from __future__ import annotations

from ..model import Clause
from . import kugel, platform, velma_common, velma_rest, velma_stream

ALL_CLAUSES: tuple[Clause, ...] = (
    *velma_common.CLAUSES,
    *velma_rest.CLAUSES,
    *velma_stream.CLAUSES,
    *platform.CLAUSES,
    *kugel.CLAUSES,
)
