"""suites/_params.py: the one helper that spreads a case over surfaces, each marked with its clause."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "suites"))

from _params import surface_params  # noqa: E402

# `clause` is registered by the suites' plugin, which these tests do not load
pytestmark = pytest.mark.filterwarnings("ignore::pytest.PytestUnknownMarkWarning")


def _shown(params: list) -> list[tuple]:
    return [(p.id, p.values, p.marks[0].args[0]) for p in params]


def test_a_slug_gives_each_surface_its_own_clause():
    assert _shown(surface_params("missing-key", ("stt-batch", "svd-batch"), "x")) == [
        ("stt-batch", ("stt-batch", "x"), "stt-batch/missing-key"),
        ("svd-batch", ("svd-batch", "x"), "svd-batch/missing-key"),
    ]


def test_a_clause_id_marks_every_surface_and_values_multiply():
    assert _shown(surface_params("velma/end-of-stream", ("stt-stream",))) == [
        ("stt-stream", ("stt-stream",), "velma/end-of-stream")
    ]
    assert _shown(surface_params("bad-gateway-502", ("stt-batch",), values=("a", "b"))) == [
        ("stt-batch-a", ("stt-batch", "a"), "stt-batch/bad-gateway-502"),
        ("stt-batch-b", ("stt-batch", "b"), "stt-batch/bad-gateway-502"),
    ]
