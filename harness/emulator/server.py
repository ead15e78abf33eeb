"""Running the emulator: in the foreground (``serve``) or in a background thread (``start``)."""

from __future__ import annotations

import ipaddress
import socket
import threading
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass

import uvicorn

from .app import create_app
from .config import EmulatorConfig
from .state import EmulatorState

UVICORN_OPTIONS = {"loop": "uvloop", "http": "httptools", "ws": "websockets"}
warnings.filterwarnings("ignore", message="The `websockets` implementation is deprecated")


def is_loopback_host(host: str) -> bool:
    """True for ``localhost`` and loopback addresses (127.0.0.0/8, ::1)."""
    if host.lower() == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _uvicorn_config(app: object, host: str, port: int, log_level: str) -> uvicorn.Config:
    return uvicorn.Config(
        app,  # type: ignore[arg-type]
        host=host,
        port=port,
        log_level=log_level,
        access_log=False,
        lifespan="off",
        **UVICORN_OPTIONS,
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
