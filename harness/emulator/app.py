"""``create_app(config)``: every emulated surface and the control endpoint on one Starlette app."""

from __future__ import annotations

import importlib
import importlib.util

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute

from harness.contract import tables as T

from . import control, kugel, platform
from .benign import BenignMiddleware
from .config import EmulatorConfig, default_config
from .record import RecordMiddleware
from .serving import served_routes
from .state import EmulatorState
from .surfaces import SURFACE_MODULES


async def _internal_error(request: Request, exc: Exception) -> Response:
    return JSONResponse({"detail": T.DETAIL_INTERNAL}, status_code=500)


def _streaming_routes(state: EmulatorState) -> list[BaseRoute]:
    """WebSocket surfaces, when ``harness.emulator.streaming`` exposes ``routes(state)``."""
    if importlib.util.find_spec(f"{__package__}.streaming") is None:
        return []
    package = importlib.import_module(f"{__package__}.streaming")
    factory = getattr(package, "routes", None)
    return list(factory(state)) if callable(factory) else []


def create_app(config: EmulatorConfig | None = None) -> Starlette:
    """The emulator as an ASGI app; ``app.state.emulator`` is its :class:`EmulatorState`."""
    state = EmulatorState(config or default_config())
    routes: list[BaseRoute] = [*control.routes(state)]
    for module in SURFACE_MODULES:
        routes.extend(module.routes(state))
    routes.extend(_streaming_routes(state))
    routes.extend(platform.routes(state))  # Modulate Platform API
    routes.extend(kugel.routes(state))  # KugelAudio TTS
    serve = state.config.serve  # [serve]: a target that serves only some surfaces
    routes = served_routes(routes, websocket=serve.websocket, disabled=serve.disabled)
    benign = state.config.benign  # [benign] variants: one layer around every surface
    middleware = [Middleware(BenignMiddleware, benign=benign)] if benign.enabled else []
    middleware.insert(0, Middleware(RecordMiddleware, log=state.record))  # outermost
    app = Starlette(
        routes=routes, middleware=middleware, exception_handlers={Exception: _internal_error}
    )
    app.state.emulator = state
    return app
