"""Admission on the Velma-2 surfaces: concurrency limits per organisation and model.

A request or connection over the limit is refused at once (never queued), with the
status or close code of the documented side; a slot comes back when its request
completes or its connection ends, cleanly or not; WebSocket refusals come as a close
code right after the upgrade.

Slots are held with N slow requests: on the emulator a per-request
``X-Emulator-Fault: latency=HOLD_S`` header; on a live target a long recording. N is
the profile's ``velma.limits.concurrency`` for the surface; when the profile states
none, N is discovered first, once per run and surface, with a bounded burst
(``harness.client.discover``); no limit found up to the bound: the case is skipped
(could not test), never passed. Every note says whether N was stated or discovered.
Streaming slots are held by open sessions that send nothing.
"""

from __future__ import annotations

import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import httpx
import pytest
from _params import surface_params

from harness.checks import Observation, closed_at_once, observe_http, observe_ws
from harness.client.control import fault_header
from harness.client.ws import WsResult
from harness.contract.tables import DOCUMENTED_BACKOFF, REST_SURFACES, STREAM_SURFACES, VELMA_PATHS
from harness.not_tested import CouldNotTest, not_tested

pytestmark = pytest.mark.own_surfaces("fills the organisation's concurrency limit there")

REST = REST_SURFACES
STREAM = STREAM_SURFACES
CLIP = "wav-pcm16-16000-1ch-2s"
OK_FIXTURE = {  # VFast: Opus is accepted on both documented sides of contradiction #7
    "stt-batch": CLIP,
    "vfast-batch": "opus-48000-1ch-2s",
    "svd-batch": CLIP,
    "pii-batch": CLIP,
}
CLIP_S = 2.0
LONG = "long-wav-16000-1ch-62s"  # live targets: a request that takes a while to process
LONG_S = 62.0
HOLD_S = 0.4  # emulator: added latency of every held request
HOLD_RETRY_S = 2.0  # emulator: the longer hold of the one retry on a busy machine
AT_ONCE_S = 1.0  # a refusal "at once": well before any held request or session ends
SLOT_POLL_S = 2.0  # how long a freed slot may take to come back
RAW16 = {"audio_format": "s16le", "sample_rate": 16000, "num_channels": 1}
SILENCE_01S = bytes(3200)  # 0.1 s of s16le mono 16 kHz
REFUSED_WS = (4001, 4003, 4029)
REFUSAL_ROLES = ("invalid", "no_model_access", "quota_exhausted")


class _SlotsNotHeld(CouldNotTest):
    """The held requests did not all hold a slot when the extra one was sent: nothing tested."""

    def __init__(self, surface: str, detail: str) -> None:
        super().__init__("cannot-provoke", f"{surface}: could not hold every slot", detail)


def _on_emulator(case: Any) -> bool:
    return case.profile.emulator is not None


def _in_flight(case: Any, surface: str) -> int:
    """Largest in-flight count of any organisation on ``surface`` (emulator only)."""
    orgs = case.emulator().state().get("orgs", {})
    return max((o.get("in_flight", {}).get(surface, 0) for o in orgs.values()), default=0)


def _wait_in_flight(case: Any, surface: str, n: int) -> None:
    """Until ``n`` requests hold slots (emulator state), or a short settle on a live target."""
    if not _on_emulator(case):
        time.sleep(1.0)
        return
    deadline = time.monotonic() + SLOT_POLL_S
    time.sleep(0.03)  # each state() call is slow-ish: let the requests arrive first
    while _in_flight(case, surface) < n:
        if time.monotonic() > deadline:
            raise _SlotsNotHeld(
                surface, f"only {_in_flight(case, surface)} of {n} held requests in flight"
            )
        time.sleep(0.01)


# --------------------------------------------------------------------------- REST saturation


@dataclass
class Saturation:
    limit: int
    origin: str  # the limit, and whether the profile stated it or the run discovered it
    held: list[tuple[httpx.Response, float]]  # response, completion time (perf_counter)
    extra: httpx.Response
    extra_start: float
    extra_done: float

    @property
    def held_ok(self) -> bool:
        return all(r.status_code == 200 for r, _ in self.held)

    @property
    def first_held_done(self) -> float:
        return min(t for _, t in self.held)

    @property
    def refused(self) -> bool:
        return self.extra.status_code in (403, 429)

    @property
    def immediate(self) -> bool:
        """Refused, and answered before any held request finished."""
        return self.refused and self.extra_done < self.first_held_done

    def note(self) -> str:
        held = ", ".join(f"{r.status_code}@{t - self.extra_start:+.3f}s" for r, t in self.held)
        return (
            f"{self.origin}; {self.limit} held; extra answered {self.extra.status_code} after "
            f"{self.extra_done - self.extra_start:.3f} s; held finished relative to the "
            f"extra's start: {held}"
        )


def _hold_plan(
    case: Any, surface: str, hold_s: float = HOLD_S
) -> tuple[Any, str, dict[str, str], float]:
    """The limit (stated or discovered), the fixture that holds a slot, headers, seconds."""
    limit = case.concurrency_limit(surface)
    if _on_emulator(case):
        return limit, OK_FIXTURE[surface], fault_header("latency", hold_s), CLIP_S
    return limit, LONG, {}, LONG_S


class Uploader:
    """One recording client shared by the threads (an httpx client is thread-safe, and
    making one per request costs more than the emulator takes to answer)."""

    def __init__(self, case: Any) -> None:
        self.case = case
        self.key = case.key("valid")
        self.http = case.http()

    def __call__(
        self, surface: str, fixture_id: str, headers: dict[str, str] | None = None
    ) -> httpx.Response:
        h = {"X-API-Key": self.key, **(headers or {})}
        files = {"upload_file": self.case.fixture(fixture_id)}
        return self.http.post(VELMA_PATHS[surface], files=files, headers=h)


def _saturate(case: Any, surface: str, after: Any = None) -> Saturation:
    """Hold ``limit`` slots on ``surface``, send one more; ``after()`` runs while still held.

    On the emulator a busy machine can take longer than the hold to send the extra request;
    then the slots are held again, longer, once (HOLD_RETRY_S), before giving up as
    could-not-test. A live target's holds are long recordings: one attempt.
    """
    holds = (HOLD_S, HOLD_RETRY_S) if _on_emulator(case) else (HOLD_S,)
    for n, hold_s in enumerate(holds, 1):
        try:
            return _saturate_once(case, surface, hold_s, after)
        except _SlotsNotHeld:
            if n == len(holds):
                raise
    raise AssertionError("unreachable")


def _saturate_once(case: Any, surface: str, hold_s: float, after: Any) -> Saturation:
    found, fixture_id, headers, seconds = _hold_plan(case, surface, hold_s)
    limit = int(found.value)
    case.charge(surface, seconds * limit + CLIP_S)
    upload = Uploader(case)

    def held_one() -> tuple[httpx.Response, float]:
        r = upload(surface, fixture_id, headers)
        return r, time.perf_counter()

    with ThreadPoolExecutor(max_workers=limit) as pool:
        futures = [pool.submit(held_one) for _ in range(limit)]
        _wait_in_flight(case, surface, limit)
        start = time.perf_counter()
        extra = upload(surface, OK_FIXTURE[surface])
        done = time.perf_counter()
        if after is not None:
            after()
        after_done = time.perf_counter()
        held = [f.result() for f in futures]
    sat = Saturation(limit, found.describe(), held, extra, start, done)
    if not sat.held_ok:
        codes = [r.status_code for r, _ in held]
        raise CouldNotTest(
            "cannot-provoke",
            f"{surface}: the held requests were not all admitted",
            f"the held requests were not all admitted ({codes}); cannot test",
        )
    if sat.first_held_done <= start:  # a slot was free again before the extra was sent
        raise _SlotsNotHeld(
            surface,
            f"could not hold {limit} slots: a held request ended before the extra was sent; "
            f"{sat.note()}",
        )
    if after is not None and sat.first_held_done <= after_done:
        raise _SlotsNotHeld(  # what after() saw may be after a slot came free: not judged
            surface,
            f"could not hold {limit} slots: a held request ended before the checks made while "
            f"held were over; {sat.note()}",
        )
    return sat


@pytest.mark.parametrize("surface", surface_params("concurrency-limit", REST))
def test_rest_concurrency_limit(case, surface):
    sat = _saturate(case, surface)
    case.judge(observe_http(sat.extra, note=sat.note()))


@pytest.mark.parametrize("surface", surface_params("concurrency-immediate", REST))
def test_rest_concurrency_immediate(case, surface):
    sat = _saturate(case, surface)
    case.judge(observe_http(sat.extra, behaviour=sat.immediate, note=sat.note()))


# --------------------------------------------------------------------------- WebSocket saturation


class Held(list):
    """The sessions holding every slot of a surface, and where their number came from."""

    origin: str = ""


def _hold_streams(case: Any, surface: str) -> Held:
    found = case.concurrency_limit(surface)
    limit = int(found.value)
    sessions = Held(case.ws(surface, RAW16) for _ in range(limit))
    sessions.origin = found.describe()
    if _on_emulator(case):
        _wait_in_flight(case, surface, limit)
    else:
        time.sleep(0.3)
    for s in sessions:
        s.receive(until_close=False, timeout_s=0.0)
    if not all(s.open for s in sessions):
        states = [s.result.describe() for s in sessions]
        raise RuntimeError(f"the held sessions were not all admitted: {states}; cannot test")
    return sessions


def _one_more(case: Any, surface: str) -> tuple[WsResult, float]:
    start = time.perf_counter()
    s = case.ws(surface, RAW16)
    s.until_close(timeout_s=min(case.timeout_s, 3.0))
    elapsed = time.perf_counter() - start
    s.close()
    return s.result, elapsed


def _refused_at_once(result: WsResult, elapsed: float) -> bool:
    return closed_at_once(result) and result.close_code in REFUSED_WS and elapsed < AT_ONCE_S


@pytest.mark.parametrize("surface", surface_params("concurrency-limit", STREAM))
def test_stream_concurrency_limit(case, surface):
    held = _hold_streams(case, surface)
    result, elapsed = _one_more(case, surface)
    still_open = all(s.open for s in held)
    note = (
        f"{held.origin}; {len(held)} sessions open; one more: {result.describe()} "
        f"after {elapsed:.3f} s"
    )
    obs = observe_ws(result, behaviour=_refused_at_once(result, elapsed) and still_open, note=note)
    case.judge(obs, aspect="close")


@pytest.mark.parametrize("surface", surface_params("admission-immediate", STREAM))
def test_stream_admission_immediate(case, surface):
    held = _hold_streams(case, surface)
    result, elapsed = _one_more(case, surface)
    for s in held:
        s.receive(until_close=False, timeout_s=0.0)
    still_open = all(s.open for s in held)
    behaviour = _refused_at_once(result, elapsed) and still_open
    note = (
        f"{held.origin}; refusal {result.describe()} after {elapsed:.3f} s while "
        f"{sum(s.open for s in held)} of {len(held)} held sessions were still open"
    )
    case.judge(observe_ws(result, behaviour=behaviour, note=note), aspect="close")


def _refusals(case: Any, surface: str) -> list[tuple[str, WsResult]]:
    out = []
    for role in REFUSAL_ROLES:
        if case.profile.velma.key(role) is None:
            continue
        s = case.ws(surface, RAW16, role=role)
        s.until_close(timeout_s=min(case.timeout_s, 3.0))  # no audio sent
        s.close()
        out.append((role, s.result))
    if not out:
        not_tested("missing-role", "the profile has no key that is refused")
    return out


@pytest.mark.parametrize("surface", surface_params("admission-at-handshake", STREAM))
def test_stream_admission_at_handshake(case, surface):
    seen = _refusals(case, surface)
    ok = all(closed_at_once(r) and r.close_code in REFUSED_WS for _, r in seen)
    note = "; ".join(f"{role}: {r.describe()}" for role, r in seen)
    case.judge(observe_ws(seen[0][1], behaviour=ok, note=note), aspect="close")


@pytest.mark.clause("velma/ws-reject-at-handshake")
@pytest.mark.parametrize("role", REFUSAL_ROLES)
def test_velma_ws_reject_at_handshake(case, role):
    case.key(role)
    for surface in STREAM:
        s = case.ws(surface, RAW16, role=role)
        s.until_close(timeout_s=min(case.timeout_s, 3.0))
        s.close()
        r = s.result
        behaviour = r.handshake_status is not None or closed_at_once(r)
        case.judge(
            observe_ws(r, behaviour=behaviour, note=f"{surface}, {role} key"), aspect="close"
        )


# --------------------------------------------------------------------------- velma-wide


@pytest.mark.clause("velma/concurrency-immediate-reject")
@pytest.mark.parametrize("transport", ["rest", "websocket"])
def test_velma_concurrency_immediate_reject(case, transport):
    if transport == "rest":
        sat = _saturate(case, "stt-batch")
        case.judge(observe_http(sat.extra, behaviour=sat.immediate, note=sat.note()))
        return
    held = _hold_streams(case, "stt-stream")
    result, elapsed = _one_more(case, "stt-stream")
    behaviour = _refused_at_once(result, elapsed) and all(s.open for s in held)
    note = f"{held.origin}; {result.describe()} after {elapsed:.3f} s with {len(held)} held"
    case.judge(observe_ws(result, behaviour=behaviour, note=note), aspect="close")


def _admitted_stream(case: Any, surface: str) -> tuple[bool, float, str]:
    """Poll for up to SLOT_POLL_S until a new session runs to ``done`` + 1000."""
    start = time.perf_counter()
    last = ""
    while True:
        result = case.stream(surface, RAW16, [SILENCE_01S], audio_seconds=0.1)
        last = result.describe()
        elapsed = time.perf_counter() - start
        if result.close_code == 1000 and "done" in result.types:
            return True, elapsed, last
        if elapsed > SLOT_POLL_S:
            return False, elapsed, last
        time.sleep(0.05)


@pytest.mark.clause("velma/concurrency-slot-frees")
@pytest.mark.parametrize("how", ["rest-complete", "ws-close", "ws-unclean-disconnect"])
def test_velma_concurrency_slot_frees(case, how):
    if how == "rest-complete":
        surface = "stt-batch"
        sat = _saturate(case, surface)
        after = case.upload(surface, case.fixture(OK_FIXTURE[surface]), audio_seconds=CLIP_S)
        behaviour = sat.refused and after.status_code == 200
        note = f"{sat.note()}; after they completed, a new request: {after.status_code}"
        case.judge(observe_http(after, behaviour=behaviour, note=note))
        return
    surface = "stt-stream"
    held = _hold_streams(case, surface)
    refused, _ = _one_more(case, surface)
    if how == "ws-close":
        held[0].close()
    else:
        held[0].drop()
    admitted, waited, last = _admitted_stream(case, surface)
    behaviour = refused.close_code in REFUSED_WS and admitted
    note = (
        f"{held.origin}; at the limit: {refused.describe()}; after one held session ended ({how}), "
        f"a new one {'ran' if admitted else 'was not admitted'} within {waited:.3f} s: {last}"
    )
    case.judge(Observation(close_code=refused.close_code, behaviour=behaviour, note=note))


@pytest.mark.clause("velma/limits-per-org-per-model")
def test_velma_limits_per_org_per_model(case):
    surface, other = "stt-batch", "vfast-batch"
    usage: list[float] = []

    def used() -> float:
        orgs = case.emulator().state().get("orgs", {})
        return sum(o.get("used_audio_seconds", 0.0) for o in orgs.values())

    def while_held() -> None:
        if _on_emulator(case):
            usage.append(used())
        elsewhere.append(case.upload(other, case.fixture(OK_FIXTURE[other]), audio_seconds=CLIP_S))

    elsewhere: list[httpx.Response] = []
    before = used() if _on_emulator(case) else None
    sat = _saturate(case, surface, after=while_held)
    other_ok = elsewhere[0].status_code == 200
    quota_untouched = True
    note = f"{sat.origin}; {surface} at its limit: extra {sat.extra.status_code}; {other}: "
    note += f"{elsewhere[0].status_code}"
    if before is not None:
        quota_untouched = usage[0] == before
        note += f"; usage before {before:.3f} s, after the refusal {usage[0]:.3f} s"
    behaviour = sat.refused and other_ok and quota_untouched
    case.judge(Observation(status=sat.extra.status_code, behaviour=behaviour, note=note))


@pytest.mark.clause("velma/client-concurrency-retry")
def test_velma_client_concurrency_retry(case):
    """The documented client: after a 429, wait (backoff, first wait >= 1 s), then retry."""
    surface = "stt-batch"
    sat = _saturate(case, surface)
    policy = DOCUMENTED_BACKOFF
    waits: list[float] = []
    retry = sat.extra
    last = time.perf_counter()
    for attempt in range(policy.max_retries):
        if retry.status_code not in policy.retry_statuses:
            break
        low, _ = policy.wait_bounds(attempt)
        time.sleep(low)  # the lower bound: jitter left out to keep the case short
        retry = case.upload(surface, case.fixture(OK_FIXTURE[surface]), audio_seconds=CLIP_S)
        waits.append(time.perf_counter() - last)
        last = time.perf_counter()
    behaviour = bool(waits) and min(waits) >= 1.0 and retry.status_code == 200
    note = (
        f"{sat.origin}; refused {sat.extra.status_code}; retries after {', '.join(f'{w:.2f}' for w in waits)} s; "
        f"last retry {retry.status_code}"
    )
    case.judge(observe_http(sat.extra, behaviour=behaviour, note=note))


@pytest.mark.clause("velma/client-semaphore")
def test_velma_client_semaphore(case):
    """The documented client pattern: a semaphore sized to the limit; 2N requests, no refusal."""
    surface = "stt-batch"
    found, fixture_id, headers, seconds = _hold_plan(case, surface)
    limit = int(found.value)
    if _on_emulator(case):
        headers = fault_header("latency", HOLD_S / 2)
    total = 2 * limit
    case.charge(surface, seconds * total)
    upload = Uploader(case)
    sem = threading.Semaphore(limit)
    lock = threading.Lock()
    in_flight = [0, 0]  # now, peak

    def one() -> int:
        with sem:
            with lock:
                in_flight[0] += 1
                in_flight[1] = max(in_flight[1], in_flight[0])
            try:
                return upload(surface, fixture_id, headers).status_code
            finally:
                with lock:
                    in_flight[0] -= 1

    with ThreadPoolExecutor(max_workers=total) as pool:
        codes = list(pool.map(lambda _: one(), range(total)))
    refused = [c for c in codes if c in (403, 429)]
    behaviour = in_flight[1] <= limit and not refused and all(c == 200 for c in codes)
    note = (
        f"{found.describe()}; {total} requests, semaphore {limit}, peak in flight "
        f"{in_flight[1]}; statuses {codes}"
    )
    case.judge(Observation(behaviour=behaviour, note=note))
