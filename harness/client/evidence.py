"""Evidence of what was sent and received, redacted at the moment it is recorded."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from harness.redact import Redactor

BODY_LIMIT = 2000  # characters of a body kept in evidence


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


@dataclass
class Recorder:
    """Collects the exchanges of one case, already redacted."""

    redactor: Redactor
    items: list[dict[str, Any]] = field(default_factory=list)
    reproducer: dict[str, str] | None = None
    audio: dict[str, Any] | None = None  # the fixture used: {"id", "sha256"}

    def add(self, item: dict[str, Any]) -> None:
        self.items.append(self.redactor.data(item))

    def set_reproducer(self, kind: str, text: str) -> None:
        self.reproducer = {"kind": kind, "text": self.redactor.text(text)}

    def as_json(self) -> str:
        return json.dumps(self.items, indent=2, ensure_ascii=False)
