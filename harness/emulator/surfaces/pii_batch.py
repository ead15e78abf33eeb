"""PII/PHI redaction batch: ``POST /api/velma-2-pii-phi-redaction-batch``.

The 200 body is ``multipart/form-data``: a ``metadata`` JSON part and an
``audio`` part holding the MP3 with the redaction ranges silenced.
"""

from __future__ import annotations

import json
import secrets

from starlette.responses import Response
from starlette.routing import BaseRoute

from harness.contract import tables as T

from .. import analysis as A
from ..alternatives import REDACTION_TEXT
from ..batch import BatchSurface, Job, route, strip_for_deviation
from ..formfields import FieldSpec
from ..state import EmulatorState
from .stt_batch import utterance_json

FIELDS = (
    FieldSpec("speaker_diarization", "bool", True),
    FieldSpec("start_redaction_padding_ms", "int", T.PII_START_PADDING_MS_DEFAULT, minimum=0),
    FieldSpec("end_redaction_padding_ms", "int", T.PII_END_PADDING_MS_DEFAULT, minimum=0),
    FieldSpec("language", "language", None),
)


def multipart_body(parts: list[tuple[str, str | None, str, bytes]]) -> tuple[bytes, str]:
    """(name, filename, content type, data) parts -> (body, boundary)."""
    boundary = "emulator-" + secrets.token_hex(12)
    out = bytearray()
    for name, filename, ctype, data in parts:
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename else "")
        out += (
            f"--{boundary}\r\nContent-Disposition: {disp}\r\nContent-Type: {ctype}\r\n\r\n".encode()
        )
        out += data + b"\r\n"
    out += f"--{boundary}--\r\n".encode()
    return bytes(out), boundary


def _build(job: Job) -> Response:
    v = job.values
    env = job.envelope
    utts = A.utterances(env)
    spans = A.pii_spans(utts)
    ranges = A.redaction_ranges(
        spans,
        start_pad_ms=v["start_redaction_padding_ms"],
        end_pad_ms=v["end_redaction_padding_ms"],
        duration_ms=env.duration_ms,
    )
    alt = job.choices.alternative(REDACTION_TEXT, SURFACE.name)
    brackets = alt is not None and "bracket" in alt.key
    items = [
        utterance_json(u, A.redacted_words(u, spans, i, brackets=brackets), v)
        for i, u in enumerate(utts)
    ]
    metadata = {
        "text": " ".join(i["text"] for i in items),
        "duration_ms": env.duration_ms,
        "utterances": items,
        "redaction_ranges": ranges,
    }
    metadata = strip_for_deviation(job.ctx, metadata)
    mp3 = A.redacted_mp3(job.path, env, ranges)
    body, boundary = multipart_body(
        [
            ("metadata", None, "application/json", json.dumps(metadata).encode()),
            ("audio", "redacted.mp3", "audio/mpeg", mp3),
        ]
    )
    return Response(body, media_type=f"multipart/form-data; boundary={boundary}")


SURFACE = BatchSurface(name="pii-batch", fields=FIELDS, build=_build, build_in_thread=True)


def routes(state: EmulatorState) -> list[BaseRoute]:
    return [route(SURFACE, state)]
