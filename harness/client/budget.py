"""A running cap on what a live target's audio will cost (priced per audio hour)."""

from __future__ import annotations

import threading
from dataclasses import dataclass, field

from harness.contract.tables import PRICE_PER_AUDIO_HOUR_USD, audio_cost_usd


class BudgetExceeded(RuntimeError):
    """Sending this audio would pass ``--max-cost``; nothing was sent."""


@dataclass
class AudioBudget:
    """Counts audio seconds per surface; refuses audio past ``max_cost_usd`` (None: no cap)."""

    max_cost_usd: float | None = None
    seconds: dict[str, float] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    @property
    def spent_usd(self) -> float:
        return sum(
            audio_cost_usd(s, sec)
            for s, sec in self.seconds.items()
            if s in PRICE_PER_AUDIO_HOUR_USD
        )

    def charge(self, surface: str, audio_seconds: float) -> None:
        if audio_seconds <= 0:
            return
        cost = (
            audio_cost_usd(surface, audio_seconds) if surface in PRICE_PER_AUDIO_HOUR_USD else 0.0
        )
        with self._lock:
            if self.max_cost_usd is not None and self.spent_usd + cost > self.max_cost_usd + 1e-12:
                raise BudgetExceeded(
                    f"sending {audio_seconds:.2f} s to {surface} would bring the cost to "
                    f"${self.spent_usd + cost:.4f}, over --max-cost ${self.max_cost_usd:.4f}"
                )
            self.seconds[surface] = self.seconds.get(surface, 0.0) + audio_seconds
