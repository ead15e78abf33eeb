"""PII/PHI redaction streaming: each ``utterance`` (redacted text) with its
``redacted_audio`` window, followed by that window as one binary MP3 frame; ``done`` with
``trailing_redacted_audio`` and, when not null, one more MP3 frame."""

from __future__ import annotations

import asyncio
import io
from typing import Any, ClassVar

import av
import numpy as np

from harness.audio.containers import encode_into

from .. import analysis as A
from ..alternatives import PII_STREAM_MARKERS
from ..surfaces.stt_batch import utterance_json
from .protocol import Session
from .tracker import HopTracker, SampleStore, Segmenter

MP3_RATE = 16000


def encode_mp3(samples: np.ndarray, rate: int) -> bytes:
    """Mono float samples as an MP3 (16 kHz mono)."""
    buf = io.BytesIO()
    with av.open(buf, mode="w", format="mp3") as out:
        stream = out.add_stream("libmp3lame", rate=MP3_RATE, layout="mono")
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=MP3_RATE
        )
        frames = []
        if samples.size:
            f = av.AudioFrame.from_ndarray(
                np.ascontiguousarray(samples, np.float32).reshape(1, -1),
                format="flt",
                layout="mono",
            )
            f.sample_rate = rate
            frames.append(f)
        resampled = (r for frame in [*frames, None] for r in resampler.resample(frame))
        encode_into(out, stream, resampled)
    return buf.getvalue()


class PiiSession(Session):
    surface: ClassVar[str] = "pii-stream"

    def new_tracker(self, sample_rate: int) -> HopTracker:
        self.store = SampleStore()
        t = HopTracker(sample_rate, self.store)
        self.seg = Segmenter(t)
        self.utts: list[A.Utterance] = []
        self.clip_ms = 0  # where the next clip starts
        return t

    def _sample(self, ms: int) -> int:
        assert self.tracker is not None
        return int(round(ms * self.tracker.rate / 1000))

    async def _clip(self, a_ms: int, b_ms: int, ranges: list[list[int]]) -> bytes:
        assert self.tracker is not None
        x = self.store.take(self._sample(a_ms), self._sample(b_ms))
        for lo, hi in ranges:
            s0, s1 = (
                self._sample(max(lo, a_ms)) - self._sample(a_ms),
                self._sample(min(hi, b_ms)) - self._sample(a_ms),
            )
            if s1 > s0:
                x[max(0, s0) : s1] = 0.0
        return await asyncio.to_thread(encode_mp3, x, self.tracker.rate)

    async def _utterance(self, a: int, b: int) -> None:
        u = self.seg.utterance(a, b)
        self.utts.append(u)
        i = len(self.utts) - 1
        spans = [s for s in A.pii_spans(self.utts) if s.utterance == i]
        markers = self.state.config.choices.alternative(PII_STREAM_MARKERS, "pii-stream")
        brackets = markers is not None and markers.key == "entity-tags"
        item = utterance_json(u, A.redacted_words(u, spans, i, brackets=brackets), self.values)
        end = u.start_ms + u.duration_ms
        if end <= self.clip_ms:
            await self.send_json({"type": "utterance", "utterance": item, "redacted_audio": None})
            return
        v = self.values
        assert self.tracker is not None
        ranges = A.redaction_ranges(
            spans,
            start_pad_ms=v["start_redaction_padding_ms"],
            end_pad_ms=v["end_redaction_padding_ms"],
            duration_ms=self.tracker.duration_ms,
        )
        window: dict[str, Any] = {"start_ms": self.clip_ms, "duration_ms": end - self.clip_ms}
        mp3 = await self._clip(self.clip_ms, end, ranges)
        self.clip_ms = end
        await self.send_json({"type": "utterance", "utterance": item, "redacted_audio": window})
        await self.send_bytes(mp3)

    async def on_audio(self) -> None:
        for a, b in self.seg.advance():
            await self._utterance(a, b)

    async def on_end(self) -> None:
        for a, b in self.seg.advance(final=True):
            await self._utterance(a, b)
        assert self.tracker is not None
        d = self.tracker.duration_ms
        done: dict[str, Any] = {"type": "done", "duration_ms": d, "trailing_redacted_audio": None}
        mp3 = None
        if d > self.clip_ms:
            done["trailing_redacted_audio"] = {
                "start_ms": self.clip_ms,
                "duration_ms": d - self.clip_ms,
            }
            mp3 = await self._clip(self.clip_ms, d, [])
        await self.finish(done, mp3)
