"""Typed form fields of the batch endpoints, validated the way the specs declare them.

Type errors give FastAPI-style 422 entries; a ``language`` that does not match
the documented pattern gives a 400 (the specs' ``invalid_language`` example);
a ``config`` JSON field overrides the form fields it names (STT batch), and a
bad one is a 400 ``Invalid configuration.``.
"""

from __future__ import annotations

import json
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from harness.contract import tables as T

_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})
LANGUAGE_RE = re.compile(T.LANGUAGE_PATTERN)


@dataclass(frozen=True)
class FieldSpec:
    name: str
    kind: Literal["bool", "int", "language"]
    default: Any = None
    minimum: int | None = None


class BadLanguage(ValueError):
    def __init__(self, value: str) -> None:
        super().__init__(value)
        self.value = value


class BadConfig(ValueError):
    pass


def parse_fields(
    specs: Sequence[FieldSpec], raw: Mapping[str, str]
) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """Values by name (defaults filled in) and FastAPI-style errors (422)."""
    values: dict[str, Any] = {}
    errors: list[dict[str, Any]] = []
    for spec in specs:
        if spec.name not in raw:
            values[spec.name] = spec.default
            continue
        text = raw[spec.name]
        loc = ["body", spec.name]
        if spec.kind == "bool":
            low = text.strip().lower()
            if low in _TRUE or low in _FALSE:
                values[spec.name] = low in _TRUE
            else:
                errors.append(
                    field_error(
                        "bool_parsing",
                        loc,
                        "Input should be a valid boolean, unable to interpret input",
                        text,
                    )
                )
        elif spec.kind == "int":
            try:
                n = int(text.strip())
            except ValueError:
                errors.append(
                    field_error(
                        "int_parsing",
                        loc,
                        "Input should be a valid integer, unable to parse string as an integer",
                        text,
                    )
                )
                continue
            if spec.minimum is not None and n < spec.minimum:
                e = field_error(
                    "greater_than_equal",
                    loc,
                    f"Input should be greater than or equal to {spec.minimum}",
                    text,
                )
                e["ctx"] = {"ge": spec.minimum}
                errors.append(e)
                continue
            values[spec.name] = n
        else:
            values[spec.name] = text
    return values, errors


def check_language(values: Mapping[str, Any]) -> None:
    lang = values.get("language")
    if lang is not None and not LANGUAGE_RE.match(lang):
        raise BadLanguage(lang)


def primary_language(values: Mapping[str, Any], default: str = "en") -> str:
    lang = values.get("language")
    if not lang:
        return default
    return re.split(r"[-_]", lang)[0].lower()


def apply_config(specs: Sequence[FieldSpec], values: dict[str, Any], text: str | None) -> None:
    """Overlay a ``config`` JSON string on ``values``; raises :class:`BadConfig`."""
    if text is None:
        return
    try:
        data = json.loads(text)
    except ValueError:
        raise BadConfig("not JSON") from None
    if not isinstance(data, dict):
        raise BadConfig("not an object")
    kinds = {s.name: s.kind for s in specs}
    for name, value in data.items():
        if name == "custom_terms":
            _check_custom_terms(value)
            continue
        kind = kinds.get(name)
        if kind == "bool":
            if not isinstance(value, bool):
                raise BadConfig(f"{name} must be a boolean")
        elif kind == "language":
            if value is not None and not (isinstance(value, str) and LANGUAGE_RE.match(value)):
                raise BadConfig(f"{name} must match the language pattern")
        else:
            continue  # unknown keys are ignored
        values[name] = value


def _check_custom_terms(value: Any) -> None:
    if value is None:
        return
    if not isinstance(value, list) or len(value) > T.CUSTOM_TERMS_MAX_ENTRIES:
        raise BadConfig(
            f"custom_terms must be a list of at most {T.CUSTOM_TERMS_MAX_ENTRIES} entries"
        )
    terms: list[str] = []
    for item in value:
        if isinstance(item, str):
            terms.append(item)
            continue
        if not isinstance(item, dict) or not isinstance(item.get("term"), str) or not item["term"]:
            # A CustomTerm object's `term` has a minimum length of 1; only blank plain
            # strings and blank pronunciations are dropped.
            raise BadConfig("custom term needs a non-empty `term`")
        definition = item.get("definition")
        if definition is not None and (
            not isinstance(definition, str) or len(definition) > T.CUSTOM_TERM_DEFINITION_MAX_CHARS
        ):
            raise BadConfig("definition too long")
        prons = item.get("pronunciations")
        if prons is not None and (
            not isinstance(prons, list)
            or len(prons) > T.CUSTOM_TERM_MAX_PRONUNCIATIONS
            or not all(
                isinstance(p, str)
                and len(p) <= T.CUSTOM_TERM_PRONUNCIATION_MAX_CHARS
                and p.isascii()
                for p in prons
            )
        ):
            raise BadConfig("bad pronunciations")
        terms.append(item["term"])
    if len(json.dumps([t for t in terms if t.strip()])) >= T.CUSTOM_TERMS_MAX_JSON_CHARS:
        raise BadConfig("custom terms too long")


def field_error(kind: str, loc: Sequence[str | int], msg: str, value: Any = None) -> dict[str, Any]:
    """One entry of FastAPI's 422 ``detail`` list."""
    return {"type": kind, "loc": list(loc), "msg": msg, "input": value}
