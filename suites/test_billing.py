"""Published prices per audio hour (INFO): what a short request would be billed.

Each case sends a short fixture, reads the audio length the target reports
(``duration_ms`` in the batch response, or in the stream's ``done``), and records
the billed hours and the cost at the published price. The behaviour holds when the
reported length matches the fixture's true length within 50 ms, since billing is by
audio processed.
"""

from __future__ import annotations

import json
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import pytest

from harness.checks import observe_http, observe_ws
from harness.contract.tables import (
    PRICE_PER_AUDIO_HOUR_USD,
    RAW_FORMATS_BY_NAME,
    REST_SURFACES,
    STREAM_SURFACES,
    audio_cost_usd,
)

# cheapest first
BATCH = tuple(sorted(REST_SURFACES, key=PRICE_PER_AUDIO_HOUR_USD.__getitem__))
STREAM = tuple(sorted(STREAM_SURFACES, key=PRICE_PER_AUDIO_HOUR_USD.__getitem__))
BATCH_FIXTURE = "wav-pcm16-16000-1ch-2s"
STREAM_FIXTURE = "raw-s16le-16000-1ch-3s"
TOLERANCE_MS = 50


def _params(surfaces: tuple[str, ...], fixture_id: str) -> list[object]:
    return [
        pytest.param(s, fixture_id, marks=pytest.mark.clause(f"velma/price-{s}"), id=s)
        for s in surfaces
    ]


def _note(surface: str, reported_ms: Any, true_s: float) -> tuple[bool, str]:
    price = PRICE_PER_AUDIO_HOUR_USD[surface]
    if not isinstance(reported_ms, int | float):
        return False, f"no duration_ms in the response (got {reported_ms!r}); cannot bill"
    hours = reported_ms / 1000 / 3600
    cost = audio_cost_usd(surface, reported_ms / 1000)
    ok = abs(reported_ms - true_s * 1000) <= TOLERANCE_MS
    return ok, (
        f"reported {reported_ms} ms (true {true_s * 1000:.0f} ms): billed {hours:.7f} audio h "
        f"x ${price}/h = ${cost:.8f}"
    )


def _pii_metadata(r: Any) -> dict[str, Any]:
    """The ``metadata`` JSON part of a PII batch multipart 200 response."""
    head = f"Content-Type: {r.headers.get('content-type', '')}\r\n\r\n".encode()
    msg = BytesParser(policy=HTTP).parsebytes(head + r.content)
    for part in msg.iter_parts() if msg.is_multipart() else ():
        if part.get_param("name", header="content-disposition") == "metadata":
            return json.loads(part.get_payload(decode=True))
    return {}


@pytest.mark.parametrize(("surface", "fixture_id"), _params(BATCH, BATCH_FIXTURE))
def test_batch_billed_duration(case, surface, fixture_id):
    entry = case.fixture_entry(fixture_id)
    r = case.upload(surface, case.fixture(fixture_id), audio_seconds=entry.duration_s)
    body: dict[str, Any] = {}
    if r.status_code == 200:
        if surface == "pii-batch":
            body = _pii_metadata(r)
        else:
            try:
                body = r.json()
            except ValueError:
                body = {}
    ok, note = _note(surface, body.get("duration_ms"), entry.duration_s)
    case.judge(observe_http(r, behaviour=ok and r.status_code == 200, note=note))


@pytest.mark.parametrize(("surface", "fixture_id"), _params(STREAM, STREAM_FIXTURE))
def test_stream_billed_duration(case, surface, fixture_id):
    entry = case.fixture_entry(fixture_id)
    data = case.fixture_bytes(fixture_id)
    fmt = RAW_FORMATS_BY_NAME[entry.audio_format]
    step = round(entry.sample_rate * 0.25) * fmt.frame_bytes(entry.num_channels)
    query = {
        "audio_format": entry.audio_format,
        "sample_rate": entry.sample_rate,
        "num_channels": entry.num_channels,
    }
    result = case.stream(
        surface,
        query,
        [data[i : i + step] for i in range(0, len(data), step)],
        audio_seconds=entry.duration_s,
    )
    done = result.of_type("done")
    ok, note = _note(surface, done[-1].get("duration_ms") if done else None, entry.duration_s)
    case.judge(observe_ws(result, behaviour=ok and result.close_code == 1000, note=note))
