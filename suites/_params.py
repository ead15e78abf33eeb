"""The one way the suites spread a case over surfaces: pytest params marked with a clause."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from typing import Any

import pytest


def surface_params(
    clause: str, surfaces: Iterable[str], *rest: object, values: Sequence[object] = ()
) -> list[Any]:
    """One pytest param per surface (and per value), each marked with its clause.

    ``clause`` is a slug, giving surface ``s`` the clause ``<s>/<clause>``, or, when it
    holds a ``/``, one clause id for every surface. ``rest`` follows the surface in every
    param (id ``<surface>``); with ``values`` a surface gets one param per value, after the
    surface and before ``rest`` (id ``<surface>-<value>``).
    """
    out = []
    for s in surfaces:
        mark = pytest.mark.clause(clause if "/" in clause else f"{s}/{clause}")
        if values:
            out += [pytest.param(s, v, *rest, marks=mark, id=f"{s}-{v}") for v in values]
        else:
            out.append(pytest.param(s, *rest, marks=mark, id=s))
    return out
