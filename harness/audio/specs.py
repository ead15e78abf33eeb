"""Data types that describe a fixture declaratively, and their stable hash."""

from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, field
from typing import Any

# Bump when any change to the factory's code changes the bytes it produces.
GENERATOR_VERSION = "1"

Params = tuple[tuple[str, object], ...]


@dataclass(frozen=True)
class SignalSpec:
    """Which generator in ``signals`` makes the samples, and with what arguments."""

    kind: str  # "tone" | "noise" | "silence" | "speech" | "speakers"
    duration_s: float
    sample_rate: int
    channels: int = 1
    params: Params = ()


@dataclass(frozen=True)
class FixtureSpec:
    """One fixture: how to make its bytes and what it is for.

    ``source`` names the recipe that makes the undamaged bytes (see ``recipes``);
    ``damage`` is applied to them in order. ``audio_format``, ``sample_rate`` and
    ``num_channels`` describe the bytes as they really are; ``declared`` is what a
    sender claims about them when that differs (mismatch and invalid-parameter cases).
    """

    id: str
    kind: str
    source: str  # "raw" | "container" | "empty" | "wav-header" | "flac-tags" | ...
    audio_format: str | None
    ext: str | None  # file extension; None for the lazy stream (never written)
    sample_rate: int | None
    num_channels: int | None
    signal: SignalSpec | None = None
    options: Params = ()
    damage: tuple[Params, ...] = ()
    tags: tuple[str, ...] = ()
    clauses: tuple[str, ...] = ()
    declared: Params | None = None
    note: str = ""
    lazy: bool = False  # produced on demand by open_stream(); not written by build()
    duration_override_s: float | None = field(default=None)

    def option(self, name: str, default: Any = None) -> Any:
        return dict(self.options).get(name, default)

    def declared_dict(self) -> dict[str, object] | None:
        return None if self.declared is None else dict(self.declared)

    @property
    def path(self) -> str | None:
        if self.lazy or self.ext is None:
            return None
        return f"{self.kind}/{self.id}.{self.ext}"

    def spec_hash(self) -> str:
        """sha256 over the canonical JSON of this spec plus GENERATOR_VERSION."""
        doc = {"generator_version": GENERATOR_VERSION, "spec": asdict(self)}
        text = json.dumps(doc, sort_keys=True, separators=(",", ":"), default=repr)
        return hashlib.sha256(text.encode()).hexdigest()
