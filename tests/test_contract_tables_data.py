"""The contract's record tables kept as TOML data (kugel_operations.toml, velma_statuses.toml),
read by harness/contract/load.py's ``records``: what a file becomes, and one clear line for a
bad one."""

from __future__ import annotations

from pathlib import Path

import pytest

from harness.contract import kugel_api, tables
from harness.contract.kugel_api import RestOperation, read_operations
from harness.contract.load import DataFileError, or_exit
from harness.contract.tables import StatusRow, read_statuses

OPERATION = """\
# a comment line before the entry
[[operation]]
key = "voice-get"
method = "GET"
path = "/v1/voices/{voice_id}"
operation_id = "get_voice"
group = "voices"
summary = "returns one voice"
success_status = 200
response = "VoiceInfo"
path_params = ["voice_id"]
not_found = ["voice-not-found"]
"""

STATUS = """\
[[status]]
surface = "svd-batch"
status = 422
cause = "too short"
details = ["${DETAIL_TOO_SHORT}", "${DETAIL_EMPTY}"]

[[status]]
surface = "stt-batch"
status = 503
cause = "overloaded"
"""


def _write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "table.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_a_file_becomes_the_records_with_their_types(tmp_path):
    (op,) = read_operations(_write(tmp_path, OPERATION))
    assert op == RestOperation(
        "voice-get",
        "GET",
        "/v1/voices/{voice_id}",
        "get_voice",
        "voices",
        "returns one voice",
        200,
        "VoiceInfo",
        path_params=("voice_id",),
        not_found=("Voice not found",),
    )
    assert type(op.path_params) is tuple and op.query_params == () and op.request == ""
    rows = read_statuses(_write(tmp_path, STATUS))
    assert rows == (
        StatusRow("svd-batch", 422, "too short", (tables.DETAIL_TOO_SHORT, tables.DETAIL_EMPTY)),
        StatusRow("stt-batch", 503, "overloaded"),
    )
    assert type(rows[0].details) is tuple


def test_the_shipped_files_are_the_tables():
    assert read_operations() == kugel_api.REST_OPERATIONS
    assert read_statuses() == tables.REST_STATUSES
    assert {s for op in kugel_api.REST_OPERATIONS for s in op.not_found} <= {
        r.message for r in tables.KUGEL_ERRORS if r.status == 404
    }


GROUPS = "tts, models, voices, references, dictionaries, entries"
SLUGS = ", ".join(kugel_api.NOT_FOUND_ERRORS)

# (reader, file text, a change to it, the one line it then gives after "<file>:")
BROKEN = {
    "wrong type": (
        read_operations,
        OPERATION,
        ("= 200", '= "200"'),
        "3: operation 'voice-get': success_status: expected an integer, got '200'",
    ),
    "Literal field": (
        read_operations,
        OPERATION,
        ('"voices"', '"voice"'),
        f"3: operation 'voice-get': group: expected one of {GROUPS}, got 'voice'",
    ),
    "Literal field absent": (
        read_operations,
        OPERATION,
        ('group = "voices"\n', ""),
        f"3: operation 'voice-get': group: expected one of {GROUPS}, got nothing",
    ),
    "choices of an array": (
        read_operations,
        OPERATION,
        ('"voice-not-found"', '"Voice not found"'),
        f"3: operation 'voice-get': not_found[0]: expected one of {SLUGS}, got 'Voice not found'",
    ),
    "choices of a text": (
        read_statuses,
        STATUS,
        ('"stt-batch"', '"stt-stream"'),
        "7: status: surface: expected one of stt-batch, vfast-batch, svd-batch, pii-batch, "
        "got 'stt-stream'",
    ),
    "placeholder": (
        read_statuses,
        STATUS,
        ("${DETAIL_EMPTY}", "${DETAIL_EMTPY}"),
        "1: status: details[1]: ${DETAIL_EMTPY} names no DETAIL_ text of "
        "harness/contract/tables.py",
    ),
    "unknown field": (
        read_operations,
        OPERATION,
        ("group =", "grup = 1\ngroup ="),
        "3: operation 'voice-get': grup: unknown field; expected one of key, method, path, "
        "operation_id, group, summary, success_status, response, request, path_params, "
        "query_params, not_found",
    ),
    "inline entries": (
        read_statuses,
        'status = [{ surface = "stt-batch", status = 400, cause = "x" }]\n',
        ("", ""),
        " status: write each entry as its own [[status]] table (found 1 entries, "
        "0 [[status]] headers)",
    ),
}


@pytest.mark.parametrize("case", BROKEN)
def test_a_bad_file_gives_one_line_naming_file_line_entry_and_field(tmp_path, case):
    read, text, (old, new), expected = BROKEN[case]
    assert old in text
    path = _write(tmp_path, text.replace(old, new, 1))
    with pytest.raises(DataFileError) as caught:
        read(path)
    assert str(caught.value) == f"{path.as_posix()}:{expected}"


def test_a_broken_table_file_stops_the_import_with_one_line(tmp_path):
    path = _write(tmp_path, STATUS.replace("status = 503", "status = 5.03"))
    with pytest.raises(SystemExit) as caught:
        or_exit(lambda: read_statuses(path))
    assert caught.value.code == (
        f"harness: a contract table cannot be read: {path.as_posix()}:7: status: status: "
        "expected an integer, got 5.03"
    )
