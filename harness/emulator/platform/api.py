"""The Platform API's two routes; the shapes and statuses are described in the package docstring."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from harness.contract import tables as T

from .. import analysis as A
from ..deviations import PLATFORM_JOB_NEVER_COMPLETES, PLATFORM_NO_REALTIME_URL
from ..sniff import content_matches_extension, metadata_only
from ..state import EmulatorState, OverrideError, request_context
from ..surfaces.stt_batch import utterance_json
from ..uploads import (
    Form,
    MalformedBody,
    UploadedFile,
    UploadTooLarge,
    drain,
    is_multipart,
    read_form,
)
from .jobs import FileResult, Finalized, JobStore
from .settings import PlatformSettings

SUBMIT_PATH = T.PLATFORM_PATHS["submit"]
STATUS_PATH = T.PLATFORM_PATHS["job_status"]
ACCOUNT_HEADER, APIKEY_HEADER = T.PLATFORM_AUTH_HEADERS
REALTIME = "realtime_websocket"
BATCH_TYPES = frozenset({"batch", "single_file", "multi_file"})
EXTENSIONS = T.CONTAINER_FORMATS["stt-batch"]
MAX_FILE_BYTES = T.PLATFORM_MAX_SINGLE_FILE_BYTES
MAX_JSON_BYTES = 64 * 1024
JOB_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$")
_TRUE = frozenset({"1", "on", "t", "true", "y", "yes"})
_FALSE = frozenset({"0", "off", "f", "false", "n", "no"})

# Our own wording: the page documents no error texts for this API.
D_MISSING_AUTH = f"Missing {ACCOUNT_HEADER} or {APIKEY_HEADER} header."
D_BAD_AUTH = "Invalid account or API key."
D_TOO_LARGE = f"The file is larger than the {MAX_FILE_BYTES // 1_000_000} MB limit."
D_FINALIZED = "The job is already finalized and accepts no more files."
D_UNKNOWN_JOB = "Job not found."
D_REALTIME_FILES = "A realtime_websocket submission takes no files."
D_NO_FILE = "A batch submission needs one audio file part."
D_ONE_FILE = "Send one file per request; use the same job_id for a multi-file batch."
D_BAD_JOB_ID = "Invalid job_id."
D_BAD_FINALIZE = "Invalid finalize_job: expected true or false."
D_BAD_TYPE = f"Invalid submission_type: expected {REALTIME!r} or a batch upload."
D_BAD_BODY = "Invalid request body."


def _error(status: int, detail: str) -> JSONResponse:
    return JSONResponse({"detail": detail}, status_code=status)


class PlatformApi:
    def __init__(self, state: EmulatorState) -> None:
        self.state = state
        self.settings: PlatformSettings = state.config.platform
        self.jobs = JobStore(self._delay_for, self.settings.max_jobs_per_account)

    def _delay_for(self, audio_s: float) -> float:
        """Wall seconds a finalised job stays ``processing``: the emulator's model, scaled."""
        p = self.state.config.processing
        modelled = self.state.processing.modelled_seconds(audio_s) * p.time_scale
        return max(self.settings.min_processing_s, modelled)

    def _account(self, request: Request) -> str | Response:
        uuid = request.headers.get(ACCOUNT_HEADER)
        key = request.headers.get(APIKEY_HEADER)
        if not uuid or not key:
            return _error(401, D_MISSING_AUTH)
        account = self.settings.authenticate(uuid, key)
        if account is None:
            return _error(401, D_BAD_AUTH)
        return account.accountuuid

    # ------------------------------------------------------------------ job_status

    async def job_status(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            return account
        snapshot = self.jobs.get(account, request.path_params["job_id"])
        if snapshot is None:
            return _error(404, D_UNKNOWN_JOB)
        if (
            self._deviates(request, PLATFORM_JOB_NEVER_COMPLETES)
            and snapshot.get("status") == "completed"
        ):
            snapshot = {k: v for k, v in snapshot.items() if k != "results"} | {
                "status": "processing"
            }
        return JSONResponse(snapshot)

    def _deviates(self, request: Request, name: str) -> bool:
        try:
            return request_context(self.state, request, "platform").has(name)
        except OverrideError:
            return False

    # ------------------------------------------------------------------ submit

    async def submit(self, request: Request) -> Response:
        account = self._account(request)
        if isinstance(account, Response):
            await drain(request)
            return account
        if not is_multipart(request):
            return await self._json_submit(request)
        try:
            form = await read_form(request, MAX_FILE_BYTES)
        except UploadTooLarge:
            await drain(request)
            return _error(413, D_TOO_LARGE)
        except MalformedBody:
            await drain(request)
            return _error(400, D_BAD_BODY)
        try:
            return await self._form_submit(request, account, form)
        finally:
            form.cleanup()

    async def _json_submit(self, request: Request) -> Response:
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_JSON_BYTES:
                await drain(request)
                return _error(400, D_BAD_BODY)
        try:
            data = json.loads(body.decode("utf-8")) if body else {}
        except (UnicodeDecodeError, ValueError):
            return _error(400, D_BAD_BODY)
        if not isinstance(data, dict):
            return _error(400, D_BAD_BODY)
        if data.get("submission_type") != REALTIME:
            return _error(400, D_BAD_TYPE if "submission_type" in data else D_NO_FILE)
        if data.get("files") or data.get("file") or data.get("upload_file"):
            return _error(400, D_REALTIME_FILES)
        return self._realtime(request)

    def _realtime(self, request: Request) -> Response:
        host = request.url.netloc
        scheme = "wss" if request.url.scheme == "https" else "ws"
        url = f"{scheme}://{host}{T.VELMA_PATHS['stt-stream']}"
        key = self.state.config.key_for_role("valid")
        if key:
            url += f"?api_key={key}"
        if self._deviates(request, PLATFORM_NO_REALTIME_URL):
            return JSONResponse({"submission_type": REALTIME})
        return JSONResponse({"submission_type": REALTIME, "realtime_url": url})

    async def _form_submit(self, request: Request, account: str, form: Form) -> Response:
        kind = form.fields.get("submission_type", "").strip()
        if kind == REALTIME:
            return _error(400, D_REALTIME_FILES) if form.files else self._realtime(request)
        if kind and kind not in BATCH_TYPES:
            return _error(400, D_BAD_TYPE)
        if not form.files:
            return _error(400, D_NO_FILE)
        if len(form.files) > 1:
            return _error(400, D_ONE_FILE)
        upload = form.files.get(T.UPLOAD_PART) or next(iter(form.files.values()))

        job_id = form.fields.get("job_id", "").strip()
        if job_id and not JOB_ID.match(job_id):
            return _error(400, D_BAD_JOB_ID)
        finalize_raw = form.fields.get("finalize_job")
        if finalize_raw is None:
            finalize = not job_id  # no job_id: a single-file batch, complete on its own
        elif finalize_raw.strip().lower() in _TRUE | _FALSE:
            finalize = finalize_raw.strip().lower() in _TRUE
        else:
            return _error(400, D_BAD_FINALIZE)
        job_id = job_id or self.jobs.new_id()
        if self.jobs.is_finalized(account, job_id):  # before the (slow) decoding
            return _error(409, D_FINALIZED)

        result = await _transcribe(upload)
        if isinstance(result, Response):
            return result
        try:
            snapshot = self.jobs.add(account, job_id, result, finalize)
        except Finalized:
            return _error(409, D_FINALIZED)
        return JSONResponse({**snapshot, "filename": upload.filename})


async def _transcribe(upload: UploadedFile) -> FileResult | Response:
    """Check and decode one file; its transcript as the STT batch surface computes it."""
    if upload.extension not in EXTENSIONS:
        return _error(400, T.DETAIL_UNSUPPORTED_COMMON)
    if upload.size == 0:
        return _error(400, T.DETAIL_EMPTY)
    try:
        with upload.path.open("rb") as fh:
            head = fh.read(4096)
        if not content_matches_extension(head, upload.extension):
            raise A.DecodeError(f"content is not {upload.extension}")
        if metadata_only(head, upload.size):
            envelope = A.empty_envelope()
        else:
            envelope = await asyncio.to_thread(A.decode_envelope, upload.path)
    except A.DecodeError:
        return _error(400, T.DETAIL_UNPROCESSABLE)
    utts = A.utterances(envelope)
    items: list[dict[str, Any]] = [utterance_json(u, u.text, {}) for u in utts]
    return FileResult(
        upload.filename,
        envelope.duration_s,
        {
            "filename": upload.filename,
            "duration_ms": envelope.duration_ms,
            "text": A.transcript(utts),
            "utterances": items,
        },
    )


def routes(state: EmulatorState) -> list[BaseRoute]:
    api = PlatformApi(state)
    return [
        Route(SUBMIT_PATH, api.submit, methods=["POST"], name="platform-submit"),
        Route(STATUS_PATH, api.job_status, methods=["GET"], name="platform-job-status"),
    ]
