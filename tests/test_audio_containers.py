"""Container encodings: decodable, right duration, and reproducible byte for byte."""

from __future__ import annotations

import struct

import numpy as np
import pytest

from harness.audio import AudioSpecError
from harness.audio.containers import CODECS, WAV_SUBTYPES, encode_container, probe
from harness.audio.determinism import FIXED_OGG_SERIAL, ogg_crc
from harness.audio.signals import speech_bursts

# Decoded length may differ from the encoded length by codec framing. Tolerance in
# samples per channel, at the encoded rate, with the reason:
TOLERANCE = {
    "wav": 0,
    "aiff": 0,
    "au": 0,
    "flac": 0,  # PCM / lossless: exact
    "ogg": 2048,  # one long Vorbis block (libsndfile trims by granule position anyway)
    "opus": 960,  # 20 ms Opus frame at 48 kHz (pre-skip is trimmed by the Ogg header)
    "webm": 960,  # ditto; Matroska CodecDelay/DiscardPadding trim priming and padding
    "mp3": 1152,  # one MPEG-1 Layer III frame (LAME's gapless tag trims the delay)
    "mp4": 1024,  # one AAC frame: the edit list trims the 1024-sample priming, not the tail
    "mov": 1024,  # as mp4
    "aac": 2048,  # ADTS has no edit list: 1024 priming samples + up to one frame of padding
}
RATES = {"opus": 48000, "webm": 48000, "mp3": 44100, "mp4": 44100, "mov": 44100, "aac": 44100}


@pytest.mark.parametrize("fmt", sorted(CODECS))
@pytest.mark.parametrize("channels", [1, 2])
def test_decodes_to_stated_duration(fmt: str, channels: int) -> None:
    rate = RATES.get(fmt, 16000)
    x = speech_bursts(1.3, rate, channels).samples
    data = encode_container(x, rate, fmt)
    got = probe(data, CODECS[fmt].ext)
    assert got.channels == channels
    assert got.sample_rate == rate
    assert abs(got.frames - x.shape[0]) <= TOLERANCE[fmt], (got, x.shape[0])
    assert got.frames >= x.shape[0] - TOLERANCE[fmt] // 2  # never loses more than half a frame


@pytest.mark.parametrize("subtype", WAV_SUBTYPES)
def test_wav_subtypes(subtype: str) -> None:
    x = speech_bursts(0.5, 8000).samples
    data = encode_container(x, 8000, "wav", subtype=subtype)
    assert data[:4] == b"RIFF" and data[8:12] == b"WAVE"
    assert tuple(probe(data, "wav"))[:3] == (8000, 1, 4000)


@pytest.mark.parametrize("fmt", sorted(CODECS))
def test_deterministic(fmt: str) -> None:
    rate = RATES.get(fmt, 16000)
    x = speech_bursts(0.6, rate, 2, seed=3).samples
    assert encode_container(x, rate, fmt) == encode_container(x, rate, fmt)


def _ogg_pages(data: bytes):
    pos = 0
    while pos < len(data):
        assert data[pos : pos + 4] == b"OggS"
        nsegs = data[pos + 26]
        end = pos + 27 + nsegs + sum(data[pos + 27 : pos + 27 + nsegs])
        yield data[pos:end]
        pos = end


@pytest.mark.parametrize("fmt", ["ogg", "opus"])
def test_ogg_serial_is_fixed_and_pages_checksum(fmt: str) -> None:
    """libsndfile picks a random serial per file; we pin it and re-checksum every page."""
    rate = RATES.get(fmt, 16000)
    data = encode_container(speech_bursts(1.0, rate).samples, rate, fmt)
    pages = list(_ogg_pages(data))
    assert len(pages) >= 2
    for page in pages:
        assert struct.unpack_from("<I", page, 14)[0] == FIXED_OGG_SERIAL
        stored = struct.unpack_from("<I", page, 22)[0]
        assert ogg_crc(page[:22] + b"\0\0\0\0" + page[26:]) == stored


def test_ogg_crc_known_vector() -> None:
    # CRC-32/MPEG-2 family without final xor, init 0 (Ogg): check value for "123456789"
    assert ogg_crc(b"123456789") == 0x89A1897F


def test_float_wav_peak_timestamp_zeroed() -> None:
    data = encode_container(speech_bursts(0.2, 16000).samples, 16000, "wav", subtype="FLOAT")
    i = data.find(b"PEAK")
    assert i > 0, "libsndfile no longer writes a PEAK chunk?"
    assert struct.unpack_from("<I", data, i + 12)[0] == 0


@pytest.mark.parametrize("fmt", ["webm", "mp4", "mov", "aac"])
def test_pyav_output_carries_no_version_string(fmt: str) -> None:
    rate = RATES[fmt]
    data = encode_container(speech_bursts(0.3, rate).samples, rate, fmt)
    for needle in (b"Lavf6", b"Lavf5", b"Lavc6", b"Lavc5"):
        assert needle not in data


def test_errors() -> None:
    x = np.zeros((100, 1))
    with pytest.raises(AudioSpecError, match=r"audio_format 'wma' .*allowed: wav, flac"):
        encode_container(x, 16000, "wma")
    with pytest.raises(AudioSpecError, match=r"sample_rate 44100 .*48000"):
        encode_container(x, 44100, "opus")
    with pytest.raises(AudioSpecError, match="subtype"):
        encode_container(x, 16000, "wav", subtype="GSM610")
    with pytest.raises(AudioSpecError, match="could not be decoded"):
        probe(b"not audio at all" * 10, "wav")
