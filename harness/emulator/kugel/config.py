"""The ``[kugel]`` table of the emulator config: KugelAudio keys, credits and limits.

Self-contained (no import of :mod:`harness.emulator.config`, which hooks this in):
:func:`parse_kugel` raises ``ValueError`` whose message names the field under
``kugel.`` and what was expected. Each key role is its own organisation:

* ``valid``: a normal organisation with credits, project 1 and the default rate limit;
* ``no_credits``: authenticates, but has no credits left (402 / close 4003);
* ``forbidden``: authenticates, but may use none of the TTS resources (403);
* ``rate_limited``: like ``valid``, with a small request-rate limit so 429 is reachable;
* ``invalid``: a string that is no key (401 / close 4001).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

from .faults import parse_kugel_faults

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


@dataclass(frozen=True)
class KugelConfig:
    keys: Mapping[str, str] = field(default_factory=lambda: DEFAULT_KEYS)  # role -> key
    credits: Mapping[str, int] = field(default_factory=lambda: DEFAULT_CREDITS)
    rate_limit: Mapping[str, int] = field(default_factory=lambda: DEFAULT_RATE_LIMIT)
    rate_window_s: float = 10.0
    max_chars: int = 5000  # per-request allowance of the tier (429 over it)
    overload_retry_after_s: int = 2  # Retry-After on 503 MODEL_UNAVAILABLE
    chunk_ms: int = 200  # audio per WebSocket chunk
    faults: tuple[str, ...] = ()  # kugel faults for every request (see .faults)

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


_TOP = {
    "keys",
    "credits",
    "rate_limit",
    "rate_window_s",
    "max_chars",
    "overload_retry_after_s",
    "chunk_ms",
    "faults",
}


def _kind(v: object) -> str:
    return type(v).__name__


def _unknown(t: Mapping[str, Any], allowed: set[str] | tuple[str, ...], where: str) -> None:
    for k in t:
        if k not in allowed:
            raise ValueError(
                f"{where}.{k}: unknown field; expected one of {', '.join(sorted(allowed))}"
            )


def _table(t: Mapping[str, Any], name: str, where: str) -> Mapping[str, Any]:
    v = t.get(name, {})
    if not isinstance(v, Mapping):
        raise ValueError(f"{where}.{name}: expected a table, got {_kind(v)}")
    return v


def _int(v: Any, where: str, minimum: int) -> int:
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise ValueError(f"{where}: expected an integer >= {minimum}, got {v!r}")
    return v


def _role_ints(
    t: Mapping[str, Any], name: str, defaults: Mapping[str, int], where: str
) -> Mapping[str, int]:
    table = _table(t, name, where)
    _unknown(table, ORG_ROLES, f"{where}.{name}")
    out = dict(defaults)
    for role, v in table.items():
        out[role] = _int(v, f"{where}.{name}.{role}", 0)
    return MappingProxyType(out)


def parse_kugel(data: Mapping[str, Any] | None) -> KugelConfig:
    """Build :class:`KugelConfig` from the ``[kugel]`` table (``None``/missing: defaults)."""
    w = "kugel"
    t = data or {}
    if not isinstance(t, Mapping):
        raise ValueError(f"{w}: expected a table, got {_kind(t)}")
    _unknown(t, _TOP, w)
    keys_t = _table(t, "keys", w)
    _unknown(keys_t, ROLES, f"{w}.keys")
    keys = dict(DEFAULT_KEYS)
    for role, v in keys_t.items():
        if not isinstance(v, str) or not v:
            raise ValueError(f"{w}.keys.{role}: expected a non-empty string, got {v!r}")
        keys[role] = v
    if len(set(keys.values())) != len(keys):
        raise ValueError(f"{w}.keys: every role needs its own key (a key is used twice)")
    window = t.get("rate_window_s", 10.0)
    if not isinstance(window, int | float) or isinstance(window, bool) or window <= 0:
        raise ValueError(f"{w}.rate_window_s: expected a number > 0, got {window!r}")
    faults = t.get("faults", [])
    if not isinstance(faults, list) or not all(isinstance(f, str) for f in faults):
        raise ValueError(f"{w}.faults: expected a list of strings")
    try:
        parse_kugel_faults(faults)
    except ValueError as exc:
        raise ValueError(f"{w}.faults: {exc}") from None
    return KugelConfig(
        keys=MappingProxyType(keys),
        credits=_role_ints(t, "credits", DEFAULT_CREDITS, w),
        rate_limit=_role_ints(t, "rate_limit", DEFAULT_RATE_LIMIT, w),
        rate_window_s=float(window),
        max_chars=_int(t.get("max_chars", 5000), f"{w}.max_chars", 1),
        overload_retry_after_s=_int(
            t.get("overload_retry_after_s", 2), f"{w}.overload_retry_after_s", 0
        ),
        chunk_ms=_int(t.get("chunk_ms", 200), f"{w}.chunk_ms", 10),
        faults=tuple(faults),
    )
