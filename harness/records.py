"""Dataclasses as JSON objects: one way for the report, the fixture manifest and the
emulator's bodies to turn a record into JSON data.

A :class:`Record` subclass is a dataclass; its ``to_dict`` writes its fields (or the names
in ``_KEYS``) in order, converting nested records. Imports nothing of ours, so every layer
may use it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import fields
from typing import Any, ClassVar

_SCALARS = (str, int, float, bool, type(None))


def json_value(value: Any) -> Any:
    """A field's value as JSON data: a record by its ``to_dict``; a list or dict copied, with
    its records converted (a record's lists and dicts hold records or plain JSON data, never
    both; plain data inside is shared)."""
    if isinstance(value, _SCALARS):
        return value
    if isinstance(value, Record):
        return value.to_dict()
    if isinstance(value, list | tuple):
        if value and isinstance(value[0], Record):
            return [v.to_dict() for v in value]
        return list(value)
    if isinstance(value, dict | Mapping):
        if value and isinstance(next(iter(value.values())), Record):
            return {k: v.to_dict() for k, v in value.items()}
        return dict(value)
    return value


def json_keys(names: str) -> tuple[str, ...]:
    """``Record._KEYS`` written as one string of names, in the JSON's order."""
    return tuple(names.split())


class Record:
    """A dataclass that is written as JSON: :meth:`to_dict` is its JSON object.

    Its keys are ``_KEYS`` (fields or properties, in the JSON's order; by default the
    dataclass fields as declared); a key in ``_OPTIONAL`` is left out while it is None."""

    _KEYS: ClassVar[tuple[str, ...]] = ()
    _OPTIONAL: ClassVar[frozenset[str]] = frozenset()

    def to_dict(self) -> dict[str, Any]:
        keys = _KEYS_OF.get(type(self))
        if keys is None:  # once per class: the declared fields unless _KEYS says otherwise
            keys = _KEYS_OF[type(self)] = self._KEYS or tuple(f.name for f in fields(self))  # type: ignore[arg-type]
        out: dict[str, Any] = {}
        for k in keys:
            v = getattr(self, k)
            if v is None:
                if k in self._OPTIONAL:
                    continue
            elif not isinstance(v, _SCALARS):
                v = json_value(v)
            out[k] = v
        return out


_KEYS_OF: dict[type, tuple[str, ...]] = {}
