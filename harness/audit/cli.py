"""``harness audit-client``: parse, run every scenario, judge, report, exit."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from harness.outcomes import ExitCode, Outcome, exit_code

from .judge import verdicts
from .options import DEFAULT_TIMEOUT_S, add_options
from .runner import CouldNotAudit, run_client, usable
from .scenarios import BUILTIN, Scenario, load_scenarios


def options_parser() -> argparse.ArgumentParser:
    """The options again, after the scenario names (``SCENARIO... [OPTIONS] -- CMD``)."""
    p = argparse.ArgumentParser(prog="harness audit-client", add_help=False)
    add_options(p)
    p.add_argument("names", nargs="*")
    return p


def audit(args: argparse.Namespace) -> int:
    rest = list(args.rest or [])
    command: list[str] = []
    if "--" in rest:
        i = rest.index("--")
        rest, command = rest[:i], rest[i + 1 :]
    opts = options_parser().parse_args(rest)
    listing = args.list or opts.list
    report_dir = opts.report_dir or args.report_dir
    timeout = opts.timeout or args.timeout or DEFAULT_TIMEOUT_S
    extra_file = opts.scenarios or args.scenarios
    try:
        known: list[Scenario] = [*BUILTIN, *(load_scenarios(extra_file) if extra_file else ())]
    except ValueError as exc:
        print(f"harness audit-client: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    if listing:
        for s in known:
            print(f"{s.name}\t{s.description}\t[{', '.join(s.clauses)}]")
        return ExitCode.CONFORMS
    by_name = {s.name: s for s in known}
    unknown = [n for n in opts.names if n not in by_name]
    if not opts.names or unknown:
        what = f"unknown scenario(s): {', '.join(unknown)}" if unknown else "no scenario named"
        print(f"harness audit-client: {what}; see --list", file=sys.stderr)
        return ExitCode.USAGE
    if not command:
        print("harness audit-client: no command: put it after `--`", file=sys.stderr)
        return ExitCode.USAGE
    results = []
    for name in opts.names:
        scenario = by_name[name]
        try:
            run = run_client(scenario, command, timeout)
            usable(run, timeout)
        except CouldNotAudit as exc:
            print(f"harness audit-client: could not audit: {exc}", file=sys.stderr)
            if report_dir:  # an aborted report: no verdict, the reason kept
                from harness.report import ReportWriter

                writer = ReportWriter(Path(report_dir))
                writer.start({"name": "audit-client: " + " ".join(command), "kind": "client"})
                writer.abort(f"could not audit: {exc}")
            return ExitCode.COULD_NOT_TEST
        vs = verdicts(scenario, run)
        results.append((scenario, run, vs))
        for v in vs:
            print(f"{v.outcome:<13} {scenario.name}  {v.clause}  {v.message}")
    outcomes = [v.outcome for _, _, vs in results for v in vs]
    strict = bool(opts.strict or getattr(args, "strict", False))
    if strict:  # a recommendation the client missed counts as a failure of the audit
        outcomes = [Outcome.FAILED if o is Outcome.NON_STRICT else o for o in outcomes]
    code = exit_code(outcomes)
    if report_dir:
        from .report import write_reports

        write_reports(Path(report_dir), results, command)
        print(f"reports: {report_dir}/conformance.json, index.html, timeline.html, junit.xml")
    return code
