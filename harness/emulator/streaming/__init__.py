"""The three Velma-2 WebSocket surfaces (STT, deepfake, PII/PHI redaction streaming).

``routes(state)`` returns their :class:`starlette.routing.WebSocketRoute` objects, in the
shape :data:`harness.emulator.surfaces.SURFACE_MODULES` modules use.
"""

from __future__ import annotations

from starlette.routing import BaseRoute

from ..state import EmulatorState
from .pii import PiiSession
from .protocol import STREAM_DEVIATIONS, websocket_route
from .stt import SttSession
from .svd import SvdSession

SESSIONS = {"stt-stream": SttSession, "svd-stream": SvdSession, "pii-stream": PiiSession}


def routes(state: EmulatorState) -> list[BaseRoute]:
    return [websocket_route(surface, cls, state) for surface, cls in SESSIONS.items()]


__all__ = ["SESSIONS", "STREAM_DEVIATIONS", "routes"]
