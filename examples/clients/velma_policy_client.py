"""A Velma-2 client written to the documented client policy (a worked example).

Transcribes every file in ``$HARNESS_AUDIO_DIR`` with ``POST {MODULATE_API_BASE}/api/velma-2-stt-batch``
(multipart part ``upload_file``, header ``X-API-Key: $MODULATE_API_KEY``) and follows the retry and
concurrency policy the Modulate documentation gives to clients:

* a semaphore keeps at most ``--max-in-flight`` requests open at once (default 2, or
  ``$VELMA_MAX_IN_FLIGHT``), below the organisation's concurrency limit;
* a 429 or 503 is retried after ``2**attempt + uniform(0, 1)`` seconds, at most 5 retries;
* 400, 401, 403 and 422 are never retried: they cannot succeed by asking again.

With ``--stream`` it streams each file instead over ``{MODULATE_WS_BASE}/api/velma-2-stt-streaming
?api_key=...`` (the file's bytes in 8 KiB binary frames, then the empty text frame that ends the
input; the transcript is the ``utterance`` texts up to ``done``), under the same semaphore:

* close 4029 (rate limit) and 1011 (internal error) are retried after the same backoff, at
  most 5 times: the troubleshooting page asks to reconnect with a delay after 4029, and no
  retry may come at once;
* close 1003, 4001, 4002 and 4003 are never retried (bad parameters, invalid key, audio that
  does not decode, model not enabled or usage denied).

Prints one line per file (``ok``/``failed``, attempts, status) and a ``summary`` line with the
attempt count and the most requests it ever had in flight. Exit 0 when every file got a
transcript, 1 otherwise, 2 when the environment is incomplete. Needs only the stdlib, httpx
and (``--stream``) websockets.

    python examples/clients/velma_policy_client.py [--stream] [--max-in-flight N] [--max-retries N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlencode

import httpx

PATH = "/api/velma-2-stt-batch"
RETRYABLE = frozenset({429, 503})
NEVER_RETRY = frozenset({400, 401, 403, 422})
STREAM_PATH = "/api/velma-2-stt-streaming"
STREAM_RETRYABLE = frozenset({4029, 1011})
STREAM_NEVER_RETRY = frozenset({1003, 4001, 4002, 4003})
CHUNK_BYTES = 8192


@dataclass
class Outcome:
    name: str
    ok: bool
    attempts: int
    detail: str


class Tally:
    """In-flight bookkeeping: the client's own account of what it did on the wire."""

    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.attempts = 0

    def enter(self) -> None:
        self.in_flight += 1
        self.attempts += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)

    def leave(self) -> None:
        self.in_flight -= 1


def backoff_s(attempt: int) -> float:
    """The documented wait before retry number ``attempt + 1`` (attempt counts from 0)."""
    return 2**attempt + random.uniform(0, 1)


async def transcribe(
    client: httpx.AsyncClient,
    url: str,
    key: str,
    path: Path,
    gate: asyncio.Semaphore,
    tally: Tally,
    max_retries: int,
) -> Outcome:
    data = path.read_bytes()
    attempt = 0
    while True:
        async with gate:  # the wait below happens outside the semaphore: a slot is not held idle
            tally.enter()
            try:
                resp = await client.post(
                    url,
                    headers={"X-API-Key": key},
                    files={"upload_file": (path.name, data, "application/octet-stream")},
                )
            except httpx.HTTPError as exc:
                return Outcome(path.name, False, attempt + 1, f"transport error: {exc!r}")
            finally:
                tally.leave()
        status = resp.status_code
        if status == 200:
            try:
                body = resp.json()
            except ValueError:
                return Outcome(path.name, False, attempt + 1, "200 with a body that is not JSON")
            text = body.get("text") if isinstance(body, dict) else None
            if not isinstance(text, str):
                return Outcome(path.name, False, attempt + 1, "200 without a `text` transcript")
            return Outcome(path.name, True, attempt + 1, f"200, {len(text)} chars")
        if status in NEVER_RETRY:
            return Outcome(path.name, False, attempt + 1, f"{status}, not retryable")
        if status not in RETRYABLE:
            return Outcome(path.name, False, attempt + 1, f"{status}, unexpected")
        if attempt >= max_retries:
            return Outcome(path.name, False, attempt + 1, f"{status}, gave up after retries")
        await asyncio.sleep(backoff_s(attempt))
        attempt += 1


async def stream_once(url: str, data: bytes, timeout_s: float) -> tuple[int | None, str | None]:
    """One streaming attempt: the close code and the transcript (None without ``done``)."""
    import websockets  # only the streaming mode needs it

    texts: list[str] = []
    done = False
    async with websockets.connect(url, open_timeout=timeout_s, max_size=None) as ws:
        try:
            for i in range(0, len(data), CHUNK_BYTES):
                await ws.send(data[i : i + CHUNK_BYTES])
            await ws.send("")  # the end of the input
            async with asyncio.timeout(timeout_s):
                async for message in ws:
                    if not isinstance(message, str):
                        continue
                    body = json.loads(message)
                    if body.get("type") == "utterance":
                        texts.append(str((body.get("utterance") or {}).get("text", "")))
                    elif body.get("type") == "done":
                        done = True
        except websockets.ConnectionClosed:
            pass  # the close code says why
    return ws.close_code, (" ".join(texts) if done else None)


async def stream(
    url: str, path: Path, gate: asyncio.Semaphore, tally: Tally, max_retries: int, timeout_s: float
) -> Outcome:
    data = path.read_bytes()
    attempt = 0
    while True:
        async with gate:  # one slot per open connection; the wait happens outside it
            tally.enter()
            try:
                code, transcript = await stream_once(url, data, timeout_s)
            except (OSError, TimeoutError, ValueError) as exc:  # refused upgrade, timeout
                return Outcome(path.name, False, attempt + 1, f"transport error: {exc!r}")
            finally:
                tally.leave()
        if transcript is not None:
            return Outcome(path.name, True, attempt + 1, f"done, {len(transcript)} chars")
        if code in STREAM_NEVER_RETRY:
            return Outcome(path.name, False, attempt + 1, f"close {code}, not retryable")
        if code not in STREAM_RETRYABLE:
            return Outcome(path.name, False, attempt + 1, f"close {code}, unexpected")
        if attempt >= max_retries:
            return Outcome(path.name, False, attempt + 1, f"close {code}, gave up after retries")
        await asyncio.sleep(backoff_s(attempt))
        attempt += 1


async def run(max_in_flight: int, max_retries: int, timeout_s: float, streaming: bool) -> int:
    try:
        base = os.environ["MODULATE_API_BASE"].rstrip("/")
        key = os.environ["MODULATE_API_KEY"]
        audio_dir = Path(os.environ["HARNESS_AUDIO_DIR"])
        ws_base = os.environ["MODULATE_WS_BASE"].rstrip("/") if streaming else ""
    except KeyError as exc:
        print(f"missing environment variable {exc.args[0]}", file=sys.stderr)
        return 2
    files = sorted(p for p in audio_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    gate = asyncio.Semaphore(max_in_flight)
    tally = Tally()
    if streaming:
        url = f"{ws_base}{STREAM_PATH}?{urlencode({'api_key': key})}"
        outcomes = await asyncio.gather(
            *(stream(url, f, gate, tally, max_retries, timeout_s) for f in files)
        )
    else:
        limits = httpx.Limits(max_connections=max_in_flight)
        async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
            outcomes = await asyncio.gather(
                *(transcribe(client, base + PATH, key, f, gate, tally, max_retries) for f in files)
            )
    for o in outcomes:
        print(f"{'ok' if o.ok else 'failed'} {o.name} attempts={o.attempts} {o.detail}")
    done = sum(o.ok for o in outcomes)
    print(
        f"summary files={len(outcomes)} ok={done} attempts={tally.attempts} "
        f"max_in_flight={tally.max_in_flight}"
    )
    return 0 if done == len(outcomes) else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--max-in-flight",
        type=int,
        default=int(os.environ.get("VELMA_MAX_IN_FLIGHT", "2")),
        help="requests open at once (default 2, or $VELMA_MAX_IN_FLIGHT)",
    )
    parser.add_argument("--max-retries", type=int, default=5, help="retries of a 429/503")
    parser.add_argument("--timeout", type=float, default=120.0, help="seconds per request")
    parser.add_argument(
        "--stream", action="store_true", help="stream each file over STT streaming instead"
    )
    args = parser.parse_args(argv)
    if args.max_in_flight < 1:
        parser.error("--max-in-flight must be at least 1")
    return asyncio.run(run(args.max_in_flight, args.max_retries, args.timeout, args.stream))


if __name__ == "__main__":
    sys.exit(main())
