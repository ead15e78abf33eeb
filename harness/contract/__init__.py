"""The documented contract as data: clauses, tables, limits, pricing. No I/O.

This package imports nothing else of the project's.
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
