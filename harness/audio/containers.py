"""Self-describing container files, encoded in memory, byte-for-byte reproducible.

WAV, FLAC, Ogg Vorbis, Ogg Opus and MP3 go through soundfile (libsndfile);
WebM/Opus, MP4/AAC, MOV/AAC, AIFF and ADTS AAC go through PyAV with FFmpeg's
bit-exact flags (no version strings, no creation times, no random UIDs).
PyAV is imported only when one of those is asked for.
"""

from __future__ import annotations

import io
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import soundfile as sf

from .determinism import fix_ogg_serial, zero_wav_peak_timestamp
from .errors import AudioSpecError

WAV_SUBTYPES = ("PCM_U8", "PCM_16", "PCM_24", "PCM_32", "FLOAT", "ULAW", "ALAW")
OPUS_RATES = (8000, 12000, 16000, 24000, 48000)


@dataclass(frozen=True)
class Codec:
    audio_format: str  # documented name
    ext: str
    library: str  # "soundfile" or "pyav"
    container: str  # libsndfile major format, or FFmpeg muxer name
    codec: str  # libsndfile subtype, or FFmpeg encoder name
    frame_size: int  # samples per codec frame (1 for PCM) -- decode tolerance
    priming: int  # extra leading samples a plain decoder may emit


CODECS: dict[str, Codec] = {
    c.audio_format: c
    for c in (
        Codec("wav", "wav", "soundfile", "WAV", "PCM_16", 1, 0),
        Codec("flac", "flac", "soundfile", "FLAC", "PCM_16", 1, 0),
        Codec("au", "au", "soundfile", "AU", "PCM_16", 1, 0),
        Codec("ogg", "ogg", "soundfile", "OGG", "VORBIS", 2048, 0),
        Codec("opus", "opus", "soundfile", "OGG", "OPUS", 960, 312),
        Codec("mp3", "mp3", "soundfile", "MP3", "MPEG_LAYER_III", 1152, 1105),
        Codec("webm", "webm", "pyav", "webm", "libopus", 960, 312),
        Codec("mp4", "mp4", "pyav", "mp4", "aac", 1024, 1024),
        Codec("mov", "mov", "pyav", "mov", "aac", 1024, 1024),
        Codec("aiff", "aiff", "pyav", "aiff", "pcm_s16be", 1, 0),
        Codec("aac", "aac", "pyav", "adts", "aac", 1024, 1024),
    )
}
CONTAINER_NAMES = tuple(CODECS)

_LAYOUTS = {1: "mono", 2: "stereo", 3: "3.0", 4: "quad", 5: "5.0", 6: "5.1", 7: "6.1", 8: "7.1"}


def codec(audio_format: str) -> Codec:
    try:
        return CODECS[audio_format]
    except KeyError:
        raise AudioSpecError(
            "audio_format", audio_format, CONTAINER_NAMES, "is not a container this factory writes"
        ) from None


def _frames(signal: np.ndarray) -> np.ndarray:
    arr = np.asarray(signal, dtype=np.float64)
    if arr.ndim == 1:
        arr = arr[:, None]
    if arr.ndim != 2 or arr.shape[1] not in _LAYOUTS:
        raise AudioSpecError("signal.shape", arr.shape, "(frames, 1..8 channels)")
    return np.clip(arr, -1.0, 1.0)


def encode_container(
    signal: np.ndarray, sample_rate: int, audio_format: str, *, subtype: str | None = None
) -> bytes:
    """Encode float samples as a complete ``audio_format`` file.

    ``subtype`` picks the WAV sample encoding (one of WAV_SUBTYPES); other formats ignore it.
    """
    c = codec(audio_format)
    frames = _frames(signal)
    if c.codec in ("OPUS", "libopus") and sample_rate not in OPUS_RATES:
        raise AudioSpecError("sample_rate", sample_rate, OPUS_RATES, f"cannot be coded as {c.ext}")
    if c.library == "soundfile":
        sub = c.codec
        if audio_format == "wav" and subtype is not None:
            if subtype not in WAV_SUBTYPES:
                raise AudioSpecError("subtype", subtype, WAV_SUBTYPES)
            sub = subtype
        return _encode_soundfile(frames, sample_rate, c.container, sub)
    return _encode_pyav(frames, sample_rate, c)


def _encode_soundfile(frames: np.ndarray, sample_rate: int, major: str, subtype: str) -> bytes:
    buf = io.BytesIO()
    sf.write(buf, frames, sample_rate, format=major, subtype=subtype)
    data = buf.getvalue()
    if major == "OGG":
        data = fix_ogg_serial(data)
    elif major == "WAV":
        data = zero_wav_peak_timestamp(data)
    return data


def _encode_pyav(frames: np.ndarray, sample_rate: int, c: Codec) -> bytes:
    import av

    channels = frames.shape[1]
    buf = io.BytesIO()
    with av.open(buf, "w", format=c.container, options={"fflags": "+bitexact"}) as out:
        stream = out.add_stream(c.codec, rate=sample_rate, layout=_LAYOUTS[channels])
        stream.codec_context.flags |= av.codec.context.Flags.bitexact
        packed = np.ascontiguousarray(frames.astype(np.float32).reshape(1, -1))
        frame = av.AudioFrame.from_ndarray(packed, format="flt", layout=_LAYOUTS[channels])
        frame.sample_rate = sample_rate
        frame.pts = 0
        encode_into(out, stream, [frame] if frames.shape[0] else [])
    return buf.getvalue()


def encode_into(out: Any, stream: Any, frames: Iterable[Any]) -> None:
    """Encode PyAV audio ``frames`` with ``stream``'s encoder into the container ``out``,
    then flush the encoder (what it still holds goes out too)."""
    for frame in frames:
        for packet in stream.encode(frame):
            out.mux(packet)
    for packet in stream.encode(None):
        out.mux(packet)


class Probe(NamedTuple):
    sample_rate: int
    channels: int
    frames: int
    duration_s: float


def probe(data: bytes, ext: str) -> Probe:
    """Decode ``data`` fully and report what a decoder sees.

    Tries soundfile first, then PyAV. Both sniff the bytes, so (unlike the batch
    endpoints) the extension does not decide the decoder. ``frames`` counts decoded samples per channel at
    the decoder's output rate (Opus always decodes at 48 kHz), so the result includes
    any codec priming/padding the format does not trim.
    """
    try:
        # read in blocks: a header may announce an unknown (FLAC: 0 = unknown) or wrong length
        with sf.SoundFile(io.BytesIO(data)) as f:
            total, rate, ch = 0, f.samplerate, f.channels
            while block := len(f.read(65536, dtype="float32", always_2d=True)):
                total += block
        return Probe(int(rate), int(ch), total, total / rate)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass
    import av

    fmt = "aac" if ext.lower().lstrip(".") == "aac" else None  # ADTS sniffing is weak
    try:
        with av.open(io.BytesIO(data), "r", format=fmt) as src:
            stream = src.streams.audio[0]
            total, rate, ch = 0, stream.codec_context.sample_rate, stream.codec_context.channels
            for frame in src.decode(stream):
                total += frame.samples
                rate = frame.sample_rate
                ch = len(frame.layout.channels)
    except (av.FFmpegError, IndexError) as exc:
        raise AudioSpecError(
            "data",
            f"<{len(data)} bytes .{ext}>",
            "decodable audio",
            f"could not be decoded ({exc})",
        ) from None
    return Probe(int(rate), int(ch), total, total / rate if rate else 0.0)
