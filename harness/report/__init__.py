"""Reports of a conformance run: ``conformance.json`` and what is derived from it.

Reads results only; imports ``harness.contract`` and nothing else of the project's
(never the emulator). The runner calls :class:`ReportWriter`, :func:`make_run_dir`,
:func:`write_html` and :func:`terminal_summary`; ``harness diff`` and ``harness report``
call :func:`diff_runs`, :func:`load_run` and :func:`render_allure`.
"""

from .allure import AllureResult, render_allure
from .diff import RunDiff, diff_runs
from .html import render_html, write_html
from .model import (
    OUTCOMES,
    REPORT_FILE,
    Case,
    LedgerEntry,
    ReportFormatError,
    Run,
    load_run,
    parse_run,
)
from .summary import terminal_summary
from .writer import ReportWriter, make_run_dir, resolve_latest, resolve_report_dir

__all__ = [
    "OUTCOMES",
    "REPORT_FILE",
    "AllureResult",
    "Case",
    "LedgerEntry",
    "ReportFormatError",
    "ReportWriter",
    "Run",
    "RunDiff",
    "diff_runs",
    "load_run",
    "make_run_dir",
    "parse_run",
    "render_allure",
    "render_html",
    "resolve_latest",
    "resolve_report_dir",
    "terminal_summary",
    "write_html",
]
