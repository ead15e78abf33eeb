"""The pipeline every REST batch surface shares.

Order of decisions (each one is a single place to grep):

1. emulator override headers          -> 400 (emulator's own error)
2. ``X-API-Key`` missing               -> the chosen side of ``<surface>/missing-key``
                                          (422 FastAPI shape; or 401, or 403 on SVD)
3. fault ``validation-unavailable``    -> 502 ``Unable to validate request. ...``
   admission: key, model, quota, slot  -> :func:`responses.rejection`
4. multipart body (to disk)            -> 400 ``Invalid request.``; over the size limit:
                                          the chosen side of ``velma/batch-max-size``
5. ``upload_file`` and form fields     -> 422 FastAPI shape, 400 language / config
6. file extension                      -> 400 unsupported format
7. empty (zero-byte) file             -> 400 empty (or the chosen alternative)
8. decoding                            -> 400 / 422 could not be processed
9. the surface's own checks            -> e.g. SVD 422 too short
10. faults and the processing model    -> 503 / 500 / 502 / 504 / latency
11. the surface's 200 response; the audio's true duration is charged to the quota

A surface module describes itself with a :class:`BatchSurface` and gets its
route from :func:`route`.
"""

from __future__ import annotations

import asyncio
import dataclasses
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from harness.contract import tables as T

from . import responses as R
from .admission import Decision
from .alternatives import EMPTY_FILE, MAX_SIZE, REST_MISSING_KEY, VFAST_FORMATS, Choices
from .analysis import DecodeError, Envelope, decode_envelope, empty_envelope
from .deviations import (
    CONSTANT_DURATION,
    CONSTANT_DURATION_MS,
    MISSING_FIELD,
    QUEUE_INSTEAD_OF_REJECT,
)
from .formfields import (
    BadConfig,
    BadLanguage,
    FieldSpec,
    apply_config,
    check_language,
    parse_fields,
)
from .processing import Ending
from .sniff import content_matches_extension, metadata_only
from .state import EmulatorState, OverrideError, RequestContext, request_context
from .uploads import Form, MalformedBody, UploadTooLarge, drain, is_multipart, read_form


@dataclass(frozen=True)
class Job:
    """Everything a surface needs to build its 200 response."""

    ctx: RequestContext
    choices: Choices  # the documented alternatives the emulator follows
    values: Mapping[str, Any]  # form fields after defaults and ``config``
    filename: str
    path: Path  # the upload on disk (removed after the response)
    envelope: Envelope


# A surface may reject a decoded upload (returns a response) or let it through (None).
Check = Callable[[Job], Response | None]
Build = Callable[[Job], Response]


@dataclass(frozen=True)
class BatchSurface:
    name: str  # "stt-batch", ...
    build: Build  # the 200 response
    fields: tuple[FieldSpec, ...] = ()
    accepts_config: bool = False  # a ``config`` JSON field overrides form fields
    undecodable_status: int = 400
    checks: tuple[Check, ...] = ()
    build_in_thread: bool = False  # heavy responses (e.g. MP3 encoding)

    @property
    def path(self) -> str:
        return T.VELMA_PATHS[self.name]

    @property
    def extensions(self) -> tuple[str, ...]:
        return T.CONTAINER_FORMATS[self.name]

    @property
    def unsupported_detail(self) -> str:
        if self.name == "svd-batch":
            return T.DETAIL_UNSUPPORTED_SVD
        return T.DETAIL_UNSUPPORTED_COMMON


def route(surface: BatchSurface, state: EmulatorState) -> Route:
    async def endpoint(request: Request) -> Response:
        return await handle(request, surface, state)

    return Route(surface.path, endpoint, methods=["POST"], name=surface.name)


def json_body(job: Job, body: dict[str, Any]) -> JSONResponse:
    """A 200 JSON body, minus ``duration_ms`` under the ``missing-field`` deviation."""
    return JSONResponse(strip_for_deviation(job.ctx, body))


def strip_for_deviation(ctx: RequestContext, body: dict[str, Any]) -> dict[str, Any]:
    """``duration_ms`` dropped (``missing-field``) or fixed (``constant-duration``)."""
    if ctx.has(CONSTANT_DURATION) and "duration_ms" in body:
        body = {**body, "duration_ms": CONSTANT_DURATION_MS}
    if ctx.has(MISSING_FIELD):
        body = {k: v for k, v in body.items() if k != "duration_ms"}
    return body


# --------------------------------------------------------------------------- the pipeline


async def handle(request: Request, surface: BatchSurface, state: EmulatorState) -> Response:
    api_key = request.headers.get(T.VELMA_HTTP_AUTH_HEADER)
    try:
        key = state.config.keys.get(api_key or "")
        ctx = request_context(state, request, surface.name, key)
    except OverrideError as exc:
        await drain(request)
        return R.emulator_error(400, str(exc))
    if api_key is None:
        o = state.config.choices.outcome(REST_MISSING_KEY, surface.name, "status")
        if o is not None and o.status != 422:
            await drain(request)
            return R.error(o.status or 401, R.missing_key_detail(o.status), ctx)
        return await _missing_key(request, state)
    if ctx.faults.validation_unavailable:  # the key cannot be checked
        await drain(request)
        return R.error(502, T.DETAIL_CANNOT_VALIDATE, ctx)

    queue = ctx.has(QUEUE_INSTEAD_OF_REJECT)
    async with state.admission.hold(api_key, surface.name, queue=queue) as decision:
        if not decision.admitted:
            assert decision.reason is not None
            await drain(request)
            status, detail = R.rejection(decision.reason, surface.name, state.config.choices)
            return R.error(status, detail, ctx)
        return await _admitted(request, surface, state, ctx, decision)


async def _missing_key(request: Request, state: EmulatorState) -> Response:
    """422 listing the header and, like FastAPI, a missing ``upload_file`` too."""
    errors = [R.missing(["header", T.VELMA_HTTP_AUTH_HEADER])]
    form = None
    if is_multipart(request):
        try:
            form = await read_form(request, state.config.processing.max_upload_bytes)
        except (UploadTooLarge, MalformedBody):
            form = None
    await drain(request)
    if form is None or T.UPLOAD_PART not in form.files:
        errors.append(R.missing(["body", T.UPLOAD_PART]))
    if form is not None:
        form.cleanup()
    return R.validation_error(errors)


async def _admitted(
    request: Request,
    surface: BatchSurface,
    state: EmulatorState,
    ctx: RequestContext,
    decision: Decision,
) -> Response:
    max_bytes = state.config.processing.max_upload_bytes
    policy = _size_policy(state.config.choices, surface.name)
    if not is_multipart(request):
        await drain(request)
        return R.validation_error([R.missing(["body", T.UPLOAD_PART])])
    try:
        form = await read_form(request, max_bytes if isinstance(policy, tuple) else None)
    except UploadTooLarge:
        await drain(request)
        assert isinstance(policy, tuple)
        return R.error(policy[0], policy[1], ctx)
    except MalformedBody:
        await drain(request)
        return R.error(400, T.DETAIL_BAD_VALUE, ctx)
    upload = form.files.get(T.UPLOAD_PART)
    if policy == "timeout" and upload is not None and upload.size > max_bytes:
        ctx = dataclasses.replace(ctx, faults=dataclasses.replace(ctx.faults, timeout=True))
    try:
        return await _with_form(form, surface, state, ctx, decision)
    finally:
        form.cleanup()


async def _with_form(
    form: Form,
    surface: BatchSurface,
    state: EmulatorState,
    ctx: RequestContext,
    decision: Decision,
) -> Response:
    choices = state.config.choices
    upload = form.files.get(T.UPLOAD_PART)
    values, errors = parse_fields(surface.fields, form.fields)
    if upload is None:
        if T.UPLOAD_PART in form.fields:
            errors.insert(
                0,
                R.field_error(
                    "value_error",
                    ["body", T.UPLOAD_PART],
                    "Value error, Expected UploadFile, received: <class 'str'>",
                    form.fields[T.UPLOAD_PART],
                ),
            )
        else:
            errors.insert(0, R.missing(["body", T.UPLOAD_PART]))
    if errors:
        return R.validation_error(errors)
    assert upload is not None
    try:
        check_language(values)
        if surface.accepts_config:
            apply_config(surface.fields, values, form.fields.get("config"))
    except BadLanguage as exc:
        return R.error(400, R.invalid_language_detail(exc.value), ctx)
    except BadConfig:
        return R.error(400, T.DETAIL_INVALID_CONFIG, ctx)

    if upload.extension not in _extensions(surface, choices):
        return R.error(400, surface.unsupported_detail, ctx)
    if upload.size == 0:
        status, detail = _empty_file(choices, surface.name)
        return R.error(status, detail, ctx)
    try:
        head = _head(upload.path)
        if not content_matches_extension(head, upload.extension):
            raise DecodeError(f"content is not {upload.extension}")
        if metadata_only(head, upload.size):
            envelope = empty_envelope()
        else:
            envelope = await asyncio.to_thread(decode_envelope, upload.path)
    except DecodeError:
        return R.error(surface.undecodable_status, T.DETAIL_UNPROCESSABLE, ctx)

    job = Job(ctx, choices, values, upload.filename, upload.path, envelope)
    for check in surface.checks:
        rejected = check(job)
        if rejected is not None:
            return rejected

    ending = await state.processing.run(envelope.duration_s, ctx.faults)
    if ending is Ending.OVERLOAD:
        return R.error(503, T.DETAIL_UNAVAILABLE, ctx)
    if ending is Ending.INTERNAL:
        return R.error(500, T.DETAIL_INTERNAL, ctx)
    if ending is Ending.UPSTREAM:
        return R.error(502, _not_completed_detail(surface.name), ctx)
    if ending is Ending.TIMEOUT:
        return R.error(504, T.DETAIL_TIMEOUT, ctx)
    if surface.build_in_thread:
        response = await asyncio.to_thread(surface.build, job)
    else:
        response = surface.build(job)
    state.admission.charge(decision, envelope.duration_s)
    return response


def _head(path: Any, size: int = 4096) -> bytes:
    with open(path, "rb") as f:
        return f.read(size)


# --------------------------------------------------------------------------- alternatives


def _extensions(surface: BatchSurface, choices: Choices) -> Sequence[str]:
    alt = choices.alternative(VFAST_FORMATS, surface.name)
    if alt is not None and "opus" in alt.key.lower():
        return T.VFAST_OPUS_ONLY
    return surface.extensions


def _not_completed_detail(surface: str) -> str:
    """502 for a request that could not be completed: the "could not complete" detail where
    the surface documents it (STT Batch), else the surface's one documented 502 detail."""
    details = next(r.details for r in T.REST_STATUSES if r.surface == surface and r.status == 502)
    return T.DETAIL_NOT_COMPLETED if T.DETAIL_NOT_COMPLETED in details else details[0]


def _empty_file(choices: Choices, surface: str) -> tuple[int, str]:
    o = choices.outcome(EMPTY_FILE, surface, "status")
    if o is not None and o.status == 422:
        return 422, o.detail or T.DETAIL_TOO_SHORT
    return 400, T.DETAIL_EMPTY


def _size_policy(choices: Choices, surface: str) -> str | tuple[int, str]:
    """Over the size limit: "accept", "timeout" (ends in 504) or (status, detail) to reject."""
    o = choices.outcome(MAX_SIZE, surface, "status")
    if o is None or o.status is None or o.status < 400:
        return "accept"
    if o.status == 504:
        return "timeout"
    return o.status, o.detail or R.DETAIL_TOO_LARGE
