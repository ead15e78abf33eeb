"""Shared helpers for the KugelAudio suites: auth, error triggers, reading the socket.

Everything goes over the network (profile ``[kugel]`` base URLs and keys); sessions are
opened with ``case.ws_at`` and judged with ``judge_ws`` (``observe_ws`` reading frames by
marker, ``KUGEL_SOCKET``).
Emulator faults travel in the ``X-Emulator-Fault`` request header; a case that needs one
calls ``case.emulator()`` first, so it is skipped on a live target.
"""

from __future__ import annotations

import io
import json
import time
import uuid
import wave
from collections.abc import Callable, Mapping
from typing import Any

import httpx

from harness.checks import Observation, SocketReading, observe_http, observe_ws
from harness.client import schema
from harness.client.control import fault_header
from harness.client.http import FilePart
from harness.client.ws import WsSession
from harness.contract import kugel_api as api
from harness.contract import schemas_kugel as sk
from harness.contract.tables import KUGEL_CLOSE_CODES, KUGEL_ERROR_CODES, KUGEL_ERRORS
from harness.not_tested import NOT_SERVED_STATUSES, not_tested, setup_failed

SERVICE = "kugel"
ROWS = {r.message: r for r in KUGEL_ERRORS}
ROW_PAIRS = {(r.error_code, r.status) for r in KUGEL_ERRORS}  # what a client may branch on
STATUSES = {r.status for r in KUGEL_ERRORS}
TTS = "/v1/tts/generate"
VOICE = 1  # public catalogue voice
PRIVATE_VOICE = 99  # a voice of another organisation: not visible
FOREIGN_PROJECT = 3  # a project of another organisation
MISSING_ID = 987654
# Markers of the WebSocket messages (kugel frames carry no "type" field).
MARKERS = ("error_code", "final", "settings_updated", "word_timestamps", "audio")
KIND_OF_MARKER = {"error_code": "error"}


# --------------------------------------------------------------------------- HTTP


def auth(case: Any, role: str = "valid", how: str = "bearer") -> dict[str, str]:
    key = case.key(role, service=SERVICE)
    return {"Authorization": f"Bearer {key}"} if how == "bearer" else {"x-api-key": key}


def call(
    case: Any,
    method: str,
    path: str,
    *,
    role: str | None = "valid",
    how: str = "bearer",
    headers: Mapping[str, str] | None = None,
    **kw: Any,
) -> httpx.Response:
    h = dict(auth(case, role, how) if role else {})
    h.update(headers or {})
    r = case.http(SERVICE).request(method, path, headers=h, **kw)
    require_route(case, path, r)
    return r


def _route_probe(path: str) -> tuple[str, str, dict[str, Any]]:
    """A request to ``path``'s route that a serving target never answers 404/405:
    ``POST /v1/tts/generate`` with an empty body (a validation error, nothing synthesised),
    else ``GET`` of the collection (``/v1/voices`` for ``/v1/voices/7/references``)."""
    bare = path.split("?")[0]
    if bare.startswith("/v1/tts"):
        return "POST", TTS, {"json": {}}
    parts = [p for p in bare.split("/") if p]
    return "GET", "/" + "/".join(parts[:2]), {}


def require_route(case: Any, path: str, r: httpx.Response) -> None:
    """A 404/405 from a route the target may not serve at all: probe it once per run; when
    it is not served the case is skipped with that cause (never judged)."""
    if r.status_code not in NOT_SERVED_STATUSES:
        return
    method, root, kw = _route_probe(path)
    valid = case.profile.kugel.key("valid")
    h = {"Authorization": f"Bearer {valid.value}"} if valid is not None else {}
    case.require_served(
        f"kugel-http {root}",
        r.status_code,
        lambda: case.probe_http(SERVICE, method, root, headers=h, **kw),
        how=f"to {method} {root}",
    )


def setup_ok(r: httpx.Response, step: str) -> httpx.Response:
    """A set-up request the case depends on: not 2xx ends the case ``error`` naming the step
    ("set-up failed: create voice: HTTP 500"), never ``failed``."""
    if not ok(r):
        setup_failed(step, f"HTTP {r.status_code} {' '.join(r.text.split())[:120]}".rstrip())
    return r


def fault(case: Any, name: str) -> dict[str, str]:
    case.emulator()  # faults exist only on the emulator
    return fault_header(name)


def body_of(r: httpx.Response) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def ok(r: httpx.Response) -> bool:
    return 200 <= r.status_code < 300


def is_envelope(body: Any) -> bool:
    return (
        isinstance(body, dict)
        and isinstance(body.get("error"), str)
        and isinstance(body.get("error_code"), str)
        and isinstance(body.get("code"), int)
        and not isinstance(body.get("code"), bool)
    )


def is_fastapi(body: Any) -> bool:
    """FastAPI's HTTPValidationError (``schemas_kugel``), with at least one problem listed."""
    return (
        isinstance(body, dict)
        and bool(body.get("detail"))
        and schema.fits(body, sk.FASTAPI_VALIDATION_ERROR)
    )


def invalid_obs(r: httpx.Response, note: str = "") -> Observation:
    """For clauses whose outcomes are 400 VALIDATION_ERROR or 422 FastAPI (behaviour)."""
    fast = r.status_code == 422 and is_fastapi(body_of(r))
    return observe_http(r, behaviour=fast, note=note or f"HTTP {r.status_code}")


def validation_side(r: httpx.Response) -> str | None:
    """Which side of contradiction 15 the answer is on (None: neither)."""
    body = body_of(r)
    if r.status_code == 400 and is_envelope(body) and body["code"] == 400:
        return "400-envelope"
    if r.status_code == 422 and is_fastapi(body):
        return "422-fastapi"
    return None


def category(body: Any) -> str | None:
    """A client that never reads ``error``: the documented category from error_code + code."""
    if not isinstance(body, dict):
        return None
    pair = (body.get("error_code"), body.get("code"))
    return pair[0] if pair in ROW_PAIRS else None


def tone_wav(seconds: float = 0.5, rate: int = 16000) -> bytes:
    buf = io.BytesIO()
    with wave.open(buf, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(bytes(int(rate * seconds) * 2))
    return buf.getvalue()


def new_voice(case: Any, *, reference: bool = False) -> int:
    """A voice of the valid organisation (with one reference recording when asked)."""
    meta = json.dumps({"name": f"harness-{uuid.uuid4().hex[:8]}"})
    if reference:
        r = multipart(
            case, "/v1/voices", {"metadata": meta}, {"files": ("ref.wav", tone_wav(), "audio/wav")}
        )
    else:
        r = call(case, "POST", "/v1/voices", content=meta.encode(), headers=JSON_CT)
    setup_ok(r, "create voice")
    return int(_created_id(r, "create voice"))


def multipart(
    case: Any, path: str, data: Mapping[str, str], files: Mapping[str, tuple[str, bytes, str]]
) -> httpx.Response:
    """A multipart POST through the recording client (parts built in memory)."""
    parts = {k: FilePart(filename=n, data=b, content_type=t) for k, (n, b, t) in files.items()}
    r = case.http(SERVICE).post(path, headers=auth(case), data=dict(data), files=parts)
    require_route(case, path, r)
    return r


def _created_id(r: httpx.Response, step: str) -> int:
    body = body_of(r)
    value = body.get("id") if isinstance(body, dict) else None
    if isinstance(value, bool) or not isinstance(value, int | str) or not str(value).isdecimal():
        setup_failed(step, f"HTTP {r.status_code} without a numeric `id` in the body")
    return int(value)


JSON_CT = {"Content-Type": "application/json"}


def new_dict(case: Any, role: str = "valid") -> int:
    r = call(
        case, "POST", "/v1/dictionaries", role=role, json_body={"name": f"h-{uuid.uuid4().hex[:6]}"}
    )
    setup_ok(r, "create dictionary")
    return _created_id(r, "create dictionary")


def until_rate_limited(case: Any, path: str = "/v1/models") -> httpx.Response:
    """Requests of the rate_limited organisation until one is refused (or 12 were served)."""
    r = call(case, "GET", path, role="rate_limited")
    for _ in range(12):
        if r.status_code == 429:
            break
        r = call(case, "GET", path, role="rate_limited")
    return r


# --------------------------------------------------------------------------- error triggers

# error message -> a request that should end in that payload-table row
Trigger = Callable[[Any], httpx.Response]


def _too_long(case: Any) -> httpx.Response:
    limit = case.profile.kugel.limits.get("max_characters")
    if not isinstance(limit, int):
        not_tested("missing-limit", "the profile states no kugel.limits.max_characters")
    text = "a" * min(limit + 1, api.TEXT_MAX_CHARS)
    return call(case, "POST", TTS, json_body={"text": text, "voice_id": VOICE})


def _unsupported_audio(case: Any) -> httpx.Response:
    meta = json.dumps({"name": f"harness-{uuid.uuid4().hex[:8]}"})
    return multipart(
        case,
        "/v1/voices",
        {"metadata": meta},
        {"files": ("notes.wav", b"this is plain text, not audio\n" * 20, "audio/wav")},
    )


def _entry_missing(case: Any) -> httpx.Response:
    d = new_dict(case)
    return call(case, "DELETE", f"/v1/dictionaries/{d}/entries/{MISSING_ID}")


def _reference_missing(case: Any) -> httpx.Response:
    v = new_voice(case)
    return call(case, "DELETE", f"/v1/voices/{v}/references/{MISSING_ID}")


def _sample_failed(case: Any) -> httpx.Response:
    h = fault(case, "sample-failed")
    v = new_voice(case, reference=True)
    return call(case, "POST", f"/v1/voices/{v}/generate-sample", headers=h)


def _synth(fault_name: str) -> Trigger:
    def t(case: Any) -> httpx.Response:
        h = fault(case, fault_name)
        return call(case, "POST", TTS, json_body={"text": "Hello.", "voice_id": VOICE}, headers=h)

    return t


TRIGGERS: dict[str, Trigger] = {
    "Invalid request": lambda c: call(
        c, "POST", TTS, json_body={"text": "Hello.", "voice_id": VOICE, "temperature": 5}
    ),
    "Invalid JSON body": lambda c: call(
        c, "POST", TTS, content=b'{"text": "Hello.", ', headers=JSON_CT
    ),
    "text required": lambda c: call(c, "POST", TTS, json_body={"voice_id": VOICE}),
    "Unsupported audio format": _unsupported_audio,
    "Invalid voice metadata": lambda c: call(
        c, "POST", "/v1/voices", json_body={"description": "no name"}
    ),
    "Unauthorized": lambda c: call(c, "GET", "/v1/voices", role="invalid"),
    "Insufficient credits": lambda c: call(
        c, "POST", TTS, role="no_credits", json_body={"text": "Hello.", "voice_id": VOICE}
    ),
    "Forbidden": lambda c: call(c, "GET", "/v1/voices", role="forbidden"),
    "Voice not found": lambda c: call(c, "GET", f"/v1/voices/{MISSING_ID}"),
    "Dictionary not found": lambda c: call(c, "GET", f"/v1/dictionaries/{MISSING_ID}"),
    "Entry not found": _entry_missing,
    "Project not found": lambda c: call(c, "GET", f"/v1/dictionaries?project_id={MISSING_ID}"),
    "Reference not found": _reference_missing,
    "Rate limit exceeded": until_rate_limited,
    "Request exceeds the maximum character limit": _too_long,
    "Audio generation failed": _synth("generation-failed"),
    "Sample generation failed": _sample_failed,
    "Failed to fetch voice": lambda c: call(
        c, "GET", f"/v1/voices/{VOICE}", headers=fault(c, "fetch-voice-failed")
    ),
    "Model overloaded, please try again later.": _synth("overload"),
    "The requested model is temporarily unavailable. Please try again shortly.": _synth(
        "model-unavailable"
    ),
}
assert set(TRIGGERS) == set(ROWS), "every payload-table row needs a trigger"


# --------------------------------------------------------------------------- WebSocket


def ws_open(
    case: Any,
    path: str = api.WS_TTS_PATH,
    *,
    role: str | None = "valid",
    key: str | None = None,
    headers: Mapping[str, str] | None = None,
    query: Mapping[str, Any] | None = None,
) -> WsSession:
    """A recording session to ``path`` of the KugelAudio socket (key in ``api_key``)."""
    name = f"kugel-ws {path}"
    kw = {"role": role, "key": key, "headers": headers, "key_param": api.WS_API_KEY_QUERY}
    return case.ws_at(SERVICE, path, query, name=name, **kw)


def kind(m: Mapping[str, Any]) -> str:
    for marker in MARKERS:
        if marker in m:
            return KIND_OF_MARKER.get(marker, marker)
    return "other"


def kinds(result: Any) -> list[str]:
    return [kind(m) for m in result.messages]


def errors(result: Any) -> list[dict[str, Any]]:
    return [m for m in result.messages if "error_code" in m or "error" in m]


def last_frame_was_error(result: Any) -> bool:
    """The frame right before the close was a JSON error frame."""
    if not result.order or not result.messages or not result.order[-1].startswith("json:"):
        return False
    return kind(result.messages[-1]) == "error" or "error" in result.messages[-1]


def read(s: WsSession, done: Callable[[list[dict[str, Any]]], bool], start: int = 0) -> None:
    """Read in short slices until ``done(new messages)``, the close, or the timeout."""
    deadline = time.monotonic() + s.timeout_s
    while s.open and time.monotonic() < deadline:
        s.receive(until_close=False, timeout_s=0.05)
        if done(s.result.messages[start:]):
            break


def cycle(s: WsSession, request: Mapping[str, Any] | str) -> list[dict[str, Any]]:
    """Send one request; read until `final`, an error frame, the close, or the timeout."""
    start = len(s.result.messages)
    if isinstance(request, str):
        s.send_text(request)
    else:
        s.send_json(request)
    read(s, lambda new: any(kind(m) in ("final", "error") for m in new), start)
    if s.open:  # a close may follow an error frame at once
        s.receive(until_close=False, timeout_s=0.1)
    return s.result.messages[start:]


def error_of(result: Any) -> dict[str, Any] | None:
    """The last error frame, else a refused upgrade's JSON body."""
    errs = errors(result)
    body = result.handshake_json
    return errs[-1] if errs else body if isinstance(body, dict) else None


# KugelAudio frames carry no `type`: kinds by marker; an error frame need not precede the close.
KUGEL_SOCKET = SocketReading(
    kinds=kinds, error=error_of, error_only_before_close=False, note_from_result=True
)


def judge_ws(case: Any, result: Any, *, aspect: str = "data", **kw: Any) -> None:
    """Judge a session's ``result`` on the case's clause, read the KugelAudio way
    (``kw``: ``behaviour``, ``note``, ``side`` of :func:`harness.checks.observe_ws`)."""
    case.judge(observe_ws(result, reading=KUGEL_SOCKET, **kw), aspect=aspect)


REQ = {"text": "Hello there.", "voice_id": VOICE}


def ws_until_close(case: Any, scenario: str) -> WsSession:
    """Run one of the close-code scenarios (4001, 4003, 4029, 4500, 4500b, 4000)."""
    if scenario == "4001":
        s = ws_open(case, role="invalid")
    elif scenario == "4001-nokey":
        s = ws_open(case, role=None)
    elif scenario == "4003":
        s = ws_open(case, role="no_credits")
    elif scenario == "4029":
        s = ws_open(case, role="rate_limited")
        for _ in range(12):
            if not s.open:
                break
            cycle(s, REQ)
    else:
        name = {"4500": "overload", "4500b": "model-unavailable", "4000": "generation-failed"}
        s = ws_open(case, headers=fault(case, name[scenario]))
        if s.open:
            cycle(s, REQ)
    s.until_close(timeout_s=min(case.timeout_s, 5.0))
    return s


WS_SCENARIOS = ("4001", "4001-nokey", "4003", "4029", "4500", "4500b", "4000")


def close_code_of(scenario: str) -> int:
    return int(scenario[:4])


def close_error_code(scenario: str) -> str:
    return KUGEL_CLOSE_CODES[close_code_of(scenario)][0]


DOCUMENTED_CODES = frozenset(KUGEL_ERROR_CODES)
