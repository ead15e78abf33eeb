"""Post-processing that makes encoder output byte-for-byte reproducible.

libsndfile picks a random Ogg stream serial number per file and stamps a
wall-clock time into the PEAK chunk of float WAV files. Both are rewritten
here to fixed values; nothing else about the bytes changes.
"""

from __future__ import annotations

import struct

FIXED_OGG_SERIAL = 0x48524E53  # any constant works; this one spells "HRNS"


def _ogg_crc_table() -> tuple[int, ...]:
    table = []
    for i in range(256):
        r = i << 24
        for _ in range(8):
            r = ((r << 1) ^ 0x04C11DB7) if r & 0x80000000 else (r << 1)
        table.append(r & 0xFFFFFFFF)
    return tuple(table)


_CRC_TABLE = _ogg_crc_table()


def ogg_crc(page: bytes) -> int:
    """The Ogg page checksum (CRC-32, poly 0x04C11DB7, no reflection, init 0)."""
    crc = 0
    table = _CRC_TABLE
    for b in page:
        crc = ((crc << 8) & 0xFFFFFFFF) ^ table[((crc >> 24) ^ b) & 0xFF]
    return crc


def fix_ogg_serial(data: bytes, serial: int = FIXED_OGG_SERIAL) -> bytes:
    """Rewrite the stream serial of every page of a single-stream Ogg file, re-checksummed."""
    out = bytearray(data)
    pos = 0
    while pos + 27 <= len(out):
        if out[pos : pos + 4] != b"OggS":
            raise ValueError(f"not an Ogg page at byte {pos}")
        nsegs = out[pos + 26]
        body = sum(out[pos + 27 : pos + 27 + nsegs])
        end = pos + 27 + nsegs + body
        struct.pack_into("<I", out, pos + 14, serial)
        struct.pack_into("<I", out, pos + 22, 0)
        struct.pack_into("<I", out, pos + 22, ogg_crc(bytes(out[pos:end])))
        pos = end
    return bytes(out)


def zero_wav_peak_timestamp(data: bytes) -> bytes:
    """Zero the timestamp field of a RIFF/WAVE ``PEAK`` chunk, if there is one."""
    if data[:4] != b"RIFF" or data[8:12] != b"WAVE":
        return data
    out = bytearray(data)
    pos = 12
    while pos + 8 <= len(out):
        chunk_id = bytes(out[pos : pos + 4])
        (size,) = struct.unpack_from("<I", out, pos + 4)
        if chunk_id == b"PEAK" and size >= 8:
            struct.pack_into("<I", out, pos + 12, 0)  # after the 4-byte version
        if chunk_id == b"data":
            break
        pos += 8 + size + (size & 1)
    return bytes(out)
