"""The emulator's configuration: organisations, keys, limits, faults, switches.

Loaded from TOML into frozen dataclasses with :mod:`harness.configio` (the harness's one
typed reader). Every field has a default, so an empty file (or no file) gives the demo
setup: one organisation per key role with small limits. A bad file raises
:class:`ConfigError` whose message names the field and what was expected.
"""

from __future__ import annotations

import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness import configio as cio
from harness.configio import FieldError, read, setting
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

    speed: float = setting(200.0, above=0)  # times real time
    base_s: float = setting(0.01, minimum=0)
    time_scale: float = setting(1.0, minimum=0)  # 0 = never sleep; 0.01: 60 s pass in 0.6 s
    timeout_s: float = setting(T.BATCH_PROCESSING_TIMEOUT_S, minimum=0)
    overload_latency_s: float = setting(0.0, minimum=0)  # modelled time before a 503
    # latency that grows with load (streams): each message of a session waits knee_latency_s
    # for every stream of its organisation and model in flight beyond knee_in_flight (0: off)
    knee_in_flight: int = setting(0, minimum=0)
    knee_latency_s: float = setting(0.0, minimum=0)
    max_upload_bytes: int = setting(T.MAX_BATCH_UPLOAD_BYTES, minimum=1)


@dataclass(frozen=True)
class ServerConfig:
    """Limits against slow or hostile clients (see :mod:`harness.emulator.server`)."""

    # an idle keep-alive HTTP connection is closed after this
    timeout_keep_alive_s: int = setting(5, minimum=1)
    # request line + headers over this: 400, connection closed
    max_header_bytes: int = setting(64 * 1024, minimum=1024)
    # connections + tasks before uvicorn answers 503; 0 = no limit
    limit_concurrency: int = setting(0, minimum=0)
    # a bigger WebSocket message: close 1009
    ws_max_message_bytes: int = setting(16 * 1024 * 1024, minimum=1024)
    # no frame for this long: error + 1011; 0 = never
    ws_idle_timeout_s: float = setting(30.0, minimum=0)


def _serve_names() -> tuple[str, ...]:
    from .serving import SERVE_NAMES  # serving reads this config: imported when needed

    return tuple(SERVE_NAMES)


@dataclass(frozen=True)
class ServeConfig:
    """``[serve]``: what the emulator serves (see :mod:`harness.emulator.serving`)."""

    websocket: bool = True  # false: every WebSocket upgrade is answered HTTP 404 (REST only)
    # surfaces (or kugel-http, kugel-ws, platform) answered 404
    disabled: frozenset[str] = setting(frozenset(), choices=_serve_names)


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


def load_emulator_config(
    path: str | Path | None, catalog: Iterable[Clause] | None = None
) -> EmulatorConfig:
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
    try:
        return _read(data, catalog)
    except FieldError as exc:
        raise ConfigError(str(exc)) from None


def _read(data: Mapping[str, Any], catalog: Iterable[Clause] | None) -> EmulatorConfig:
    cio.known(data, _TOP_KEYS, "")
    orgs: dict[str, OrgConfig] = {}
    keys: dict[str, KeyConfig] = {}
    for name, body in cio.table(data.get("orgs", _DEFAULT_ORGS), "orgs").items():
        org, org_keys = _org(name, cio.table(body, f"orgs.{name}"), f"orgs.{name}")
        orgs[name] = org
        for k in org_keys:
            if k.key in keys:
                raise FieldError(f"orgs.{name}.keys", f"key {k.key!r} is used twice")
            keys[k.key] = k

    invalid_key = cio.string(data.get("invalid_key", "demo-invalid-key"), "invalid_key")
    if invalid_key in keys:
        raise FieldError("invalid_key", "must not be a configured key")
    control = _section(data, "control", ("token",))
    deviations = _deviations(_section(data, "deviations", ("enabled",)), "enabled", "deviations")
    faults = _faults(_section(data, "faults", ("enabled",)), "enabled", "faults")
    alternatives, choices = _alternatives(
        cio.table(data.get("alternatives", {}), "alternatives"), catalog
    )
    overrides = data.get("allow_request_overrides", True)
    return EmulatorConfig(
        orgs=MappingProxyType(orgs),
        keys=MappingProxyType(keys),
        invalid_key=invalid_key,
        processing=read(ProcessingConfig, data.get("processing", {}), "processing"),
        server=read(ServerConfig, data.get("server", {}), "server"),
        serve=read(ServeConfig, data.get("serve", {}), "serve"),
        faults=faults,
        deviations=deviations,
        allow_request_overrides=cio.boolean(overrides, "allow_request_overrides"),
        control_token=cio.string(control.get("token", ""), "control.token") or None,
        alternatives=MappingProxyType(dict(alternatives)),
        choices=choices,
        kugel=parse_kugel(data.get("kugel", {})),
        platform=_platform(data, keys),
        benign=_benign(_section(data, "benign", ("enabled", "latency_ms"))),
    )


def _section(data: Mapping[str, Any], name: str, allowed: tuple[str, ...]) -> Mapping[str, Any]:
    t = cio.table(data.get(name, {}), name)
    cio.known(t, allowed, name)
    return t


def _alternatives(
    t: Mapping[str, Any], catalog: Iterable[Clause] | None
) -> tuple[Mapping[str, Any], Choices]:
    """``[alternatives]``: clause ID -> documented side, and ``preset`` for the unnamed ones."""
    for cid, key in t.items():
        if not isinstance(key, str):
            what = "a preset name" if cid == "preset" else "an alternative key"
            raise FieldError.expected(f"alternatives.{cid}", what, key)
    # `preset` is not a clause ID (those always hold a '/'): it fills in the unnamed ones.
    preset = t.get("preset")
    if preset is not None:
        cio.choice(preset, "alternatives.preset", PRESETS)
    named = {cid: key for cid, key in t.items() if cid != "preset"}
    choices = cio.checked(
        "alternatives", lambda n: resolve_choices(n, catalog, preset=preset), named
    )
    return t, choices


def _benign(t: Mapping[str, Any]) -> BenignConfig:
    """``[benign]``: ``enabled`` (names from :data:`.benign.BENIGN`) and ``latency_ms``."""
    names = cio.strings(t.get("enabled", []), "benign.enabled")
    cio.checked("benign.enabled", check_benign_names, names)
    latency = cio.integer(t.get("latency_ms", DEFAULT_LATENCY_MS), "benign.latency_ms", minimum=0)
    return BenignConfig(enabled=frozenset(names), latency_ms=latency)


def _platform(data: Mapping[str, Any], keys: Mapping[str, KeyConfig]) -> PlatformSettings:
    return parse_platform(cio.table(data.get("platform", {}), "platform"), keys)


_ORG_FIELDS = (
    "models",
    "concurrency",
    "concurrency_per_model",
    "quota_audio_hours",
    "used_audio_hours",
    "keys",
)


def _org(name: str, body: Mapping[str, Any], where: str) -> tuple[OrgConfig, list[KeyConfig]]:
    cio.known(body, _ORG_FIELDS, where)
    models = cio.strings(body.get("models", list(SURFACES)), f"{where}.models", SURFACES)
    per_model = cio.table(body.get("concurrency_per_model", {}), f"{where}.concurrency_per_model")
    for m, v in per_model.items():
        cio.choice(m, f"{where}.concurrency_per_model", SURFACES)
        cio.integer(v, f"{where}.concurrency_per_model.{m}", minimum=0)
    org = OrgConfig(
        name=name,
        models=frozenset(models),
        concurrency=cio.integer(body.get("concurrency", 5), f"{where}.concurrency", minimum=0),
        concurrency_per_model=MappingProxyType(dict(per_model)),
        quota_audio_hours=cio.number(
            body.get("quota_audio_hours", 3.0), f"{where}.quota_audio_hours", minimum=0
        ),
        used_audio_hours=cio.number(
            body.get("used_audio_hours", 0.0), f"{where}.used_audio_hours", minimum=0
        ),
    )
    keys = [
        _key(name, cio.table(k, f"{where}.keys[{i}]"), f"{where}.keys[{i}]")
        for i, k in enumerate(cio.array(body.get("keys", []), f"{where}.keys"))
    ]
    return org, keys


def _key(org: str, k: Mapping[str, Any], where: str) -> KeyConfig:
    cio.known(k, ("key", "role", "faults", "deviations"), where)
    role = cio.string(k.get("role", ""), f"{where}.role") or None
    return KeyConfig(
        key=cio.string(k.get("key", cio.NOTHING), f"{where}.key", nonempty=True),
        org=org,
        role=cio.choice(role, f"{where}.role", ROLES[:-1]) if role is not None else None,
        faults=_faults(k, "faults", where),
        deviations=_deviations(k, "deviations", where),
    )


def _deviations(t: Mapping[str, Any], name: str, where: str) -> frozenset[str]:
    path = cio.join(where, name)
    names = cio.strings(t.get(name, []), path)
    cio.checked(path, check_deviation_names, names)
    return frozenset(names)


def _faults(t: Mapping[str, Any], name: str, where: str) -> tuple[FaultSpec, ...]:
    path = cio.join(where, name)
    return cio.checked(path, parse_fault_list, cio.strings(t.get(name, []), path))
