"""The embedded emulator: Velma-2 surfaces served from one ASGI app.

May import ``harness.contract`` and ``harness.audio``; nothing else of the project.
"""

from __future__ import annotations

from .app import create_app
from .config import ConfigError, EmulatorConfig, default_config, load_config
from .server import RunningEmulator, serve, start

__all__ = [
    "ConfigError",
    "EmulatorConfig",
    "RunningEmulator",
    "create_app",
    "default_config",
    "load_config",
    "serve",
    "start",
]
