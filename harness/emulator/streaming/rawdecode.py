"""Incremental decoding of streamed audio to mono float32, validated as it arrives.

Raw (headerless) streams are decoded chunk by chunk with numpy: a partial frame is
carried to the next chunk, channels are averaged, and data that cannot be the declared
format raises :class:`Mismatch` (container signatures at the start of a raw stream,
non-finite or absurdly large floats, a partial frame left at end of stream).

Self-describing streams: a WAV stream (``audio_format=wav``, or no ``audio_format`` on
STT/PII) is parsed incrementally; once its header up to the ``data`` chunk is in
(:func:`parse_wav_header`), the rest is decoded exactly like the raw format it holds, so
results flow while the audio streams. That covers PCM 8/16/24/32-bit, IEEE float 32/64,
mu-law and A-law, also as WAVE_FORMAT_EXTENSIBLE. Every other container (FLAC, OGG, MP3,
WebM, MP4, AIFF, ..., and WAV flavours outside that list: RIFX, ADPCM, a header over
64 KiB) is buffered and decoded at end of stream (soundfile, then PyAV), so its results
all arrive after the empty text frame; failure raises :class:`Undecodable`.

MP4-family streams (``mp4``, ``m4a``, ``3gp``, ``3gpp``: SVD streaming only) have to be in
streamable layout, index first: the top-level boxes are read as they arrive
(:func:`mp4_layout`), and a ``mdat`` (media data) box before the ``moov`` (index) box
raises :class:`Undecodable` at once, as a decoder reading the stream in order cannot
find the index before the samples. A stream that is no box sequence is left to the
decoder at end of stream.
"""

from __future__ import annotations

import io
import struct
from dataclasses import dataclass
from functools import cache

import av
import numpy as np
import soundfile as sf

from harness.audio import decode_raw
from harness.contract.tables import RAW_FORMATS_BY_NAME, RawFormat

# First bytes of self-describing streams: never the start of a raw stream we accept.
CONTAINER_MAGIC: tuple[bytes, ...] = (
    b"RIFF",  # wav
    b"RIFX",
    b"FORM",  # aiff
    b"OggS",  # ogg / opus
    b"fLaC",  # flac
    b"ID3",  # mp3 with tags
    b"\x1a\x45\xdf\xa3",  # webm / matroska
    b".snd",  # au
    b"#!AMR",  # amr
    b"\x30\x26\xb2\x75",  # asf / wma
)
# A float sample this far outside [-1, 1] is not audio in the declared float format.
FLOAT_LIMIT = 64.0
# Container buffering cap (bytes): far above anything a test or benchmark streams.
MAX_CONTAINER_BYTES = 200 * 1000 * 1000


class Mismatch(Exception):
    """The bytes are not audio in the declared raw format."""


class Undecodable(Exception):
    """A self-describing stream could not be decoded."""


@cache
def _law_table(name: str) -> np.ndarray:
    return decode_raw(bytes(range(256)), name, 1)[:, 0].astype(np.float32)


class RawDecoder:
    """Bytes of one raw format in, mono float32 out."""

    def __init__(
        self,
        fmt: RawFormat,
        num_channels: int,
        batch_frames: int = 0,
        *,
        data_bytes: int | None = None,
        strict: bool = True,
    ) -> None:
        """``data_bytes``: bytes after that are ignored (a WAV ``data`` chunk's size).
        ``strict=False`` (the payload of a WAV): no container-signature check and a
        partial frame at end of stream is dropped, as WAV readers do."""
        self.fmt = fmt
        self.channels = num_channels
        self.frame_bytes = fmt.frame_bytes(num_channels)
        self.batch_bytes = batch_frames * self.frame_bytes
        self._pending: list[bytes] = []
        self.pending_bytes = 0
        self._carry = b""
        self._started = not strict
        self._strict = strict
        self._left = data_bytes
        self.frames = 0

    def frames_after(self, extra_bytes: int) -> int:
        """Whole frames decoded so far plus those waiting, after ``extra_bytes`` more."""
        waiting = self.pending_bytes + len(self._carry) + extra_bytes
        return self.frames + waiting // self.frame_bytes

    def feed(self, data: bytes, *, flush: bool = False) -> np.ndarray:
        """Take ``data``; decode once ``batch_frames`` are waiting (or ``flush``).

        Batching keeps the per-message cost low for small chunks (numpy call overhead).
        """
        if self._left is not None:
            data = data[: self._left]
            self._left -= len(data)
        if not self._started and data:
            head = data[:8]
            if any(head.startswith(m) for m in CONTAINER_MAGIC):
                raise Mismatch("container signature on a raw stream")
            self._started = True
        if data:
            self._pending.append(data)
            self.pending_bytes += len(data)
        if not flush and self.pending_bytes + len(self._carry) < self.batch_bytes:
            return np.zeros(0, np.float32)
        buf = b"".join([self._carry, *self._pending])
        self._pending.clear()
        self.pending_bytes = 0
        n = len(buf) // self.frame_bytes
        used = n * self.frame_bytes
        self._carry = buf[used:]
        if n == 0:
            return np.zeros(0, np.float32)
        samples = self._decode(memoryview(buf)[:used])
        self.frames += n
        if self.channels > 1:
            return samples.reshape(n, self.channels).mean(axis=1, dtype=np.float32)
        return samples

    def finish(self) -> None:
        """End of stream: a partial frame left over is a mismatch."""
        if self._carry and self._strict:
            raise Mismatch(f"{len(self._carry)} bytes of a partial frame at end of stream")

    def _decode(self, data: memoryview) -> np.ndarray:
        f = self.fmt
        order = "<" if f.endian == "little" else ">"
        if f.kind in ("mulaw", "alaw"):
            return _law_table(f.kind)[np.frombuffer(data, np.uint8)]
        if f.kind == "float":
            x = np.frombuffer(data, f"{order}f{f.sample_bytes}").astype(np.float32)
            peak = np.abs(x).max()
            if not np.isfinite(peak) or peak > FLOAT_LIMIT:
                raise Mismatch("non-finite or out-of-range float samples")
            return x
        half = float(1 << (f.bits - 1))
        if f.bits == 24:
            b = np.frombuffer(data, np.uint8).reshape(-1, 3).astype(np.int32)
            if f.endian == "big":
                b = b[:, ::-1]
            v = b[:, 0] | (b[:, 1] << 8) | (b[:, 2] << 16)
            offset = np.where(v >= 1 << 23, 1 << 24, 0) if f.kind == "signed" else 1 << 23
            v = v - offset
            return (v / half).astype(np.float32)
        code = "i" if f.kind == "signed" else "u"
        v = np.frombuffer(data, f"{order}{code}{f.sample_bytes}")
        if f.kind == "unsigned":
            return ((v.astype(np.float64) - half) / half).astype(np.float32)
        return (v / half).astype(np.float32)


# ------------------------------------------------------------------ WAV, incrementally

WAV_HEAD_LIMIT = 64 * 1024  # a WAV whose data chunk starts later is decoded at end of stream
_WAV_CODES = {  # (format tag, bits per sample) -> raw format
    (1, 8): "u8",
    (1, 16): "s16le",
    (1, 24): "s24le",
    (1, 32): "s32le",
    (3, 32): "f32le",
    (3, 64): "f64le",
    (6, 8): "alaw",
    (7, 8): "mulaw",
}
_EXTENSIBLE = 0xFFFE


class NotStreamable(Exception):
    """Not a WAV this module decodes incrementally (it is decoded at end of stream)."""


@dataclass(frozen=True)
class WavLayout:
    fmt: RawFormat
    channels: int
    rate: int
    data_offset: int  # where the samples start in the stream
    data_bytes: int | None  # None: unknown (0 or 0xFFFFFFFF in the header: read to the end)


def parse_wav_header(buf: bytes) -> WavLayout | None:
    """The layout once the header up to the ``data`` chunk is in ``buf``; ``None`` while
    more bytes are needed. Raises :class:`NotStreamable`."""
    if len(buf) < 12:
        if not (b"RIFF".startswith(buf[:4]) and b"WAVE".startswith(buf[8:12])):
            raise NotStreamable("not RIFF/WAVE")
        return None
    if buf[:4] != b"RIFF" or buf[8:12] != b"WAVE":
        raise NotStreamable("not RIFF/WAVE")
    pos, fmt = 12, None
    while True:
        if pos > WAV_HEAD_LIMIT:
            raise NotStreamable("header too long")
        if len(buf) < pos + 8:
            return None
        cid, size = buf[pos : pos + 4], struct.unpack_from("<I", buf, pos + 4)[0]
        if cid == b"data":
            if fmt is None:
                raise NotStreamable("data before fmt")
            raw, channels, rate = fmt
            known = size not in (0, 0xFFFFFFFF)
            return WavLayout(raw, channels, rate, pos + 8, size if known else None)
        if cid == b"fmt ":
            if len(buf) < pos + 8 + size:
                return None
            fmt = _wav_fmt(buf[pos + 8 : pos + 8 + size])
        pos += 8 + size + (size & 1)


def _wav_fmt(body: bytes) -> tuple[RawFormat, int, int]:
    if len(body) < 16:
        raise NotStreamable("short fmt chunk")
    tag, channels, rate, _, align, bits = struct.unpack_from("<HHIIHH", body)
    if tag == _EXTENSIBLE and len(body) >= 26:
        tag = struct.unpack_from("<H", body, 24)[0]
    name = _WAV_CODES.get((tag, bits))
    if name is None or not 1 <= channels <= 64 or rate <= 0:
        raise NotStreamable(f"format tag {tag}, {bits} bits")
    raw = RAW_FORMATS_BY_NAME[name]
    if align != raw.frame_bytes(channels):
        raise NotStreamable("block align does not match")
    return raw, channels, rate


# ------------------------------------------------------------------ MP4 box order

MP4_FAMILY = frozenset({"mp4", "m4a", "3gp", "3gpp"})
INDEX_FIRST, INDEX_LAST, NOT_BOXES = "index-first", "index-last", "not-boxes"


def mp4_layout(buf: bytes) -> str | None:
    """Where an MP4 stream's index is, from its first bytes: :data:`INDEX_FIRST` (``moov``
    before any ``mdat``/``moof``), :data:`INDEX_LAST` (media data first), :data:`NOT_BOXES`
    (not a box sequence), or ``None`` while more bytes are needed."""
    pos = 0
    while len(buf) >= pos + 8:
        size, kind = struct.unpack_from(">I4s", buf, pos)
        if not all(32 <= b < 127 for b in kind):
            return NOT_BOXES
        if kind == b"moov":
            return INDEX_FIRST
        if kind in (b"mdat", b"moof"):
            return INDEX_LAST
        if size == 1:  # 64-bit size after the type
            if len(buf) < pos + 16:
                return None
            size = struct.unpack_from(">Q", buf, pos + 8)[0]
            if size < 16:
                return NOT_BOXES
        elif size == 0 or size < 8:  # "to the end of the file" before any index, or junk
            return NOT_BOXES
        pos += size
    return None


# ------------------------------------------------------------------ other containers


class ContainerBuffer:
    """A self-describing stream, kept until end of stream and decoded then, unless it turns
    out to be a WAV :func:`parse_wav_header` reads (:meth:`feed` then returns its layout)."""

    def __init__(self, audio_format: str | None) -> None:
        self.audio_format = audio_format
        self._parts: list[bytes] = []
        self.size = 0
        self._sniff = audio_format in (None, "wav")
        self._mp4 = audio_format in MP4_FAMILY  # box order still to be checked

    def feed(self, data: bytes) -> WavLayout | None:
        """Keep ``data``; the WAV layout once its header is complete (else ``None``).
        Raises :class:`Undecodable` for an MP4-family stream with its index last."""
        self.size += len(data)
        if self.size > MAX_CONTAINER_BYTES:
            raise Undecodable("stream too large to buffer")
        self._parts.append(data)
        if self._mp4:
            layout = mp4_layout(self.data())
            if layout == INDEX_LAST:
                raise Undecodable("MP4 media data before its moov index: not streamable")
            self._mp4 = layout is None
        if not self._sniff:
            return None
        try:
            layout = parse_wav_header(self.data())
        except NotStreamable:
            self._sniff = False
            return None
        if layout is not None:
            self._sniff = False
        return layout

    def data(self) -> bytes:
        if len(self._parts) > 1:
            self._parts = [b"".join(self._parts)]
        return self._parts[0] if self._parts else b""

    def decode(self) -> tuple[int, np.ndarray]:
        """(sample_rate, mono float32); raises :class:`Undecodable`."""
        data = self.data()
        if not data:
            return 16000, np.zeros(0, np.float32)
        try:
            x, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
            return int(rate), x.mean(axis=1, dtype=np.float32)
        except Exception:  # noqa: BLE001 - fall back to PyAV
            pass
        try:
            return _pyav_decode(data)
        except Exception as exc:  # noqa: BLE001 - any decoder failure is "undecodable"
            raise Undecodable(f"{type(exc).__name__}: {exc}") from None


def _pyav_decode(data: bytes) -> tuple[int, np.ndarray]:
    parts: list[np.ndarray] = []
    with av.open(io.BytesIO(data)) as container:
        if not container.streams.audio:
            raise Undecodable("no audio stream")
        stream = container.streams.audio[0]
        rate = int(stream.codec_context.sample_rate or stream.rate or 16000)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in container.decode(stream):
            for out in resampler.resample(frame):
                parts.append(out.to_ndarray().reshape(-1))
        for out in resampler.resample(None):
            parts.append(out.to_ndarray().reshape(-1))
    if not parts:
        raise Undecodable("no audio frames")
    return rate, np.concatenate(parts).astype(np.float32, copy=False)
