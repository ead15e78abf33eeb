"""What a conformance case talks to the target and judges through: :class:`CaseContext`
(the ``case`` fixture). It keeps the case's clause, verdicts, recorder and audio charged, and
turns a surface that is not served, a missing key or a cost cap into "not tested"."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx
import pytest

from harness.checks import Observation, Verdict, judge_all
from harness.client import BudgetExceeded, FilePart, HttpClient, Recorder
from harness.client.control import EmulatorControl
from harness.client.http import tls_context
from harness.client.ws import WsResult, WsSession, open_session
from harness.contract import Clause, UnknownClauseError, get
from harness.contract.tables import VELMA_PATHS
from harness.not_tested import NOT_SERVED_STATUSES, EndOfStreamWatch, not_tested, patterns_of
from harness.target import Profile

from .reach import CONNECTIVITY_ERRORS, preflight
from .session import HarnessSession


def clause_id(item: pytest.Item) -> str | None:
    """The clause a case is marked with (``@pytest.mark.clause(ID)``)."""
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
        cid = clause_id(item)
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
            not_tested(
                "missing-limit",
                f"the profile states no velma.limits.{name} for {surface or self.surface}",
            )
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
            not_tested("missing-surface", "the profile has no velma.base_url")
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
        return httpx.request(
            method, base + path, timeout=timeout, verify=tls_context(), **kw
        ).status_code

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

    def served_upgrade(
        self,
        name: str,
        status: int | None,
        base: str,
        path: str,
        *,
        service: str = "velma",
        key_param: str = "api_key",
    ) -> None:
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
        headers: Mapping[str, str] | None = None,
    ) -> WsSession:
        """A recording session to a Velma-2 streaming surface (key in ``api_key``)."""
        path = VELMA_PATHS[surface]
        return self.ws_at("velma", path, query, name=surface, role=role, key=key, headers=headers)

    def ws_at(
        self,
        service: str,
        path: str,
        query: Mapping[str, Any] | None = None,
        *,
        name: str,
        role: str | None = "valid",
        key: str | None = None,
        headers: Mapping[str, str] | None = None,
        key_param: str = "api_key",
    ) -> WsSession:
        """A recording session to ``path`` of ``service``'s WebSocket base URL.

        The key (``key``, else the ``role``'s; none with ``role=None``) goes in the query
        parameter ``key_param``; ``headers`` go on the upgrade request. ``name`` is the
        surface a not-served or refused connection is reported under. The session is
        closed with the case; a refused upgrade keeps its status and body in the result.
        """
        base = getattr(self.hs.profile, service).ws_base_url
        if not base:
            not_tested("missing-surface", f"the profile has no {service}.ws_base_url")
        self.require_reachable(service)
        q = dict(query or {})
        api_key = key if key is not None else (self.key(role, service) if role else None)
        if api_key is not None:
            q = {key_param: api_key, **q}
        try:
            session = open_session(
                base,
                path,
                q,
                self.recorder,
                self.timeout_s,
                headers=headers,
                service=service,
                watch=EndOfStreamWatch(patterns_of(self.item.config), name, self.timeout_s),
            )
        except ConnectionRefusedError as exc:
            self.connection_refused(name, base, exc)
            raise
        self._closers.append(session.close)
        status = session.result.handshake_status
        self.served_upgrade(name, status, base, path, service=service, key_param=key_param)
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


#: The case's context while it runs: ``item.stash[CASE]``.
CASE: pytest.StashKey[CaseContext] = pytest.StashKey()
