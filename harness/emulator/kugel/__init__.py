"""KugelAudio TTS surfaces of the embedded emulator (REST ``/v1/...`` and ``/ws/tts``).

``routes(state)`` returns the REST and WebSocket routes; they keep their voices,
dictionaries and usage in ``state.kugel`` (a :class:`.store.KugelStore`), which the
control endpoint (:mod:`harness.emulator.control`) reports and resets with the rest.
The ``[kugel]`` config table is parsed by :mod:`.config` (kept import-light:
:mod:`harness.emulator.config` imports it).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from starlette.routing import BaseRoute

    from ..state import EmulatorState


def routes(state: EmulatorState) -> list[BaseRoute]:
    from . import rest, ws

    return [*rest.routes(state, state.kugel), *ws.routes(state, state.kugel)]
