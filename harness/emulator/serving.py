"""``[serve]``: which surfaces the emulator serves, to model a target that serves only some.

A target that serves REST only answers every WebSocket upgrade with HTTP 404; one that
lacks a surface answers its requests 404 too. The routes of what is not served are left
out; a WebSocket upgrade to a path no route serves then gets a 404 denial response
(otherwise the server would refuse it with 403), and an HTTP request gets Starlette's 404.
"""

from __future__ import annotations

from collections.abc import Iterable

from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route, WebSocketRoute
from starlette.websockets import WebSocket

from harness.contract.tables import VELMA_PATHS

#: Surface groups ``[serve] disabled`` accepts besides the seven Velma-2 surfaces.
GROUP_PREFIXES = {"kugel-http": "/v1/", "kugel-ws": "/ws/tts", "platform": "/api_service"}
SERVE_NAMES: tuple[str, ...] = (*VELMA_PATHS, *GROUP_PREFIXES)


def surface_of(path: str) -> str | None:
    """The surface (or group) a route path belongs to; None for the control endpoint."""
    for surface, p in VELMA_PATHS.items():
        if path == p:
            return surface
    for group, prefix in GROUP_PREFIXES.items():
        if path.startswith(prefix):
            return group
    return None


async def _not_found(websocket: WebSocket) -> None:
    await websocket.send_denial_response(JSONResponse({"detail": "Not Found"}, status_code=404))


def served_routes(
    routes: Iterable[BaseRoute], *, websocket: bool, disabled: Iterable[str]
) -> list[BaseRoute]:
    """``routes`` minus what is not served, plus a 404 answer to any other upgrade."""
    off = set(disabled)
    if websocket and not off:
        return list(routes)
    kept: list[BaseRoute] = []
    for route in routes:
        path = getattr(route, "path", "")
        if isinstance(route, WebSocketRoute) and not websocket:
            continue
        if isinstance(route, Route | WebSocketRoute) and surface_of(path) in off:
            continue
        kept.append(route)
    kept.append(WebSocketRoute("/{path:path}", _not_found, name="not served"))
    return kept


__all__ = ["GROUP_PREFIXES", "SERVE_NAMES", "served_routes", "surface_of"]
