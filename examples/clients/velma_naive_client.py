"""A naive Velma-2 batch client (a worked example of what *not* to do).

Same job as ``velma_policy_client.py``: transcribe every file in ``$HARNESS_AUDIO_DIR`` with
``POST {MODULATE_API_BASE}/api/velma-2-stt-batch``. But it sends every file at once (no bound on
requests in flight), retries any answer other than 200 immediately (no wait), up to 10 times, and
retries 401/403 as well, which can never succeed. ``harness audit-client`` should fail it on the
backoff, concurrency and non-retryable clauses. With ``--stream`` it streams every file at once
over ``{MODULATE_WS_BASE}/api/velma-2-stt-streaming`` and reconnects at once after any close
other than a normal one after ``done`` (4001 and 4003 included), up to 10 times.

Prints the same lines as the policy client (one per file, then ``summary``). Exit 0 when every
file got a transcript, 1 otherwise, 2 when the environment is incomplete. stdlib + httpx only
(and ``_common.py`` beside it: the environment, the bookkeeping and the printed lines).
"""

from __future__ import annotations

import asyncio
import sys
from collections.abc import Awaitable, Callable
from functools import partial
from pathlib import Path

import httpx
from _common import Outcome, Tally, report, velma_target

PATH = "/api/velma-2-stt-batch"
STREAM_PATH = "/api/velma-2-stt-streaming"
MAX_RETRIES = 10
Once = Callable[[], Awaitable[tuple[bool, str]]]  # one attempt: served, and what to print


async def hammer(name: str, once: Once, tally: Tally) -> Outcome:
    """Run ``once`` until it succeeds: any failure is tried again at once, whatever it was."""
    detail = ""
    for attempt in range(1 + MAX_RETRIES):
        with tally.attempt():
            try:
                ok, detail = await once()
            except (httpx.HTTPError, OSError, ValueError) as exc:
                ok, detail = False, f"transport error: {exc!r}"
        if ok:
            return Outcome(name, True, attempt + 1, detail)
    return Outcome(name, False, 1 + MAX_RETRIES, f"{detail}, gave up")


async def post_once(
    client: httpx.AsyncClient, url: str, key: str, path: Path, data: bytes
) -> tuple[bool, str]:
    resp = await client.post(
        url,
        headers={"X-API-Key": key},
        files={"upload_file": (path.name, data, "application/octet-stream")},
    )
    if resp.status_code == 200:
        return True, f"200, {len(resp.json().get('text', ''))} chars"
    return False, str(resp.status_code)


async def stream_once(url: str, data: bytes) -> tuple[bool, str]:
    import websockets

    done = False
    async with websockets.connect(url, max_size=None) as ws:
        try:
            await ws.send(data)
            await ws.send("")
            async for message in ws:
                done = done or (isinstance(message, str) and '"done"' in message)
        except websockets.ConnectionClosed:
            pass
    return done, "done" if done else f"close {ws.close_code}"


async def run(streaming: bool) -> int:
    target = velma_target(streaming)
    if target is None:
        return 2
    tally = Tally()

    async def every_file(once_for: Callable[[Path], Once]) -> list[Outcome]:
        return await asyncio.gather(*(hammer(f.name, once_for(f), tally) for f in target.files))

    if streaming:
        url = f"{target.ws_base}{STREAM_PATH}?api_key={target.key}"
        outcomes = await every_file(lambda f: partial(stream_once, url, f.read_bytes()))
    else:  # no bound on connections: every file at once
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:
            url = target.base + PATH
            outcomes = await every_file(
                lambda f: partial(post_once, client, url, target.key, f, f.read_bytes())
            )
    return report(outcomes, tally)


if __name__ == "__main__":
    sys.exit(asyncio.run(run("--stream" in sys.argv[1:])))
