"""Turn a FixtureSpec into bytes (and the facts about them that only rendering knows)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import lru_cache
from typing import Any

import numpy as np

from . import corrupt, signals
from .containers import encode_container
from .errors import AudioSpecError
from .raw import encode_raw, raw_format
from .specs import FixtureSpec, SignalSpec

CHUNK_BYTES = corrupt.STREAM_CHUNK_BYTES


@dataclass(frozen=True)
class Rendered:
    data: bytes
    segments: tuple[signals.Segment, ...] | None


@lru_cache(maxsize=16)
def render_signal(spec: SignalSpec) -> tuple[np.ndarray, tuple[signals.Segment, ...] | None]:
    """Samples for ``spec`` (cached: damaged variants share their source's samples)."""
    p: dict[str, Any] = dict(spec.params)
    d, r, c = spec.duration_s, spec.sample_rate, spec.channels
    if spec.kind == "tone":
        return signals.tone(d, r, c, allow_any_channels=True, **p), None
    if spec.kind == "noise":
        return signals.noise(d, r, c, **p), None
    if spec.kind == "silence":
        return signals.silence(d, r, c), ()
    if spec.kind in ("speech", "speakers"):
        if spec.kind == "speech":
            s = signals.speech_bursts(d, r, 1, **p)
        else:
            s = signals.alternating_speakers(d, r, 1, **p)
        # spread here, not in the generator, so invalid-channel fixtures (9 ch) can exist
        return signals.spread(s.samples[:, 0], c, allow_any=True), s.segments
    raise AudioSpecError("signal.kind", spec.kind, "tone, noise, silence, speech, speakers")


def _signal(spec: FixtureSpec) -> tuple[np.ndarray, tuple[signals.Segment, ...] | None]:
    if spec.signal is None:
        raise AudioSpecError("signal", None, "a SignalSpec", f"is missing for {spec.id}")
    return render_signal(spec.signal)


def _src_raw(spec: FixtureSpec) -> bytes:
    samples, _ = _signal(spec)
    return encode_raw(samples, str(spec.audio_format), allow_any_channels=True)


def _src_container(spec: FixtureSpec) -> bytes:
    samples, _ = _signal(spec)
    assert spec.signal is not None
    fmt = str(spec.option("encode_as", spec.audio_format))
    subtype = spec.option("subtype")
    return encode_container(samples, spec.signal.sample_rate, fmt, subtype=subtype)


def _src_wav_header(spec: FixtureSpec) -> bytes:
    return corrupt.wav_header(int(spec.sample_rate or 0), int(spec.num_channels or 0), 16, 0)


def _src_flac_tags(spec: FixtureSpec) -> bytes:
    tags = {"TITLE": "tags only", "COMMENT": "no audio frames"}
    return corrupt.flac_tags_only(int(spec.sample_rate or 0), int(spec.num_channels or 0), tags)


def _src_id3_tags(spec: FixtureSpec) -> bytes:
    return corrupt.id3_tags_only({"TIT2": "tags only", "TPE1": "harness"})


SOURCES: dict[str, Callable[[FixtureSpec], bytes]] = {
    "raw": _src_raw,
    "container": _src_container,
    "empty": lambda spec: b"",
    "wav-header": _src_wav_header,
    "flac-tags": _src_flac_tags,
    "id3-tags": _src_id3_tags,
}


def _apply(data: bytes, step: dict[str, Any], spec: FixtureSpec) -> bytes:
    op = step["op"]
    if op == "truncate":
        return corrupt.truncate(data, float(step["fraction"]))
    if op == "cut":
        return data[: int(step["bytes"])]
    if op == "splice":
        return corrupt.splice_garbage(
            data, at=float(step.get("at", 0.5)), length=int(step.get("length", 512))
        )
    if op == "magic":
        return corrupt.replace_magic(data, bytes(str(step.get("magic", "XXXX")), "ascii"))
    if op == "partial-frame":
        fmt = raw_format(str(spec.audio_format))
        frame = fmt.frame_bytes(int(spec.num_channels or 1))
        return corrupt.add_partial_frame(data, frame, int(step["extra"]))
    raise AudioSpecError("damage.op", op, "truncate, cut, splice, magic, partial-frame")


def render(spec: FixtureSpec) -> Rendered:
    """The fixture's complete bytes. Not for lazy (oversize) fixtures: use ``iter_chunks``."""
    if spec.lazy:
        raise AudioSpecError("fixture", spec.id, "non-lazy fixtures", "is produced lazily only")
    try:
        make = SOURCES[spec.source]
    except KeyError:
        raise AudioSpecError("source", spec.source, SOURCES) from None
    data = make(spec)
    for step in spec.damage:
        data = _apply(data, dict(step), spec)
    segments = _signal(spec)[1] if spec.signal is not None else None
    return Rendered(data, segments)


def iter_chunks(spec: FixtureSpec, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The fixture's bytes in chunks of at most ``chunk_bytes``; lazy ones never whole."""
    if spec.source == "oversize-wav":
        rate, ch = int(spec.sample_rate or 0), int(spec.num_channels or 0)
        seconds = int(spec.option("seconds"))
        yield from corrupt.oversize_wav_chunks(rate, ch, seconds, chunk_bytes)
        return
    data = render(spec).data
    for i in range(0, len(data), chunk_bytes):
        yield data[i : i + chunk_bytes]
