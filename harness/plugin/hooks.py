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
from harness.not_tested import patterns_of
from harness.outcomes import ExitCode, Outcome, exit_code
from harness.redact import Redactor
from harness.target import ProfileError

from . import allure, cost, parallel, schedule
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
        "--real-time",
        action="store_true",
        help="an emulator target models processing at its config's own time_scale, "
        "not x 0.002 (the default for every emulator target)",
    )
    g.addoption(
        "--jobs",
        default="auto",
        help="cases run at once, within the target's limits (default: auto, what the limits "
        "allow; 1: one after another, in collection order)",
    )
    g.addoption(
        "--require-complete",
        action="store_true",
        help="exit 3 when any selected case was skipped or could not be tested",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the contract clause this case checks")
    config.addinivalue_line("markers", MARKER_HELP)
    for line in schedule.MARKERS:
        config.addinivalue_line("markers", line)
    jobs = parse_jobs(config.getoption("--jobs"))
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
    session.jobs = jobs
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


def parse_jobs(value: object) -> int | None:
    """``--jobs`` (see :func:`.schedule.parse_jobs`); a bad value is a usage error."""
    try:
        return schedule.parse_jobs(value)
    except ValueError as exc:
        raise pytest.UsageError(str(exc)) from None


@pytest.hookimpl(tryfirst=True)
def pytest_runtestloop(session: pytest.Session) -> bool | None:
    """``--jobs`` above 1: run the cases on threads (see :mod:`.parallel`)."""
    hs = current(session.config)
    if hs is None or session.config.option.collectonly:
        return None
    if session.testsfailed and not session.config.option.continue_on_collection_errors:
        return None  # pytest's own loop reports the collection errors
    jobs, caps = schedule.resolve_jobs(hs.jobs, hs.profile, hs.limits_found)
    if jobs <= 1 or len(session.items) <= 1:
        return None
    needs = [schedule.needs_of(item) for item in session.items]
    if hs.writer is not None:  # the alone cases run last; the report keeps collection order
        hs.writer.set_order([item.nodeid for item in session.items])
    sys.stderr.write(f"harness: up to {jobs} cases at once; {schedule.describe(needs)}\n")
    parallel.run_parallel(
        session,
        jobs,
        caps,
        needs,
        refresh_caps=lambda: schedule.current_caps(hs.profile, hs.limits_found),
        idle=patterns_of(session.config).idle,
    )
    return True


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_protocol(item: pytest.Item, nextitem: pytest.Item | None) -> bool | None:
    if not parallel.in_worker():
        return None
    parallel.run_protocol(item)
    return True


def _fatal(message: str, code: ExitCode) -> None:
    sys.stderr.write(f"harness: {message}\n")
    pytest.exit(message, returncode=code)


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    hs = current(config)
    if hs is not None and hs.jobs != 1 and config.pluginmanager.hasplugin("timeout"):
        # Cases may run on worker threads, where pytest-timeout's SIGALRM cannot be armed;
        # every wait of a case has its own deadline (the profile's timeout_s).
        for item in items:
            item.add_marker(pytest.mark.timeout(0))
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
    if hs is not None and hs.restore_speed is not None:
        try:
            hs.restore_speed()  # a `harness emulate` target gets its own speed back
        except Exception as exc:  # noqa: BLE001 - the run is over; say so, do not fail it
            sys.stderr.write(f"harness: could not restore the emulator's speed: {exc}\n")
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
        elif exitstatus == pytest.ExitCode.INTERRUPTED:
            hs.writer.stop_early(code)  # what finished is kept: a partial run, never CONFORMS
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
    if pytest_status == pytest.ExitCode.INTERRUPTED:
        # Stopped early: violations found so far still fail the run; otherwise not all of the
        # selection was tested, which is never a pass.
        found = exit_code(hs.results.values()) if hs.results else ExitCode.CONFORMS
        return ExitCode.VIOLATIONS if found == ExitCode.VIOLATIONS else ExitCode.COULD_NOT_TEST
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
    with hs.lock:  # the reproducer writer is shared by cases running on threads
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
    report.harness_pending = (hs, record)  # type: ignore[attr-defined] # written when logged
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


def pytest_runtest_logreport(report: pytest.TestReport) -> None:
    """Cases reach the report file in the order they are logged (collection order, also
    when they ran on threads)."""
    pending = getattr(report, "harness_pending", None)
    if pending is None:
        return
    del report.harness_pending  # type: ignore[attr-defined]
    hs, record = pending
    if hs.writer is not None:
        hs.writer.add_case(record)


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
