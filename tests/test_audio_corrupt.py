"""Edge-case fixtures are what they claim to be."""

from __future__ import annotations

import io
import struct
from dataclasses import replace

import numpy as np
import pytest
import soundfile as sf

from harness.audio import AudioSpecError, catalog, decode_raw, load_manifest
from harness.audio import build as build_all
from harness.audio.containers import probe
from harness.audio.corrupt import (
    add_partial_frame,
    flac_tags_only,
    id3_tags_only,
    oversize_wav_chunks,
    truncate,
    wav_header,
)
from harness.audio.recipes import render
from harness.contract.tables import RAW_FORMATS_BY_NAME


@pytest.fixture(scope="module")
def m(tmp_path_factory):
    out = tmp_path_factory.mktemp("fx")
    build_all(out)
    return load_manifest(out)


def _bytes(m, fixture_id: str) -> bytes:
    return (m.root / m.get(fixture_id).path).read_bytes()


def test_header_only_wav_is_valid_with_no_frames(m) -> None:
    data = _bytes(m, "header-only-wav-16000-1ch")
    assert len(data) == 44
    info = sf.info(io.BytesIO(data))
    assert (info.samplerate, info.channels, info.frames) == (16000, 1, 0)


def test_tags_only_flac_parses_with_zero_frames(m) -> None:
    data = _bytes(m, "tags-only-flac-16000-1ch")
    with sf.SoundFile(io.BytesIO(data)) as f:
        # STREAMINFO total_samples == 0 means "unknown" in FLAC, so libsndfile reports
        # an unknown (huge) length; what matters is that no sample can be read.
        assert (f.samplerate, f.channels) == (16000, 1)
        assert f.title == "tags only"
        try:
            got = f.read(1024, dtype="int16").shape[0]
        except sf.LibsndfileError:  # libsndfile 1.2.2: "Internal psf_fseek() failed."
            got = 0
        assert got == 0
    assert tuple(probe(data, "flac")) == (16000, 1, 0, 0.0)


def test_tags_only_mp3_is_an_id3_tag_and_nothing_else(m) -> None:
    data = _bytes(m, "tags-only-mp3")
    assert data[:3] == b"ID3"
    size = sum(b << (7 * (3 - i)) for i, b in enumerate(data[6:10]))
    assert len(data) == 10 + size
    assert b"TIT2" in data and b"\xff\xfb" not in data  # no MPEG frame sync


def test_empty_is_empty(m) -> None:
    for e in m.with_tag("empty"):
        assert _bytes(m, e.id) == b""


def test_truncated_and_corrupt_differ_from_intact(m) -> None:
    for e in m.with_tag("truncated") + m.with_tag("corrupt"):
        intact = render(replace(catalog.spec(e.id), damage=())).data
        damaged = _bytes(m, e.id)
        assert damaged != intact, e.id
        if "truncated" in e.tags:
            assert intact.startswith(damaged) and len(damaged) < len(intact), e.id
        else:
            assert len(damaged) == len(intact), e.id
    assert (
        m.get("corrupt-wav-bad-magic").bytes and _bytes(m, "corrupt-wav-bad-magic")[:4] == b"XXXX"
    )
    for fixture_id in (
        "truncated-mp4-half",
        "corrupt-wav-bad-magic",
        "truncated-wav-inside-header",
    ):
        with pytest.raises(AudioSpecError):
            probe(_bytes(m, fixture_id), m.get(fixture_id).path.rsplit(".", 1)[1])


def test_truncated_wav_decodes_short(m) -> None:
    e = m.get("truncated-wav-half")
    got = probe(_bytes(m, e.id), "wav")
    assert got.duration_s < 0.6 * e.duration_s


def test_wrong_extension_holds_other_format(m) -> None:
    assert _bytes(m, "wrong-ext-wav-named-mp3")[:4] == b"RIFF"
    assert m.get("wrong-ext-wav-named-mp3").path.endswith(".mp3")
    assert m.get("wrong-ext-mp3-named-wav").path.endswith(".wav")
    assert _bytes(m, "wrong-ext-mp3-named-wav")[:4] != b"RIFF"


def test_container_as_raw(m) -> None:
    for e in m.with_tag("container-as-raw"):
        assert e.declared["audio_format"] == "s16le"
        head = _bytes(m, e.id)[:4]
        assert head in (b"RIFF", b"\x1a\x45\xdf\xa3")  # WAV or EBML (WebM)


def test_partial_frames(m) -> None:
    for e in m.with_tag("partial-frame"):
        fmt = RAW_FORMATS_BY_NAME[e.audio_format]
        assert e.bytes % fmt.frame_bytes(e.num_channels) != 0
        with pytest.raises(AudioSpecError, match="partial frame"):
            decode_raw(_bytes(m, e.id), e.audio_format, e.num_channels)


def test_declared_mismatches_are_real(m) -> None:
    f32 = m.get("mismatch-f32le-declared-s16le")
    samples = decode_raw(_bytes(m, f32.id), "f32le", 1)
    assert samples.shape[0] == f32.frames and np.abs(samples).max() <= 1.0
    assert m.get("mismatch-44100-declared-16000").sample_rate == 44100
    stereo = m.get("mismatch-stereo-declared-mono")
    assert stereo.num_channels == 2 and stereo.declared["num_channels"] == 1
    nine = m.get("raw-s16le-16000-declared-9ch")
    assert nine.bytes == nine.frames * 9 * 2


def test_silence_is_digital_silence(m) -> None:
    data = _bytes(m, "silence-raw-s16le-16000-1ch-3s")
    assert data == bytes(len(data)) and len(data) == 3 * 16000 * 2


def test_raw_fixtures_decode_to_their_duration(m) -> None:
    for e in m.filter(kind="raw"):
        samples = decode_raw(_bytes(m, e.id), e.audio_format, e.num_channels)
        assert samples.shape == (e.frames, e.num_channels), e.id
        assert e.frames == round(e.duration_s * e.sample_rate)


def test_helpers_validate() -> None:
    with pytest.raises(AudioSpecError, match="fraction"):
        truncate(b"abc", 1.0)
    with pytest.raises(AudioSpecError, match="extra"):
        add_partial_frame(b"", 4, 4)
    hdr = wav_header(8000, 2, 16, 400)
    assert struct.unpack_from("<4sI4s", hdr) == (b"RIFF", 436, b"WAVE") and len(hdr) == 44
    assert flac_tags_only(8000, 1, {})[:4] == b"fLaC"
    assert id3_tags_only({})[:3] == b"ID3"


def test_oversize_generator_small() -> None:
    chunks = list(oversize_wav_chunks(8000, 1, 3, chunk_bytes=1000))
    data = b"".join(chunks)
    assert len(data) == 44 + 3 * 8000 * 2 and max(map(len, chunks)) <= 1000
    audio, rate = sf.read(io.BytesIO(data))
    assert rate == 8000 and len(audio) == 24000
