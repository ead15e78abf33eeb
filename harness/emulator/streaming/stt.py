"""STT streaming: optional JSON configuration first, ``utterance`` as each pause is heard,
``partial_utterance`` (only with ``partial_results``) while speech goes on, then ``done``."""

from __future__ import annotations

from typing import Any, ClassVar

from harness.contract import tables as T

from .. import analysis as A
from ..alternatives import STREAM_UTTERANCE_TIMING
from ..formfields import BadConfig, FieldSpec, apply_config
from ..surfaces.stt_batch import utterance_json
from .protocol import PARTIALS_WITHOUT_FLAG, Session
from .tracker import HopTracker, Segmenter

CONFIG_FIELDS = (
    *(FieldSpec(name, "bool", default) for name, default in T.STT_STREAM_FLAG_DEFAULTS.items()),
    FieldSpec("language", "language", None),
)
PARTIAL_STEP_MS = 500  # a partial about every half second of ongoing speech


class SttSession(Session):
    surface: ClassVar[str] = "stt-stream"

    def new_tracker(self, sample_rate: int) -> HopTracker:
        t = HopTracker(sample_rate)
        self.seg = Segmenter(t)
        self.utts: list[A.Utterance] = []
        self.partial_at = -1  # open segment start (hop) of the last partial
        self.partial_ms = 0
        self.eager: bool | None = None  # partials wanted: known at the first audio
        return t

    async def on_text(self, text: str) -> None:
        if self.text_frames == 0 and self.frames_in == 0:
            try:
                apply_config(CONFIG_FIELDS, self.values, text)
            except BadConfig:
                await self.fail(1003, T.DETAIL_INVALID_CONFIG)
        # a later non-empty text frame is ignored (clause stt-stream/late-text-frame, INFO)

    @property
    def partials(self) -> bool:
        return bool(self.values.get("partial_results")) or self.ctx.has(PARTIALS_WITHOUT_FLAG)

    async def on_audio(self) -> None:
        seg = self.seg
        eager = self.eager
        if eager is None:
            # the configuration (first text frame) is settled once audio is in
            eager = self.eager = seg.eager = self.partials
        done = seg.advance()
        if done:
            for a, b in done:
                await self._utterance(a, b)
        if eager and seg.open is not None:
            await self._partial(*seg.open)

    async def on_end(self) -> None:
        for a, b in self.seg.advance(final=True):
            await self._utterance(a, b)
        assert self.tracker is not None
        await self.finish({"type": "done", "duration_ms": self.tracker.duration_ms})

    def _signals(self, u: A.Utterance) -> dict[str, Any]:
        v = self.values
        scored = (
            v["deepfake_signal"] and u.duration_ms >= 1000 * T.STT_DEEPFAKE_SCORE_MIN_UTTERANCE_S
        )
        return {
            "emotion": u.pick(A.EMOTIONS, 5) if v["emotion_signal"] else None,
            "accent": u.pick(A.ACCENTS, 6) if v["accent_signal"] else None,
            "deepfake_score": round(u.number(7), 4) if scored else None,
        }

    async def _utterance(self, a: int, b: int) -> None:
        u = self.seg.utterance(a, b)
        self.utts.append(u)
        i = len(self.utts) - 1
        if self.values["pii_phi_tagging"]:
            spans = [s for s in A.pii_spans(self.utts) if s.utterance == i]
            text = A.tagged_words(u, spans, i)
        else:
            text = u.text
        item = utterance_json(u, text, self.values)
        item.update(self._signals(u))
        timing = self.state.config.choices.alternative(STREAM_UTTERANCE_TIMING, "stt-stream")
        if timing is not None and timing.key == "end-ms":  # the other documented timing style
            item["end_ms"] = item.pop("duration_ms") + u.start_ms
        self.partial_at = -1
        await self.send_json({"type": "utterance", "utterance": item})

    async def _partial(self, a: int, b: int) -> None:
        assert self.tracker is not None
        if a != self.partial_at:
            self.partial_at, self.partial_ms = a, 0
        ms = self.tracker.hop_ms(b) - self.tracker.hop_ms(a)
        if ms - self.partial_ms < PARTIAL_STEP_MS:
            return
        self.partial_ms = ms
        u = self.seg.utterance(a, b)
        item = utterance_json(u, u.text, self.values)
        body = {k: item[k] for k in ("text", "start_ms", "speaker")}
        body.update(self._signals(u))
        await self.send_json({"type": "partial_utterance", "partial_utterance": body})
