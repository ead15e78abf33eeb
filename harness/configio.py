"""One typed reader for the files the harness reads: target profiles, the emulator config,
``conformance.json``.

A file's tables are frozen dataclasses; :func:`setting` gives a field its checks (a range,
the allowed values, a parse hook, which names a table may hold) and :func:`read` fills the
dataclass from parsed TOML or JSON, leaving absent fields at their defaults. Readers that
build their records by hand use the same checks one value at a time (:func:`table`,
:func:`string`, :func:`integer`, :func:`number`, :func:`boolean`, :func:`choice`,
:func:`strings`, :func:`known`).

Every problem is a :class:`FieldError` worded one way, always naming the dotted field path:

* ``<path>: expected <what>, got <value>`` (``got nothing`` when the field is absent);
* ``<path>: unknown field; expected one of <names>``.

Each reader prefixes the file (``<file>: <path>: ...``) and raises its own error class.
"""

from __future__ import annotations

import dataclasses
import types
import typing
from collections.abc import Callable, Collection, Iterable, Mapping
from dataclasses import MISSING, dataclass
from types import MappingProxyType
from typing import Any, TypeVar

T = TypeVar("T")
NOTHING: Any = object()  # "the field is absent"; described as "nothing"


class FieldError(ValueError):
    """A field that is absent or has the wrong shape: ``path`` and the ``problem``."""

    def __init__(self, path: str, problem: str) -> None:
        self.path = path
        self.problem = problem
        super().__init__(f"{path}: {problem}" if path else problem)

    @classmethod
    def expected(cls, path: str, what: str, got: Any = NOTHING) -> FieldError:
        return cls(path, f"expected {what}, got {describe(got)}")


def describe(value: Any) -> str:
    """A value as an error message shows it: short scalars as written, containers by kind."""
    if value is NOTHING:
        return "nothing"
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        return repr(value) if len(value) <= 60 else f"a string of {len(value)} characters"
    if isinstance(value, Mapping):
        return "a table"
    if isinstance(value, list | tuple):
        return "an array"
    return type(value).__name__


def join(path: str, name: str | int) -> str:
    """``path.name``, or ``path[i]`` for an array index."""
    if isinstance(name, int):
        return f"{path}[{name}]"
    return f"{path}.{name}" if path else name


def one_of(names: Iterable[str]) -> str:
    return f"one of {', '.join(names)}"


# --------------------------------------------------------------------------- one value


def table(value: Any, path: str, *, what: str = "a table") -> Mapping[str, Any]:
    """A table (``what``: how the file's format calls it, e.g. "an object" in JSON)."""
    if not isinstance(value, Mapping):
        raise FieldError.expected(path, what, value)
    return value


def array(value: Any, path: str) -> list[Any]:
    if not isinstance(value, list):
        raise FieldError.expected(path, "an array", value)
    return value


def string(value: Any, path: str, *, nonempty: bool = False) -> str:
    if not isinstance(value, str) or (nonempty and not value.strip()):
        raise FieldError.expected(path, "a non-empty string" if nonempty else "a string", value)
    return value


def boolean(value: Any, path: str) -> bool:
    if not isinstance(value, bool):
        raise FieldError.expected(path, "true or false", value)
    return value


_SIGNS = {"minimum": ">=", "above": ">", "maximum": "<="}


def _bounds(**limits: float | None) -> str:
    """`` >= 0 and <= 60`` for ``minimum=0, maximum=60`` (nothing without limits)."""
    return "".join(
        f" {'and ' if i else ''}{_SIGNS[k]} {v:g}"
        for i, (k, v) in enumerate((k, v) for k, v in limits.items() if v is not None)
    )


def integer(
    value: Any, path: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    ok = isinstance(value, int) and not isinstance(value, bool)
    if (
        not ok
        or (minimum is not None and value < minimum)
        or (maximum is not None and value > maximum)
    ):
        raise FieldError.expected(
            path, "an integer" + _bounds(minimum=minimum, maximum=maximum), value
        )
    return value


def number(
    value: Any,
    path: str,
    *,
    minimum: float | None = None,
    above: float | None = None,
    maximum: float | None = None,
) -> float:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    if (
        not ok
        or (minimum is not None and value < minimum)
        or (above is not None and value <= above)
        or (maximum is not None and value > maximum)
    ):
        raise FieldError.expected(
            path, "a number" + _bounds(minimum=minimum, above=above, maximum=maximum), value
        )
    return float(value)


def choice(value: Any, path: str, choices: Collection[str]) -> str:
    if not isinstance(value, str) or value not in choices:
        raise FieldError.expected(path, one_of(choices), value)
    return value


def strings(value: Any, path: str, choices: Collection[str] | None = None) -> list[str]:
    """An array of strings (each one of ``choices`` when given)."""
    items = array(value, path)
    for i, item in enumerate(items):
        if choices is None:
            string(item, join(path, i))
        else:
            choice(item, join(path, i), choices)
    return list(items)


def known(t: Mapping[str, Any], allowed: Collection[str], path: str) -> None:
    """Every name in table ``t`` is one of ``allowed``."""
    for name in t:
        if name not in allowed:
            raise FieldError(join(path, name), f"unknown field; expected {one_of(allowed)}")


def checked(path: str, parse: Callable[[Any], T], value: Any) -> T:
    """``parse(value)``, its ``ValueError`` turned into a :class:`FieldError` at ``path``."""
    try:
        return parse(value)
    except FieldError:
        raise
    except ValueError as exc:
        raise FieldError(path, str(exc)) from None


# --------------------------------------------------------------------------- dataclasses


@dataclass(frozen=True)
class Spec:
    """The checks of one dataclass field beyond its type (see :func:`setting`)."""

    name: str | None = None  # the name in the file (default: the field's)
    minimum: float | None = None
    above: float | None = None  # strictly greater than
    maximum: float | None = None
    # for a string, or each string of an array; a function when the names are known late
    choices: Collection[str] | Callable[[], Collection[str]] | None = None
    names: Collection[str] | None = None  # the names a Mapping field may hold
    merge: bool = False  # a Mapping field: the file's entries update the default
    nonempty: bool = False  # a string (or a Mapping's string values) may not be empty
    parse: Callable[[Any], Any] | None = None  # after the type check; ValueError -> FieldError
    read: bool = True  # False: not in the file (set by the code that builds the record)


def setting(default: Any = MISSING, *, default_factory: Any = MISSING, **checks: Any) -> Any:
    """A dataclass field with :class:`Spec` checks: ``x: int = setting(5, minimum=0)``."""
    meta = {"configio": Spec(**checks)}
    if default_factory is not MISSING:
        return dataclasses.field(default_factory=default_factory, metadata=meta)
    return dataclasses.field(default=default, metadata=meta)


def read(cls: type[T], data: Any, path: str = "", **fixed: Any) -> T:
    """Fill dataclass ``cls`` from table ``data`` (``fixed``: fields the file does not hold)."""
    t = table(data, path or "(top level)")
    hints = typing.get_type_hints(cls)
    fields = [f for f in dataclasses.fields(cls) if _spec(f).read and f.name not in fixed]  # type: ignore[arg-type]
    known(t, [_spec(f).name or f.name for f in fields], path)
    values: dict[str, Any] = dict(fixed)
    for f in fields:
        spec = _spec(f)
        name = spec.name or f.name
        where = join(path, name)
        if name not in t:
            if f.default is MISSING and f.default_factory is MISSING:
                raise FieldError.expected(where, _what(hints[f.name]), NOTHING)
            continue
        default = f.default_factory() if f.default_factory is not MISSING else f.default
        value = _value(hints[f.name], t[name], where, spec, default)
        values[f.name] = checked(where, spec.parse, value) if spec.parse else value
    return cls(**values)


def _spec(f: dataclasses.Field[Any]) -> Spec:
    return f.metadata.get("configio", Spec())


def _what(tp: Any) -> str:
    tp = _strip_optional(tp)
    if dataclasses.is_dataclass(tp):
        return "a table"
    return {str: "a string", int: "an integer", float: "a number", bool: "true or false"}.get(
        tp, "a value"
    )


def _strip_optional(tp: Any) -> Any:
    args = typing.get_args(tp)
    if isinstance(tp, types.UnionType) or typing.get_origin(tp) is typing.Union:
        rest = [a for a in args if a is not type(None)]
        return rest[0] if len(rest) == 1 else tp
    return tp


def _value(tp: Any, value: Any, path: str, spec: Spec, default: Any) -> Any:
    tp = _strip_optional(tp)
    origin = typing.get_origin(tp) or tp
    args = typing.get_args(tp)
    if tp is Any:
        return value
    if dataclasses.is_dataclass(tp):
        return read(tp, value, path)  # type: ignore[type-var]
    if tp is bool:
        return boolean(value, path)
    if tp is int:
        return integer(value, path, minimum=_int(spec.minimum), maximum=_int(spec.maximum))
    if tp is float:
        return number(value, path, minimum=spec.minimum, above=spec.above, maximum=spec.maximum)
    if tp is str:
        if spec.choices is not None:
            names = spec.choices() if callable(spec.choices) else spec.choices
            return choice(value, path, names)
        return string(value, path, nonempty=spec.nonempty)
    if origin in (tuple, frozenset, list):
        item = args[0] if args else Any
        if dataclasses.is_dataclass(item):
            items = [read(item, v, join(path, i)) for i, v in enumerate(array(value, path))]  # type: ignore[type-var]
        else:
            items = [
                _value(item, v, join(path, i), spec, None) for i, v in enumerate(array(value, path))
            ]
        return origin(items)
    if origin in (Mapping, dict, MappingProxyType) or origin is typing.Mapping:
        t = table(value, path)
        if spec.names is not None:
            known(t, spec.names, path)
        out = dict(default) if spec.merge and default else {}
        item = args[1] if len(args) > 1 else Any
        for k, v in t.items():
            out[k] = _value(item, v, join(path, k), spec, None)
        return MappingProxyType(out)
    raise TypeError(f"configio cannot read {tp!r} ({path})")


def _int(x: float | None) -> int | None:
    return None if x is None else int(x)
