"""The ``[platform]`` table of the emulator config: Platform accounts and job timing.

```toml
[platform]
min_processing_s = 0.05      # wall-time floor of a job's "processing" phase
max_jobs_per_account = 1000  # the oldest jobs are forgotten past this

[[platform.accounts]]
accountuuid = "..."
apikey = "..."
```

Without an ``accounts`` array the demo account below is used. The first
account is the default one (written into target profiles). Errors are
:class:`ValueError` whose text starts with the field path inside ``platform``;
:mod:`harness.emulator.config` turns them into its ``ConfigError``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

DEMO_ACCOUNT_UUID = "5b0a8c9e-1d2f-4a3b-9c4d-0e1f2a3b4c5d"
DEMO_PLATFORM_KEY = "demo-platform-key"
MIN_PROCESSING_S = 0.05
MAX_JOBS_PER_ACCOUNT = 1000
_FIELDS = {"accounts", "min_processing_s", "max_jobs_per_account"}


@dataclass(frozen=True)
class PlatformAccount:
    accountuuid: str
    apikey: str


@dataclass(frozen=True)
class PlatformSettings:
    accounts: tuple[PlatformAccount, ...] = (PlatformAccount(DEMO_ACCOUNT_UUID, DEMO_PLATFORM_KEY),)
    min_processing_s: float = MIN_PROCESSING_S
    max_jobs_per_account: int = MAX_JOBS_PER_ACCOUNT

    @property
    def default_account(self) -> PlatformAccount | None:
        return self.accounts[0] if self.accounts else None

    def authenticate(self, accountuuid: str, apikey: str) -> PlatformAccount | None:
        """The account whose uuid and key both match (constant-time comparisons)."""
        found = None
        for a in self.accounts:
            same_uuid = secrets.compare_digest(a.accountuuid.encode(), accountuuid.encode())
            same_key = secrets.compare_digest(a.apikey.encode(), apikey.encode())
            if same_uuid and same_key:
                found = a
        return found


def parse_platform(raw: Mapping[str, Any], velma_keys: Iterable[str] = ()) -> PlatformSettings:
    """Build settings from the ``[platform]`` table; raises ``ValueError`` naming the field."""
    for k in raw:
        if k not in _FIELDS:
            raise ValueError(f"{k}: unknown field; expected one of {', '.join(sorted(_FIELDS))}")
    d = PlatformSettings()
    floor = raw.get("min_processing_s", d.min_processing_s)
    if not isinstance(floor, int | float) or isinstance(floor, bool) or not 0 <= floor <= 60:
        raise ValueError(f"min_processing_s: expected a number from 0 to 60, got {floor!r}")
    cap = raw.get("max_jobs_per_account", d.max_jobs_per_account)
    if not isinstance(cap, int) or isinstance(cap, bool) or cap < 1:
        raise ValueError(f"max_jobs_per_account: expected an integer >= 1, got {cap!r}")
    accounts = d.accounts
    if "accounts" in raw:
        accounts = _accounts(raw["accounts"], set(velma_keys))
    return PlatformSettings(accounts, float(floor), cap)


def _accounts(items: Any, velma_keys: set[str]) -> tuple[PlatformAccount, ...]:
    if not isinstance(items, list):
        raise ValueError("accounts: expected an array of tables ([[platform.accounts]])")
    out: list[PlatformAccount] = []
    seen: set[str] = set()
    for i, item in enumerate(items):
        where = f"accounts[{i}]"
        if not isinstance(item, Mapping):
            raise ValueError(f"{where}: expected a table with `accountuuid` and `apikey`")
        for k in item:
            if k not in ("accountuuid", "apikey"):
                raise ValueError(f"{where}.{k}: unknown field; expected accountuuid, apikey")
        values = []
        for name in ("accountuuid", "apikey"):
            v = item.get(name)
            if not isinstance(v, str) or not v.strip():
                raise ValueError(f"{where}.{name}: expected a non-empty string, got {v!r}")
            values.append(v)
        uuid, key = values
        if key in velma_keys:
            raise ValueError(f"{where}.apikey: must not be a Velma-2 model key (keys are separate)")
        if key in seen:
            raise ValueError(f"{where}.apikey: key {key!r} is used twice")
        seen.add(key)
        out.append(PlatformAccount(uuid, key))
    return tuple(out)
