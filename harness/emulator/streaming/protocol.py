"""The session machinery shared by the three streaming surfaces.

One connection, in order:

1. accept the upgrade (a close code cannot precede the HTTP 101);
2. override headers -> on error: ``error`` + 1008 (the emulator's own control, not a contract);
   the ``validation-unavailable`` fault -> ``error`` + 4003 (the key cannot be checked);
3. admission: key, model, quota -> ``error`` + the surface's close code (chosen alternative);
4. query parameters -> ``error`` + 1003;
5. a concurrency slot -> ``error`` + 4029 (or the chosen alternative); held until the
   connection ends, however it ends;
6. frames: binary = audio (zero-length ignored), empty text = end of stream, other text
   handed to the surface (STT: the first-frame configuration); a text frame that is not
   UTF-8 -> ``error`` + 1003 (see below); frames after end of stream are never read;
7. end of stream: drain, outstanding results, ``done``, close 1000.

Every non-1000 close the application makes is preceded by an ``error`` message (unless
the ``no-error-before-close`` deviation is on), and its code is one of the documented
ones (1000, 1003, 1011, 4001, 4002, 4003, 4029) or the emulator's own 1008 for a bad
``X-Emulator-*`` header. Choices made where the documents are silent:

* A text frame that is not valid UTF-8: RFC 6455 says fail the connection (1007, which
  the documents do not list). The emulator's uvicorn protocol
  (:mod:`harness.emulator.server`) hands it to the application marked
  :data:`INVALID_TEXT`, and the session answers ``error`` + 1003 (unsupported data, the
  documented code for bad input other than audio).
* Idle connections: no frame for ``[server] ws_idle_timeout_s`` seconds (default 30,
  0 = never) while the session waits for one -> ``error`` + 1011 (:data:`CLOSE_IDLE`).
* Faults: ``overload`` / ``timeout`` / ``internal-error`` / ``upstream-failure`` ->
  ``error`` + 1011 on the first audio frame;
  ``internal-midstream=...`` -> ``error`` + 1011 after N seconds of audio or on the
  M-th frame (see :mod:`harness.emulator.faults`).
* Anything unexpected -> ``error`` + 1011.
* Protocol-level failures below the application (a frame over ``ws_max_message_bytes``:
  1009; a malformed frame: 1002) are closed by the WebSocket layer with the RFC code, after
  an ``error`` message the server protocol writes first.

The audio's true duration is charged to the quota when the connection ends. A surface
subclasses :class:`Session`.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
from collections.abc import Callable
from typing import Any, ClassVar

from starlette.routing import WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

from harness.contract import tables as T

from ..admission import Decision, Reason
from ..alternatives import (
    STREAM_BAD_KEY,
    STREAM_CONCURRENCY,
    STREAM_MISSING_KEY,
    STREAM_QUOTA,
    Choices,
)
from ..deviations import (
    CLOSE_1000_INSTEAD_OF_4002,
    HANG_AFTER_END,
    NO_ERROR_BEFORE_CLOSE,
    OMIT_DONE,
    PARTIALS_WITHOUT_FLAG,
    QUEUE_INSTEAD_OF_REJECT,
    STREAM_DEVIATIONS,
    WRONG_DETAIL,
    WRONG_DETAIL_TEXT,
)
from ..responses import DETAIL_CONCURRENCY, DETAIL_INVALID_KEY
from ..state import EmulatorState, OverrideError, RequestContext, request_context
from .params import BadParams, StreamParams, parse_params
from .rawdecode import ContainerBuffer, Mismatch, RawDecoder, Undecodable, WavLayout
from .tracker import HopTracker

__all__ = [
    "CLOSE_1000_INSTEAD_OF_4002",
    "NO_ERROR_BEFORE_CLOSE",
    "OMIT_DONE",
    "PARTIALS_WITHOUT_FLAG",
    "STREAM_DEVIATIONS",
    "Session",
    "websocket_route",
]

DECODE_BATCH_S = 0.1  # raw audio is decoded in batches of this much (or at a result boundary)
CLOSE_OVERRIDE = 1008  # bad X-Emulator-* header: the emulator's own error
CLOSE_IDLE = 1011  # no frame within ws_idle_timeout_s
CLOSE_UNSUPPORTED = 1003  # a text frame that is not UTF-8
# Key the server protocol sets on a ``websocket.receive`` whose text frame is not UTF-8.
INVALID_TEXT = "emulator.invalid_utf8"
ERR_TEXT_NOT_UTF8 = "Text frames must be UTF-8 encoded."  # our own wording
ERR_IDLE = "No data received for {:g} seconds; closing the idle connection."  # our own
_QUEUE_POLL_S = 0.005


class Closed(Exception):
    """The session ended (after a close was sent, or the client went away)."""


def rejection_close(
    reason: Reason, surface: str, choices: Choices, has_key: bool
) -> tuple[int, str]:
    """Close code and ``error`` text for a refused connection."""
    if reason is Reason.BAD_KEY:
        dispute = STREAM_BAD_KEY if has_key else STREAM_MISSING_KEY
        o = choices.outcome(dispute, surface, "close_code")
        code = o.close_code if o and o.close_code else (4001 if surface == "stt-stream" else 4003)
        default = DETAIL_INVALID_KEY if code == 4001 else T.DETAIL_FORBIDDEN
        return code, (o.detail if o and o.detail else default)
    if reason is Reason.NO_MODEL_ACCESS:
        return 4003, T.DETAIL_FORBIDDEN
    dispute = STREAM_QUOTA if reason is Reason.QUOTA else STREAM_CONCURRENCY
    o = choices.outcome(dispute, surface, "close_code")
    code = o.close_code if o and o.close_code else 4029
    if code == 4003:
        return code, (o.detail if o and o.detail else T.DETAIL_FORBIDDEN)
    default = T.DETAIL_INSUFFICIENT_CREDITS if reason is Reason.QUOTA else DETAIL_CONCURRENCY
    return code, (o.detail if o and o.detail else default)


class Session:
    """One streaming connection. Subclasses implement :meth:`on_audio` and :meth:`on_end`."""

    surface: ClassVar[str]
    undecodable_text: ClassVar[str] = T.ERR_INVALID_INPUT_AUDIO

    def __init__(
        self,
        ws: WebSocket,
        state: EmulatorState,
        ctx: RequestContext,
        params: StreamParams,
        decision: Decision,
    ) -> None:
        self.ws = ws
        self.state = state
        self.ctx = ctx
        self.params = params
        self.decision = decision
        self.values: dict[str, Any] = dict(params.values)
        raw = params.raw
        self.raw: RawDecoder | None = None
        self.container: ContainerBuffer | None = None
        self.tracker: HopTracker | None = None
        if raw is not None:
            assert params.num_channels is not None and params.sample_rate is not None
            batch = int(params.sample_rate * DECODE_BATCH_S)
            self.raw = RawDecoder(raw, params.num_channels, batch)
            self.tracker = self.new_tracker(params.sample_rate)
        else:
            self.container = ContainerBuffer(params.audio_format)
        self.frames_in = 0  # non-empty binary frames received
        self.text_frames = 0
        self.closed = False

    # ------------------------------------------------------------------ sending

    async def send_json(self, body: dict[str, Any]) -> None:
        delay = self.ctx.faults.latency_s
        if self.decision.org is not None:  # [processing] knee_*: latency that grows with load
            load = self.state.admission.in_flight(self.decision.org.name, self.decision.surface)
            delay += self.state.processing.load_delay(load)
        if delay:
            await asyncio.sleep(delay)
        try:
            await self.ws.send_text(json.dumps(body))
        except Exception:  # noqa: BLE001 - the client went away
            raise Closed from None

    async def send_bytes(self, data: bytes) -> None:
        try:
            await self.ws.send_bytes(data)
        except Exception:  # noqa: BLE001
            raise Closed from None

    async def fail(self, code: int, text: str) -> None:
        """``error`` then close ``code``; ends the session."""
        await send_error_and_close(self.ws, self.ctx, code, text)
        self.closed = True
        raise Closed

    async def finish(self, done: dict[str, Any], after: bytes | None = None) -> None:
        """``done`` (and an optional binary frame), then close 1000."""
        if self.ctx.has(HANG_AFTER_END):  # silent and open until the client goes away
            while (await self.ws.receive())["type"] != "websocket.disconnect":
                pass
            raise Closed
        if not self.ctx.has(OMIT_DONE):
            await self.send_json(done)
            if after is not None:
                await self.send_bytes(after)
        await _close(self.ws, 1000)
        self.closed = True
        raise Closed

    # ------------------------------------------------------------------ surface hooks

    def new_tracker(self, sample_rate: int) -> HopTracker:
        return HopTracker(sample_rate)

    def wants_audio_at(self, num_samples: int) -> bool:
        """Decode at once when ``num_samples`` would complete a result (default: never)."""
        return False

    async def on_text(self, text: str) -> None:
        """A non-empty text frame (default: ignored)."""

    async def on_audio(self) -> None:
        """New audio is in :attr:`tracker` (raw streams only, as it arrives)."""

    async def on_end(self) -> None:
        """End of stream: everything decoded; send the rest and :meth:`finish`."""
        raise NotImplementedError

    # ------------------------------------------------------------------ the loop

    async def run(self) -> None:
        idle = self.state.config.server.ws_idle_timeout_s
        try:
            try:
                async with asyncio.timeout(None) as deadline:
                    await self._loop(deadline, idle)
            except TimeoutError:
                if not deadline.expired():
                    raise
                await self.fail(CLOSE_IDLE, ERR_IDLE.format(idle))
        except (Closed, WebSocketDisconnect):
            pass
        except Exception:  # noqa: BLE001 - anything else is an internal error
            if not self.closed:
                with contextlib.suppress(Exception):
                    await send_error_and_close(self.ws, self.ctx, 1011, T.DETAIL_INTERNAL)
        finally:
            seconds = self.tracker.duration_s if self.tracker else 0.0
            self.state.admission.charge(self.decision, seconds)

    async def _loop(self, deadline: asyncio.Timeout, idle: float) -> None:
        """Frames until the session ends (raises :class:`Closed`)."""
        loop = asyncio.get_running_loop()
        while True:
            if idle:
                deadline.reschedule(loop.time() + idle)
            msg = await self.ws.receive()
            if idle:
                deadline.reschedule(None)
            if msg["type"] == "websocket.disconnect":
                raise Closed
            data = msg.get("bytes")
            if data is not None:
                if data:
                    await self._audio(data)
                continue
            text = msg.get("text")
            if text is None:
                if msg.get(INVALID_TEXT):
                    await self.fail(CLOSE_UNSUPPORTED, ERR_TEXT_NOT_UTF8)
                continue
            if text == "":
                await self._end()
            await self.on_text(text)
            self.text_frames += 1

    async def _audio(self, data: bytes) -> None:
        self.frames_in += 1
        fail_at = self.ctx.faults.stream_fail_frame
        if fail_at is not None and self.frames_in >= fail_at:
            await self.fail(1011, T.DETAIL_INTERNAL)  # injected mid-stream internal failure
        if self.raw is None:
            assert self.container is not None
            try:
                layout = self.container.feed(data)
            except Undecodable:
                await self.undecodable()
            if layout is None:
                return
            data = self._start_wav(layout)
        await self._raw_audio(data)
        await self._audio_fault()

    def _start_wav(self, layout: WavLayout) -> bytes:
        """A WAV header is in: decode the rest as the raw format it declares."""
        assert self.container is not None
        payload = self.container.data()[layout.data_offset :]
        batch = int(layout.rate * DECODE_BATCH_S)
        self.raw = RawDecoder(
            layout.fmt, layout.channels, batch, data_bytes=layout.data_bytes, strict=False
        )
        self.tracker = self.new_tracker(layout.rate)
        self.container = None
        return payload

    async def _raw_audio(self, data: bytes) -> None:
        assert self.raw is not None and self.tracker is not None
        try:
            flush = self.wants_audio_at(self.raw.frames_after(len(data)))
            mono = self.raw.feed(data, flush=flush)
        except Mismatch:
            await self.mismatch()
        if mono.size:
            self.tracker.push(mono)
            await self.on_audio()

    async def _audio_fault(self) -> None:
        """``internal-midstream=Ns``: fail once N seconds of audio are in."""
        limit = self.ctx.faults.midstream_audio_s
        if limit is not None and self.tracker is not None and self.tracker.duration_s >= limit:
            await self.fail(1011, T.DETAIL_INTERNAL)

    async def _end(self) -> None:
        if self.raw is not None:
            assert self.tracker is not None
            try:
                mono = self.raw.feed(b"", flush=True)
                self.tracker.push(mono)
                await self.on_audio()
                self.raw.finish()
            except Mismatch:
                await self.mismatch()
        else:
            assert self.container is not None
            try:
                rate, mono = await asyncio.to_thread(self.container.decode)
            except Undecodable:
                await self.undecodable()
            self.tracker = self.new_tracker(rate)
            self.tracker.push(mono)
            await self.on_audio()
        await self._audio_fault()
        assert self.tracker is not None
        self.tracker.close()
        await self.on_end()

    async def mismatch(self) -> None:
        code = 1000 if self.ctx.has(CLOSE_1000_INSTEAD_OF_4002) else 4002
        await self.fail(code, T.ERR_FORMAT_MISMATCH)

    async def undecodable(self) -> None:
        code = 1000 if self.ctx.has(CLOSE_1000_INSTEAD_OF_4002) else 4002
        await self.fail(code, self.undecodable_text)


async def _close(ws: WebSocket, code: int) -> None:
    with contextlib.suppress(Exception):  # already gone
        await ws.close(code)


async def send_error_and_close(
    ws: WebSocket, ctx: RequestContext | None, code: int, text: str
) -> None:
    if ctx is None or not ctx.has(NO_ERROR_BEFORE_CLOSE):
        if ctx is not None and ctx.has(WRONG_DETAIL):
            text = WRONG_DETAIL_TEXT
        try:
            await ws.send_text(json.dumps({"type": "error", "error": text}))
        except Exception:  # noqa: BLE001
            return
    await _close(ws, code)


# ---------------------------------------------------------------------- the endpoint


SessionFactory = Callable[..., Session]


def websocket_route(surface: str, factory: type[Session], state: EmulatorState) -> WebSocketRoute:
    async def endpoint(ws: WebSocket) -> None:
        await serve_connection(ws, surface, factory, state)

    return WebSocketRoute(T.VELMA_PATHS[surface], endpoint, name=surface)


async def serve_connection(
    ws: WebSocket, surface: str, factory: type[Session], state: EmulatorState
) -> None:
    await ws.accept()
    try:
        await _serve(ws, surface, factory, state)
    except Exception:  # noqa: BLE001 - never leave without a close frame
        with contextlib.suppress(Exception):
            await send_error_and_close(ws, None, 1011, T.DETAIL_INTERNAL)


async def _serve(ws: WebSocket, surface: str, factory: type[Session], state: EmulatorState) -> None:
    api_key = ws.query_params.get(T.VELMA_WS_AUTH_QUERY)
    decision = state.admission.check(api_key, surface)
    try:
        ctx = request_context(state, ws, surface, decision.key if decision.admitted else None)
    except OverrideError as exc:
        await send_error_and_close(ws, None, CLOSE_OVERRIDE, str(exc))
        return
    if ctx.faults.validation_unavailable:  # the key cannot be checked: refused, retry later
        await send_error_and_close(ws, ctx, 4003, T.DETAIL_CANNOT_VALIDATE)
        return
    choices = state.config.choices
    if not decision.admitted:
        assert decision.reason is not None
        code, text = rejection_close(decision.reason, surface, choices, bool(api_key))
        await send_error_and_close(ws, ctx, code, text)
        return
    try:
        params = parse_params(surface, ws.query_params, choices)
    except BadParams as exc:
        await send_error_and_close(ws, ctx, 1003, str(exc))
        return
    org = decision.org
    assert org is not None
    while not state.admission.try_acquire(org, surface):
        if not ctx.has(QUEUE_INSTEAD_OF_REJECT) or org.limit_for(surface) == 0:
            code, text = rejection_close(Reason.CONCURRENCY, surface, choices, True)
            await send_error_and_close(ws, ctx, code, text)
            return
        await asyncio.sleep(_QUEUE_POLL_S)
    try:
        await factory(ws, state, ctx, params, decision).run()
    finally:
        state.admission.release(org, surface)
