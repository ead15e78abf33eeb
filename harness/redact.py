"""Keeping credentials out of everything the harness writes.

Two layers: every known secret value (from the profile) is replaced wherever it
appears, and credential-bearing places (auth headers, ``api_key`` query values) are
masked whatever their value. Reports, logs, Allure attachments, reproducers and
Locust names all pass through one :class:`Redactor`.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from typing import Any

MASK = "***"

# Header names whose values are credentials (compared case-insensitively).
SECRET_HEADERS = frozenset(
    {"x-api-key", "authorization", "apikey", "accountuuid", "x-emulator-token"}
)
# Query parameters whose values are credentials.
SECRET_QUERY = frozenset({"api_key", "apikey", "token", "key"})

_QUERY_RE = re.compile(
    r"(?P<name>(?<![A-Za-z0-9_])(?:"
    + "|".join(sorted(SECRET_QUERY))
    + r"))=(?P<value>[^&#\s\"']+)",
    re.IGNORECASE,
)
_HEADER_LINE_RE = re.compile(
    r"(?P<name>(?:" + "|".join(re.escape(h) for h in sorted(SECRET_HEADERS)) + r"))"
    r"(?P<sep>\s*[:=]\s*)(?P<q>[\"']?)(?P<value>(?:Bearer\s+)?[^\s\"',}]+)",
    re.IGNORECASE,
)


class Redactor:
    """Replaces secrets in text and in nested data."""

    def __init__(self, secrets: Iterable[str] = (), *, min_length: int = 4) -> None:
        self._secrets: dict[str, str] = {}
        for s in secrets:
            self.add(s, min_length=min_length)

    def add(self, secret: str, replacement: str = MASK, *, min_length: int = 4) -> None:
        """Remember ``secret``; too-short values are refused (they would mangle text)."""
        if secret and len(secret) >= min_length:
            self._secrets[secret] = replacement

    @property
    def known(self) -> int:
        return len(self._secrets)

    def text(self, value: str) -> str:
        out = value
        for secret in sorted(self._secrets, key=len, reverse=True):
            if secret in out:
                out = out.replace(secret, self._secrets[secret])
        out = _QUERY_RE.sub(lambda m: f"{m.group('name')}={_masked(m.group('value'))}", out)
        out = _HEADER_LINE_RE.sub(
            lambda m: f"{m.group('name')}{m.group('sep')}{m.group('q')}{_masked(m.group('value'))}",
            out,
        )
        return out

    def headers(self, headers: Mapping[str, str] | Iterable[tuple[str, str]]) -> dict[str, str]:
        items = headers.items() if isinstance(headers, Mapping) else headers
        out: dict[str, str] = {}
        for name, value in items:
            out[name] = MASK if name.lower() in SECRET_HEADERS else self.text(value)
        return out

    def data(self, value: Any) -> Any:
        """Redact every string inside dicts, lists and tuples (keys too)."""
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return {self.text(str(k)): self.data(v) for k, v in value.items()}
        if isinstance(value, list | tuple):
            return [self.data(v) for v in value]
        return value


def _masked(value: str) -> str:
    """Keep ``${ENV}`` references and already-masked values; mask everything else."""
    if value.startswith("${") or value.startswith(MASK) or value.startswith("Bearer ${"):
        return value
    if value.lower().startswith("bearer "):
        return "Bearer " + MASK
    return MASK
