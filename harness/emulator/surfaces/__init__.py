"""One module per emulated surface. Each exposes ``routes(state) -> list[BaseRoute]``.

:func:`harness.emulator.app.create_app` mounts every module in :data:`SURFACE_MODULES`,
then the routes of ``harness.emulator.streaming`` when that package defines
``routes(state)`` (the WebSocket surfaces, one module each behind it).
"""

from __future__ import annotations

from types import ModuleType

from . import pii_batch, stt_batch, svd_batch, vfast_batch

SURFACE_MODULES: tuple[ModuleType, ...] = (stt_batch, vfast_batch, svd_batch, pii_batch)
