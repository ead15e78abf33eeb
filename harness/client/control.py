"""A client for the embedded emulator's control endpoint (tests and load probes only)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import httpx

TOKEN_HEADER = "X-Emulator-Token"
FAULT_HEADER = "X-Emulator-Fault"
DEVIATION_HEADER = "X-Emulator-Deviation"


class EmulatorControl:
    """``GET state``, ``POST reset``, ``POST switches`` on ``/_emulator``."""

    def __init__(self, url: str, token: str, *, timeout_s: float = 5.0) -> None:
        self._url = url.rstrip("/")
        self._headers = {TOKEN_HEADER: token}
        self._timeout = timeout_s
        self.on_change: Callable[[str], None] | None = None  # told of every reset / switch

    def _call(self, method: str, name: str, body: Any = None) -> dict[str, Any]:
        r = httpx.request(
            method, f"{self._url}/{name}", headers=self._headers, json=body, timeout=self._timeout
        )
        r.raise_for_status()
        return r.json()

    def state(self) -> dict[str, Any]:
        return self._call("GET", "state")

    def reset(self) -> dict[str, Any]:
        self._changed("reset")
        return self._call("POST", "reset")

    def switches(
        self, faults: list[str] | None = None, deviations: list[str] | None = None
    ) -> dict[str, Any]:
        self._changed(f"switches faults={faults or []} deviations={deviations or []}")
        return self._call(
            "POST", "switches", {"faults": faults or [], "deviations": deviations or []}
        )

    def _changed(self, what: str) -> None:
        if self.on_change is not None:
            self.on_change(what)
