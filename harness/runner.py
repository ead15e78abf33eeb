"""``harness run`` and ``harness replay``: run the suites with pytest, then write the reports.

The suites run in this process through ``pytest.main``; ``harness.plugin``
(loaded by ``suites/conftest.py``) starts the embedded emulator or reads the
profile, records every case into ``conformance.json`` as it goes, and sets the
exit code (:class:`harness.outcomes.ExitCode`): 0 conforms, 1 violations, 2 usage/profile
error, 3 could not test.
"""

from __future__ import annotations

import re
import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from harness.outcomes import ExitCode

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"


@dataclass
class RunOptions:
    target: str | None = None
    report_base: str | None = "reports"  # replay: None = beside the replayed report
    keyword: str | None = None
    clauses: list[str] = field(default_factory=list)
    strict: bool = False
    max_cost: float | None = None
    emulator_config: str | None = None
    nodeids: list[str] = field(default_factory=list)  # replay: exact cases
    require_complete: bool = False  # any case skipped or not tested: exit 3
    real_time: bool = False  # an emulator target processes at its config's speed, not fast
    jobs: str = "auto"  # cases at once (auto: what the target's limits allow; 1: serial)
    quiet: bool = False
    extra: list[str] = field(default_factory=list)


def pytest_args(opts: RunOptions, run_dir: Path) -> list[str]:
    args = list(opts.nodeids) if opts.nodeids else [str(SUITES_DIR)]
    args += [
        "--rootdir",
        str(SUITES_DIR.parent),
        "-p",
        "no:cacheprovider",
        "-o",
        "addopts=",
        "-qq",  # progress only: our summary table is the one set of counts
        "--no-summary",
        "--tb=line",
        "-W",
        "ignore::DeprecationWarning",
        "--report-dir",
        str(run_dir),
        "--junitxml",
        str(run_dir / "junit.xml"),
        "--alluredir",
        str(run_dir / "allure-results"),
        "--allure-no-capture",  # captured output is not redacted by us: keep it out
    ]
    if opts.target:
        args += ["--target", opts.target]
    if opts.emulator_config:
        args += ["--emulator-config", opts.emulator_config]
    if opts.keyword:
        args += ["-k", opts.keyword]
    for c in opts.clauses:
        args += ["--clause", c]
    if opts.strict:
        args.append("--strict-contract")
    if opts.max_cost is not None:
        args += ["--max-cost", str(opts.max_cost)]
    if opts.require_complete:
        args.append("--require-complete")
    if opts.jobs != "auto":
        args += ["--jobs", str(opts.jobs)]
    if opts.real_time:
        args.append("--real-time")
    if opts.quiet:
        args.append("-qq")
    return args + list(opts.extra)


def run(opts: RunOptions) -> int:
    """Run the suites; returns the exit code. Reports land in ``<report_base>/<timestamp>/``."""
    from harness.report import make_run_dir
    from harness.report.writer import latest_name

    if not SUITES_DIR.is_dir():
        print(f"harness: error: the suites folder {SUITES_DIR} is missing", file=sys.stderr)
        return ExitCode.COULD_NOT_TEST
    if opts.target:
        problem = _check_profile(opts.target)
        if problem:
            print(f"harness: error: {problem}", file=sys.stderr)
            return ExitCode.USAGE
    previous = latest_name(opts.report_base or "reports")
    run_dir = make_run_dir(opts.report_base or "reports")
    code = _pytest_main(pytest_args(opts, run_dir))
    return finish(run_dir, code, quiet=opts.quiet, previous=previous)


def _check_profile(path: str) -> str | None:
    from harness.target import ProfileError, load_profile

    try:
        load_profile(path)
    except ProfileError as exc:
        return f"profile error: {exc}"
    return None


def _pytest_main(args: list[str]) -> int:
    try:
        status = int(pytest.main(args))
    except SystemExit as exc:  # pytest.exit() from a hook outside the session
        status = int(exc.code or 0)
    # pytest's own codes, when our plugin could not set one of ours:
    return {
        int(pytest.ExitCode.USAGE_ERROR): ExitCode.USAGE,
        int(pytest.ExitCode.NO_TESTS_COLLECTED): ExitCode.USAGE,
        int(pytest.ExitCode.INTERNAL_ERROR): ExitCode.COULD_NOT_TEST,
    }.get(status, status)


def finish(run_dir: Path, code: int, *, quiet: bool = False, previous: str | None = None) -> int:
    """Render HTML and the terminal summary from whatever ``conformance.json`` holds.

    A run that matched no case leaves no report: its folder is removed and ``latest``
    points where it pointed before (``previous``).
    """
    from harness.report import ReportFormatError, load_run, terminal_summary, write_html
    from harness.report.writer import discard_run_dir

    report = run_dir / "conformance.json"
    if not report.exists():
        print(
            f"harness: no report was written in {run_dir} (see the messages above)", file=sys.stderr
        )
        return code if code != ExitCode.CONFORMS else ExitCode.COULD_NOT_TEST
    try:
        result = load_run(report)
    except ReportFormatError as exc:
        print(f"harness: the report could not be read back: {exc}", file=sys.stderr)
        return ExitCode.COULD_NOT_TEST
    if not result.cases and not result.aborted and code in (ExitCode.CONFORMS, ExitCode.USAGE):
        discard_run_dir(run_dir, previous)
        print("harness: nothing was run, so no report was written", file=sys.stderr)
        return ExitCode.USAGE
    write_html(result, run_dir / "index.html")
    if not quiet:
        paths = [str(run_dir / n) for n in ("conformance.json", "index.html", "junit.xml")]
        paths.append(str(run_dir / "allure-results"))
        print(terminal_summary(result, paths=paths))
    return code


def replay(case_id: str, report_dir: str | Path, opts: RunOptions) -> int:
    """Run one case of an earlier report again, against the target that report recorded.

    The target is ``--target`` if given, else the report's profile file, else the
    ``--emulator-config`` the report's run used (else the default embedded emulator).
    The report is the directory given (``reports/latest`` only by default); the replay's
    own run folder goes beside it unless ``--report-dir`` says otherwise.
    """
    from harness.report import ReportFormatError, load_run, resolve_latest, resolve_report_dir

    try:
        where = resolve_report_dir(report_dir).resolve()
        previous = load_run(where)
    except (ReportFormatError, FileNotFoundError, OSError) as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    matches = [c for c in previous.cases if c.id == case_id]
    if not matches:
        close = [c.id for c in previous.cases if case_id in c.id][:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        print(f"harness: error: no case {case_id!r} in {where}{hint}", file=sys.stderr)
        return ExitCode.USAGE
    if not matches[0].nodeid:
        print(f"harness: error: case {case_id!r} in {where} has no nodeid", file=sys.stderr)
        return ExitCode.USAGE
    problem = _replay_target(previous.target, opts)
    if problem:
        print(f"harness: error: {problem}", file=sys.stderr)
        return ExitCode.USAGE
    opts.strict = opts.strict or previous.strict
    opts.report_base = opts.report_base or str(where.parent)
    opts.nodeids = [str(SUITES_DIR.parent / matches[0].nodeid)]
    code = run(opts)
    try:
        again = load_run(resolve_latest(opts.report_base))
        now = next((c.outcome for c in again.cases if c.id == case_id), "not run")
    except (ReportFormatError, FileNotFoundError, OSError):
        return code
    if not opts.quiet:
        print(f"replay of {case_id}: {now} (the report at {where} had: {matches[0].outcome})")
    return code


def _replay_target(target: object, opts: RunOptions) -> str | None:
    """Fill ``opts`` with the report's target unless the user named one; a problem or None."""
    if opts.target or opts.emulator_config:
        return None
    profile = getattr(target, "profile", None)
    config = getattr(target, "emulator_config", None)
    older = re.fullmatch(r"<embedded emulator, config (.+)>", profile or "")
    if config is None and older and older.group(1) != "default":
        config = older.group(1)  # a report written before `emulator_config` was recorded
    if profile and not profile.startswith("<"):
        if not Path(profile).is_file():
            return f"the report's target profile {profile} no longer exists; give --target"
        opts.target = profile
    elif config:
        if not Path(config).is_file():
            return (
                f"the report's emulator config {config} no longer exists; "
                "give --emulator-config or --target"
            )
        opts.emulator_config = config
    return None
