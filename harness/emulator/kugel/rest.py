"""The KugelAudio REST surface: ``/v1/tts/generate``, models, voices, references,
dictionaries and entries (paths from :data:`harness.contract.kugel_api.REST_OPERATIONS`).

Order of checks on every request: emulator override headers (400, the emulator's own
body), key (401), the organisation's request rate (429 + Retry-After), the
``forbidden`` role (403), the body (400 / 422), then the operation's own rows.
"""

from __future__ import annotations

import asyncio
import base64
import json
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.datastructures import UploadFile
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from harness.contract import kugel_api as api

from ..responses import emulator_error
from ..sniff import content_matches_extension
from ..state import EmulatorState, OverrideError, request_context
from ..wire import GENERATION_FAILED, SAMPLE_FAILED
from . import audio
from . import errors as E
from . import validate as V
from .store import Caller, Dictionary, KugelStore, Voice, now_iso

SURFACE = "kugel-http"
AUDIO_FAMILIES = ("wav", "mp3", "flac", "ogg", "webm", "m4a")
MAX_UPLOAD_BYTES = 20 * 1024 * 1024
Handler = Callable[[Request, Caller, KugelStore], Awaitable[Response]]


def endpoint(handler: Handler, state: EmulatorState, store: KugelStore) -> Callable:
    async def run(request: Request) -> Response:
        try:
            ctx = request_context(state, request, SURFACE)
        except OverrideError as exc:
            return emulator_error(400, str(exc))
        devs = ctx.deviations
        choices = state.config.choices
        try:
            caller = store.caller(store.key_of(request), devs, ctx.faults.kugel)
            store.count_request(caller)
            if caller.role == "forbidden":
                raise E.KugelError(E.FORBIDDEN)
            request.state.choices = choices
            if ctx.faults.latency_s:
                await asyncio.sleep(ctx.faults.latency_s)
            return await handler(request, caller, store)
        except E.KugelError as err:
            return E.rest_response(err, choices, devs)

    return run


async def _json(request: Request) -> Any:
    return V.parse_json(await request.body())


def _project(request: Request, caller: Caller, store: KugelStore) -> int:
    return store.project(caller, V.query_int(request.query_params, "project_id", None))


# --------------------------------------------------------------------------- TTS


async def tts_generate(request: Request, caller: Caller, store: KugelStore) -> Response:
    body = await _json(request)
    if isinstance(body, dict):
        text = body.get("text")
        if text is None or (isinstance(text, str) and not text.strip()):
            item = E.validation_item("missing", ("body", "text"), "Field required", body)
            raise E.KugelError(E.TEXT_REQUIRED, detail=[item])
    V.check_object(body, V.SYNTH)
    try:
        codec, rate = audio.parse_output(
            body.get("output_format"), body.get("sample_rate", api.DEFAULT_SAMPLE_RATE)
        )
    except audio.BadFormat as exc:
        item = E.validation_item("value_error", ("body", "output_format"), str(exc), None)
        raise E.KugelError(E.INVALID_REQUEST, detail=[item]) from None
    text = body["text"]
    if body.get("voice_id") is None and E.missing_voice_code(request.state.choices):
        raise E.KugelError(E.MISSING_VOICE)  # else: a default voice (the OpenAPI's reading)
    store.check_length(text)
    project = store.project(caller, body.get("project_id"))
    if body.get("voice_id") is not None:
        store.voice(caller, body["voice_id"])
    store.check_credits(caller, len(text))
    store.model_faults(caller)
    if GENERATION_FAILED in caller.faults:
        raise E.KugelError(E.GENERATION_FAILED)
    spoken = store.apply_dictionaries(
        project, text, body.get("dictionary_ids"), body.get("language")
    )
    samples = audio.synthesize(spoken, rate, float(body.get("speed", 1.0)))
    store.charge(caller, len(text))
    return Response(
        audio.encode(samples, codec),
        media_type=audio.media_type(codec, rate),
        headers={"X-Sample-Rate": str(rate), "X-Audio-Samples": str(len(samples))},
    )


async def models_list(request: Request, caller: Caller, store: KugelStore) -> Response:
    models = [
        {
            "id": m,
            "model_id": m,
            "name": name,
            "description": None,
            "parameters": None,
            "max_input_length": store.config.max_chars,
            "sample_rate": api.DEFAULT_SAMPLE_RATE,
        }
        for m, name in (("kugel-3", "Kugel 3"), ("kugel-3-turbo", "Kugel 3 Turbo"))
    ]
    return JSONResponse({"models": models})


# --------------------------------------------------------------------------- voices


async def voices_list(request: Request, caller: Caller, store: KugelStore) -> Response:
    q = request.query_params
    limit = V.query_int(q, "limit", api.VOICES_LIMIT_DEFAULT, *api.VOICES_LIMIT_RANGE)
    offset = V.query_int(q, "offset", 0, 0)
    assert limit is not None and offset is not None
    seen = [v for v in store.voices.values() if v.owner in (None, caller.role)]
    page = seen[offset : offset + limit]
    return JSONResponse(
        {"voices": [v.info() for v in page], "total": len(seen), "limit": limit, "offset": offset}
    )


def _is_audio(head: bytes) -> bool:
    return bool(head) and any(content_matches_extension(head, f) for f in AUDIO_FAMILIES)


async def _read_upload(f: UploadFile) -> bytes:
    data = await f.read(MAX_UPLOAD_BYTES + 1)
    if len(data) > MAX_UPLOAD_BYTES:
        raise E.KugelError(E.UNSUPPORTED_AUDIO)
    return data


def _add_reference(voice: Voice, store: KugelStore, name: str, text: str) -> dict[str, Any]:
    rid = store.next_id("ref")
    ref = {
        "id": rid,
        "voice_id": voice.id,
        "name": name,
        "reference_text": text,
        "s3_path": f"voices/{voice.id}/references/{rid}",
        "audio_url": None,
        "is_generated": False,
    }
    voice.references[rid] = ref
    return ref


async def voice_create(request: Request, caller: Caller, store: KugelStore) -> Response:
    files: list[UploadFile] = []
    ctype = request.headers.get("content-type", "")
    if ctype.startswith("multipart/form-data"):
        try:
            form = await request.form(max_files=16, max_fields=32)
        except Exception:  # noqa: BLE001 - the parser's own errors
            raise E.KugelError(E.INVALID_METADATA) from None
        raw = form.get("metadata")
        if not isinstance(raw, str):
            raise E.KugelError(E.INVALID_METADATA)
        try:
            meta = json.loads(raw)
        except ValueError:
            raise E.KugelError(E.INVALID_METADATA) from None
        files = [f for f in form.getlist("files") if isinstance(f, UploadFile)]
    else:
        try:
            meta = json.loads(await request.body())
        except ValueError:
            raise E.KugelError(E.INVALID_METADATA) from None
    try:
        V.check_object(meta, V.VOICE_META, required=("name",), closed=False)
    except E.KugelError:
        raise E.KugelError(E.INVALID_METADATA) from None
    blobs = [await _read_upload(f) for f in files]
    if any(not _is_audio(b[:4096]) for b in blobs):
        raise E.KugelError(E.UNSUPPORTED_AUDIO)
    vid = store.next_id("voice")
    voice = Voice(vid, meta["name"], caller.role, f"voice-{vid}")
    for k in (
        "description",
        "generative_voice_description",
        "category",
        "age",
        "sex",
        "quality",
        "sample_text",
        "supported_languages",
    ):
        if meta.get(k) is not None:
            setattr(voice, k, meta[k])
    store.voices[vid] = voice
    for f in files:
        _add_reference(voice, store, f.filename or "reference", "")
    return JSONResponse(voice.detail(), status_code=201)


async def voice_get(request: Request, caller: Caller, store: KugelStore) -> Response:
    return JSONResponse(store.voice(caller, request.path_params["voice_id"]).info())


async def voice_update(request: Request, caller: Caller, store: KugelStore) -> Response:
    voice = store.voice(caller, request.path_params["voice_id"], own=True)
    body = V.check_object(await _json(request), V.UPDATE_VOICE)
    for k, v in body.items():
        if v is not None:
            setattr(voice, k, v)
    return JSONResponse(voice.detail())


async def voice_delete(request: Request, caller: Caller, store: KugelStore) -> Response:
    voice = store.voice(caller, request.path_params["voice_id"], own=True)
    del store.voices[voice.id]
    return Response(status_code=204)


async def voice_publish(request: Request, caller: Caller, store: KugelStore) -> Response:
    voice = store.voice(caller, request.path_params["voice_id"], own=True)
    voice.is_public, voice.pending_verification = True, True
    return JSONResponse(voice.detail())


async def voice_sample(request: Request, caller: Caller, store: KugelStore) -> Response:
    voice = store.voice(caller, request.path_params["voice_id"], own=True)
    if not voice.references:
        # a state check in handler code, not schema validation: 400 on either side of row 15
        raise E.KugelError(E.INVALID_REQUEST)
    store.model_faults(caller)
    if SAMPLE_FAILED in caller.faults or GENERATION_FAILED in caller.faults:
        raise E.KugelError(E.SAMPLE_FAILED)
    text = voice.sample_text or f"Hello, this is {voice.name}."
    pcm = audio.encode(audio.synthesize(text, api.DEFAULT_SAMPLE_RATE), "pcm")
    voice.sample_url = f"/samples/{voice.id}.pcm"
    return JSONResponse(
        {
            "voice_id": voice.id,
            "sample_url": voice.sample_url,
            "sample_rate": api.DEFAULT_SAMPLE_RATE,
            "audio": base64.b64encode(pcm).decode(),
        }
    )


async def references_list(request: Request, caller: Caller, store: KugelStore) -> Response:
    voice = store.voice(caller, request.path_params["voice_id"], own=True)
    return JSONResponse(list(voice.references.values()))


async def reference_upload(request: Request, caller: Caller, store: KugelStore) -> Response:
    voice = store.voice(caller, request.path_params["voice_id"], own=True)
    if not request.headers.get("content-type", "").startswith("multipart/form-data"):
        item = E.validation_item("missing", ("body", "file"), "Field required", None)
        raise E.KugelError(E.INVALID_REQUEST, detail=[item])
    try:
        form = await request.form(max_files=4, max_fields=16)
    except Exception:  # noqa: BLE001
        raise E.KugelError(E.INVALID_REQUEST) from None
    f = form.get("file")
    if not isinstance(f, UploadFile):
        item = E.validation_item("missing", ("body", "file"), "Field required", None)
        raise E.KugelError(E.INVALID_REQUEST, detail=[item])
    data = await _read_upload(f)
    if not _is_audio(data[:4096]):
        raise E.KugelError(E.UNSUPPORTED_AUDIO)
    text = form.get("reference_text")
    ref = _add_reference(
        voice, store, f.filename or "reference", text if isinstance(text, str) else ""
    )
    return JSONResponse(ref, status_code=201)


async def reference_delete(request: Request, caller: Caller, store: KugelStore) -> Response:
    voice = store.voice(caller, request.path_params["voice_id"], own=True)
    rid = V.path_int(request.path_params["ref_id"], "ref_id")
    if rid not in voice.references:
        raise E.KugelError(E.REFERENCE_NOT_FOUND)
    del voice.references[rid]
    return Response(status_code=204)


# --------------------------------------------------------------------------- dictionaries


def _dict(request: Request, caller: Caller, store: KugelStore) -> Dictionary:
    project = _project(request, caller, store)
    return store.dictionary(project, V.path_int(request.path_params["dict_id"], "dict_id"))


async def dicts_list(request: Request, caller: Caller, store: KugelStore) -> Response:
    project = _project(request, caller, store)
    ds = [d.body() for d in store.dictionaries.values() if d.project_id == project]
    return JSONResponse({"dictionaries": ds})


async def dict_create(request: Request, caller: Caller, store: KugelStore) -> Response:
    project = _project(request, caller, store)
    body = V.check_object(await _json(request), V.CREATE_DICT, required=("name",))
    d = Dictionary(
        store.next_id("dict"), project, body["name"], body.get("description"), body.get("language")
    )
    store.dictionaries[d.id] = d
    return JSONResponse(d.body(), status_code=201)


async def dict_get(request: Request, caller: Caller, store: KugelStore) -> Response:
    return JSONResponse(_dict(request, caller, store).body())


async def dict_update(request: Request, caller: Caller, store: KugelStore) -> Response:
    d = _dict(request, caller, store)
    body = V.check_object(await _json(request), V.UPDATE_DICT)
    for k, v in body.items():
        if v is not None:
            setattr(d, k, v)
    d.updated_at = now_iso()
    return JSONResponse(d.body())


async def dict_delete(request: Request, caller: Caller, store: KugelStore) -> Response:
    d = _dict(request, caller, store)
    del store.dictionaries[d.id]
    return JSONResponse({"deleted": True})


def _entry(d: Dictionary, eid: int, body: dict[str, Any]) -> dict[str, Any]:
    now = now_iso()
    return {
        "id": eid,
        "dictionary_id": d.id,
        "word": body["word"],
        "replacement": body["replacement"],
        "ipa": body.get("ipa"),
        "case_sensitive": bool(body.get("case_sensitive", False)),
        "created_at": now,
        "updated_at": now,
    }


async def entries_list(request: Request, caller: Caller, store: KugelStore) -> Response:
    d = _dict(request, caller, store)
    q = request.query_params
    limit = V.query_int(q, "limit", api.ENTRIES_LIMIT_DEFAULT, *api.ENTRIES_LIMIT_RANGE)
    offset = V.query_int(q, "offset", 0, 0)
    assert limit is not None and offset is not None
    search = q.get("search")
    if search is not None and len(search) > api.ENTRIES_SEARCH_MAX_CHARS:
        item = E.validation_item("string_too_long", ("query", "search"), "Invalid value", search)
        raise E.KugelError(E.INVALID_REQUEST, detail=[item])
    items = [
        e
        for e in d.entries.values()
        if not search or search.lower() in (e["word"] + " " + e["replacement"]).lower()
    ]
    return JSONResponse(
        {
            "entries": items[offset : offset + limit],
            "total": len(items),
            "limit": limit,
            "offset": offset,
        }
    )


async def entry_add(request: Request, caller: Caller, store: KugelStore) -> Response:
    d = _dict(request, caller, store)
    body = V.check_object(await _json(request), V.ENTRY, required=("word", "replacement"))
    e = _entry(d, store.next_id("entry"), body)
    d.entries[e["id"]] = e
    return JSONResponse(e, status_code=201)


async def entries_replace(request: Request, caller: Caller, store: KugelStore) -> Response:
    d = _dict(request, caller, store)
    body = V.check_object(await _json(request), {"entries": lambda v: None}, required=("entries",))
    items = body["entries"]
    if not isinstance(items, list):
        raise E.KugelError(
            E.INVALID_REQUEST,
            detail=[
                E.validation_item("list_type", ("body", "entries"), "Input should be a list", items)
            ],
        )
    for item in items:
        V.check_object(item, V.ENTRY, required=("word", "replacement"))
    by_word = {e["word"]: e for e in d.entries.values()}
    wanted = {i["word"]: i for i in items}
    deleted = 0
    for word, e in by_word.items():
        if word not in wanted:
            del d.entries[e["id"]]
            deleted += 1
    upserted = 0
    for word, item in wanted.items():
        old = by_word.get(word)
        new = _entry(d, old["id"] if old else store.next_id("entry"), item)
        if old is None or any(old[k] != new[k] for k in ("replacement", "ipa", "case_sensitive")):
            upserted += 1
        if old is not None:
            new["created_at"] = old["created_at"]
        d.entries[new["id"]] = new
    return JSONResponse({"upserted": upserted, "deleted": deleted, "total": len(d.entries)})


def _entry_of(request: Request, d: Dictionary) -> dict[str, Any]:
    eid = V.path_int(request.path_params["entry_id"], "entry_id")
    if eid not in d.entries:
        raise E.KugelError(E.ENTRY_NOT_FOUND)
    return d.entries[eid]


async def entry_update(request: Request, caller: Caller, store: KugelStore) -> Response:
    d = _dict(request, caller, store)
    e = _entry_of(request, d)
    body = V.check_object(await _json(request), V.UPDATE_ENTRY)
    for k, v in body.items():
        if v is not None:
            e[k] = v
    e["updated_at"] = now_iso()
    return JSONResponse(e)


async def entry_delete(request: Request, caller: Caller, store: KugelStore) -> Response:
    d = _dict(request, caller, store)
    e = _entry_of(request, d)
    del d.entries[e["id"]]
    return JSONResponse({"deleted": True})


HANDLERS: dict[str, Handler] = {
    "tts-generate": tts_generate,
    "models-list": models_list,
    "voices-list": voices_list,
    "voice-create": voice_create,
    "voice-get": voice_get,
    "voice-update": voice_update,
    "voice-delete": voice_delete,
    "voice-publish": voice_publish,
    "voice-generate-sample": voice_sample,
    "voice-references-list": references_list,
    "voice-reference-upload": reference_upload,
    "voice-reference-delete": reference_delete,
    "dictionaries-list": dicts_list,
    "dictionary-create": dict_create,
    "dictionary-get": dict_get,
    "dictionary-update": dict_update,
    "dictionary-delete": dict_delete,
    "dictionary-entries-list": entries_list,
    "dictionary-entry-add": entry_add,
    "dictionary-entries-replace": entries_replace,
    "dictionary-entry-update": entry_update,
    "dictionary-entry-delete": entry_delete,
}


def routes(state: EmulatorState, store: KugelStore) -> list[BaseRoute]:
    """One route per path, every documented method of it (order of REST_OPERATIONS)."""
    by_path: dict[str, dict[str, Handler]] = {}
    for op in api.REST_OPERATIONS:
        by_path.setdefault(op.path, {})[op.method] = HANDLERS[op.key]
    out: list[BaseRoute] = []
    for path, methods in by_path.items():
        wrapped = {m: endpoint(h, state, store) for m, h in methods.items()}

        async def dispatch(request: Request, _w: dict = wrapped) -> Response:
            return await _w.get(request.method, _w.get("GET"))(request)  # type: ignore[misc]

        out.append(Route(path, dispatch, methods=list(methods), name=f"kugel {path}"))
    return out
