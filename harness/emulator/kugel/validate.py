"""Request-body checks for the KugelAudio REST surface (schemas from the OpenAPI).

Each check raises :class:`~.errors.KugelError` with the documented 400 row and, for the
422 side of contradiction 15, FastAPI-style ``detail`` items.
"""

from __future__ import annotations

import json
import re
from collections.abc import Callable, Mapping
from typing import Any

from harness.contract import kugel_api as api

from . import errors as E

Check = Callable[[Any], str | None]  # None = fine, else the FastAPI error type


def _is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def _is_num(v: Any) -> bool:
    return isinstance(v, int | float) and not isinstance(v, bool)


def string(lo: int = 0, hi: int = 1 << 30, nullable: bool = False) -> Check:
    def c(v: Any) -> str | None:
        if v is None and nullable:
            return None
        if not isinstance(v, str):
            return "string_type"
        if len(v) < lo:
            return "string_too_short"
        if len(v) > hi:
            return "string_too_long"
        return None

    return c


def number(
    lo: float | None = None, hi: float | None = None, integer: bool = False, nullable: bool = False
) -> Check:
    def c(v: Any) -> str | None:
        if v is None and nullable:
            return None
        if not (_is_int(v) if integer else _is_num(v)):
            return "int_type" if integer else "float_type"
        if lo is not None and v < lo:
            return "greater_than_equal"
        if hi is not None and v > hi:
            return "less_than_equal"
        return None

    return c


def boolean(nullable: bool = False) -> Check:
    return lambda v: None if (v is None and nullable) or isinstance(v, bool) else "bool_type"


def int_list(max_items: int, nullable: bool = True) -> Check:
    def c(v: Any) -> str | None:
        if v is None and nullable:
            return None
        if not isinstance(v, list) or not all(_is_int(x) for x in v):
            return "list_type"
        return "too_long" if len(v) > max_items else None

    return c


def str_list(nullable: bool = True) -> Check:
    def c(v: Any) -> str | None:
        if v is None and nullable:
            return None
        ok = isinstance(v, list) and all(isinstance(x, str) for x in v)
        return None if ok else "list_type"

    return c


def all_nullable(schema: Mapping[str, Check]) -> dict[str, Check]:
    """An update's schema from its create schema: the same checks, each field may be null."""
    return {k: _or_null(check) for k, check in schema.items()}


def _or_null(check: Check) -> Check:
    return lambda v: None if v is None else check(v)


def voice_ref(v: Any) -> str | None:
    return None if v is None or _is_int(v) or isinstance(v, str) else "string_type"


SYNTH: dict[str, Check] = {
    "text": string(api.TEXT_MIN_CHARS, api.TEXT_MAX_CHARS),
    "voice_id": voice_ref,
    "cfg_scale": number(),
    "temperature": number(*api.TEMPERATURE_RANGE),
    "max_new_tokens": number(*api.MAX_NEW_TOKENS_RANGE, integer=True),
    "sample_rate": number(integer=True),
    "language": string(0, api.LANGUAGE_MAX_CHARS, nullable=True),
    "model_id": string(nullable=True),
    "normalize": boolean(),
    "project_id": number(integer=True, nullable=True),
    "dictionary_ids": int_list(api.DICTIONARY_IDS_MAX),
    "speed": number(*api.SPEED_RANGE),
    "output_format": string(nullable=True),
}
CREATE_DICT: dict[str, Check] = {
    "name": string(1, 200),
    "description": string(0, 2000, nullable=True),
    "language": string(0, 16, nullable=True),
}
UPDATE_DICT: dict[str, Check] = {**all_nullable(CREATE_DICT), "is_active": boolean(nullable=True)}
ENTRY: dict[str, Check] = {
    "word": string(1, 200),
    "replacement": string(1, 1000),
    "ipa": string(0, 200, nullable=True),
    "case_sensitive": boolean(),
}
UPDATE_ENTRY: dict[str, Check] = all_nullable(ENTRY)
VOICE_META: dict[str, Check] = {
    "name": string(1, 200),
    "description": string(0, 2000, nullable=True),
    "generative_voice_description": string(0, 2000, nullable=True),
    "supported_languages": str_list(),
    "category": string(nullable=True),
    "age": string(nullable=True),
    "sex": string(nullable=True),
    "quality": string(nullable=True),
    "sample_text": string(0, 2000, nullable=True),
}
UPDATE_VOICE = {**VOICE_META, "name": string(1, 200, nullable=True)}


def parse_json(raw: bytes) -> Any:
    """The body as JSON; raises 400 ``Invalid JSON body``."""
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        pos = getattr(exc, "pos", 0)
        item = E.validation_item("json_invalid", ("body", pos), "JSON decode error", {})
        raise E.KugelError(E.INVALID_JSON, detail=[item]) from None


def check_object(
    body: Any,
    spec: Mapping[str, Check],
    *,
    required: tuple[str, ...] = (),
    closed: bool = True,
    message: str = E.INVALID_REQUEST,
    missing_message: Mapping[str, str] | None = None,
) -> dict[str, Any]:
    """Validate ``body`` against ``spec``; raises the 400 row ``message`` (or 422 detail)."""
    if not isinstance(body, dict):
        item = E.validation_item(
            "model_attributes_type", ("body",), "Input should be an object", body
        )
        raise E.KugelError(message, detail=[item])
    items = []
    first: str | None = None
    for name in required:
        if name not in body:
            items.append(E.validation_item("missing", ("body", name), "Field required", body))
            first = first or (missing_message or {}).get(name)
    for name, value in body.items():
        check = spec.get(name)
        if check is None:
            if closed:
                items.append(
                    E.validation_item(
                        "extra_forbidden", ("body", name), "Extra inputs are not permitted", value
                    )
                )
            continue
        kind = check(value)
        if kind is not None:
            items.append(E.validation_item(kind, ("body", name), "Invalid value", value))
    if items:
        raise E.KugelError(first or message, detail=items)
    return body


_ASCII_INT = re.compile(r"[+-]?[0-9]+")


def ascii_int(text: str) -> int | None:
    """``text`` as an integer when it is one in ASCII digits (``None`` otherwise).

    ``int()`` alone would take ``" 5"``, ``"5_0"`` and other scripts' digits (``"\u0665"``),
    which a validating backend refuses; ``str.isdigit()`` is true for ``"\u00b9"``, which
    ``int()`` then refuses.
    """
    if not _ASCII_INT.fullmatch(text):
        return None
    try:
        return int(text)
    except ValueError:  # over Python's digit limit
        return None


def query_int(
    params: Mapping[str, str],
    name: str,
    default: int | None,
    lo: int | None = None,
    hi: int | None = None,
) -> int | None:
    """An integer query parameter; absent -> ``default``. Present but empty (``?name=``),
    not an integer, or out of range -> the documented validation error (400 / 422)."""
    raw = params.get(name)
    if raw is None:
        return default
    v = ascii_int(raw)
    if v is None or (lo is not None and v < lo) or (hi is not None and v > hi):
        item = E.validation_item("int_parsing", ("query", name), "Invalid value", raw)
        raise E.KugelError(E.INVALID_REQUEST, detail=[item])
    return v


def path_int(value: str, name: str) -> int:
    v = ascii_int(value)
    if v is None:
        item = E.validation_item("int_parsing", ("path", name), "Invalid value", value)
        raise E.KugelError(E.INVALID_REQUEST, detail=[item])
    return v
