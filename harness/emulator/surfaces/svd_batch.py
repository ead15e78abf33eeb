"""Deepfake (synthetic voice) detection batch: ``POST /api/velma-2-synthetic-voice-detection-batch``."""

from __future__ import annotations

from dataclasses import asdict

from starlette.responses import Response
from starlette.routing import BaseRoute

from harness.contract import tables as T

from .. import analysis as A
from .. import responses as R
from ..alternatives import METADATA_ONLY
from ..batch import BatchSurface, Job, json_body, route
from ..deviations import NO_CONTENT_LOW_CONFIDENCE, SHORT_AUDIO_400, TRIMMED_TIMESTAMPS
from ..state import EmulatorState

NO_CONTENT_CONFIDENCE_DEVIANT = 0.5  # what the `no-content-confidence` deviation reports


def too_short(job: Job) -> Response | None:
    """Under 0.5 s of true audio -> 422; a file with no samples follows ``svd-batch/metadata-only``."""
    if job.envelope.duration_s >= T.MIN_SVD_DURATION_S:
        return None
    if job.envelope.num_samples == 0:
        o = job.choices.outcome(METADATA_ONLY, SURFACE.name, "status")
        if o is not None and o.status == 400:
            return R.error(400, o.detail or T.DETAIL_EMPTY, job.ctx)
    status = 400 if job.ctx.has(SHORT_AUDIO_400) else 422
    return R.error(status, T.DETAIL_TOO_SHORT, job.ctx)


def _build(job: Job) -> Response:
    ctx = job.ctx
    confidence = (
        NO_CONTENT_CONFIDENCE_DEVIANT
        if ctx.has(NO_CONTENT_LOW_CONFIDENCE)
        else T.NO_CONTENT_CONFIDENCE
    )
    frames = A.svd_frames(
        job.envelope,
        trimmed_timestamps=ctx.has(TRIMMED_TIMESTAMPS),
        no_content_confidence=confidence,
    )
    body = {
        "filename": job.filename,
        "frames": [asdict(f) for f in frames],
        "duration_ms": job.envelope.duration_ms,
    }
    return json_body(job, body)


SURFACE = BatchSurface(name="svd-batch", undecodable_status=422, checks=(too_short,), build=_build)


def routes(state: EmulatorState) -> list[BaseRoute]:
    return [route(SURFACE, state)]
