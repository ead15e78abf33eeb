"""``/_emulator/...``: the control endpoint, for tests and load probes.

Answers only to loopback clients that send the start-up token in
``X-Emulator-Token``. ``GET state`` reports in-flight counts and usage;
``POST reset`` puts usage back to the configured start and clears switches;
``POST switches`` (JSON ``{"faults": [...], "deviations": [...]}``) turns
faults and deviations on for every request until the next reset.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .deviations import DEVIATIONS, check_deviation_names
from .faults import parse_fault_list
from .state import EmulatorState

PREFIX = "/_emulator"
TOKEN_HEADER = "X-Emulator-Token"

Handler = Callable[[Request, EmulatorState], Awaitable[Response]]


def is_loopback(host: str | None) -> bool:
    if not host:
        return False
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def _guarded(handler: Handler, state: EmulatorState) -> Callable[[Request], Awaitable[Response]]:
    async def endpoint(request: Request) -> Response:
        host = request.client.host if request.client else None
        if not is_loopback(host):
            return JSONResponse({"detail": "control endpoint answers loopback clients only"}, 403)
        token = request.headers.get(TOKEN_HEADER, "")
        if not secrets.compare_digest(token.encode(), state.token.encode()):
            return JSONResponse({"detail": f"missing or wrong {TOKEN_HEADER}"}, 401)
        return await handler(request, state)

    return endpoint


def _snapshot(state: EmulatorState) -> dict[str, object]:
    faults, deviations = state.switches.get()
    return {
        **state.admission.snapshot(),
        "switches": {"faults": [str(f) for f in faults], "deviations": sorted(deviations)},
        "config": {
            "faults": [str(f) for f in state.config.faults],
            "deviations": sorted(state.config.deviations),
            "alternatives": state.config.choices.as_dict(),
        },
        "known_deviations": dict(DEVIATIONS),
    }


async def _state(request: Request, state: EmulatorState) -> Response:
    return JSONResponse(_snapshot(state))


async def _reset(request: Request, state: EmulatorState) -> Response:
    state.admission.reset()
    state.switches.set((), frozenset())
    return JSONResponse(_snapshot(state))


async def _switches(request: Request, state: EmulatorState) -> Response:
    try:
        data = json.loads(await request.body() or b"{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object with `faults` and/or `deviations`")
        faults = data.get("faults", [])
        deviations = data.get("deviations", [])
        if not isinstance(faults, list) or not isinstance(deviations, list):
            raise ValueError("`faults` and `deviations` must be lists of strings")
        parsed = parse_fault_list(str(f) for f in faults)
        check_deviation_names(str(d) for d in deviations)
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, 400)
    state.switches.set(parsed, frozenset(str(d) for d in deviations))
    return JSONResponse(_snapshot(state))


def routes(state: EmulatorState) -> list[BaseRoute]:
    return [
        Route(f"{PREFIX}/state", _guarded(_state, state), methods=["GET"]),
        Route(f"{PREFIX}/reset", _guarded(_reset, state), methods=["POST"]),
        Route(f"{PREFIX}/switches", _guarded(_switches, state), methods=["POST"]),
    ]
