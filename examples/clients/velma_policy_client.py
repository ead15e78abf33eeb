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
transcript, 1 otherwise, 2 when the environment is incomplete. Needs only the stdlib, httpx,
(``--stream``) websockets and ``_common.py`` beside it (the environment, the bookkeeping and
the printed lines, shared with the naive client).

    python examples/clients/velma_policy_client.py [--stream] [--max-in-flight N] [--max-retries N]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import sys
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from urllib.parse import urlencode

import httpx
from _common import Outcome, Tally, report, velma_target

PATH = "/api/velma-2-stt-batch"
STREAM_PATH = "/api/velma-2-stt-streaming"
CHUNK_BYTES = 8192


@dataclass(frozen=True)
class Retry:
    """Which answers (HTTP statuses or close codes) are retried and which never are."""

    retryable: frozenset[int]
    never: frozenset[int]
    shown: str  # how an answer is printed: "{}" (a status) or "close {}"
    served: str  # how a success is printed


BATCH = Retry(frozenset({429, 503}), frozenset({400, 401, 403, 422}), "{}", "200")
STREAM = Retry(frozenset({4029, 1011}), frozenset({1003, 4001, 4002, 4003}), "close {}", "done")


Once = Callable[[], Awaitable[tuple[int | None, str | None]]]  # one attempt: code, transcript


class BadAnswer(Exception):
    """A success status whose body is not what the API documents (not retried)."""


def backoff_s(attempt: int) -> float:
    """The documented wait before retry number ``attempt + 1`` (attempt counts from 0)."""
    return 2**attempt + random.uniform(0, 1)


async def with_retries(
    name: str,
    once: Once,
    retry: Retry,
    gate: asyncio.Semaphore,
    tally: Tally,
    max_retries: int,
) -> Outcome:
    """Run ``once`` (one attempt: the status or close code, and the transcript when it
    succeeded) under the semaphore until it succeeds or ``retry`` says to stop."""
    attempt = 0
    while True:
        async with gate:  # the wait below happens outside the semaphore: a slot is not held idle
            with tally.attempt():
                try:
                    code, transcript = await once()
                except BadAnswer as exc:
                    return Outcome(name, False, attempt + 1, str(exc))
                except (httpx.HTTPError, OSError, ValueError) as exc:  # refused upgrade, timeout
                    return Outcome(name, False, attempt + 1, f"transport error: {exc!r}")
        if transcript is not None:
            return Outcome(name, True, attempt + 1, f"{retry.served}, {len(transcript)} chars")
        shown = retry.shown.format(code)
        if code in retry.never:
            return Outcome(name, False, attempt + 1, f"{shown}, not retryable")
        if code not in retry.retryable:
            return Outcome(name, False, attempt + 1, f"{shown}, unexpected")
        if attempt >= max_retries:
            return Outcome(name, False, attempt + 1, f"{shown}, gave up after retries")
        await asyncio.sleep(backoff_s(attempt))
        attempt += 1


async def post_once(
    client: httpx.AsyncClient, url: str, key: str, path: Path, data: bytes
) -> tuple[int, str | None]:
    """One upload: the status, and the transcript of a 200."""
    resp = await client.post(
        url,
        headers={"X-API-Key": key},
        files={"upload_file": (path.name, data, "application/octet-stream")},
    )
    if resp.status_code != 200:
        return resp.status_code, None
    try:
        body = resp.json()
    except ValueError:
        raise BadAnswer("200 with a body that is not JSON") from None
    text = body.get("text") if isinstance(body, dict) else None
    if not isinstance(text, str):
        raise BadAnswer("200 without a `text` transcript")
    return 200, text


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


async def run(max_in_flight: int, max_retries: int, timeout_s: float, streaming: bool) -> int:
    target = velma_target(streaming)
    if target is None:
        return 2
    gate = asyncio.Semaphore(max_in_flight)
    tally = Tally()

    async def every_file(retry: Retry, once_for: Callable[[Path], Once]) -> list[Outcome]:
        return await asyncio.gather(
            *(
                with_retries(f.name, once_for(f), retry, gate, tally, max_retries)
                for f in target.files
            )
        )

    if streaming:
        url = f"{target.ws_base}{STREAM_PATH}?{urlencode({'api_key': target.key})}"
        outcomes = await every_file(
            STREAM, lambda f: partial(stream_once, url, f.read_bytes(), timeout_s)
        )
    else:
        limits = httpx.Limits(max_connections=max_in_flight)
        async with httpx.AsyncClient(timeout=timeout_s, limits=limits) as client:
            url = target.base + PATH
            outcomes = await every_file(
                BATCH, lambda f: partial(post_once, client, url, target.key, f, f.read_bytes())
            )
    return report(outcomes, tally)


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
