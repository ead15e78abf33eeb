"""The one way clause modules write a clause, and the one way they stamp it out per surface.

:func:`clause` takes every field by keyword and records where it is called
(``Clause.defined_at``), so that ``harness contract show ID`` can name the file and
line of any clause, generated ones included. :func:`per_surface` writes one clause
``<surface>/<slug>`` per surface from a function of the surface.
"""

from __future__ import annotations

import sys
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path
from typing import Any

from .model import Acceptable, Alternative, Clause, Source, Surface, Tier

_ROOT = Path(__file__).resolve().parents[2]


def _where(depth: int) -> str:
    """``path:line`` of the caller ``depth`` frames above the function calling this one."""
    frame = sys._getframe(depth + 1)
    path = Path(frame.f_code.co_filename).resolve()
    shown = path.relative_to(_ROOT) if path.is_relative_to(_ROOT) else path
    return f"{shown.as_posix()}:{frame.f_lineno}"


def clause(
    *,
    id: str,
    surface: Surface,
    requirement: str,
    sources: Iterable[Source],
    tier: Tier,
    outcomes: Iterable[Acceptable] = (),
    wording: Tier = Tier.SHOULD,
    wording_source: Source | None = None,
    alternatives: Iterable[Alternative] = (),
    preferred: str | None = None,
    rationale: str | None = None,
    contradiction: int | None = None,
    tags: Iterable[str] = (),
    defined_at: str | None = None,
) -> Clause:
    """A :class:`Clause`; ``defined_at`` defaults to the line that calls this function."""
    return Clause(
        id=id,
        surface=surface,
        requirement=requirement,
        sources=tuple(sources),
        tier=tier,
        outcomes=tuple(outcomes),
        wording=wording,
        wording_source=wording_source,
        alternatives=tuple(alternatives),
        preferred=preferred,
        rationale=rationale,
        contradiction=contradiction,
        tags=tuple(tags),
        defined_at=defined_at or _where(1),
    )


def per_surface(
    slug: str,
    surfaces: Iterable[Surface],
    make: Callable[[Surface], Mapping[str, Any]],
    **common: Any,
) -> tuple[Clause, ...]:
    """One clause ``<surface>/<slug>`` per surface.

    Its fields are ``common`` (e.g. ``tier``, ``tags``) updated with ``make(surface)``;
    ``defined_at`` is the line that calls this function (the line naming ``slug``).
    """
    where = _where(1)
    return tuple(
        clause(id=f"{s.value}/{slug}", surface=s, defined_at=where, **{**common, **make(s)})
        for s in surfaces
    )
