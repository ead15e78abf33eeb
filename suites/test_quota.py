"""The monthly audio-hour quota on the Velma-2 surfaces.

The profile's ``quota_exhausted`` key belongs to an organisation with no quota left:
every request or connection it makes must be refused (status or close code of the
documented side), and no retry may succeed. Retries follow the documented backoff
(``wait = 2**attempt + uniform(0, 1)``, at most 5 retries) with every wait scaled by
``BACKOFF_SCALE`` so that a case stays well under a second; the period cannot reset
in that time, so the scaling changes nothing the clauses speak of.
"""

from __future__ import annotations

import random
import re
import time
from typing import Any

import pytest
from _params import surface_params
from _stream_helpers import RAW16, judge_refused_at_once

from harness.checks import Observation, closed_at_once, observe_http, observe_ws
from harness.client.ws import WsResult
from harness.contract.tables import DOCUMENTED_BACKOFF, REST_SURFACES, STREAM_SURFACES, VELMA_PATHS
from harness.not_tested import not_tested

REST = REST_SURFACES
STREAM = STREAM_SURFACES
CLIP = "wav-pcm16-16000-1ch-2s"
SILENCE_05S = bytes(16000)
BACKOFF_SCALE = 0.01  # documented waits (1, 2, 4, 8, 16 s + jitter) x 0.01
REFUSED_WS = (4003, 4029)  # the documented quota refusals on WebSocket


def _detail(r: Any) -> str | None:
    try:
        body = r.json()
    except ValueError:
        return None
    return body.get("detail") if isinstance(body, dict) else None


def _waits(seed: str) -> list[float]:
    """The documented backoff waits for every retry, scaled (seeded jitter: reproducible)."""
    rng = random.Random(seed)
    policy = DOCUMENTED_BACKOFF
    return [
        (policy.base**a + rng.uniform(0.0, policy.jitter_s)) * BACKOFF_SCALE
        for a in range(policy.max_retries)
    ]


def _rest_attempts(case: Any, surface: str) -> list[Any]:
    """The first request and every documented retry, with the quota_exhausted key."""
    key = case.key("quota_exhausted")
    http = case.http()  # one client for all attempts

    def attempt() -> Any:
        files = {"upload_file": case.fixture(CLIP)}
        return http.post(VELMA_PATHS[surface], files=files, headers={"X-API-Key": key})

    out = [attempt()]
    for wait in _waits(case.item.nodeid):
        time.sleep(wait)
        out.append(attempt())
    return out


def _stream_attempts(case: Any, surface: str) -> list[WsResult]:
    case.key("quota_exhausted")
    out = [case.stream(surface, RAW16, [], role="quota_exhausted")]
    for wait in _waits(case.item.nodeid):
        time.sleep(wait)
        out.append(case.stream(surface, RAW16, [], role="quota_exhausted"))
    return out


def _same_http_refusal(rs: list[Any]) -> bool:
    """Every attempt refused with the first one's status (the wording may vary: no page
    promises the text, so it is reported in the note only)."""
    first = rs[0].status_code
    return first in (403, 429) and all(r.status_code == first for r in rs)


def _same_ws_refusal(rs: list[WsResult]) -> bool:
    def sig(r: WsResult) -> tuple[Any, ...]:
        return (r.handshake_status, r.close_code, "error" in r.types)

    first = rs[0]
    refused = first.close_code in REFUSED_WS or first.handshake_status in (403, 429)
    return refused and all(sig(r) == sig(first) and closed_or_rejected(r) for r in rs)


def closed_or_rejected(r: WsResult) -> bool:
    return r.handshake_status is not None or closed_at_once(r)


# --------------------------------------------------------------------------- per surface


@pytest.mark.parametrize("surface", surface_params("monthly-quota", REST))
def test_rest_monthly_quota(case, surface):
    r = case.upload(surface, case.fixture(CLIP), role="quota_exhausted")
    case.judge(observe_http(r))


@pytest.mark.parametrize("surface", surface_params("monthly-quota", STREAM))
def test_stream_monthly_quota(case, surface):
    judge_refused_at_once(case, surface, "quota_exhausted")


@pytest.mark.parametrize("surface", surface_params("quota-persists", STREAM))
def test_stream_quota_persists(case, surface):
    results = _stream_attempts(case, surface)
    same = _same_ws_refusal(results)
    note = f"{len(results)} connections (scaled backoff x{BACKOFF_SCALE}): " + "; ".join(
        sorted({r.describe() for r in results})
    )
    case.judge(observe_ws(results[-1], behaviour=same, note=note), aspect="close")


# --------------------------------------------------------------------------- velma-wide


@pytest.mark.clause("velma/monthly-limit-sticky")
@pytest.mark.parametrize("surface", REST + STREAM)
def test_velma_monthly_limit_sticky(case, surface):
    scale = f"documented backoff scaled x{BACKOFF_SCALE}"
    if surface in REST:
        rs = _rest_attempts(case, surface)
        codes = ", ".join(f"{r.status_code} {_detail(r)!r}" for r in rs)
        note = f"{surface}: {len(rs)} attempts ({scale}): {codes}"
        case.judge(observe_http(rs[0], behaviour=_same_http_refusal(rs), note=note))
        return
    results = _stream_attempts(case, surface)
    seen = "; ".join(sorted({r.describe() for r in results}))
    note = f"{surface}: {len(results)} connections ({scale}): {seen}"
    obs = observe_ws(results[0], behaviour=_same_ws_refusal(results), note=note)
    case.judge(obs, aspect="close")


_MONTHLY = re.compile(r"month", re.IGNORECASE)
_LIMIT = re.compile(r"limit|quota|usage", re.IGNORECASE)


@pytest.mark.clause("velma/forbidden-detail-monthly-limit")
def test_velma_forbidden_detail_monthly_limit(case):
    seen = {s: case.upload(s, case.fixture(CLIP), role="quota_exhausted") for s in REST}
    forbidden = {s: r for s, r in seen.items() if r.status_code == 403}
    if not forbidden:
        codes = ", ".join(f"{s}: {r.status_code}" for s, r in seen.items())
        not_tested("other", f"no surface answers a spent monthly quota with 403 ({codes})")
    for surface, r in forbidden.items():
        d = _detail(r) or ""
        mentions = bool(_MONTHLY.search(d) and _LIMIT.search(d))
        case.judge(observe_http(r, behaviour=mentions, note=surface))


@pytest.mark.clause("velma/client-monthly-no-retry")
def test_velma_client_monthly_no_retry(case):
    """As the documented client: on the monthly-limit refusal, stop calling that model."""
    key = case.key("quota_exhausted")
    http = case.http()
    order = sorted(REST, key=lambda s: s != "svd-batch")  # the 403 side first
    refusal = None
    for surface in order:
        files = {"upload_file": case.fixture(CLIP)}
        r = http.post(VELMA_PATHS[surface], files=files, headers={"X-API-Key": key})
        refusal = (surface, r, len(case.recorder.items))
        if r.status_code == 403:
            break
    assert refusal is not None
    surface, r, at = refusal
    path = VELMA_PATHS[surface]
    later = [
        i
        for i in case.recorder.items[at:]
        if i.get("kind") == "http" and path in str(i.get("request", {}).get("url", ""))
    ]
    note = f"{surface}: {r.status_code} {_detail(r)!r}; later requests to it: {len(later)}"
    case.judge(observe_http(r, behaviour=not later, note=note))


def _used(case: Any) -> float:
    orgs = case.emulator().state().get("orgs", {})
    return sum(o.get("used_audio_seconds", 0.0) for o in orgs.values())


@pytest.mark.clause("velma/quota-counts-audio-hours")
@pytest.mark.alone("counts the organisation's quota spent, and resets it")
def test_velma_quota_counts_audio_hours(case):
    """One 2 s WAV, four 0.5 s WAVs, one 2 s MP3 (under a quarter of the bytes): each
    group spends what its `duration_ms` add up to, and all three about the same."""
    control = case.emulator()
    surface = "stt-batch"
    key = case.key("valid")
    http = case.http()
    groups = {
        "one 2 s mono": ["wav-pcm16-16000-1ch-2s"],
        "four 0.5 s": ["clip-wav-16000-1ch-0.5s"] * 4,
        "one 2 s mp3": ["mp3-44100-2ch-2s"],
    }
    case.charge(surface, 6.0)
    spent: dict[str, tuple[float, float]] = {}  # usage delta, sum of duration_ms / 1000
    try:
        for name, ids in groups.items():
            before = _used(case)
            reported = 0.0
            for fid in ids:
                files = {"upload_file": case.fixture(fid)}
                r = http.post(VELMA_PATHS[surface], files=files, headers={"X-API-Key": key})
                assert r.status_code == 200, f"{fid}: {r.status_code} {r.text[:200]}"
                reported += float(r.json()["duration_ms"]) / 1000.0
            spent[name] = (_used(case) - before, reported)
    finally:
        control.reset()
    tracks = all(abs(d - rep) <= 0.002 * len(groups) for d, rep in spent.values())
    deltas = [d for d, _ in spent.values()]
    equal = max(deltas) - min(deltas) <= 0.05  # an MP3 may carry encoder padding
    note = "; ".join(
        f"{n}: usage +{d:.3f} s, duration_ms sum {rep:.3f} s" for n, (d, rep) in spent.items()
    )
    case.judge(Observation(behaviour=tracks and equal, note=note))


@pytest.mark.clause("velma/billed-duration")
@pytest.mark.parametrize(
    "fixture_id", ["wav-pcm16-16000-1ch-2s", "wav-pcm16-16000-2ch-1s", "mp3-44100-2ch-2s"]
)
def test_velma_billed_duration(case, fixture_id):
    expected = case.fixture_entry(fixture_id).duration_s
    size = case.fixture_entry(fixture_id).bytes
    r = case.upload("stt-batch", case.fixture(fixture_id), audio_seconds=expected)
    body = r.json() if r.status_code == 200 else {}
    got = body.get("duration_ms") if isinstance(body, dict) else None
    # 50 ms: one MP3 frame of encoder padding and rounding to whole milliseconds
    ok = isinstance(got, int | float) and abs(got - expected * 1000) <= 50
    note = f"{fixture_id}: {size} bytes, decoded length {expected * 1000:.0f} ms, duration_ms {got}"
    case.judge(observe_http(r, behaviour=ok, note=note))
