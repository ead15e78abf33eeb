"""Is the target there? Preflight of each configured service, at start and after a
connection error (the run stops only when the whole target is down)."""

from __future__ import annotations

import socket
from collections.abc import Mapping
from typing import Any
from urllib.parse import urlsplit

import httpx
from websockets.exceptions import WebSocketException

from harness.target import Profile

#: Errors that mean "could not reach the target", never "the target broke a clause".
CONNECTIVITY_ERRORS = (
    httpx.TransportError,
    ConnectionError,
    TimeoutError,
    OSError,
    WebSocketException,
)


def services(profile: Profile) -> set[str]:
    """The services the profile configures an HTTP base URL for (velma, platform, kugel)."""
    return {n.split("_")[0] for n, u in profile.base_urls().items() if u.startswith("http")}


def preflight_services(profile: Profile, timeout_s: float | None = None) -> dict[str, str]:
    """Service -> a one-line reason, for each configured service that does not answer HTTP."""
    problems: dict[str, str] = {}
    for name, url in profile.base_urls().items():
        service = name.split("_")[0]
        if url.startswith("http") and service not in problems:
            problem = _preflight_url(name, url, profile, timeout_s)
            if problem:
                problems[service] = problem
    return problems


def preflight(
    profile: Profile, timeout_s: float | None = None, skip: Mapping[str, Any] | None = None
) -> str | None:
    """None when every configured base URL (of services not in ``skip``) answers HTTP; else a
    one-line reason."""
    for name, url in profile.base_urls().items():
        if url.startswith("http") and name.split("_")[0] not in (skip or {}):
            problem = _preflight_url(name, url, profile, timeout_s)
            if problem:
                return problem
    return None


def _preflight_url(name: str, url: str, profile: Profile, timeout_s: float | None) -> str | None:
    limit = min(profile.timeout_s, 5.0) if timeout_s is None else timeout_s
    parts = urlsplit(url)
    host, port = parts.hostname or "", parts.port or (443 if parts.scheme == "https" else 80)
    try:
        with socket.create_connection((host, port), timeout=limit):
            pass
    except OSError as exc:
        return f"target unreachable: {name} {host}:{port}: {exc.strerror or exc}"
    try:
        httpx.get(url + "/", timeout=limit)
    except httpx.TimeoutException:
        return f"target unreachable: {name} {url} accepted the connection but did not answer within {limit:.0f} s"
    except httpx.TransportError as exc:
        return f"target unreachable: {name} {url} did not speak HTTP ({type(exc).__name__}: {exc})"
    return None
