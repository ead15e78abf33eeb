"""A client for the embedded emulator's control endpoint (tests and load probes only).

One endpoint serves every family (Velma-2, Platform API, KugelAudio): ``switches``
takes faults and deviations of any of them, ``reset`` puts all of them back. Header
names and fault builders come from :mod:`harness.emulator.wire` (re-exported here).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

from harness.client.http import tls_context
from harness.emulator.wire import (
    DEVIATION_HEADER,
    FAULT_HEADER,
    TOKEN_HEADER,
    fault,
    fault_header,
)

__all__ = [
    "DEVIATION_HEADER",
    "FAULT_HEADER",
    "TOKEN_HEADER",
    "EmulatorControl",
    "fault",
    "fault_header",
]


class EmulatorControl:
    """``GET state``, ``POST reset``, ``POST switches`` on ``/_emulator``."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 5.0) -> None:
        self._url = url.rstrip("/")
        self._headers = {TOKEN_HEADER: token}
        self._timeout = timeout_s
        self.on_change: Callable[[str], None] | None = None  # told of every reset / switch

    def _call(self, method: str, name: str, body: Any = None) -> dict[str, Any]:
        r = httpx.request(
            method,
            f"{self._url}/{name}",
            headers=self._headers,
            json=body,
            timeout=self._timeout,
            verify=tls_context(),  # one shared context: building one costs ~25 ms
        )
        r.raise_for_status()
        return r.json()

    def state(self) -> dict[str, Any]:
        """Velma-2 in-flight counts and usage, ``kugel`` usage, switches, config."""
        return self._call("GET", "state")

    def kugel_state(self) -> dict[str, Any]:
        """KugelAudio usage: characters used and requests in the rate window, per role."""
        return self.state()["kugel"]

    def reset(self) -> dict[str, Any]:
        """Every family back to the configured start; switches cleared."""
        self._changed("reset")
        return self._call("POST", "reset")

    def switches(
        self, faults: list[str] | None = None, deviations: list[str] | None = None
    ) -> dict[str, Any]:
        """Faults and deviations (any family) for every request until the next reset."""
        self._changed(f"switches faults={faults or []} deviations={deviations or []}")
        return self._call(
            "POST", "switches", {"faults": faults or [], "deviations": deviations or []}
        )

    def set_time_scale(self, time_scale: float) -> float:
        """How fast modelled processing passes from now on (kept across resets); returns the
        previous value."""
        return float(self._call("POST", "processing", {"time_scale": time_scale})["previous"])

    def _changed(self, what: str) -> None:
        if self.on_change is not None:
            self.on_change(what)
