"""The Modulate Platform API: auth headers, the three submission patterns, job_status.

The vendor page gives neither schemas nor statuses for this API, so the cases
assume as little as they can: batch files go as ``multipart/form-data`` (part
``upload_file``, text fields ``job_id`` and ``finalize_job``), the real-time
submission as JSON, and a multi-file job uses a job_id the case chooses, or the
one the first answer names. Statuses the catalog marks as our convention are
INFO clauses: the verdict records what came back.
"""

from __future__ import annotations

import struct
import time
import uuid
from collections.abc import Mapping
from typing import Any

import pytest
from _rest_helpers import json_body

from harness.checks import observe_http
from harness.client.http import FilePart, HttpClient
from harness.contract.tables import PLATFORM_MAX_SINGLE_FILE_BYTES, PLATFORM_PATHS

SUBMIT = PLATFORM_PATHS["submit"]
REALTIME = {"submission_type": "realtime_websocket"}
CLIP = "wav-pcm16-16000-1ch-2s"
CLIP_2 = "wav-pcm24-16000-1ch-2s"
CLIP_S = 2.0
SURFACE = "platform"  # for the audio budget (no published Platform price)
MIB = 1024 * 1024
TOO_LARGE_BYTES = max(5 * MIB, PLATFORM_MAX_SINGLE_FILE_BYTES) + 4096  # over both readings


# --------------------------------------------------------------------------- helpers


def _auth(case: Any) -> dict[str, str]:
    return {
        "accountuuid": case.key("accountuuid", service="platform"),
        "apikey": case.key("apikey", service="platform"),
    }


def _ok(r: Any) -> bool:
    return 200 <= r.status_code < 300


def _status_path(job_id: str) -> str:
    return PLATFORM_PATHS["job_status"].format(job_id=job_id)


def _job_id() -> str:
    return f"harness-{uuid.uuid4()}"


def _upload(
    case: Any,
    file: FilePart,
    *,
    headers: Mapping[str, str] | None = None,
    fields: Mapping[str, str] | None = None,
    audio_seconds: float = CLIP_S,
) -> Any:
    case.charge(SURFACE, audio_seconds)
    return case.http(SURFACE).post(
        SUBMIT,
        files={"upload_file": file},
        data=dict(fields or {}),
        headers=dict(_auth(case) if headers is None else headers),
    )


def _job_of(r: Any, fallback: str | None = None) -> str | None:
    body = json_body(r)
    if isinstance(body, dict) and isinstance(body.get("job_id"), str) and body["job_id"]:
        return body["job_id"]
    return fallback


def _status(case: Any, job_id: str) -> Any:
    return case.http(SURFACE).get(_status_path(job_id), headers=_auth(case))


def _poll(case: Any, job_id: str) -> tuple[list[Any], Any]:
    """Poll job_status until "completed", an error, or the run's timeout; (bodies, last)."""
    http: HttpClient = case.http(SURFACE)
    deadline = time.monotonic() + case.timeout_s
    wait, bodies = 0.02, []
    while True:
        r = http.get(_status_path(job_id), headers=_auth(case))
        body = json_body(r)
        bodies.append(body)
        done = isinstance(body, dict) and body.get("status") == "completed"
        if done or not _ok(r) or time.monotonic() > deadline:
            return bodies, r
        time.sleep(wait)
        wait = min(wait * 2, 0.5)


def _results(body: Any) -> Any:
    return body.get("results") if isinstance(body, dict) else None


def _result_count(body: Any) -> int | None:
    """How many per-file results a completed body carries (None: shape not recognised)."""
    results = _results(body)
    if isinstance(results, Mapping) and isinstance(results.get("files"), list):
        return len(results["files"])
    if isinstance(results, list):
        return len(results)
    return None


def _oversized_wav() -> FilePart:
    """A silent 16 kHz mono PCM16 WAV just over 5 MiB, made in memory."""
    data_bytes = TOO_LARGE_BYTES - 44
    header = b"RIFF" + struct.pack("<I", 36 + data_bytes) + b"WAVEfmt "
    header += struct.pack("<IHHIIHH", 16, 1, 1, 16000, 32000, 2, 16)
    header += b"data" + struct.pack("<I", data_bytes)
    return FilePart(filename="oversized.wav", data=header + bytes(data_bytes))


def _no_job(case: Any, job_id: str) -> bool:
    return _status(case, job_id).status_code == 404


# --------------------------------------------------------------------------- authentication


@pytest.mark.clause("platform/auth-headers")
def test_valid_headers_are_served(case):
    r = case.http(SURFACE).post(SUBMIT, json_body=REALTIME, headers=_auth(case))
    served = r.status_code not in (401, 403)
    case.judge(observe_http(r, behaviour=served, note=f"status {r.status_code}"))


def _submit_with(case: Any, headers: dict[str, str]) -> tuple[Any, bool]:
    """Submit one clip as a finalized job with these auth ``headers``: (response, whether
    the job was created anyway)."""
    job_id = _job_id()
    fields = {"job_id": job_id, "finalize_job": "true"}
    r = _upload(case, case.fixture(CLIP), headers=headers, fields=fields)
    return r, not _no_job(case, job_id)


@pytest.mark.clause("platform/auth-missing-header")
@pytest.mark.parametrize("drop", ["accountuuid", "apikey", "both"])
def test_missing_header_is_refused(case, drop):
    headers = {
        k: v for k, v in _auth(case).items() if drop not in (k, "both")
    }  # the other header stays valid
    r, created = _submit_with(case, headers)
    refused = not _ok(r) and not created
    case.judge(
        observe_http(
            r, behaviour=refused, note=f"sent without the {drop} header(s); job created={created}"
        )
    )


@pytest.mark.clause("platform/auth-invalid-key")
@pytest.mark.parametrize("which", ["unknown-apikey", "unknown-accountuuid"])
def test_invalid_key_is_refused(case, which):
    headers = _auth(case)
    if which == "unknown-apikey":
        headers["apikey"] = f"not-a-platform-key-{uuid.uuid4().hex[:8]}"
    else:
        headers["accountuuid"] = str(uuid.uuid4())
    r, created = _submit_with(case, headers)
    refused = not _ok(r) and not created
    case.judge(observe_http(r, behaviour=refused, note=f"{which} sent; job created={created}"))


@pytest.mark.clause("platform/auth-velma-key-not-accepted")
@pytest.mark.parametrize("where", ["apikey", "x-api-key"])
def test_velma_key_does_not_authenticate(case, where):
    velma_key = case.key("valid")
    if where == "apikey":
        headers = {"accountuuid": case.key("accountuuid", service="platform"), "apikey": velma_key}
    else:
        headers = {"X-API-Key": velma_key}
    r, created = _submit_with(case, headers)
    refused = not _ok(r) and not created
    case.judge(
        observe_http(r, behaviour=refused, note=f"Velma-2 key as {where}; job created={created}")
    )


# --------------------------------------------------------------------------- submissions


@pytest.mark.clause("platform/submit-realtime-websocket")
def test_realtime_submission_returns_realtime_url(case):
    r = case.http(SURFACE).post(SUBMIT, json_body=REALTIME, headers=_auth(case))
    body = json_body(r)
    url = body.get("realtime_url") if isinstance(body, dict) else None
    ok = _ok(r) and isinstance(url, str) and bool(url)
    case.judge(observe_http(r, behaviour=ok, note=f"realtime_url {'present' if ok else 'missing'}"))


@pytest.mark.clause("platform/submit-realtime-with-files")
def test_realtime_submission_with_a_file(case):
    r = _upload(case, case.fixture(CLIP), fields=REALTIME)
    body = json_body(r)
    has_url = isinstance(body, dict) and isinstance(body.get("realtime_url"), str)
    # either documented-in-spirit reading: refused without a url, or files ignored with one
    held = (not _ok(r) and not has_url) or (_ok(r) and has_url)
    note = "realtime_url issued" if has_url else "no realtime_url"
    case.judge(observe_http(r, behaviour=held, note=note))


@pytest.mark.clause("platform/submit-single-file")
def test_single_file_job_is_accepted_and_pollable(case):
    r = _upload(case, case.fixture(CLIP))
    job_id = _job_of(r)
    found = False
    if _ok(r) and job_id:
        s = _status(case, job_id)
        found = _ok(s) and isinstance(json_body(s), dict) and "status" in json_body(s)
    case.judge(
        observe_http(r, behaviour=found, note=f"job_id {job_id!r}, job_status found={found}")
    )


@pytest.mark.clause("platform/submit-single-file-too-large")
def test_single_file_over_5_mb_is_refused(case):
    big = _oversized_wav()
    job_id = _job_id()
    seconds = (TOO_LARGE_BYTES - 44) / 32000
    r = _upload(case, big, fields={"job_id": job_id, "finalize_job": "true"}, audio_seconds=seconds)
    created = not _no_job(case, job_id)
    refused = not _ok(r) and not created
    case.judge(observe_http(r, behaviour=refused, note=f"{big.size} bytes; job created={created}"))


@pytest.mark.clause("platform/submit-multi-file")
def test_multi_file_job_covers_every_file(case):
    job_id = _job_id()
    first = _upload(case, case.fixture(CLIP), fields={"job_id": job_id})
    job_id = _job_of(first, job_id) or job_id
    last = _upload(case, case.fixture(CLIP_2), fields={"job_id": job_id, "finalize_job": "true"})
    bodies, final = _poll(case, job_id)
    body = bodies[-1]
    count = _result_count(body)
    if count is None and isinstance(body, dict):
        count = body.get("file_count")
    completed = isinstance(body, dict) and body.get("status") == "completed"
    ok = _ok(first) and _ok(last) and completed and count == 2
    note = f"uploads {first.status_code}/{last.status_code}; completed={completed}, files={count}"
    case.judge(observe_http(last, behaviour=ok, note=note))


@pytest.mark.clause("platform/multi-file-unfinalized")
def test_unfinalized_job_does_not_complete(case):
    job_id = _job_id()
    r = _upload(case, case.fixture(CLIP), fields={"job_id": job_id, "finalize_job": "false"})
    job_id = _job_of(r, job_id) or job_id
    seen = []
    for _ in range(3):  # give a wrongly eager server the time to finish it
        s = _status(case, job_id)
        body = json_body(s)
        seen.append(body.get("status") if isinstance(body, dict) else None)
        time.sleep(0.1)
    held = _ok(r) and "completed" not in seen and _ok(s)
    case.judge(observe_http(s, behaviour=held, note=f"statuses before finalize: {seen}"))


@pytest.mark.clause("platform/multi-file-after-finalize")
def test_upload_after_finalize_is_refused(case):
    job_id = _job_id()
    r = _upload(case, case.fixture(CLIP), fields={"job_id": job_id, "finalize_job": "true"})
    job_id = _job_of(r, job_id) or job_id
    before, _ = _poll(case, job_id)
    late = _upload(case, case.fixture(CLIP_2), fields={"job_id": job_id})
    after, _ = _poll(case, job_id)
    unchanged = after[-1] == before[-1] and _result_count(after[-1]) in (None, 1)
    held = _ok(r) and not _ok(late) and unchanged
    case.judge(observe_http(late, behaviour=held, note=f"job unchanged: {unchanged}"))


# --------------------------------------------------------------------------- job status


def _polled_job(case: Any) -> tuple[list[Any], Any] | None:
    """Submit one clip and poll its job to the end: (status bodies, last response); None
    once a refused submission is judged."""
    r = _upload(case, case.fixture(CLIP))
    job_id = _job_of(r)
    if not (_ok(r) and job_id):
        case.judge(observe_http(r, behaviour=False, note="submission not accepted"))
        return None
    return _poll(case, job_id)


@pytest.mark.clause("platform/job-status-completes")
def test_job_status_reaches_completed(case):
    if (polled := _polled_job(case)) is None:
        return
    bodies, last = polled
    statuses = [b.get("status") if isinstance(b, dict) else None for b in bodies]
    ok = all(isinstance(s, str) for s in statuses) and statuses[-1] == "completed"
    case.judge(observe_http(last, behaviour=ok, note=f"statuses seen: {statuses}"))


@pytest.mark.clause("platform/job-status-results")
def test_completed_job_status_carries_results(case):
    if (polled := _polled_job(case)) is None:
        return
    bodies, last = polled
    body = bodies[-1]
    completed = isinstance(body, dict) and body.get("status") == "completed"
    ok = completed and bool(_results(body))
    case.judge(observe_http(last, behaviour=ok, note=f"completed={completed}, results={ok}"))


@pytest.mark.clause("platform/job-status-unknown-job")
def test_unknown_job_is_not_found(case):
    r = _status(case, _job_id())
    body = json_body(r)
    disclosed = isinstance(body, dict) and ("status" in body or "results" in body)
    case.judge(observe_http(r, behaviour=not disclosed and not _ok(r), note="never-submitted id"))
