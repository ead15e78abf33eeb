"""KugelAudio TTS surfaces of the embedded emulator (REST ``/v1/...`` and ``/ws/tts``).

``routes(state)`` returns the REST and WebSocket routes plus the control routes
``/_emulator/kugel/{state,reset,switches}`` (loopback + ``X-Emulator-Token``, like
:mod:`harness.emulator.control`). The ``[kugel]`` config table is parsed by
:mod:`.config` (kept import-light: :mod:`harness.emulator.config` imports it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from ..state import EmulatorState


def routes(state: EmulatorState) -> list[BaseRoute]:
    from . import control, rest, ws
    from .config import KugelConfig
    from .store import KugelStore

    cfg = getattr(state.config, "kugel", None) or KugelConfig()
    store = KugelStore(cfg)
    state.kugel = store  # type: ignore[attr-defined]
    return [*control.routes(state, store), *rest.routes(state, store), *ws.routes(state, store)]
