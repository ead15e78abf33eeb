"""The embedded target: the emulator started in a child process on a free loopback port.

This is the default target of ``harness run`` and of ``pytest suites`` when no
profile is given. Only the runner side imports the emulator; the suites see a
:class:`~harness.target.Profile` like any other target.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from harness.contract.tables import VELMA_PATHS
from harness.target import KUGEL_ROLES, EmulatorControl, Profile, Secret, Service

FAST_TIME_SCALE = 0.002  # modelled processing time x 0.002 (a 60 s limit hits after 0.12 s)


@dataclass
class EmbeddedTarget:
    profile: Profile
    stop: Callable[[], None]


def start_embedded(config_path: str | Path | None = None) -> EmbeddedTarget:
    """Start the emulator (default or given config) and describe it as a profile."""
    from harness.emulator.child import start_child
    from harness.emulator.config import ROLES
    from harness.emulator.wire import CONTROL_PREFIX

    # The emulator runs in its own process so that client and target use both cores.
    # The run's default config models processing time x FAST_TIME_SCALE.
    fast = FAST_TIME_SCALE if config_path is None else None
    running = start_child(config_path, time_scale=fast)
    config = running.config
    keys = {
        role: Secret(key, f"EMULATOR_{role.upper()}_KEY")
        for role in ROLES
        if (key := config.key_for_role(role)) is not None
    }
    ws = running.ws_base_url
    limits: dict[str, object] = {}
    valid = config.key_for_role("valid")
    if valid is not None:
        org = config.orgs[config.keys[valid].org]
        limits["concurrency"] = {s: org.limit_for(s) for s in VELMA_PATHS}
    platform_keys: dict[str, Secret] = {}
    if (account := config.platform.default_account) is not None:
        platform_keys = {
            "accountuuid": Secret(account.accountuuid, "EMULATOR_PLATFORM_ACCOUNT"),
            "apikey": Secret(account.apikey, "EMULATOR_PLATFORM_KEY"),
        }
    kugel_keys = {
        role: Secret(key, f"EMULATOR_KUGEL_{role.upper()}_KEY")
        for role in KUGEL_ROLES
        if (key := config.kugel.key_for_role(role)) is not None
    }
    profile = Profile(
        name="embedded-emulator",
        kind="emulator",
        velma=Service(running.base_url, ws, keys, limits),
        platform=Service(running.base_url, None, platform_keys, {}),
        kugel=Service(running.base_url, ws, kugel_keys, {"max_characters": config.kugel.max_chars}),
        emulator=EmulatorControl(
            running.base_url + CONTROL_PREFIX, Secret(running.token, "EMULATOR_CONTROL_TOKEN")
        ),
        source=f"<embedded emulator, config {config_path or 'default'}>",
    )
    return EmbeddedTarget(profile, running.stop)
