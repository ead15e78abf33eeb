"""Audit scenarios as data: a scripted fault plan for the emulator plus what is judged.

A scenario names the emulator config (TOML data for :func:`harness.emulator.child.start_child`),
an optional refusal script (:class:`harness.emulator.record.Script`), the key the client is
given, and the checks (:mod:`.judge`) with the clauses they decide. ``load_scenarios(path)``
reads more from TOML::

    [[scenario]]
    name = "my-429"
    description = "..."
    checks = ["backoff", "max-retries", "all-served"]
    script = { reject_first = 3, status = 429 }
"""

from __future__ import annotations

import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

from harness.contract import tables as T

STT_BATCH_PATH = T.VELMA_PATHS["stt-batch"]
KUGEL_TTS_PATH = "/v1/tts/generate"
KUGEL_RATE_LIMITED = {"error": "Rate limit exceeded", "error_code": "RATE_LIMITED", "code": 429}

#: check name -> the catalog clause it decides
CHECK_CLAUSES: Mapping[str, str] = MappingProxyType(
    {
        "backoff": "velma/client-backoff-jitter",
        "max-retries": "velma/client-max-retries",
        "all-served": "velma/client-retry-statuses",  # 429/503 retried until served
        "no-retry": "velma/client-retry-statuses",
        "concurrency": "velma/client-semaphore",
        "retry-after": "kugel/client-honours-retry-after",
    }
)


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    checks: tuple[str, ...]
    script: Mapping[str, Any] | None = None  # POST /_emulator/script
    emulator: Mapping[str, Any] = field(default_factory=dict)  # emulator TOML data
    key_role: str = "valid"  # MODULATE_API_KEY: this role's key
    path: str = STT_BATCH_PATH  # the surface judged
    files: int = 2  # fixture files in HARNESS_AUDIO_DIR
    limit: int | None = None  # concurrency limit (the "concurrency" check)
    kugel_role: str = "valid"  # KUGEL_API_KEY: this role's key

    def __post_init__(self) -> None:
        unknown = [c for c in self.checks if c not in CHECK_CLAUSES]
        if unknown:
            raise ValueError(
                f"scenario {self.name!r}: unknown checks {unknown}; known: {', '.join(CHECK_CLAUSES)}"
            )

    @property
    def clauses(self) -> tuple[str, ...]:
        return tuple(dict.fromkeys(CHECK_CLAUSES[c] for c in self.checks))


def _limited(n: int) -> dict[str, Any]:
    """Emulator data whose ``valid`` organisation may run ``n`` uploads at once."""
    org = {"models": ["stt-batch"], "concurrency": n}
    return {"orgs": {"audit": {**org, "keys": [{"key": "audit-valid-key", "role": "valid"}]}}}


BUILTIN: tuple[Scenario, ...] = (
    Scenario(
        name="velma-batch-429-burst",
        description="the first 2 attempts of each upload get 429, then it is served",
        checks=("backoff", "max-retries", "all-served"),
        script={"reject_first": 2, "status": 429, "path_prefix": STT_BATCH_PATH},
    ),
    Scenario(
        name="velma-batch-503-overload",
        description="the first attempt of each upload gets 503 (overloaded), then it is served",
        checks=("backoff", "max-retries", "all-served"),
        script={
            "reject_first": 1,
            "status": 503,
            "path_prefix": STT_BATCH_PATH,
            "detail": T.DETAIL_UNAVAILABLE,
        },
    ),
    Scenario(
        name="velma-batch-401-invalid-key",
        description="the key is invalid (401): retrying cannot succeed",
        checks=("no-retry",),
        key_role="invalid",
    ),
    Scenario(
        name="velma-batch-403-model-not-enabled",
        description="the model is not enabled for the key (403): retrying cannot succeed",
        checks=("no-retry",),
        key_role="no_model_access",
    ),
    Scenario(
        name="velma-batch-concurrency-limit",
        description="4 files, the organisation may run 2 at once (429 beyond)",
        checks=("concurrency", "all-served"),
        emulator=_limited(2),
        files=4,
        limit=2,
    ),
    Scenario(
        name="kugel-429-retry-after",
        description="the first attempt of each KugelAudio synthesis gets 429 with Retry-After: 1.5",
        checks=("retry-after",),
        path=KUGEL_TTS_PATH,
        script={
            "reject_first": 1,
            "status": 429,
            "path_prefix": KUGEL_TTS_PATH,
            "retry_after": 1.5,
            "body": KUGEL_RATE_LIMITED,
        },
    ),
)


def builtin(name: str) -> Scenario:
    for s in BUILTIN:
        if s.name == name:
            return s
    raise KeyError(name)


def load_scenarios(path: str | Path) -> tuple[Scenario, ...]:
    """More scenarios from a TOML file (``[[scenario]]`` tables); ``ValueError`` if bad."""
    try:
        data = tomllib.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, tomllib.TOMLDecodeError) as exc:
        raise ValueError(f"{path}: {exc}") from None
    out = []
    for i, raw in enumerate(data.get("scenario", [])):
        try:
            out.append(
                Scenario(
                    name=str(raw["name"]),
                    description=str(raw.get("description", "")),
                    checks=tuple(str(c) for c in raw["checks"]),
                    script=raw.get("script"),
                    emulator=raw.get("emulator", {}),
                    key_role=str(raw.get("key_role", "valid")),
                    path=str(raw.get("path", STT_BATCH_PATH)),
                    files=int(raw.get("files", 2)),
                    limit=raw.get("limit"),
                    kugel_role=str(raw.get("kugel_role", "valid")),
                )
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: scenario #{i + 1}: missing or bad field {exc}") from None
    return tuple(out)
