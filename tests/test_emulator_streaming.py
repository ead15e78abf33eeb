"""The three Velma-2 WebSocket surfaces, over real WebSockets on loopback."""

from __future__ import annotations

import asyncio
import dataclasses
import io
import json
import time
from collections.abc import Iterator, Sequence
from typing import Any

import av
import numpy as np
import pytest
from websockets.asyncio.client import connect
from websockets.exceptions import ConnectionClosed

from harness.audio import encode_raw
from harness.audio.signals import silence, speech_bursts, tone
from harness.client import schema
from harness.contract import schemas_stream as SS
from harness.contract import tables as T
from harness.emulator import RunningEmulator, default_config, start
from harness.emulator.alternatives import resolve_choices
from harness.emulator.streaming.params import ERR_CONTAINER_WITH_PARAMS
from harness.emulator.streaming.protocol import STREAM_DEVIATIONS

STT, SVD, PII = "stt-stream", "svd-stream", "pii-stream"
SURFACES = (STT, SVD, PII)
KEY = "demo-valid-key"
RAW = "audio_format=s16le&sample_rate=16000&num_channels=1"
RATE = 16000


# --------------------------------------------------------------------------- plumbing


@dataclasses.dataclass
class Result:
    messages: list[Any]  # dicts for JSON text frames, bytes for binary frames
    code: int | None
    before_eos: list[Any] = dataclasses.field(default_factory=list)

    @property
    def json(self) -> list[dict[str, Any]]:
        return [m for m in self.messages if isinstance(m, dict)]

    def of(self, kind: str) -> list[dict[str, Any]]:
        return [m for m in self.json if m.get("type") == kind]


def _decode(m: str | bytes) -> Any:
    return json.loads(m) if isinstance(m, str) else m


async def _drain(ws: Any, timeout: float = 10.0) -> list[Any]:
    out: list[Any] = []
    try:
        while True:
            out.append(_decode(await asyncio.wait_for(ws.recv(), timeout)))
    except ConnectionClosed:
        pass
    return out


async def _poll(ws: Any, wait_s: float) -> list[Any]:
    """Messages that arrive within ``wait_s`` (the connection stays open)."""
    out: list[Any] = []
    deadline = time.monotonic() + wait_s
    while (left := deadline - time.monotonic()) > 0:
        try:
            out.append(_decode(await asyncio.wait_for(ws.recv(), left)))
        except TimeoutError:
            break
    return out


def url(emu: RunningEmulator, surface: str, query: str) -> str:
    return emu.base_url.replace("http", "ws", 1) + T.VELMA_PATHS[surface] + "?" + query


async def _session(
    emu: RunningEmulator,
    surface: str,
    query: str,
    frames: Sequence[str | bytes] = (),
    *,
    eos: bool = True,
    headers: dict[str, str] | None = None,
    wait_before_eos: float = 0.0,
) -> Result:
    async with connect(url(emu, surface, query), additional_headers=headers or {}) as ws:
        early: list[Any] = []
        try:
            for f in frames:
                await ws.send(f)
            if wait_before_eos:
                early = await _poll(ws, wait_before_eos)
            if eos:
                await ws.send("")
        except ConnectionClosed:
            pass
        rest = await _drain(ws)
        return Result(early + rest, ws.close_code, early)


def session(*args: Any, **kw: Any) -> Result:
    return asyncio.run(_session(*args, **kw))


def q(key: str = KEY, extra: str = RAW) -> str:
    return f"api_key={key}" + (f"&{extra}" if extra else "")


def chunks(data: bytes, size: int = 3200) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)]


def speech(seconds: float, seed: int = 1, **kw: Any) -> np.ndarray:
    return speech_bursts(seconds, RATE, seed=seed, **kw).samples


def pcm(signal: np.ndarray, fmt: str = "s16le") -> bytes:
    return encode_raw(signal, fmt)


def assert_error_close(r: Result, code: int, text: str | None = None) -> None:
    assert r.code == code, r
    errors = r.of("error")
    assert errors, r
    assert schema.errors(r.json[-1], SS.ERROR) == [], r
    if text is not None:
        assert r.json[-1]["error"] == text


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    e = start()
    yield e
    e.stop()


@pytest.mark.parametrize("surface", SURFACES)
def test_every_message_fits_its_schema(emu, surface):
    """The emulator speaks the contract's message schemas (all signals on, for STT)."""
    signals = "&partial_results=true&emotion_signal=true&accent_signal=true&deepfake_signal=true"
    extra = RAW + (signals if surface == STT else "")
    r = session(emu, surface, q(extra=extra), chunks(pcm(speech(3.0, seed=5))))
    assert r.code == 1000 and {"done"} < {m["type"] for m in r.json}, r
    for m in r.json:
        assert schema.errors(m, SS.server_schema(surface, m["type"])) == [], m


@pytest.fixture(scope="module")
def emu_alt() -> Iterator[RunningEmulator]:
    """The other side of the streaming disputes."""
    cfg = default_config()
    choices = resolve_choices(
        {
            "stt-stream/invalid-key": "4003",
            "svd-stream/invalid-key": "4001",
            "svd-stream/concurrency-limit": "4003",
            "svd-stream/monthly-quota": "4003",
            "svd-stream/container-input": "raw-only",
            "svd-stream/multichannel": "1-2",
        }
    )
    demo = dataclasses.replace(cfg.orgs["demo"], concurrency=1)
    e = start(cfg.with_changes(choices=choices, orgs={**cfg.orgs, "demo": demo}))
    yield e
    e.stop()


@pytest.fixture(scope="module")
def emu_small() -> Iterator[RunningEmulator]:
    """Concurrency limit 2 per model for the demo organisation."""
    cfg = default_config()
    demo = dataclasses.replace(cfg.orgs["demo"], concurrency=2)
    e = start(cfg.with_changes(orgs={**cfg.orgs, "demo": demo}))
    yield e
    e.stop()


# --------------------------------------------------------------------------- 1003: parameters


BAD_PARAMS = [
    ("audio_format=s16le&sample_rate=50000&num_channels=1", lambda s: T.sample_rate_error(50000)),
    ("audio_format=s16le&sample_rate=16000&num_channels=12", lambda s: T.num_channels_error(12)),
    ("audio_format=s16le&sample_rate=16000&num_channels=0", lambda s: T.num_channels_error(0)),
    ("audio_format=s16le", lambda s: T.ERR_RAW_NEEDS_PARAMS),
    ("audio_format=mulaw&sample_rate=8000", lambda s: T.ERR_RAW_NEEDS_PARAMS),
    ("audio_format=f32le&num_channels=1", lambda s: T.ERR_RAW_NEEDS_PARAMS),
    ("audio_format=wav&sample_rate=16000&num_channels=1", lambda s: ERR_CONTAINER_WITH_PARAMS),
]


@pytest.mark.parametrize("surface", SURFACES)
@pytest.mark.parametrize(("extra", "text"), BAD_PARAMS)
def test_bad_params_error_then_1003(emu, surface, extra, text):
    r = session(emu, surface, q(extra=extra), [pcm(speech(0.3))], eos=True)
    assert_error_close(r, 1003, text(surface))
    assert len(r.json) == 1  # nothing but the error: no audio was processed


@pytest.mark.parametrize("surface", SURFACES)
def test_unknown_audio_format_1003(emu, surface):
    bad = T.EXAMPLE_BAD_VALUES["audio_format"][surface]
    r = session(emu, surface, q(extra=f"audio_format={bad}"))
    assert_error_close(r, 1003, T.audio_format_error(surface, bad))


@pytest.mark.parametrize("surface", SURFACES)
def test_rate_or_channels_without_format(emu, surface):
    r = session(emu, surface, q(extra="sample_rate=16000"))
    assert_error_close(r, 1003, T.ERR_PARAMS_NEED_FORMAT)


def test_svd_requires_audio_format(emu):
    assert_error_close(session(emu, SVD, q(extra="")), 1003, T.ERR_FORMAT_REQUIRED)


@pytest.mark.parametrize("surface", (STT, PII))
def test_audio_format_optional_on_stt_and_pii(emu, surface):
    r = session(emu, surface, q(extra=""), [], eos=True)
    assert r.code == 1000 and r.json[-1]["type"] == "done"


@pytest.mark.parametrize(
    ("surface", "extra"),
    [
        (STT, "partial_results=maybe"),
        (STT, "language=english1"),
        (PII, "language=1x"),
        (PII, "start_redaction_padding_ms=-5"),
        (PII, "end_redaction_padding_ms=abc"),
    ],
)
def test_bad_flag_values_1003(emu, surface, extra):
    assert_error_close(session(emu, surface, q(extra=f"{RAW}&{extra}")), 1003)


def test_svd_alternatives_raw_only_and_stereo_only(emu, emu_alt):
    wav = q(extra="audio_format=wav")
    six = q(extra="audio_format=s16le&sample_rate=16000&num_channels=6")
    assert_error_close(session(emu_alt, SVD, wav), 1003)
    assert_error_close(session(emu_alt, SVD, six), 1003)
    assert session(emu, SVD, six).code == 1000
    assert session(emu, SVD, wav).code == 1000


# --------------------------------------------------------------------------- auth and admission


@pytest.mark.parametrize(("surface", "code"), [(STT, 4001), (SVD, 4003), (PII, 4003)])
@pytest.mark.parametrize("key", ["nope", None])
def test_bad_or_missing_key(emu, surface, code, key):
    query = RAW if key is None else q(key)
    r = session(emu, surface, query, [pcm(speech(0.3))])
    assert_error_close(r, code)
    assert len(r.json) == 1


@pytest.mark.parametrize(("surface", "code"), [(STT, 4003), (SVD, 4001), (PII, 4003)])
def test_bad_key_follows_chosen_alternative(emu_alt, surface, code):
    assert_error_close(session(emu_alt, surface, q("nope")), code)


@pytest.mark.parametrize("surface", SURFACES)
def test_model_not_enabled_4003(emu, surface):
    r = session(emu, surface, q("demo-no-model-access-key"))
    assert_error_close(r, 4003, T.DETAIL_FORBIDDEN)


@pytest.mark.parametrize("surface", SURFACES)
def test_quota_exhausted_4029(emu, surface):
    r = session(emu, surface, q("demo-quota-exhausted-key"))
    assert_error_close(r, 4029, T.DETAIL_INSUFFICIENT_CREDITS)


def test_svd_quota_alternative_4003(emu_alt):
    assert_error_close(session(emu_alt, SVD, q("demo-quota-exhausted-key")), 4003)


async def _wait_in_flight(emu: RunningEmulator, surface: str, n: int) -> None:
    deadline = time.monotonic() + 5
    while emu.state.admission.in_flight("demo", surface) != n:
        assert time.monotonic() < deadline, emu.state.admission.snapshot()
        await asyncio.sleep(0.01)


@pytest.mark.parametrize("surface", SURFACES)
def test_concurrency_n_plus_one_4029_and_release(emu_small, surface):
    async def main() -> None:
        held = [await connect(url(emu_small, surface, q())) for _ in range(2)]
        await _wait_in_flight(emu_small, surface, 2)
        third = await _session(emu_small, surface, q(), [pcm(speech(0.3))])
        assert_error_close(third, 4029)
        await held[0].close()
        held[1].transport.abort()  # unclean: no close frame
        await _wait_in_flight(emu_small, surface, 0)
        ok = await _session(emu_small, surface, q(), [pcm(speech(0.6))])
        assert ok.code == 1000 and ok.json[-1]["type"] == "done"

    asyncio.run(main())


def test_svd_concurrency_alternative_4003(emu_alt):
    async def main() -> None:
        async with connect(url(emu_alt, SVD, q())):
            await _wait_in_flight(emu_alt, SVD, 1)
            assert_error_close(await _session(emu_alt, SVD, q()), 4003)

    asyncio.run(main())


# --------------------------------------------------------------------------- end of stream


def test_done_then_1000_each_surface(emu):
    data = pcm(speech(2.5))
    for surface in SURFACES:
        r = session(emu, surface, q(), chunks(data))
        assert r.code == 1000
        done = r.of("done")
        assert len(done) == 1 and done[0]["duration_ms"] == 2500
        last_json = r.json[-1]
        assert last_json is done[0]
        if surface == SVD:
            assert done[0]["frame_count"] == len(r.of("frame"))
        if surface == PII:
            assert "trailing_redacted_audio" in done[0]


@pytest.mark.parametrize("surface", SURFACES)
def test_zero_length_binary_is_not_end_of_stream(emu, surface):
    async def main() -> Result:
        async with connect(url(emu, surface, q())) as ws:
            await ws.send(pcm(speech(0.2)))
            await ws.send(b"")
            early = await _poll(ws, 0.3)
            assert early == [] and ws.close_code is None
            await ws.send(pcm(speech(0.6, seed=2)))
            await ws.send("")
            return Result(early + await _drain(ws), ws.close_code)

    r = asyncio.run(main())
    assert r.code == 1000 and r.of("done")[0]["duration_ms"] == 800


def test_quota_charged_by_streamed_duration(emu):
    for surface in SURFACES:  # earlier sessions are charged when they end
        asyncio.run(_wait_in_flight(emu, surface, 0))
    before = emu.state.admission.used_seconds("demo")
    r = session(emu, STT, q(), chunks(pcm(speech(3.0))))
    assert r.code == 1000
    deadline = time.monotonic() + 5
    while emu.state.admission.used_seconds("demo") - before < 2.999:
        assert time.monotonic() < deadline
        time.sleep(0.01)
    assert emu.state.admission.used_seconds("demo") - before == pytest.approx(3.0, abs=0.01)


# --------------------------------------------------------------------------- 4002 and 1011


def _wav_bytes(signal: np.ndarray) -> bytes:
    import soundfile as sf

    buf = io.BytesIO()
    sf.write(buf, signal, RATE, format="WAV", subtype="PCM_16")
    return buf.getvalue()


@pytest.mark.parametrize("surface", SURFACES)
def test_container_bytes_on_raw_stream_4002(emu, surface):
    r = session(emu, surface, q(), [_wav_bytes(speech(1.0))])
    assert_error_close(r, 4002, T.ERR_FORMAT_MISMATCH)


def test_nan_floats_on_f32_4002(emu):
    sig = speech(1.0).astype(np.float32)
    sig[100] = np.nan
    r = session(
        emu, SVD, q(extra="audio_format=f32le&sample_rate=16000&num_channels=1"), [sig.tobytes()]
    )
    assert_error_close(r, 4002, T.ERR_FORMAT_MISMATCH)
    ok = session(
        emu,
        SVD,
        q(extra="audio_format=f32le&sample_rate=16000&num_channels=1"),
        [pcm(speech(1.0), "f32le")],
    )
    assert ok.code == 1000


@pytest.mark.parametrize("surface", SURFACES)
def test_partial_frame_at_end_4002(emu, surface):
    r = session(emu, surface, q(), [pcm(speech(0.7)) + b"\x01"])
    assert_error_close(r, 4002)
    assert not r.of("done")


def test_undecodable_container_4002(emu):
    r = session(emu, SVD, q(extra="audio_format=wav"), [b"RIFF" + bytes(range(256)) * 8])
    assert_error_close(r, 4002, T.DETAIL_UNPROCESSABLE)


def _mp4(tmp_path: Any, signal: np.ndarray, fmt: str, faststart: bool) -> bytes:
    """An AAC MP4-family file, index (``moov``) last or, with ``faststart``, first."""
    path = tmp_path / f"clip-{faststart}.{fmt}"
    opts = {"movflags": "faststart"} if faststart else {}
    with av.open(str(path), "w", format="mp4" if fmt != "3gp" else "3gp", options=opts) as out:
        stream = out.add_stream("aac", rate=RATE, layout="mono")
        frame = av.AudioFrame.from_ndarray(
            np.ascontiguousarray(signal.astype(np.float32).reshape(1, -1)),
            format="flt",
            layout="mono",
        )
        frame.sample_rate, frame.pts = RATE, 0
        for packet in [*stream.encode(frame), *stream.encode(None)]:
            out.mux(packet)
    return path.read_bytes()


@pytest.mark.parametrize("fmt", ["mp4", "m4a"])
def test_svd_mp4_index_last_4002_at_once_index_first_analysed(emu, tmp_path, fmt):
    sig = speech(2.0)
    last = _mp4(tmp_path, sig, fmt, faststart=False)
    first = _mp4(tmp_path, sig, fmt, faststart=True)
    assert last.find(b"mdat") < last.find(b"moov") and first.find(b"moov") < first.find(b"mdat")
    query = q(extra=f"audio_format={fmt}")
    r = session(emu, SVD, query, chunks(last, 4096), eos=False)  # no end of stream needed
    assert_error_close(r, 4002, T.DETAIL_UNPROCESSABLE)
    assert not r.of("frame")
    ok = session(emu, SVD, query, chunks(first, 4096))
    assert ok.code == 1000 and ok.of("frame") and ok.of("done"), ok


def test_mp4_layout_reads_box_order():
    from harness.emulator.streaming.rawdecode import (
        INDEX_FIRST,
        INDEX_LAST,
        NOT_BOXES,
        mp4_layout,
    )

    def box(kind: bytes, body: bytes = b"") -> bytes:
        return (8 + len(body)).to_bytes(4, "big") + kind + body

    ftyp = box(b"ftyp", b"isom" + bytes(4))
    assert mp4_layout(ftyp + box(b"free") + box(b"mdat", b"x" * 9) + box(b"moov")) == INDEX_LAST
    assert mp4_layout(ftyp + box(b"moov", b"y" * 3)) == INDEX_FIRST
    assert mp4_layout(ftyp[:10]) is None and mp4_layout(ftyp) is None  # need more bytes
    big = (1).to_bytes(4, "big") + b"wide" + (24).to_bytes(8, "big") + bytes(8)
    assert mp4_layout(ftyp + big + box(b"mdat")) == INDEX_LAST  # 64-bit box size
    assert mp4_layout(b"RIFF\x00\x00\x00\x00WAVEfmt ") == NOT_BOXES
    assert mp4_layout(bytes(16)) == NOT_BOXES


@pytest.mark.parametrize("surface", SURFACES)
def test_injected_fault_error_then_1011(emu, surface):
    r = session(
        emu, surface, q(), chunks(pcm(speech(1.0))), headers={"X-Emulator-Fault": "overload"}
    )
    assert_error_close(r, 1011, T.DETAIL_INTERNAL)


# --------------------------------------------------------------------------- STT


def test_stt_partials_only_with_flag(emu):
    data = chunks(pcm(speech(5.0, burst_s=(1.5, 2.5))), 1600)
    without = session(emu, STT, q(), data)
    with_flag = session(emu, STT, q(extra=RAW + "&partial_results=true"), data)
    assert without.code == with_flag.code == 1000
    assert not without.of("partial_utterance")
    assert with_flag.of("partial_utterance")
    assert len(with_flag.of("utterance")) == len(without.of("utterance")) > 0
    # no partial after the last utterance / done
    kinds = [m["type"] for m in with_flag.json]
    assert kinds[-2] == "utterance" and kinds[-1] == "done"


def test_stt_utterance_fields_and_deepfake_null_when_short(emu):
    sig = np.concatenate([speech(0.3), silence(1.0, RATE), speech(1.5, seed=4), silence(1.0, RATE)])
    r = session(
        emu, STT, q(extra=RAW + "&deepfake_signal=true&emotion_signal=true"), chunks(pcm(sig))
    )
    utts = [m["utterance"] for m in r.of("utterance")]
    assert len(utts) == 2
    assert utts[0]["duration_ms"] < 500 and utts[0]["deepfake_score"] is None
    assert utts[1]["duration_ms"] >= 500 and 0 <= utts[1]["deepfake_score"] <= 1
    assert all(isinstance(u["emotion"], str) and u["accent"] is None for u in utts)
    assert len({u["utterance_uuid"] for u in utts}) == 2


def test_stt_results_arrive_before_end_of_stream(emu):
    sig = np.concatenate([speech(1.0), silence(1.0, RATE)])
    r = session(emu, STT, q(), chunks(pcm(sig)), wait_before_eos=1.0)
    assert any(m.get("type") == "utterance" for m in r.before_eos if isinstance(m, dict))


def test_stt_config_frame(emu):
    data = chunks(pcm(speech(2.0)))
    cfg = json.dumps({"emotion_signal": True, "partial_results": True})
    r = session(emu, STT, q(), [cfg, *data])
    assert r.code == 1000
    assert all(isinstance(m["utterance"]["emotion"], str) for m in r.of("utterance"))
    for bad in ("{not json", json.dumps({"emotion_signal": "yes"}), json.dumps([1])):
        assert_error_close(session(emu, STT, q(), [bad, *data]), 1003, T.DETAIL_INVALID_CONFIG)


# --------------------------------------------------------------------------- SVD


def test_svd_first_frame_at_half_second_then_cadence_and_window(emu):
    async def main() -> Result:
        async with connect(url(emu, SVD, q())) as ws:
            sig = speech(7.2)
            await ws.send(pcm(sig[: int(0.45 * RATE)]))
            assert await _poll(ws, 0.3) == []  # under 0.5 s: no frame yet
            await ws.send(pcm(sig[int(0.45 * RATE) : int(0.6 * RATE)]))
            early = await _poll(ws, 0.5)
            assert [m["type"] for m in early] == ["frame"]
            await ws.send(pcm(sig[int(0.6 * RATE) :]))
            await ws.send("")
            return Result(early + await _drain(ws), ws.close_code)

    r = asyncio.run(main())
    frames = [m["frame"] for m in r.of("frame")]
    ends = [f["end_time_ms"] for f in frames]
    assert ends[0] == 500 and ends[:7] == [500, 1500, 2500, 3500, 4500, 5500, 6500]
    assert ends[-1] == 7200
    for f in frames:
        if f["end_time_ms"] <= 4000:
            assert f["start_time_ms"] == 0
        else:
            assert f["end_time_ms"] - f["start_time_ms"] == 4000
        assert f["verdict"] in T.SVD_VERDICTS and 0 <= f["confidence"] <= 1
    assert r.of("done")[0] == {"type": "done", "duration_ms": 7200, "frame_count": len(frames)}


def test_svd_first_frame_not_held_back_by_small_chunks(emu):
    async def main() -> None:
        async with connect(url(emu, SVD, q())) as ws:
            for c in chunks(pcm(speech(0.51)), 960):  # 30 ms chunks
                await ws.send(c)
            early = await _poll(ws, 0.5)
            assert [m["frame"]["end_time_ms"] for m in early] == [500]

    asyncio.run(main())


def test_svd_silence_is_no_content_with_confidence_one(emu):
    r = session(emu, SVD, q(), chunks(pcm(silence(2.0, RATE))))
    frames = [m["frame"] for m in r.of("frame")]
    assert frames and all(f["verdict"] == "no-content" and f["confidence"] == 1.0 for f in frames)


def test_svd_short_stream_done_without_frames(emu):
    r = session(emu, SVD, q(), [pcm(speech(0.3))])
    assert r.code == 1000 and r.json == [{"type": "done", "duration_ms": 300, "frame_count": 0}]


def test_svd_wav_container_and_multichannel_raw(emu):
    r = session(emu, SVD, q(extra="audio_format=wav"), chunks(_wav_bytes(speech(2.0))))
    assert r.code == 1000 and len(r.of("frame")) == 3 and r.of("done")[0]["duration_ms"] == 2000
    stereo = np.repeat(speech(2.0), 2, axis=1)
    r2 = session(
        emu,
        SVD,
        q(extra="audio_format=s24be&sample_rate=16000&num_channels=2"),
        chunks(pcm(stereo, "s24be"), 999),
    )
    assert r2.code == 1000 and r2.of("done")[0]["duration_ms"] == 2000


# --------------------------------------------------------------------------- PII


def _is_mp3(data: bytes) -> float:
    """Duration in seconds of an MP3 (raises if it is not one)."""
    with av.open(io.BytesIO(data), format="mp3") as c:
        n = sum(f.samples for f in c.decode(audio=0))
        return n / c.streams.audio[0].rate


def test_pii_utterance_then_one_mp3_frame(emu):
    sig = np.concatenate([speech(6.0, seed=5, gap_s=(0.5, 0.8)), silence(0.8, RATE)])
    r = session(emu, PII, q(), chunks(pcm(sig)))
    assert r.code == 1000
    msgs = r.messages
    clip_end = 0
    i = 0
    n_utts = 0
    while i < len(msgs):
        m = msgs[i]
        assert isinstance(m, dict), f"binary frame out of place at {i}"
        if m["type"] == "utterance":
            n_utts += 1
            ra = m["redacted_audio"]
            assert ra is not None and ra["start_ms"] == clip_end
            assert isinstance(msgs[i + 1], bytes)
            assert _is_mp3(msgs[i + 1]) == pytest.approx(ra["duration_ms"] / 1000, abs=0.08)
            clip_end = ra["start_ms"] + ra["duration_ms"]
            i += 2
            continue
        assert m["type"] == "done"
        trailing = m["trailing_redacted_audio"]
        assert trailing == {"start_ms": clip_end, "duration_ms": 6800 - clip_end}
        assert i + 2 == len(msgs) and isinstance(msgs[i + 1], bytes)
        assert _is_mp3(msgs[i + 1]) > 0
        i += 2
    assert n_utts >= 2


def test_pii_trailing_null_when_nothing_after_last_utterance(emu):
    r = session(emu, PII, q(), chunks(pcm(tone(1.0, RATE))))
    done = r.of("done")[0]
    assert done["trailing_redacted_audio"] is None
    assert isinstance(r.messages[-2], bytes) and r.messages[-1] == done


def test_pii_redaction_markers_and_silenced_audio(emu):
    found = False
    for seed in range(6):
        sig = np.concatenate([speech(3.0, seed=seed, burst_s=(2.5, 3.0)), silence(0.5, RATE)])
        r = session(emu, PII, q(extra=RAW + "&start_redaction_padding_ms=0"), chunks(pcm(sig)))
        for m in r.of("utterance"):
            text = m["utterance"]["text"]
            if "<pii:" in text or "<phi>" in text:
                found = True
    assert found


# --------------------------------------------------------------------------- deviations


def dev(name: str) -> dict[str, str]:
    assert name in STREAM_DEVIATIONS
    return {"X-Emulator-Deviation": name}


def test_deviation_close_1000_instead_of_4002(emu):
    bad = [_wav_bytes(speech(0.5))]
    assert session(emu, STT, q(), bad).code == 4002
    r = session(emu, STT, q(), bad, headers=dev("close-1000-instead-of-4002"))
    assert r.code == 1000 and r.json[-1]["type"] == "error"


def test_deviation_omit_done(emu):
    r = session(emu, SVD, q(), chunks(pcm(speech(1.0))), headers=dev("omit-done"))
    assert r.code == 1000 and r.of("frame") and not r.of("done")


def test_deviation_no_error_before_close(emu):
    r = session(emu, SVD, q(extra="audio_format=mp2"), headers=dev("no-error-before-close"))
    assert r.code == 1003 and r.json == []


def test_deviation_partials_without_flag(emu):
    data = chunks(pcm(speech(4.0, burst_s=(1.5, 2.5))), 1600)
    r = session(emu, STT, q(), data, headers=dev("partials-without-flag"))
    assert r.of("partial_utterance")


def test_unknown_deviation_header_is_refused(emu):
    r = session(emu, STT, q(), headers={"X-Emulator-Deviation": "no-such-thing"})
    assert r.code == 1008 and r.json[-1]["type"] == "error"


def test_streaming_routes_mounted_once():
    from harness.emulator import create_app

    paths = [getattr(r, "path", None) for r in create_app().routes]
    for surface in SURFACES:
        assert paths.count(T.VELMA_PATHS[surface]) == 1
