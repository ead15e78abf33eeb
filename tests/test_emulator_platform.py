"""The emulated Modulate Platform API over real HTTP on loopback."""

from __future__ import annotations

import json
import time
from typing import Any
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest
from test_emulator_helpers import VALID, config, post, running, silent_wav, wav
from websockets.sync.client import connect

from harness.contract import tables as T
from harness.emulator.config import ConfigError, load_config_dict
from harness.emulator.platform.settings import DEMO_ACCOUNT_UUID, DEMO_PLATFORM_KEY

SUBMIT = T.PLATFORM_PATHS["submit"]
AUTH = {"accountuuid": DEMO_ACCOUNT_UUID, "apikey": DEMO_PLATFORM_KEY}
OTHER = {"accountuuid": "0f0e0d0c-0000-4000-8000-000000000002", "apikey": "second-platform-key"}
TWO_ACCOUNTS = {
    "platform": {
        "accounts": [
            {"accountuuid": AUTH["accountuuid"], "apikey": AUTH["apikey"]},
            {"accountuuid": OTHER["accountuuid"], "apikey": OTHER["apikey"]},
        ]
    }
}


def status_path(job_id: str) -> str:
    return T.PLATFORM_PATHS["job_status"].format(job_id=job_id)


@pytest.fixture(scope="module")
def emu():
    with running(config(TWO_ACCOUNTS)) as e:
        yield e


@pytest.fixture(scope="module")
def clip() -> bytes:
    return wav(2.0, lead_s=0.3, trail_s=0.3, seed=3)


def upload(
    emu: Any,
    data: bytes,
    *,
    filename: str = "clip.wav",
    fields: dict[str, str] | None = None,
    headers: dict[str, str] | None = None,
) -> httpx.Response:
    with httpx.Client(base_url=emu.base_url, timeout=10) as c:
        return c.post(
            SUBMIT,
            files={"upload_file": (filename, data)},
            data=fields or {},
            headers=AUTH if headers is None else headers,
        )


def get_status(emu: Any, job_id: str, headers: dict[str, str] | None = None) -> httpx.Response:
    with httpx.Client(base_url=emu.base_url, timeout=10) as c:
        return c.get(status_path(job_id), headers=AUTH if headers is None else headers)


def wait_completed(emu: Any, job_id: str, timeout_s: float = 3.0) -> dict[str, Any]:
    deadline = time.monotonic() + timeout_s
    while True:
        body = get_status(emu, job_id).json()
        if body["status"] == "completed" or time.monotonic() > deadline:
            return body
        time.sleep(0.02)


# --------------------------------------------------------------------------- real-time


def test_realtime_returns_a_loopback_ws_url_that_streams(emu):
    with httpx.Client(base_url=emu.base_url) as c:
        r = c.post(SUBMIT, json={"submission_type": "realtime_websocket"}, headers=AUTH)
    assert r.status_code == 200, r.text
    url = r.json()["realtime_url"]
    parts = urlsplit(url)
    assert parts.scheme == "ws"
    assert parts.netloc == urlsplit(emu.base_url).netloc
    assert parts.path == T.VELMA_PATHS["stt-stream"]
    assert parse_qs(parts.query)["api_key"] == [VALID]
    with connect(url, open_timeout=5) as ws:
        ws.send("")  # end of stream at once
        done = json.loads(ws.recv(timeout=5))
        assert done["type"] == "done"


def test_realtime_as_a_multipart_form_without_file_is_accepted(emu):
    with httpx.Client(base_url=emu.base_url) as c:
        r = c.post(
            SUBMIT,
            files={"submission_type": (None, "realtime_websocket")},
            headers=AUTH,
        )
    assert r.status_code == 200, r.text
    assert r.json()["realtime_url"].startswith("ws://127.0.0.1:")


def test_realtime_with_a_file_is_400(emu, clip):
    r = upload(emu, clip, fields={"submission_type": "realtime_websocket"})
    assert r.status_code == 400
    assert "realtime_url" not in r.json() and isinstance(r.json()["detail"], str)
    with httpx.Client(base_url=emu.base_url) as c:
        r = c.post(
            SUBMIT,
            json={"submission_type": "realtime_websocket", "files": ["a.wav"]},
            headers=AUTH,
        )
    assert r.status_code == 400


# --------------------------------------------------------------------------- batch


def test_single_file_job_completes_with_the_stt_batch_transcript(emu, clip):
    r = upload(emu, clip)
    assert r.status_code == 200, r.text
    job_id = r.json()["job_id"]
    assert r.json()["finalized"] is True
    assert r.json()["status"] == "processing" and "results" not in r.json()
    done = wait_completed(emu, job_id)
    assert done["status"] == "completed"
    (file,) = done["results"]["files"]
    stt = post(emu, "stt-batch", clip).json()
    assert file["text"] == stt["text"] and file["text"]
    assert file["duration_ms"] == stt["duration_ms"] == 2000
    assert [u["start_ms"] for u in file["utterances"]] == [u["start_ms"] for u in stt["utterances"]]


def test_multi_file_job_pending_until_finalized_then_covers_every_file(emu, clip):
    job_id = "multi-1"
    other = wav(1.0, seed=9)
    r1 = upload(emu, clip, filename="one.wav", fields={"job_id": job_id})
    assert r1.status_code == 200, r1.text
    assert r1.json()["job_id"] == job_id
    pending = get_status(emu, job_id).json()
    assert pending["status"] == "pending" and pending["file_count"] == 1
    r2 = upload(emu, other, filename="two.wav", fields={"job_id": job_id, "finalize_job": "true"})
    assert r2.status_code == 200, r2.text
    done = wait_completed(emu, job_id)
    assert done["status"] == "completed"
    assert [f["filename"] for f in done["results"]["files"]] == ["one.wav", "two.wav"]
    assert done["results"]["files"][1]["duration_ms"] == 1000


def test_explicit_finalize_false_without_job_id_opens_a_job(emu, clip):
    r = upload(emu, clip, fields={"finalize_job": "false"})
    assert r.status_code == 200
    assert get_status(emu, r.json()["job_id"]).json()["status"] == "pending"


def test_upload_to_a_finalized_job_is_409_and_changes_nothing(emu, clip):
    job_id = "closed-1"
    assert upload(emu, clip, fields={"job_id": job_id, "finalize_job": "true"}).status_code == 200
    r = upload(emu, clip, fields={"job_id": job_id})
    assert r.status_code == 409
    assert isinstance(r.json()["detail"], str)
    assert wait_completed(emu, job_id)["file_count"] == 1


def test_file_over_5_mb_is_413_and_creates_no_job(emu):
    big = silent_wav((T.PLATFORM_MAX_SINGLE_FILE_BYTES + 100) / 32000)
    assert len(big) > T.PLATFORM_MAX_SINGLE_FILE_BYTES
    r = upload(emu, big, fields={"job_id": "big-1", "finalize_job": "true"})
    assert r.status_code == 413
    assert get_status(emu, "big-1").status_code == 404


def test_file_just_under_5_mb_is_accepted(emu):
    near = silent_wav((T.PLATFORM_MAX_SINGLE_FILE_BYTES - 1000) / 32000)
    assert len(near) <= T.PLATFORM_MAX_SINGLE_FILE_BYTES
    r = upload(emu, near)
    assert r.status_code == 200, r.text


@pytest.mark.parametrize(
    ("filename", "data", "fields"),
    [
        ("clip.txt", b"hello", {}),
        ("clip.wav", b"", {}),
        ("clip.wav", b"not audio at all" * 10, {}),
        ("clip.wav", None, {"finalize_job": "maybe"}),
        ("clip.wav", None, {"job_id": "bad id/with slash"}),
        ("clip.wav", None, {"submission_type": "telepathy"}),
    ],
    ids=["extension", "empty", "undecodable", "finalize", "job-id", "type"],
)
def test_bad_batch_uploads_are_400(emu, clip, filename, data, fields):
    r = upload(emu, clip if data is None else data, filename=filename, fields=fields)
    assert r.status_code == 400, r.text
    assert isinstance(r.json()["detail"], str)


def test_batch_without_a_file_is_400(emu):
    with httpx.Client(base_url=emu.base_url) as c:
        assert c.post(SUBMIT, data={"job_id": "x"}, headers=AUTH).status_code == 400
        assert c.post(SUBMIT, json={"submission_type": "batch"}, headers=AUTH).status_code == 400


# --------------------------------------------------------------------------- auth and 404


@pytest.mark.parametrize(
    "headers",
    [
        {},
        {"accountuuid": AUTH["accountuuid"]},
        {"apikey": AUTH["apikey"]},
        {"accountuuid": AUTH["accountuuid"], "apikey": "wrong"},
        {"accountuuid": AUTH["accountuuid"], "apikey": OTHER["apikey"]},  # another account's key
        {"accountuuid": AUTH["accountuuid"], "apikey": VALID},  # a Velma-2 key
        {"X-API-Key": VALID},
    ],
    ids=["none", "no-key", "no-account", "wrong-key", "cross-account", "velma-key", "x-api-key"],
)
def test_bad_credentials_are_401_on_both_routes(emu, clip, headers):
    r = upload(emu, clip, fields={"job_id": "auth-probe", "finalize_job": "true"}, headers=headers)
    assert r.status_code == 401
    assert isinstance(r.json()["detail"], str)
    assert get_status(emu, "auth-probe").status_code == 404  # no job was created
    assert get_status(emu, "auth-probe", headers=headers).status_code == 401


def test_unknown_job_and_another_accounts_job_are_404(emu, clip):
    assert get_status(emu, "never-submitted").status_code == 404
    job_id = upload(emu, clip).json()["job_id"]
    assert get_status(emu, job_id).status_code == 200
    r = get_status(emu, job_id, headers=OTHER)
    assert r.status_code == 404 and "status" not in r.json()


def test_processing_time_follows_the_model_and_time_scale(clip):
    cfg = config(
        {"processing": {"speed": 1.0, "base_s": 0.0, "time_scale": 0.1}},
    )
    cfg = cfg.with_changes(
        platform=load_config_dict({"platform": {"min_processing_s": 0}}).platform
    )
    with running(cfg) as e:
        t0 = time.monotonic()
        job_id = upload(e, clip).json()["job_id"]  # 2 s of audio -> 0.2 s
        assert get_status(e, job_id).json()["status"] == "processing"
        body = wait_completed(e, job_id)
        assert body["status"] == "completed"
        assert 0.18 <= time.monotonic() - t0 < 2.0


# --------------------------------------------------------------------------- config


def test_default_config_has_the_demo_account():
    cfg = config()
    account = cfg.platform.default_account
    assert account is not None and account.apikey == DEMO_PLATFORM_KEY
    assert account.apikey not in cfg.keys


@pytest.mark.parametrize(
    ("platform", "names"),
    [
        ({"accounts": [{"accountuuid": "a"}]}, "platform.accounts[0].apikey"),
        ({"accounts": [{"accountuuid": "a", "apikey": VALID}]}, "platform.accounts[0].apikey"),
        ({"accounts": [{"accountuuid": "a", "apikey": "k", "x": 1}]}, "platform.accounts[0].x"),
        ({"accounts": {"a": 1}}, "platform.accounts"),
        ({"min_processing_s": -1}, "platform.min_processing_s"),
        ({"max_jobs_per_account": 0}, "platform.max_jobs_per_account"),
        ({"hosts": []}, "platform.hosts"),
    ],
)
def test_platform_config_errors_name_the_field(platform, names):
    with pytest.raises(ConfigError) as exc:
        load_config_dict({"platform": platform})
    assert names in str(exc.value)


def test_oldest_jobs_are_forgotten_past_the_cap(clip):
    cfg = config({"platform": {"max_jobs_per_account": 2}})
    with running(cfg) as e:
        ids = [upload(e, clip, fields={"job_id": f"cap-{i}"}).json()["job_id"] for i in range(3)]
        assert get_status(e, ids[0]).status_code == 404
        assert all(get_status(e, j).status_code == 200 for j in ids[1:])
