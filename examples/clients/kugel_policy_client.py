"""A KugelAudio TTS client written to KugelAudio's documented error guidance (a worked example).

Synthesises two short texts with ``POST {KUGEL_API_BASE}/v1/tts/generate`` (``Authorization:
Bearer $KUGEL_API_KEY``), or with ``--ws`` over ``/ws/tts`` (one JSON request per
connection, audio chunks until ``final``), and decides every error from ``error_code`` /
``code`` -- never from the ``error`` text, which the errors page calls display-only:

* ``RATE_LIMITED`` (HTTP 429, close 4029) and ``MODEL_UNAVAILABLE`` (503, close 4500) are
  retried later: after the ``Retry-After`` header's seconds when the answer has one, else
  after ``2**attempt + uniform(0, 1)`` seconds (so waits grow), at most ``--max-retries`` times;
* everything else (400, 401, 402, 403, 404, 500) is not retried.

Prints one line per text (``ok``/``failed``, attempts, the deciding code) and a ``summary``
line. Exit 0 when every text came back as audio, 1 otherwise, 2 when the environment is
incomplete. stdlib (and websockets for ``--ws``) only, with ``_common.py`` beside it; voice
``$KUGEL_VOICE_ID`` (default 1).

    python examples/clients/kugel_policy_client.py [--ws] [--max-retries N]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import sys
import time
import urllib.error
import urllib.request
from typing import Any

from _common import environment

TEXTS = ("Hello from the client audit.", "A second sentence to synthesise.")
RETRY_CODES = frozenset({"RATE_LIMITED", "MODEL_UNAVAILABLE"})
CLOSE_CODES = {4029: "RATE_LIMITED", 4500: "MODEL_UNAVAILABLE"}  # a close without its frame
TIMEOUT_S = 30.0


def backoff_s(attempt: int, retry_after: str | None) -> float:
    if retry_after:
        try:
            return max(0.0, float(retry_after))
        except ValueError:
            pass  # an HTTP date: fall back to our own schedule
    return 2**attempt + random.uniform(0, 1)


def generate_http(
    base: str, key: str, text: str, voice: int
) -> tuple[bool, str | None, str | None]:
    """One attempt: (audio came back, error_code, Retry-After)."""
    req = urllib.request.Request(
        base + "/v1/tts/generate",
        data=json.dumps({"text": text, "voice_id": voice}).encode(),
        method="POST",
        headers={"Authorization": "Bearer " + key, "Content-Type": "application/json"},
    )
    try:
        with urllib.request.urlopen(req, timeout=TIMEOUT_S) as resp:  # noqa: S310
            resp.read()
            return True, None, None
    except urllib.error.HTTPError as exc:
        body = _json(exc.read())
        return False, _code(body, exc.code), exc.headers.get("Retry-After")


def generate_ws(base: str, key: str, text: str, voice: int) -> tuple[bool, str | None, str | None]:
    from urllib.parse import urlencode

    from websockets.exceptions import ConnectionClosed
    from websockets.sync.client import connect

    url = base.replace("http", "ws", 1) + "/ws/tts?" + urlencode({"api_key": key})
    error: str | None = None
    with connect(url, open_timeout=TIMEOUT_S, max_size=None) as ws:
        try:
            ws.send(json.dumps({"text": text, "voice_id": voice}))
            while True:
                message = ws.recv(timeout=TIMEOUT_S)
                body = _json(message)
                if body.get("final") is True:
                    return True, None, None
                if "error_code" in body or "code" in body:
                    error = _code(body, None)
        except ConnectionClosed:
            pass
        close = ws.close_code
    return False, error or CLOSE_CODES.get(close or 0, f"close {close}"), None


def _json(raw: bytes | str) -> dict[str, Any]:
    try:
        body = json.loads(raw)
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def _code(body: dict[str, Any], status: int | None) -> str:
    """The machine-readable reason: ``error_code``, else ``code``/status (never ``error``)."""
    return str(body.get("error_code") or body.get("code") or status or "?")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--ws", action="store_true", help="synthesise over /ws/tts")
    parser.add_argument("--max-retries", type=int, default=5)
    args = parser.parse_args(argv)
    env = environment("KUGEL_API_BASE", "KUGEL_API_KEY")
    if env is None:
        return 2
    base, key = env["KUGEL_API_BASE"].rstrip("/"), env["KUGEL_API_KEY"]
    voice = int(os.environ.get("KUGEL_VOICE_ID", "1"))
    generate = generate_ws if args.ws else generate_http
    ok = attempts = 0
    for text in TEXTS:
        for attempt in range(1 + args.max_retries):
            attempts += 1
            try:
                done, code, retry_after = generate(base, key, text, voice)
            except OSError as exc:
                done, code, retry_after = False, f"transport error: {exc!r}", None
            if done:
                ok += 1
                print(f"ok {text!r} attempts={attempt + 1}")
                break
            if code not in RETRY_CODES:
                print(f"failed {text!r} attempts={attempt + 1} {code}, not retryable")
                break
            if attempt == args.max_retries:
                print(f"failed {text!r} attempts={attempt + 1} {code}, gave up")
                break
            time.sleep(backoff_s(attempt, retry_after))
    print(f"summary texts={len(TEXTS)} ok={ok} attempts={attempts}")
    return 0 if ok == len(TEXTS) else 1


if __name__ == "__main__":
    sys.exit(main())
