"""The documented contract as data: clauses, tables, limits, pricing. No I/O.

This package imports nothing else of the project's.
"""

from .catalog import UnknownClauseError, all_clauses, by_surface, disputed, get, ids, problems
from .model import Alternative, Clause, Outcome, Source, Surface, Tier

__all__ = [
    "Alternative",
    "Clause",
    "Outcome",
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
