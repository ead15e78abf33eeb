"""The embedded emulator: Velma-2, Platform API and KugelAudio surfaces served from one ASGI app.

May import ``harness.contract`` and ``harness.audio``; nothing else of the project.
The names below load on first use, so that :mod:`.wire` (headers and fault names for
suites, load scenarios and the control client) can be imported without the server.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from .app import create_app
    from .config import ConfigError, EmulatorConfig, default_config, load_emulator_config
    from .server import RunningEmulator, serve, start

_WHERE = {
    "create_app": "app",
    "ConfigError": "config",
    "EmulatorConfig": "config",
    "default_config": "config",
    "load_emulator_config": "config",
    "RunningEmulator": "server",
    "serve": "server",
    "start": "server",
}

__all__ = [
    "ConfigError",
    "EmulatorConfig",
    "RunningEmulator",
    "create_app",
    "default_config",
    "load_emulator_config",
    "serve",
    "start",
]


def __getattr__(name: str) -> Any:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    return getattr(importlib.import_module(f".{_WHERE[name]}", __name__), name)
