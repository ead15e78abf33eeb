"""A naive Velma-2 batch client (a worked example of what *not* to do).

Same job as ``velma_policy_client.py``: transcribe every file in ``$HARNESS_AUDIO_DIR`` with
``POST {MODULATE_API_BASE}/api/velma-2-stt-batch``. But it sends every file at once (no bound on
requests in flight), retries any answer other than 200 immediately (no wait), up to 10 times, and
retries 401/403 as well, which can never succeed. ``harness audit-client`` should fail it on the
backoff, concurrency and non-retryable clauses. With ``--stream`` it streams every file at once
over ``{MODULATE_WS_BASE}/api/velma-2-stt-streaming`` and reconnects at once after any close
other than a normal one after ``done`` (4001 and 4003 included), up to 10 times.

Prints the same lines as the policy client (one per file, then ``summary``). Exit 0 when every
file got a transcript, 1 otherwise, 2 when the environment is incomplete. stdlib + httpx only.
"""

from __future__ import annotations

import asyncio
import os
import sys
from pathlib import Path

import httpx

PATH = "/api/velma-2-stt-batch"
STREAM_PATH = "/api/velma-2-stt-streaming"
MAX_RETRIES = 10


class Tally:
    def __init__(self) -> None:
        self.in_flight = 0
        self.max_in_flight = 0
        self.attempts = 0


async def transcribe(
    client: httpx.AsyncClient, url: str, key: str, path: Path, tally: Tally
) -> tuple[bool, int, str]:
    data = path.read_bytes()
    detail = ""
    for attempt in range(1 + MAX_RETRIES):
        tally.in_flight += 1
        tally.attempts += 1
        tally.max_in_flight = max(tally.max_in_flight, tally.in_flight)
        try:
            resp = await client.post(
                url,
                headers={"X-API-Key": key},
                files={"upload_file": (path.name, data, "application/octet-stream")},
            )
        except httpx.HTTPError as exc:
            detail = f"transport error: {exc!r}"
            continue  # retry at once
        finally:
            tally.in_flight -= 1
        if resp.status_code == 200:
            text = resp.json().get("text", "")
            return True, attempt + 1, f"200, {len(text)} chars"
        detail = str(resp.status_code)  # anything else: retry at once, whatever it was
    return False, 1 + MAX_RETRIES, f"{detail}, gave up"


async def stream(url: str, path: Path, tally: Tally) -> tuple[bool, int, str]:
    import websockets

    data = path.read_bytes()
    detail = ""
    for attempt in range(1 + MAX_RETRIES):
        tally.in_flight += 1
        tally.attempts += 1
        tally.max_in_flight = max(tally.max_in_flight, tally.in_flight)
        done = False
        try:
            async with websockets.connect(url, max_size=None) as ws:
                try:
                    await ws.send(data)
                    await ws.send("")
                    async for message in ws:
                        done = done or (isinstance(message, str) and '"done"' in message)
                except websockets.ConnectionClosed:
                    pass
            detail = f"close {ws.close_code}"
        except (OSError, ValueError) as exc:
            detail = f"transport error: {exc!r}"
        finally:
            tally.in_flight -= 1
        if done:
            return True, attempt + 1, "done"
        # anything else: reconnect at once, whatever it was
    return False, 1 + MAX_RETRIES, f"{detail}, gave up"


async def run(streaming: bool) -> int:
    try:
        base = os.environ["MODULATE_API_BASE"].rstrip("/")
        key = os.environ["MODULATE_API_KEY"]
        audio_dir = Path(os.environ["HARNESS_AUDIO_DIR"])
        ws_base = os.environ["MODULATE_WS_BASE"].rstrip("/") if streaming else ""
    except KeyError as exc:
        print(f"missing environment variable {exc.args[0]}", file=sys.stderr)
        return 2
    files = sorted(p for p in audio_dir.iterdir() if p.is_file() and not p.name.startswith("."))
    tally = Tally()
    if streaming:
        url = f"{ws_base}{STREAM_PATH}?api_key={key}"
        results = await asyncio.gather(*(stream(url, f, tally) for f in files))
    else:
        limits = httpx.Limits(max_connections=None, max_keepalive_connections=None)
        async with httpx.AsyncClient(timeout=120.0, limits=limits) as client:
            results = await asyncio.gather(
                *(transcribe(client, base + PATH, key, f, tally) for f in files)
            )
    for f, (ok, attempts, detail) in zip(files, results, strict=True):
        print(f"{'ok' if ok else 'failed'} {f.name} attempts={attempts} {detail}")
    done = sum(ok for ok, _, _ in results)
    print(
        f"summary files={len(results)} ok={done} attempts={tally.attempts} "
        f"max_in_flight={tally.max_in_flight}"
    )
    return 0 if done == len(results) else 1


if __name__ == "__main__":
    sys.exit(asyncio.run(run("--stream" in sys.argv[1:])))
