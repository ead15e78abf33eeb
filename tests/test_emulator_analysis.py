"""Behaviour computed from the audio: duration, speech, SVD frames, PII ranges, redacted MP3."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
from test_emulator_helpers import SR, encode, header_only_wav, speech

from harness.contract import tables as T
from harness.emulator import analysis as A


def _write(tmp_path: Path, data: bytes, ext: str = "wav") -> Path:
    p = tmp_path / f"clip.{ext}"
    p.write_bytes(data)
    return p


def _env(tmp_path: Path, samples: np.ndarray, ext: str = "wav") -> A.Envelope:
    return A.decode_envelope(_write(tmp_path, encode(samples, ext), ext))


def test_true_duration_and_metadata_only(tmp_path):
    assert _env(tmp_path, speech(2.5)).duration_ms == 2500
    assert A.decode_envelope(_write(tmp_path, header_only_wav())).duration_s == 0.0


def test_undecodable_raises(tmp_path):
    with pytest.raises(A.DecodeError):
        A.decode_envelope(_write(tmp_path, b"garbage" * 100))


def test_speech_segments_follow_the_signal(tmp_path):
    x = np.zeros((SR * 5, 1))
    x[SR : 2 * SR, 0] = 0.5 * np.sin(np.arange(SR) / 5)
    x[3 * SR : 4 * SR, 0] = 0.5 * np.sin(np.arange(SR) / 7)
    utts = A.utterances(_env(tmp_path, x))
    assert [(u.start_ms, u.duration_ms) for u in utts] == [(1000, 1000), (3000, 1000)]
    assert all(u.words for u in utts) and utts[0].text != utts[1].text


def test_svd_short_audio_is_padded_into_one_frame(tmp_path):
    frames = A.svd_frames(_env(tmp_path, speech(1.2)))
    content = [f for f in frames if f.verdict != "no-content"]
    assert len(content) == 1
    assert 0.5 <= content[0].confidence < 1.0


def test_svd_trims_silence_but_keeps_file_positions(tmp_path):
    env = _env(tmp_path, speech(10.0, lead_s=2.0, trail_s=1.0, seed=4))
    frames = A.svd_frames(env)
    assert frames[0] == A.Frame(0, frames[0].end_time_ms, "no-content", T.NO_CONTENT_CONFIDENCE)
    assert frames[0].end_time_ms == pytest.approx(2000, abs=20)
    assert frames[-1].verdict == "no-content" and frames[-1].end_time_ms == 10000
    windows = frames[1:-1]
    assert windows[0].start_time_ms == frames[0].end_time_ms
    assert all(f.end_time_ms - f.start_time_ms <= 4000 for f in windows)
    # frames tile the file in order
    assert all(a.end_time_ms == b.start_time_ms for a, b in zip(frames, frames[1:], strict=False))


def test_silent_window_inside_speech_is_no_content(tmp_path):
    x = np.zeros((SR * 14, 1))
    x[: 3 * SR] = speech(3.0, seed=1)
    x[11 * SR :] = speech(3.0, seed=2)
    frames = A.svd_frames(_env(tmp_path, x))
    middle = [f for f in frames if 4000 <= f.start_time_ms < 8000]
    assert middle and middle[0].verdict == "no-content" and middle[0].confidence == 1.0


def test_all_silent_audio_is_no_content(tmp_path):
    frames = A.svd_frames(_env(tmp_path, np.zeros((SR * 5, 1))))
    assert {f.verdict for f in frames} == {"no-content"}
    assert frames[-1].end_time_ms == 5000


def test_pii_ranges_are_padded_clipped_and_merged():
    spans = [
        A.PiiSpan(0, 1, "name", 1000, 1200),
        A.PiiSpan(0, 2, "phi", 1250, 1400),
        A.PiiSpan(1, 1, "name", 40, 90),
        A.PiiSpan(2, 1, "name", 4950, 5200),
    ]
    ranges = A.redaction_ranges(spans, start_pad_ms=100, end_pad_ms=0, duration_ms=5000)
    # [0, 90] clipped at 0; 900-1200 and 1150-1400 overlap; 4850-5200 clipped at the end
    assert ranges == [[0, 90], [900, 1400], [4850, 5000]]


def test_redacted_mp3_is_silent_in_the_ranges(tmp_path):
    x = 0.5 * np.sin(2 * np.pi * 300 * np.arange(SR * 3) / SR)[:, None]
    path = _write(tmp_path, encode(x))
    env = A.decode_envelope(path)
    mp3 = A.redacted_mp3(path, env, [[1000, 2000]])
    y, rate = sf.read(io.BytesIO(mp3))
    assert rate == 16000 and abs(len(y) / rate - 3.0) < 0.2
    lead = int(0.08 * rate)  # MP3 codec delay
    inside = y[int(1.1 * rate) + lead : int(1.9 * rate) + lead]
    outside = y[int(0.2 * rate) + lead : int(0.8 * rate) + lead]
    assert np.sqrt(np.mean(inside**2)) < 0.01 < np.sqrt(np.mean(outside**2))


def test_analysis_is_fast_for_a_long_file(tmp_path):
    import time

    path = _write(tmp_path, encode(speech(300.0, seed=9)))  # 5 minutes
    t0 = time.perf_counter()
    env = A.decode_envelope(path)
    A.svd_frames(env)
    A.utterances(env)
    assert time.perf_counter() - t0 < 3.0
