"""Each deviation switch changes what a client observes (so suites can prove their checks fail)."""

from __future__ import annotations

import json

import pytest
from test_emulator_helpers import config, encode, multipart_parts, post, running, silent_wav, speech

from harness.contract import tables as T
from harness.emulator.deviations import DEVIATIONS, WRONG_DETAIL_TEXT


def _dev(name: str) -> dict[str, str]:
    return {"X-Emulator-Deviation": name}


@pytest.fixture(scope="module")
def padded() -> bytes:
    """1.5 s silence, 3 s speech, 1.5 s silence."""
    return encode(speech(6.0, lead_s=1.5, trail_s=1.5, seed=2))


def test_short_audio_400(emu):
    short = encode(speech(0.3))
    assert post(emu, "svd-batch", short).status_code == 422
    r = post(emu, "svd-batch", short, headers=_dev("short-audio-400"))
    assert (r.status_code, r.json()["detail"]) == (400, T.DETAIL_TOO_SHORT)


def test_trimmed_timestamps(emu, padded):
    honest = post(emu, "svd-batch", padded).json()["frames"]
    deviant = post(emu, "svd-batch", padded, headers=_dev("trimmed-timestamps")).json()["frames"]
    first_content = next(f for f in honest if f["verdict"] != "no-content")
    assert first_content["start_time_ms"] >= 1400
    assert deviant[0]["start_time_ms"] == 0
    assert deviant[0]["verdict"] != "no-content"


def test_no_content_confidence(emu):
    silent = silent_wav(2.0)
    honest = post(emu, "svd-batch", silent).json()["frames"]
    assert honest and all(f["verdict"] == "no-content" and f["confidence"] == 1.0 for f in honest)
    deviant = post(emu, "svd-batch", silent, headers=_dev("no-content-confidence")).json()["frames"]
    assert all(f["confidence"] < 1.0 for f in deviant)


def test_wrong_detail(emu):
    r = post(emu, "stt-batch", b"", headers=_dev("wrong-detail"))
    assert r.status_code == 400 and r.json()["detail"] == WRONG_DETAIL_TEXT != T.DETAIL_EMPTY


@pytest.mark.parametrize("surface", ["stt-batch", "vfast-batch", "svd-batch"])
def test_missing_field(emu, padded, surface):
    assert "duration_ms" in post(emu, surface, padded).json()
    assert "duration_ms" not in post(emu, surface, padded, headers=_dev("missing-field")).json()


@pytest.mark.parametrize("surface", ["stt-batch", "vfast-batch", "svd-batch", "pii-batch"])
def test_constant_duration(emu, padded, surface):
    def duration(r) -> int:
        if surface == "pii-batch":
            return json.loads(multipart_parts(r)["metadata"][1])["duration_ms"]
        return r.json()["duration_ms"]

    assert duration(post(emu, surface, padded)) == 6000
    assert duration(post(emu, surface, padded, headers=_dev("constant-duration"))) == 2000


def test_missing_field_in_pii_metadata(emu, padded):
    r = post(emu, "pii-batch", padded, headers=_dev("missing-field"))
    meta = json.loads(multipart_parts(r)["metadata"][1])
    assert "duration_ms" not in meta and "redaction_ranges" in meta


def test_deviation_from_config_and_from_a_key(padded):
    cfg = config({"deviations": {"enabled": ["missing-field"]}})
    with running(cfg) as e:
        assert "duration_ms" not in post(e, "vfast-batch", padded).json()
    cfg = config(
        {
            "orgs": {
                "o": {
                    "keys": [
                        {"key": "k1", "role": "valid"},
                        {"key": "k2", "deviations": ["wrong-detail"]},
                    ]
                }
            }
        }
    )
    with running(cfg) as e:
        assert post(e, "stt-batch", b"", key="k1").json()["detail"] == T.DETAIL_EMPTY
        assert post(e, "stt-batch", b"", key="k2").json()["detail"] == WRONG_DETAIL_TEXT


def test_streaming_switches_are_declared():
    assert {"close-1000-instead-of-4002", "omit-done", "queue-instead-of-reject"} <= set(DEVIATIONS)
