"""The `harness` command: output shapes and clear errors (exit 2, no traceback)."""

from __future__ import annotations

import json

from harness.cli import main


def test_contract_list_json_is_every_clause(capsys):
    from harness.contract import all_clauses

    assert main(["contract", "list", "--json"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert [d["id"] for d in data] == [c.id for c in all_clauses()]


def test_contract_list_filters_by_surface(capsys):
    assert main(["contract", "list", "--json", "--surface", "svd-batch"]) == 0
    data = json.loads(capsys.readouterr().out)
    assert data and {d["surface"] for d in data} == {"svd-batch"}


def test_contract_list_table_and_summary(capsys):
    assert main(["contract", "list"]) == 0
    out = capsys.readouterr().out
    assert "svd-batch/too-short" in out
    assert main(["contract", "list", "--summary"]) == 0
    assert "svd-batch" in capsys.readouterr().out


def test_contract_show_prints_requirement_sources_and_alternatives(capsys):
    assert main(["contract", "show", "svd-batch/too-short"]) == 0
    out = capsys.readouterr().out
    assert "422" in out and "source:" in out
    from harness.contract import disputed

    clause = disputed()[0]
    assert main(["contract", "show", clause.id]) == 0
    out = capsys.readouterr().out
    assert f"preferred: {clause.preferred}" in out


def test_contract_show_names_the_file_and_line_of_the_clause(capsys):
    from harness.contract import get

    clause = get("stt-batch/missing-key")  # stamped out per surface, ID not literal
    assert main(["contract", "show", clause.id]) == 0
    out = capsys.readouterr().out
    assert f"defined at: {clause.defined_at}" in out
    assert clause.defined_at and clause.defined_at.startswith("harness/contract/clauses/")
    assert main(["contract", "show", clause.id, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["defined_at"] == clause.defined_at


def test_unknown_clause_is_a_usage_error(capsys):
    assert main(["contract", "show", "svd-batch/too-shor"]) == 2
    err = capsys.readouterr().err
    assert "no clause 'svd-batch/too-shor'" in err and "svd-batch/too-short" in err
    assert "Traceback" not in err


def test_bad_surface_names_the_allowed_values(capsys):
    assert main(["contract", "list", "--surface", "nope"]) == 2
    err = capsys.readouterr().err
    assert "--surface 'nope'" in err and "svd-batch" in err


def test_fixture_list_without_a_build_is_a_usage_error(tmp_path, capsys):
    assert main(["fixtures", "list", "--dir", str(tmp_path)]) == 2
    assert "harness fixtures build" in capsys.readouterr().err
