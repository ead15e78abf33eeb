"""The emulator's configuration: organisations, keys, limits, faults, switches.

Loaded from TOML into frozen dataclasses. Every field has a default, so an
empty file (or no file) gives the demo setup: one organisation per key role
with small limits. A bad file raises :class:`ConfigError` whose message names
the field and what was expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.contract import Clause
from harness.contract import tables as T

from .alternatives import PRESETS, Choices, resolve_choices
from .benign import DEFAULT_LATENCY_MS, BenignConfig, check_benign_names
from .deviations import check_deviation_names
from .faults import FaultSpec, parse_fault_list
from .kugel.config import KugelConfig, parse_kugel
from .platform.settings import PlatformSettings, parse_platform

SURFACES: tuple[str, ...] = tuple(T.VELMA_PATHS)  # stt-batch ... pii-stream
ROLES: tuple[str, ...] = ("valid", "no_model_access", "quota_exhausted", "invalid")


class ConfigError(ValueError):
    """A configuration value is missing or has the wrong shape; the message says which."""


@dataclass(frozen=True)
class KeyConfig:
    key: str
    org: str
    role: str | None = None  # one of ROLES except "invalid"
    faults: tuple[FaultSpec, ...] = ()
    deviations: frozenset[str] = frozenset()


@dataclass(frozen=True)
class OrgConfig:
    name: str
    models: frozenset[str]  # surfaces this organisation may use
    concurrency: int = 5  # default in-flight limit per model
    concurrency_per_model: Mapping[str, int] = field(default_factory=dict)
    quota_audio_hours: float = 3.0  # monthly limit
    used_audio_hours: float = 0.0  # usage already counted this month

    def limit_for(self, surface: str) -> int:
        return self.concurrency_per_model.get(surface, self.concurrency)


@dataclass(frozen=True)
class ProcessingConfig:
    """The processing-time model: ``duration / speed + base_s``, slept ``* time_scale``."""

    speed: float = 200.0  # times real time
    base_s: float = 0.01
    time_scale: float = 1.0  # 0 = never sleep; 0.01 = a 60 s limit is hit after 0.6 s
    timeout_s: float = T.BATCH_PROCESSING_TIMEOUT_S
    overload_latency_s: float = 0.0  # modelled time before a 503 is returned
    max_upload_bytes: int = T.MAX_BATCH_UPLOAD_BYTES


@dataclass(frozen=True)
class ServerConfig:
    """Limits against slow or hostile clients (see :mod:`harness.emulator.server`)."""

    timeout_keep_alive_s: int = 5  # an idle keep-alive HTTP connection is closed after this
    max_header_bytes: int = 64 * 1024  # request line + headers over this: 400, connection closed
    limit_concurrency: int = 0  # connections + tasks before uvicorn answers 503; 0 = no limit
    ws_max_message_bytes: int = 16 * 1024 * 1024  # a bigger WebSocket message: close 1009
    ws_idle_timeout_s: float = 30.0  # no frame for this long: error + 1011; 0 = never


@dataclass(frozen=True)
class ServeConfig:
    """``[serve]``: what the emulator serves (see :mod:`harness.emulator.serving`)."""

    websocket: bool = True  # false: every WebSocket upgrade is answered HTTP 404 (REST only)
    disabled: frozenset[str] = frozenset()  # surfaces (or kugel-http, kugel-ws, platform): 404


@dataclass(frozen=True)
class EmulatorConfig:
    orgs: Mapping[str, OrgConfig]
    keys: Mapping[str, KeyConfig]
    invalid_key: str = "demo-invalid-key"
    processing: ProcessingConfig = ProcessingConfig()
    server: ServerConfig = ServerConfig()
    serve: ServeConfig = ServeConfig()  # [serve]: surfaces answered 404 as if not served
    faults: tuple[FaultSpec, ...] = ()  # applied to every request
    deviations: frozenset[str] = frozenset()  # enabled for every request
    allow_request_overrides: bool = True  # honour X-Emulator-Fault / X-Emulator-Deviation
    control_token: str | None = None  # None: a random token is made at start-up
    alternatives: Mapping[str, str] = field(default_factory=dict)  # as written in the file
    choices: Choices = field(default_factory=Choices)  # resolved against the catalog
    kugel: KugelConfig = KugelConfig()  # [kugel]: see emulator/kugel
    platform: PlatformSettings = PlatformSettings()  # [platform]: see emulator/platform
    benign: BenignConfig = BenignConfig()  # [benign]: see emulator/benign

    def key_for_role(self, role: str) -> str | None:
        if role == "invalid":
            return self.invalid_key
        for k in self.keys.values():
            if k.role == role:
                return k.key
        return None

    def with_changes(self, **changes: Any) -> EmulatorConfig:
        return replace(self, **changes)


# --------------------------------------------------------------------------- defaults


def default_config(catalog: Iterable[Clause] | None = None) -> EmulatorConfig:
    """The demo setup: one organisation per role, small limits."""
    return load_config_dict({}, catalog=catalog)


_DEFAULT_ORGS: dict[str, dict[str, Any]] = {
    "demo": {
        "models": list(SURFACES),
        "concurrency": 5,
        "quota_audio_hours": 3.0,
        "keys": [{"key": "demo-valid-key", "role": "valid"}],
    },
    "no-models": {
        "models": [],
        "keys": [{"key": "demo-no-model-access-key", "role": "no_model_access"}],
    },
    "exhausted": {
        "models": list(SURFACES),
        "quota_audio_hours": 1.0,
        "used_audio_hours": 1.0,
        "keys": [{"key": "demo-quota-exhausted-key", "role": "quota_exhausted"}],
    },
}


# --------------------------------------------------------------------------- loading


def load_config(path: str | Path | None, catalog: Iterable[Clause] | None = None) -> EmulatorConfig:
    """Read a TOML file (``None``: the defaults)."""
    if path is None:
        return default_config(catalog)
    p = Path(path)
    try:
        raw = p.read_bytes()
    except OSError as exc:
        raise ConfigError(f"{p}: cannot read the config file ({exc.strerror})") from None
    try:
        data = tomllib.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, tomllib.TOMLDecodeError) as exc:
        raise ConfigError(f"{p}: not valid TOML ({exc})") from None
    try:
        return load_config_dict(data, catalog=catalog)
    except ConfigError as exc:
        raise ConfigError(f"{p}: {exc}") from None


_TOP_KEYS = {
    "invalid_key",
    "processing",
    "server",
    "faults",
    "deviations",
    "alternatives",
    "orgs",
    "control",
    "allow_request_overrides",
    "kugel",
    "platform",
    "benign",
    "serve",
}


def load_config_dict(
    data: Mapping[str, Any], catalog: Iterable[Clause] | None = None
) -> EmulatorConfig:
    """Build a config from already-parsed TOML data."""
    _no_unknown(data, _TOP_KEYS, "")
    orgs_raw = _table(data, "orgs", "", default=_DEFAULT_ORGS)
    orgs: dict[str, OrgConfig] = {}
    keys: dict[str, KeyConfig] = {}
    for name, body in orgs_raw.items():
        where = f"orgs.{name}"
        if not isinstance(body, Mapping):
            raise ConfigError(f"{where}: expected a table, got {_kind(body)}")
        org, org_keys = _org(name, body, where)
        orgs[name] = org
        for k in org_keys:
            if k.key in keys:
                raise ConfigError(f"{where}.keys: key {k.key!r} is used twice")
            keys[k.key] = k

    invalid_key = _str(data, "invalid_key", "", default="demo-invalid-key")
    if invalid_key in keys:
        raise ConfigError("invalid_key: must not be a configured key")

    control = _table(data, "control", "", default={})
    _no_unknown(control, {"token"}, "control")
    token = _str(control, "token", "control", default="") or None

    deviations_t = _table(data, "deviations", "", default={})
    _no_unknown(deviations_t, {"enabled"}, "deviations")
    deviations = _deviations(deviations_t, "enabled", "deviations")

    faults_t = _table(data, "faults", "", default={})
    _no_unknown(faults_t, {"enabled"}, "faults")
    faults = _faults(faults_t, "enabled", "faults")

    alternatives = _table(data, "alternatives", "", default={})
    for cid, key in alternatives.items():
        if not isinstance(key, str):
            what = "a preset name" if cid == "preset" else "an alternative key"
            raise ConfigError(f"alternatives.{cid}: expected {what} (string), got {_kind(key)}")
    # `preset` is not a clause ID (those always hold a '/'): it fills in the unnamed ones.
    preset = alternatives.get("preset")
    if preset is not None and preset not in PRESETS:
        raise ConfigError(
            f"alternatives.preset: {preset!r} is not a preset; expected one of {', '.join(PRESETS)}"
        )
    try:
        named = {cid: key for cid, key in alternatives.items() if cid != "preset"}
        choices = resolve_choices(named, catalog, preset=preset)
    except ValueError as exc:
        raise ConfigError(f"alternatives: {exc}") from None

    return EmulatorConfig(
        orgs=MappingProxyType(orgs),
        keys=MappingProxyType(keys),
        invalid_key=invalid_key,
        processing=_processing(_table(data, "processing", "", default={})),
        server=_server(_table(data, "server", "", default={})),
        serve=_serve(_table(data, "serve", "", default={})),
        faults=faults,
        deviations=deviations,
        allow_request_overrides=_bool(data, "allow_request_overrides", "", default=True),
        control_token=token,
        alternatives=MappingProxyType(dict(alternatives)),
        choices=choices,
        kugel=_kugel(data),
        platform=_platform(data, keys),
        benign=_benign(_table(data, "benign", "", default={})),
    )


def _benign(t: Mapping[str, Any]) -> BenignConfig:
    """``[benign]``: ``enabled`` (names from :data:`.benign.BENIGN`) and ``latency_ms``."""
    w = "benign"
    _no_unknown(t, {"enabled", "latency_ms"}, w)
    names = _str_list(t, "enabled", w)
    try:
        check_benign_names(names)
    except ValueError as exc:
        raise ConfigError(f"{w}.enabled: {exc}") from None
    return BenignConfig(
        enabled=frozenset(names),
        latency_ms=_int(t, "latency_ms", w, default=DEFAULT_LATENCY_MS, minimum=0),
    )


def _platform(data: Mapping[str, Any], keys: Mapping[str, KeyConfig]) -> PlatformSettings:
    try:
        return parse_platform(_table(data, "platform", "", default={}), keys)
    except ValueError as exc:
        raise ConfigError(f"platform.{exc}") from None


def _kugel(data: Mapping[str, Any]) -> KugelConfig:
    try:
        return parse_kugel(_table(data, "kugel", "", default={}))
    except ValueError as exc:
        raise ConfigError(str(exc)) from None


def _org(name: str, body: Mapping[str, Any], where: str) -> tuple[OrgConfig, list[KeyConfig]]:
    _no_unknown(
        body,
        {
            "models",
            "concurrency",
            "concurrency_per_model",
            "quota_audio_hours",
            "used_audio_hours",
            "keys",
        },
        where,
    )
    models_raw = body.get("models", list(SURFACES))
    if not isinstance(models_raw, list) or not all(isinstance(m, str) for m in models_raw):
        raise ConfigError(f"{where}.models: expected a list of surface names")
    for m in models_raw:
        if m not in SURFACES:
            raise ConfigError(
                f"{where}.models: {m!r} is not a surface; expected one of {', '.join(SURFACES)}"
            )
    per_model = _table(body, "concurrency_per_model", where, default={})
    for m, v in per_model.items():
        if m not in SURFACES:
            raise ConfigError(
                f"{where}.concurrency_per_model: {m!r} is not a surface; "
                f"expected one of {', '.join(SURFACES)}"
            )
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ConfigError(
                f"{where}.concurrency_per_model.{m}: expected an integer >= 0, got {v!r}"
            )
    org = OrgConfig(
        name=name,
        models=frozenset(models_raw),
        concurrency=_int(body, "concurrency", where, default=5, minimum=0),
        concurrency_per_model=MappingProxyType(dict(per_model)),
        quota_audio_hours=_float(body, "quota_audio_hours", where, default=3.0, minimum=0.0),
        used_audio_hours=_float(body, "used_audio_hours", where, default=0.0, minimum=0.0),
    )
    keys_raw = body.get("keys", [])
    if not isinstance(keys_raw, list):
        raise ConfigError(f"{where}.keys: expected an array of tables ([[{where}.keys]])")
    keys: list[KeyConfig] = []
    for i, k in enumerate(keys_raw):
        kw = f"{where}.keys[{i}]"
        if not isinstance(k, Mapping):
            raise ConfigError(f"{kw}: expected a table with at least `key`")
        _no_unknown(k, {"key", "role", "faults", "deviations"}, kw)
        key = _str(k, "key", kw, default=None)
        if not key:
            raise ConfigError(f"{kw}.key: expected a non-empty string")
        role = _str(k, "role", kw, default="") or None
        if role is not None and role not in ROLES[:-1]:
            raise ConfigError(f"{kw}.role: expected one of {', '.join(ROLES[:-1])}, got {role!r}")
        keys.append(
            KeyConfig(
                key=key,
                org=name,
                role=role,
                faults=_faults(k, "faults", kw),
                deviations=_deviations(k, "deviations", kw),
            )
        )
    return org, keys


def _processing(t: Mapping[str, Any]) -> ProcessingConfig:
    w = "processing"
    _no_unknown(
        t,
        {"speed", "base_s", "time_scale", "timeout_s", "overload_latency_s", "max_upload_bytes"},
        w,
    )
    d = ProcessingConfig()
    speed = _float(t, "speed", w, default=d.speed, minimum=0.0)
    if speed <= 0:
        raise ConfigError(f"{w}.speed: expected a number > 0, got {speed!r}")
    return ProcessingConfig(
        speed=speed,
        base_s=_float(t, "base_s", w, default=d.base_s, minimum=0.0),
        time_scale=_float(t, "time_scale", w, default=d.time_scale, minimum=0.0),
        timeout_s=_float(t, "timeout_s", w, default=d.timeout_s, minimum=0.0),
        overload_latency_s=_float(
            t, "overload_latency_s", w, default=d.overload_latency_s, minimum=0.0
        ),
        max_upload_bytes=_int(t, "max_upload_bytes", w, default=d.max_upload_bytes, minimum=1),
    )


def _serve(t: Mapping[str, Any]) -> ServeConfig:
    from .serving import SERVE_NAMES

    _no_unknown(t, {"websocket", "disabled"}, "serve")
    disabled = _str_list(t, "disabled", "serve")
    for name in disabled:
        if name not in SERVE_NAMES:
            raise ConfigError(
                f"serve.disabled: {name!r} is not a surface; expected any of "
                f"{', '.join(SERVE_NAMES)}"
            )
    return ServeConfig(
        websocket=_bool(t, "websocket", "serve", default=True), disabled=frozenset(disabled)
    )


def _server(t: Mapping[str, Any]) -> ServerConfig:
    w = "server"
    d = ServerConfig()
    _no_unknown(t, set(d.__dataclass_fields__), w)
    return ServerConfig(
        timeout_keep_alive_s=_int(t, "timeout_keep_alive_s", w, d.timeout_keep_alive_s, 1),
        max_header_bytes=_int(t, "max_header_bytes", w, d.max_header_bytes, 1024),
        limit_concurrency=_int(t, "limit_concurrency", w, d.limit_concurrency, 0),
        ws_max_message_bytes=_int(t, "ws_max_message_bytes", w, d.ws_max_message_bytes, 1024),
        ws_idle_timeout_s=_float(t, "ws_idle_timeout_s", w, d.ws_idle_timeout_s, 0.0),
    )


# --------------------------------------------------------------------------- field helpers


def _kind(v: object) -> str:
    return {
        bool: "a boolean",
        int: "an integer",
        float: "a number",
        str: "a string",
        list: "an array",
        dict: "a table",
    }.get(type(v), type(v).__name__)


def _path(where: str, name: str) -> str:
    return f"{where}.{name}" if where else name


def _no_unknown(t: Mapping[str, Any], allowed: set[str], where: str) -> None:
    for k in t:
        if k not in allowed:
            raise ConfigError(
                f"{_path(where, k)}: unknown field; expected one of {', '.join(sorted(allowed))}"
            )


def _table(t: Mapping[str, Any], name: str, where: str, default: Any) -> Mapping[str, Any]:
    v = t.get(name, default)
    if not isinstance(v, Mapping):
        raise ConfigError(f"{_path(where, name)}: expected a table, got {_kind(v)}")
    return v


def _str(t: Mapping[str, Any], name: str, where: str, default: str | None) -> str:
    v = t.get(name, default)
    if not isinstance(v, str):
        raise ConfigError(f"{_path(where, name)}: expected a string, got {_kind(v)}")
    return v


def _bool(t: Mapping[str, Any], name: str, where: str, default: bool) -> bool:
    v = t.get(name, default)
    if not isinstance(v, bool):
        raise ConfigError(f"{_path(where, name)}: expected true or false, got {_kind(v)}")
    return v


def _int(t: Mapping[str, Any], name: str, where: str, default: int, minimum: int) -> int:
    v = t.get(name, default)
    if not isinstance(v, int) or isinstance(v, bool) or v < minimum:
        raise ConfigError(f"{_path(where, name)}: expected an integer >= {minimum}, got {v!r}")
    return v


def _float(t: Mapping[str, Any], name: str, where: str, default: float, minimum: float) -> float:
    v = t.get(name, default)
    if not isinstance(v, int | float) or isinstance(v, bool) or v < minimum:
        raise ConfigError(f"{_path(where, name)}: expected a number >= {minimum:g}, got {v!r}")
    return float(v)


def _str_list(t: Mapping[str, Any], name: str, where: str) -> list[str]:
    v = t.get(name, [])
    if not isinstance(v, list) or not all(isinstance(x, str) for x in v):
        raise ConfigError(f"{_path(where, name)}: expected a list of strings")
    return v


def _deviations(t: Mapping[str, Any], name: str, where: str) -> frozenset[str]:
    names = _str_list(t, name, where)
    try:
        check_deviation_names(names)
    except ValueError as exc:
        raise ConfigError(f"{_path(where, name)}: {exc}") from None
    return frozenset(names)


def _faults(t: Mapping[str, Any], name: str, where: str) -> tuple[FaultSpec, ...]:
    items = _str_list(t, name, where)
    try:
        return parse_fault_list(items)
    except ValueError as exc:
        raise ConfigError(f"{_path(where, name)}: {exc}") from None
