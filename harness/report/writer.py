"""Writing ``conformance.json`` during a run, and the ``reports/<timestamp>/`` layout.

The runner drives a :class:`ReportWriter`::

    run_dir = make_run_dir("reports")
    writer = ReportWriter(run_dir)
    writer.start({"name": "embedded-emulator", "kind": "emulator", ...}, strict=False)
    for case in ...:
        writer.add_case(case_dict)           # rewrites conformance.json atomically
    run = writer.finish()                     # or writer.abort("target unreachable: ...", 3)

After every call the file on disk is a valid report (``finished: false`` and
``complete: false`` until :meth:`ReportWriter.finish`), so an interrupted run leaves
something readable. ``complete`` ends ``true`` only when every case reached a verdict.
"""

from __future__ import annotations

import json
import os
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from harness.outcomes import ExitCode, exit_code

from .model import (
    REPORT_FILE,
    SCHEMA_VERSION,
    Aborted,
    Case,
    Run,
    Target,
    compute_coverage,
    compute_ledger,
    compute_not_tested,
    compute_summary,
    is_complete,
    parse_case,
)

LATEST = "latest"


def _utc_now() -> datetime:
    return datetime.now(UTC)


def _iso(t: datetime) -> str:
    return t.strftime("%Y-%m-%dT%H:%M:%SZ")


def catalog_surfaces() -> dict[str, str]:
    """Clause ID -> surface for every clause in the contract catalog."""
    from harness.contract import all_clauses

    return {c.id: c.surface.value for c in all_clauses()}


def _harness_version() -> str | None:
    try:
        from importlib.metadata import version

        return version("voice-contract-harness")
    except Exception:  # noqa: BLE001 - not installed: leave it out
        return None


def _fill_from_catalog(case: Case) -> None:
    """Fill what a hand-written case left out (tier, requirement, sources, alternatives'
    summaries). The run's own records come complete (``harness.plugin.entries``)."""
    from harness.contract import UnknownClauseError, get

    try:
        clause = get(case.clause)
    except UnknownClauseError:
        return
    if case.tier is None:
        case.tier = clause.tier.value
    if case.requirement is None:
        case.requirement = clause.requirement
    if not case.source:
        case.source = [str(s) for s in clause.sources]
    if clause.disputed and case.alternative is not None:
        case.alternative.fill_from(clause)


def write_json_atomic(path: Path, data: Any, *, indent: int | None = 2) -> None:
    """Write ``data`` as JSON to ``path`` so a reader never sees a half-written file.
    ``indent=None``: compact, written by the C encoder (about ten times faster)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".tmp", dir=path.parent)
    try:
        os.chmod(tmp, 0o644)  # mkstemp makes it 0600; a report is for reading
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            if indent is None:
                fh.write(json.dumps(data, ensure_ascii=False, separators=(",", ":")))
            else:
                json.dump(data, fh, indent=indent, ensure_ascii=False)
            fh.write("\n")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


class ReportWriter:
    """Accumulates cases and keeps ``<report_dir>/conformance.json`` current."""

    def __init__(
        self,
        report_dir: str | Path,
        *,
        catalog: dict[str, str] | None = None,
        flush_interval_s: float = 0.0,
    ) -> None:
        """``flush_interval_s``: rewrite the file at most this often while cases arrive
        (0: after every case); ``start``, ``abort`` and ``finish`` always write."""
        self.report_dir = Path(report_dir)
        self._interval = flush_interval_s
        self._last_flush = float("-inf")
        self._last_cost = 0.0
        self._ids: set[str] = set()
        self.path = self.report_dir / REPORT_FILE
        self._catalog = catalog if catalog is not None else catalog_surfaces()
        self._run: Run | None = None
        self._t0 = 0.0
        self._order: dict[str, int] = {}

    @property
    def run(self) -> Run:
        if self._run is None:
            raise RuntimeError("ReportWriter.start() has not been called")
        return self._run

    def start(self, target_info: dict[str, Any], strict: bool = False) -> Run:
        """Begin the report: ``target_info`` is the ``target`` object of the format."""
        if not isinstance(target_info, dict) or not isinstance(target_info.get("name"), str):
            raise ValueError("target_info must be a dict with at least a string 'name'")
        self._t0 = time.monotonic()
        self._run = Run(
            target=Target(
                name=target_info["name"],
                kind=str(target_info.get("kind", "emulator")),
                base_urls=dict(target_info.get("base_urls") or {}),
                versions=dict(target_info.get("versions") or {}),
                profile=target_info.get("profile"),
                emulator_config=target_info.get("emulator_config"),
            ),
            schema_version=SCHEMA_VERSION,
            harness_version=_harness_version(),
            complete=False,
            started_at=_iso(_utc_now()),
            strict=bool(strict),
        )
        self._flush()
        return self._run

    def add_case(self, case: Case | dict[str, Any]) -> Case:
        """Record one finished case and rewrite the file.

        A :class:`Case` is recorded as it is; a dict (a hand-written case: tests, the
        sample run) is validated and what it leaves out is filled from the catalog.
        Raises :class:`~harness.report.model.ReportFormatError` for a malformed case and
        ``ValueError`` for a case ID already recorded in this run.
        """
        run = self.run
        if not isinstance(case, Case):
            case = parse_case(case, where="add_case", path="case")
            _fill_from_catalog(case)
        if case.id in self._ids:
            raise ValueError(f"case {case.id!r} was already added to this run")
        run.cases.append(case)
        self._ids.add(case.id)
        # Mid-run rewrites cost more as the report grows: keep them under ~10% of the run
        # by waiting at least ten times as long as the last rewrite took.
        gap = max(self._interval, 10 * self._last_cost) if self._interval else 0.0
        if time.monotonic() - self._last_flush >= gap:
            self._flush()
        return case

    def abort(self, reason: str, exit_code: int = ExitCode.COULD_NOT_TEST) -> Run:
        """The run stopped early (e.g. the target is unreachable): not finished, not complete."""
        run = self.run
        run.aborted = Aborted(reason=reason, exit_code=exit_code)
        run.finished = False
        run.complete = False
        run.exit_code = exit_code
        self._close()
        return run

    def finish(self, exit_code: int | None = None) -> Run:
        """The run is over: ``finished: true``; ``complete: true`` when every case reached a
        verdict. ``exit_code`` defaults to :func:`exit_code_for`."""
        run = self.run
        run.finished = True
        self._update_derived()
        run.complete = is_complete(run)
        run.exit_code = exit_code if exit_code is not None else exit_code_for(run)
        self._close()
        return run

    def set_order(self, nodeids: list[str]) -> None:
        """Cases may finish in another order than they were collected (``--jobs``): the file
        lists them in this one (by ``nodeid``; others after, as they came)."""
        self._order = {n: i for i, n in enumerate(nodeids)}

    def stop_early(self, exit_code: int) -> Run:
        """The run was interrupted (Ctrl-C, ``-x``): what finished is kept; the run is neither
        finished nor complete, so its verdict is ``partial`` (or ``violations``)."""
        run = self.run
        run.finished = False
        self._update_derived()
        run.complete = False
        run.exit_code = exit_code
        self._close()
        return run

    # -- internals
    def _close(self) -> None:
        run = self.run
        run.finished_at = _iso(_utc_now())
        run.duration_s = round(time.monotonic() - self._t0, 3)
        self._flush(final=True)

    def set_cost(self, cost: dict[str, Any] | None) -> None:
        """Record the cost estimate and spend (live targets); written with the next flush."""
        self.run.cost = cost

    def _update_derived(self) -> None:
        run = self.run
        run.summary = compute_summary(run.cases)
        run.not_tested = compute_not_tested(run.cases)
        run.ledger = compute_ledger(run.cases)
        run.coverage = compute_coverage(run.cases, self._catalog)

    def _flush(self, final: bool = False) -> None:
        """Rewrite the file: compact while cases arrive, indented for people at the end."""
        t0 = time.monotonic()
        if self._order:
            last = len(self._order)
            self.run.cases.sort(key=lambda c: self._order.get(c.nodeid or "", last))
        self._update_derived()
        write_json_atomic(self.path, self.run.to_dict(), indent=2 if final else None)
        self.run.path = self.path
        self._last_flush = time.monotonic()
        self._last_cost = self._last_flush - t0


def exit_code_for(run: Run, *, require_complete: bool = False) -> int:
    """The exit code of ``run`` (see :func:`harness.outcomes.exit_code`): an aborted run's
    own code, else the one its case outcomes decide."""
    if run.aborted is not None:
        return run.aborted.exit_code
    return exit_code((c.outcome for c in run.cases), require_complete=require_complete)


# --------------------------------------------------------------------------- run directories


def make_run_dir(base: str | Path = "reports", *, now: datetime | None = None) -> Path:
    """Create ``<base>/<UTC timestamp>/`` and point ``<base>/latest`` at it."""
    base = Path(base)
    base.mkdir(parents=True, exist_ok=True)
    stamp = (now or _utc_now()).strftime("%Y%m%dT%H%M%SZ")
    run_dir = base / stamp
    n = 1
    while True:
        try:
            run_dir.mkdir()
            break
        except FileExistsError:
            n += 1
            run_dir = base / f"{stamp}-{n}"
    _point_latest(base, run_dir.name)
    return run_dir


def latest_name(base: str | Path) -> str | None:
    """The run directory ``<base>/latest`` names now (None: no run yet)."""
    try:
        return resolve_latest(base).name
    except (FileNotFoundError, OSError):
        return None


def discard_run_dir(run_dir: Path, previous: str | None) -> None:
    """Remove a run directory that holds no run, and point ``latest`` back at ``previous``."""
    import shutil

    base = run_dir.parent
    shutil.rmtree(run_dir, ignore_errors=True)
    if previous and (base / previous).is_dir():
        _point_latest(base, previous)
        return
    latest = base / LATEST
    if latest.is_symlink() or latest.is_file():
        latest.unlink(missing_ok=True)


def _point_latest(base: Path, name: str) -> None:
    latest = base / LATEST
    tmp = base / f".{LATEST}.{os.getpid()}.tmp"
    tmp.unlink(missing_ok=True)
    try:
        os.symlink(name, tmp, target_is_directory=True)
        if latest.is_dir() and not latest.is_symlink():
            raise OSError("reports/latest is a real directory")
        os.replace(tmp, latest)
        return
    except (OSError, NotImplementedError):
        tmp.unlink(missing_ok=True)
    # No symlinks here (or something in the way): a text file naming the directory.
    if latest.is_symlink():
        latest.unlink()
    if not latest.is_dir():
        tmp.write_text(name + "\n", encoding="utf-8")
        os.replace(tmp, latest)


def resolve_latest(base: str | Path = "reports") -> Path:
    """The directory ``<base>/latest`` points at (symlink or text file).

    Raises ``FileNotFoundError`` with a sentence when there is no run yet.
    """
    base = Path(base)
    latest = base / LATEST
    if latest.is_dir():  # a symlink to a directory, or a real directory
        return latest.resolve()
    if latest.is_file():
        name = latest.read_text(encoding="utf-8").strip()
        target = base / name
        if name and target.is_dir():
            return target.resolve()
        raise FileNotFoundError(f"{latest} names {name!r}, which is not a directory in {base}")
    raise FileNotFoundError(f"no {latest}: no run has written a report in {base} yet")


def resolve_report_dir(path: str | Path) -> Path:
    """A report directory from what a user typed: the directory itself, its
    ``conformance.json``, or a ``latest`` symlink or text file."""
    p = Path(path)
    if p.name == REPORT_FILE and p.is_file():
        return p.parent
    if p.is_dir():
        return p.resolve() if p.is_symlink() else p
    if p.is_file() and p.name == LATEST:
        return resolve_latest(p.parent)
    if p.name == LATEST and not p.exists():
        return resolve_latest(p.parent)
    raise FileNotFoundError(f"{p} is not a report directory")


__all__ = [
    "LATEST",
    "ReportWriter",
    "catalog_surfaces",
    "discard_run_dir",
    "exit_code_for",
    "latest_name",
    "make_run_dir",
    "resolve_latest",
    "resolve_report_dir",
    "write_json_atomic",
]
