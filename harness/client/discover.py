"""Concurrency limits a profile does not state, found by trying (bounded).

The admission cases need each surface's in-flight limit. A profile may state it
(``[velma.limits.concurrency]``); when it does not, the limit is discovered once per
run and surface, the way ``harness load concurrency-probe`` finds one
(:mod:`harness.load.probe`; the step judging is shared, :mod:`harness.load.judge`):

* REST: one request alone gives the service time; then ``bound`` requests go out at
  once. Each is ``served`` (2xx in about the service time), ``queued`` (2xx, but much
  later) or ``rejected`` (any other status). The limit is the number served at once.
* WebSocket: ``bound`` sessions open at once and send nothing; those the server closes
  (or whose upgrade it refuses) within ``window_s`` are rejected, the ones still open
  at the end hold a slot each. The limit is the number still open.

Nothing is judged here: the cases judge the signal and the immediacy of the refusal
with the limit in hand. Found nothing up to ``bound`` (or a refusal of every attempt)
is a :class:`Limit` whose ``value`` is None and whose ``how`` says why: the caller
skips, as the limit could not be tested. Requests are capped at ``bound + 1`` per
surface, and every one is charged to the run's audio budget by the caller.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import Any

import httpx

from harness.contract.tables import VELMA_HTTP_AUTH_HEADER, VELMA_PATHS, VELMA_WS_AUTH_QUERY
from harness.load.judge import Attempt, classify, probe_conclusion, step_record

from .control import fault_header
from .evidence import Recorder
from .ws import open_session

DEFAULT_BOUND = 16  # most requests (or sessions) sent at once while discovering
WS_WINDOW_S = 4.0  # how long a discovery session stays open waiting to be refused
BARRIER_S = 10.0  # the threads of one burst wait at most this long for each other
SETTLE_S = 0.2  # after closing the discovery sessions, before the case takes its slots
STATED = "stated"
DISCOVERED = "discovered"
NOT_FOUND = "not found"


@dataclass(frozen=True)
class Limit:
    """A surface's concurrency limit and where it came from."""

    surface: str
    value: int | None
    origin: str  # STATED | DISCOVERED | NOT_FOUND
    how: str  # one sentence: the profile entry, or what the discovery saw
    steps: list[dict[str, Any]] = field(default_factory=list)

    @property
    def cause(self) -> str:
        """One line to group the cases that could not test this limit by."""
        return f"{self.surface}: no concurrency limit stated, none found by discovery"

    def describe(self) -> str:
        if self.value is None:
            return f"{self.surface}: no concurrency limit to test ({self.how})"
        return f"{self.surface} limit {self.value}, {self.origin} ({self.how})"

    def evidence(self) -> dict[str, Any]:
        return {
            "kind": "concurrency-limit",
            "surface": self.surface,
            "limit": self.value,
            "origin": self.origin,
            "how": self.how,
            "steps": self.steps,
        }


def stated(surface: str, value: int) -> Limit:
    return Limit(surface, value, STATED, f"the profile's [velma.limits.concurrency] {surface}")


# --------------------------------------------------------------------------- REST


def burst(send: Callable[[], Attempt], n: int) -> list[Attempt]:
    """``n`` calls of ``send`` at once (each on its own thread), released together."""
    gate = threading.Barrier(n, timeout=BARRIER_S)

    def one() -> Attempt:
        gate.wait()
        return send()

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(lambda _: one(), range(n)))


def discover_http(surface: str, send: Callable[[], Attempt], bound: int) -> Limit:
    """One request alone, then ``bound`` at once; the limit is how many were served."""
    first = send()
    if first.outcome != "served":
        why = first.signal or first.outcome
        return Limit(surface, None, NOT_FOUND, f"a single request was not served ({why})")
    service_s = first.latency_s
    attempts = classify(burst(send, bound), service_s)
    steps = [step_record(1, [first]), step_record(bound, attempts)]
    found = probe_conclusion(steps, service_s, bound)
    records = _records(steps)
    at_once = steps[1]
    if found["mode"] == "none":
        how = (
            f"{bound} requests at once were all served within the service time "
            f"({service_s:.3f} s); no limit up to {bound}, so it could not be tested"
        )
        if at_once["errors"]:
            how = f"{bound} requests at once: {at_once['errors']} failed without an answer"
        return Limit(surface, None, NOT_FOUND, how, records)
    if not found["observed_limit"]:
        how = f"{bound} requests at once were all refused ({', '.join(found['signal'])})"
        return Limit(surface, None, NOT_FOUND, how, records)
    return Limit(surface, found["observed_limit"], DISCOVERED, _how(found, at_once), records)


def _how(found: dict[str, Any], step: dict[str, Any]) -> str:
    n = step["n"]
    parts = [f"{n} at once: {step['served']} served"]
    if step["rejected"]:
        signal = ", ".join(found["signal"])
        parts.append(
            f"{step['rejected']} refused ({signal}) after a median "
            f"{found['rejection_p50_ms'] / 1000:.3f} s"
        )
    if step["queued"]:
        parts.append(f"{step['queued']} served only after waiting (queued)")
    return "; ".join(parts) + f"; service time {found['service_ms'] / 1000:.3f} s"


def _records(steps: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The steps for evidence: latencies rounded, signals counted."""
    out = []
    for s in steps:
        signals: dict[str, int] = {}
        for sig in s["signals"]:
            signals[sig] = signals.get(sig, 0) + 1
        out.append(
            {
                "n": s["n"],
                "served": s["served"],
                "queued": s["queued"],
                "rejected": s["rejected"],
                "errors": s["errors"],
                "signals": signals,
                "rejection_s": sorted(round(x, 3) for x in s["rejection_latencies_s"]),
            }
        )
    return out


# --------------------------------------------------------------------------- WebSocket


def discover_ws(
    surface: str,
    open_one: Callable[[float], tuple[Attempt, Callable[[], None] | None]],
    bound: int,
    window_s: float = WS_WINDOW_S,
) -> Limit:
    """``bound`` sessions at once; ``open_one(window_s)`` opens one, waits up to the window
    for a refusal and returns its attempt and a closer for a session left open."""
    gate = threading.Barrier(bound, timeout=BARRIER_S)

    def one() -> tuple[Attempt, Callable[[], None] | None]:
        gate.wait()
        return open_one(window_s)

    with ThreadPoolExecutor(max_workers=bound) as pool:
        results = list(pool.map(lambda _: one(), range(bound)))
    for _, closer in results:
        if closer is not None:
            closer()
    time.sleep(SETTLE_S)
    attempts = [a for a, _ in results]
    steps = [step_record(bound, attempts)]
    found = probe_conclusion(steps, window_s, bound)
    records = _records(steps)
    step = steps[0]
    if not step["rejected"]:
        how = (
            f"{bound} sessions at once: {step['served']} stayed open for {window_s:g} s"
            + (f", {step['errors']} failed to connect" if step["errors"] else "")
            + f"; no refusal up to {bound}, so the limit could not be tested"
        )
        return Limit(surface, None, NOT_FOUND, how, records)
    if not step["served"]:
        how = f"{bound} sessions at once were all refused ({', '.join(found['signal'])})"
        return Limit(surface, None, NOT_FOUND, how, records)
    how = (
        f"{bound} sessions at once: {step['served']} stayed open for {window_s:g} s, "
        f"{step['rejected']} refused ({', '.join(found['signal'])}) after a median "
        f"{found['rejection_p50_ms'] / 1000:.3f} s"
    )
    return Limit(surface, step["served"], DISCOVERED, how, records)


# --------------------------------------------------------------------------- a run's discovery

# The smallest audio each REST surface accepts on every documented side: SVD needs 0.5 s
# at least, VFast takes Opus on both sides of its format dispute.
SMALLEST = {
    "stt-batch": "clip-wav-16000-1ch-0.51s",
    "svd-batch": "clip-wav-16000-1ch-0.51s",
    "pii-batch": "clip-wav-16000-1ch-0.51s",
    "vfast-batch": "opus-48000-1ch-1.3s",
}
EMULATOR_HOLD_S = 0.4  # on the emulator a request holds its slot this long (a fault header)
RAW16 = {"audio_format": "s16le", "sample_rate": 16000, "num_channels": 1}


@dataclass
class Target:
    """What a discovery needs of a run: where, which key, audio, and a way to pay."""

    base_url: str
    ws_base_url: str | None
    key: str
    redactor: Any  # harness.redact.Redactor
    manifest: Any  # harness.audio.Manifest
    charge: Callable[[str, float], None]  # (surface, audio seconds); may raise or skip
    on_emulator: bool
    timeout_s: float


def find(target: Target, surface: str, bound: int = DEFAULT_BOUND) -> Limit:
    """Discover ``surface``'s limit (REST or WebSocket) against ``target``."""
    if surface not in SMALLEST:
        return _find_ws(target, surface, bound)
    entry = target.manifest.get(SMALLEST[surface])
    path = target.manifest.path_of(entry.id)
    data = path.read_bytes()
    target.charge(surface, entry.duration_s * (bound + 1))
    headers = {VELMA_HTTP_AUTH_HEADER: target.key}
    if target.on_emulator:
        headers.update(fault_header("latency", EMULATOR_HOLD_S))
    name = path.name
    timeout = httpx.Timeout(target.timeout_s, connect=min(target.timeout_s, 5.0))
    with httpx.Client(base_url=target.base_url, timeout=timeout) as client:

        def send() -> Attempt:
            t = time.perf_counter()
            try:
                r = client.post(
                    VELMA_PATHS[surface], files={"upload_file": (name, data)}, headers=headers
                )
            except httpx.HTTPError as exc:
                return Attempt("error", time.perf_counter() - t, type(exc).__name__)
            dt = time.perf_counter() - t
            if 200 <= r.status_code < 300:
                return Attempt("served", dt)
            return Attempt("rejected", dt, str(r.status_code))

        return discover_http(surface, send, bound)


def _find_ws(target: Target, surface: str, bound: int) -> Limit:
    if not target.ws_base_url:
        return Limit(surface, None, NOT_FOUND, "the profile has no velma.ws_base_url")
    recorder = Recorder(target.redactor)  # the discovery's sessions stay out of the case's evidence
    query = {VELMA_WS_AUTH_QUERY: target.key, **RAW16}

    def open_one(window_s: float) -> tuple[Attempt, Callable[[], None] | None]:
        t = time.perf_counter()
        try:
            s = open_session(
                target.ws_base_url or "",
                VELMA_PATHS[surface],
                query,
                recorder,
                timeout_s=target.timeout_s,
            )
        except (OSError, ConnectionError) as exc:
            return Attempt("error", time.perf_counter() - t, type(exc).__name__), None
        r = s.result
        if r.handshake_status is not None:
            return Attempt("rejected", time.perf_counter() - t, f"HTTP {r.handshake_status}"), None
        s.until_close(timeout_s=window_s)
        if r.close_code is not None:
            s.close()
            return Attempt("rejected", time.perf_counter() - t, str(r.close_code)), None
        return Attempt("served", window_s), s.close

    return discover_ws(surface, open_one, bound)
