"""Raw encodings: round trips, an independent reference decoder, and clear errors."""

from __future__ import annotations

import struct

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from harness.audio import AudioSpecError, decode_raw, encode_raw, validate_raw_params
from harness.audio.signals import noise, tone
from harness.contract.tables import RAW_FORMATS, SAMPLE_RATES

NAMES = [f.name for f in RAW_FORMATS]


def _bound(fmt_name: str, x: np.ndarray) -> np.ndarray:
    """Largest allowed |decoded - source| per sample, by format.

    PCM (signed/unsigned, any width): one step, 1 / 2**(bits-1) (round to nearest,
    plus the +1.0 -> max-int clip). f32: float32 rounding, relative 2**-24, plus
    denormal slack. f64: exact. mu-law / A-law (G.711, log-companded): the step
    grows with magnitude; at most |x|/16 plus the smallest-segment step 2**-11.
    """
    fmt = next(f for f in RAW_FORMATS if f.name == fmt_name)
    if fmt.kind in ("signed", "unsigned"):
        return np.full_like(x, 1.0 / 2 ** (fmt.bits - 1))
    if fmt.kind == "float":
        return np.abs(x) * 2.0**-24 + 1e-30 if fmt.bits == 32 else np.zeros_like(x)
    return np.abs(x) / 16 + 2.0**-11


def _source() -> np.ndarray:
    # loud tone, quiet tone, full-scale noise and the extremes, stereo
    x = np.concatenate(
        [
            tone(0.05, 8000, 2, amplitude=0.9),
            tone(0.05, 8000, 2, amplitude=0.001),
            noise(0.05, 8000, 2, amplitude=1.0, seed=3),
            np.array([[1.0, -1.0], [0.0, -0.0], [0.5, -0.5]]),
        ]
    )
    return x


@pytest.mark.parametrize("name", NAMES)
def test_round_trip_within_quantisation(name: str) -> None:
    x = _source()
    data = encode_raw(x, name)
    fmt = next(f for f in RAW_FORMATS if f.name == name)
    assert len(data) == x.shape[0] * fmt.frame_bytes(2)
    y = decode_raw(data, name, 2)
    assert y.shape == x.shape
    err = np.abs(y - x)
    assert np.all(err <= _bound(name, x)), f"{name}: worst error {err.max():.3g}"


# --------------------------------------------------------------------------
# An independent reference decoder: struct / int.from_bytes and the G.711
# expansion written out by hand. Shares no code with harness.audio.raw.
# --------------------------------------------------------------------------


def _ulaw_expand(byte: int) -> int:
    u = ~byte & 0xFF
    sign, exponent, mantissa = u & 0x80, (u >> 4) & 0x07, u & 0x0F
    magnitude = (((mantissa << 3) + 0x84) << exponent) - 0x84
    return -magnitude if sign else magnitude


def _alaw_expand(byte: int) -> int:
    a = byte ^ 0x55
    sign, exponent, mantissa = a & 0x80, (a >> 4) & 0x07, a & 0x0F
    segment_base = 8 if exponent == 0 else 0x108
    magnitude = ((mantissa << 4) + segment_base) << max(exponent - 1, 0)
    return magnitude if sign else -magnitude


def reference_decode(data: bytes, name: str) -> list[float]:
    if name == "mulaw":
        return [_ulaw_expand(b) / 32768 for b in data]
    if name == "alaw":
        return [_alaw_expand(b) / 32768 for b in data]
    if name in ("f32le", "f32be", "f64le", "f64be"):
        code = ("<" if name.endswith("le") else ">") + ("f" if name[1:3] == "32" else "d")
        return [v for (v,) in struct.iter_unpack(code, data)]
    if name == "s8":
        return [
            int.from_bytes(data[i : i + 1], "little", signed=True) / 128 for i in range(len(data))
        ]
    if name == "u8":
        return [(b - 128) / 128 for b in data]
    signed = name[0] == "s"
    bits = int(name[1:3])
    width = bits // 8
    order = "little" if name.endswith("le") else "big"
    half = 1 << (bits - 1)
    out = []
    for i in range(0, len(data), width):
        v = int.from_bytes(data[i : i + width], order, signed=signed)
        out.append((v if signed else v - half) / half)
    return out


@pytest.mark.parametrize("name", NAMES)
def test_reference_decoder_agrees(name: str) -> None:
    x = _source()
    data = encode_raw(x, name)
    ours = decode_raw(data, name, 2).reshape(-1)
    ref = np.array(reference_decode(data, name))
    assert ref.shape == ours.shape
    np.testing.assert_array_equal(ours, ref)  # same samples, bit for bit
    # and the reference decode is also close to the source signal
    assert np.all(np.abs(ref - x.reshape(-1)) <= _bound(name, x.reshape(-1)))


def test_known_byte_layouts() -> None:
    one = np.array([[0.5]])
    assert encode_raw(one, "s16le") == struct.pack("<h", 16384)
    assert encode_raw(one, "s16be") == struct.pack(">h", 16384)
    assert encode_raw(one, "u16le") == struct.pack("<H", 16384 + 32768)
    assert encode_raw(one, "u24be") == (0x400000 + 0x800000).to_bytes(3, "big")
    assert encode_raw(one, "s24le") == (0x400000).to_bytes(3, "little")
    assert encode_raw(one, "f32be") == struct.pack(">f", 0.5)
    assert encode_raw(np.zeros((1, 1)), "mulaw") == b"\xff"  # G.711 mu-law zero
    assert encode_raw(np.zeros((1, 1)), "alaw") == b"\xd5"  # G.711 A-law +zero


def test_channels_interleave() -> None:
    x = np.array([[0.25, -0.25], [0.5, -0.5]])
    data = encode_raw(x, "s16le")
    assert struct.unpack("<4h", data) == (8192, -8192, 16384, -16384)


@settings(max_examples=40, deadline=None)
@given(
    name=st.sampled_from(NAMES),
    x=arrays(
        np.float64,
        st.tuples(st.integers(0, 64), st.integers(1, 8)),
        elements=st.floats(-1.0, 1.0, allow_subnormal=False),
    ),
)
def test_round_trip_property(name: str, x: np.ndarray) -> None:
    y = decode_raw(encode_raw(x, name), name, x.shape[1])
    assert y.shape == x.shape
    assert np.all(np.abs(y - x) <= _bound(name, x) + 1e-300)


# --------------------------------------------------------------------------
# Errors
# --------------------------------------------------------------------------


def test_unknown_format_names_field_value_and_allowed() -> None:
    with pytest.raises(AudioSpecError) as info:
        encode_raw(np.zeros((4, 1)), "pcm16")
    msg = str(info.value)
    assert "audio_format" in msg and "'pcm16'" in msg
    assert all(n in msg for n in NAMES)
    assert isinstance(info.value, ValueError)


@pytest.mark.parametrize("channels", [9, 12])
def test_too_many_channels_rejected(channels: int) -> None:
    with pytest.raises(AudioSpecError, match=r"num_channels .*allowed: integers 1\.\.8"):
        encode_raw(np.zeros((4, channels)), "s16le")
    # deliberately invalid fixtures can still be made
    assert (
        len(encode_raw(np.zeros((4, channels)), "s16le", allow_any_channels=True)) == 8 * channels
    )


def test_validate_raw_params() -> None:
    assert validate_raw_params("mulaw", 8000, 1).name == "mulaw"
    with pytest.raises(AudioSpecError, match=r"sample_rate 12345 .*8000, 11025") as info:
        validate_raw_params("s16le", 12345, 1)
    assert all(str(r) in str(info.value) for r in SAMPLE_RATES)
    for bad in (0, 9, True):
        with pytest.raises(AudioSpecError, match="num_channels"):
            validate_raw_params("s16le", 16000, bad)


def test_partial_frame_is_an_error_unless_allowed() -> None:
    data = encode_raw(np.zeros((10, 2)), "s24le") + b"\x00\x01"
    with pytest.raises(AudioSpecError, match=r"partial frame of 2 bytes"):
        decode_raw(data, "s24le", 2)
    assert decode_raw(data, "s24le", 2, allow_partial=True).shape == (10, 2)
