"""A small recording HTTP client (httpx, synchronous) for conformance cases."""

from __future__ import annotations

import functools
import shlex
import ssl
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .evidence import Recorder, summarize_body


@dataclass(frozen=True)
class FilePart:
    """One multipart file: bytes in memory, or a file on disk (for large fixtures)."""

    filename: str
    data: bytes | None = None
    path: Path | None = None
    content_type: str = "application/octet-stream"

    def open(self) -> Any:
        if self.path is not None:
            return self.path.open("rb")
        return self.data or b""

    @property
    def size(self) -> int:
        if self.path is not None:
            return self.path.stat().st_size
        return len(self.data or b"")


@functools.cache
def _tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client (building one costs ~0.1 s)."""
    return ssl.create_default_context()


class HttpClient:
    """POST/GET against one base URL; every exchange goes to the case's recorder."""

    def __init__(self, base_url: str, recorder: Recorder, *, timeout_s: float) -> None:
        self.base_url = base_url.rstrip("/")
        self.recorder = recorder
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            follow_redirects=False,
            verify=_tls_context(),
        )

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> HttpClient:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def request(
        self,
        method: str,
        path: str,
        *,
        headers: Mapping[str, str] | None = None,
        files: Mapping[str, FilePart] | None = None,
        data: Mapping[str, str] | None = None,
        json_body: Any = None,
        content: bytes | None = None,
    ) -> httpx.Response:
        opened = {k: (f.filename, f.open(), f.content_type) for k, f in (files or {}).items()}
        t0 = time.perf_counter()
        try:
            response = self._client.request(
                method,
                path,
                headers=dict(headers or {}),
                files=opened or None,
                data=dict(data) if data else None,
                json=json_body,
                content=content,
            )
        finally:
            for _, handle, _ in opened.values():
                if hasattr(handle, "close"):
                    handle.close()
        elapsed = time.perf_counter() - t0
        self._record(method, path, headers, files, data, json_body, response, elapsed)
        return response

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    # ------------------------------------------------------------------ evidence

    def _record(
        self,
        method: str,
        path: str,
        headers: Mapping[str, str] | None,
        files: Mapping[str, FilePart] | None,
        data: Mapping[str, str] | None,
        json_body: Any,
        response: httpx.Response,
        elapsed: float,
    ) -> None:
        url = self.base_url + path
        request: dict[str, Any] = {
            "method": method,
            "url": url,
            "headers": self.recorder.redactor.headers(headers or {}),
        }
        if files:
            request["files"] = {k: f"{f.filename} ({f.size} bytes)" for k, f in files.items()}
        if data:
            request["form"] = dict(data)
        if json_body is not None:
            request["json"] = json_body
        ctype = response.headers.get("content-type", "")
        self.recorder.add(
            {
                "kind": "http",
                "request": request,
                "response": {
                    "status": response.status_code,
                    "headers": dict(response.headers),
                    "body": summarize_body(response.content, ctype),
                },
                "elapsed_s": round(elapsed, 4),
            }
        )
        self.recorder.set_reproducer(
            "curl", curl_command(method, url, headers, files, data, json_body)
        )


def curl_command(
    method: str,
    url: str,
    headers: Mapping[str, str] | None,
    files: Mapping[str, FilePart] | None,
    data: Mapping[str, str] | None,
    json_body: Any,
) -> str:
    """A one-line curl that repeats the request (the redactor swaps keys for ${ENV} names)."""
    import json

    parts = ["curl", "-sS", "-i", "-X", method, shlex.quote(url)]
    for name, value in (headers or {}).items():
        parts += ["-H", _dq(f"{name}: {value}")]
    for name, f in (files or {}).items():
        where = str(f.path) if f.path is not None else f"<{f.filename}: {f.size} generated bytes>"
        parts += ["-F", shlex.quote(f"{name}=@{where};filename={f.filename}")]
    for name, value in (data or {}).items():
        parts += ["-F", shlex.quote(f"{name}={value}")]
    if json_body is not None:
        parts += [
            "-H",
            "'Content-Type: application/json'",
            "--data",
            shlex.quote(json.dumps(json_body)),
        ]
    return " ".join(parts)


def _dq(text: str) -> str:
    """Double quotes so that ${ENV} references expand in a shell."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("`", "\\`") + '"'
