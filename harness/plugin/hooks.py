"""The pytest hooks of a conformance run, and the ``case`` fixture; nothing else.

``suites/conftest.py`` imports every name here. The work is done by the sibling modules:
:mod:`.session` opens the run, :mod:`.reach` checks the target is there, :mod:`.cost`
estimates a live run, :mod:`.case` is what a case uses, :mod:`.entries` turns a finished
case into its report record, :mod:`.allure` labels it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator

import pytest

from harness.cost_estimate import MARKER_HELP
from harness.outcomes import ExitCode, Outcome, exit_code
from harness.redact import Redactor
from harness.target import ProfileError

from . import allure, cost
from .case import CASE, CaseContext, clause_id
from .entries import case_record, expected_actual
from .reach import CONNECTIVITY_ERRORS, preflight, preflight_services, services
from .session import SESSION, HarnessSession, current, start_session


def pytest_addoption(parser: pytest.Parser) -> None:
    g = parser.getgroup("harness", "voice-API conformance")
    g.addoption("--target", default=None, help="target profile (TOML); default: embedded emulator")
    g.addoption("--report-dir", default=None, help="where conformance.json and friends go")
    g.addoption(
        "--strict-contract",
        action="store_true",
        help="a documented but unexpected alternative fails instead of non-strict",
    )
    g.addoption(
        "--max-cost", type=float, default=None, help="cap in USD for audio sent to a live target"
    )
    g.addoption("--emulator-config", default=None, help="config TOML for the embedded emulator")
    g.addoption("--fixture-dir", default=None, help="audio fixture directory")
    g.addoption(
        "--clause",
        action="append",
        default=[],
        help="run only cases whose clause ID starts with this (repeatable), e.g. svd-batch/",
    )
    g.addoption(
        "--require-complete",
        action="store_true",
        help="exit 3 when any selected case was skipped or could not be tested",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the contract clause this case checks")
    config.addinivalue_line("markers", MARKER_HELP)
    try:
        session = start_session(config)
    except ProfileError as exc:
        _fatal(f"profile error: {exc}", ExitCode.USAGE)
        return
    except Exception as exc:  # noqa: BLE001 - e.g. the embedded emulator failed to start
        _fatal(
            f"harness error while starting: {type(exc).__name__}: {exc}", ExitCode.COULD_NOT_TEST
        )
        return
    config.stash[SESSION] = session
    problems = preflight_services(session.profile)
    if problems and set(problems) >= services(session.profile):
        problem = next(iter(problems.values()))
        session.aborted = problem
        if session.writer is not None:
            session.writer.abort(problem, ExitCode.COULD_NOT_TEST)
        _fatal(problem, ExitCode.COULD_NOT_TEST)
    for service, problem in problems.items():  # the others still run; these are not tested
        session.unreachable[service] = problem
        sys.stderr.write(f"harness: {problem}; its cases will not be tested\n")


def _fatal(message: str, code: ExitCode) -> None:
    sys.stderr.write(f"harness: {message}\n")
    pytest.exit(message, returncode=code)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    prefixes = tuple(config.getoption("--clause") or ())
    if prefixes:
        keep, drop = [], []
        for item in items:
            (keep if (clause_id(item) or "").startswith(prefixes) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep


def pytest_collection_finish(session: pytest.Session) -> None:
    """The selection is final (after -k, --clause, deselection): estimate what it costs."""
    hs = current(session.config)
    if hs is None or not hs.profile.is_live:
        return
    too_much = cost.plan(hs, session.items)
    if too_much:
        if hs.writer is not None:
            hs.writer.abort(too_much, ExitCode.USAGE)
        hs.aborted, hs.abort_code = too_much, ExitCode.USAGE
        sys.stderr.write(f"harness: {too_much}; nothing was sent\n")
        pytest.exit(too_much, returncode=ExitCode.USAGE)


def pytest_unconfigure(config: pytest.Config) -> None:
    hs = current(config)
    if hs is not None and hs.stop_embedded is not None:
        hs.stop_embedded()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    hs = current(session.config)
    if hs is None or session.config.getoption("collectonly"):
        return  # --collect-only lists cases; it runs none, so there is no verdict to give
    code = session_exit_code(hs, int(exitstatus))
    if code == ExitCode.USAGE and not hs.results and not hs.aborted:
        sys.stderr.write("harness: no case matched the selection (-k / --clause)\n")
    if hs.writer is not None:
        cost.record_spend(hs)
        if hs.aborted:
            hs.writer.abort(hs.aborted, code)
        else:
            hs.writer.finish(code)
    session.exitstatus = code


def session_exit_code(hs: HarnessSession, pytest_status: int) -> ExitCode:
    """An aborted run's code; pytest's own trouble; else what the case outcomes decide."""
    if hs.aborted:
        return hs.abort_code
    if pytest_status == pytest.ExitCode.USAGE_ERROR:
        return ExitCode.USAGE
    if pytest_status == pytest.ExitCode.INTERNAL_ERROR:
        return ExitCode.COULD_NOT_TEST
    if pytest_status == pytest.ExitCode.INTERRUPTED and not hs.results:
        return ExitCode.COULD_NOT_TEST
    return exit_code(hs.results.values(), require_complete=hs.require_complete)


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Iterator[CaseContext]:
    hs = current(request.config)
    if hs is None:
        pytest.skip("the harness session did not start")
    ctx = CaseContext(request.node, hs)
    request.node.stash[CASE] = ctx
    try:
        yield ctx
    finally:
        ctx.close()


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    hs = current(item.config)
    if hs is None:
        return
    _redact_report(report, hs.redactor)
    done = report.when == "call" or (report.when == "setup" and not report.passed)
    if not done:
        return
    ctx = item.stash.get(CASE, None)
    if ctx is not None:
        ctx.close()  # sessions still open are recorded now, before the record is made
    record = case_record(item, report, call, ctx, hs)
    ours = record.outcome
    if ours == Outcome.FAILED and report.passed:
        report.outcome = "failed"
        report.longrepr = f"{record.message}\n{expected_actual(record)}"
    elif ours == Outcome.ERROR and report.passed:
        report.outcome = "failed"
        report.longrepr = record.message
    report.harness_outcome = ours  # type: ignore[attr-defined] # see pytest_report_teststatus
    hs.results[record.id] = ours
    if hs.writer is not None:
        hs.writer.add_case(record)
    allure.label(record)
    if (
        ours == Outcome.ERROR
        and call.excinfo is not None
        and isinstance(call.excinfo.value, CONNECTIVITY_ERRORS)
    ):
        problem = preflight(hs.profile, skip=hs.unreachable)
        if problem:
            hs.aborted = problem
            item.session.shouldstop = problem


#: Our outcome -> (progress letter, word) in pytest's terminal, so that its counts are ours.
_TESTSTATUS = {
    Outcome.PASSED: (".", "PASSED"),
    Outcome.FAILED: ("F", "FAILED"),
    Outcome.NON_STRICT: ("n", "NON-STRICT"),
    Outcome.INFORMATIONAL: ("i", "INFORMATIONAL"),
    Outcome.SKIPPED: ("s", "SKIPPED"),
    Outcome.ERROR: ("E", "ERROR"),
}


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """Count each case under our outcome (``non-strict``, ``informational``...), not pytest's."""
    ours = getattr(report, "harness_outcome", None)
    if ours not in _TESTSTATUS:
        return None
    letter, word = _TESTSTATUS[ours]
    return str(ours), letter, word


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        report.longrepr = redactor.text(str(report.longrepr))
    report.sections = [(name, redactor.text(text)) for name, text in report.sections]
