"""How a ``${...}`` placeholder is written out from a namespace of named values.

The engine behind :mod:`harness.contract.placeholders` (the catalog's namespace: every table
constant) and the record tables' data files (a smaller namespace, e.g. ``tables.py``'s own
``DETAIL_*`` texts). It imports nothing of ours, so a table module can use it on its own
constants. Data only: no I/O.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from dataclasses import fields, is_dataclass
from types import MappingProxyType
from typing import Any


class PlaceholderError(ValueError):
    """A ``${...}`` that names nothing, or a value that cannot be written as text."""


# How a list (or the keys of a mapping) is written: ``${NAME:<format>}``.
LIST_FORMATS: Mapping[str, Callable[[Any], str]] = MappingProxyType(
    {
        "list": lambda x: f"{x}",
        "ticked": lambda x: f"`{x}`",
        "quoted": lambda x: f'"{x}"',
        "ext": lambda x: f".{x}",
    }
)
_JOINERS = {"and": " and "}
# Whole lists as Python prints them (the way some error texts quote them).
_WHOLE: Mapping[str, Callable[[tuple[Any, ...]], str]] = MappingProxyType(
    {"tuple": repr, "brackets": lambda items: f"[{', '.join(f'{x}' for x in items)}]"}
)

_INNER = re.compile(r"\$\{([^${}]*)\}")
_PATH = re.compile(r"([A-Z][A-Z0-9_]*)((?:\[[^\[\]]+\]|\.[a-z_][a-z0-9_]*)*)(?::(.*))?", re.S)
_STEP = re.compile(r"\[([^\[\]]+)\]|\.([a-z_][a-z0-9_]*)")


def _step(value: Any, key: str | None, attr: str | None) -> Any:
    if attr is not None:
        if not is_dataclass(value) or attr not in {f.name for f in fields(value)}:
            raise KeyError(attr)
        return getattr(value, attr)
    assert key is not None
    if isinstance(value, Mapping):
        if key in value:
            return value[key]
        return value[int(key)]
    if isinstance(value, tuple | list):
        return value[int(key)]
    raise KeyError(key)


def _render(value: Any, spec: str) -> str:
    if isinstance(value, Mapping):
        value = tuple(value)
    if isinstance(value, tuple | list):
        if spec in LIST_FORMATS:
            return ", ".join(LIST_FORMATS[spec](x) for x in value)
        if spec in _JOINERS:
            return _JOINERS[spec].join(f"{x}" for x in value)
        if spec in _WHOLE:
            return _WHOLE[spec](tuple(value))
        known = ", ".join([*LIST_FORMATS, *_JOINERS, *_WHOLE])
        raise PlaceholderError(f"names a list; write it as ${{...:FORMAT}}, FORMAT one of {known}")
    if isinstance(value, bool) or not isinstance(value, str | int | float):
        raise PlaceholderError(f"names a {type(value).__name__}, not a text or number")
    try:
        return format(value, spec or "")
    except ValueError as exc:
        raise PlaceholderError(f"format {spec!r}: {exc}") from None


def resolve(placeholder: str, namespace: Mapping[str, Any], unknown: str) -> str:
    """The text ``${placeholder}`` stands for in ``namespace`` (``unknown``: the error when
    its name is not there)."""
    m = _PATH.fullmatch(placeholder)
    if m is None or m.group(1) not in namespace:
        raise PlaceholderError(unknown)
    value = namespace[m.group(1)]
    for step in _STEP.finditer(m.group(2)):
        try:
            value = _step(value, step.group(1), step.group(2))
        except (KeyError, IndexError, ValueError):
            raise PlaceholderError(f"{m.group(1)} has no entry {step.group(0)!r}") from None
    return _render(value, m.group(3) or "")


def substitute(text: str, one: Callable[[str], str]) -> str:
    """``text`` with each innermost ``${...}`` replaced by ``one(...)``; an unclosed one is an
    error."""
    out = _INNER.sub(lambda m: one(m.group(1)), text)
    if "${" in out:
        start = out.index("${")
        raise PlaceholderError(f"unclosed placeholder {out[start : start + 40]!r}")
    return out


def written(placeholder: str, namespace: Mapping[str, Any], unknown: str) -> str:
    """:func:`resolve`, its error naming the placeholder: ``${NAME} <problem>``."""
    try:
        return resolve(placeholder, namespace, unknown)
    except PlaceholderError as exc:
        raise PlaceholderError(f"${{{placeholder}}} {exc}") from None


def expand(text: str, namespace: Mapping[str, Any], unknown: str) -> str:
    """``text`` with every placeholder written out from ``namespace`` (errors name it)."""
    return substitute(text, lambda placeholder: written(placeholder, namespace, unknown))
