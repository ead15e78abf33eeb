"""The ``[kugel]`` table of the emulator config: KugelAudio keys, credits and limits.

Self-contained (no import of :mod:`harness.emulator.config`, which hooks this in):
:func:`parse_kugel` reads the table with :mod:`harness.configio` and raises its
``FieldError`` (a ``ValueError``) naming the field under ``kugel.`` and what was expected. Each key role is its own organisation:

* ``valid``: a normal organisation with credits, project 1 and the default rate limit;
* ``no_credits``: authenticates, but has no credits left (402 / close 4003);
* ``forbidden``: authenticates, but may use none of the TTS resources (403);
* ``rate_limited``: like ``valid``, with a small request-rate limit so 429 is reachable;
* ``invalid``: a string that is no key (401 / close 4001).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

from harness.configio import FieldError, read, setting

from ..faults import parse_kugel_faults

ROLES: tuple[str, ...] = ("valid", "no_credits", "forbidden", "rate_limited", "invalid")
ORG_ROLES: tuple[str, ...] = ROLES[:-1]  # every role but "invalid" is an organisation

DEFAULT_KEYS: Mapping[str, str] = MappingProxyType(
    {
        "valid": "demo-kugel-valid-key",
        "no_credits": "demo-kugel-no-credits-key",
        "forbidden": "demo-kugel-forbidden-key",
        "rate_limited": "demo-kugel-rate-limited-key",
        "invalid": "demo-kugel-invalid-key",
    }
)
# Credits are counted in characters of synthesised text.
DEFAULT_CREDITS: Mapping[str, int] = MappingProxyType(
    {"valid": 100_000_000, "no_credits": 0, "forbidden": 100_000_000, "rate_limited": 100_000_000}
)
# Requests per ``rate_window_s`` per organisation; 0 = no limit.
DEFAULT_RATE_LIMIT: Mapping[str, int] = MappingProxyType(
    {"valid": 0, "no_credits": 0, "forbidden": 0, "rate_limited": 3}
)


def _check_faults(names: tuple[str, ...]) -> tuple[str, ...]:
    parse_kugel_faults(list(names))
    return names


@dataclass(frozen=True)
class KugelConfig:
    # role -> key; the file's roles replace the defaults one by one
    keys: Mapping[str, str] = setting(
        default_factory=lambda: DEFAULT_KEYS, names=ROLES, merge=True, nonempty=True
    )
    credits: Mapping[str, int] = setting(
        default_factory=lambda: DEFAULT_CREDITS, names=ORG_ROLES, merge=True, minimum=0
    )
    rate_limit: Mapping[str, int] = setting(
        default_factory=lambda: DEFAULT_RATE_LIMIT, names=ORG_ROLES, merge=True, minimum=0
    )
    rate_window_s: float = setting(10.0, above=0)
    max_chars: int = setting(5000, minimum=1)  # per-request allowance of the tier (429 over it)
    overload_retry_after_s: int = setting(2, minimum=0)  # Retry-After on 503 MODEL_UNAVAILABLE
    chunk_ms: int = setting(200, minimum=10)  # audio per WebSocket chunk
    # KugelAudio faults for every request (see ..faults)
    faults: tuple[str, ...] = setting((), parse=_check_faults)

    def role_of(self, key: str | None) -> str | None:
        """The role of an org key (None: not a key, including the ``invalid`` one)."""
        if not key:
            return None
        for role in ORG_ROLES:
            if self.keys.get(role) == key:
                return role
        return None

    def key_for_role(self, role: str) -> str | None:
        return self.keys.get(role)


def parse_kugel(data: Mapping[str, Any] | None) -> KugelConfig:
    """Build :class:`KugelConfig` from the ``[kugel]`` table (``None``/missing: defaults)."""
    config = read(KugelConfig, data or {}, "kugel")
    if len(set(config.keys.values())) != len(config.keys):
        raise FieldError("kugel.keys", "every role needs its own key (a key is used twice)")
    return config
