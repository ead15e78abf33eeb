"""What one running emulator holds, and the per-request view of it.

:class:`EmulatorState` is created once per app (config, admission, processing
model, control token, switches set through the control endpoint).
:func:`request_context` combines every source of faults and deviations for one
request or WebSocket connection: config, control endpoint, the key, headers.
"""

from __future__ import annotations

import secrets
import threading
from dataclasses import dataclass

from starlette.requests import HTTPConnection

from harness.contract.tables import KUGEL_SURFACES

from .admission import Admission
from .config import EmulatorConfig, KeyConfig
from .deviations import parse_deviation_header
from .faults import FaultPlan, FaultSpec, parse_fault_header, parse_fault_list
from .kugel.store import KugelStore
from .processing import ProcessingModel
from .record import RequestLog
from .wire import DEVIATION_HEADER, FAULT_HEADER


class RuntimeSwitches:
    """Faults and deviations switched on through the control endpoint (thread-safe)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._faults: tuple[FaultSpec, ...] = ()
        self._deviations: frozenset[str] = frozenset()

    def set(self, faults: tuple[FaultSpec, ...], deviations: frozenset[str]) -> None:
        with self._lock:
            self._faults, self._deviations = faults, deviations

    def get(self) -> tuple[tuple[FaultSpec, ...], frozenset[str]]:
        with self._lock:
            return self._faults, self._deviations


class EmulatorState:
    """Every part one running emulator carries."""

    def __init__(self, config: EmulatorConfig) -> None:
        self.config = config
        self.admission = Admission(config)  # Velma-2 keys, concurrency, quota
        self.processing = ProcessingModel(config.processing)
        self.token = config.control_token or secrets.token_urlsafe(18)
        self.switches = RuntimeSwitches()  # faults + deviations of every family, until reset
        self.kugel = KugelStore(config.kugel)  # KugelAudio voices, dictionaries, usage
        self.kugel_faults = parse_fault_list(config.kugel.faults)  # [kugel] faults
        self.record = RequestLog()  # every request/connection (GET /_emulator/record)

    def reset(self) -> None:
        """Usage, switches and the KugelAudio store back to the configured start."""
        self.admission.reset()
        self.switches.set((), frozenset())
        self.kugel.reset()
        self.record.reset()


class OverrideError(ValueError):
    """A bad ``X-Emulator-Fault`` / ``X-Emulator-Deviation`` header."""


@dataclass(frozen=True)
class RequestContext:
    surface: str
    deviations: frozenset[str]
    faults: FaultPlan

    def has(self, deviation: str) -> bool:
        return deviation in self.deviations


def request_context(
    state: EmulatorState, conn: HTTPConnection, surface: str, key: KeyConfig | None = None
) -> RequestContext:
    """Every fault and deviation that applies; raises :class:`OverrideError` for bad headers."""
    cfg = state.config
    faults, deviations = state.switches.get()
    faults = cfg.faults + faults
    deviations = cfg.deviations | deviations
    if surface in KUGEL_SURFACES:
        faults = faults + state.kugel_faults
    if key is not None:
        faults = faults + key.faults
        deviations = deviations | key.deviations
    if cfg.allow_request_overrides:
        try:
            faults = faults + parse_fault_header(conn.headers.get(FAULT_HEADER))
            deviations = deviations | parse_deviation_header(conn.headers.get(DEVIATION_HEADER))
        except ValueError as exc:
            raise OverrideError(str(exc)) from None
    return RequestContext(surface, deviations, FaultPlan.of(faults))
