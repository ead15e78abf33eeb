"""STT Batch (multilingual): ``POST /api/velma-2-stt-batch``."""

from __future__ import annotations

from typing import Any

from starlette.responses import Response
from starlette.routing import BaseRoute

from .. import analysis as A
from ..alternatives import UTTERANCE_TIMING
from ..batch import BatchSurface, Job, json_body, route
from ..formfields import FieldSpec, primary_language
from ..state import EmulatorState

SURFACE_NAME = "stt-batch"
FIELDS = (
    FieldSpec("speaker_diarization", "bool", True),
    FieldSpec("emotion_signal", "bool", False),
    FieldSpec("accent_signal", "bool", False),
    FieldSpec("deepfake_signal", "bool", False),
    FieldSpec("pii_phi_tagging", "bool", False),
    FieldSpec("language", "language", None),
)


def utterance_json(u: A.Utterance, text: str, values: dict[str, Any] | Any) -> dict[str, Any]:
    """The fields every transcribing surface reports for an utterance."""
    return {
        "utterance_uuid": u.uuid,
        "text": text,
        "start_ms": u.start_ms,
        "duration_ms": u.duration_ms,
        "speaker": 1 + u.digest[0] % 2 if values.get("speaker_diarization", True) else 1,
        "language": primary_language(values),
    }


def _build(job: Job) -> Response:
    v = job.values
    utts = A.utterances(job.envelope)
    spans = A.pii_spans(utts) if v["pii_phi_tagging"] else []
    timing = job.choices.alternative(UTTERANCE_TIMING, SURFACE_NAME)
    end_ms = timing is not None and timing.key == "end-ms"
    items = []
    for i, u in enumerate(utts):
        text = A.tagged_words(u, spans, i) if spans else u.text
        item = utterance_json(u, text, v)
        item["emotion"] = u.pick(A.EMOTIONS, 5) if v["emotion_signal"] else None
        item["accent"] = u.pick(A.ACCENTS, 6) if v["accent_signal"] else None
        scored = v["deepfake_signal"] and u.duration_ms >= 500
        item["deepfake_score"] = round(u.number(7), 4) if scored else None
        if end_ms:  # the other documented timing style
            item["end_ms"] = item.pop("duration_ms") + u.start_ms
        items.append(item)
    text = " ".join(i["text"] for i in items)
    return json_body(
        job, {"text": text, "duration_ms": job.envelope.duration_ms, "utterances": items}
    )


SURFACE = BatchSurface(name=SURFACE_NAME, fields=FIELDS, accepts_config=True, build=_build)


def routes(state: EmulatorState) -> list[BaseRoute]:
    return [route(SURFACE, state)]
