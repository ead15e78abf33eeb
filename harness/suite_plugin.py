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
from collections.abc import Callable, Iterator, Mapping
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
    NON_STRICT,
    SKIPPED,
    Observation,
    Verdict,
    judge_all,
    worst,
)
from harness.client import AudioBudget, BudgetExceeded, FilePart, HttpClient, Recorder
from harness.client.control import EmulatorControl
from harness.client.ws import WsResult, WsSession, open_session
from harness.contract import Clause, UnknownClauseError, get
from harness.contract.tables import VELMA_PATHS
from harness.cost_estimate import MARKER_HELP, Estimate, cost_report, estimate, load_plan
from harness.not_tested import (
    NOT_SERVED_STATUSES,
    CouldNotTest,
    NotTested,
    classify_skip,
    error_cause,
    not_tested,
)
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
    abort_code: int = EXIT_UNREACHABLE  # the exit code of an aborted run
    results: dict[str, str] = field(default_factory=dict)
    reproduce: Any = None  # harness.report.reproduce.ReproduceWriter
    require_complete: bool = False
    unreachable: dict[str, str] = field(default_factory=dict)  # service -> why (at start)
    not_served: dict[str, str | None] = field(default_factory=dict)  # probe name -> cause
    planned: Estimate | None = None  # live targets: the cost estimate of the selection
    limits_found: dict[str, Any] = field(default_factory=dict)  # surface -> discover.Limit

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
    g.addoption(
        "--require-complete",
        action="store_true",
        help="exit 3 when any selected case was skipped or could not be tested",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line("markers", "clause(id): the contract clause this case checks")
    config.addinivalue_line("markers", MARKER_HELP)
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
    problems = preflight_services(session.profile)
    if problems and set(problems) >= _services(session.profile):
        problem = next(iter(problems.values()))
        session.aborted = problem
        if session.writer is not None:
            session.writer.abort(problem, EXIT_UNREACHABLE)
        _fatal(config, problem, EXIT_UNREACHABLE)
    for service, problem in problems.items():  # the others still run; these are not tested
        session.unreachable[service] = problem
        sys.stderr.write(f"harness: {problem}; its cases will not be tested\n")


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
    from harness.report.reproduce import ReproduceWriter, profile_variables, redactor_for

    variables = profile_variables(profile)  # each key -> its ${NAME} in everything written
    redactor = redactor_for(variables)
    emulator_config = config.getoption("--emulator-config")
    profile_file = str(Path(target_path).resolve()) if target_path else None
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
                "profile": profile_file or profile.source,
                "emulator_config": (
                    str(Path(emulator_config).resolve())
                    if emulator_config and not target_path
                    else None
                ),
            },
            strict=bool(config.getoption("--strict-contract")),
        )
    return HarnessSession(
        profile=profile,
        redactor=redactor,
        strict=bool(config.getoption("--strict-contract")),
        require_complete=bool(config.getoption("--require-complete")),
        writer=writer,
        report_dir=Path(report_dir) if report_dir else None,
        manifest=manifest,
        budget=AudioBudget(max_cost if profile.is_live else None),
        stop_embedded=stop,
        reproduce=ReproduceWriter(
            report_dir,
            variables,
            profile.base_urls(),
            profile_source=profile_file or profile.source,
        ),
    )


def _versions() -> dict[str, str]:
    from harness import __version__

    return {"harness": __version__}


def _services(profile: Profile) -> set[str]:
    """The services the profile configures an HTTP base URL for (velma, platform, kugel)."""
    return {n.split("_")[0] for n, u in profile.base_urls().items() if u.startswith("http")}


def preflight_services(profile: Profile, timeout_s: float | None = None) -> dict[str, str]:
    """Service -> a one-line reason, for each configured service that does not answer HTTP."""
    problems: dict[str, str] = {}
    for name, url in profile.base_urls().items():
        service = name.split("_")[0]
        if url.startswith("http") and service not in problems:
            problem = _preflight_url(name, url, profile, timeout_s)
            if problem:
                problems[service] = problem
    return problems


def preflight(
    profile: Profile, timeout_s: float | None = None, skip: Mapping[str, Any] | None = None
) -> str | None:
    """None when every configured base URL (of services not in ``skip``) answers HTTP; else a
    one-line reason."""
    for name, url in profile.base_urls().items():
        if url.startswith("http") and name.split("_")[0] not in (skip or {}):
            problem = _preflight_url(name, url, profile, timeout_s)
            if problem:
                return problem
    return None


def _preflight_url(name: str, url: str, profile: Profile, timeout_s: float | None) -> str | None:
    limit = min(profile.timeout_s, 5.0) if timeout_s is None else timeout_s
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
        return f"target unreachable: {name} {url} did not speak HTTP ({type(exc).__name__}: {exc})"
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


def pytest_collection_finish(session: pytest.Session) -> None:
    """The selection is final (after -k, --clause, deselection): estimate what it costs."""
    hs = session.config.stash.get(_STASH, None)
    if hs is None or not hs.profile.is_live:
        return
    planned = estimate(session.items, hs.manifest, load_plan())
    hs.planned = planned
    cost = planned.usd
    cap = hs.budget.max_cost_usd
    per_surface = ", ".join(f"{s} {v:.1f} s" for s, v in sorted(planned.seconds.items()))
    sys.stderr.write(
        f"harness: the {len(session.items)} selected cases will submit about "
        f"{planned.hours:.4f} audio hours to the live target ({per_surface or 'no audio'}; "
        f"estimated ${cost:.4f} at published prices; cap: "
        f"{'none' if cap is None else f'${cap:.4f}'})\n"
    )
    if hs.writer is not None:
        hs.writer.set_cost(cost_report(planned, {}, cap))
    if cap is not None and cost > cap + 1e-12:
        msg = f"estimated cost ${cost:.4f} exceeds --max-cost ${cap:.4f}; narrow the run with -k"
        if hs.writer is not None:
            hs.writer.abort(msg, EXIT_USAGE)
        hs.aborted, hs.abort_code = msg, EXIT_USAGE
        sys.stderr.write(f"harness: {msg}; nothing was sent\n")
        pytest.exit(msg, returncode=EXIT_USAGE)


def pytest_unconfigure(config: pytest.Config) -> None:
    hs = config.stash.get(_STASH, None)
    if hs is not None and hs.stop_embedded is not None:
        hs.stop_embedded()


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    hs = session.config.stash.get(_STASH, None)
    if hs is None or session.config.getoption("collectonly"):
        return  # --collect-only lists cases; it runs none, so there is no verdict to give
    code = session_exit_code(hs, int(exitstatus))
    if code == EXIT_USAGE and not hs.results and not hs.aborted:
        sys.stderr.write("harness: no case matched the selection (-k / --clause)\n")
    if hs.writer is not None:
        if hs.planned is not None:
            hs.writer.set_cost(cost_report(hs.planned, hs.budget.seconds, hs.budget.max_cost_usd))
        if hs.aborted:
            hs.writer.abort(hs.aborted, code)
        else:
            hs.writer.finish(code)
    session.exitstatus = code


def session_exit_code(hs: HarnessSession, pytest_status: int) -> int:
    outcomes = list(hs.results.values())
    if hs.aborted:
        return hs.abort_code
    if pytest_status in (pytest.ExitCode.USAGE_ERROR,):
        return EXIT_USAGE
    if pytest_status == pytest.ExitCode.INTERNAL_ERROR:
        return EXIT_UNREACHABLE
    if pytest_status == pytest.ExitCode.INTERRUPTED and not outcomes:
        return EXIT_UNREACHABLE
    if not outcomes:  # the selection matched no case: nothing was tested
        return EXIT_USAGE
    if FAILED in outcomes:
        return 1
    if all(o in (ERROR, SKIPPED) for o in outcomes):  # nothing of the selection was tested
        return EXIT_UNREACHABLE
    if hs.require_complete and any(o in (ERROR, SKIPPED) for o in outcomes):
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
        self.audio: dict[str, float] = {}  # audio seconds this case charged, per surface
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
        """Judge ``obs`` on the case's clause (or ``clause``); record every verdict.

        The codes verdict is returned; when the clause documents an error text, a second
        ``wording`` verdict is recorded too (see ``harness.checks.judge_all``).
        """
        c = get(clause) if clause else self.clause
        verdicts = judge_all(
            c, obs, expect=self.hs.profile.expect.get(c.id), strict=self.hs.strict, aspect=aspect
        )
        self.verdicts.extend(verdicts)
        seen = obs.exchange if obs.exchange is not None else self.recorder.last_exchange
        for v in verdicts:  # the exchange this verdict judged: the case's reproducer
            v.extra.setdefault("exchange", seen)
        return verdicts[0]

    # -- keys and skips --------------------------------------------------------------
    def key(self, role: str, service: str = "velma") -> str:
        svc = getattr(self.hs.profile, service)
        secret = svc.key(role)
        if secret is None:
            not_tested("missing-role", f"the profile has no {service}.keys.{role}")
        return secret.value

    def limit(self, name: str, surface: str | None = None) -> Any:
        """A limit the profile states; a concurrency limit it does not state is discovered."""
        if name == "concurrency":
            return self.concurrency_limit(surface or self.surface).value
        value = self.hs.profile.velma.limits.get(name)
        if isinstance(value, Mapping):
            value = value.get(surface or self.surface)
        if value is None:
            pytest.skip(f"the profile states no velma.limits.{name} for {surface or self.surface}")
        return value

    def concurrency_limit(self, surface: str) -> Any:
        """``surface``'s concurrency limit (a ``harness.client.discover.Limit``): the profile's
        ``[velma.limits.concurrency]`` entry, or else discovered once per run (bounded, and
        charged to the budget). The case's evidence says which; no limit found: skipped."""
        from harness.client import discover

        found = self.hs.limits_found.get(surface)
        if found is None:
            stated = self.hs.profile.velma.limits.get("concurrency")
            value = stated.get(surface) if isinstance(stated, Mapping) else None
            if value is not None:
                found = discover.stated(surface, int(value))
            else:
                found = discover.find(self._discovery_target(), surface)
            self.hs.limits_found[surface] = found
        self.recorder.add(found.evidence())
        if found.value is None:
            not_tested("cannot-provoke", found.cause, found.describe())
        return found

    def _discovery_target(self) -> Any:
        from harness.client.discover import Target

        velma = self.hs.profile.velma
        if not velma.base_url:
            pytest.skip("the profile has no velma.base_url")
        return Target(
            base_url=velma.base_url,
            ws_base_url=velma.ws_base_url,
            key=self.key("valid"),
            redactor=self.hs.redactor,
            manifest=self.hs.manifest,
            charge=self.charge,
            on_emulator=self.hs.profile.emulator is not None,
            timeout_s=self.timeout_s,
        )

    def emulator(self, provokes: str | None = None) -> EmulatorControl:
        """The emulator's control; on a live target the case is skipped.

        ``provokes`` names what only an emulator fault can bring about (e.g. "HTTP 500"):
        the skip then says so (reason ``cannot-provoke``) instead of ``needs-emulator``.
        """
        control = self.hs.control()
        if control is None:
            if provokes:
                not_tested(
                    "cannot-provoke",
                    f"{provokes} cannot be provoked on a live target "
                    "(only the emulator's X-Emulator-Fault injects it)",
                )
            not_tested(
                "needs-emulator",
                "needs the emulator's fault switches (not available on a live target)",
            )
        control.on_change = self.recorder.control  # a reproducer says what was switched
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
            cap = self.hs.budget.max_cost_usd or 0.0
            not_tested("cost-cap", f"cost cap: --max-cost ${cap:.4f} reached", str(exc))
        if seconds > 0:
            self.audio[surface] = self.audio.get(surface, 0.0) + seconds

    # -- surfaces that are not served ------------------------------------------------
    def require_reachable(self, service: str) -> None:
        """``service``'s base URL did not answer at the start of the run: not tested."""
        problem = self.hs.unreachable.get(service)
        if problem:
            not_tested("not-served", f"{service}: {problem.removeprefix('target unreachable: ')}")

    def require_served(
        self,
        name: str,
        status: int | None,
        probe: Callable[[], int | None],
        *,
        how: str = "on upgrade",
    ) -> None:
        """After an answer ``status`` of 404/405: is ``name`` served at all?

        ``probe`` sends a request the contract says must not be refused that way (a
        valid-key upgrade, a valid request) and returns its status (None: accepted). It runs
        once per run and name. When it is refused with 404/405 too, the surface is not
        served and the case is skipped with that cause, never judged.
        """
        if status not in NOT_SERVED_STATUSES:
            return
        if name not in self.hs.not_served:
            try:
                seen = probe()
            except CONNECTIVITY_ERRORS:
                seen = None  # could not tell: judge the case as it is
            self.hs.not_served[name] = (
                f"{name}: not served (HTTP {seen} {how})" if seen in NOT_SERVED_STATUSES else None
            )
        cause = self.hs.not_served[name]
        if cause:
            not_tested("not-served", cause)

    def probe_http(self, service: str, method: str, path: str, **kw: Any) -> int | None:
        """The status of one request outside the case's evidence (for :meth:`require_served`)."""
        base = getattr(self.hs.profile, service).base_url
        timeout = min(self.timeout_s, 5.0)
        return httpx.request(method, base + path, timeout=timeout, **kw).status_code

    def probe_upgrade(
        self, base: str, path: str, query: Mapping[str, Any], service: str = "velma"
    ) -> int | None:
        """The HTTP status a WebSocket upgrade was refused with (None: it was accepted)."""
        s = open_session(
            base,
            path,
            query,
            Recorder(self.hs.redactor),
            timeout_s=min(self.timeout_s, 5.0),
            service=service,
        )
        status = s.result.handshake_status
        s.close()
        return status

    def served_upgrade(self, name: str, status: int | None, base: str, path: str, *,
                       service: str = "velma", key_param: str = "api_key") -> None:  # fmt: skip
        """:meth:`require_served` for a WebSocket upgrade: the probe has the valid key only."""
        if status not in NOT_SERVED_STATUSES:
            return
        valid = getattr(self.hs.profile, service).key("valid")
        query = {key_param: valid.value} if valid is not None else {}
        self.require_served(name, status, lambda: self.probe_upgrade(base, path, query, service))

    def connection_refused(self, name: str, url: str, exc: OSError) -> None:
        """A connection to ``url`` was refused: the run stops when the whole target is down;
        otherwise ``name`` is not served and the case is skipped."""
        if name not in self.hs.not_served:
            if preflight(self.hs.profile, skip=self.hs.unreachable):
                raise exc
            parts = urlsplit(url)
            self.hs.not_served[name] = (
                f"{name}: not served (connection refused at {parts.hostname}:{parts.port})"
            )
        cause = self.hs.not_served[name]
        if cause:
            not_tested("not-served", cause)
        raise exc

    # -- transports --------------------------------------------------------------------
    def http(self, service: str = "velma") -> HttpClient:
        if service in self._http:
            return self._http[service]
        base = getattr(self.hs.profile, service).base_url
        if not base:
            not_tested("missing-surface", f"the profile has no {service}.base_url")
        self.require_reachable(service)
        client = HttpClient(base, self.recorder, timeout_s=self.timeout_s, service=service)
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
        path = VELMA_PATHS[surface]
        r = self.http().post(path, files=files, data=fields, headers=h)
        valid = self.hs.profile.velma.key("valid")
        probe_headers = {"X-API-Key": valid.value} if valid is not None else {}
        self.require_served(
            surface,
            r.status_code,
            lambda: self.probe_http("velma", "POST", path, headers=probe_headers),
            how=f"to POST {path}",
        )
        return r

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
            not_tested("missing-surface", "the profile has no velma.ws_base_url")
        self.require_reachable("velma")
        q = dict(query or {})
        api_key = key if key is not None else (self.key(role) if role else None)
        if api_key is not None:
            q = {"api_key": api_key, **q}
        path = VELMA_PATHS[surface]
        try:
            session = open_session(base, path, q, self.recorder, timeout_s=self.timeout_s)
        except ConnectionRefusedError as exc:
            self.connection_refused(surface, base, exc)
            raise
        self._closers.append(session.close)
        self.served_upgrade(surface, session.result.handshake_status, base, path)
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
        session = self.ws(surface, query, role=role, key=key)
        if session.open:
            if audio_seconds:  # charged once the upgrade is accepted, before any audio
                self.charge(surface, audio_seconds)
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
    if ctx is not None:
        ctx.close()  # sessions still open are recorded now, before the entry is made
    entry, ours = _case_entry(item, report, call, ctx, hs)
    if ours == FAILED and report.passed:
        report.outcome = "failed"
        report.longrepr = entry["message"] + "\n" + _expected_actual(entry)
    elif ours in (ERROR,) and report.passed:
        report.outcome = "failed"
        report.longrepr = entry["message"]
    report.harness_outcome = ours  # type: ignore[attr-defined] # see pytest_report_teststatus
    hs.results[entry["id"]] = ours
    if hs.writer is not None:
        hs.writer.add_case(entry)
    _allure(entry)
    if (
        ours == ERROR
        and call.excinfo is not None
        and isinstance(call.excinfo.value, CONNECTIVITY_ERRORS)
    ):
        problem = preflight(hs.profile, skip=hs.unreachable)
        if problem:
            hs.aborted = problem
            item.session.shouldstop = problem


#: Our outcome -> (progress letter, word) in pytest's terminal, so that its counts are ours.
_TESTSTATUS = {
    "passed": (".", "PASSED"),
    "failed": ("F", "FAILED"),
    "non-strict": ("n", "NON-STRICT"),
    "informational": ("i", "INFORMATIONAL"),
    "skipped": ("s", "SKIPPED"),
    "error": ("E", "ERROR"),
}


def pytest_report_teststatus(
    report: pytest.TestReport, config: pytest.Config
) -> tuple[str, str, str] | None:
    """Count each case under our outcome (``non-strict``, ``informational``...), not pytest's."""
    ours = getattr(report, "harness_outcome", None)
    if ours not in _TESTSTATUS:
        return None
    letter, word = _TESTSTATUS[ours]
    return ours, letter, word


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
    reason: str | None = None
    cause: str | None = None
    exc = call.excinfo.value if call.excinfo is not None else None
    if report.skipped:
        ours = SKIPPED
        message = _skip_reason(report)
        if isinstance(exc, NotTested):
            reason, cause = exc.reason, exc.cause
        else:
            reason, cause = classify_skip(message), message
    elif isinstance(exc, CouldNotTest):
        ours, reason, cause = ERROR, exc.reason, exc.cause
        message = hs.redactor.text(str(exc))
    elif exc is not None and not isinstance(exc, AssertionError):
        ours, reason = ERROR, "harness-error"
        message = hs.redactor.text(f"could not test: {type(exc).__name__}: {exc}")
        cause = hs.redactor.text(error_cause(exc))
    elif exc is not None:  # a plain assert in the case: the target broke it
        ours = FAILED
        message = hs.redactor.text(str(exc).split("\n")[0])
    elif not verdicts:
        ours, reason = ERROR, "no-judgement"
        message = cause = "the case made no judgement (a check that cannot fail)"
    else:
        ours = worst([v.outcome for v in verdicts])
    main: Verdict | None = None
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
        "reproducer": None,
        "evidence": [],
        "duration_s": round(report.duration, 4),
    }
    if len({v.aspect for v in verdicts}) > 1:
        entry["verdicts"] = {v.aspect: v.outcome for v in verdicts}
    if reason is not None:
        entry["reason"] = reason
        entry["cause"] = hs.redactor.text(" ".join((cause or message).split()))
    if ctx is not None and ctx.audio:
        entry["audio"] = {s: round(v, 3) for s, v in sorted(ctx.audio.items())}
    if ctx is not None:
        try:
            _attach_exchange(entry, ctx, main, hs)
        finally:
            ctx.recorder.release()  # the run keeps every case's context: not its audio
    return hs.redactor.data(entry), ours


def _context_notes(rec: Recorder, judged: int) -> list[str]:
    """What a single request cannot repeat: the case's other exchanges, emulator switches."""
    notes = []
    made = [i for i, x in enumerate(rec.exchanges) if x is not None]
    if len(made) > 1:
        notes.append(
            f"The case made {len(made)} requests/sessions; this is #{made.index(judged) + 1}, "
            "the one its verdict judged. State the others left (load held, resources made, "
            "counters used) is not recreated here: see the case's evidence."
        )
    for at, what in rec.controls:
        when = "Before" if at <= judged else "After"
        notes.append(f"{when} it, the case switched the emulator (control endpoint: {what}).")
    return notes


EVIDENCE_ITEMS = 10  # exchanges kept in a case's evidence (the judged one always among them)


def _attach_exchange(
    entry: dict[str, Any], ctx: CaseContext, main: Verdict | None, hs: HarnessSession
) -> None:
    """Evidence, and the reproducer of the exchange the main verdict judged (written to
    ``reproduce/`` for a failed or non-strict case)."""
    rec = ctx.recorder
    judged = main.extra.get("exchange") if main is not None else rec.last_exchange
    if not isinstance(judged, int) or not 0 <= judged < len(rec.items):
        judged = rec.last_exchange
    keep = list(range(min(len(rec.items), EVIDENCE_ITEMS)))
    if judged is not None and judged not in keep:
        keep = keep[: EVIDENCE_ITEMS - 1] + [judged]
    entry["evidence"] = [
        {**rec.items[i], "judged": True} if i == judged else rec.items[i] for i in keep
    ]
    exchange = rec.exchanges[judged] if judged is not None else None
    if exchange is None or hs.reproduce is None:
        return
    summary = [f"{entry['clause']} [{entry['tier']}]: {entry['outcome']}"]
    if entry["expected"]:
        summary.append("expected: " + " | ".join(entry["expected"]))
    if entry["actual"]:
        summary.append("the run saw: " + entry["actual"])
    summary += _context_notes(rec, judged)
    try:
        if entry["outcome"] in (FAILED, NON_STRICT):
            entry["reproducer"] = hs.reproduce.write(entry["id"], exchange, summary)
        else:
            out = hs.reproduce.render(entry["id"], exchange, summary)
            entry["reproducer"] = {"kind": out.kind, "text": out.core}  # no file: the gist
    except Exception as exc:  # noqa: BLE001 - a reproducer problem never hides the verdict
        entry["reproducer"] = None
        note = f"(reproducer not written: {type(exc).__name__}: {exc})"
        entry["message"] = f"{entry['message']} {note}".strip()


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
        repro = entry.get("reproducer")
        if repro:
            allure.attach(
                repro["text"],
                name=f"reproducer ({repro['file']})" if repro.get("file") else "reproducer",
                attachment_type=allure.attachment_type.TEXT,
            )
    except Exception:  # noqa: BLE001 - allure not active for this run
        return
