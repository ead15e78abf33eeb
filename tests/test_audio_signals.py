"""Signal generators: shapes, determinism, and exact speech on/off times."""

from __future__ import annotations

import numpy as np
import pytest

from harness.audio import AudioSpecError
from harness.audio.signals import alternating_speakers, noise, silence, speech_bursts, tone


@pytest.mark.parametrize("channels", range(1, 9))
def test_shapes_and_range(channels: int) -> None:
    for x in (
        tone(0.37, 22050, channels),
        noise(0.37, 22050, channels, seed=1),
        silence(0.37, 22050, channels),
        speech_bursts(0.37, 22050, channels).samples,
    ):
        assert x.shape == (round(0.37 * 22050), channels)
        assert x.dtype == np.float64
        assert np.all(np.abs(x) <= 1.0)


def test_deterministic_and_seeded() -> None:
    a = speech_bursts(3.0, 16000, seed=5)
    b = speech_bursts(3.0, 16000, seed=5)
    c = speech_bursts(3.0, 16000, seed=6)
    assert np.array_equal(a.samples, b.samples) and a.segments == b.segments
    assert a.segments != c.segments
    assert np.array_equal(noise(1, 8000, seed=2), noise(1, 8000, seed=2))
    assert not np.array_equal(noise(1, 8000, seed=2), noise(1, 8000, seed=3))


def test_speech_segments_are_exact() -> None:
    rate = 16000
    s = speech_bursts(6.0, rate, 2, seed=7, lead_s=1.5, trail_s=1.5)
    mono = s.samples[:, 0]
    assert s.segments, "no speech at all"
    assert s.segments[0].start_s == pytest.approx(1.5)
    assert s.segments[-1].end_s <= 4.5 + 1e-9
    inside = np.zeros(len(mono), dtype=bool)
    for seg in s.segments:
        i0, i1 = round(seg.start_s * rate), round(seg.end_s * rate)
        inside[i0:i1] = True
        middle = mono[i0 + (i1 - i0) // 4 : i1 - (i1 - i0) // 4]
        assert np.sqrt(np.mean(middle**2)) > 0.05, f"segment {seg} is too quiet"
    assert np.all(mono[~inside] == 0.0), "sound outside the reported segments"
    assert np.all(s.samples[: int(1.5 * rate)] == 0.0)
    assert np.all(s.samples[-int(1.5 * rate) :] == 0.0)


def test_short_clip_still_has_speech() -> None:
    s = speech_bursts(0.1, 16000)
    assert len(s.segments) == 1 and s.segments[0].end_s == pytest.approx(0.1)


def _peak_hz(x: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(x * np.hanning(len(x))))
    return float(np.fft.rfftfreq(len(x), 1 / rate)[np.argmax(spectrum)])


def test_alternating_speakers_differ_in_pitch() -> None:
    rate = 16000
    s = alternating_speakers(8.0, rate, speakers=(("A", 110.0), ("B", 220.0)))
    labels = [seg.speaker for seg in s.segments]
    assert labels[:4] == ["A", "B", "A", "B"]
    for seg in s.segments[:4]:
        part = s.samples[round(seg.start_s * rate) : round(seg.end_s * rate), 0]
        expected = 110.0 if seg.speaker == "A" else 220.0
        assert _peak_hz(part, rate) == pytest.approx(expected, rel=0.1)


def test_bad_arguments() -> None:
    with pytest.raises(AudioSpecError, match="num_channels"):
        tone(1.0, 16000, 9)
    with pytest.raises(AudioSpecError, match="sample_rate"):
        tone(1.0, 0)
    with pytest.raises(AudioSpecError, match="lead_s"):
        speech_bursts(1.0, 16000, lead_s=0.6, trail_s=0.6)
