"""``/_emulator/kugel/...``: KugelAudio's part of the control endpoint.

``GET state`` (usage, rate windows, switched faults), ``POST reset`` (resources,
usage, rate windows and switched faults back to the start), ``POST switches``
(JSON ``{"faults": [...]}``: KugelAudio faults for every request until reset).
Same guard as :mod:`harness.emulator.control`: loopback and ``X-Emulator-Token``.
"""

from __future__ import annotations

import json

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from ..control import PREFIX, _guarded
from ..state import EmulatorState
from .faults import KUGEL_FAULTS, parse_kugel_faults
from .store import KugelStore

KUGEL_PREFIX = f"{PREFIX}/kugel"


def _snapshot(store: KugelStore) -> dict[str, object]:
    return {
        "used_chars": dict(store.used_chars),
        "requests_in_window": {r: len(q) for r, q in store.requests.items()},
        "faults": sorted(store.switch_faults),
        "known_faults": list(KUGEL_FAULTS),
        "keys": dict(store.config.keys),
    }


def routes(state: EmulatorState, store: KugelStore) -> list[BaseRoute]:
    async def get_state(request: Request, state: EmulatorState) -> Response:
        return JSONResponse(_snapshot(store))

    async def reset(request: Request, state: EmulatorState) -> Response:
        store.reset()
        return JSONResponse(_snapshot(store))

    async def switches(request: Request, state: EmulatorState) -> Response:
        try:
            data = json.loads(await request.body() or b"{}")
            faults = data.get("faults", []) if isinstance(data, dict) else None
            if not isinstance(faults, list):
                raise ValueError("expected a JSON object with a `faults` list")
            parsed = parse_kugel_faults(str(f) for f in faults)
        except ValueError as exc:
            return JSONResponse({"detail": str(exc)}, 400)
        store.switch_faults = parsed
        return JSONResponse(_snapshot(store))

    return [
        Route(f"{KUGEL_PREFIX}/state", _guarded(get_state, state), methods=["GET"]),
        Route(f"{KUGEL_PREFIX}/reset", _guarded(reset, state), methods=["POST"]),
        Route(f"{KUGEL_PREFIX}/switches", _guarded(switches, state), methods=["POST"]),
    ]
