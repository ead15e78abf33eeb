"""A small recording HTTP client (httpx, synchronous) for conformance cases."""

from __future__ import annotations

import functools
import ssl
import time
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .evidence import (
    EXCHANGE_KEY,
    KEPT_BODY_LIMIT,
    FileCopy,
    HttpExchange,
    Recorder,
    summarize_body,
)


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
def tls_context() -> ssl.SSLContext:
    """One verifying TLS context for every client (building one costs ~0.1 s)."""
    return ssl.create_default_context()


class HttpClient:
    """POST/GET against one base URL; every exchange goes to the case's recorder."""

    def __init__(
        self, base_url: str, recorder: Recorder, *, timeout_s: float, service: str = "velma"
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.recorder = recorder
        self.service = service  # the profile section the base URL comes from (reproducers)
        self._client = httpx.Client(
            base_url=self.base_url,
            timeout=httpx.Timeout(timeout_s, connect=min(timeout_s, 5.0)),
            follow_redirects=False,
            verify=tls_context(),
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
        content: bytes | Iterable[bytes] | None = None,
    ) -> httpx.Response:
        opened = {k: (f.filename, f.open(), f.content_type) for k, f in (files or {}).items()}
        tee: _Tee | None = None
        if content is not None and not isinstance(content, bytes | bytearray | str):
            tee = _Tee(content)  # a streamed body: keep (a bounded copy of) what was sent
            content = iter(tee)
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
        try:
            exact = self._exact(method, headers, files, data, response, tee)
        except Exception as exc:  # noqa: BLE001 - a reproducer is never worth a failed request
            exact = HttpExchange(
                self.service,
                self.base_url,
                method,
                str(response.request.url),
                [],
                body_note=f"a request the recorder could not copy ({type(exc).__name__}: {exc})",
            )
        index = self._record(
            method, path, headers, files, data, json_body, response, elapsed, exact
        )
        response.extensions[EXCHANGE_KEY] = index
        return response

    def post(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("POST", path, **kw)

    def get(self, path: str, **kw: Any) -> httpx.Response:
        return self.request("GET", path, **kw)

    # ------------------------------------------------------------------ evidence

    def _exact(
        self,
        method: str,
        headers: Mapping[str, str] | None,
        files: Mapping[str, FilePart] | None,
        data: Mapping[str, str] | None,
        response: httpx.Response,
        tee: _Tee | None,
    ) -> HttpExchange:
        request = response.request
        sent = list((headers or {}).items())
        given = {k.lower() for k, _ in sent}
        ctype = request.headers.get("content-type")
        exchange = HttpExchange(
            service=self.service,
            base_url=self.base_url,
            method=method,
            url=str(request.url),
            headers=sent,
            status=response.status_code,
        )
        if files:
            exchange.form = [(k, str(v)) for k, v in (data or {}).items()]
            exchange.files = [_copy_of(k, f) for k, f in files.items()]
            return exchange  # curl builds the multipart body (and its boundary) itself
        if ctype and "content-type" not in given:
            exchange.headers.append(("Content-Type", ctype))
        if tee is not None:
            exchange.body = tee.kept()
            if exchange.body is None:
                exchange.body_note = f"a streamed body of {tee.size} bytes (too large to keep)"
            return exchange
        try:
            body = request.content
        except httpx.RequestNotRead:
            exchange.body_note = "a streamed body the client did not keep"
            return exchange
        if body or method not in ("GET", "HEAD", "DELETE", "OPTIONS"):
            exchange.body = body
        return exchange

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
        exact: HttpExchange,
    ) -> int:
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
        elif exact.body is not None and not files:
            request["body"] = summarize_body(
                exact.body, dict(exact.headers).get("Content-Type", "")
            )
        elif exact.body_note:
            request["body"] = f"<{exact.body_note}>"
        ctype = response.headers.get("content-type", "")
        return self.recorder.add(
            {
                "kind": "http",
                "request": request,
                "response": {
                    "status": response.status_code,
                    "headers": dict(response.headers),
                    "body": summarize_body(response.content, ctype),
                },
                "elapsed_s": round(elapsed, 4),
            },
            exact,
        )


def _copy_of(name: str, part: Any) -> FileCopy:
    """What a file part sent (a :class:`FilePart` or anything shaped like one)."""
    data, path = getattr(part, "data", None), getattr(part, "path", None)
    if data is None and path is None:
        opened = part.open()
        data = opened if isinstance(opened, bytes) else b""
    ctype = getattr(part, "content_type", None) or "application/octet-stream"
    return FileCopy(name, part.filename, ctype, data=data, path=path)


class _Tee:
    """Passes a streamed body through, keeping a copy while it stays under the limit."""

    def __init__(self, chunks: Iterable[bytes]) -> None:
        self._chunks = chunks
        self._kept: list[bytes] | None = []
        self.size = 0

    def __iter__(self) -> Iterator[bytes]:
        for chunk in self._chunks:
            self.size += len(chunk)
            if self._kept is not None:
                if self.size <= KEPT_BODY_LIMIT:
                    self._kept.append(bytes(chunk))
                else:
                    self._kept = None
            yield chunk

    def kept(self) -> bytes | None:
        return b"".join(self._kept) if self._kept is not None else None
