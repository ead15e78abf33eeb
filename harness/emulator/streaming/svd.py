"""Deepfake (SVD) streaming: a ``frame`` once 0.5 s of audio is in, then about one per
second over a window growing to 4 s and then sliding; ``done`` with ``frame_count``."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.contract import tables as T

from ..deviations import NO_CONTENT_LOW_CONFIDENCE
from .protocol import Session
from .tracker import HopTracker, svd_verdict

FIRST_MS = int(T.SVD_STREAM_FIRST_RESULT_S * 1000)
CADENCE_MS = int(T.SVD_STREAM_CADENCE_S * 1000)
WINDOW_MS = int(T.SVD_WINDOW_S * 1000)
NO_CONTENT_CONFIDENCE_DEVIANT = 0.5  # as the batch surface's deviation


class SvdSession(Session):
    surface: ClassVar[str] = "svd-stream"
    undecodable_text: ClassVar[str] = T.DETAIL_UNPROCESSABLE

    def new_tracker(self, sample_rate: int) -> HopTracker:
        self.next_ms = FIRST_MS
        self.last_end = 0
        self.frame_count = 0
        return HopTracker(sample_rate)

    async def _frame(self, end_ms: int) -> None:
        assert self.tracker is not None
        nc = (
            NO_CONTENT_CONFIDENCE_DEVIANT
            if self.ctx.has(NO_CONTENT_LOW_CONFIDENCE)
            else T.NO_CONTENT_CONFIDENCE
        )
        f = svd_verdict(self.tracker, max(0, end_ms - WINDOW_MS), end_ms, nc)
        frame: dict[str, Any] = {
            "start_time_ms": f.start_time_ms,
            "end_time_ms": f.end_time_ms,
            "verdict": f.verdict,
            "confidence": f.confidence,
        }
        self.frame_count += 1
        self.last_end = end_ms
        await self.send_json({"type": "frame", "frame": frame})

    def wants_audio_at(self, num_samples: int) -> bool:
        assert self.tracker is not None
        return num_samples * 1000 >= self.next_ms * self.tracker.rate

    async def on_audio(self) -> None:
        assert self.tracker is not None
        while self.tracker.duration_ms >= self.next_ms:
            await self._frame(self.next_ms)
            self.next_ms += CADENCE_MS

    async def on_end(self) -> None:
        assert self.tracker is not None
        d = self.tracker.duration_ms
        if d >= FIRST_MS and d > self.last_end:
            await self._frame(d)
        await self.finish({"type": "done", "duration_ms": d, "frame_count": self.frame_count})
