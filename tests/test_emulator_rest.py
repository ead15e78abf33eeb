"""The four REST batch surfaces over real HTTP: every documented status path and body."""

from __future__ import annotations

import json

import pytest
from test_emulator_helpers import (
    EXHAUSTED,
    INVALID,
    NO_MODEL,
    SURFACES,
    encode,
    header_only_wav,
    multipart_parts,
    post,
    running,
    silent_wav,
    speech,
    wav,
    with_alternatives,
)

from harness.contract import tables as T


@pytest.fixture(scope="module")
def clip() -> bytes:
    return wav(3.0, lead_s=0.5, trail_s=0.5)


# --------------------------------------------------------------------------- 200 bodies


def test_stt_batch_200_has_every_documented_field(emu, clip):
    r = post(emu, "stt-batch", clip, fields={"emotion_signal": "true", "deepfake_signal": "true"})
    assert r.status_code == 200, r.text
    body = r.json()
    assert body["duration_ms"] == 3000
    assert body["utterances"], body
    for u in body["utterances"]:
        assert set(u) == {"utterance_uuid", "text", "start_ms", "duration_ms", "speaker",
                          "language", "emotion", "accent", "deepfake_score"}  # fmt: skip
        assert u["emotion"] is not None and u["accent"] is None
        assert u["start_ms"] >= 400  # the lead silence is not speech
    assert body["text"] == " ".join(u["text"] for u in body["utterances"])


def test_stt_batch_is_deterministic_and_depends_on_the_audio(emu, clip):
    a = post(emu, "stt-batch", clip).json()
    b = post(emu, "stt-batch", clip).json()
    c = post(emu, "stt-batch", wav(3.0, lead_s=0.5, trail_s=0.5, seed=7)).json()
    assert a == b
    assert a["text"] != c["text"]


def test_stt_batch_config_json_overrides_form_fields(emu, clip):
    r = post(
        emu,
        "stt-batch",
        clip,
        fields={
            "accent_signal": "false",
            "config": json.dumps({"accent_signal": True, "language": "fr-CA"}),
        },
    )
    assert r.status_code == 200, r.text
    u = r.json()["utterances"][0]
    assert u["accent"] is not None and u["language"] == "fr"


def test_vfast_200_is_text_and_duration_only(emu, clip):
    r = post(emu, "vfast-batch", clip)
    assert r.status_code == 200
    assert set(r.json()) == {"text", "duration_ms"} and r.json()["text"]


def test_svd_batch_200_frames(emu, clip):
    r = post(emu, "svd-batch", clip, filename="x.wav")
    assert r.status_code == 200
    body = r.json()
    assert body["filename"] == "x.wav" and body["duration_ms"] == 3000
    verdicts = {f["verdict"] for f in body["frames"]}
    assert verdicts <= {"synthetic", "non-synthetic", "no-content"}
    assert verdicts - {"no-content"}


def test_pii_batch_multipart_metadata_and_mp3(emu):
    r = post(emu, "pii-batch", wav(6.0, seed=3), fields={"start_redaction_padding_ms": "50"})
    assert r.status_code == 200, r.text
    parts = multipart_parts(r)
    assert set(parts) == {"metadata", "audio"}
    meta = json.loads(parts["metadata"][1])
    assert set(meta) == {"text", "duration_ms", "utterances", "redaction_ranges"}
    assert meta["redaction_ranges"], meta
    assert "<pii:" in meta["text"] or "<phi></phi>" in meta["text"]
    assert parts["audio"][0]["content-type"] == "audio/mpeg"
    assert parts["audio"][1][:3] == b"ID3" or parts["audio"][1][0] == 0xFF


# --------------------------------------------------------------------------- 4xx paths


@pytest.mark.parametrize("surface", SURFACES)
def test_missing_api_key_is_fastapi_422(emu, clip, surface):
    r = post(emu, surface, clip, key=None)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["header", "X-API-Key"]
    assert {"loc", "msg", "type"} <= set(r.json()["detail"][0])


@pytest.mark.parametrize("surface", SURFACES)
def test_missing_upload_file_is_fastapi_422(emu, surface):
    r = post(emu, surface, None)
    assert r.status_code == 422
    assert r.json()["detail"][0]["loc"] == ["body", "upload_file"]
    assert r.json()["detail"][0]["type"] == "missing"


@pytest.mark.parametrize("surface", ["stt-batch", "vfast-batch", "pii-batch"])
def test_invalid_key_is_401(emu, clip, surface):
    assert post(emu, surface, clip, key=INVALID).status_code == 401


@pytest.mark.parametrize("surface", SURFACES)
def test_no_model_access_is_403_with_detail(emu, clip, surface):
    r = post(emu, surface, clip, key=NO_MODEL)
    assert (r.status_code, r.json()["detail"]) == (403, T.DETAIL_MODEL_NOT_ENABLED)


@pytest.mark.parametrize(
    ("surface", "detail"),
    [
        ("stt-batch", T.DETAIL_UNSUPPORTED_COMMON),
        ("vfast-batch", T.DETAIL_UNSUPPORTED_COMMON),
        ("pii-batch", T.DETAIL_UNSUPPORTED_COMMON),
        ("svd-batch", T.DETAIL_UNSUPPORTED_SVD),
    ],
)
def test_unsupported_extension_is_400(emu, clip, surface, detail):
    r = post(emu, surface, clip, filename="clip.txt")
    assert (r.status_code, r.json()["detail"]) == (400, detail)


def test_svd_accepts_its_extra_extensions(emu, clip):
    assert post(emu, "svd-batch", clip, filename="clip.au").status_code != 400
    assert post(emu, "stt-batch", clip, filename="clip.au").status_code == 400


@pytest.mark.parametrize("surface", SURFACES)
def test_empty_file_is_400(emu, surface):
    r = post(emu, surface, b"")
    assert (r.status_code, r.json()["detail"]) == (400, T.DETAIL_EMPTY)


@pytest.mark.parametrize(
    ("surface", "status"),
    [("stt-batch", 400), ("vfast-batch", 400), ("pii-batch", 400), ("svd-batch", 422)],
)
def test_undecodable_audio(emu, surface, status):
    r = post(emu, surface, b"this is not audio at all" * 40)
    assert (r.status_code, r.json()["detail"]) == (status, T.DETAIL_UNPROCESSABLE)


def test_svd_under_half_a_second_is_422(emu):
    r = post(emu, "svd-batch", wav(0.45))
    assert (r.status_code, r.json()["detail"]) == (422, T.DETAIL_TOO_SHORT)
    assert post(emu, "svd-batch", wav(0.55)).status_code == 200


def test_svd_metadata_only_file_is_422_and_stt_reports_zero_duration(emu):
    data = header_only_wav()
    assert len(data) > 0
    r = post(emu, "svd-batch", data)
    assert (r.status_code, r.json()["detail"]) == (422, T.DETAIL_TOO_SHORT)
    r = post(emu, "stt-batch", data)
    assert r.status_code == 200 and r.json()["duration_ms"] == 0 and r.json()["utterances"] == []


@pytest.mark.parametrize("surface", ["stt-batch", "pii-batch"])
def test_bad_language_is_400_with_the_value(emu, clip, surface):
    r = post(emu, surface, clip, fields={"language": "english"})
    assert r.status_code == 400
    assert r.json()["detail"].startswith("Invalid language='english'.")


def test_bad_config_is_400(emu, clip):
    for bad in ("{not json", "[1]", json.dumps({"emotion_signal": "yes"})):
        r = post(emu, "stt-batch", clip, fields={"config": bad})
        assert (r.status_code, r.json()["detail"]) == (400, T.DETAIL_INVALID_CONFIG), bad


def test_bad_form_types_are_fastapi_422(emu, clip):
    r = post(emu, "stt-batch", clip, fields={"speaker_diarization": "maybe"})
    assert r.status_code == 422 and r.json()["detail"][0]["type"] == "bool_parsing"
    r = post(emu, "pii-batch", clip, fields={"end_redaction_padding_ms": "-1"})
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == [
        "body",
        "end_redaction_padding_ms",
    ]


def test_quota_exhausted_default_is_the_catalog_preference(emu, clip):
    from harness.contract import get

    for surface in SURFACES:
        r = post(emu, surface, clip, key=EXHAUSTED)
        try:
            preferred = get(f"{surface}/monthly-quota").preferred
        except KeyError:
            preferred = "403"
        assert str(r.status_code) == preferred, (surface, r.text)


# --------------------------------------------------------------------------- alternatives


def test_svd_bad_key_follows_the_chosen_alternative(clip):
    for key, status in (("401", 401), ("403", 403)):
        with running(with_alternatives({"svd-batch/invalid-key": key})) as e:
            r = post(e, "svd-batch", clip, key=INVALID)
            assert r.status_code == status, r.text
            # the other REST surfaces are not in dispute: always 401
            assert post(e, "stt-batch", clip, key=INVALID).status_code == 401


def test_quota_status_follows_the_chosen_alternative(clip):
    with running(with_alternatives({"stt-batch/monthly-quota": "429"})) as e:
        r = post(e, "stt-batch", clip, key=EXHAUSTED)
        assert (r.status_code, r.json()["detail"]) == (429, T.DETAIL_INSUFFICIENT_CREDITS)
    with running(with_alternatives({"stt-batch/monthly-quota": "403"})) as e:
        r = post(e, "stt-batch", clip, key=EXHAUSTED)
        assert (r.status_code, r.json()["detail"]) == (403, T.DETAIL_MONTHLY_LIMIT)


def test_vfast_opus_only_alternative(clip):
    opus = encode(speech(2.0), "opus")
    with running(with_alternatives({"vfast-batch/container-formats": "opus-only"})) as e:
        assert post(e, "vfast-batch", clip).status_code == 400
        assert post(e, "vfast-batch", opus, filename="a.opus").status_code == 200
    with running(with_alternatives({})) as e:
        assert post(e, "vfast-batch", clip).status_code == 200


def test_svd_empty_and_metadata_only_alternatives():
    alts = {"svd-batch/empty-file": "422-too-short", "svd-batch/metadata-only": "400-empty"}
    with running(with_alternatives(alts)) as e:
        r = post(e, "svd-batch", b"")
        assert (r.status_code, r.json()["detail"]) == (422, T.DETAIL_TOO_SHORT)
        r = post(e, "svd-batch", header_only_wav())
        assert (r.status_code, r.json()["detail"]) == (400, T.DETAIL_EMPTY)


def test_upload_over_the_limit_follows_batch_max_size():
    big = silent_wav(2.0)  # 64 kB
    limits = {"processing": {"time_scale": 0.0, "max_upload_bytes": 20_000}}
    with running(with_alternatives({"velma/batch-max-size": "rejected-4xx"}, limits)) as e:
        assert post(e, "stt-batch", big).status_code == 413
        assert post(e, "stt-batch", wav(0.5)).status_code == 200
    with running(with_alternatives({"velma/batch-max-size": "timeout-504"}, limits)) as e:
        r = post(e, "stt-batch", big)
        assert (r.status_code, r.json()["detail"]) == (504, T.DETAIL_TIMEOUT)
    with running(with_alternatives({}, limits)) as e:
        assert post(e, "stt-batch", big).status_code == 200


def test_pyav_fallback_decodes_webm_and_mp4(emu):
    for fmt in ("webm", "mp4"):
        r = post(emu, "svd-batch", encode(speech(2.0), fmt), filename=f"a.{fmt}")
        assert r.status_code == 200, (fmt, r.text)
        assert abs(r.json()["duration_ms"] - 2000) < 120, fmt


def test_redaction_text_and_utterance_timing_alternatives():
    clip = wav(6.0, seed=3)
    alts = {"pii-batch/redaction-text": "bracket-tags", "stt-batch/utterance-timing": "end-ms"}
    with running(with_alternatives(alts)) as e:
        meta = json.loads(multipart_parts(post(e, "pii-batch", clip))["metadata"][1])
        assert "[" in meta["text"] and "<pii:" not in meta["text"]
        u = post(e, "stt-batch", clip).json()["utterances"][0]
        assert "end_ms" in u and "duration_ms" not in u and u["end_ms"] > u["start_ms"]


def test_a_large_upload_is_streamed_with_bounded_memory():
    import tracemalloc

    import httpx
    import numpy as np

    from harness.contract import tables as T

    seconds = 900  # 16-bit mono 16 kHz: about 29 MB
    header = encode(np.zeros((0, 1)))[:44]
    n = seconds * 16000 * 2
    header = header[:4] + (36 + n).to_bytes(4, "little") + header[8:40] + n.to_bytes(4, "little")
    boundary = "bnd0123456789"
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="upload_file"; filename="big.wav"\r\n'
        "Content-Type: audio/wav\r\n\r\n"
    ).encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    chunk = (np.sin(np.arange(65536) / 9) * 8000).astype("<i2").tobytes()

    def body():
        yield head + header
        left = n
        while left > 0:
            yield chunk[:left]
            left -= len(chunk)
        yield tail

    with running() as e:
        tracemalloc.start()
        try:
            r = httpx.post(
                e.base_url + T.VELMA_PATHS["vfast-batch"],
                content=body(),
                headers={
                    "X-API-Key": "demo-valid-key",
                    "Content-Type": f"multipart/form-data; boundary={boundary}",
                },
                timeout=60,
            )
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
    assert r.status_code == 200, r.text
    assert r.json()["duration_ms"] == seconds * 1000
    assert peak < 12 * 1024 * 1024, f"peak {peak / 1e6:.1f} MB for a {n / 1e6:.0f} MB upload"


def test_missing_key_and_upload_are_reported_together(emu):
    r = post(emu, "svd-batch", None, key=None)
    assert r.status_code == 422
    assert [e["loc"] for e in r.json()["detail"]] == [
        ["header", "X-API-Key"],
        ["body", "upload_file"],
    ]
