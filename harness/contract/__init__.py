"""The documented contract as data: clauses, tables, limits, pricing.

No I/O but reading its own catalog files (``clauses/*.toml``, in ``load.py``, checked with
``harness.configio``); this package imports nothing else of the project's.
"""

from .catalog import UnknownClauseError, all_clauses, by_surface, disputed, get, ids, problems
from .model import Acceptable, Alternative, Clause, Source, Surface, Tier

__all__ = [
    "Acceptable",
    "Alternative",
    "Clause",
    "Source",
    "Surface",
    "Tier",
    "UnknownClauseError",
    "all_clauses",
    "by_surface",
    "disputed",
    "get",
    "ids",
    "problems",
]
