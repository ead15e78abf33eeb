"""The ``${...}`` placeholders of the catalog's TOML files: wire values written once.

A clause text names a value of the contract tables instead of copying it:

* ``${NAME}``: an UPPER_CASE constant of ``tables.py``, ``tables_kugel.py`` or
  ``kugel_api.py`` (or one of the few :data:`DERIVED` values below);
* ``${NAME[key]}``, ``${NAME.field}``: an entry of a table (a mapping key, a tuple index,
  a field of a record), e.g. ``${VELMA_PATHS[stt-batch]}``;
* ``${...:spec}``: how to write it: a format spec for a number (``${SVD_WINDOW_S:g}``),
  or for a list one of :data:`LIST_FORMATS` (``${EMOTION_LABELS:list}``,
  ``${RAW_FORMAT_NAMES:ticked}``), ``and`` (``a and b``), ``tuple`` (``('a', 'b')``) or
  ``brackets`` (``[a, b]``).

Inside a ``[[family]]`` the loader first writes ``${surface}`` and ``${surface_name}``,
so ``${VELMA_PATHS[${surface}]}`` names each surface's own path. How a placeholder is written
out is :mod:`harness.contract.template`'s; this module gives it the catalog's namespace.
Data only: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any

from . import kugel_api, tables, tables_kugel
from .template import LIST_FORMATS, PlaceholderError, substitute, written

__all__ = ["DERIVED", "LIST_FORMATS", "NAMESPACE", "PlaceholderError", "expand"]


def _upper(module: Any) -> dict[str, Any]:
    return {n: getattr(module, n) for n in dir(module) if re.fullmatch(r"[A-Z][A-Z0-9_]*", n)}


def _backoff_waits() -> str:
    policy = tables.DOCUMENTED_BACKOFF
    waits = []
    for attempt in range(policy.max_retries):
        low, high = policy.wait_bounds(attempt)
        waits.append(f"after attempt {attempt}: {low:g}–{high:g} s")
    return "; ".join(waits)


# Values computed from the tables that clause texts quote (kept to those a text needs).
DERIVED: Mapping[str, str | int] = MappingProxyType(
    {
        "CHANNELS": f"{tables.MIN_CHANNELS}–{tables.MAX_CHANNELS}",
        "RAW_FORMAT_COUNT": len(tables.RAW_FORMAT_NAMES),
        "BATCH_UPLOAD_MB": tables.MAX_BATCH_UPLOAD_BYTES // 1_000_000,
        "PLATFORM_FILE_MB": tables.PLATFORM_MAX_SINGLE_FILE_BYTES // 1_000_000,
        "SVD_MIN_MS": round(tables.MIN_SVD_DURATION_S * 1000),
        "SVD_WINDOW_MS": round(tables.SVD_WINDOW_S * 1000),
        "SVD_STREAM_FIRST_MS": round(tables.SVD_STREAM_FIRST_RESULT_S * 1000),
        "BACKOFF_WAITS": _backoff_waits(),
        "BACKOFF_ATTEMPTS": tables.DOCUMENTED_BACKOFF.max_retries + 1,
    }
)

NAMESPACE: Mapping[str, Any] = MappingProxyType(
    {**_upper(kugel_api), **_upper(tables_kugel), **_upper(tables), **DERIVED}
)
_UNKNOWN = (
    "names no constant of harness/contract/tables.py, tables_kugel.py, kugel_api.py "
    "or placeholders.DERIVED"
)


def expand(text: str, surface: Mapping[str, str] | None = None) -> str:
    """``text`` with every placeholder written out; ``surface``: the family's own values.

    Raises :class:`PlaceholderError` naming the first placeholder that cannot be written.
    """
    if surface is not None:
        for key, value in surface.items():
            text = text.replace("${" + key + "}", value)
        if "${surface_name}" in text:
            raise PlaceholderError(
                f"${{surface_name}}: surface {surface.get('surface')} has no display name "
                "(tables.SURFACE_NAMES)"
            )
    return substitute(text, _checked)


def _checked(placeholder: str) -> str:
    if placeholder in ("surface", "surface_name"):
        raise PlaceholderError(f"${{{placeholder}}} is only known inside a [[family]]")
    return written(placeholder, NAMESPACE, _UNKNOWN)
