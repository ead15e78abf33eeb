"""Byte-level edge cases: damaged files, hand-built headers, and the lazy oversize stream.

Everything here is a pure function of its arguments (seeded where random), so the
fixtures built from it are reproducible. ``oversize_wav_chunks`` never holds the
whole file: it yields a 44-byte WAV header and then bounded PCM chunks.
"""

from __future__ import annotations

import struct
from collections.abc import Iterator

import numpy as np

from .errors import AudioSpecError


def truncate(data: bytes, fraction: float) -> bytes:
    """The first ``fraction`` (0 < f < 1) of ``data``: a file cut mid-stream."""
    if not 0.0 < fraction < 1.0:
        raise AudioSpecError("fraction", fraction, "numbers strictly between 0 and 1")
    return data[: int(len(data) * fraction)]


def splice_garbage(data: bytes, *, at: float = 0.5, length: int = 512, seed: int = 0) -> bytes:
    """``data`` with ``length`` bytes from offset ``at * len`` replaced by seeded noise."""
    start = int(len(data) * at)
    stop = min(len(data), start + length)
    noise = np.random.default_rng(seed).integers(0, 256, size=stop - start, dtype=np.uint8)
    return data[:start] + noise.tobytes() + data[stop:]


def replace_magic(data: bytes, magic: bytes = b"XXXX") -> bytes:
    """``data`` with its first ``len(magic)`` bytes (the file signature) overwritten."""
    return magic + data[len(magic) :]


def garbage(size: int, *, seed: int = 0) -> bytes:
    """``size`` seeded random bytes: no audio format at all."""
    return np.random.default_rng(seed).integers(0, 256, size=size, dtype=np.uint8).tobytes()


def add_partial_frame(data: bytes, frame_bytes: int, extra: int) -> bytes:
    """Raw ``data`` plus ``extra`` (1 <= extra < frame_bytes) bytes of a next frame."""
    if not 1 <= extra < frame_bytes:
        raise AudioSpecError("extra", extra, f"integers 1..{frame_bytes - 1}")
    return data + bytes(extra)


def wav_header(sample_rate: int, channels: int, bits: int, data_bytes: int) -> bytes:
    """A canonical 44-byte PCM WAV header announcing ``data_bytes`` bytes of samples."""
    if data_bytes + 36 > 0xFFFFFFFF:
        raise AudioSpecError("data_bytes", data_bytes, "at most 4 GiB - 37 (RIFF size field)")
    block = channels * bits // 8
    return (
        b"RIFF"
        + struct.pack("<I", 36 + data_bytes)
        + b"WAVEfmt "
        + struct.pack("<IHHIIHH", 16, 1, channels, sample_rate, sample_rate * block, block, bits)
        + b"data"
        + struct.pack("<I", data_bytes)
    )


def flac_tags_only(sample_rate: int, channels: int, tags: dict[str, str]) -> bytes:
    """A FLAC file with STREAMINFO (0 samples) and a VORBIS_COMMENT block, and no frames."""
    bps = 16
    info = bytearray(struct.pack(">HH", 4096, 4096))  # min/max block size
    info += (0).to_bytes(3, "big") + (0).to_bytes(3, "big")  # min/max frame size: unknown
    packed = (sample_rate << 44) | ((channels - 1) << 41) | ((bps - 1) << 36) | 0  # 0 samples
    info += packed.to_bytes(8, "big") + bytes(16)  # + MD5 of no audio left unset
    vendor = b"harness.audio"
    comments = [f"{k}={v}".encode() for k, v in sorted(tags.items())]
    vc = struct.pack("<I", len(vendor)) + vendor + struct.pack("<I", len(comments))
    vc += b"".join(struct.pack("<I", len(c)) + c for c in comments)
    block0 = bytes([0]) + len(info).to_bytes(3, "big") + bytes(info)  # STREAMINFO
    block1 = bytes([0x80 | 4]) + len(vc).to_bytes(3, "big") + vc  # last, VORBIS_COMMENT
    return b"fLaC" + block0 + block1


def _syncsafe(n: int) -> bytes:
    return bytes(((n >> 21) & 0x7F, (n >> 14) & 0x7F, (n >> 7) & 0x7F, n & 0x7F))


def id3_tags_only(tags: dict[str, str]) -> bytes:
    """An "MP3" made of an ID3v2.3 tag (text frames, e.g. TIT2/TPE1) and no audio frames."""
    frames = b""
    for frame_id, text in sorted(tags.items()):
        payload = b"\x00" + text.encode("latin-1")  # encoding byte 0 = ISO-8859-1
        frames += frame_id.encode("ascii") + struct.pack(">I", len(payload)) + b"\x00\x00"
        frames += payload
    return b"ID3\x03\x00\x00" + _syncsafe(len(frames)) + frames


# --------------------------------------------------------------------------
# The oversize file: a PCM WAV produced chunk by chunk.
# --------------------------------------------------------------------------

STREAM_CHUNK_BYTES = 256 * 1024


def _block(sample_rate: int, channels: int, index: int) -> np.ndarray:
    """One second of int16 PCM: a tone whose pitch depends on ``index`` (0..3)."""
    t = np.arange(sample_rate) / sample_rate
    freq = (220.0, 277.0, 330.0, 415.0)[index]
    mono = np.rint(0.4 * 32767 * np.sin(2 * np.pi * freq * t)).astype("<i2")
    return np.ascontiguousarray(np.repeat(mono[:, None], channels, axis=1))


def oversize_wav_size(sample_rate: int, channels: int, duration_s: int) -> int:
    return 44 + sample_rate * channels * 2 * duration_s


def oversize_wav_chunks(
    sample_rate: int, channels: int, duration_s: int, chunk_bytes: int = STREAM_CHUNK_BYTES
) -> Iterator[bytes]:
    """A 16-bit PCM WAV of whole seconds, yielded in chunks of at most ``chunk_bytes``.

    The audio cycles through four one-second tones. Memory use is four seconds of
    samples plus one chunk, whatever the duration.
    """
    data_bytes = sample_rate * channels * 2 * duration_s
    yield wav_header(sample_rate, channels, 16, data_bytes)
    blocks = [_block(sample_rate, channels, i).tobytes() for i in range(4)]
    pending = bytearray()
    for second in range(duration_s):
        pending += blocks[second % 4]
        while len(pending) >= chunk_bytes:
            yield bytes(pending[:chunk_bytes])
            del pending[:chunk_bytes]
    if pending:
        yield bytes(pending)
