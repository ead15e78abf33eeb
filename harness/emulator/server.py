"""Running the emulator: in the foreground (``serve``) or in a background thread (``start``).

uvicorn settings and why (the ``[server]`` table of the config sets the numbers):

* ``http`` = :class:`EmulatorHttpProtocol`, uvicorn's httptools implementation (about
  twice h11's rate on small requests) with one change: a request line plus headers over
  ``[server] max_header_bytes`` (64 KiB) is a 400 and the connection is closed, so a
  client streaming an endless header costs at most that much memory (plain httptools
  buffers a header without limit). ``h11_max_incomplete_event_size`` is set to the same
  number for anyone who switches ``http`` to ``h11``.
* ``ws`` = :class:`EmulatorWebSocketProtocol`, uvicorn's ``websockets-sansio``
  implementation (the legacy ``websockets`` one is deprecated) with two changes: a text
  frame that is not UTF-8 reaches the application (which answers ``error`` + 1003)
  instead of an RFC 1007 close with no ``error``; and a frame the WebSocket layer must
  refuse (1002 protocol error, 1009 over ``ws_max_size = [server] ws_max_message_bytes``,
  16 MiB) is preceded by an ``error`` message.
* ``timeout_keep_alive = [server] timeout_keep_alive_s`` (5 s): idle keep-alive
  connections are closed.
* ``limit_concurrency`` stays off (``0``) by default: over it uvicorn answers 503, which a
  conformance run would read as the documented overload. Set it to cap the sockets a
  flood of clients may hold.
* Slow clients: uvicorn has no timeout for a request whose headers or body arrive slowly.
  Every connection is a coroutine on one event loop, so a slow client blocks nobody else;
  what it holds is one socket, at most ``max_header_bytes`` of header, and (a slow upload)
  one concurrency slot of its organisation for the model it calls, as any in-flight
  request does. Multipart bodies are bounded separately (:mod:`harness.emulator.uploads`).
* An idle WebSocket (no frame for ``[server] ws_idle_timeout_s``, 30 s) gets ``error``
  then close 1011 (:mod:`harness.emulator.streaming.protocol`).
"""

from __future__ import annotations

import ipaddress
import json
import socket
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol
from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol
from websockets.frames import Frame, Opcode

from .app import create_app
from .benign import BenignConfig, transform_ws
from .config import EmulatorConfig, ServerConfig
from .state import EmulatorState
from .streaming.protocol import INVALID_TEXT

DEFAULT_MAX_HEAD_BYTES = 64 * 1024
UVICORN_OPTIONS: dict[str, Any] = {
    "loop": "uvloop",
    "http": "harness.emulator.server:EmulatorHttpProtocol",
    "ws": "harness.emulator.server:EmulatorWebSocketProtocol",
}
_PROTOCOL_ERRORS = {1002: "Malformed WebSocket frame.", 1009: "Message too big."}  # our own


class EmulatorHttpProtocol(HttpToolsProtocol):
    """uvicorn's httptools protocol with a cap on the bytes before the headers end."""

    _head_bytes = 0
    _in_head = False

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._head_bytes = 0
        self._in_head = True

    def on_headers_complete(self) -> None:
        self._in_head = False
        super().on_headers_complete()

    def data_received(self, data: bytes) -> None:
        if self._in_head or self._head_bytes == 0:
            self._head_bytes += len(data)
            limit = self.config.h11_max_incomplete_event_size or DEFAULT_MAX_HEAD_BYTES
            if self._in_head and self._head_bytes > limit:
                self.send_400_response("Request header too large.")
                return
        super().data_received(data)


class EmulatorWebSocketProtocol(WebSocketsSansIOProtocol):
    """uvicorn's sans-I/O WebSocket protocol, with an ``error`` message for every close."""

    def send_receive_event_to_app(self) -> None:
        if self.curr_msg_data_type == "text" and not self.close_sent:
            try:
                b"".join(self.frames).decode()
            except UnicodeDecodeError:
                self.frames = []
                self.queue.put_nowait({"type": "websocket.receive", INVALID_TEXT: True})  # type: ignore[arg-type,misc]
                if not self.read_paused:
                    self.read_paused = True
                    self.transport.pause_reading()
                return
        super().send_receive_event_to_app()

    async def send(self, message: Any) -> None:
        await super().send(message)
        if message["type"] == "websocket.http.response.body" and not message.get("more_body"):
            self.handshake_complete = True  # a denial response ends the handshake (no log)

    def _benign(self) -> BenignConfig:
        state = getattr(getattr(self.config.app, "state", None), "emulator", None)
        return getattr(getattr(state, "config", None), "benign", None) or BenignConfig()

    def handle_parser_exception(self) -> None:
        sent = self.conn.close_sent
        if self.handshake_complete and not self.close_sent and sent is not None:
            text = _PROTOCOL_ERRORS.get(sent.code)
            if text is not None:  # goes out before the close frame the parser has queued
                message = transform_ws({"type": "error", "error": text}, self._benign())
                body = json.dumps(message).encode()
                self.transport.write(Frame(Opcode.TEXT, body).serialize(mask=False))
        super().handle_parser_exception()


def uvicorn_options(server: ServerConfig) -> dict[str, Any]:
    """Every uvicorn setting the emulator makes (see the module docstring)."""
    return {
        **UVICORN_OPTIONS,
        "h11_max_incomplete_event_size": server.max_header_bytes,
        "timeout_keep_alive": server.timeout_keep_alive_s,
        "limit_concurrency": server.limit_concurrency or None,
        "ws_max_size": server.ws_max_message_bytes,
    }


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _uvicorn_config(app: Any, host: str, port: int, log_level: str) -> uvicorn.Config:
    state: EmulatorState = app.state.emulator
    return uvicorn.Config(
        app,
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        **uvicorn_options(state.config.server),
    )


class _Server(uvicorn.Server):
    """A uvicorn server that calls ``on_ready`` once its socket is bound."""

    def __init__(self, config: uvicorn.Config, on_ready: Callable[[], None] | None) -> None:
        super().__init__(config)
        self._on_ready = on_ready

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets=sockets)
        if self.started and self._on_ready is not None:
            self._on_ready()


class BindError(OSError):
    """The emulator could not listen on the requested address."""


def serve(
    host: str,
    port: int,
    config: EmulatorConfig | None = None,
    *,
    on_ready: Callable[[EmulatorState], None] | None = None,
    log_level: str = "warning",
) -> None:
    """Serve until interrupted; ``on_ready(state)`` runs once the port is bound."""
    app = create_app(config)
    state: EmulatorState = app.state.emulator
    ready = (lambda: on_ready(state)) if on_ready is not None else None
    try:
        _Server(_uvicorn_config(app, host, port, log_level), ready).run()
    except SystemExit as exc:  # uvicorn exits when it cannot bind
        if exc.code:
            raise BindError(f"cannot listen on {host}:{port}") from None


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


@dataclass
class RunningEmulator:
    base_url: str
    state: EmulatorState
    stop: Callable[[], None]

    @property
    def token(self) -> str:
        return self.state.token


def start(
    config: EmulatorConfig | None = None, *, host: str = "127.0.0.1", timeout_s: float = 10.0
) -> RunningEmulator:
    """Start uvicorn on a free loopback port in a daemon thread; returns its URL and ``stop``."""
    app = create_app(config)
    port = free_port(host)
    server = uvicorn.Server(_uvicorn_config(app, host, port, "warning"))
    server.install_signal_handlers = lambda: None  # type: ignore[method-assign]
    thread = threading.Thread(target=server.run, name=f"emulator-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + timeout_s
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            server.should_exit = True
            raise RuntimeError(f"the emulator did not start on {host}:{port}")
        time.sleep(0.01)

    def stop() -> None:
        server.should_exit = True
        thread.join(timeout=timeout_s)

    return RunningEmulator(f"http://{host}:{port}", app.state.emulator, stop)
