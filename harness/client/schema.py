"""Checking wire messages against the contract's JSON Schemas, with ``jsonschema``.

The schemas are plain dicts in ``harness.contract`` (``schemas_stream``, ``schemas_kugel``,
draft 2020-12); this is the one place that validates anything against them, for the
suites, the emulator tests and the contract tests alike.

Two choices of ours, both stricter than a bare validator and both what a typed client
needs: ``integer`` means a JSON number without a fraction part written as one (``3``, not
``3.0``; never ``true``), and ``format`` is asserted (``"uuid"``: the hyphenated form).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from jsonschema import Draft202012Validator
from jsonschema.protocols import Validator
from jsonschema.validators import extend

Schema = Mapping[str, Any]


def _is_integer(_checker: Any, value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


_TYPES = Draft202012Validator.TYPE_CHECKER.redefine("integer", _is_integer)
StrictValidator = extend(Draft202012Validator, type_checker=_TYPES)
_cache: dict[int, tuple[Schema, Validator]] = {}  # id(schema) -> (schema kept alive, validator)


def validator(schema: Schema) -> Validator:
    """The (cached) validator of ``schema``; a malformed schema raises ``SchemaError``."""
    hit = _cache.get(id(schema))
    if hit is not None and hit[0] is schema:
        return hit[1]
    StrictValidator.check_schema(schema)
    checker = StrictValidator.FORMAT_CHECKER
    found = StrictValidator(schema, format_checker=checker)
    _cache[id(schema)] = (schema, found)
    return found


def errors(value: Any, schema: Schema) -> list[str]:
    """Every way ``value`` breaks ``schema``, as ``"$.path: what"`` lines; [] when it fits."""
    found = sorted(validator(schema).iter_errors(value), key=lambda e: list(e.absolute_path))
    return [f"{e.json_path}: {e.message}" for e in found]


def fits(value: Any, schema: Schema) -> bool:
    return validator(schema).is_valid(value)
