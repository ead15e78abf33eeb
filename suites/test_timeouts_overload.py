"""Server errors, overload, documented client backoff, and the 100 MB upload size.

Faults exist only on the emulator (``X-Emulator-Fault: overload``, ``internal-error``,
``validation-unavailable``, ``upstream-failure``); on a live target those cases skip
through ``case.emulator()`` (cannot be provoked). The backoff clauses describe
what a client should do: they are checked on the harness's own retry loop below
(``DOCUMENTED_BACKOFF``, waits scaled by ``BACKOFF_SCALE``) run against the
target while it answers 503. The 504 cases (``velma/batch-timeout`` and
``*/timeout-504``) live in ``test_zz_pending_s1a.py`` (see there why).
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from email.utils import parsedate_to_datetime
from typing import Any

import pytest
from _params import surface_params

from harness.audio import open_stream
from harness.checks import observe_http
from harness.client.control import fault_header
from harness.contract.tables import (
    DETAIL_NOT_COMPLETED,
    DOCUMENTED_BACKOFF,
    MAX_BATCH_UPLOAD_BYTES_BINARY,
    REST_STATUSES,
    REST_SURFACES,
    VELMA_PATHS,
)

REST = REST_SURFACES
CLIP = "wav-pcm16-16000-1ch-2s"
TINY = "clip-wav-16000-1ch-0.5s"  # for requests repeated many times
OVERLOAD = fault_header("overload")
INTERNAL = fault_header("internal-error")
# 502: the key cannot be validated upstream (every batch surface documents it), or the
# request cannot be completed (STT Batch only).
BAD_GATEWAY = {
    "cannot-validate": fault_header("validation-unavailable"),
    "not-completed": fault_header("upstream-failure"),
}
# Documented waits are 1-17 s; the harness's retry loop sleeps them x BACKOFF_SCALE so a
# full 5-retry run takes ~0.35 s. Gaps are judged unscaled (observed / scale); the upper
# bound allows SLEEP_SLACK_S of real time for thread scheduling.
BACKOFF_SCALE = 0.01
SLEEP_SLACK_S = 0.03
OVERSIZE = "oversize-wav-48000-2ch-550s"


# --------------------------------------------------------------------------- 500 / 502


@pytest.mark.parametrize("surface", surface_params("internal-error-500", REST))
def test_internal_error_500(case, surface):
    case.emulator(provokes="HTTP 500 (internal error)")
    r = case.upload(surface, case.fixture(TINY), headers=INTERNAL, audio_seconds=0.5)
    case.judge(observe_http(r))


def _bad_gateway() -> list[object]:
    """(surface, cause) for every 502 cause a surface documents."""
    out: list[object] = []
    for s in REST:
        row = next(r for r in REST_STATUSES if r.surface == s and r.status == 502)
        causes = ["cannot-validate"] + (
            ["not-completed"] if DETAIL_NOT_COMPLETED in row.details else []
        )
        out += surface_params("bad-gateway-502", [s], values=causes)
    return out


@pytest.mark.parametrize(("surface", "cause"), _bad_gateway())
def test_bad_gateway_502(case, surface, cause):
    case.emulator(provokes="HTTP 502 (upstream validation / completion failure)")
    r = case.upload(surface, case.fixture(TINY), headers=BAD_GATEWAY[cause], audio_seconds=0.5)
    case.judge(observe_http(r))


# --------------------------------------------------------------------------- 503


@pytest.mark.parametrize("surface", surface_params("overloaded-503", REST))
def test_overloaded_503(case, surface):
    case.emulator()
    r = case.upload(surface, case.fixture(TINY), headers=OVERLOAD, audio_seconds=0.5)
    case.judge(observe_http(r))


@pytest.mark.clause("velma/overload-503")
@pytest.mark.alone("switches overload on for every request")
@pytest.mark.parametrize("surface", ["stt-batch", "vfast-batch"])
def test_overload_is_transient(case, surface):
    """503 while the target is overloaded; the identical request succeeds once it is not.

    Overload is switched on for every request (control endpoint) rather than by a request
    header, so the retried request is byte-for-byte the first one.
    """
    control = case.emulator()
    before = control.state()["switches"]
    control.switches(faults=[*before["faults"], "overload"], deviations=before["deviations"])
    try:
        first = case.upload(surface, case.fixture(TINY), audio_seconds=0.5)
    finally:
        control.switches(faults=before["faults"], deviations=before["deviations"])
    again = case.upload(surface, case.fixture(TINY), audio_seconds=0.5)
    ok = first.status_code == 503 and again.status_code == 200
    note = f"overloaded: HTTP {first.status_code}; same request after: HTTP {again.status_code}"
    case.judge(observe_http(first, behaviour=ok, note=note))


# --------------------------------------------------------------------------- client backoff


@dataclass
class Attempt:
    status: int
    sent: float
    answered: float
    retry_after: str | None


@dataclass
class RetryRun:
    attempts: list[Attempt] = field(default_factory=list)
    planned: list[float] = field(default_factory=list)  # unscaled waits the loop chose
    last: Any = None

    def gaps(self) -> list[float]:
        """Unscaled observed waits between an answer and the next attempt."""
        a = self.attempts
        return [(a[i + 1].sent - a[i].answered) / BACKOFF_SCALE for i in range(len(a) - 1)]


def retry_with_backoff(send: Callable[[], Any], seed: int = 0) -> RetryRun:
    """The documented client: retry on 429/503 with 2**attempt + U(0, 1) s, at most 5 times."""
    policy = DOCUMENTED_BACKOFF
    rng = random.Random(seed)
    run = RetryRun()
    for attempt in range(policy.max_retries + 1):
        t0 = time.monotonic()
        r = send()
        run.attempts.append(
            Attempt(r.status_code, t0, time.monotonic(), r.headers.get("retry-after"))
        )
        run.last = r
        if r.status_code not in policy.retry_statuses or attempt == policy.max_retries:
            break
        wait = policy.base**attempt + rng.uniform(0, policy.jitter_s)
        run.planned.append(wait)
        time.sleep(wait * BACKOFF_SCALE)
    return run


def _retry_after_ok(value: str | None) -> bool:
    if value is None:
        return True
    v = value.strip()
    if v.isdigit():
        return True
    try:
        return parsedate_to_datetime(v) is not None
    except (TypeError, ValueError):
        return False


def _gap_problems(run: RetryRun) -> list[str]:
    problems = []
    for i, (gap, planned) in enumerate(zip(run.gaps(), run.planned, strict=True)):
        low, high = DOCUMENTED_BACKOFF.wait_bounds(i)
        if not low <= planned <= high:
            problems.append(
                f"planned wait {planned:.2f} s after attempt {i} outside {low}-{high} s"
            )
        if not low <= gap <= high + SLEEP_SLACK_S / BACKOFF_SCALE:
            problems.append(f"observed gap {gap:.2f} s after attempt {i} outside {low}-{high} s")
    bad_ra = [a.retry_after for a in run.attempts if not _retry_after_ok(a.retry_after)]
    if bad_ra:
        problems.append(f"Retry-After not a delay: {bad_ra}")
    return problems


def _overloaded_send(case: Any, surface: str = "vfast-batch") -> Callable[[], Any]:
    case.emulator()
    fixture = case.fixture(TINY)
    return lambda: case.upload(surface, fixture, headers=OVERLOAD)


def _describe(run: RetryRun) -> str:
    statuses = [a.status for a in run.attempts]
    gaps = ", ".join(f"{g:.2f}" for g in run.gaps())
    return f"{len(statuses)} attempts {statuses}; unscaled gaps [{gaps}] s (scale {BACKOFF_SCALE})"


@pytest.mark.clause("velma/client-backoff-jitter")
def test_client_backoff_waits(case):
    run = retry_with_backoff(_overloaded_send(case), seed=1)
    problems = _gap_problems(run)
    if len(run.attempts) < 2:
        problems.append("the target never answered 503, so nothing was retried")
    note = "; ".join(problems) or _describe(run)
    case.judge(observe_http(run.last, behaviour=not problems, note=note))


@pytest.mark.clause("velma/client-max-retries")
def test_client_gives_up_after_five_retries(case):
    run = retry_with_backoff(_overloaded_send(case), seed=2)
    statuses = [a.status for a in run.attempts]
    ok = len(run.attempts) <= DOCUMENTED_BACKOFF.max_retries + 1 and all(s == 503 for s in statuses)
    case.judge(observe_http(run.last, behaviour=ok, note=_describe(run)))


@pytest.mark.clause("velma/client-retry-statuses")
def test_client_retries_only_429_503(case):
    """503: retried after a backoff wait; a 400 (unsupported extension): returned at once."""
    run = retry_with_backoff(_overloaded_send(case), seed=3)
    problems = _gap_problems(run)
    first = run.attempts[0]
    if first.status != 503 or len(run.attempts) < 2:
        problems.append(f"expected a retried 503, saw {[a.status for a in run.attempts]}")
    bad = case.fixture("unsupported-ext-wav-named-txt")
    other = retry_with_backoff(lambda: case.upload("vfast-batch", bad), seed=4)
    if other.attempts[0].status in DOCUMENTED_BACKOFF.retry_statuses or len(other.attempts) != 1:
        problems.append(
            f"a non-retry status was retried or missing: {[a.status for a in other.attempts]}"
        )
    note = "; ".join(problems) or (
        f"503 run: {_describe(run)}; HTTP {other.attempts[0].status} returned after 1 attempt"
    )
    case.judge(observe_http(run.last, behaviour=not problems, note=note))


# --------------------------------------------------------------------------- 100 MB


def _multipart(boundary: str, filename: str, chunks: Iterator[bytes], sent: list[int]):
    head = (
        f"--{boundary}\r\n"
        f'Content-Disposition: form-data; name="upload_file"; filename="{filename}"\r\n'
        "Content-Type: application/octet-stream\r\n\r\n"
    )
    yield head.encode()
    for chunk in chunks:
        sent[0] += len(chunk)
        yield chunk
    yield f"\r\n--{boundary}--\r\n".encode()


@pytest.mark.clause("velma/batch-max-size")
@pytest.mark.parametrize("fixture_id", [OVERSIZE])
def test_upload_over_100_mb(case, fixture_id):
    """A 105.6 MB WAV (over both 100 MB and 100 MiB), streamed: memory stays bounded."""
    surface = "stt-batch"  # accepts WAV whichever side of the VFast format dispute a target takes
    entry = case.fixture_entry(fixture_id)
    case.charge(surface, entry.duration_s)
    case.recorder.audio = {"id": entry.id, "sha256": entry.sha256}
    boundary = "harness-s1a-oversize-7f3a9c"
    sent = [0]
    body = _multipart(boundary, f"{fixture_id}.wav", open_stream(fixture_id), sent)
    t0 = time.monotonic()
    r = case.http().request(
        "POST",
        VELMA_PATHS[surface],
        headers={
            "X-API-Key": case.key("valid"),
            "Content-Type": f"multipart/form-data; boundary={boundary}",
        },
        content=body,  # type: ignore[arg-type]  # httpx streams an iterator body
    )
    elapsed = time.monotonic() - t0
    over = sent[0] > MAX_BATCH_UPLOAD_BYTES_BINARY
    if r.status_code == 200:
        ok = over  # "processed": a 200 for the whole upload
    elif r.status_code in (400, 413, 422):
        ok = True  # refused; the status says it was not processed
    else:
        ok = False
    note = (
        f"sent {sent[0]} bytes (> 100 MiB: {over}) in {elapsed:.1f} s; HTTP {r.status_code}"
        f" {r.text[:100]!r}"
    )
    case.judge(observe_http(r, behaviour=ok, note=note))
