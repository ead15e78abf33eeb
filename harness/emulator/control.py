"""``/_emulator/...``: the control endpoint, for tests and load probes (one for every family).

Answers only to loopback clients that send the start-up token in
``X-Emulator-Token``. ``GET record`` lists every request and connection (:mod:`.record`), ``POST script`` sets
its refusal script; ``GET state`` reports in-flight counts and usage (Velma-2 and,
under ``kugel``, KugelAudio); ``POST reset`` puts usage, the KugelAudio store and the
switches back to the configured start; ``POST switches`` (JSON ``{"faults": [...],
"deviations": [...]}``, faults of any family) turns faults and deviations on for every
request until the next reset; ``POST processing`` (``{"time_scale": x}``) sets how
fast modelled processing passes (kept across resets). The client is
:class:`harness.client.control.EmulatorControl`.
"""

from __future__ import annotations

import ipaddress
import json
import secrets
from collections.abc import Awaitable, Callable
from dataclasses import replace

from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import BaseRoute, Route

from .deviations import DEVIATIONS, check_deviation_names
from .faults import parse_fault_list
from .kugel.store import KugelStore
from .record import Script
from .state import EmulatorState
from .wire import CONTROL_PREFIX, FAULT_FAMILIES, TOKEN_HEADER

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


def _kugel_snapshot(store: KugelStore) -> dict[str, object]:
    return {
        "used_chars": dict(store.used_chars),
        "requests_in_window": {r: len(q) for r, q in store.requests.items()},
        "keys": dict(store.config.keys),
    }


def _snapshot(state: EmulatorState) -> dict[str, object]:
    faults, deviations = state.switches.get()
    return {
        **state.admission.snapshot(),
        "kugel": _kugel_snapshot(state.kugel),
        "switches": {"faults": [str(f) for f in faults], "deviations": sorted(deviations)},
        "config": {
            "faults": [str(f) for f in state.config.faults],
            "kugel_faults": list(state.config.kugel.faults),
            "deviations": sorted(state.config.deviations),
            "alternatives": state.config.choices.as_dict(),
        },
        "processing": {"time_scale": state.config.processing.time_scale},
        "known_faults": {name: sorted(fams) for name, fams in FAULT_FAMILIES.items()},
        "known_deviations": dict(DEVIATIONS),
    }


async def _state(request: Request, state: EmulatorState) -> Response:
    return JSONResponse(_snapshot(state))


async def _reset(request: Request, state: EmulatorState) -> Response:
    state.reset()
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


async def _processing(request: Request, state: EmulatorState) -> Response:
    """``{"time_scale": x}``: how fast modelled processing passes, until changed again (a
    conformance run sets its own; ``reset`` keeps it). Answers the previous value."""
    try:
        data = json.loads(await request.body() or b"{}")
        scale = data.get("time_scale") if isinstance(data, dict) else None
        if isinstance(scale, bool) or not isinstance(scale, int | float) or not 0 <= scale < 1e6:
            raise ValueError(f'expected {{"time_scale": a number from 0 to 1e6}}, got {data!r}')
    except ValueError as exc:
        return JSONResponse({"detail": str(exc)}, 400)
    previous = state.config.processing.time_scale
    processing = replace(state.config.processing, time_scale=float(scale))
    state.config = state.config.with_changes(processing=processing)
    state.processing.cfg = processing
    return JSONResponse({"time_scale": processing.time_scale, "previous": previous})


async def _record(request: Request, state: EmulatorState) -> Response:
    log = state.record
    return JSONResponse(
        {"entries": log.entries(), "dropped": log.dropped, "script": log.script_json()}
    )


async def _script(request: Request, state: EmulatorState) -> Response:
    try:
        data = json.loads(await request.body() or b"{}")
        if not isinstance(data, dict):
            raise ValueError("expected a JSON object (see harness.emulator.record.Script)")
        state.record.set_script(Script.from_json(data))
    except (ValueError, TypeError) as exc:
        return JSONResponse({"detail": str(exc)}, 400)
    return JSONResponse({"script": state.record.script_json()})


def routes(state: EmulatorState) -> list[BaseRoute]:
    return [
        Route(f"{CONTROL_PREFIX}/state", _guarded(_state, state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/reset", _guarded(_reset, state), methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/switches", _guarded(_switches, state), methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/processing", _guarded(_processing, state), methods=["POST"]),
        Route(f"{CONTROL_PREFIX}/record", _guarded(_record, state), methods=["GET"]),
        Route(f"{CONTROL_PREFIX}/script", _guarded(_script, state), methods=["POST"]),
    ]
