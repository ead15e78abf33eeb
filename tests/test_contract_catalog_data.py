"""The catalog's TOML files and their reader (harness/contract/load.py): forms and errors."""

from __future__ import annotations

import tomllib
from pathlib import Path

import pytest

from harness.contract import Acceptable, Source, Surface, Tier, tables
from harness.contract.clauses import ALL_CLAUSES, FILES, from_files
from harness.contract.load import CLAUSE_DIR, DataFileError, load_file, load_files
from harness.contract.sources import AUTH_PAGE, STT_BATCH_SPEC, SVD_BATCH_SPEC

FAMILY = """\
[[clause]]
id = "stt-batch/one"
surface = "stt-batch"
tier = "SHOULD"
requirement = "Uploads go in `${UPLOAD_PART}`."
sources = ["auth-page § Rate limits"]
outcomes = [{ status = 200, detail = "${DETAIL_EMPTY}" }]

[[family]]
slug = "path"
surfaces = ["stt-batch", "svd-batch"]
tier = "MUST"
requirement = "${surface_name} answers at `${VELMA_PATHS[${surface}]}` (${surface})."
sources = ["@spec § POST ${VELMA_PATHS[${surface}]} requestBody"]
outcomes = [{ status = 200 }]
tags = ["request-fields"]

[family.on.svd-batch]
tier = "INFO"
"""


def _write(tmp_path: Path, text: str, name: str = "topic.toml") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def _error(tmp_path: Path, text: str) -> str:
    with pytest.raises(DataFileError) as caught:
        load_file(_write(tmp_path, text))
    return str(caught.value)


def test_clauses_and_families_expand_in_file_order_with_placeholders(tmp_path):
    path = _write(tmp_path, FAMILY)
    one, stt, svd = load_file(path)
    assert one.id == "stt-batch/one" and one.requirement == f"Uploads go in `{tables.UPLOAD_PART}`."
    assert one.outcomes == (Acceptable(status=200, detail=tables.DETAIL_EMPTY),)
    assert one.sources == (Source(AUTH_PAGE, "Rate limits"),)
    assert [stt.id, svd.id] == ["stt-batch/path", "svd-batch/path"]
    assert (stt.surface, svd.surface) == (Surface.STT_BATCH, Surface.SVD_BATCH)
    assert (stt.tier, svd.tier) == (Tier.MUST, Tier.INFO)  # the override replaces the base
    path_stt, path_svd = tables.VELMA_PATHS["stt-batch"], tables.VELMA_PATHS["svd-batch"]
    assert stt.requirement == f"STT Batch answers at `{path_stt}` (stt-batch)."
    assert svd.requirement == f"Deepfake Detection Batch answers at `{path_svd}` (svd-batch)."
    assert stt.sources == (Source(STT_BATCH_SPEC, f"POST {path_stt} requestBody"),)
    assert svd.sources == (Source(SVD_BATCH_SPEC, f"POST {path_svd} requestBody"),)
    assert stt.tags == svd.tags == ("request-fields",)
    assert stt.wording is Tier.SHOULD and stt.alternatives == ()  # defaults


def test_defined_at_is_the_id_or_slug_line(tmp_path):
    one, stt, svd = load_file(_write(tmp_path, FAMILY))
    lines = FAMILY.splitlines()
    for c, wanted in (
        (one, 'id = "stt-batch/one"'),
        (stt, 'slug = "path"'),
        (svd, 'slug = "path"'),
    ):
        assert c.defined_at is not None
        file, line = c.defined_at.rsplit(":", 1)
        assert file == (tmp_path / "topic.toml").as_posix()
        assert lines[int(line) - 1] == wanted


def test_list_and_number_formats(tmp_path):
    text = FAMILY.replace(
        "Uploads go in `${UPLOAD_PART}`.",
        "${EMOTION_LABELS:list} / ${SVD_VERDICTS:ticked} / ${SVD_WINDOW_S:g} s / "
        "${DOCUMENTED_BACKOFF.retry_statuses:and} / ${PASSTHROUGH[0]} / ${SVD_VERDICTS:tuple} / "
        "${SAMPLE_RATES:brackets}",
    )
    one = load_file(_write(tmp_path, text))[0]
    verdicts = ", ".join(f"`{v}`" for v in tables.SVD_VERDICTS)
    statuses = " and ".join(str(s) for s in tables.DOCUMENTED_BACKOFF.retry_statuses)
    assert one.requirement == (
        f"{', '.join(tables.EMOTION_LABELS)} / {verdicts} / {tables.SVD_WINDOW_S:g} s / "
        f"{statuses} / {tables.PASSTHROUGH[0]} / {tables.SVD_VERDICTS} / {list(tables.SAMPLE_RATES)}"
    )


@pytest.mark.parametrize(
    ("old", "new", "expected"),
    [
        (
            'tier = "SHOULD"',
            'tier = "SHOULD"\ncolour = "red"',
            "topic.toml:2: clause 'stt-batch/one': colour: unknown field; expected one of id, ",
        ),
        (
            'tier = "SHOULD"',
            "tier = 3",
            "topic.toml:2: clause 'stt-batch/one': tier: expected one of MUST, SHOULD, INFO, got 3",
        ),
        (
            'tier = "SHOULD"',
            'tier = "MAY"',
            "clause 'stt-batch/one': tier: expected one of MUST, SHOULD, INFO, got 'MAY'",
        ),
        (
            'surface = "stt-batch"',
            'surface = "stt-bulk"',
            "clause 'stt-batch/one': surface: expected one of stt-batch, vfast-batch,",
        ),
        (
            '"auth-page § Rate limits"',
            '"auth-pages § Rate limits"',
            "topic.toml:2: clause 'stt-batch/one': sources[0]: unknown document key 'auth-pages'; "
            "expected one of kugel-errors-page, audio-formats-page, auth-page,",
        ),
        (
            '"auth-page § Rate limits"',
            '"auth-page: Rate limits"',
            "sources[0]: expected \"<doc-key> § <section>\", got 'auth-page: Rate limits'",
        ),
        (
            "`${UPLOAD_PART}`",
            "`${UPLOAD_PARTS}`",
            "topic.toml:2: clause 'stt-batch/one': requirement: ${UPLOAD_PARTS} names no constant",
        ),
        (
            "`${UPLOAD_PART}`",
            "`${VELMA_PATHS[nowhere]}`",
            "requirement: ${VELMA_PATHS[nowhere]} VELMA_PATHS has no entry '[nowhere]'",
        ),
        (
            "`${UPLOAD_PART}`",
            "`${SVD_VERDICTS}`",
            "requirement: ${SVD_VERDICTS} names a list; write it as ${...:FORMAT}",
        ),
        (
            "`${UPLOAD_PART}`",
            "`${surface}`",
            "clause 'stt-batch/one': requirement: ${surface} is only known inside a [[family]]",
        ),
        (
            "{ status = 200, detail",
            '{ status = "200", detail',
            "clause 'stt-batch/one': outcomes[0].status: expected an integer >= 0, got '200'",
        ),
        (
            "{ status = 200, detail",
            "{ code = 200, detail",
            "clause 'stt-batch/one': outcomes[0].code: unknown field; expected one of status,",
        ),
        (
            'requirement = "Uploads go in `${UPLOAD_PART}`."\n',
            "",
            "clause 'stt-batch/one': requirement: expected a non-empty string, got nothing",
        ),
        (
            '[family.on.svd-batch]\ntier = "INFO"',
            '[family.on.pii-batch]\ntier = "INFO"',
            "topic.toml:10: family 'path': on.pii-batch: unknown field; "
            "expected one of stt-batch, svd-batch",
        ),
        (
            '[family.on.svd-batch]\ntier = "INFO"',
            '[family.on.svd-batch]\nid = "svd-batch/other"',
            "family 'path': on.svd-batch.id: unknown field; expected one of tier,",
        ),
        (
            'surfaces = ["stt-batch", "svd-batch"]',
            'surfaces = ["stt-batch", "platform", "svd-batch"]',
            "topic.toml:10: family 'path', surface platform: requirement: ${surface_name}: "
            "surface platform has no display name (tables.SURFACE_NAMES)",
        ),
        (
            'slug = "path"',
            'slug = "path"\nid = "stt-batch/path"',
            "family 'path': id: unknown field; expected one of slug, surfaces, on, tier,",
        ),
        (
            '"auth-page § Rate limits"',
            '"@spec § Rate limits"',
            "clause 'stt-batch/one': sources[0]: unknown document key '@spec'; expected one of",
        ),
        ("[[family]]", "[[family]", "topic.toml: not valid TOML:"),
        (
            "[[clause]]",
            "[[clauses]]",
            "topic.toml: clauses: unknown field; expected one of clause, family",
        ),
    ],
)
def test_each_mistake_is_named_with_file_line_entry_and_field(tmp_path, old, new, expected):
    assert old in FAMILY
    message = _error(tmp_path, FAMILY.replace(old, new, 1))
    assert expected in message
    assert "Traceback" not in message


def test_an_id_defined_twice_across_files_is_refused(tmp_path):
    first = _write(tmp_path, FAMILY, "a.toml")
    second = _write(tmp_path, FAMILY.split("[[family]]")[0], "b.toml")
    with pytest.raises(
        DataFileError, match=r"b\.toml:2: clause 'stt-batch/one': also at .*a\.toml:2"
    ):
        load_files([first, second])


def test_the_catalog_lists_every_data_file_once_and_nothing_else():
    on_disk = sorted(p.stem for p in CLAUSE_DIR.glob("*.toml"))
    assert sorted(FILES) == on_disk
    assert not [p.name for p in CLAUSE_DIR.glob("*.py") if p.name != "__init__.py"]
    assert sum(len(from_files(name)) for name in FILES if not name[-1].isdigit()) == len(
        ALL_CLAUSES
    )
    assert from_files("kugel_http") == from_files("kugel_http", "kugel_http_2")


def test_the_data_files_ship_with_the_package():
    """Every TOML file of harness/contract (the catalog and the record tables) is package data."""
    text = (CLAUSE_DIR.parents[2] / "pyproject.toml").read_text(encoding="utf-8")
    globs = tomllib.loads(text)["tool"]["setuptools"]["package-data"]["harness.contract"]
    package = CLAUSE_DIR.parent
    shipped = {p for g in globs for p in package.glob(g)}
    data = sorted(package.rglob("*.toml"))
    assert len(data) > len(FILES)  # the catalog's files and the record tables'
    assert [p.relative_to(package).as_posix() for p in data if p not in shipped] == []
