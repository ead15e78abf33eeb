"""``harness run`` and ``harness replay``: run the suites with pytest, then write the reports.

The suites run in this process through ``pytest.main``; ``harness.suite_plugin``
(loaded by ``suites/conftest.py``) starts the embedded emulator or reads the
profile, records every case into ``conformance.json`` as it goes, and sets the
exit code: 0 conforms, 1 violations, 2 usage/profile error, 3 could not test.
"""

from __future__ import annotations

import sys
from dataclasses import dataclass, field
from pathlib import Path

import pytest

EXIT_OK, EXIT_VIOLATIONS, EXIT_USAGE, EXIT_HARNESS = 0, 1, 2, 3
SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"


@dataclass
class RunOptions:
    target: str | None = None
    report_base: str = "reports"
    keyword: str | None = None
    clauses: list[str] = field(default_factory=list)
    strict: bool = False
    max_cost: float | None = None
    emulator_config: str | None = None
    nodeids: list[str] = field(default_factory=list)  # replay: exact cases
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
        "-q",
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
    if opts.quiet:
        args.append("-qq")
    return args + list(opts.extra)


def run(opts: RunOptions) -> int:
    """Run the suites; returns the exit code. Reports land in ``<report_base>/<timestamp>/``."""
    from harness.report import make_run_dir

    if not SUITES_DIR.is_dir():
        print(f"harness: error: the suites folder {SUITES_DIR} is missing", file=sys.stderr)
        return EXIT_HARNESS
    if opts.target:
        problem = _check_profile(opts.target)
        if problem:
            print(f"harness: error: {problem}", file=sys.stderr)
            return EXIT_USAGE
    run_dir = make_run_dir(opts.report_base)
    code = _pytest_main(pytest_args(opts, run_dir))
    return finish(run_dir, code, quiet=opts.quiet)


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
        int(pytest.ExitCode.USAGE_ERROR): EXIT_USAGE,
        int(pytest.ExitCode.NO_TESTS_COLLECTED): EXIT_USAGE,
        int(pytest.ExitCode.INTERNAL_ERROR): EXIT_HARNESS,
    }.get(status, status)


def finish(run_dir: Path, code: int, *, quiet: bool = False) -> int:
    """Render HTML and the terminal summary from whatever ``conformance.json`` holds."""
    from harness.report import ReportFormatError, load_run, terminal_summary, write_html

    report = run_dir / "conformance.json"
    if not report.exists():
        print(
            f"harness: no report was written in {run_dir} (see the messages above)", file=sys.stderr
        )
        return code if code != EXIT_OK else EXIT_HARNESS
    try:
        result = load_run(report)
    except ReportFormatError as exc:
        print(f"harness: the report could not be read back: {exc}", file=sys.stderr)
        return EXIT_HARNESS
    write_html(result, run_dir / "index.html")
    if not quiet:
        paths = [str(run_dir / n) for n in ("conformance.json", "index.html", "junit.xml")]
        paths.append(str(run_dir / "allure-results"))
        print(terminal_summary(result, paths=paths))
    if code == EXIT_USAGE and result.summary.get("total", 0) == 0 and not result.aborted:
        print("harness: no case matched the selection (-k / --clause)", file=sys.stderr)
    return code


def replay(case_id: str, report_dir: str | Path, opts: RunOptions) -> int:
    """Run one case of an earlier report again, against the same target."""
    from harness.report import ReportFormatError, load_run, resolve_report_dir

    try:
        where = resolve_report_dir(report_dir)
        previous = load_run(where)
    except (ReportFormatError, FileNotFoundError, OSError) as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    matches = [c for c in previous.cases if c.id == case_id]
    if not matches:
        close = [c.id for c in previous.cases if case_id in c.id][:5]
        hint = f"; similar: {', '.join(close)}" if close else ""
        print(f"harness: error: no case {case_id!r} in {where}{hint}", file=sys.stderr)
        return EXIT_USAGE
    nodeid = matches[0].nodeid
    if not opts.target:
        profile = previous.target.profile
        if profile and not profile.startswith("<"):
            opts.target = profile
    opts.nodeids = [str(SUITES_DIR.parent / nodeid)]
    return run(opts)
