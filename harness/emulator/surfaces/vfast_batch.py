"""STT Batch English VFast: ``POST /api/velma-2-stt-batch-english-vfast``."""

from __future__ import annotations

from starlette.responses import Response
from starlette.routing import BaseRoute

from .. import analysis as A
from ..batch import BatchSurface, Job, json_body, route
from ..state import EmulatorState


def _build(job: Job) -> Response:
    text = A.transcript(A.utterances(job.envelope))
    return json_body(job, {"text": text, "duration_ms": job.envelope.duration_ms})


SURFACE = BatchSurface(name="vfast-batch", build=_build)


def routes(state: EmulatorState) -> list[BaseRoute]:
    return [route(SURFACE, state)]
