"""Deepfake detection while streaming: svd-stream frames (shape, verdicts, cadence, window)
and the STT stream's per-utterance ``deepfake_score``.

Only the first-result case paces its audio in real time (100 ms chunks); the others
reason about audio positions (``start_time_ms``/``end_time_ms``), not wall-clock time.
"""

from __future__ import annotations

import time

import numpy as np
import pytest
from _stream_helpers import (
    CHUNK_100MS,
    RAW16,
    chunks,
    done_of,
    frames_of,
    message_errors,
    silence_pcm,
    speech,
    speech_pcm,
    two_bursts,
    utterances_of,
)

from harness.audio.raw import encode_raw
from harness.checks import observe_ws
from harness.contract import tables as T
from harness.not_tested import CouldNotTest

SVD = "svd-stream"


def _svd(case, seconds: float, *, seed: int = 31, data: bytes | None = None, query=None):
    payload = speech_pcm(seconds, seed=seed) if data is None else data
    return case.stream(SVD, query or RAW16, chunks(payload, 8000), audio_seconds=seconds)


@pytest.mark.clause("svd-stream/frame-shape")
def test_frame_shape(case):
    r = _svd(case, 3.0)
    errs = message_errors(SVD, r.messages, "frame")
    ok = bool(r.of_type("frame")) and not errs
    case.judge(observe_ws(r, behaviour=ok, note="; ".join(errs[:4])))


@pytest.mark.clause("svd-stream/verdict-values")
@pytest.mark.parametrize("content", ["speech", "silence"])
def test_verdict_values(case, content):
    data = speech_pcm(2.5, seed=32) if content == "speech" else silence_pcm(2.5)
    r = _svd(case, 2.5, data=data)
    verdicts = [f.get("verdict") for f in frames_of(r)]
    ok = bool(verdicts) and all(v in T.SVD_VERDICTS for v in verdicts)
    case.judge(observe_ws(r, behaviour=ok, note=f"verdicts={verdicts}"))


@pytest.mark.clause("svd-stream/no-content-confidence")
@pytest.mark.parametrize(
    "fixture_id", ["silence-raw-s16le-16000-1ch-3s", "speech-padded-raw-s16le-16000-1ch-6s"]
)
def test_no_content_confidence(case, fixture_id):
    r = _svd(case, case.fixture_entry(fixture_id).duration_s, data=case.fixture_bytes(fixture_id))
    frames = frames_of(r)
    nc = [f for f in frames if f.get("verdict") == "no-content"]
    if frames and not nc and not fixture_id.startswith("silence"):
        raise CouldNotTest(
            "cannot-provoke",
            "svd-stream: no no-content frame over the padded clip's silences, none to check",
            f"{fixture_id}: verdicts {[f.get('verdict') for f in frames]}",
        )
    ok = all(f.get("confidence") == 1.0 for f in nc)
    if fixture_id.startswith("silence"):
        ok = ok and bool(frames) and len(nc) == len(frames)  # silence is all no-content
    else:
        ok = ok and bool(frames)
    note = f"{len(nc)} no-content of {len(frames)}; confidences={[f.get('confidence') for f in nc]}"
    case.judge(observe_ws(r, behaviour=ok, note=note))


@pytest.mark.clause("svd-stream/first-result")
def test_first_result_paced(case):
    """1.5 s of audio in real time: the first frame arrives while audio is still coming."""
    case.charge(SVD, 1.5)
    s = case.ws(SVD, RAW16)
    sent_ms = 0
    first_at_ms = None
    for c in chunks(speech_pcm(1.5, seed=33)):
        if not s.send_bytes(c):
            break
        sent_ms += 100
        time.sleep(0.1)
        s.receive(until_close=False, timeout_s=0.01)  # 0.0 would read nothing
        if first_at_ms is None and "frame" in s.result.types:
            first_at_ms = sent_ms
    before_end = "frame" in s.result.types
    s.end_of_stream()
    s.until_close()
    s.close()
    r = s.result
    frames = frames_of(r)
    first = frames[0] if frames else {}
    covers = all(f.get("end_time_ms", 0) - f.get("start_time_ms", 0) >= 500 for f in frames)
    ok = before_end and first.get("end_time_ms", 0) >= 500 and covers
    note = f"first frame after {first_at_ms} ms of audio sent: {first}"
    case.judge(observe_ws(r, behaviour=ok, note=note))


@pytest.mark.clause("svd-stream/cadence")
def test_cadence(case):
    r = _svd(case, 4.3, seed=34)
    ends = [f.get("end_time_ms", 0) for f in frames_of(r)]
    dur = (done_of(r) or {}).get("duration_ms")
    steady = ends[:-1] if ends and ends[-1] == dur else ends  # the last may close the stream
    gaps = [b - a for a, b in zip(steady, steady[1:], strict=False)]
    ok = len(gaps) >= 2 and all(800 <= g <= 1200 for g in gaps)
    case.judge(observe_ws(r, behaviour=ok, note=f"end_time_ms={ends}"))


@pytest.mark.clause("svd-stream/window")
def test_window_grows_then_slides(case):
    r = _svd(case, 6.5, seed=35)
    frames = frames_of(r)
    bad = [
        f
        for f in frames
        if (f.get("end_time_ms", 0) <= 4000 and f.get("start_time_ms") != 0)
        or (f.get("end_time_ms", 0) > 4000 and f["end_time_ms"] - f.get("start_time_ms", 0) != 4000)
    ]
    slid = any(f.get("end_time_ms", 0) > 4000 for f in frames)
    ok = slid and not bad
    spans = [(f.get("start_time_ms"), f.get("end_time_ms")) for f in frames]
    case.judge(observe_ws(r, behaviour=ok, note=f"windows={spans}"))


@pytest.mark.clause("svd-stream/chronological")
def test_chronological(case):
    seconds = 5.2
    r = _svd(case, seconds, seed=36)
    frames = frames_of(r)
    dur = round(seconds * 1000)  # the audio sent, not the length the target reports
    ends = [f.get("end_time_ms", 0) for f in frames]
    ordered = all(a <= b for a, b in zip(ends, ends[1:], strict=False))
    within = all(0 <= f.get("start_time_ms", -1) < f.get("end_time_ms", 0) <= dur for f in frames)
    ok = bool(frames) and ordered and within
    reported = (done_of(r) or {}).get("duration_ms")
    note = f"ends={ends}, audio sent {dur} ms (done says {reported})"
    case.judge(observe_ws(r, behaviour=ok, note=note))


@pytest.mark.clause("svd-stream/done-shape")
@pytest.mark.parametrize("seconds", [0.8, 3.4])
def test_svd_done_shape(case, seconds):
    r = _svd(case, seconds, seed=37)
    errs = message_errors(SVD, r.messages, "done")
    d = done_of(r) or {}
    frames = frames_of(r)
    speech_frames = sum(1 for f in frames if f.get("verdict") != "no-content")
    count = d.get("frame_count")
    # frames *analysed*: no-content frames skip the model, so they may or may not count
    counted = isinstance(count, int) and speech_frames <= count <= len(frames)
    ok = bool(d) and not errs and counted
    note = f"done={d}; frames={len(frames)} ({speech_frames} with a speech verdict); {errs}"
    case.judge(observe_ws(r, behaviour=ok, note=note))


@pytest.mark.clause("svd-stream/short-stream")
@pytest.mark.parametrize("seconds", [0.3, 0.49])
def test_short_stream(case, seconds):
    r = _svd(case, seconds, seed=38)
    d = done_of(r) or {}
    case.judge(
        observe_ws(r, behaviour=d.get("frame_count") == 0, note=r.describe()), aspect="close"
    )


@pytest.mark.clause("svd-stream/format-equivalence")
def test_format_equivalence(case):
    sig = speech(3.0, seed=39)
    mono16 = sig.samples[:, 0]
    t16 = np.arange(mono16.size) / 16000
    t48 = np.arange(mono16.size * 3) / 48000
    mono48 = np.interp(t48, t16, mono16)
    a = _svd(case, 3.0, data=encode_raw(sig.samples, "s16le"))
    b = _svd(
        case,
        3.0,
        data=encode_raw(mono48[:, None], "f32le"),
        query={"audio_format": "f32le", "sample_rate": 48000, "num_channels": 1},
    )
    va = [(f.get("start_time_ms"), f.get("end_time_ms"), f.get("verdict")) for f in frames_of(a)]
    vb = [(f.get("start_time_ms"), f.get("end_time_ms"), f.get("verdict")) for f in frames_of(b)]
    ok = bool(va) and va == vb
    case.judge(observe_ws(b, behaviour=ok, note=f"s16le/16k: {va}; f32le/48k: {vb}"))


@pytest.mark.clause("svd-stream/mp4-streamable")
def test_mp4_not_streamable(case):
    """An MP4 with its ``moov`` index after ``mdat`` (the fixture's layout): error + 4002."""
    data = case.fixture_bytes("mp4-44100-1ch-2s")
    if not 0 <= data.find(b"mdat") < data.find(b"moov"):
        raise RuntimeError("fixture mp4-44100-1ch-2s is not laid out moov-last; nothing to test")
    r = case.stream(SVD, {"audio_format": "mp4"}, chunks(data, 4096), audio_seconds=2.0)
    case.judge(
        observe_ws(r, behaviour=r.error_before_close, note="moov box after mdat"), aspect="close"
    )


# --------------------------------------------------------------------------- STT score


@pytest.mark.clause("stt-stream/deepfake-score-short")
def test_stt_deepfake_score_short(case):
    data, _ = two_bursts(0.3, 1.2)
    q = {**RAW16, "deepfake_signal": True}
    r = case.stream("stt-stream", q, chunks(data, CHUNK_100MS), audio_seconds=len(data) / 32000)
    utts = utterances_of(r)
    short = [u for u in utts if u.get("duration_ms", 0) < 500]
    ok = bool(short) and all(u.get("deepfake_score") is None for u in short)
    note = (
        f"(duration_ms, score): {[(u.get('duration_ms'), u.get('deepfake_score')) for u in utts]}"
    )
    case.judge(observe_ws(r, behaviour=ok, note=note))
