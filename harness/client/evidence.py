"""Evidence of what was sent and received, redacted at the moment it is recorded.

A :class:`Recorder` keeps two things per exchange, at the same index:

- ``items``: a redacted summary for the report (bodies truncated, keys masked);
- ``exchanges``: the exact request (headers, body bytes, file parts, WebSocket frames
  with their timing), kept in memory for the case only, from which a reproducer is
  written when the case fails (:mod:`harness.report.reproduce`). Key values are
  swapped for ``${ENV}`` names when the reproducer is rendered, never stored in a file.

A response or a :class:`~harness.client.ws.WsResult` carries the index of its exchange
(:func:`exchange_of`), so the observation a verdict judged points at its own exchange.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from harness.redact import Redactor

BODY_LIMIT = 2000  # characters of a body kept in evidence
KEPT_BODY_LIMIT = 16 * 1024 * 1024  # bytes of a streamed request body kept for a reproducer
EXCHANGE_KEY = "harness.exchange"  # in httpx ``Response.extensions``


def summarize_body(body: bytes | str | None, content_type: str = "") -> str:
    if body is None:
        return ""
    if isinstance(body, bytes):
        if "json" in content_type or content_type.startswith("text/") or _looks_textual(body):
            try:
                body = body.decode("utf-8")
            except UnicodeDecodeError:
                return f"<{len(body)} bytes, {content_type or 'binary'}>"
        else:
            return f"<{len(body)} bytes, {content_type or 'binary'}>"
    if len(body) > BODY_LIMIT:
        return body[:BODY_LIMIT] + f"… ({len(body)} characters)"
    return body


def _looks_textual(body: bytes) -> bool:
    head = body[:64].lstrip()
    return head[:1] in (b"{", b"[") and b"\x00" not in head


# --------------------------------------------------------------------------- exact exchanges


@dataclass(frozen=True)
class FileCopy:
    """One multipart file part as sent: its bytes in memory, or the file they came from."""

    field: str
    filename: str | None  # None: a part without a filename (a form field sent as a part)
    content_type: str
    data: bytes | None = None
    path: Path | None = None


@dataclass
class HttpExchange:
    """One HTTP request exactly as sent (for a reproducer)."""

    service: str  # profile section of the base URL: velma, platform, kugel
    base_url: str
    method: str
    url: str  # absolute, as sent
    headers: list[tuple[str, str]]  # the ones the case set, in order (plus Content-Type)
    body: bytes | None = None  # exact bytes of a non-multipart body
    body_note: str = ""  # why ``body`` is missing although there was one
    form: list[tuple[str, str]] = field(default_factory=list)  # multipart text fields
    files: list[FileCopy] = field(default_factory=list)  # multipart file parts
    status: int | None = None


@dataclass
class SentFrame:
    at_s: float  # seconds after the connection opened
    data: bytes | str  # str: a text frame


@dataclass
class WsExchange:
    """One WebSocket session exactly as driven (for a reproducer)."""

    service: str
    url: str
    headers: list[tuple[str, str]]
    frames: list[SentFrame] = field(default_factory=list)
    handshake_status: int | None = None
    close_code: int | None = None
    closed_by: str | None = None
    client_closed_at_s: float | None = None  # when the case closed it, if it did
    wait_s: float = 15.0  # how long the case waited for the server to close


Exchange = HttpExchange | WsExchange


def exchange_of(obj: Any) -> int | None:
    """The recorder index of the exchange behind an httpx response or a ``WsResult``."""
    ext = getattr(obj, "extensions", None)
    if isinstance(ext, dict) and isinstance(ext.get(EXCHANGE_KEY), int):
        return int(ext[EXCHANGE_KEY])
    value = getattr(obj, "exchange", None)
    return value if isinstance(value, int) and not isinstance(value, bool) else None


@dataclass
class Recorder:
    """Collects the exchanges of one case: redacted summaries and exact requests."""

    redactor: Redactor
    items: list[dict[str, Any]] = field(default_factory=list)
    exchanges: list[Exchange | None] = field(default_factory=list)
    audio: dict[str, Any] | None = None  # the fixture used: {"id", "sha256"}
    controls: list[tuple[int, str]] = field(default_factory=list)  # (exchanges before, change)

    def add(self, item: dict[str, Any], exchange: Exchange | None = None) -> int:
        """Record one finished exchange; returns its index."""
        self.items.append(self.redactor.data(item))
        self.exchanges.append(exchange)
        return len(self.items) - 1

    def reserve(self, item: dict[str, Any]) -> int:
        """Hold a place for an exchange still under way (a WebSocket session)."""
        return self.add(item)

    def fill(self, index: int, item: dict[str, Any], exchange: Exchange | None) -> None:
        self.items[index] = self.redactor.data(item)
        self.exchanges[index] = exchange

    @property
    def last_index(self) -> int | None:
        return len(self.items) - 1 if self.items else None

    @property
    def last_exchange(self) -> int | None:
        """The index of the latest request or session (not a note the case added)."""
        for i in range(len(self.exchanges) - 1, -1, -1):
            if self.exchanges[i] is not None or self.items[i].get("kind") == "websocket":
                return i
        return None

    def release(self) -> None:
        """Drop the exact copies (bodies, frames) once the case's reproducer is made."""
        self.exchanges = [None] * len(self.exchanges)

    def control(self, what: str) -> None:
        """The case changed the emulator through its control endpoint (not an exchange)."""
        self.controls.append((len(self.items), what))

    def as_json(self) -> str:
        return json.dumps(self.items, indent=2, ensure_ascii=False)
