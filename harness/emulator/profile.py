"""The target profile ``harness emulate --write-profile`` writes: base URLs, keys by role, limits.

The limits are the emulator's own: the concurrency limit of the ``valid`` key's
organisation on every Velma-2 surface (per-model overrides applied) under
``[velma.limits.concurrency]``, and KugelAudio's character limit, as the embedded
target states them (:mod:`harness.embedded`), so admission cases run against a
standalone emulator too.
"""

from __future__ import annotations

import json

from harness.contract.tables import VELMA_PATHS

from .config import ROLES, EmulatorConfig
from .wire import CONTROL_PREFIX


def _s(value: str) -> str:
    """A TOML basic string (JSON string escapes are valid TOML)."""
    return json.dumps(value)


def profile_toml(base_url: str, config: EmulatorConfig, token: str) -> str:
    ws_url = "ws" + base_url[len("http") :] if base_url.startswith("http") else base_url
    lines = [
        "# Target profile for the embedded emulator (written by `harness emulate`).",
        'name = "embedded-emulator"',
        'kind = "emulator"',
        "",
        "[velma]",
        f"base_url = {_s(base_url)}",
        f"ws_base_url = {_s(ws_url)}",
        "",
        "[velma.keys]",
    ]
    for role in ROLES:
        key = config.key_for_role(role)
        if key is not None:
            lines.append(f"{role} = {_s(key)}")
    valid = config.key_for_role("valid")
    if valid is not None:
        org = config.orgs[config.keys[valid].org]
        lines += ["", "[velma.limits.concurrency]"]
        lines += [f"{surface} = {org.limit_for(surface)}" for surface in VELMA_PATHS]
    account = config.platform.default_account
    if account is not None:
        lines += [
            "",
            "[platform]",
            f"base_url = {_s(base_url)}",
            f"accountuuid = {_s(account.accountuuid)}",
            f"apikey = {_s(account.apikey)}",
        ]
    lines += ["", "[kugel]", f"base_url = {_s(base_url)}", f"ws_base_url = {_s(ws_url)}"]
    lines += ["", "[kugel.keys]"]
    lines += [f"{role} = {_s(key)}" for role, key in sorted(config.kugel.keys.items())]
    lines += ["", "[kugel.limits]", f"max_characters = {config.kugel.max_chars}"]
    lines += [
        "",
        "[emulator]",
        f"control_url = {_s(base_url + CONTROL_PREFIX)}",
        f"control_token = {_s(token)}",
        "",
    ]
    return "\n".join(lines)
