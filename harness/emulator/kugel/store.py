"""What the KugelAudio surfaces hold: voices, references, dictionaries, usage.

One :class:`KugelStore` per app. Each key role is an organisation with one project
(``valid`` 1, ``no_credits`` 2, ``forbidden`` 3, ``rate_limited`` 4). Public voices
1-3 are seen by everybody; voice 99 is private to the ``forbidden`` organisation, so
it is "not visible" (404) to the others. Everything runs on the server's one event
loop; the lock only guards the control endpoint's thread-crossing reads.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from starlette.requests import HTTPConnection

from harness.contract import kugel_api as api
from harness.contract import schemas_kugel as schemas
from harness.records import Record, json_keys

from ..wire import FETCH_VOICE_FAILED, MODEL_UNAVAILABLE, OVERLOAD
from . import errors as E
from .config import ORG_ROLES, KugelConfig
from .validate import ascii_int

PROJECT_OF: dict[str, int] = {role: i + 1 for i, role in enumerate(ORG_ROLES)}
PRIVATE_VOICE_ID = 99


def now_iso() -> str:
    return datetime.now(UTC).isoformat().replace("+00:00", "Z")


#: Voice properties on the wire that repeat another field (the API keeps both names).
_VOICE_ALIASES = {"voice_id": "id", "public_id": "handle"}


@dataclass
class Voice:
    id: int
    name: str
    owner: str | None  # org role; None = public catalogue
    handle: str | None = None
    description: str = ""
    category: str = "cloned"
    sex: str | None = None
    age: str | None = None
    quality: str = "mid"
    supported_languages: list[str] = field(default_factory=lambda: ["en"])
    generative_voice_description: str = ""
    is_public: bool = False
    verified: bool = False
    pending_verification: bool = False
    sample_text: str = ""
    sample_url: str | None = None
    references: dict[int, dict[str, Any]] = field(default_factory=dict)

    def info(self) -> dict[str, Any]:
        """The wire body of a voice as listed or fetched (the contract's ``VoiceInfo``)."""
        return self._body(schemas.VOICE_INFO)

    def detail(self) -> dict[str, Any]:
        """The wire body after create, update, publish (the contract's ``VoiceDetailInfo``)."""
        return self._body(schemas.VOICE_DETAIL_INFO)

    def _body(self, schema: Mapping[str, Any]) -> dict[str, Any]:
        """Every property ``schema`` lists, in its order, from the field of the same name (or
        the one it aliases); a property with no field (``avatar_url``) is null."""
        out: dict[str, Any] = {}
        for name in schema["properties"]:
            value = getattr(self, _VOICE_ALIASES.get(name, name), None)
            out[name] = list(value) if isinstance(value, list) else value
        return out


@dataclass
class Dictionary(Record):
    id: int
    project_id: int
    name: str
    description: str | None = None
    language: str | None = None
    is_active: bool = True
    created_at: str = field(default_factory=now_iso)
    updated_at: str = field(default_factory=now_iso)
    entries: dict[int, dict[str, Any]] = field(default_factory=dict)

    _KEYS = json_keys("id project_id name description language is_active created_at updated_at")

    def body(self) -> dict[str, Any]:
        """The wire body (every field but ``entries``)."""
        return self.to_dict()


@dataclass(frozen=True)
class Caller:
    role: str
    key: str
    faults: frozenset[str]  # the KugelAudio faults of this request (FaultPlan.kugel)
    deviations: frozenset[str]

    @property
    def project(self) -> int:
        return PROJECT_OF[self.role]


def _public_voices() -> dict[int, Voice]:
    voices = {
        1: Voice(1, "Anna", None, "kugel-anna", "Calm narrator", "premade", "female"),
        2: Voice(2, "Ben", None, "kugel-ben", "Bright presenter", "premade", "male"),
        3: Voice(3, "Clara", None, "kugel-clara", "Warm support agent", "premade", "female"),
        PRIVATE_VOICE_ID: Voice(PRIVATE_VOICE_ID, "Private", "forbidden", "private-voice"),
    }
    for v in voices.values():
        v.is_public = v.owner is None
        v.verified = v.owner is None
    return voices


class KugelStore:
    def __init__(self, config: KugelConfig) -> None:
        self.config = config
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.voices = _public_voices()
            self.dictionaries: dict[int, Dictionary] = {}
            self.used_chars: dict[str, int] = dict.fromkeys(ORG_ROLES, 0)
            self.requests: dict[str, deque[float]] = {r: deque() for r in ORG_ROLES}
            self._next = {"voice": 100, "ref": 1, "dict": 1, "entry": 1}

    def next_id(self, kind: str) -> int:
        n = self._next[kind]
        self._next[kind] = n + 1
        return n

    # ----------------------------------------------------------------- auth / limits

    @staticmethod
    def key_of(conn: HTTPConnection, *, query: bool = False) -> str | None:
        auth = conn.headers.get(api.AUTH_HEADER, "")
        if auth[:7].lower() == api.BEARER_PREFIX.lower():
            return auth[7:].strip() or None
        key = conn.headers.get(api.API_KEY_HEADER)
        if key:
            return key
        if query:
            return conn.query_params.get(api.WS_API_KEY_QUERY) or None
        return None

    def caller(self, key: str | None, deviations: frozenset[str], faults: frozenset[str]) -> Caller:
        """The authenticated caller; raises 401 ``Unauthorized``."""
        role = self.config.role_of(key)
        if role is None or key is None:
            raise E.KugelError(E.UNAUTHORIZED)
        return Caller(role, key, faults, deviations)

    def count_request(self, caller: Caller) -> None:
        """One request against the organisation's rate limit; raises 429 with Retry-After."""
        limit = self.config.rate_limit.get(caller.role, 0)
        if not limit:
            return
        window = self.config.rate_window_s
        now = time.monotonic()
        q = self.requests[caller.role]
        while q and q[0] <= now - window:
            q.popleft()
        if len(q) >= limit:
            raise E.KugelError(E.RATE_LIMITED, retry_after=q[0] + window - now)
        q.append(now)

    def check_credits(self, caller: Caller, chars: int) -> None:
        left = self.config.credits.get(caller.role, 0) - self.used_chars[caller.role]
        if left <= 0 or chars > left:
            raise E.KugelError(E.NO_CREDITS)

    def charge(self, caller: Caller, chars: int) -> None:
        self.used_chars[caller.role] += chars

    def check_length(self, text: str) -> None:
        if len(text) > self.config.max_chars:
            raise E.KugelError(E.TOO_LONG)

    def model_faults(self, caller: Caller) -> None:
        """503 for ``overload`` / ``model-unavailable`` (Retry-After known)."""
        wait = float(self.config.overload_retry_after_s) or None
        if OVERLOAD in caller.faults:
            raise E.KugelError(E.OVERLOADED, retry_after=wait)
        if MODEL_UNAVAILABLE in caller.faults:
            raise E.KugelError(E.MODEL_UNAVAILABLE, retry_after=wait)

    # ----------------------------------------------------------------- resources

    def project(self, caller: Caller, project_id: int | None) -> int:
        if project_id is None:
            return caller.project
        if project_id not in PROJECT_OF.values():
            raise E.KugelError(E.PROJECT_NOT_FOUND)
        if project_id != caller.project:
            raise E.KugelError(E.FORBIDDEN)
        return project_id

    def voice(self, caller: Caller, voice_id: str | int, *, own: bool = False) -> Voice:
        if FETCH_VOICE_FAILED in caller.faults:
            raise E.KugelError(E.FETCH_VOICE_FAILED)
        v = None
        number = voice_id if isinstance(voice_id, int) else ascii_int(str(voice_id))
        if number is not None:
            v = self.voices.get(number)
        else:
            v = next((x for x in self.voices.values() if x.handle == voice_id), None)
        if v is None or (v.owner is not None and v.owner != caller.role):
            raise E.KugelError(E.VOICE_NOT_FOUND)
        if own and v.owner != caller.role:
            raise E.KugelError(E.FORBIDDEN)
        return v

    def dictionary(self, project: int, dict_id: int) -> Dictionary:
        d = self.dictionaries.get(dict_id)
        if d is None or d.project_id != project:
            raise E.KugelError(E.DICT_NOT_FOUND)
        return d

    def apply_dictionaries(
        self, project: int, text: str, ids: list[int] | None, lang: str | None
    ) -> str:
        if ids is None:
            chosen = [
                d
                for d in self.dictionaries.values()
                if d.project_id == project
                and d.is_active
                and (not d.language or d.language == lang or lang is None)
            ]
        else:
            chosen = [self.dictionary(project, i) for i in ids]
        for d in chosen:
            for e in d.entries.values():
                text = _replace(text, e["word"], e["replacement"], e["case_sensitive"])
        return text


def _replace(text: str, word: str, repl: str, case_sensitive: bool) -> str:
    import re

    flags = 0 if case_sensitive else re.IGNORECASE
    return re.sub(rf"\b{re.escape(word)}\b", lambda _m: repl, text, flags=flags)
