"""The session machinery shared by the three streaming surfaces.

One connection, in order:

1. accept the upgrade (a close code cannot precede the HTTP 101);
2. override headers -> on error: ``error`` + 1008 (the emulator's own control, not a contract);
3. admission: key, model, quota -> ``error`` + the surface's close code (chosen alternative);
4. query parameters -> ``error`` + 1003;
5. a concurrency slot -> ``error`` + 4029 (or the chosen alternative); held until the
   connection ends, however it ends;
6. frames: binary = audio (zero-length ignored), empty text = end of stream, other text
   handed to the surface (STT: the first-frame configuration);
7. end of stream: drain, outstanding results, ``done``, close 1000.

Every non-1000 close is preceded by an ``error`` message (unless the
``no-error-before-close`` deviation is on). The audio's true duration is charged to the
quota when the connection ends. A surface subclasses :class:`Session`.
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
from harness.contract.clauses import velma_stream as V

from ..admission import Decision, Reason
from ..alternatives import STREAM_BAD_KEY, Choices, Dispute
from ..deviations import (
    DEVIATION_HEADER,
    DEVIATIONS,
    QUEUE_INSTEAD_OF_REJECT,
    WRONG_DETAIL,
    WRONG_DETAIL_TEXT,
    parse_deviation_header,
)
from ..faults import FAULT_HEADER, FaultPlan, parse_fault_header
from ..responses import DETAIL_CONCURRENCY, DETAIL_INVALID_KEY
from ..state import EmulatorState, RequestContext
from .params import BadParams, StreamParams, parse_params
from .rawdecode import ContainerBuffer, Mismatch, RawDecoder, Undecodable
from .tracker import HopTracker

# Streaming deviations the core registry may not list yet (see :func:`stream_context`).
CLOSE_1000_INSTEAD_OF_4002 = "close-1000-instead-of-4002"
OMIT_DONE = "omit-done"
NO_ERROR_BEFORE_CLOSE = "no-error-before-close"
PARTIALS_WITHOUT_FLAG = "partials-without-flag"
STREAM_DEVIATIONS = {
    CLOSE_1000_INSTEAD_OF_4002: "close 1000 instead of 4002 for undecodable streamed audio",
    OMIT_DONE: "close a stream without sending the `done` message",
    NO_ERROR_BEFORE_CLOSE: "close with an error code without sending an `error` message first",
    PARTIALS_WITHOUT_FLAG: "send partial_utterance messages without partial_results=true",
}

MISSING_KEY = Dispute("missing-key", 5, frozenset({"stt-stream", "svd-stream", "pii-stream"}))
SVD_CONCURRENCY = Dispute("concurrency-limit", 6, frozenset({"svd-stream"}))
SVD_QUOTA = Dispute("monthly-quota", 6, frozenset({"svd-stream"}))

DECODE_BATCH_S = 0.1  # raw audio is decoded in batches of this much (or at a result boundary)
CLOSE_OVERRIDE = 1008  # bad X-Emulator-* header: the emulator's own error
_QUEUE_POLL_S = 0.005


class Closed(Exception):
    """The session ended (after a close was sent, or the client went away)."""


def stream_context(
    state: EmulatorState, ws: WebSocket, surface: str, key: Any = None
) -> RequestContext:
    """Faults and deviations for one connection (``state.request_context`` plus the
    streaming deviation names, accepted in the header even if the core registry lacks them).
    Raises ``ValueError`` for a bad header."""
    cfg = state.config
    faults, deviations = state.switches.get()
    faults = cfg.faults + faults
    deviations = cfg.deviations | deviations
    if key is not None:
        faults = faults + key.faults
        deviations = deviations | key.deviations
    if cfg.allow_request_overrides:
        faults = faults + parse_fault_header(ws.headers.get(FAULT_HEADER))
        names = [n.strip() for n in (ws.headers.get(DEVIATION_HEADER) or "").split(",")]
        ours = {n for n in names if n in STREAM_DEVIATIONS and n not in DEVIATIONS}
        rest = ",".join(n for n in names if n and n not in ours)
        deviations = deviations | ours | parse_deviation_header(rest)
    return RequestContext(surface, frozenset(deviations), FaultPlan.of(faults))


def rejection_close(
    reason: Reason, surface: str, choices: Choices, has_key: bool
) -> tuple[int, str]:
    """Close code and ``error`` text for a refused connection."""
    if reason is Reason.BAD_KEY:
        o = choices.outcome(STREAM_BAD_KEY if has_key else MISSING_KEY, surface, "close_code")
        code = o.close_code if o and o.close_code else (4001 if surface == "stt-stream" else 4003)
        default = DETAIL_INVALID_KEY if code == 4001 else T.DETAIL_FORBIDDEN
        return code, (o.detail if o and o.detail else default)
    if reason is Reason.NO_MODEL_ACCESS:
        return 4003, T.DETAIL_FORBIDDEN
    dispute = SVD_QUOTA if reason is Reason.QUOTA else SVD_CONCURRENCY
    o = choices.outcome(dispute, surface, "close_code")
    code = o.close_code if o and o.close_code else 4029
    if code == 4003:
        return code, (o.detail if o and o.detail else T.DETAIL_FORBIDDEN)
    default = T.DETAIL_INSUFFICIENT_CREDITS if reason is Reason.QUOTA else DETAIL_CONCURRENCY
    return code, (o.detail if o and o.detail else default)


class Session:
    """One streaming connection. Subclasses implement :meth:`on_audio` and :meth:`on_end`."""

    surface: ClassVar[str]
    undecodable_text: ClassVar[str] = V.ERR_INVALID_INPUT_AUDIO

    def __init__(self, ws: WebSocket, state: EmulatorState, ctx: RequestContext,
                 params: StreamParams, decision: Decision) -> None:  # fmt: skip
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
        if self.ctx.faults.latency_s:
            await asyncio.sleep(self.ctx.faults.latency_s)
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
        try:
            while True:
                msg = await self.ws.receive()
                if msg["type"] == "websocket.disconnect":
                    raise Closed
                data = msg.get("bytes")
                if data is not None:
                    if data:
                        await self._audio(data)
                    continue
                text = msg.get("text")
                if text is None:
                    continue
                if text == "":
                    await self._end()
                await self.on_text(text)
                self.text_frames += 1
        except (Closed, WebSocketDisconnect):
            pass
        except Exception:  # noqa: BLE001 - anything else is an internal error
            if not self.closed:
                with contextlib.suppress(Exception):
                    await send_error_and_close(self.ws, self.ctx, 1011, T.DETAIL_INTERNAL)
        finally:
            seconds = self.tracker.duration_s if self.tracker else 0.0
            self.state.admission.charge(self.decision, seconds)

    async def _audio(self, data: bytes) -> None:
        self.frames_in += 1
        if self.ctx.faults.overload or self.ctx.faults.timeout:
            await self.fail(1011, T.DETAIL_INTERNAL)  # injected mid-stream internal failure
        if self.raw is not None:
            assert self.tracker is not None
            try:
                flush = self.wants_audio_at(self.raw.frames_after(len(data)))
                mono = self.raw.feed(data, flush=flush)
            except Mismatch:
                await self.mismatch()
            if mono.size:
                self.tracker.push(mono)
                await self.on_audio()
        else:
            assert self.container is not None
            try:
                self.container.feed(data)
            except Undecodable:
                await self.undecodable()

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
        assert self.tracker is not None
        self.tracker.close()
        await self.on_end()

    async def mismatch(self) -> None:
        code = 1000 if self.ctx.has(CLOSE_1000_INSTEAD_OF_4002) else 4002
        await self.fail(code, V.ERR_FORMAT_MISMATCH)

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
        ctx = stream_context(state, ws, surface)
    except ValueError as exc:
        await send_error_and_close(ws, None, CLOSE_OVERRIDE, str(exc))
        return
    choices = state.config.choices
    api_key = ws.query_params.get(T.VELMA_WS_AUTH_QUERY)
    decision = state.admission.check(api_key, surface)
    if decision.admitted:
        try:
            ctx = stream_context(state, ws, surface, decision.key)
        except ValueError as exc:
            await send_error_and_close(ws, None, CLOSE_OVERRIDE, str(exc))
            return
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
