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
from harness.emulator.responses import DETAIL_CONCURRENCY

STT_BATCH_PATH = T.VELMA_PATHS["stt-batch"]
STT_STREAM_PATH = T.VELMA_PATHS["stt-stream"]
KUGEL_TTS_PATH = "/v1/tts/generate"
KUGEL_WS_PATH = "/ws/tts"


def kugel_body(status: int, error_code: str, text: str | None = None) -> dict[str, Any]:
    """A KugelAudio error body from the documented table (``text`` replaces the message)."""
    row = next(r for r in T.KUGEL_ERRORS if r.status == status and r.error_code == error_code)
    return {
        "error": text if text is not None else row.message,
        "error_code": error_code,
        "code": status,
    }


KUGEL_RATE_LIMITED = kugel_body(429, "RATE_LIMITED")
#: an ``error`` text that reads like another row (402's): a client parsing it misbehaves
UNUSUAL_ERROR_TEXT = next(r.message for r in T.KUGEL_ERRORS if r.status == 402)

#: check name -> the catalog clause it decides
CHECK_CLAUSES: Mapping[str, str] = MappingProxyType(
    {
        "backoff": "velma/client-backoff-jitter",
        "max-retries": "velma/client-max-retries",
        "all-served": "velma/client-retry-statuses",  # 429/503 retried until served
        "no-retry": "velma/client-retry-statuses",
        "concurrency": "velma/client-semaphore",
        "reconnect-4029": "velma/client-concurrency-retry",  # waits after 4029
        "stream-served": "velma/client-concurrency-retry",  # every stream got its result
        "reconnect-1011": "velma/client-stream-internal-error",
        "served-or-reported": "velma/client-stream-internal-error",
        "stream-no-retry": "velma/client-stream-no-retry",
        "retry-after": "kugel/client-honours-retry-after",
        "kugel-backoff": "kugel/client-backs-off",
        "kugel-served": "kugel/client-backs-off",
        "kugel-no-retry": "kugel/client-no-retry",
        "text-independent": "kugel/client-keys-off-error-code",
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
    path: str = STT_BATCH_PATH  # the surface judged (an HTTP route or a WebSocket path)
    files: int = 2  # fixture files in HARNESS_AUDIO_DIR
    limit: int | None = None  # concurrency limit (the "concurrency" check)
    kugel_role: str = "valid"  # KUGEL_API_KEY: this role's key
    also_paths: tuple[str, ...] = ()  # more paths judged (e.g. both KugelAudio transports)

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


def _ws(close: int, when: str, reject_first: int, detail: str) -> dict[str, Any]:
    """A script for Velma-2 STT streaming: ``error`` + ``close`` at ``when``."""
    return {
        "reject_first": reject_first,
        "ws_close": close,
        "ws_when": when,
        "path_prefix": STT_STREAM_PATH,
        "detail": detail,
    }


def _kugel(status: int, body: dict[str, Any], reject_first: int = 1) -> dict[str, Any]:
    return {
        "reject_first": reject_first,
        "status": status,
        "path_prefix": KUGEL_TTS_PATH,
        "body": body,
    }


def _kugel_ws(close: int, body: dict[str, Any]) -> dict[str, Any]:
    """A script for /ws/tts: each connection's first request gets the ``body`` frame, then
    ``close``."""
    return {
        "reject_first": 1,
        "ws_close": close,
        "ws_when": "first-text",
        "path_prefix": KUGEL_WS_PATH,
        "body": body,
    }


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
        name="velma-stream-4029-connect",
        description="STT streaming: the first 2 connections get error + close 4029 on "
        "connecting (rate limit), then streams are served",
        checks=("reconnect-4029", "stream-served"),
        script=_ws(4029, "connect", 2, DETAIL_CONCURRENCY),
        path=STT_STREAM_PATH,
    ),
    Scenario(
        name="velma-stream-4029-midstream",
        description="STT streaming: each stream's first attempt gets error + close 4029 on "
        "its first audio frame, then it is served",
        checks=("reconnect-4029", "stream-served"),
        script=_ws(4029, "first-binary", 1, DETAIL_CONCURRENCY),
        path=STT_STREAM_PATH,
    ),
    Scenario(
        name="velma-stream-1011-midstream",
        description="STT streaming: each stream's first attempt gets error + close 1011 "
        "(internal error) on its first audio frame, then it is served",
        checks=("reconnect-1011", "served-or-reported"),
        script=_ws(1011, "first-binary", 1, T.DETAIL_INTERNAL),
        path=STT_STREAM_PATH,
    ),
    Scenario(
        name="velma-stream-4001-invalid-key",
        description="STT streaming with an invalid key (close 4001): reconnecting cannot succeed",
        checks=("stream-no-retry",),
        key_role="invalid",
        path=STT_STREAM_PATH,
    ),
    Scenario(
        name="velma-stream-4003-model-not-enabled",
        description="STT streaming, model not enabled for the key (close 4003): reconnecting "
        "cannot succeed",
        checks=("stream-no-retry",),
        key_role="no_model_access",
        path=STT_STREAM_PATH,
    ),
    Scenario(
        name="kugel-429-retry-after",
        description="the first attempt of each KugelAudio synthesis gets 429 with Retry-After: 1.5",
        checks=("retry-after",),
        path=KUGEL_TTS_PATH,
        script={**_kugel(429, KUGEL_RATE_LIMITED), "retry_after": 1.5},
    ),
    Scenario(
        name="kugel-429-backoff",
        description="the first 2 attempts of each KugelAudio synthesis get 429 RATE_LIMITED "
        "without Retry-After",
        checks=("kugel-backoff", "kugel-served"),
        path=KUGEL_TTS_PATH,
        script=_kugel(429, KUGEL_RATE_LIMITED, reject_first=2),
    ),
    Scenario(
        name="kugel-503-overload",
        description="the first attempt of each KugelAudio synthesis gets 503 MODEL_UNAVAILABLE",
        checks=("kugel-backoff", "kugel-served"),
        path=KUGEL_TTS_PATH,
        script=_kugel(503, kugel_body(503, "MODEL_UNAVAILABLE")),
    ),
    Scenario(
        name="kugel-402-insufficient-credits",
        description="the KugelAudio key's organisation has no credits (402; on /ws/tts close "
        "4003): retrying cannot succeed",
        checks=("kugel-no-retry",),
        path=KUGEL_TTS_PATH,
        also_paths=(KUGEL_WS_PATH,),  # close 4003 there
        kugel_role="no_credits",
    ),
    Scenario(
        name="kugel-403-forbidden",
        description="the KugelAudio key may not synthesise (403; on /ws/tts close 4001): "
        "retrying cannot succeed",
        checks=("kugel-no-retry",),
        path=KUGEL_TTS_PATH,
        also_paths=(KUGEL_WS_PATH,),  # close 4001 there
        kugel_role="forbidden",
    ),
    Scenario(
        name="kugel-unusual-error-text",
        description=f"the first attempt of each synthesis gets 429 RATE_LIMITED whose `error` "
        f"text says {UNUSUAL_ERROR_TEXT!r}",
        checks=("text-independent",),
        path=KUGEL_TTS_PATH,
        script=_kugel(429, kugel_body(429, "RATE_LIMITED", UNUSUAL_ERROR_TEXT)),
    ),
    Scenario(
        name="kugel-ws-4029",
        description="/ws/tts: each connection's first request gets a RATE_LIMITED frame and "
        "close 4029, then it is served",
        checks=("kugel-backoff", "kugel-served"),
        path=KUGEL_WS_PATH,
        script=_kugel_ws(4029, KUGEL_RATE_LIMITED),
    ),
    Scenario(
        name="kugel-ws-4500",
        description="/ws/tts: each connection's first request gets a MODEL_UNAVAILABLE frame and "
        "close 4500 (overloaded), then it is served",
        checks=("kugel-backoff", "kugel-served"),
        path=KUGEL_WS_PATH,
        script=_kugel_ws(4500, kugel_body(503, "MODEL_UNAVAILABLE")),
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
                    also_paths=tuple(str(x) for x in raw.get("also_paths", ())),
                )
            )
        except (KeyError, TypeError) as exc:
            raise ValueError(f"{path}: scenario #{i + 1}: missing or bad field {exc}") from None
    return tuple(out)
