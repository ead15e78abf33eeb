"""Headerless ("raw") sample encodings, by their documented ``audio_format`` names.

libsndfile (through soundfile, ``format='RAW'``) does every encoding it has; the
unsigned 16/24/32-bit formats, which it lacks, are done with numpy using the same
scaling convention as libsndfile 1.2: encode ``round(x * 2**(bits-1))`` clipped to the
integer range, then offset by ``2**(bits-1)``; decode ``(u - 2**(bits-1)) / 2**(bits-1)``.
So every PCM format round-trips within one step, 1 / 2**(bits-1).
"""

from __future__ import annotations

import io
from typing import Any

import numpy as np
import soundfile as sf

from harness.contract.tables import (
    MAX_CHANNELS,
    MIN_CHANNELS,
    RAW_FORMAT_NAMES,
    RAW_FORMATS_BY_NAME,
    SAMPLE_RATES,
    RawFormat,
)

from .errors import AudioSpecError

# audio_format name -> libsndfile RAW subtype, for the formats libsndfile has.
_SNDFILE_SUBTYPE = {
    ("signed", 8): "PCM_S8",
    ("unsigned", 8): "PCM_U8",
    ("signed", 16): "PCM_16",
    ("signed", 24): "PCM_24",
    ("signed", 32): "PCM_32",
    ("float", 32): "FLOAT",
    ("float", 64): "DOUBLE",
    ("mulaw", 8): "ULAW",
    ("alaw", 8): "ALAW",
}
_SNDFILE_ENDIAN = {"little": "LITTLE", "big": "BIG", "none": "FILE"}
# libsndfile needs some rate to open a RAW stream; it does not affect the samples.
_ANY_RATE = 8000


def raw_format(name: str) -> RawFormat:
    """The documented raw format called ``name``, or AudioSpecError."""
    try:
        return RAW_FORMATS_BY_NAME[name]
    except (KeyError, TypeError):
        raise AudioSpecError(
            "audio_format", name, RAW_FORMAT_NAMES, "is not a documented raw format"
        ) from None


def check_sample_rate(sample_rate: Any) -> int:
    if isinstance(sample_rate, bool) or sample_rate not in SAMPLE_RATES:
        raise AudioSpecError(
            "sample_rate", sample_rate, SAMPLE_RATES, "is not a documented raw sample rate"
        )
    return int(sample_rate)


def check_num_channels(num_channels: Any) -> int:
    is_int = isinstance(num_channels, int) and not isinstance(num_channels, bool)
    if not is_int or not MIN_CHANNELS <= num_channels <= MAX_CHANNELS:
        raise AudioSpecError(
            "num_channels", num_channels, f"integers {MIN_CHANNELS}..{MAX_CHANNELS}"
        )
    return int(num_channels)


def validate_raw_params(audio_format: str, sample_rate: Any, num_channels: Any) -> RawFormat:
    """Check a (format, rate, channels) triple against the documented tables."""
    fmt = raw_format(audio_format)
    check_sample_rate(sample_rate)
    check_num_channels(num_channels)
    return fmt


def _as_frames(signal: np.ndarray) -> np.ndarray:
    arr = np.asarray(signal, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2:
        raise AudioSpecError("signal.shape", arr.shape, "(frames,) or (frames, channels)")
    return np.clip(arr, -1.0, 1.0)


def encode_raw(signal: np.ndarray, fmt_name: str, *, allow_any_channels: bool = False) -> bytes:
    """Encode float samples in [-1, 1] (values outside are clipped) as ``fmt_name`` bytes.

    Channels outside the documented 1..8 raise AudioSpecError unless
    ``allow_any_channels`` (used to build deliberately invalid fixtures).
    """
    fmt = raw_format(fmt_name)
    frames = _as_frames(signal)
    if not allow_any_channels:
        check_num_channels(frames.shape[1])
    elif frames.shape[1] < 1:
        raise AudioSpecError("num_channels", frames.shape[1], "at least 1 to encode samples")
    if fmt.kind == "unsigned" and fmt.bits > 8:
        return _encode_unsigned(frames, fmt)
    buf = io.BytesIO()
    sf.write(
        buf,
        frames,
        _ANY_RATE,
        format="RAW",
        subtype=_SNDFILE_SUBTYPE[(fmt.kind, fmt.bits)],
        endian=_SNDFILE_ENDIAN[fmt.endian],
    )
    return buf.getvalue()


def decode_raw(
    data: bytes, fmt_name: str, num_channels: int, *, allow_partial: bool = False
) -> np.ndarray:
    """Decode raw bytes to float64 ``(frames, num_channels)``.

    A trailing partial frame raises AudioSpecError unless ``allow_partial``, which drops it.
    """
    fmt = raw_format(fmt_name)
    if not isinstance(num_channels, int) or num_channels < 1:
        raise AudioSpecError("num_channels", num_channels, "integers >= 1 to decode")
    frame_bytes = fmt.frame_bytes(num_channels)
    extra = len(data) % frame_bytes
    if extra and not allow_partial:
        raise AudioSpecError(
            "len(data)",
            len(data),
            f"multiples of {frame_bytes} ({fmt.name}, {num_channels} ch)",
            f"leaves a partial frame of {extra} bytes",
        )
    data = bytes(data[: len(data) - extra])
    if not data:
        return np.zeros((0, num_channels))
    if fmt.kind == "unsigned" and fmt.bits > 8:
        return _decode_unsigned(data, fmt, num_channels)
    out, _ = sf.read(
        io.BytesIO(data),
        dtype="float64",
        always_2d=True,
        format="RAW",
        subtype=_SNDFILE_SUBTYPE[(fmt.kind, fmt.bits)],
        endian=_SNDFILE_ENDIAN[fmt.endian],
        samplerate=_ANY_RATE,
        channels=num_channels,
    )
    return out


def _byteorder(fmt: RawFormat) -> str:
    return "<" if fmt.endian == "little" else ">"


def _encode_unsigned(frames: np.ndarray, fmt: RawFormat) -> bytes:
    half = 1 << (fmt.bits - 1)
    signed = np.clip(np.rint(frames * half), -half, half - 1).astype(np.int64)
    values = (signed + half).reshape(-1)
    if fmt.bits == 24:
        as32 = values.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3]
        if fmt.endian == "big":
            as32 = as32[:, ::-1]
        return np.ascontiguousarray(as32).tobytes()
    return values.astype(f"{_byteorder(fmt)}u{fmt.bits // 8}").tobytes()


def _decode_unsigned(data: bytes, fmt: RawFormat, num_channels: int) -> np.ndarray:
    half = 1 << (fmt.bits - 1)
    if fmt.bits == 24:
        triples = np.frombuffer(data, dtype=np.uint8).reshape(-1, 3).astype(np.uint32)
        if fmt.endian == "big":
            triples = triples[:, ::-1]
        values = triples[:, 0] | (triples[:, 1] << 8) | (triples[:, 2] << 16)
    else:
        values = np.frombuffer(data, dtype=f"{_byteorder(fmt)}u{fmt.bits // 8}")
    signed = values.astype(np.int64) - half
    return (signed / half).reshape(-1, num_channels)
