"""Deterministic test signals.

Every generator returns float64 samples in [-1, 1] shaped ``(frames, channels)``.
Frame counts are ``round(duration_s * sample_rate)``; nothing depends on the clock
or on global random state, so the same arguments always give the same samples.

Speech-like generators also return the exact on/off times of each burst, so later
code can check utterance timing, silence trimming and redaction ranges. Outside
those segments the signal is exactly zero.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from harness.contract.tables import MAX_CHANNELS, MIN_CHANNELS

from .errors import AudioSpecError

# Channel c carries the mono signal scaled by this gain, so every channel differs
# a little and a downmix is never silent by cancellation.
_CHANNEL_GAIN_STEP = 0.06


@dataclass(frozen=True)
class Segment:
    """One stretch of speech-like sound, in seconds from the start of the signal."""

    start_s: float
    end_s: float
    speaker: str | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    def to_json(self) -> dict[str, object]:
        out: dict[str, object] = {"start_s": self.start_s, "end_s": self.end_s}
        if self.speaker is not None:
            out["speaker"] = self.speaker
        return out


@dataclass(frozen=True)
class SpeechSignal:
    samples: np.ndarray
    segments: tuple[Segment, ...]
    sample_rate: int

    @property
    def duration_s(self) -> float:
        return self.samples.shape[0] / self.sample_rate


def num_frames(duration_s: float, sample_rate: int) -> int:
    if sample_rate <= 0:
        raise AudioSpecError("sample_rate", sample_rate, "a positive integer")
    if duration_s < 0:
        raise AudioSpecError("duration_s", duration_s, "a number >= 0")
    return int(round(duration_s * sample_rate))


def _check_channels(channels: int, *, allow_any: bool = False) -> None:
    low, high = (1, 64) if allow_any else (MIN_CHANNELS, MAX_CHANNELS)
    if not isinstance(channels, int) or not low <= channels <= high:
        raise AudioSpecError("num_channels", channels, f"integers {low}..{high}")


def _check_amplitude(amplitude: float) -> None:
    if not 0.0 <= amplitude <= 1.0:
        raise AudioSpecError("amplitude", amplitude, "numbers 0..1")


def spread(mono: np.ndarray, channels: int, *, allow_any: bool = False) -> np.ndarray:
    """Copy a mono signal to ``channels`` channels with slightly different gains."""
    _check_channels(channels, allow_any=allow_any)
    gains = 1.0 - _CHANNEL_GAIN_STEP * (np.arange(channels) % 8)
    return np.ascontiguousarray(mono[:, None] * gains[None, :])


def silence(duration_s: float, sample_rate: int, channels: int = 1) -> np.ndarray:
    _check_channels(channels, allow_any=True)
    return np.zeros((num_frames(duration_s, sample_rate), channels), dtype=np.float64)


def tone(
    duration_s: float,
    sample_rate: int,
    channels: int = 1,
    *,
    freq_hz: float = 440.0,
    amplitude: float = 0.5,
    allow_any_channels: bool = False,
) -> np.ndarray:
    """A sine tone. ``amplitude`` must be in [0, 1]."""
    _check_amplitude(amplitude)
    t = np.arange(num_frames(duration_s, sample_rate)) / sample_rate
    mono = amplitude * np.sin(2.0 * np.pi * freq_hz * t)
    return spread(mono, channels, allow_any=allow_any_channels)


def noise(
    duration_s: float,
    sample_rate: int,
    channels: int = 1,
    *,
    seed: int = 0,
    amplitude: float = 0.3,
) -> np.ndarray:
    """Uniform white noise from a seeded PCG64 generator (independent per channel)."""
    _check_amplitude(amplitude)
    _check_channels(channels, allow_any=True)
    rng = np.random.default_rng(seed)
    n = num_frames(duration_s, sample_rate)
    return amplitude * rng.uniform(-1.0, 1.0, size=(n, channels))


def _voice(n: int, sample_rate: int, pitch_hz: float, rng: np.random.Generator) -> np.ndarray:
    """``n`` samples of a voiced, syllable-modulated harmonic sound with soft edges."""
    t = np.arange(n) / sample_rate
    vibrato = 1.0 + 0.03 * np.sin(2.0 * np.pi * 5.0 * t + rng.uniform(0, 2 * np.pi))
    phase = 2.0 * np.pi * pitch_hz * np.cumsum(vibrato) / sample_rate
    nyquist = sample_rate / 2.0
    wave = np.zeros(n)
    for k, weight in ((1, 1.0), (2, 0.5), (3, 0.35), (4, 0.2), (5, 0.12)):
        if k * pitch_hz * 1.05 < nyquist:
            wave += weight * np.sin(k * phase)
    syllables = 0.6 + 0.4 * np.abs(np.sin(np.pi * 4.0 * t + rng.uniform(0, np.pi)))
    wave *= syllables / 2.17  # the harmonic weights sum to 2.17: keeps |wave| <= 1
    ramp = min(n // 2, max(1, int(0.01 * sample_rate)))  # 10 ms raised-cosine edges
    edge = 0.5 - 0.5 * np.cos(np.pi * np.arange(ramp) / ramp)
    wave[:ramp] *= edge
    wave[n - ramp :] *= edge[::-1]
    return wave


def _place(
    mono: np.ndarray, start: int, stop: int, sample_rate: int, pitch_hz: float, rng, amp: float
) -> None:
    if stop > start:
        mono[start:stop] = amp * _voice(stop - start, sample_rate, pitch_hz, rng)


def speech_bursts(
    duration_s: float,
    sample_rate: int,
    channels: int = 1,
    *,
    seed: int = 0,
    lead_s: float = 0.0,
    trail_s: float = 0.0,
    burst_s: tuple[float, float] = (0.4, 1.2),
    gap_s: tuple[float, float] = (0.15, 0.5),
    pitch_hz: float = 140.0,
    amplitude: float = 0.7,
) -> SpeechSignal:
    """Speech-like bursts separated by exact silence.

    ``lead_s`` / ``trail_s`` seconds at the start / end are pure silence. Burst and gap
    lengths are drawn from ``burst_s`` / ``gap_s`` ranges by a seeded generator. A burst
    never runs into the trailing silence. The first burst is cut to fit a short clip;
    after it, room shorter than the shortest burst is left silent.
    """
    n = num_frames(duration_s, sample_rate)
    lead = num_frames(lead_s, sample_rate)
    trail = num_frames(trail_s, sample_rate)
    if lead + trail > n:
        raise AudioSpecError("lead_s+trail_s", lead_s + trail_s, f"at most duration_s={duration_s}")
    rng = np.random.default_rng(seed)
    mono = np.zeros(n)
    segments: list[Segment] = []
    pos, end = lead, n - trail
    min_burst = num_frames(burst_s[0], sample_rate)
    while pos < end:
        length = min(num_frames(rng.uniform(*burst_s), sample_rate), end - pos)
        if length < min_burst and segments:
            break  # the first burst may be cut short to fit; later ones never are
        _place(mono, pos, pos + length, sample_rate, pitch_hz, rng, amplitude)
        segments.append(Segment(pos / sample_rate, (pos + length) / sample_rate))
        pos += length + num_frames(rng.uniform(*gap_s), sample_rate)
    return SpeechSignal(spread(mono, channels), tuple(segments), sample_rate)


def alternating_speakers(
    duration_s: float,
    sample_rate: int,
    channels: int = 1,
    *,
    speakers: Sequence[tuple[str, float]] = (("A", 110.0), ("B", 220.0)),
    turn_s: float = 1.5,
    gap_s: float = 0.3,
    seed: int = 0,
    amplitude: float = 0.7,
) -> SpeechSignal:
    """Turns of ``turn_s`` seconds that rotate through ``speakers`` (label, pitch in Hz)."""
    if not speakers:
        raise AudioSpecError("speakers", list(speakers), "one or more (label, pitch_hz) pairs")
    n = num_frames(duration_s, sample_rate)
    turn, gap = num_frames(turn_s, sample_rate), num_frames(gap_s, sample_rate)
    if turn <= 0:
        raise AudioSpecError("turn_s", turn_s, "a duration of at least one frame")
    rng = np.random.default_rng(seed)
    mono = np.zeros(n)
    segments: list[Segment] = []
    pos, i = 0, 0
    while pos < n:
        label, pitch = speakers[i % len(speakers)]
        stop = min(pos + turn, n)
        _place(mono, pos, stop, sample_rate, pitch, rng, amplitude)
        segments.append(Segment(pos / sample_rate, stop / sample_rate, label))
        pos, i = stop + gap, i + 1
    return SpeechSignal(spread(mono, channels), tuple(segments), sample_rate)
