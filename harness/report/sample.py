"""A synthetic run covering every outcome: for tests, screenshots and trying the renderers.

Nothing here contacts a target; the cases are made up but name real clauses.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from .model import Run

_SVD = "http://127.0.0.1:8123/api/velma-2-synthetic-voice-detection-batch"
_CURL = 'curl -sS -X POST {url} -H "X-API-Key: ${{MODULATE_API_KEY}}" -F "upload_file=@{path}"'


def _curl(fixture: str) -> dict[str, str]:
    return {"kind": "curl", "text": _CURL.format(url=_SVD, path=f"fixtures/build/{fixture}")}


def _http(status: int, body: str) -> dict[str, Any]:
    return {
        "kind": "http",
        "request": {"method": "POST", "url": _SVD, "headers": {"X-API-Key": "***"}},
        "response": {
            "status": status,
            "headers": {"content-type": "application/json"},
            "body": body,
        },
    }


def sample_cases() -> list[dict[str, Any]]:
    """One case per outcome, disputed clauses on both sides, and a few passes."""
    return [
        {
            "id": "svd-batch/too-short[clip-wav-16000-1ch-0.3s]",
            "nodeid": "suites/test_audio_validation.py::test_svd_too_short[clip-wav-16000-1ch-0.3s]",
            "clause": "svd-batch/too-short",
            "surface": "svd-batch",
            "outcome": "failed",
            "expected": ["HTTP 422, detail='The audio is too short to analyze.'"],
            "actual": "HTTP 400, detail='Invalid request.'",
            "message": "a 0.3 s clip was refused with 400 'Invalid request.' instead of 422 'too short'",
            "alternative": None,
            "fixture": {"id": "clip-wav-16000-1ch-0.3s", "sha256": "3f" * 32},
            "reproducer": _curl("clip-wav-16000-1ch-0.3s.wav"),
            "evidence": [_http(400, '{"detail": "Invalid request."}')],
            "duration_s": 0.041,
        },
        {
            "id": "svd-batch/metadata-only[header-only-wav]",
            "clause": "svd-batch/metadata-only",
            "surface": "svd-batch",
            "outcome": "failed",
            "expected": [
                "HTTP 422, detail='The audio is too short to analyze.'",
                "HTTP 400 (400-empty)",
            ],
            "actual": "HTTP 500, detail='Internal server error'",
            "message": "a header-only WAV got 500, which matches no documented side",
            "alternative": {"chosen": None},
            "fixture": {"id": "header-only-wav", "sha256": "a1" * 32},
            "reproducer": _curl("header-only.wav"),
            "evidence": [_http(500, '{"detail": "Internal server error"}')],
            "duration_s": 0.032,
        },
        {
            "id": "svd-batch/invalid-key",
            "clause": "svd-batch/invalid-key",
            "surface": "svd-batch",
            "outcome": "non-strict",
            "expected": ["HTTP 403 (403)"],
            "actual": "HTTP 401",
            "message": "an unknown key got 401: the other documented side (403 expected)",
            "alternative": {"chosen": "401"},
            "fixture": {"id": "speech-wav-16000-1ch-2s", "sha256": "5c" * 32},
            "reproducer": {
                "kind": "curl",
                "text": f'curl -sS -X POST {_SVD} -H "X-API-Key: not-a-key" '
                '-F "upload_file=@fixtures/build/speech-wav-16000-1ch-2s.wav"',
            },
            "duration_s": 0.018,
        },
        {
            "id": "svd-batch/empty-file[empty-wav]",
            "clause": "svd-batch/empty-file",
            "surface": "svd-batch",
            "outcome": "passed",
            "expected": ["HTTP 400"],
            "actual": "HTTP 400, detail='Invalid request.'",
            "message": "as expected",
            "alternative": {"chosen": "400-empty"},
            "fixture": {"id": "empty-wav", "sha256": "e3b0c442" + "0" * 56},
            "reproducer": _curl("empty.wav"),
            "duration_s": 0.012,
        },
        {
            "id": "stt-stream/documented-close-codes[normal]",
            "clause": "stt-stream/documented-close-codes",
            "surface": "stt-stream",
            "outcome": "non-strict",
            "expected": ["close 1000 after the done message"],
            "actual": "close 1001 after the done message",
            "message": "the server closed with 1001 (going away) instead of 1000",
            "verdicts": {"data": "passed", "close": "non-strict"},
            "reproducer": {
                "kind": "python",
                "text": "import asyncio, os, websockets\n"
                "async def main():\n"
                "    url = 'ws://127.0.0.1:8123/api/velma-2-stt-streaming'\n"
                "    async with websockets.connect(url, additional_headers={'X-API-Key': os.environ['MODULATE_API_KEY']}) as ws:\n"
                "        await ws.send(open('fixtures/build/speech-wav-16000-1ch-2s.wav', 'rb').read())\n"
                "        await ws.send('')\n"
                "        async for m in ws: print(m)\n"
                "    print(ws.close_code)\n"
                "asyncio.run(main())",
            },
            "evidence": [
                {
                    "kind": "websocket",
                    "url": "ws://127.0.0.1:8123/api/velma-2-stt-streaming",
                    "sent": ["binary 64044 B", "text ''"],
                    "received": ['{"type": "done", "duration_ms": 2000}'],
                    "close": {"code": 1001, "reason": "", "by": "server"},
                }
            ],
            "duration_s": 2.31,
        },
        {
            "id": "stt-stream/missing-key",
            "clause": "stt-stream/missing-key",
            "surface": "stt-stream",
            "outcome": "passed",
            "expected": ["close 4001"],
            "actual": "close 4001, error frame first",
            "alternative": {"chosen": "4001"},
            "verdicts": {"data": "passed", "close": "passed"},
            "duration_s": 0.02,
        },
        {
            "id": "svd-batch/bad-value[threshold=-1]",
            "clause": "svd-batch/bad-value",
            "surface": "svd-batch",
            "outcome": "informational",
            "expected": ["HTTP 400, detail='Invalid request.'"],
            "actual": "HTTP 422, FastAPI validation body",
            "message": "recorded: 422 with a validation body",
            "duration_s": 0.015,
        },
        {
            "id": "stt-stream/key-in-query-only",
            "clause": "stt-stream/key-in-query-only",
            "surface": "stt-stream",
            "outcome": "skipped",
            "message": "the profile has no role 'query-key'",
        },
        {
            "id": "stt-stream/end-of-stream[speech-wav]",
            "clause": "stt-stream/end-of-stream",
            "surface": "stt-stream",
            "outcome": "error",
            "expected": ["close 1000 after done"],
            "actual": None,
            "message": "connection refused: ws://127.0.0.1:8123 (is the target up?)",
            "duration_s": 5.0,
        },
        *[
            {
                "id": f"svd-batch/confidence-range[speech-wav-{rate}-1ch-2s]",
                "clause": "svd-batch/confidence-range",
                "surface": "svd-batch",
                "outcome": "passed",
                "expected": ["0 <= confidence <= 1"],
                "actual": "HTTP 200, 1 frame, confidence 0.91",
                "fixture": {"id": f"speech-wav-{rate}-1ch-2s", "sha256": f"{rate:064x}"},
                "duration_s": 0.05 + rate / 1e6,
            }
            for rate in (8000, 16000, 44100, 48000)
        ],
    ]


SAMPLE_TARGET = {
    "name": "embedded-emulator",
    "kind": "emulator",
    "base_urls": {"velma_http": "http://127.0.0.1:8123", "velma_ws": "ws://127.0.0.1:8123"},
    "versions": {"server": "uvicorn"},
}


def write_sample_run(report_dir: str | Path, *, complete: bool = True) -> Run:
    """Write a sample ``conformance.json`` into ``report_dir`` and return the run."""
    from .writer import ReportWriter

    w = ReportWriter(report_dir)
    w.start(SAMPLE_TARGET, strict=False)
    for case in sample_cases():
        w.add_case(case)
    return w.finish() if complete else w.run
