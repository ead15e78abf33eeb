"""The KugelAudio WebSocket surfaces: ``/ws/tts`` and ``/ws/tts/stream``.

Connection set-up, in order (the upgrade is accepted first: no close code can precede
the 101):

1. bad ``X-Emulator-*`` header -> close 1008 (the emulator's own control);
2. key (``api_key`` query, ``Authorization: Bearer`` or ``x-api-key``) -> UNAUTHORIZED
   frame (code 401), close 4001; the ``forbidden`` role: its 403 frame, close 4001;
3. an organisation without credits: contradiction 14 -- INSUFFICIENT_CREDITS frame (402)
   then close 4003 (``close-4003``), or the upgrade refused with HTTP 402 and the envelope
   (``http-402``).

Each ``/ws/tts`` request (one JSON message) runs one cycle: request rate (frame 429,
close 4029), validation (frame 400, socket stays open), character limit (frame 429
"Request exceeds ...", socket stays open), voice (frame 404, open), credits (frame 402,
close 4003), faults ``overload`` / ``model-unavailable`` (frame 503, close 4500) and
``generation-failed`` (frame 500, close 4000); then audio chunks (base64 PCM16 with
``idx``, ``sr``, ``samples``), ``word_timestamps`` when asked, and ``final`` with usage.
``/ws/tts/stream`` takes a config message, text pieces and a flush per turn (the same
checks on the flushed text), ``cancel``, ``close`` / ``end_session`` and ``close_socket``.

Every close the application makes for an error follows the error frame, unless the
``kugel-no-error-frame`` deviation is on. Idle sockets (no message for
``[server] ws_idle_timeout_s``) are closed 1000.
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import json
import time
from collections.abc import Awaitable, Callable
from typing import Any

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from harness.contract import kugel_api as api

from ..alternatives import KUGEL_WS_CREDITS
from ..deviations import KUGEL_NO_ERROR_FRAME
from ..state import EmulatorState, OverrideError, request_context
from ..wire import GENERATION_FAILED
from . import audio
from . import errors as E
from .store import Caller, KugelStore

SURFACE = "kugel-ws"
CLOSE_OVERRIDE = 1008
CENTS_PER_SECOND = 0.5  # our own figure for the usage block


class Closed(Exception):
    """The socket was closed (by us after an error, or by the client)."""


class Conn:
    def __init__(
        self, ws: WebSocket, state: EmulatorState, store: KugelStore, caller: Caller
    ) -> None:
        self.ws = ws
        self.state = state
        self.store = store
        self.caller = caller
        self.settings: dict[str, Any] = {}

    async def send(self, body: dict[str, Any]) -> None:
        try:
            await self.ws.send_text(json.dumps(body))
        except Exception:  # noqa: BLE001 - the client went away
            raise Closed from None

    async def error(self, err: E.KugelError, close: int | None = None) -> None:
        """The error frame; then, when ``close`` is set, the close (and :class:`Closed`)."""
        await send_error(self.ws, err, self.state, self.caller.deviations, close)
        if close is not None:
            raise Closed

    async def receive(self) -> dict[str, Any] | None:
        """The next JSON object; ``None`` after answering a malformed message."""
        idle = self.state.config.server.ws_idle_timeout_s or None
        try:
            msg = await asyncio.wait_for(self.ws.receive(), idle)
        except TimeoutError:
            with contextlib.suppress(Exception):
                await self.ws.close(1000)
            raise Closed from None
        if msg["type"] == "websocket.disconnect":
            raise Closed
        text = msg.get("text")
        try:
            body = json.loads(text) if text is not None else None
        except (ValueError, RecursionError):
            body = None
        if not isinstance(body, dict):
            await self.error(E.KugelError(E.INVALID_REQUEST))
            return None
        return body

    # ------------------------------------------------------------------ one cycle

    def options(self, body: dict[str, Any]) -> dict[str, Any]:
        return {**self.settings, **body}

    def validate(self, req: dict[str, Any], *, need_voice: bool = True) -> tuple[str, int]:
        text = req.get("text")
        if not isinstance(text, str) or not text.strip():
            raise E.KugelError(E.TEXT_REQUIRED)
        if len(text) > api.TEXT_MAX_CHARS:
            raise E.KugelError(E.INVALID_REQUEST)
        voice = req.get("voice_id")
        if need_voice and voice is None and E.missing_voice_code(self.state.config.choices):
            raise E.KugelError(E.MISSING_VOICE)
        if (need_voice and voice is None) or isinstance(voice, bool | float | list | dict):
            raise E.KugelError(E.INVALID_REQUEST)
        rate = req.get("sample_rate", api.DEFAULT_SAMPLE_RATE)
        if rate not in api.WS_SAMPLE_RATES or isinstance(rate, bool):
            raise E.KugelError(E.INVALID_REQUEST)
        for name, (lo, hi) in (
            ("cfg_scale", api.CFG_SCALE_RANGE),
            ("temperature", api.TEMPERATURE_RANGE),
            ("speed", api.SPEED_RANGE),
            ("max_new_tokens", api.MAX_NEW_TOKENS_RANGE),
        ):
            v = req.get(name)
            if v is not None and (
                isinstance(v, bool) or not isinstance(v, int | float) or not lo <= v <= hi
            ):
                raise E.KugelError(E.INVALID_REQUEST)
        ids = req.get("dictionary_ids")
        if ids is not None and (
            not isinstance(ids, list)
            or len(ids) > api.DICTIONARY_IDS_MAX
            or not all(isinstance(i, int) for i in ids)
        ):
            raise E.KugelError(E.INVALID_REQUEST)
        codec_rate = rate
        fmt = req.get("output_format")
        if fmt is not None:
            try:
                codec, codec_rate = audio.parse_output(fmt if isinstance(fmt, str) else "?", rate)
            except audio.BadFormat:
                raise E.KugelError(E.INVALID_REQUEST) from None
            if codec != "pcm":
                raise E.KugelError(E.INVALID_REQUEST)  # chunks are PCM16 here
        return text, codec_rate

    async def cycle(
        self, req: dict[str, Any], *, with_usage: bool, need_voice: bool = True
    ) -> None:
        store, caller = self.store, self.caller
        try:
            store.count_request(caller)
        except E.KugelError as err:
            await self.error(err, 4029)
        try:
            text, rate = self.validate(req, need_voice=need_voice)
            store.check_length(text)
            if req.get("voice_id") is not None:
                store.voice(caller, req["voice_id"])
            project = caller.project
            spoken = store.apply_dictionaries(
                project, text, req.get("dictionary_ids"), req.get("language")
            )
        except E.KugelError as err:
            if err.status >= 500:  # fetch-voice-failed
                await self.error(err, 4000)
            await self.error(err)
            return
        try:
            store.check_credits(caller, len(text))
        except E.KugelError as err:
            await self.error(err, 4003)
        try:
            store.model_faults(caller)
        except E.KugelError as err:
            await self.error(err, 4500)
        if GENERATION_FAILED in caller.faults:
            await self.error(E.KugelError(E.GENERATION_FAILED), 4000)
        started = time.perf_counter()
        samples = audio.synthesize(spoken, rate, float(req.get("speed") or 1.0))
        step = max(1, rate * store.config.chunk_ms // 1000)
        chunks = 0
        for i in range(0, len(samples), step):
            part = samples[i : i + step]
            await self.send(
                {
                    "audio": base64.b64encode(part.tobytes()).decode(),
                    "enc": api.AUDIO_CHUNK_ENCODING,
                    "idx": chunks,
                    "sr": rate,
                    "samples": int(len(part)),
                }
            )
            chunks += 1
        if req.get("word_timestamps"):
            await self.send({"word_timestamps": _words(text, rate, len(samples))})
        store.charge(caller, len(text))
        dur_ms = 1000.0 * len(samples) / rate
        gen_ms = 1000.0 * (time.perf_counter() - started)
        final: dict[str, Any] = {
            "final": True,
            "chunks": chunks,
            "total_samples": int(len(samples)),
            "dur_ms": dur_ms,
            "gen_ms": gen_ms,
            "rtf": gen_ms / dur_ms if dur_ms else 0.0,
        }
        if with_usage:
            final["usage"] = {
                "audio_seconds": dur_ms / 1000.0,
                "characters": len(text),
                "cost_cents": round(dur_ms / 1000.0 * CENTS_PER_SECOND, 4),
                "currency": "eur",
                "model_id": str(req.get("model_id") or "kugel-3"),
                "cost_unavailable": False,
            }
        await self.send(final)

    async def update_settings(self, body: dict[str, Any]) -> None:
        upd = body.get("update_settings")
        if (
            not isinstance(upd, dict)
            or any(k in api.UPDATE_SETTINGS_REJECTED for k in upd)
            or any(k not in api.UPDATE_SETTINGS_FIELDS for k in upd)
        ):
            await self.error(E.KugelError(E.INVALID_REQUEST))
            return
        self.settings.update(upd)
        await self.send({"settings_updated": True, "settings": dict(self.settings)})


def _words(text: str, rate: int, total: int) -> list[dict[str, Any]]:
    out, pos = [], 0
    per_char = total / max(1, len(text)) / rate * 1000.0
    for word in text.split():
        start = text.index(word, pos)
        pos = start + len(word)
        out.append(
            {
                "word": word,
                "start_ms": int(start * per_char),
                "end_ms": int(pos * per_char),
                "char_start": start,
                "char_end": pos,
                "score": 1.0,
            }
        )
    return out


async def send_error(
    ws: WebSocket,
    err: E.KugelError,
    state: EmulatorState,
    deviations: frozenset[str],
    close: int | None,
) -> None:
    if close is None or KUGEL_NO_ERROR_FRAME not in deviations:
        body = E.ws_frame(err, state.config.choices, deviations, close)
        try:
            await ws.send_text(json.dumps(body))
        except Exception:  # noqa: BLE001
            return
    if close is not None:
        with contextlib.suppress(Exception):
            await ws.close(close)


# --------------------------------------------------------------------------- endpoints


async def _open(ws: WebSocket, state: EmulatorState, store: KugelStore) -> Conn | None:
    """Admit a connection (see the module docstring); ``None`` when it was refused."""
    try:
        ctx = request_context(state, ws, SURFACE)
    except OverrideError as exc:
        await ws.accept()
        with contextlib.suppress(Exception):
            await ws.send_text(json.dumps({"detail": str(exc), "emulator": True}))
            await ws.close(CLOSE_OVERRIDE)
        return None
    devs = ctx.deviations
    try:
        caller = store.caller(store.key_of(ws, query=True), devs, ctx.faults.kugel)
    except E.KugelError as err:
        await ws.accept()
        await send_error(ws, err, state, devs, 4001)
        return None
    if store.config.credits.get(caller.role, 0) <= store.used_chars[caller.role]:
        err = E.KugelError(E.NO_CREDITS)
        o = state.config.choices.outcome(KUGEL_WS_CREDITS, SURFACE, "status")
        if o is not None and o.status == 402:
            body = E.ws_frame(err, state.config.choices, devs, None)
            await ws.send_denial_response(JSONResponse(body, status_code=402))
            return None
        await ws.accept()
        await send_error(ws, err, state, devs, 4003)
        return None
    await ws.accept()
    if caller.role == "forbidden":
        await send_error(ws, E.KugelError(E.FORBIDDEN), state, devs, 4001)
        return None
    conn = Conn(ws, state, store, caller)
    return conn


Handler = Callable[[Conn, dict[str, Any]], Awaitable[None]]


async def _session(ws: WebSocket, state: EmulatorState, store: KugelStore, handle: Handler) -> None:
    """Open the socket, then answer its messages until it closes: ``update_settings`` and
    ``close_socket`` (which both endpoints take) here, every other JSON object by ``handle``."""
    conn = await _open(ws, state, store)
    if conn is None:
        return
    try:
        while True:
            body = await conn.receive()
            if body is None:
                continue
            if "update_settings" in body:
                await conn.update_settings(body)
                continue
            if body.get("close_socket") is True:
                await ws.close(1000)
                return
            await handle(conn, body)
    except (Closed, WebSocketDisconnect):
        return
    except Exception:  # noqa: BLE001 - never leave without a close
        await send_error(ws, E.KugelError(E.GENERATION_FAILED), state, conn.caller.deviations, 4000)


async def _tts_request(conn: Conn, body: dict[str, Any]) -> None:
    """``/ws/tts``: every message is one request."""
    await conn.cycle(conn.options(body), with_usage=True)


def _tts_endpoint(state: EmulatorState, store: KugelStore):  # noqa: ANN202
    async def endpoint(ws: WebSocket) -> None:
        await _session(ws, state, store, _tts_request)

    return endpoint


_STREAM_CONFIG = {
    "voice_id",
    "model_id",
    "cfg_scale",
    "temperature",
    "sample_rate",
    "normalize",
    "language",
    "word_timestamps",
    "flush_timeout_ms",
    "max_buffer_length",
    "chunk_length_schedule",
    "auto_mode",
    "speed",
    "dictionary_ids",
}


def _stream_endpoint(state: EmulatorState, store: KugelStore):  # noqa: ANN202
    async def endpoint(ws: WebSocket) -> None:
        buffer: list[str] = []  # the text pieces of the current turn

        async def turn(conn: Conn, body: dict[str, Any]) -> None:
            if body.get("cancel") is True or any(
                body.get(k) is True for k in api.STREAM_END_SESSION_KEYS
            ):
                buffer.clear()
                return
            if "text" in body:
                if not isinstance(body["text"], str):
                    await conn.error(E.KugelError(E.INVALID_REQUEST))
                    return
                buffer.append(body["text"])
            elif set(body) <= _STREAM_CONFIG and body:
                conn.settings.update(body)
                return
            elif body.get("flush") is not True:
                await conn.error(E.KugelError(E.INVALID_REQUEST))
                return
            if body.get("flush") is True:
                text = "".join(buffer)
                buffer.clear()
                await conn.cycle(
                    {**conn.settings, "text": text}, with_usage=False, need_voice=False
                )

        await _session(ws, state, store, turn)

    return endpoint


def routes(state: EmulatorState, store: KugelStore) -> list[BaseRoute]:
    return [
        WebSocketRoute(api.WS_TTS_PATH, _tts_endpoint(state, store), name="kugel ws tts"),
        WebSocketRoute(api.WS_STREAM_PATH, _stream_endpoint(state, store), name="kugel ws stream"),
    ]
