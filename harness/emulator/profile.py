"""The target profile ``harness emulate --write-profile`` writes: base URLs and keys by role."""

from __future__ import annotations

import json

from .config import ROLES, EmulatorConfig


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
    lines += [
        "",
        "[emulator]",
        f"control_url = {_s(base_url + '/_emulator')}",
        f"control_token = {_s(token)}",
        "",
    ]
    return "\n".join(lines)
