"""The emulator's own record of what a client did, and a scripted refusal plan.

:class:`RecordMiddleware` wraps the app (outside every surface) and keeps one entry per
HTTP request and per WebSocket connection: wall-clock start and end (``time.time()``),
method, path, the key it carried, the uploaded file's name, the status (101 for an
accepted WebSocket) and the close code. The control endpoint serves it
(``GET /_emulator/record``); ``POST /_emulator/reset`` empties it. Recording is off until
a script is set (``POST /_emulator/script``, even an empty one), so ordinary runs and load tests
pay nothing for it. The key is kept as a short sha256 fingerprint, never as the key itself.

:class:`Script` (``POST /_emulator/script``) refuses the first ``reject_first`` attempts
of each upload (keyed by its file name, else by the body's first 64 KiB) on the paths that start
with ``path_prefix``, with ``status`` and, when given, ``Retry-After``. ``harness
audit-client`` uses both; nothing else does.
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


@dataclass(frozen=True)
class Script:
    reject_first: int = 0
    status: int = 429
    path_prefix: str = "/api/"
    retry_after: float | None = None
    detail: str = "Too many requests"
    body_key: str = "detail"  # the JSON field that carries the message
    body: dict[str, Any] | None = None  # the whole JSON body instead (e.g. KugelAudio's shape)

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Script:
        known = set(cls.__dataclass_fields__)
        unknown = set(data) - known
        if unknown:
            raise ValueError(f"unknown script fields: {', '.join(sorted(unknown))}")
        script = cls(**data)
        if script.reject_first < 0 or not 100 <= script.status <= 599:
            raise ValueError("reject_first must be >= 0 and status an HTTP status")
        return script


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

    def refuse(self, path: str, upload: str) -> bool:
        """Count one attempt of ``upload``; whether the script refuses it."""
        with self._lock:
            s = self.script
            if s.reject_first <= 0 or not path.startswith(s.path_prefix):
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
        async def receiving() -> Any:
            message = await receive()
            if message["type"] == "websocket.disconnect" and entry["close_code"] is None:
                entry["close_code"] = message.get("code", 1005)
                entry["closed_by"] = "client"
            return message

        async def sending(message: dict[str, Any]) -> None:
            kind = message["type"]
            if kind == "websocket.accept":
                entry["status"] = 101
            elif kind == "websocket.close" and entry["close_code"] is None:
                entry["close_code"] = message.get("code", 1000)
                entry["closed_by"] = "server"
                if entry["status"] is None:
                    entry["status"] = 403  # refused before the upgrade completed
            elif kind == "websocket.http.response.start":
                entry["status"] = message["status"]
            await send(message)

        await self.app(scope, receiving, sending)
