"""One vocabulary: outcomes with their severity, exit codes decided in one place."""

from __future__ import annotations

import json
from types import SimpleNamespace

import pytest

from harness.checks import worst as worst_verdict
from harness.outcomes import BY_SEVERITY, ExitCode, Outcome, exit_code, worst
from harness.plugin.hooks import session_exit_code
from harness.report.model import SEVERITY, Aborted, Case, Run, Target
from harness.report.writer import exit_code_for


def test_severity_is_one_order_worst_first():
    assert [str(o) for o in BY_SEVERITY] == [
        "failed",
        "error",
        "non-strict",
        "informational",
        "passed",
        "skipped",
    ]
    assert SEVERITY == BY_SEVERITY
    assert worst(["passed", "non-strict", "informational"]) is Outcome.NON_STRICT
    assert worst(["error", "failed"]) is Outcome.FAILED
    assert worst([]) is None and worst_verdict([]) is Outcome.PASSED


def test_outcomes_and_exit_codes_are_written_as_plain_json():
    assert (
        json.dumps({"o": Outcome.NON_STRICT, "x": ExitCode.USAGE}) == '{"o": "non-strict", "x": 2}'
    )
    assert Outcome("error").tested is False and Outcome("informational").tested is True


@pytest.mark.parametrize(
    ("outcomes", "complete", "code"),
    [
        (["passed", "non-strict", "informational"], False, ExitCode.CONFORMS),
        (["passed", "failed", "error"], False, ExitCode.VIOLATIONS),
        ([], False, ExitCode.USAGE),
        (["skipped", "error"], False, ExitCode.COULD_NOT_TEST),
        (["passed", "skipped"], False, ExitCode.CONFORMS),
        (["passed", "skipped"], True, ExitCode.COULD_NOT_TEST),
    ],
)
def test_the_report_and_the_plugin_decide_the_exit_code_alike(outcomes, complete, code):
    assert exit_code(outcomes, require_complete=complete) is code
    run = Run(Target("t"), cases=[Case(f"c/x::{i}", "c/x", "c", o) for i, o in enumerate(outcomes)])
    assert exit_code_for(run, require_complete=complete) == code
    hs = SimpleNamespace(aborted=None, results=dict(enumerate(outcomes)), require_complete=complete)
    assert session_exit_code(hs, 0) == code  # type: ignore[arg-type]


def test_an_aborted_run_keeps_its_own_code():
    run = Run(Target("t"), aborted=Aborted("target unreachable", ExitCode.COULD_NOT_TEST))
    assert exit_code_for(run) == 3
    hs = SimpleNamespace(aborted="too dear", abort_code=ExitCode.USAGE, results={})
    assert session_exit_code(hs, 0) is ExitCode.USAGE  # type: ignore[arg-type]
