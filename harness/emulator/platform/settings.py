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
account is the default one (written into target profiles). The table is read with
:mod:`harness.configio`; errors are its ``FieldError`` naming the field under ``platform.``,
which :mod:`harness.emulator.config` turns into its ``ConfigError``.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from harness.configio import FieldError, read, setting

DEMO_ACCOUNT_UUID = "5b0a8c9e-1d2f-4a3b-9c4d-0e1f2a3b4c5d"
DEMO_PLATFORM_KEY = "demo-platform-key"
MIN_PROCESSING_S = 0.05
MAX_JOBS_PER_ACCOUNT = 1000


@dataclass(frozen=True)
class PlatformAccount:
    accountuuid: str = setting(nonempty=True)
    apikey: str = setting(nonempty=True)


@dataclass(frozen=True)
class PlatformSettings:
    accounts: tuple[PlatformAccount, ...] = (PlatformAccount(DEMO_ACCOUNT_UUID, DEMO_PLATFORM_KEY),)
    min_processing_s: float = setting(MIN_PROCESSING_S, minimum=0, maximum=60)
    max_jobs_per_account: int = setting(MAX_JOBS_PER_ACCOUNT, minimum=1)

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
    """Build settings from the ``[platform]`` table; raises ``FieldError`` naming the field."""
    settings = read(PlatformSettings, raw, "platform")
    taken = set(velma_keys)
    seen: set[str] = set()
    for i, account in enumerate(settings.accounts if "accounts" in raw else ()):
        where = f"platform.accounts[{i}].apikey"
        if account.apikey in taken:
            raise FieldError(where, "must not be a Velma-2 model key (keys are separate)")
        if account.apikey in seen:
            raise FieldError(where, f"key {account.apikey!r} is used twice")
        seen.add(account.apikey)
    return settings
