"""A synthetic run covering every outcome: for tests, screenshots and trying the renderers.

Nothing here contacts a target; the cases are made up but name real clauses.
"""

from __future__ import annotations

import json
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


def _upload(fixture_id: str, file: str, sha256: str) -> dict[str, Any]:
    """A batch case's fixture and the curl line that uploads its file."""
    return {"fixture": {"id": fixture_id, "sha256": sha256}, "reproducer": _curl(file)}


def _answered(status: int, detail: str) -> dict[str, Any]:
    """What a batch case saw: the ``actual`` line and the HTTP exchange it sums up."""
    return {
        "actual": f"HTTP {status}, detail={detail!r}",
        "evidence": [_http(status, json.dumps({"detail": detail}))],
    }


def _case(case_id: str, **fields: Any) -> dict[str, Any]:
    """A case; its clause is the ID up to ``[``, its surface the clause up to ``/``."""
    clause = case_id.split("[", 1)[0]
    return {"id": case_id, "clause": clause, "surface": clause.split("/", 1)[0], **fields}


def sample_cases() -> list[dict[str, Any]]:
    """One case per outcome, disputed clauses on both sides, and a few passes."""
    return [
        _case(
            "svd-batch/too-short[clip-wav-16000-1ch-0.3s]",
            nodeid="suites/test_audio_validation.py::test_svd_too_short[clip-wav-16000-1ch-0.3s]",
            outcome="failed",
            expected=["HTTP 422, detail='The audio is too short to analyze.'"],
            message="a 0.3 s clip was refused with 400 'Invalid request.' instead of 422 'too short'",
            alternative=None,
            **_upload("clip-wav-16000-1ch-0.3s", "clip-wav-16000-1ch-0.3s.wav", "3f" * 32),
            **_answered(400, "Invalid request."),
            duration_s=0.041,
        ),
        _case(
            "svd-batch/metadata-only[header-only-wav]",
            outcome="failed",
            expected=[
                "HTTP 422, detail='The audio is too short to analyze.'",
                "HTTP 400 (400-empty)",
            ],
            message="a header-only WAV got 500, which matches no documented side",
            alternative={"chosen": None},
            **_upload("header-only-wav", "header-only.wav", "a1" * 32),
            **_answered(500, "Internal server error"),
            duration_s=0.032,
        ),
        _case(
            "svd-batch/invalid-key",
            outcome="non-strict",
            expected=["HTTP 403 (403)"],
            actual="HTTP 401",
            message="an unknown key got 401: the other documented side (403 expected)",
            alternative={"chosen": "401"},
            fixture={"id": "speech-wav-16000-1ch-2s", "sha256": "5c" * 32},
            reproducer={
                "kind": "curl",
                "text": f'curl -sS -X POST {_SVD} -H "X-API-Key: not-a-key" '
                '-F "upload_file=@fixtures/build/speech-wav-16000-1ch-2s.wav"',
            },
            duration_s=0.018,
        ),
        _case(
            "svd-batch/empty-file[empty-wav]",
            outcome="passed",
            expected=["HTTP 400"],
            actual="HTTP 400, detail='Invalid request.'",
            message="as expected",
            alternative={"chosen": "400-empty"},
            **_upload("empty-wav", "empty.wav", "e3b0c442" + "0" * 56),
            duration_s=0.012,
        ),
        _case(
            "stt-stream/documented-close-codes[normal]",
            outcome="non-strict",
            expected=["close 1000 after the done message"],
            actual="close 1001 after the done message",
            message="the server closed with 1001 (going away) instead of 1000",
            verdicts={"data": "passed", "close": "non-strict"},
            reproducer={
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
            evidence=[
                {
                    "kind": "websocket",
                    "url": "ws://127.0.0.1:8123/api/velma-2-stt-streaming",
                    "sent": ["binary 64044 B", "text ''"],
                    "received": ['{"type": "done", "duration_ms": 2000}'],
                    "close": {"code": 1001, "reason": "", "by": "server"},
                }
            ],
            duration_s=2.31,
        ),
        _case(
            "stt-stream/missing-key",
            outcome="passed",
            expected=["close 4001"],
            actual="close 4001, error frame first",
            alternative={"chosen": "4001"},
            verdicts={"data": "passed", "close": "passed"},
            duration_s=0.02,
        ),
        _case(
            "svd-batch/bad-value[threshold=-1]",
            outcome="informational",
            expected=["HTTP 400, detail='Invalid request.'"],
            actual="HTTP 422, FastAPI validation body",
            message="recorded: 422 with a validation body",
            duration_s=0.015,
        ),
        _case(
            "stt-stream/key-in-query-only",
            outcome="skipped",
            message="the profile has no role 'query-key'",
        ),
        _case(
            "stt-stream/end-of-stream[speech-wav]",
            outcome="error",
            expected=["close 1000 after done"],
            actual=None,
            message="connection refused: ws://127.0.0.1:8123 (is the target up?)",
            duration_s=5.0,
        ),
        *[
            _case(
                f"svd-batch/confidence-range[speech-wav-{rate}-1ch-2s]",
                outcome="passed",
                expected=["0 <= confidence <= 1"],
                actual="HTTP 200, 1 frame, confidence 0.91",
                fixture={"id": f"speech-wav-{rate}-1ch-2s", "sha256": f"{rate:064x}"},
                duration_s=0.05 + rate / 1e6,
            )
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
