"""The emulator config of load scenarios run without a target profile.

Locust monkey-patches the process with gevent, so the emulator (uvicorn on uvloop) cannot
run inside a Locust process: it runs in a child process started by
:func:`harness.emulator.child.start_child`, given :func:`scenario_emulator_data` (emulator
TOML data with one organisation and one valid key, sized for the scenario).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

LOAD_KEY = "load-valid-key"
LOAD_ORG = "load"


def scenario_emulator_data(
    *,
    concurrency: int = 1000,
    per_model: Mapping[str, int] | None = None,
    quota_audio_hours: float = 10_000.0,
    used_audio_hours: float = 0.0,
    deviations: tuple[str, ...] = (),
    time_scale: float = 0.0,
    key: str = LOAD_KEY,
) -> dict[str, Any]:
    """Emulator TOML data (as a dict) with one organisation and one valid key."""
    org: dict[str, Any] = {
        "concurrency": concurrency,
        "quota_audio_hours": quota_audio_hours,
        "used_audio_hours": used_audio_hours,
        "keys": [{"key": key, "role": "valid"}],
    }
    if per_model:
        org["concurrency_per_model"] = dict(per_model)
    return {
        "allow_request_overrides": True,
        "processing": {"time_scale": time_scale},
        "server": {"ws_idle_timeout_s": 0.0},
        "deviations": {"enabled": list(deviations)},
        "orgs": {LOAD_ORG: org},
    }
