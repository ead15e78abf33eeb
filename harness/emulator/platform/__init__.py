"""The Modulate Platform API, emulated: job submission and job status.

Routes (mounted by :func:`harness.emulator.app.create_app`):

- ``POST /api_service`` -- one submission.
- ``GET /api_service/job_status/{job_id}`` -- poll a batch job.

Authentication: every request needs the ``accountuuid`` and ``apikey`` headers
(the pairs under ``[platform]`` in the emulator config). A missing header, an
unknown pair, or a Velma-2 model key in ``apikey`` is answered 401 with a
``{"detail": str}`` body before the body is read. The vendor page gives no
statuses and no schemas, so every status below except 200 is our convention
(the catalog's INFO clauses say the same), and so are the request shapes:

- Real-time: a JSON body ``{"submission_type": "realtime_websocket"}`` (a
  multipart form with that field and no file part is accepted too). The answer
  carries ``realtime_url``: a loopback ``ws://`` URL of this emulator's STT
  streaming surface (with the config's valid Velma-2 key as ``api_key``, when
  there is one). A real-time submission that attaches a file is refused, 400.
- Batch: ``multipart/form-data`` with one file part (``upload_file``, the
  Velma-2 part name; any other single file part is taken too) and the optional
  text fields ``submission_type`` (absent, ``batch``, ``single_file`` or
  ``multi_file``), ``job_id`` and ``finalize_job`` (true/false).

  * No ``job_id``: a single-file batch. The emulator makes the job_id and the
    job is finalised at once, unless ``finalize_job`` is explicitly false, in
    which case a multi-file job is opened under the new job_id.
  * With ``job_id``: the file joins that job (created on first use, per
    account); ``finalize_job`` defaults to false, and true closes the job.
  * Each file is at most 5 MB (``PLATFORM_MAX_SINGLE_FILE_BYTES``, for every
    upload, not only single-file jobs); a bigger one is 413 and nothing is
    added. An upload to a finalised job is 409 and the job is left unchanged.
    An empty, undecodable or unsupported file is 400.

Job status: ``{"job_id", "status", "file_count", "finalized"}``; ``status`` is
``pending`` until finalised, then ``processing`` for the modelled time (the
emulator's processing model on the job's total audio, times ``time_scale``,
at least ``[platform] min_processing_s`` of wall time), then ``completed``,
when the body also carries ``results`` with one transcript per file, computed
from the audio like the STT batch surface does. An unknown job_id, or one of
another account, is 404.

Configuration parsing lives in :mod:`.settings`; the package imports nothing
else eagerly so that :mod:`harness.emulator.config` can import it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from ..state import EmulatorState


def routes(state: EmulatorState) -> list[BaseRoute]:
    """The Platform API routes for one running emulator."""
    from .api import routes as _routes

    return _routes(state)


__all__ = ["routes"]
