"""The pytest side of a conformance run: target, ``case`` fixture, verdicts, report.

``suites/conftest.py`` imports these hooks, so both ``harness run`` and plain
``pytest suites [--target FILE]`` use them. A case is a pytest test marked with
the clause it checks (``@pytest.mark.clause("svd-batch/too-short")``) that takes
the ``case`` fixture, talks to the target through it, and calls ``case.judge``.
Each case becomes one entry of ``conformance.json``; a case that never judges is
an ``error`` (a check that cannot fail is worse than none).
"""

from __future__ import annotations

import socket
import sys
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest
from websockets.exceptions import WebSocketException

from harness.checks import (
    ERROR,
    FAILED,
    SKIPPED,
    Observation,
    Verdict,
    judge,
    worst,
)
from harness.client import AudioBudget, BudgetExceeded, FilePart, HttpClient, Recorder
from harness.client.control import EmulatorControl
from harness.client.ws import WsResult, WsSession, open_session
from harness.contract import Clause, UnknownClauseError, get
from harness.contract.tables import PRICE_PER_AUDIO_HOUR_USD, VELMA_PATHS, audio_cost_usd
from harness.redact import Redactor
from harness.target import Profile, ProfileError, load_profile

EXIT_USAGE = 2
WRITE_INTERVAL_S = 1.0  # conformance.json is rewritten at most this often mid-run
EXIT_UNREACHABLE = 3
CONNECTIVITY_ERRORS = (
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
    OSError,
    WebSocketException,
)
_STASH: pytest.StashKey[HarnessSession] = pytest.StashKey()


# --------------------------------------------------------------------------- session


@dataclass
class HarnessSession:
    profile: Profile
    redactor: Redactor
    strict: bool
    writer: Any  # harness.report.writer.ReportWriter | None
    report_dir: Path | None
    manifest: Any  # harness.audio.Manifest
    budget: AudioBudget
    stop_embedded: Any = None
    aborted: str | None = None
    results: dict[str, str] = field(default_factory=dict)

    def control(self) -> EmulatorControl | None:
        c = self.profile.emulator
        return EmulatorControl(c.url, c.token.value) if c else None


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


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the contract clause this case checks")
    try:
        session = _open_session(config)
    except ProfileError as exc:
        _fatal(config, f"profile error: {exc}", EXIT_USAGE)
        return
    except Exception as exc:  # noqa: BLE001 - e.g. the embedded emulator failed to start
        _fatal(
            config, f"harness error while starting: {type(exc).__name__}: {exc}", EXIT_UNREACHABLE
        )
        return
    config.stash[_STASH] = session
    problem = preflight(session.profile)
    if problem:
        session.aborted = problem
        if session.writer is not None:
            session.writer.abort(problem, EXIT_UNREACHABLE)
        _fatal(config, problem, EXIT_UNREACHABLE)


def _fatal(config: pytest.Config, message: str, code: int) -> None:
    sys.stderr.write(f"harness: {message}\n")
    pytest.exit(message, returncode=code)


def _open_session(config: pytest.Config) -> HarnessSession:
    from harness.audio import build

    target_path = config.getoption("--target")
    stop = None
    if target_path:
        profile = load_profile(target_path)
    else:
        from harness.embedded import start_embedded

        embedded = start_embedded(config.getoption("--emulator-config"))
        profile, stop = embedded.profile, embedded.stop
    redactor = Redactor()
    for svc, name in (
        (profile.velma, "VELMA"),
        (profile.platform, "PLATFORM"),
        (profile.kugel, "KUGEL"),
    ):
        for role, secret in svc.keys.items():
            redactor.add(secret.value, secret.reference(f"{name}_{role.upper()}_KEY"))
    if profile.emulator is not None:
        redactor.add(
            profile.emulator.token.value, profile.emulator.token.reference("EMULATOR_TOKEN")
        )
    max_cost = config.getoption("--max-cost")
    if max_cost is None:
        max_cost = profile.max_cost_usd
    fixture_dir = config.getoption("--fixture-dir")
    manifest = build(Path(fixture_dir) if fixture_dir else None)
    report_dir = config.getoption("--report-dir")
    writer = None
    if report_dir:
        from harness.report.writer import ReportWriter

        writer = ReportWriter(report_dir, flush_interval_s=WRITE_INTERVAL_S)
        writer.start(
            {
                "name": profile.name,
                "kind": profile.kind,
                "base_urls": profile.base_urls(),
                "versions": _versions(),
                "profile": profile.source,
            },
            strict=bool(config.getoption("--strict-contract")),
        )
    return HarnessSession(
        profile=profile,
        redactor=redactor,
        strict=bool(config.getoption("--strict-contract")),
        writer=writer,
        report_dir=Path(report_dir) if report_dir else None,
        manifest=manifest,
        budget=AudioBudget(max_cost if profile.is_live else None),
        stop_embedded=stop,
    )


def _versions() -> dict[str, str]:
    from harness import __version__

    return {"harness": __version__}


def preflight(profile: Profile, timeout_s: float | None = None) -> str | None:
    """None when every configured base URL answers HTTP; else a one-line reason."""
    limit = min(profile.timeout_s, 5.0) if timeout_s is None else timeout_s
    for name, url in profile.base_urls().items():
        if not url.startswith("http"):
            continue
        parts = urlsplit(url)
        host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
        try:
            with socket.create_connection((host, port), timeout=limit):
                pass
        except OSError as exc:
            return f"target unreachable: {name} {host}:{port}: {exc.strerror or exc}"
        try:
            httpx.get(url + "/", timeout=limit)
        except httpx.TimeoutException:
            return f"target unreachable: {name} {url} accepted the connection but did not answer within {limit:.0f} s"
        except httpx.TransportError as exc:
            return (
                f"target unreachable: {name} {url} did not speak HTTP ({type(exc).__name__}: {exc})"
            )
    return None


def pytest_collection_modifyitems(
    session: pytest.Session, config: pytest.Config, items: list[pytest.Item]
) -> None:
    prefixes = tuple(config.getoption("--clause") or ())
    if prefixes:
        keep, drop = [], []
        for item in items:
            (keep if (_clause_id(item) or "").startswith(prefixes) else drop).append(item)
        if drop:
            config.hook.pytest_deselected(items=drop)
            items[:] = keep
    hs = config.stash.get(_STASH, None)
    if hs is None or not hs.profile.is_live:
        return
    seconds: dict[str, float] = {}
    for item in items:
        clause_id = _clause_id(item)
        fid = getattr(item, "callspec", None) and item.callspec.params.get("fixture_id")
        if clause_id and fid:
            surface = clause_id.split("/")[0]
            try:
                seconds[surface] = seconds.get(surface, 0.0) + hs.manifest.get(fid).duration_s
            except KeyError:
                continue
    cost = sum(audio_cost_usd(s, v) for s, v in seconds.items() if s in PRICE_PER_AUDIO_HOUR_USD)
    hours = sum(seconds.values()) / 3600
    cap = hs.budget.max_cost_usd
    sys.stderr.write(
        f"harness: this run will submit about {hours:.4f} audio hours to the live target "
        f"(estimated ${cost:.4f} at published prices; cap: "
        f"{'none' if cap is None else f'${cap:.4f}'})\n"
    )
    if cap is not None and cost > cap:
        msg = f"estimated cost ${cost:.4f} exceeds --max-cost ${cap:.4f}; narrow the run with -k"
        if hs.writer is not None:
            hs.writer.abort(msg, EXIT_USAGE)
        hs.aborted = msg
        pytest.exit(msg, returncode=EXIT_USAGE)


def pytest_unconfigure(config: pytest.Config) -> None:
    hs = config.stash.get(_STASH, None)
    if hs is not None and hs.stop_embedded is not None:
        hs.stop_embedded()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    hs = session.config.stash.get(_STASH, None)
    if hs is None:
        return
    code = session_exit_code(hs, int(exitstatus))
    if hs.writer is not None:
        if hs.aborted:
            hs.writer.abort(hs.aborted, code)
        else:
            hs.writer.finish(code)
    session.exitstatus = code


def session_exit_code(hs: HarnessSession, pytest_status: int) -> int:
    outcomes = list(hs.results.values())
    if hs.aborted:
        return EXIT_UNREACHABLE
    if pytest_status in (pytest.ExitCode.USAGE_ERROR,):
        return EXIT_USAGE
    if pytest_status == pytest.ExitCode.INTERNAL_ERROR:
        return EXIT_UNREACHABLE
    if pytest_status == pytest.ExitCode.INTERRUPTED and not outcomes:
        return EXIT_UNREACHABLE
    if FAILED in outcomes:
        return 1
    if outcomes and all(o in (ERROR, SKIPPED) for o in outcomes) and ERROR in outcomes:
        return EXIT_UNREACHABLE
    return 0


# --------------------------------------------------------------------------- the case


def _clause_id(item: pytest.Item) -> str | None:
    marker = item.get_closest_marker("clause")
    return str(marker.args[0]) if marker and marker.args else None


class CaseContext:
    """What a conformance case uses to talk to the target and to judge what it saw."""

    def __init__(self, item: pytest.Item, hs: HarnessSession) -> None:
        self.item = item
        self.hs = hs
        self.recorder = Recorder(hs.redactor)
        self.verdicts: list[Verdict] = []
        self._clause: Clause | None = None
        self._closers: list[Any] = []
        self._http: dict[str, HttpClient] = {}
        cid = _clause_id(item)
        if cid:
            self.use(cid)

    # -- clause ------------------------------------------------------------------
    def use(self, clause_id: str) -> Clause:
        try:
            self._clause = get(clause_id)
        except UnknownClauseError as exc:
            raise pytest.UsageError(f"{self.item.nodeid}: {exc}") from None
        return self._clause

    @property
    def clause(self) -> Clause:
        if self._clause is None:
            raise pytest.UsageError(f"{self.item.nodeid}: no @pytest.mark.clause and no case.use()")
        return self._clause

    @property
    def profile(self) -> Profile:
        return self.hs.profile

    @property
    def surface(self) -> str:
        return self.clause.surface.value

    @property
    def timeout_s(self) -> float:
        return self.hs.profile.timeout_s

    def expected_side(self, clause: Clause | None = None) -> str | None:
        c = clause or self.clause
        return self.hs.profile.expect.get(c.id, c.preferred) if c.disputed else None

    # -- judging -----------------------------------------------------------------
    def judge(
        self, obs: Observation, *, clause: str | None = None, aspect: str = "data"
    ) -> Verdict:
        c = get(clause) if clause else self.clause
        verdict = judge(
            c, obs, expect=self.hs.profile.expect.get(c.id), strict=self.hs.strict, aspect=aspect
        )
        self.verdicts.append(verdict)
        return verdict

    # -- keys and skips --------------------------------------------------------------
    def key(self, role: str, service: str = "velma") -> str:
        svc = getattr(self.hs.profile, service)
        secret = svc.key(role)
        if secret is None:
            pytest.skip(f"the profile has no {service}.keys.{role}")
        return secret.value

    def limit(self, name: str, surface: str | None = None) -> Any:
        value = self.hs.profile.velma.limits.get(name)
        if isinstance(value, Mapping):
            value = value.get(surface or self.surface)
        if value is None:
            pytest.skip(f"the profile states no velma.limits.{name} for {surface or self.surface}")
        return value

    def emulator(self) -> EmulatorControl:
        control = self.hs.control()
        if control is None:
            pytest.skip("needs the emulator's fault switches (not available on a live target)")
        return control

    # -- audio ---------------------------------------------------------------------
    def fixture(self, fixture_id: str) -> FilePart:
        entry = self.hs.manifest.get(fixture_id)
        self.recorder.audio = {"id": entry.id, "sha256": entry.sha256}
        path = self.hs.manifest.path_of(fixture_id)
        name = Path(entry.path).name if entry.path else f"{entry.id}.bin"
        return FilePart(filename=name, path=path)

    def fixture_entry(self, fixture_id: str) -> Any:
        return self.hs.manifest.get(fixture_id)

    def fixture_bytes(self, fixture_id: str) -> bytes:
        self.fixture(fixture_id)
        return self.hs.manifest.path_of(fixture_id).read_bytes()

    def charge(self, surface: str, seconds: float) -> None:
        try:
            self.hs.budget.charge(surface, seconds)
        except BudgetExceeded as exc:
            pytest.skip(str(exc))

    # -- transports --------------------------------------------------------------------
    def http(self, service: str = "velma") -> HttpClient:
        if service in self._http:
            return self._http[service]
        base = getattr(self.hs.profile, service).base_url
        if not base:
            pytest.skip(f"the profile has no {service}.base_url")
        client = HttpClient(base, self.recorder, timeout_s=self.timeout_s)
        self._closers.append(client.close)
        self._http[service] = client  # one connection pool per case (a new client costs ~0.1 s)
        return client

    def upload(
        self,
        surface: str,
        file: FilePart | None,
        *,
        role: str | None = "valid",
        key: str | None = None,
        fields: Mapping[str, str] | None = None,
        headers: Mapping[str, str] | None = None,
        audio_seconds: float = 0.0,
    ) -> httpx.Response:
        """POST a multipart upload to a Velma-2 batch surface with ``X-API-Key``."""
        h = dict(headers or {})
        api_key = key if key is not None else (self.key(role) if role else None)
        if api_key is not None:
            h["X-API-Key"] = api_key
        if audio_seconds:
            self.charge(surface, audio_seconds)
        files = {"upload_file": file} if file is not None else None
        return self.http().post(VELMA_PATHS[surface], files=files, data=fields, headers=h)

    def ws(
        self,
        surface: str,
        query: Mapping[str, Any] | None = None,
        *,
        role: str | None = "valid",
        key: str | None = None,
    ) -> WsSession:
        base = self.hs.profile.velma.ws_base_url
        if not base:
            pytest.skip("the profile has no velma.ws_base_url")
        q = dict(query or {})
        api_key = key if key is not None else (self.key(role) if role else None)
        if api_key is not None:
            q = {"api_key": api_key, **q}
        session = open_session(
            base, VELMA_PATHS[surface], q, self.recorder, timeout_s=self.timeout_s
        )
        self._closers.append(session.close)
        return session

    def stream(
        self,
        surface: str,
        query: Mapping[str, Any] | None,
        chunks: list[bytes],
        *,
        role: str | None = "valid",
        key: str | None = None,
        end: bool = True,
        audio_seconds: float = 0.0,
    ) -> WsResult:
        """Open, send every chunk, send end-of-stream, read until the server closes."""
        if audio_seconds:
            self.charge(surface, audio_seconds)
        session = self.ws(surface, query, role=role, key=key)
        if session.open:
            session.stream(chunks)
            if end:
                session.end_of_stream()
            session.until_close()
        session.close()
        return session.result

    def close(self) -> None:
        for closer in reversed(self._closers):
            try:
                closer()
            except Exception:  # noqa: BLE001,S112 - best effort on teardown
                continue
        self._closers.clear()


@pytest.fixture
def case(request: pytest.FixtureRequest) -> Iterator[CaseContext]:
    hs = request.config.stash.get(_STASH, None)
    if hs is None:
        pytest.skip("the harness session did not start")
    ctx = CaseContext(request.node, hs)
    request.node.stash[_CASE] = ctx
    try:
        yield ctx
    finally:
        ctx.close()


_CASE: pytest.StashKey[CaseContext] = pytest.StashKey()


# --------------------------------------------------------------------------- reporting


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item: pytest.Item, call: pytest.CallInfo[None]) -> Iterator[None]:
    outcome = yield
    report: pytest.TestReport = outcome.get_result()
    hs = item.config.stash.get(_STASH, None)
    if hs is None:
        return
    _redact_report(report, hs.redactor)
    done = report.when == "call" or (report.when == "setup" and not report.passed)
    if not done:
        return
    ctx = item.stash.get(_CASE, None)
    entry, ours = _case_entry(item, report, call, ctx, hs)
    if ours == FAILED and report.passed:
        report.outcome = "failed"
        report.longrepr = entry["message"] + "\n" + _expected_actual(entry)
    elif ours in (ERROR,) and report.passed:
        report.outcome = "failed"
        report.longrepr = entry["message"]
    hs.results[entry["id"]] = ours
    if hs.writer is not None:
        hs.writer.add_case(entry)
    _allure(entry)
    if (
        ours == ERROR
        and call.excinfo is not None
        and isinstance(call.excinfo.value, CONNECTIVITY_ERRORS)
    ):
        problem = preflight(hs.profile)
        if problem:
            hs.aborted = problem
            item.session.shouldstop = problem


def _expected_actual(entry: Mapping[str, Any]) -> str:
    exp = " | ".join(entry.get("expected") or []) or "-"
    return f"Expected: {exp}\nActual:   {entry.get('actual') or '-'}"


def _case_entry(
    item: pytest.Item,
    report: pytest.TestReport,
    call: pytest.CallInfo[None],
    ctx: CaseContext | None,
    hs: HarnessSession,
) -> tuple[dict[str, Any], str]:
    clause: Clause | None = None
    if ctx is not None and ctx._clause is not None:
        clause = ctx._clause
    else:
        cid = _clause_id(item)
        if cid:
            try:
                clause = get(cid)
            except UnknownClauseError:
                clause = None
    verdicts = ctx.verdicts if ctx is not None else []
    message = ""
    expected: list[str] = []
    actual = ""
    alternative = None
    if report.skipped:
        ours = SKIPPED
        message = _skip_reason(report)
    elif call.excinfo is not None and not isinstance(call.excinfo.value, AssertionError):
        exc = call.excinfo.value
        ours = ERROR
        message = hs.redactor.text(f"could not test: {type(exc).__name__}: {exc}")
    elif call.excinfo is not None:  # a plain assert in the case: the target broke it
        ours = FAILED
        message = hs.redactor.text(str(call.excinfo.value).split("\n")[0])
    elif not verdicts:
        ours = ERROR
        message = "the case made no judgement (a check that cannot fail)"
    else:
        ours = worst([v.outcome for v in verdicts])
    if verdicts:
        main = next((v for v in verdicts if v.outcome == ours), verdicts[-1])
        expected = list(main.expected)
        actual = hs.redactor.text(main.actual)
        alternative = next((v.alternative for v in verdicts if v.alternative), None)
        if ours not in (SKIPPED, ERROR) and not message:
            message = main.message
        if ours == FAILED and call.excinfo is not None:
            message = message or main.message
    clause_id = clause.id if clause else (_clause_id(item) or "unknown/unknown")
    entry: dict[str, Any] = {
        "id": f"{clause_id}::{item.name}",
        "nodeid": item.nodeid,
        "clause": clause_id,
        "surface": clause.surface.value if clause else clause_id.split("/")[0],
        "tier": clause.tier.value if clause else None,
        "requirement": clause.requirement if clause else None,
        "source": [str(s) for s in clause.sources] if clause else [],
        "outcome": ours,
        "expected": expected,
        "actual": actual,
        "message": message,
        "alternative": alternative,
        "fixture": ctx.recorder.audio if ctx is not None else None,
        "reproducer": ctx.recorder.reproducer if ctx is not None else None,
        "evidence": ctx.recorder.items[:10] if ctx is not None else [],
        "duration_s": round(report.duration, 4),
    }
    if len({v.aspect for v in verdicts}) > 1:
        entry["verdicts"] = {v.aspect: v.outcome for v in verdicts}
    return hs.redactor.data(entry), ours


def _skip_reason(report: pytest.TestReport) -> str:
    if isinstance(report.longrepr, tuple) and len(report.longrepr) == 3:
        return str(report.longrepr[2]).removeprefix("Skipped: ")
    return str(report.longrepr or "skipped")


def _redact_report(report: pytest.TestReport, redactor: Redactor) -> None:
    if report.longrepr is not None and not isinstance(report.longrepr, tuple):
        report.longrepr = redactor.text(str(report.longrepr))
    report.sections = [(name, redactor.text(text)) for name, text in report.sections]


def _allure(entry: Mapping[str, Any]) -> None:
    try:
        import allure
    except ImportError:  # pragma: no cover - allure-pytest is a dependency
        return
    try:
        allure.dynamic.label("clause", entry["clause"])
        allure.dynamic.label("surface", entry["surface"])
        allure.dynamic.label("tier", str(entry.get("tier")))
        for s in entry.get("source") or []:
            allure.dynamic.label("source", s)
        if entry.get("requirement"):
            allure.dynamic.description(entry["requirement"])
        import json

        allure.attach(
            json.dumps(entry.get("evidence") or [], indent=2),
            name="evidence (redacted)",
            attachment_type=allure.attachment_type.JSON,
        )
        if entry.get("reproducer"):
            allure.attach(
                entry["reproducer"]["text"],
                name="reproducer",
                attachment_type=allure.attachment_type.TEXT,
            )
    except Exception:  # noqa: BLE001 - allure not active for this run
        return
