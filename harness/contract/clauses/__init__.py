"""The catalog: every clause, read from the TOML files of this folder.

The files are data (``[[clause]]`` and ``[[family]]`` entries, see
``docs/CLAUSE-AUTHORING.md``), read and checked by :mod:`harness.contract.load`. Their order
in :data:`FILES` is the catalog's display order; ``harness contract show ID`` names the file
and line of any clause.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from ..load import CLAUSE_DIR, load_files, or_exit
from ..model import Clause

# Topic files of one group (velma_*, batch_*, stream_*) before the files of one surface;
# ``<name>_2`` continues ``<name>`` (files stay under ~600 lines).
FILES: tuple[str, ...] = (
    "velma_audio",
    "velma_access",
    "velma_client",
    "batch_access",
    "batch_uploads",
    "stt_batch",
    "vfast_batch",
    "svd_batch",
    "pii_batch",
    "stream_access",
    "stream_access_2",
    "stream_query",
    "stream_protocol",
    "stt_stream",
    "svd_stream",
    "pii_stream",
    "platform",
    "kugel_errors",
    "kugel_errors_2",
    "kugel_http",
    "kugel_http_2",
    "kugel_ws",
    "client",
)

BY_FILE: Mapping[str, tuple[Clause, ...]] = MappingProxyType(
    or_exit(lambda: load_files(CLAUSE_DIR / f"{n}.toml" for n in FILES), "the clause catalog")
)
ALL_CLAUSES: tuple[Clause, ...] = tuple(c for name in FILES for c in BY_FILE[name])


def from_files(*names: str) -> tuple[Clause, ...]:
    """The clauses of the files ``names`` and their ``<name>_<n>`` continuations, in order."""
    return tuple(
        c
        for name in FILES
        if name in names or name.rpartition("_")[0] in names and name[-1].isdigit()
        for c in BY_FILE[name]
    )
