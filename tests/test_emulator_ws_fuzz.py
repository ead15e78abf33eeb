"""A bounded fuzz run against the three WebSocket surfaces, over loopback with the
``websockets`` client: random query mixes, binary and text frames, text frames that are
not UTF-8, malformed JSON configuration frames, override headers, frames after the
end-of-stream frame. Every close code is a documented one (or the emulator's own 1008),
every non-1000 close follows an ``error`` message, and the server keeps serving."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any
from urllib.parse import urlencode

import numpy as np
from hypothesis import given
from hypothesis import strategies as st
from test_emulator_helpers import EXHAUSTED, INVALID, NO_MODEL, VALID, fuzz_settings
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.audio import encode_raw
from harness.audio.signals import speech_bursts
from harness.contract import tables as T
from harness.emulator import RunningEmulator

ALLOWED_CLOSE = {1000, 1003, 1011, 4001, 4002, 4003, 4029, 1008}
assert ALLOWED_CLOSE - {1008} == set(T.VELMA_CLOSE_CODES)
SURFACES = ("stt-stream", "svd-stream", "pii-stream")
BUDGET_S = 20.0  # the whole fuzz run; examples past it are skipped
_START: list[float] = []

PARAM_VALUES: dict[str, list[str]] = {
    "audio_format": ["s16le", "u8", "f32be", "mulaw", "wav", "mp3", "ogg", "s24le", "pcm", ""],
    "sample_rate": ["16000", "8000", "44100", "50000", "-1", "abc", ""],
    "num_channels": ["1", "2", "8", "0", "9", "x"],
    "partial_results": ["true", "false", "maybe"],
    "language": ["en", "fr-CA", "english1", "ü"],
    "start_redaction_padding_ms": ["0", "100", "-5"],
    "deepfake_signal": ["true", "1"],
}
query = st.fixed_dictionaries(
    {"api_key": st.sampled_from([VALID, VALID, VALID, INVALID, NO_MODEL, EXHAUSTED, None])},
    optional={
        k: st.one_of(st.sampled_from(v), st.text(max_size=6)) for k, v in PARAM_VALUES.items()
    },
)
INVALID_UTF8 = st.sampled_from([b"\xff", b"\xc3\x28", b'{"a": "\xed\xa0\x80"}', b"\x80abc"])
frame = st.one_of(
    st.binary(min_size=0, max_size=3000).map(lambda b: ("bin", b)),
    st.text(min_size=1, max_size=40).map(lambda t: ("text", t)),
    INVALID_UTF8.map(lambda b: ("bad-utf8", b)),
    st.sampled_from(["{", "[1]", '{"emotion_signal": "yes"}', "null", '{"language": 5}']).map(
        lambda t: ("text", t)
    ),
    st.just(("audio", b"")),
)
headers = st.sampled_from(
    [
        {},
        {},
        {"X-Emulator-Fault": "internal-midstream=2f"},
        {"X-Emulator-Fault": "meltdown"},
        {"X-Emulator-Fault": "overload"},
        {"X-Emulator-Deviation": "partials-without-flag"},
    ]
)

RAW_QUERY = {"api_key": VALID, "audio_format": "s16le", "sample_rate": "16000", "num_channels": "1"}
_SPEECH = encode_raw(speech_bursts(0.6, 16000, seed=3).samples, "s16le")


def ws_url(emu: RunningEmulator, surface: str, params: dict[str, Any]) -> str:
    q = urlencode({k: v for k, v in params.items() if v is not None})
    return emu.base_url.replace("http", "ws", 1) + T.VELMA_PATHS[surface] + "?" + q


async def fuzz_session(
    url: str, frames: list[tuple[str, Any]], after: list[tuple[str, Any]], hdrs: dict[str, str]
) -> tuple[int | None, list[Any]]:
    got: list[Any] = []
    async with connect(url, additional_headers=hdrs, open_timeout=5, close_timeout=5) as ws:
        try:
            for kind, payload in [*frames, ("eos", ""), *after]:
                if kind == "bad-utf8":
                    await ws.send(payload, text=True)
                elif kind == "audio":
                    await ws.send(_SPEECH)
                elif kind == "eos":
                    await ws.send("")
                else:
                    await ws.send(payload)
        except ConnectionClosed:
            pass
        try:
            while True:
                m = await asyncio.wait_for(ws.recv(), 10)
                got.append(json.loads(m) if isinstance(m, str) else m)
        except ConnectionClosed:
            pass
        return ws.close_code, got


def check_close(code: int | None, got: list[Any]) -> None:
    assert code in ALLOWED_CLOSE, (code, got[-3:])
    texts = [m for m in got if isinstance(m, dict)]
    if code != 1000:
        assert texts and texts[-1]["type"] == "error", (code, texts[-3:])
        assert isinstance(texts[-1]["error"], str) and texts[-1]["error"]
    else:
        assert texts and texts[-1]["type"] == "done", texts[-3:]


@fuzz_settings(200)
@given(
    surface=st.sampled_from(SURFACES),
    params=query,
    frames=st.lists(frame, max_size=6),
    after=st.lists(frame, max_size=3),
    hdrs=headers,
)
def test_ws_fuzz_close_codes_and_error_first(emu, surface, params, frames, after, hdrs):
    if not _START:
        _START.append(time.monotonic())
    if time.monotonic() - _START[0] > BUDGET_S:
        return  # over the time budget: the remaining examples pass untested
    code, got = asyncio.run(fuzz_session(ws_url(emu, surface, RAW_QUERY), frames, after, hdrs))
    check_close(code, got)


def test_invalid_utf8_text_frame_is_error_then_1003(emu):
    for surface in SURFACES:
        code, got = asyncio.run(
            fuzz_session(ws_url(emu, surface, RAW_QUERY), [("bad-utf8", b"\xff\xfe")], [], {})
        )
        assert code == 1003 and got[-1]["type"] == "error", got
        assert "UTF-8" in got[-1]["error"]


def test_frames_after_end_of_stream_are_ignored(emu):
    after = [("audio", b""), ("text", "{"), ("bad-utf8", b"\xff"), ("eos", "")]
    code, got = asyncio.run(
        fuzz_session(ws_url(emu, "svd-stream", RAW_QUERY), [("audio", b"")], after, {})
    )
    assert code == 1000 and got[-1] == {"type": "done", "duration_ms": 600, "frame_count": 2}


def test_server_keeps_serving_after_the_ws_fuzz(emu):
    for surface in SURFACES:
        code, got = asyncio.run(
            fuzz_session(ws_url(emu, surface, RAW_QUERY), [("audio", b"")], [], {})
        )
        assert code == 1000 and got[-1 if surface != "pii-stream" else -2]["type"] == "done"
    assert len(np.frombuffer(_SPEECH, np.int16)) == 9600
