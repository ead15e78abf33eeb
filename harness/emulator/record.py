"""The emulator's own record of what a client did, and a scripted refusal plan.

:class:`RecordMiddleware` wraps the app (outside every surface) and keeps one entry per
HTTP request and per WebSocket connection: wall-clock start and end (``time.time()``),
method, path, the key it carried, the uploaded file's name, the status (101 for an
accepted WebSocket) and the close code; for a WebSocket also who closed it and when
(``closed_at``), the frames and bytes it sent, the identity of its stream (``upload``: a
hash of its first binary frame, else of its first text frame), whether the server sent it a
result (``result``: a ``done`` message or a KugelAudio ``final`` one) and the last error
the server sent (``error``: its ``error_code``, else its text). The control endpoint serves it
(``GET /_emulator/record``); ``POST /_emulator/reset`` empties it. Recording is off until
a script is set (``POST /_emulator/script``, even an empty one), so ordinary runs and load tests
pay nothing for it. The key is kept as a short sha256 fingerprint, never as the key itself.

:class:`Script` (``POST /_emulator/script``) refuses the first ``reject_first`` attempts
of each upload (keyed by its file name, else by the body's first 64 KiB) on the paths that start
with ``path_prefix``, with ``status`` and, when given, ``Retry-After``. With ``ws_close``
set it scripts WebSocket connections on those paths instead: an error message (``body``, else
``{"type": "error", "error": detail}``) then a close with ``ws_close``, either at once on
connecting (``ws_when = "connect"``: the first ``reject_first`` connections) or on the first
binary / text frame a connection sends (``"first-binary"`` / ``"first-text"``: the first
``reject_first`` attempts of each stream, keyed by that frame). ``harness audit-client`` uses
both; nothing else does.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
import time
from dataclasses import asdict, dataclass
from typing import Any

from .wire import CONTROL_PREFIX

_FILENAME = re.compile(rb'filename="([^"]*)"')
MAX_ENTRIES = 100_000  # entries kept between resets
_HEAD_BYTES = 64 * 1024  # the part of a body read for the file name
WS_WHEN = ("connect", "first-binary", "first-text")
_CONNECT = "(connect)"  # the attempt key of connect-time WebSocket refusals


@dataclass(frozen=True)
class Script:
    reject_first: int = 0
    status: int = 429
    path_prefix: str = "/api/"
    retry_after: float | None = None
    detail: str = "Too many requests"
    body_key: str = "detail"  # the JSON field that carries the message
    body: dict[str, Any] | None = None  # the whole JSON body instead (e.g. KugelAudio's shape)
    ws_close: int | None = None  # set: script WebSocket connections (close code), not HTTP
    ws_when: str = "connect"  # "connect", "first-binary" or "first-text"

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown script fields: {', '.join(sorted(unknown))}")
        script = cls(**data)
        if script.reject_first < 0 or not 100 <= script.status <= 599:
            raise ValueError("reject_first must be >= 0 and status an HTTP status")
        if script.ws_close is not None and not 1000 <= script.ws_close <= 4999:
            raise ValueError("ws_close must be a WebSocket close code (1000-4999)")
        if script.ws_when not in WS_WHEN:
            raise ValueError(f"ws_when must be one of {', '.join(WS_WHEN)}")
        return script

    def error_message(self) -> dict[str, Any]:
        """The error message a scripted WebSocket refusal sends before its close."""
        return self.body or {"type": "error", "error": self.detail}


class RequestLog:
    """Every entry, the script and the per-upload attempt counts (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._entries: list[dict[str, Any]] = []
        self._attempts: dict[str, int] = {}
        self.script = Script()
        self.dropped = 0  # entries not kept past MAX_ENTRIES
        self.enabled = False  # recording starts with the first script

    def add(self, entry: dict[str, Any]) -> None:
        with self._lock:
            if len(self._entries) >= MAX_ENTRIES:  # a long load run: keep the first ones
                self.dropped += 1
                return
            entry["id"] = len(self._entries)
            self._entries.append(entry)

    def entries(self) -> list[dict[str, Any]]:
        with self._lock:
            return [dict(e) for e in self._entries]

    def set_script(self, script: Script) -> None:
        with self._lock:
            self.script, self._attempts = script, {}
            self.enabled = True

    def script_json(self) -> dict[str, Any]:
        return asdict(self.script)

    def refuse(self, path: str, upload: str, *, ws: bool = False) -> bool:
        """Count one attempt of ``upload``; whether the script refuses it (a script with
        ``ws_close`` refuses WebSocket attempts only, one without it HTTP ones only)."""
        with self._lock:
            s = self.script
            if s.reject_first <= 0 or not path.startswith(s.path_prefix):
                return False
            if (s.ws_close is not None) != ws:
                return False
            n = self._attempts.get(upload, 0) + 1
            self._attempts[upload] = n
            return n <= s.reject_first

    def reset(self) -> None:
        with self._lock:
            self._entries, self._attempts, self.script = [], {}, Script()
            self.dropped = 0


def _key(scope: dict[str, Any]) -> str:
    headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
    key = ""
    for name in ("x-api-key", "apikey"):
        if name in headers:
            key = headers[name]
            break
    auth = headers.get("authorization", "")
    if not key and auth.lower().startswith("bearer "):
        key = auth[7:]
    query = scope.get("query_string", b"").decode("latin-1")
    m = None if key else re.search(r"(?:^|&)api_key=([^&]*)", query)
    key = m.group(1) if m else key
    return hashlib.sha256(key.encode()).hexdigest()[:12] if key else ""


class RecordMiddleware:
    """Pure ASGI: records every request/connection except the control endpoint's."""

    def __init__(self, app: Any, log: RequestLog) -> None:
        self.app, self.log = app, log

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        path = scope.get("path", "")
        if (
            not self.log.enabled
            or scope["type"] not in ("http", "websocket")
            or path.startswith(CONTROL_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        entry: dict[str, Any] = {
            "kind": "ws" if scope["type"] == "websocket" else "http",
            "method": scope.get("method", "GET"),
            "path": path,
            "key": _key(scope),
            "file": None,
            "upload": None,
            "t": time.time(),
            "end": None,
            "status": None,
            "close_code": None,
        }
        try:
            if entry["kind"] == "http":
                await self._http(scope, receive, send, entry)
            else:
                await self._ws(scope, receive, send, entry)
        finally:
            entry["end"] = time.time()
            self.log.add(entry)

    async def _http(self, scope: Any, receive: Any, send: Any, entry: dict[str, Any]) -> None:
        messages, head, more = [], b"", True
        while more and len(head) < _HEAD_BYTES:  # only the head is held: uploads stream on
            message = await receive()
            messages.append(message)
            if message["type"] != "http.request":
                more = False
                break
            head += message.get("body", b"")
            more = message.get("more_body", False)
        m = _FILENAME.search(head[:_HEAD_BYTES])
        entry["file"] = m.group(1).decode("utf-8", "replace") if m else None
        upload = entry["file"] or hashlib.sha256(head[:_HEAD_BYTES]).hexdigest()[:16]
        entry["upload"] = upload  # the identity retries of one request share
        if entry["method"] == "POST" and self.log.refuse(entry["path"], upload):
            while more:  # drain the rest of the body before answering
                message = await receive()
                more = message["type"] == "http.request" and message.get("more_body", False)
            s = self.log.script
            headers = [(b"content-type", b"application/json")]
            if s.retry_after is not None:
                headers.append((b"retry-after", f"{s.retry_after:g}".encode()))
            entry["status"] = s.status
            await send({"type": "http.response.start", "status": s.status, "headers": headers})
            await send(
                {
                    "type": "http.response.body",
                    "body": json.dumps(s.body or {s.body_key: s.detail}).encode(),
                }
            )
            return

        async def replay() -> Any:
            return messages.pop(0) if messages else await receive()

        async def sending(message: dict[str, Any]) -> None:
            if message["type"] == "http.response.start":
                entry["status"] = message["status"]
            await send(message)

        await self.app(scope, replay, sending)

    async def _ws(self, scope: Any, receive: Any, send: Any, entry: dict[str, Any]) -> None:
        entry.update(closed_at=None, closed_by=None, frames_in=0, bytes_in=0, result=False)
        entry["error"] = None
        s, path = self.log.script, entry["path"]
        scripted = s.ws_close is not None and path.startswith(s.path_prefix)
        if scripted and s.ws_when == "connect" and self.log.refuse(path, _CONNECT, ws=True):
            message = await receive()  # websocket.connect: accepted, then refused at once
            if message["type"] == "websocket.connect":
                await send({"type": "websocket.accept"})
                entry["status"] = 101
                await self._ws_refuse(send, entry, s)
            return
        trigger = (
            {"first-binary": "bytes", "first-text": "text"}.get(s.ws_when) if scripted else None
        )
        closed = False  # by the script: the application hears the client has gone

        async def receiving() -> Any:
            nonlocal closed, trigger
            if closed:
                return {"type": "websocket.disconnect", "code": entry["close_code"]}
            message = await receive()
            if message["type"] == "websocket.receive":
                data = message.get("bytes")
                data = data if data is not None else (message.get("text") or "").encode()
                entry["frames_in"] += 1
                entry["bytes_in"] += len(data)
                kind = "bytes" if message.get("bytes") is not None else "text"
                if data and (entry["upload"] is None or (kind == "bytes" and not entry["_bin"])):
                    entry["upload"] = hashlib.sha256(data[:_HEAD_BYTES]).hexdigest()[:16]
                    entry["_bin"] = kind == "bytes"
                if trigger == kind and data:
                    trigger = None  # one decision per connection
                    if self.log.refuse(path, entry["upload"] or "", ws=True):
                        await self._ws_refuse(send, entry, s)
                        closed = True
                        return {"type": "websocket.disconnect", "code": entry["close_code"]}
            elif message["type"] == "websocket.disconnect" and entry["close_code"] is None:
                entry["close_code"] = message.get("code", 1005)
                entry["closed_by"] = "client"
                entry["closed_at"] = time.time()
            return message

        async def sending(message: dict[str, Any]) -> None:
            if closed:  # the script closed it: nothing more reaches the client
                return
            kind = message["type"]
            if kind == "websocket.accept":
                entry["status"] = 101
            elif kind == "websocket.send" and message.get("text"):
                _note_server_text(entry, message["text"])
            elif kind == "websocket.close" and entry["close_code"] is None:
                entry["close_code"] = message.get("code", 1000)
                entry["closed_by"] = "server"
                entry["closed_at"] = time.time()
                if entry["status"] is None:
                    entry["status"] = 403  # refused before the upgrade completed
            elif kind == "websocket.http.response.start":
                entry["status"] = message["status"]
            await send(message)

        entry["_bin"] = False
        try:
            await self.app(scope, receiving, sending)
        finally:
            entry.pop("_bin", None)

    @staticmethod
    async def _ws_refuse(send: Any, entry: dict[str, Any], s: Script) -> None:
        """The script's error message, then its close, recorded as the server's."""
        assert s.ws_close is not None
        text = json.dumps(s.error_message())
        _note_server_text(entry, text)
        entry["close_code"], entry["closed_by"] = s.ws_close, "server"
        entry["closed_at"] = time.time()
        entry["scripted"] = True
        try:
            await send({"type": "websocket.send", "text": text})
            await send({"type": "websocket.close", "code": s.ws_close})
        except Exception:  # noqa: BLE001 - the client went first; the record stands
            return


def _note_server_text(entry: dict[str, Any], text: str) -> None:
    """A result (``done`` / KugelAudio ``final``) or an error, from a server text message."""
    if not ('"done"' in text or '"final"' in text or '"error' in text):
        return  # audio chunks and partial results: not parsed
    try:
        body = json.loads(text)
    except ValueError:
        return
    if not isinstance(body, dict):
        return
    if body.get("type") == "done" or body.get("final") is True:
        entry["result"] = True
    elif body.get("type") == "error" or "error_code" in body:
        entry["error"] = str(body.get("error_code") or body.get("error") or "")[:200]
