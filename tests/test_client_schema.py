"""harness.client.schema: the one JSON Schema check (jsonschema, draft 2020-12, our two choices)."""

from __future__ import annotations

import pytest
from jsonschema.exceptions import SchemaError

from harness.client import schema

INTEGER = {"type": "integer"}
THING = {
    "type": "object",
    "required": ["id", "n"],
    "properties": {"id": {"type": "string", "format": "uuid"}, "n": INTEGER},
}
GOOD_ID = "b2c3d4e5-f6a7-8901-bcde-f12345678901"


def test_integer_means_an_int_written_without_a_fraction_and_never_a_bool():
    assert schema.errors(3, INTEGER) == []
    assert schema.errors(3.0, INTEGER) == ["$: 3.0 is not of type 'integer'"]
    assert schema.errors(True, INTEGER) == ["$: True is not of type 'integer'"]


def test_formats_are_asserted():
    assert schema.fits({"id": GOOD_ID, "n": 1}, THING)
    assert schema.errors({"id": GOOD_ID.replace("-", ""), "n": 1}, THING) == [
        f"$.id: '{GOOD_ID.replace('-', '')}' is not a 'uuid'"
    ]


def test_every_problem_is_listed_with_its_path_in_document_order():
    assert schema.errors({"n": 1.5, "id": 7}, THING) == [
        "$.id: 7 is not of type 'string'",
        "$.n: 1.5 is not of type 'integer'",
    ]
    assert schema.errors({"n": 1.5}, THING) == [
        "$: 'id' is a required property",
        "$.n: 1.5 is not of type 'integer'",
    ]


def test_a_malformed_schema_is_refused_and_validators_are_reused():
    with pytest.raises(SchemaError):
        schema.errors(1, {"type": "integr"})
    assert schema.validator(THING) is schema.validator(THING)
