"""Deterministic "speech" for the TTS surfaces: one short tone per character.

The pitch of each tone follows the character (``ord(c)``), spaces and punctuation are
short silences, so the same text always gives the same samples and different texts
audibly differ. Output is PCM16 little-endian, or G.711 for ``ulaw_8000`` / ``alaw_8000``.
"""

from __future__ import annotations

import re

import numpy as np

CHAR_S = 0.06  # seconds of audio per character at speed 1.0
_FORMAT = re.compile(r"(pcm|ulaw|alaw)_([0-9]{4,6})")  # ASCII digits, whole string
MIN_RATE, MAX_RATE = 8000, 48000


class BadFormat(ValueError):
    """An output_format or sample_rate the emulator does not produce."""


def parse_output(output_format: str | None, sample_rate: int) -> tuple[str, int]:
    """(codec, rate) for a request; raises :class:`BadFormat`."""
    if output_format:
        m = _FORMAT.fullmatch(output_format)
        if not m:
            raise BadFormat(f"unknown output_format {output_format!r}")
        codec, rate = m.group(1), int(m.group(2))
        if codec != "pcm" and rate != 8000:
            raise BadFormat(f"{codec} is only produced at 8000 Hz")
    else:
        codec, rate = "pcm", sample_rate
    if not MIN_RATE <= rate <= MAX_RATE:
        raise BadFormat(f"sample rate {rate} outside {MIN_RATE}-{MAX_RATE}")
    return codec, rate


def synthesize(text: str, rate: int, speed: float = 1.0) -> np.ndarray:
    """int16 samples for ``text`` at ``rate``."""
    n = max(1, int(rate * CHAR_S / max(speed, 0.1)))
    t = np.arange(n) / rate
    fade = np.minimum(1.0, np.minimum(np.arange(n), np.arange(n)[::-1]) / max(1, n // 8))
    parts = []
    for c in text:
        if c.isspace() or not c.isalnum():
            parts.append(np.zeros(n))
            continue
        freq = 180.0 + (ord(c) % 97) * 9.0
        parts.append(0.3 * np.sin(2 * np.pi * freq * t) * fade)
    if not parts:
        parts.append(np.zeros(n))
    return (np.concatenate(parts) * 32767).astype("<i2")


def _ulaw(x: np.ndarray) -> bytes:
    s = x.astype(np.int32)
    sign = np.where(s < 0, 0x80, 0)
    mag = np.minimum(np.abs(s), 32635) + 132
    exp = np.floor(np.log2(mag)).astype(np.int32) - 7
    exp = np.clip(exp, 0, 7)
    mant = (mag >> (exp + 3)) & 0x0F
    return (~(sign | (exp << 4) | mant) & 0xFF).astype(np.uint8).tobytes()


def _alaw(x: np.ndarray) -> bytes:
    s = x.astype(np.int32) >> 3  # 13-bit
    sign = np.where(s >= 0, 0x80, 0)
    mag = np.minimum(np.where(s >= 0, s, -s - 1), 4095)
    exp = np.where(mag < 32, 0, np.floor(np.log2(np.maximum(mag, 1))).astype(np.int32) - 4)
    exp = np.clip(exp, 0, 7)
    mant = np.where(exp == 0, mag >> 1, mag >> exp) & 0x0F
    return ((sign | (exp << 4) | mant) ^ 0x55).astype(np.uint8).tobytes()


def encode(samples: np.ndarray, codec: str) -> bytes:
    if codec == "ulaw":
        return _ulaw(samples)
    if codec == "alaw":
        return _alaw(samples)
    return samples.astype("<i2").tobytes()


def media_type(codec: str, rate: int) -> str:
    return {"ulaw": "audio/basic", "alaw": "audio/x-alaw-basic"}.get(
        codec, f"audio/pcm;rate={rate};encoding=s16le"
    )
