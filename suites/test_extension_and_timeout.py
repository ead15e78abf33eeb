"""Batch endpoints decode by extension, and the 60 s processing limit answers 504.

- ``velma/extension-decides``: bytes of one listed container under another listed
  extension are decoded as named, so they are refused as undecodable, never 200.
- The 504 cases (``velma/batch-timeout``, ``*/timeout-504``) need the emulator's
  ``timeout`` fault (skipped on a live target). The embedded emulator of a run models
  processing time at ``time_scale = 0.01``, so its 60 s limit is reached in 0.6 s; the
  cases still allow the clause's own bound (60 s plus a margin).
"""

from __future__ import annotations

import time

import pytest
from _params import surface_params

from harness.checks import observe_http
from harness.client import HttpClient
from harness.client.control import fault_header
from harness.contract.tables import (
    BATCH_PROCESSING_TIMEOUT_S,
    DETAIL_UNSUPPORTED_COMMON,
    DETAIL_UNSUPPORTED_SVD,
    REST_SURFACES,
    VELMA_PATHS,
)

REST = REST_SURFACES
CLIP = "wav-pcm16-16000-1ch-2s"
# "no later than shortly after 60 s of processing": the margin we allow on top.
TIMEOUT_MARGIN_S = 10.0


@pytest.mark.clause("velma/extension-decides")
@pytest.mark.parametrize("surface", REST)
@pytest.mark.parametrize("fixture_id", ["wrong-ext-wav-named-mp3", "wrong-ext-mp3-named-wav"])
def test_listed_wrong_extension_not_sniffed(case, surface, fixture_id):
    """Bytes of one listed container under another listed extension: decoded as named,
    so refused as undecodable (a 4xx that is not the unsupported-format one), never 200."""
    r = case.upload(surface, case.fixture(fixture_id), audio_seconds=2)
    detail = observe_http(r).detail
    unsupported = (DETAIL_UNSUPPORTED_COMMON, DETAIL_UNSUPPORTED_SVD)
    ok = r.status_code in (400, 422) and detail not in unsupported
    case.judge(observe_http(r, behaviour=ok, note=f"HTTP {r.status_code}, detail={detail!r}"))


def _timed_out_upload(case, surface):
    case.emulator()
    client = HttpClient(
        case.profile.velma.base_url,
        case.recorder,
        timeout_s=BATCH_PROCESSING_TIMEOUT_S + TIMEOUT_MARGIN_S + case.timeout_s,
    )
    try:
        t0 = time.monotonic()
        fixture = case.fixture(CLIP)
        case.charge(surface, 2.0)
        r = client.post(
            VELMA_PATHS[surface],
            files={"upload_file": fixture},
            headers={"X-API-Key": case.key("valid"), **fault_header("timeout")},
        )
        return r, time.monotonic() - t0
    finally:
        client.close()


@pytest.mark.parametrize("surface", surface_params("timeout-504", REST))
def test_timeout_504(case, surface):
    r, _ = _timed_out_upload(case, surface)
    case.judge(observe_http(r))


@pytest.mark.clause("velma/batch-timeout")
@pytest.mark.parametrize("surface", REST)
def test_batch_timeout_bounded(case, surface):
    r, elapsed = _timed_out_upload(case, surface)
    try:
        body = r.json()
    except ValueError:
        body = None
    shaped = isinstance(body, dict) and isinstance(body.get("detail"), str)
    in_time = elapsed <= BATCH_PROCESSING_TIMEOUT_S + TIMEOUT_MARGIN_S
    note = f"HTTP {r.status_code} after {elapsed:.2f} s; body {r.text[:100]!r}"
    case.judge(observe_http(r, behaviour=shaped and in_time, note=note))
