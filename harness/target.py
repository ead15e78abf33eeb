"""Target profiles: where the target lives, which keys play which role, what to expect.

A profile is a TOML file. Any string value may hold ``${NAME}`` references, filled
from the environment and from a ``.env`` file (the profile's folder first, then the
current directory; the real environment wins). A bad profile raises
:class:`ProfileError` naming the field and what was expected, in the wording of
:mod:`harness.configio` (the harness's one typed reader).

Starting the embedded emulator is not this module's job (see ``harness.embedded``):
this module only reads and checks profiles.

Example::

    name = "staging"
    kind = "live"                       # or "emulator"

    [velma]
    base_url = "https://modulate-developer-apis.com"
    ws_base_url = "wss://modulate-developer-apis.com"   # default: base_url with ws(s)://
    [velma.keys]
    valid = "${MODULATE_API_KEY}"
    no_model_access = "${MODULATE_KEY_NO_MODEL}"
    [velma.limits.concurrency]
    stt-batch = 5

    [expect]                            # which documented side of a disagreement to expect
    "svd-batch/concurrency-limit" = "429"
"""

from __future__ import annotations

import os
import re
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness import configio as cio
from harness.configio import FieldError

VELMA_ROLES = ("valid", "no_model_access", "quota_exhausted", "invalid")
KUGEL_ROLES = ("valid", "no_credits", "forbidden", "rate_limited", "invalid")
PLATFORM_FIELDS = ("accountuuid", "apikey")
KINDS = ("emulator", "live")
DEFAULT_TIMEOUT_S = 15.0

_REF = re.compile(r"\$\{([A-Za-z_][A-Za-z0-9_]*)\}")


class ProfileError(ValueError):
    """A profile that cannot be used; the message names the field and what was expected."""


@dataclass(frozen=True)
class Secret:
    """A credential: its value, and the ``${ENV}`` name it came from (for reproducers)."""

    value: str
    env: str | None = None

    def reference(self, fallback: str) -> str:
        """What a reproducer should print instead of the value."""
        return f"${{{self.env or fallback}}}"

    def __repr__(self) -> str:  # never print the value by accident
        return f"Secret(env={self.env!r})"


@dataclass(frozen=True)
class Service:
    """One vendor surface group: base URLs and keys by role."""

    base_url: str | None = None
    ws_base_url: str | None = None
    keys: Mapping[str, Secret] = field(default_factory=dict)
    limits: Mapping[str, Any] = field(default_factory=dict)

    def key(self, role: str) -> Secret | None:
        return self.keys.get(role)


@dataclass(frozen=True)
class EmulatorControl:
    url: str
    token: Secret


@dataclass(frozen=True)
class Profile:
    name: str
    kind: str  # "emulator" | "live"
    velma: Service = field(default_factory=Service)
    platform: Service = field(default_factory=Service)
    kugel: Service = field(default_factory=Service)
    expect: Mapping[str, str] = field(default_factory=dict)  # clause ID -> alternative key
    timeout_s: float = DEFAULT_TIMEOUT_S
    max_cost_usd: float | None = None
    emulator: EmulatorControl | None = None
    source: str = "<embedded>"

    @property
    def is_live(self) -> bool:
        return self.kind == "live"

    def secrets(self) -> list[Secret]:
        found = [s for svc in (self.velma, self.platform, self.kugel) for s in svc.keys.values()]
        if self.emulator is not None:
            found.append(self.emulator.token)
        return found

    def base_urls(self) -> dict[str, str]:
        urls = {
            "velma_http": self.velma.base_url,
            "velma_ws": self.velma.ws_base_url,
            "platform_http": self.platform.base_url,
            "kugel_http": self.kugel.base_url,
            "kugel_ws": self.kugel.ws_base_url,
        }
        return {k: v for k, v in urls.items() if v}


# --------------------------------------------------------------------------- .env


def read_dotenv(path: Path) -> dict[str, str]:
    """``KEY=VALUE`` lines; ``#`` comments, ``export`` prefixes and quotes allowed."""
    values: dict[str, str] = {}
    if not path.is_file():
        return values
    for n, raw in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        if line.startswith("export "):
            line = line[len("export ") :].lstrip()
        name, sep, value = line.partition("=")
        name = name.strip()
        if not sep or not re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            raise ProfileError(f"{path}:{n}: expected NAME=VALUE")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        values[name] = value
    return values


def environment_for(profile_path: Path | None) -> dict[str, str]:
    env: dict[str, str] = {}
    places = [Path.cwd() / ".env"]
    if profile_path is not None:
        places.insert(0, profile_path.parent / ".env")
    for place in reversed(places):  # nearer files win over farther ones
        env.update(read_dotenv(place))
    env.update(os.environ)  # the real environment wins
    return env


# --------------------------------------------------------------------------- loading


class _Reader:
    """A profile's ``${ENV}`` strings and URLs, on top of :mod:`harness.configio`."""

    def __init__(self, source: str, env: Mapping[str, str]) -> None:
        self.source = source
        self.env = env

    def string(self, t: Mapping[str, Any], name: str, where: str) -> tuple[str, str | None] | None:
        """The expanded value and the ``${ENV}`` name it came from (``None``: absent)."""
        if name not in t:
            return None
        path = cio.join(where, name)
        value = cio.string(t[name], path)
        refs = _REF.findall(value)
        missing = [r for r in refs if r not in self.env]
        if missing:
            raise FieldError(
                path, f"environment variable {', '.join(missing)} is not set (nor in a .env file)"
            )
        expanded = _REF.sub(lambda m: self.env[m.group(1)], value)
        env_name = refs[0] if len(refs) == 1 and value.strip() == f"${{{refs[0]}}}" else None
        return expanded, env_name

    def url(
        self, t: Mapping[str, Any], name: str, where: str, schemes: tuple[str, ...]
    ) -> str | None:
        want = f"a URL starting with {' or '.join(s + '://' for s in schemes)}"
        if name in t and not isinstance(t[name], str):
            raise FieldError.expected(cio.join(where, name), want, t[name])
        got = self.string(t, name, where)
        if got is None:
            return None
        value = got[0].rstrip("/")
        parts = urlsplit(value)
        if parts.scheme not in schemes or not parts.hostname:
            raise FieldError.expected(cio.join(where, name), want, value)
        return value


def _section(top: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    t = cio.table(top.get(name, {}), name)
    cio.known(t, allowed, name)
    return t


def _number(t: Mapping[str, Any], name: str, where: str, minimum: float) -> float | None:
    return cio.number(t[name], cio.join(where, name), minimum=minimum) if name in t else None


def _service(
    r: _Reader,
    top: Mapping[str, Any],
    name: str,
    roles: tuple[str, ...],
    *,
    ws: bool,
) -> Service:
    allowed = (
        ("base_url", "ws_base_url", "keys", "limits") if ws else ("base_url", "keys", "limits")
    )
    if name == "platform":
        allowed = ("base_url", *PLATFORM_FIELDS)
    t = _section(top, name, allowed)
    base = r.url(t, "base_url", name, ("http", "https"))
    ws_base = r.url(t, "ws_base_url", name, ("ws", "wss")) if ws else None
    if ws and base and not ws_base:
        ws_base = "ws" + base[len("http") :]
    keys: dict[str, Secret] = {}
    if name == "platform":
        for f in PLATFORM_FIELDS:
            got = r.string(t, f, name)
            if got is not None:
                keys[f] = Secret(*got)
        return Service(base, None, keys, {})
    kt = cio.table(t.get("keys", {}), f"{name}.keys")
    cio.known(kt, roles, f"{name}.keys")
    for role in roles:
        got = r.string(kt, role, f"{name}.keys")
        if got is not None:
            keys[role] = Secret(*got)
    limits = dict(cio.table(t.get("limits", {}), f"{name}.limits"))
    return Service(base, ws_base, keys, limits)


def load_profile(path: str | Path, env: Mapping[str, str] | None = None) -> Profile:
    """Read and check a profile file."""
    p = Path(path)
    if not p.is_file():
        raise ProfileError(f"{p}: no such profile file")
    try:
        data = tomllib.loads(p.read_text(encoding="utf-8"))
    except tomllib.TOMLDecodeError as exc:
        raise ProfileError(f"{p}: not valid TOML: {exc}") from None
    except UnicodeDecodeError:
        raise ProfileError(f"{p}: not UTF-8 text") from None
    return profile_from_dict(
        data, source=str(p), env=env if env is not None else environment_for(p)
    )


def profile_from_dict(
    data: Mapping[str, Any], *, source: str = "<profile>", env: Mapping[str, str] | None = None
) -> Profile:
    try:
        return _profile(_Reader(source, env if env is not None else dict(os.environ)), data)
    except FieldError as exc:
        raise ProfileError(f"{source}: {exc}") from None


_TOP = ("name", "kind", "velma", "platform", "kugel", "expect", "run", "safety", "emulator")


def _profile(r: _Reader, data: Mapping[str, Any]) -> Profile:
    source = r.source
    cio.known(data, _TOP, "")
    name = (r.string(data, "name", "") or ("unnamed target", None))[0]
    kind = cio.choice((r.string(data, "kind", "") or ("live", None))[0], "kind", KINDS)
    velma = _service(r, data, "velma", VELMA_ROLES, ws=True)
    platform = _service(r, data, "platform", (), ws=False)
    kugel = _service(r, data, "kugel", KUGEL_ROLES, ws=True)
    if not (velma.base_url or platform.base_url or kugel.base_url):
        raise FieldError(
            "", "expected at least one of velma.base_url, platform.base_url, kugel.base_url"
        )
    expect = _expectations(cio.table(data.get("expect", {}), "expect"))
    timeout = _number(_section(data, "run", ("timeout_s",)), "timeout_s", "run", 0.1)
    max_cost = _number(_section(data, "safety", ("max_cost_usd",)), "max_cost_usd", "safety", 0)
    emu = _section(data, "emulator", ("control_url", "control_token"))
    control = None
    if emu:
        url = r.url(emu, "control_url", "emulator", ("http", "https"))
        token = r.string(emu, "control_token", "emulator")
        if url and token:
            control = EmulatorControl(url, Secret(*token))
    return Profile(
        name=name,
        kind=kind,
        velma=velma,
        platform=platform,
        kugel=kugel,
        expect=expect,
        timeout_s=timeout or DEFAULT_TIMEOUT_S,
        max_cost_usd=max_cost,
        emulator=control,
        source=source,
    )


def _expectations(t: Mapping[str, Any]) -> dict[str, str]:
    from harness.contract import UnknownClauseError, get

    out: dict[str, str] = {}
    for clause_id, key in t.items():
        where = f'expect."{clause_id}"'
        try:
            clause = get(clause_id)
        except UnknownClauseError as exc:
            raise FieldError(where, str(exc)) from None
        if not clause.disputed:
            raise FieldError(
                where,
                "the documents agree on this clause; only disputed clauses take an expectation "
                "(see `harness contract list --disputed`)",
            )
        out[clause_id] = cio.choice(key, where, [a.key for a in clause.alternatives])
    return out
