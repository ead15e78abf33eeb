"""The embedded target: the emulator started in a child process on a free loopback port.

This is the default target of ``harness run`` and of ``pytest suites`` when no
profile is given. Only the runner side imports the emulator; the suites see a
:class:`~harness.target.Profile` like any other target.
"""

from __future__ import annotations

import contextlib
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import httpx

from harness.client.control import EmulatorControl as ControlClient
from harness.contract.tables import VELMA_PATHS
from harness.target import KUGEL_ROLES, EmulatorControl, Profile, Secret, Service

# Every conformance run against an emulator (embedded, --emulator-config, a profile of
# kind = "emulator") models processing time x FAST_TIME_SCALE unless --real-time is given:
# a 60 s processing limit then hits after 0.12 s. The config's own [processing] time_scale
# is for `harness emulate` and load runs.
FAST_TIME_SCALE = 0.002


def run_time_scale(real_time: bool) -> float | None:
    """The time scale a run gives the emulator (None: the config's own, for --real-time)."""
    return None if real_time else FAST_TIME_SCALE


@dataclass
class EmbeddedTarget:
    profile: Profile
    stop: Callable[[], None]
    time_scale: float = FAST_TIME_SCALE  # the processing time scale the child runs at


def start_embedded(
    config_path: str | Path | None = None, *, real_time: bool = False
) -> EmbeddedTarget:
    """Start the emulator (default or given config) and describe it as a profile.

    Processing is modelled fast (:data:`FAST_TIME_SCALE`) whatever the config says, unless
    ``real_time``: then at the config's own ``[processing] time_scale`` (1 by default).
    """
    from harness.emulator.child import start_child
    from harness.emulator.config import ROLES
    from harness.emulator.wire import CONTROL_PREFIX

    # The emulator runs in its own process so that client and target use both cores.
    running = start_child(config_path, time_scale=run_time_scale(real_time))
    config = running.config
    if config_path is not None and not real_time:
        _say_overridden(config_path)
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
    return EmbeddedTarget(profile, running.stop, config.processing.time_scale)


def _say_overridden(config_path: str | Path) -> None:
    """One line when the config sets its own time scale, which this run does not use."""
    try:
        data = tomllib.loads(Path(config_path).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return  # start_child has read it already; nothing to add
    own = data.get("processing", {}).get("time_scale") if isinstance(data, dict) else None
    if isinstance(own, int | float) and own != FAST_TIME_SCALE:
        sys.stderr.write(
            f"harness: {config_path}: [processing] time_scale = {own:g} is for `harness emulate`;"
            f" this run models processing x {FAST_TIME_SCALE:g} (give --real-time to use {own:g})\n"
        )


def set_run_speed(profile: Profile, *, real_time: bool = False) -> Callable[[], None] | None:
    """A run against a separately started emulator (a profile with ``[emulator]``, e.g. one
    written by ``harness emulate --write-profile``): set its processing time scale to
    :data:`FAST_TIME_SCALE` through the control endpoint, unless ``real_time``.

    Returns how to put the emulator's own time scale back at the end of the run (None:
    nothing was changed). An emulator whose control endpoint does not take the setting
    keeps its own speed, and the run says so on stderr.
    """
    if real_time or profile.emulator is None:
        return None
    control = ControlClient(profile.emulator.url, profile.emulator.token.value)
    try:
        previous = control.set_time_scale(FAST_TIME_SCALE)
    except (httpx.HTTPError, ValueError, KeyError, TypeError) as exc:
        why = (
            f"HTTP {exc.response.status_code}"
            if isinstance(exc, httpx.HTTPStatusError)
            else type(exc).__name__
        )
        sys.stderr.write(
            f"harness: the emulator at {profile.emulator.url} did not take the run's processing "
            f"time scale ({why}); its processing runs at its own [processing] time_scale, "
            "which may be real time (start it with time_scale = 0.002 for a fast run)\n"
        )
        return None
    if previous == FAST_TIME_SCALE:
        return None
    sys.stderr.write(
        f"harness: the emulator's processing is modelled x {FAST_TIME_SCALE:g} for this run "
        f"(its own time_scale {previous:g} is put back at the end; --real-time keeps it)\n"
    )

    def restore() -> None:
        with contextlib.suppress(httpx.HTTPError):  # the emulator went away: nothing to restore
            control.set_time_scale(previous)

    return restore
