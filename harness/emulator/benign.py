"""Benign variants: switches that change only what the documents leave free.

A deviation (:mod:`.deviations`) breaks a documented promise so that a self-test can
prove a check *can* fail. A benign variant keeps every promise and changes something
the documents do not fix, so that a self-test can prove the suite raises *no false
violation*: a run against the emulator with any of these on must have no ``failed``
case. They are switched on for the whole emulator in the config::

    [benign]
    enabled = ["reworded-errors", "extra-fields", "field-order", "latency"]
    latency_ms = 100

All of them act in one place, :class:`BenignMiddleware`, an ASGI layer around the whole
app: it sees every HTTP response and every WebSocket handshake and JSON text message
(Velma-2, Platform and KugelAudio alike), so no surface can be missed. The emulator's
own control endpoint (``/_emulator...``) and bodies marked ``"emulator": true`` (errors
about the ``X-Emulator-*`` headers) are left alone. The one error text written below
ASGI (a protocol-level WebSocket failure, :mod:`.server`) goes through
:func:`transform_ws` too.

* ``reworded-errors``: every error text is said differently (synonyms, see
  :func:`reword`; a prefix where none applies): Velma-2 and Platform ``detail`` strings
  and the ``msg`` of each FastAPI-style 422 item (the list keeps its shape), streaming
  ``error`` texts, KugelAudio ``error``. Status codes, close codes, ``error_code`` and
  ``code`` are untouched. The documents give these texts only as examples.
* ``extra-fields``: every JSON object, at any depth, of every JSON body and WebSocket
  message gets two undocumented fields (:data:`EXTRA_NOTE`, :data:`EXTRA_ID`).
* ``field-order``: the keys of every JSON object come in reverse order.
* ``latency``: every HTTP response and every WebSocket handshake waits ``latency_ms``
  (default 100) before it goes out.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
from collections.abc import Awaitable, Callable, Iterable, Mapping, MutableMapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from .wire import CONTROL_PREFIX

REWORDED_ERRORS = "reworded-errors"
EXTRA_FIELDS = "extra-fields"
FIELD_ORDER = "field-order"
LATENCY = "latency"
BENIGN: Mapping[str, str] = MappingProxyType(
    {
        REWORDED_ERRORS: "word every error text differently; codes and fields unchanged",
        EXTRA_FIELDS: "add undocumented fields to every JSON object of bodies and messages",
        FIELD_ORDER: "send the keys of every JSON object in reverse order",
        LATENCY: "wait latency_ms (default 100) before every HTTP response and WS handshake",
    }
)
DEFAULT_LATENCY_MS = 100
EXTRA_NOTE = "x_emulator_note"  # the two fields `extra-fields` adds
EXTRA_ID = "request_id"
NOTE_TEXT = "benign variant: an undocumented field"
REWORD_PREFIX = "Error: "  # where no synonym applies


@dataclass(frozen=True)
class BenignConfig:
    enabled: frozenset[str] = frozenset()
    latency_ms: int = DEFAULT_LATENCY_MS

    def has(self, name: str) -> bool:
        return name in self.enabled

    @property
    def latency_s(self) -> float:
        return self.latency_ms / 1000 if LATENCY in self.enabled else 0.0

    @property
    def rewrites_json(self) -> bool:
        return bool(self.enabled & {REWORDED_ERRORS, EXTRA_FIELDS, FIELD_ORDER})


def check_benign_names(names: Iterable[str]) -> None:
    """Raise ``ValueError`` naming the known variants if one is unknown."""
    for n in names:
        if n not in BENIGN:
            raise ValueError(f"unknown benign variant {n!r}; known: {', '.join(BENIGN)}")


# --------------------------------------------------------------------------- rewording

# Whole words or phrases, matched case-insensitively; the first letter's case is kept.
_SYNONYMS: tuple[tuple[str, str], ...] = (
    ("monthly limit reached", "the monthly allowance is used up"),
    ("model access not enabled", "this model is not switched on for the account"),
    ("internal server error", "unexpected failure on the server"),
    ("insufficient credits", "not enough credits left"),
    ("rate limit exceeded", "request rate too high"),
    ("too many concurrent requests", "concurrency limit reached"),
    ("please try again later", "retry in a while"),
    ("please try again shortly", "retry soon"),
    ("please try again", "retry"),
    ("temporarily unavailable", "unavailable for the moment"),
    ("timed out", "took too long"),
    ("not permitted", "not allowed"),
    ("not found", "does not exist"),
    ("unable to", "could not"),
    ("could not be", "failed to be"),
    ("cannot", "is unable to"),
    ("invalid", "malformed"),
    ("valid values", "accepted values"),
    ("unsupported", "not supported"),
    ("too short", "shorter than the minimum"),
    ("too large", "bigger than allowed"),
    ("too big", "bigger than allowed"),
    ("too long", "longer than allowed"),
    ("is empty", "has no content"),
    ("required", "needed"),
    ("requires", "needs"),
    ("require", "need"),
    ("must", "has to"),
    ("missing", "absent"),
    ("unauthorized", "not authenticated"),
    ("forbidden", "access refused"),
    ("failed", "did not succeed"),
    ("exceeds", "goes over"),
    ("does not match", "disagrees with"),
    ("expected", "wanted"),
    ("error", "problem"),
    ("corrupted", "damaged"),
    ("request", "call"),
    ("audio", "sound"),
)
_WORDS = re.compile(
    r"\b(" + "|".join(re.escape(a) for a, _ in _SYNONYMS) + r")\b", flags=re.IGNORECASE
)
_BY_WORD = {a: b for a, b in _SYNONYMS}
_QUOTED = re.compile(r"('[^']*'|\"[^\"]*\"|\[[^\]]*\])")  # values echoed back: left alone


def _swap(m: re.Match[str]) -> str:
    found = m.group(0)
    new = _BY_WORD[found.lower()]
    return new[0].upper() + new[1:] if found[0].isupper() else new


def reword(text: str) -> str:
    """``text`` said differently, with the same meaning; echoed values are kept as sent."""
    parts = _QUOTED.split(text)
    out = "".join(p if i % 2 else _WORDS.sub(_swap, p) for i, p in enumerate(parts))
    if out == text:
        out = REWORD_PREFIX + text
    return out


# --------------------------------------------------------------------------- JSON shapes


def _reshape(value: Any, cfg: BenignConfig) -> Any:
    """Extra fields and reversed key order, at every depth."""
    if isinstance(value, list):
        return [_reshape(v, cfg) for v in value]
    if not isinstance(value, dict):
        return value
    items = [(k, _reshape(v, cfg)) for k, v in value.items()]
    if cfg.has(EXTRA_FIELDS):
        items += [(EXTRA_NOTE, NOTE_TEXT), (EXTRA_ID, secrets.token_hex(8))]
    if cfg.has(FIELD_ORDER):
        items.reverse()
    return dict(items)


def _reword_http(body: dict[str, Any]) -> None:
    detail = body.get("detail")
    if isinstance(detail, str):
        body["detail"] = reword(detail)
    elif isinstance(detail, list):  # FastAPI-style 422: same items, reworded `msg`
        for item in detail:
            if isinstance(item, dict) and isinstance(item.get("msg"), str):
                item["msg"] = reword(item["msg"])
    if isinstance(body.get("error"), str):
        body["error"] = reword(body["error"])


def transform_http(body: Any, status: int, cfg: BenignConfig) -> Any:
    """An HTTP JSON body as the enabled variants send it."""
    if isinstance(body, dict) and body.get("emulator") is True:
        return body  # the emulator's own control errors
    if cfg.has(REWORDED_ERRORS) and status >= 400 and isinstance(body, dict):
        _reword_http(body)
    return _reshape(body, cfg)


def transform_ws(message: Any, cfg: BenignConfig) -> Any:
    """A WebSocket JSON message as the enabled variants send it."""
    if not isinstance(message, dict) or message.get("emulator") is True:
        return _reshape(message, cfg) if isinstance(message, list) else message
    if cfg.has(REWORDED_ERRORS) and isinstance(message.get("error"), str):
        message = {**message, "error": reword(message["error"])}
    return _reshape(message, cfg)


# --------------------------------------------------------------------------- ASGI layer

Scope = MutableMapping[str, Any]
Message = MutableMapping[str, Any]
Receive = Callable[[], Awaitable[Message]]
Send = Callable[[Message], Awaitable[None]]
ASGIApp = Callable[[Scope, Receive, Send], Awaitable[None]]


def _is_json(headers: Iterable[tuple[bytes, bytes]]) -> bool:
    for name, value in headers:
        if name.lower() == b"content-type":
            v = value.split(b";")[0].strip().lower()
            return v == b"application/json" or v.endswith(b"+json")
    return False


class _HttpRewriter:
    """Holds a JSON response's start until its body is complete, then rewrites both."""

    def __init__(self, send: Send, cfg: BenignConfig, prefix: str) -> None:
        self.send, self.cfg, self.prefix = send, cfg, prefix  # prefix: "http" / "websocket.http"
        self.start: Message | None = None
        self.body = bytearray()
        self.delayed = False

    async def __call__(self, message: Message) -> bool:
        """Handle ``message`` if it belongs to the response; True when it was consumed."""
        kind = message["type"]
        if kind == f"{self.prefix}.response.start":
            if not self.delayed and self.cfg.latency_s:
                self.delayed = True
                await asyncio.sleep(self.cfg.latency_s)
            if self.cfg.rewrites_json and _is_json(message.get("headers", [])):
                self.start = message
            else:
                await self.send(message)
            return True
        if kind == f"{self.prefix}.response.body" and self.start is not None:
            self.body += message.get("body", b"")
            if not message.get("more_body", False):
                await self._flush()
            return True
        return False

    async def _flush(self) -> None:
        assert self.start is not None
        start, raw = self.start, bytes(self.body)
        self.start = None
        try:
            body = json.loads(raw)
        except ValueError:
            out = raw
        else:
            new = transform_http(body, int(start["status"]), self.cfg)
            out = json.dumps(new, ensure_ascii=False, allow_nan=False, separators=(",", ":"))
            out = out.encode("utf-8")
        headers = [(k, v) for k, v in start.get("headers", []) if k.lower() != b"content-length"]
        headers.append((b"content-length", str(len(out)).encode()))
        await self.send({**start, "headers": headers})
        await self.send({"type": f"{self.prefix}.response.body", "body": out})


class BenignMiddleware:
    """Applies the enabled benign variants to everything the app sends (module docstring)."""

    def __init__(self, app: ASGIApp, benign: BenignConfig) -> None:
        self.app = app
        self.cfg = benign

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if (
            scope["type"] not in ("http", "websocket")
            or not self.cfg.enabled
            or str(scope.get("path", "")).startswith(CONTROL_PREFIX)
        ):
            await self.app(scope, receive, send)
            return
        if scope["type"] == "http":
            await self.app(scope, receive, self._http(send))
        else:
            await self.app(scope, receive, self._websocket(send))

    def _http(self, send: Send) -> Send:
        rewriter = _HttpRewriter(send, self.cfg, "http")

        async def wrapped(message: Message) -> None:
            if not await rewriter(message):
                await send(message)

        return wrapped

    def _websocket(self, send: Send) -> Send:
        cfg = self.cfg
        denial = _HttpRewriter(send, cfg, "websocket.http")
        handshake_done = False

        async def wrapped(message: Message) -> None:
            nonlocal handshake_done
            kind = message["type"]
            if await denial(message):  # the upgrade refused with an HTTP response
                handshake_done = True
                return
            if not handshake_done and kind in ("websocket.accept", "websocket.close"):
                handshake_done = True
                if cfg.latency_s:
                    await asyncio.sleep(cfg.latency_s)
            elif kind == "websocket.send" and message.get("text") is not None:
                message = {**message, "text": _ws_text(message["text"], cfg)}
            await send(message)

        return wrapped


def _ws_text(text: str, cfg: BenignConfig) -> str:
    if not cfg.rewrites_json:
        return text
    try:
        value = json.loads(text)
    except ValueError:
        return text
    return json.dumps(transform_ws(value, cfg))
