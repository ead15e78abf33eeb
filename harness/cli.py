"""The ``harness`` command. Thin: parses arguments and delegates.

Exit codes (shared by every subcommand, :class:`harness.outcomes.ExitCode`):
  0  success / target conforms
  1  contract violations found
  2  usage, profile or input error (the message says which field and what was expected)
  3  target unreachable or harness error
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from . import __version__
from .audit.options import add_options as add_audit_options
from .outcomes import ExitCode

if TYPE_CHECKING:
    from .contract.model import Alternative, Clause


class UsageError(Exception):
    """Bad input from the user: printed as one line, exit 2."""


# --------------------------------------------------------------------------- contract


def _cmd_contract_list(args: argparse.Namespace) -> int:
    from .contract import all_clauses
    from .contract.export import clause_to_dict, describe_outcomes
    from .contract.model import Surface, Tier
    from .textable import render

    clauses = list(all_clauses())
    if args.surface:
        try:
            surface = Surface(args.surface)
        except ValueError:
            allowed = ", ".join(s.value for s in Surface)
            raise UsageError(
                f"--surface {args.surface!r} is not a surface; allowed: {allowed}"
            ) from None
        clauses = [c for c in clauses if c.surface == surface]
    if args.tier:
        try:
            tier = Tier(args.tier.upper())
        except ValueError:
            allowed = ", ".join(t.value for t in Tier)
            raise UsageError(f"--tier {args.tier!r} is not a tier; allowed: {allowed}") from None
        clauses = [c for c in clauses if c.tier == tier]
    if args.disputed:
        clauses = [c for c in clauses if c.disputed]
    if args.tag:
        clauses = [c for c in clauses if args.tag in c.tags]

    if args.json:
        json.dump([clause_to_dict(c) for c in clauses], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return ExitCode.CONFORMS
    if args.summary:
        _print_summary(clauses)
        return ExitCode.CONFORMS
    rows = [(c.id, c.tier.value, describe_outcomes(c), c.requirement) for c in clauses]
    print(render(("id", "tier", "keeps it", "requirement"), rows))
    print(f"\n{len(clauses)} clauses")
    return ExitCode.CONFORMS


def _print_summary(clauses: Sequence[object]) -> None:
    from collections import Counter

    from .textable import render

    by_surface = Counter((c.surface.value, c.tier.value) for c in clauses)  # type: ignore[attr-defined]
    surfaces = sorted({s for s, _ in by_surface})
    rows = []
    for s in surfaces:
        counts = [by_surface.get((s, t), 0) for t in ("MUST", "SHOULD", "INFO")]
        disputed = sum(1 for c in clauses if c.surface.value == s and c.disputed)  # type: ignore[attr-defined]
        rows.append((s, *counts, disputed, sum(counts)))
    print("Contract catalog")
    print(render(("surface", "MUST", "SHOULD", "INFO", "disputed", "total"), rows))
    print(f"\n{len(clauses)} clauses; `harness contract show ID` prints one in full.")


def _print_backing(item: Clause | Alternative, indent: str) -> None:
    """A clause's (or one documented side's) sources, then the outcomes that keep it."""
    for s in item.sources:
        print(f"{indent}source: {s}")
    for o in item.outcomes:
        print(f"{indent}keeps it: {o.describe()}")


def _cmd_contract_show(args: argparse.Namespace) -> int:
    from .contract import UnknownClauseError, get
    from .contract.export import clause_to_dict

    try:
        clause = get(args.id)
    except UnknownClauseError as exc:
        raise UsageError(str(exc)) from None
    if args.json:
        json.dump(clause_to_dict(clause), sys.stdout, indent=2)
        sys.stdout.write("\n")
        return ExitCode.CONFORMS
    print(f"{clause.id}  [{clause.tier.value}]  surface: {clause.surface.value}")
    if clause.defined_at:
        print(f"  defined at: {clause.defined_at}")
    print(f"  {clause.requirement}")
    _print_backing(clause, "  ")
    if clause.disputed:
        row = f" (contradiction #{clause.contradiction})" if clause.contradiction else ""
        print(f"  disputed{row}; preferred: {clause.preferred} — {clause.rationale}")
        spec = clause.spec_side
        print(
            f'  spec-literal side: {spec} (the emulator\'s [alternatives] preset = "specs")'
            if spec
            else '  spec-literal side: none (no spec file takes a side; preset "specs" keeps '
            "the preferred one)"
        )
        for a in clause.alternatives:
            mark = " [spec-literal]" if a.spec_literal else ""
            print(f"  - {a.key}{mark}: {a.summary}")
            _print_backing(a, "      ")
    if clause.tags:
        print(f"  tags: {', '.join(clause.tags)}")
    return ExitCode.CONFORMS


# --------------------------------------------------------------------------- fixtures


def _fixture_dir(arg: str | None) -> Path:
    from .audio import DEFAULT_FIXTURE_DIR

    return Path(arg) if arg else Path(DEFAULT_FIXTURE_DIR)


def _cmd_fixtures_build(args: argparse.Namespace) -> int:
    from .audio import build

    out = _fixture_dir(args.out)
    manifest = build(out, force=args.force)
    print(f"{len(manifest.entries)} fixtures in {out}: {manifest.stats.summary()}")
    print(f"manifest: {out / 'manifest.json'}")
    return ExitCode.CONFORMS


def _cmd_fixtures_list(args: argparse.Namespace) -> int:
    from .audio import load_manifest
    from .textable import render

    where = _fixture_dir(args.dir)
    if not (where / "manifest.json").exists():
        raise UsageError(f"no manifest.json in {where}; run `harness fixtures build` first")
    manifest = load_manifest(where)
    entries = list(manifest.entries)
    if args.tag:
        entries = [e for e in entries if args.tag in e.tags]
    if args.clause:
        entries = [e for e in entries if args.clause in e.clauses]
    if args.json:
        json.dump([e.to_json() for e in entries], sys.stdout, indent=2)
        sys.stdout.write("\n")
        return ExitCode.CONFORMS
    rows = [
        (
            e.id,
            e.kind,
            e.audio_format,
            e.sample_rate,
            e.num_channels,
            f"{e.duration_s:.3f}",
            e.bytes,
            ",".join(e.tags),
        )
        for e in entries
    ]
    headers = ("id", "kind", "format", "rate", "ch", "duration_s", "bytes", "tags")
    print(render(headers, rows, max_width=48))
    print(f"\n{len(entries)} fixtures")
    return ExitCode.CONFORMS


# --------------------------------------------------------------------------- emulator


def _cmd_emulate(args: argparse.Namespace) -> int:
    from .emulator import ConfigError, load_emulator_config, serve
    from .emulator.config import ROLES
    from .emulator.profile import profile_toml
    from .emulator.server import BindError, free_port, is_loopback_host

    if not is_loopback_host(args.host) and not args.public:
        raise UsageError(
            f"--host {args.host!r} is not a loopback address; add --public to serve on it"
        )
    try:
        config = load_emulator_config(args.config)
    except ConfigError as exc:
        raise UsageError(str(exc)) from None
    port = (
        args.port
        if args.port
        else free_port(args.host if args.host != "localhost" else "127.0.0.1")
    )
    shown_host = f"[{args.host}]" if ":" in args.host else args.host
    base_url = f"http://{shown_host}:{port}"

    def ready(state: object) -> None:
        token = state.token  # type: ignore[attr-defined]
        print(f"emulator: serving Velma-2, Platform and KugelAudio surfaces on {base_url}")
        for role in ROLES:
            key = config.key_for_role(role)
            print(f"  key {role:<16} {key if key is not None else '(none configured)'}")
        account = config.platform.default_account
        if account is not None:
            print(f"  platform         accountuuid {account.accountuuid}  apikey {account.apikey}")
        for role, key in sorted(config.kugel.keys.items()):
            print(f"  kugel {role:<14} {key}")
        print(f"  control          {base_url}/_emulator/state  (X-Emulator-Token: {token})")
        if args.write_profile:
            Path(args.write_profile).write_text(profile_toml(base_url, config, token))
            print(f"  profile          {args.write_profile}")
        sys.stdout.flush()

    try:
        serve(args.host, port, config, on_ready=ready)
    except BindError as exc:
        raise UsageError(f"{exc} (is the port in use?)") from None
    return ExitCode.CONFORMS


# --------------------------------------------------------------------------- reports


def _load_report(path: str) -> object:
    from .report import ReportFormatError, load_run

    try:
        return load_run(path)
    except ReportFormatError as exc:
        raise UsageError(str(exc)) from None


def _cmd_diff(args: argparse.Namespace) -> int:
    from .report import diff_runs

    baseline = _load_report(args.baseline)
    current = _load_report(args.current)
    result = diff_runs(baseline, current, allow_missing=args.allow_missing)  # type: ignore[arg-type]
    if args.json:
        json.dump(result.to_dict(), sys.stdout, indent=2)
        sys.stdout.write("\n")
    else:
        print(result.format_text())
    return ExitCode.VIOLATIONS if result.has_regressions else ExitCode.CONFORMS


def _cmd_report(args: argparse.Namespace) -> int:
    from .report import render_allure, resolve_report_dir, terminal_summary, write_html

    try:
        where = resolve_report_dir(args.dir)
    except FileNotFoundError as exc:
        raise UsageError(f"--dir: {exc}") from None
    html = args.html or not args.allure
    status = ExitCode.CONFORMS
    paths: list[Path] = [where / "conformance.json"]
    if html:
        run = _load_report(str(where))
        paths.append(write_html(run, where / "index.html"))  # type: ignore[arg-type]
        print(terminal_summary(run, paths))  # type: ignore[arg-type]
    if args.allure:
        result = render_allure(where / "allure-results", where / "allure-report")
        if result.ok:
            print(result.message)
        else:
            print(f"harness: error: {result.message}", file=sys.stderr)
            status = ExitCode.USAGE
    return status


# --------------------------------------------------------------------------- run / replay


def _run_options(args: argparse.Namespace) -> object:
    from .runner import RunOptions

    if args.max_cost is not None and args.max_cost < 0:
        raise UsageError(f"--max-cost must be >= 0, got {args.max_cost}")
    return RunOptions(
        target=args.target,
        report_base=args.report_dir,
        keyword=getattr(args, "k", None),
        clauses=list(getattr(args, "clause", None) or []),
        strict=args.strict,
        max_cost=args.max_cost,
        emulator_config=args.emulator_config,
        require_complete=bool(getattr(args, "require_complete", False)),
        real_time=bool(getattr(args, "real_time", False)),
        jobs=_jobs(getattr(args, "jobs", "auto")),
    )


def _jobs(value: str) -> str:
    """``--jobs``: ``auto`` or a whole number of at least 1 (checked here, before any run)."""
    from .plugin.schedule import parse_jobs

    try:
        jobs = parse_jobs(value)
    except ValueError as exc:
        raise UsageError(str(exc)) from None
    return "auto" if jobs is None else str(jobs)


def _cmd_run(args: argparse.Namespace) -> int:
    from .runner import run

    return run(_run_options(args))  # type: ignore[arg-type]


def _cmd_replay(args: argparse.Namespace) -> int:
    from .runner import replay

    return replay(args.case_id, args.report, _run_options(args))  # type: ignore[arg-type]


def _add_run_arguments(p: argparse.ArgumentParser) -> None:
    p.add_argument("--target", help="target profile TOML (default: the embedded emulator)")
    p.add_argument(
        "--report-dir", default="reports", help="where run folders go (default: reports)"
    )
    p.add_argument(
        "--strict",
        action="store_true",
        help="a documented alternative other than the expected one fails the run",
    )
    p.add_argument(
        "--max-cost", type=float, help="cap (USD) on audio sent to a live target; over it, stop"
    )
    p.add_argument("--emulator-config", help="config TOML for the embedded emulator")
    p.add_argument(
        "--real-time",
        action="store_true",
        help="an emulator target models processing at its config's own time_scale (real time "
        "by default) instead of the run's fast one",
    )
    p.add_argument(
        "--require-complete",
        action="store_true",
        help="exit 3 when any selected case was skipped or could not be tested (release gates)",
    )
    p.add_argument(
        "--jobs",
        default="auto",
        metavar="N",
        help="cases run at once, kept within the target's concurrency limits; cases that need "
        "the target to themselves run alone (default: auto, what the limits allow; 1: one "
        "after another)",
    )


# --------------------------------------------------------------------------- load


def _cmd_load(args: argparse.Namespace) -> int:
    import shlex

    from .load.runner import LoadError, LoadOptions, run_load

    if args.max_cost is not None and args.max_cost < 0:
        raise UsageError(f"--max-cost must be >= 0, got {args.max_cost}")
    options = LoadOptions(
        name=args.scenario,
        target=args.target,
        users=args.users,
        duration=args.duration,
        report_dir=args.report_dir,
        allow_live=args.allow_live,
        max_cost=args.max_cost,
        extra=[a for chunk in args.locust_args or [] for a in shlex.split(chunk)]
        + list(args.locust_tail),
        **_load_distributed(args),
    )
    try:
        return run_load(options)
    except LoadError as exc:
        raise UsageError(str(exc)) from None


def _load_distributed(args: argparse.Namespace) -> dict[str, object]:
    """``harness load``: --workers / --master / --worker and the capacity search's options."""
    if sum([bool(args.workers), args.master, args.worker]) > 1:
        raise UsageError("--workers, --master and --worker: choose one")
    if args.workers is not None and args.workers < 1:
        raise UsageError(f"--workers must be at least 1, got {args.workers}")
    if args.worker and not args.master_host:
        raise UsageError("--worker needs --master-host HOST (the machine running --master)")
    if args.master_host and not args.worker:
        raise UsageError("--master-host is for --worker")
    search = {
        k: getattr(args, k)
        for k in ("surface", "start", "step", "max", "hold_s", "slo")
        if getattr(args, k) not in (None, [])
    }
    return {
        "workers": args.workers or (args.expect_workers if args.master else 0) or 0,
        "role": "master" if args.master else "worker" if args.worker else "local",
        "master_host": args.master_host or "127.0.0.1",
        "master_port": args.master_port or 0,
        "capacity": search,
    }


def _cmd_audit_client(args: argparse.Namespace) -> int:
    from .audit.cli import audit

    return audit(args)


# --------------------------------------------------------------------------- parser


def build_parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="harness",
        description="Conformance and load-testing harness for voice-AI APIs.",
    )
    p.add_argument("--version", action="version", version=f"harness {__version__}")
    sub = p.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    contract = sub.add_parser("contract", help="the documented contract catalog")
    csub = contract.add_subparsers(dest="contract_command", metavar="SUBCOMMAND")
    csub.required = True
    cl = csub.add_parser("list", help="list clauses (table, or --json)")
    cl.add_argument("--json", action="store_true", help="machine-readable output")
    cl.add_argument("--summary", action="store_true", help="counts per surface and tier")
    cl.add_argument("--surface", help="only this surface (e.g. svd-batch)")
    cl.add_argument("--tier", help="only this tier (MUST, SHOULD, INFO)")
    cl.add_argument("--tag", help="only clauses with this tag")
    cl.add_argument("--disputed", action="store_true", help="only clauses the documents dispute")
    cl.set_defaults(func=_cmd_contract_list)
    cs = csub.add_parser("show", help="one clause in full")
    cs.add_argument("id", help="clause ID, e.g. svd-batch/too-short")
    cs.add_argument("--json", action="store_true")
    cs.set_defaults(func=_cmd_contract_show)

    fixtures = sub.add_parser("fixtures", help="audio fixtures")
    fsub = fixtures.add_subparsers(dest="fixtures_command", metavar="SUBCOMMAND")
    fsub.required = True
    fb = fsub.add_parser("build", help="write the fixtures and manifest.json (cached)")
    fb.add_argument("--out", help="output directory (default: fixtures/build)")
    fb.add_argument("--force", action="store_true", help="rebuild every fixture")
    fb.set_defaults(func=_cmd_fixtures_build)
    fl = fsub.add_parser("list", help="list built fixtures")
    fl.add_argument("--dir", help="fixture directory (default: fixtures/build)")
    fl.add_argument("--tag", help="only fixtures with this tag")
    fl.add_argument("--clause", help="only fixtures meant for this clause ID")
    fl.add_argument("--json", action="store_true")
    fl.set_defaults(func=_cmd_fixtures_list)

    em = sub.add_parser("emulate", help="serve the embedded emulator (loopback only by default)")
    em.add_argument("--host", default="127.0.0.1", help="address to bind (default: 127.0.0.1)")
    em.add_argument("--port", type=int, default=0, help="port (default: a free one)")
    em.add_argument("--config", help="emulator config TOML (default: the demo setup)")
    em.add_argument("--write-profile", metavar="FILE", help="write a target profile TOML here")
    em.add_argument("--public", action="store_true", help="allow a non-loopback --host")
    em.set_defaults(func=_cmd_emulate)

    run = sub.add_parser("run", help="run the conformance suites and write the reports")
    _add_run_arguments(run)
    run.add_argument("-k", metavar="EXPR", help="only cases matching this pytest -k expression")
    run.add_argument(
        "--clause", action="append", help="only cases whose clause ID starts with this (repeatable)"
    )
    run.set_defaults(func=_cmd_run)

    rpl = sub.add_parser("replay", help="run one case of a report again")
    rpl.add_argument("case_id", help="the case `id` from conformance.json")
    rpl.add_argument(
        "--report",
        default="reports/latest",
        help="the report directory to take it from (default: reports/latest)",
    )
    _add_run_arguments(rpl)
    rpl.set_defaults(report_dir=None)  # the replay's own run goes beside the replayed report
    replay_help = {
        "report_dir": "where the replay's run folder goes (default: beside the report)",
        "target": "target profile TOML (default: the target the report recorded)",
        "emulator_config": "config TOML for the embedded emulator (default: the report's)",
    }
    for action in rpl._actions:
        action.help = replay_help.get(action.dest, action.help)
    rpl.set_defaults(func=_cmd_replay)

    df = sub.add_parser(
        "diff", help="compare two conformance.json reports (exit 1 on any regression)"
    )
    df.add_argument("baseline", help="the earlier conformance.json (or its directory)")
    df.add_argument("current", help="the later conformance.json (or its directory)")
    df.add_argument("--json", action="store_true", help="machine-readable output")
    df.add_argument(
        "--allow-missing",
        action="store_true",
        help="cases of the baseline missing from the current run are not regressions",
    )
    df.set_defaults(func=_cmd_diff)

    rp = sub.add_parser("report", help="re-render a run's HTML (and/or Allure) report")
    rp.add_argument(
        "--dir", default="reports/latest", help="report directory (default: reports/latest)"
    )
    rp.add_argument("--html", action="store_true", help="write index.html (the default)")
    rp.add_argument(
        "--allure", action="store_true", help="Allure HTML from allure-results/ (needs `allure`)"
    )
    rp.set_defaults(func=_cmd_report)

    ld = sub.add_parser("load", help="run one Locust load scenario, bounded, and report it")
    ld.add_argument(
        "scenario",
        help="concurrency-probe, backoff, streaming, quota, tts, http-rps, soak or capacity",
    )
    ld.add_argument("--target", help="target profile TOML (default: an emulator child process)")
    ld.add_argument("--users", type=int, help="Locust users (bounded; default per scenario)")
    ld.add_argument("--duration", type=float, help="seconds (bounded; default per scenario)")
    ld.add_argument("--report-dir", help="output folder (default: reports/load/NAME-TIMESTAMP)")
    ld.add_argument("--allow-live", action="store_true", help="allow a non-loopback target")
    ld.add_argument("--max-cost", type=float, help="cap (USD) on audio sent to a live target")
    ld.add_argument(
        "--locust-args",
        action="append",
        default=[],
        help="extra scenario / Locust options, e.g. '--probe-what http' (repeatable; or put "
        "them after `--`; '--help' lists them)",
    )
    dg = ld.add_argument_group("distributed (Locust master and workers; one merged result)")
    dg.add_argument("--workers", type=int, help="a master and N local worker processes")
    dg.add_argument("--master", action="store_true", help="only the master (remote workers)")
    dg.add_argument("--expect-workers", type=int, default=1, help="--master: workers to wait for")
    dg.add_argument("--worker", action="store_true", help="only a worker of --master-host")
    dg.add_argument("--master-host", help="--worker: the master's host")
    dg.add_argument("--master-port", type=int, help="the master's port (default 5557)")
    cg = ld.add_argument_group("capacity search (scenario 'capacity')")
    cg.add_argument("--surface", help="e.g. svd-stream, vfast-batch, kugel-tts")
    cg.add_argument("--start", type=int, help="first level (users; default 2)")
    cg.add_argument("--step", type=int, help="users added per step (default 2)")
    cg.add_argument("--max", type=int, help="highest level (default 12)")
    cg.add_argument("--hold-s", type=float, help="judged seconds per step (default 4)")
    cg.add_argument(
        "--slo", action="append", default=[], help="objective, e.g. 'ttfr_ms.p95<=1500' (repeat)"
    )
    ld.set_defaults(func=_cmd_load, locust_tail=[])

    au = sub.add_parser(
        "audit-client",
        help="judge a client program's retries/backoff/concurrency on the wire",
        usage="harness audit-client [--list] SCENARIO... [--report-dir DIR] [--timeout S] [--strict] -- CMD...",
    )
    add_audit_options(au)
    au.add_argument("rest", nargs=argparse.REMAINDER, help="SCENARIO... -- CMD [ARGS...]")
    au.set_defaults(func=_cmd_audit_client)
    return p


def _load_argv(argv: list[str]) -> tuple[list[str], list[str]]:
    """``harness load``: everything after ``--`` goes to Locust, and ``--locust-args X`` takes
    ``X`` even when it looks like an option (``--locust-args "--help"``)."""
    if not argv or argv[0] != "load":
        return argv, []
    tail: list[str] = []
    if "--" in argv:
        at = argv.index("--")
        argv, tail = argv[:at], argv[at + 1 :]
    out: list[str] = []
    it = iter(argv)
    for a in it:
        out.append(a if a != "--locust-args" else f"--locust-args={next(it, '')}")
    return out, tail


def main(argv: Sequence[str] | None = None) -> int:
    parser = build_parser()
    head, load_tail = _load_argv(list(sys.argv[1:] if argv is None else argv))
    args = parser.parse_args(head)
    if load_tail:
        args.locust_tail = load_tail
    try:
        return int(args.func(args))
    except UsageError as exc:
        print(f"harness: error: {exc}", file=sys.stderr)
        return ExitCode.USAGE
    except KeyboardInterrupt:
        print("harness: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:  # e.g. `harness contract list | head`: the reader left, not an error
        import os

        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())  # no second error when Python flushes at exit
        return ExitCode.CONFORMS
    except Exception as exc:  # noqa: BLE001 - the last line of defence: no traceback for users
        from .audio import AudioSpecError

        if isinstance(exc, AudioSpecError):
            print(f"harness: error: {exc}", file=sys.stderr)
            return ExitCode.USAGE
        print(f"harness: internal error: {type(exc).__name__}: {exc}", file=sys.stderr)
        print("(set HARNESS_DEBUG=1 for the traceback)", file=sys.stderr)
        import os

        if os.environ.get("HARNESS_DEBUG"):
            raise
        return ExitCode.COULD_NOT_TEST


if __name__ == "__main__":
    sys.exit(main())
