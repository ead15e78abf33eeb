"""Hostile and slow clients, and the pieces the authors reported missing: mid-stream
faults, streaming deviations from config and control, unambiguous disputes, WAV streamed
incrementally."""

from __future__ import annotations

import asyncio
import contextlib
import io
import socket
import threading
import time

import httpx
import numpy as np
import pytest
import soundfile as sf
from test_emulator_helpers import VALID, config, control, post, running, wav, with_faulty_key
from test_emulator_ws_fuzz import RAW_QUERY, check_close, fuzz_session, ws_url
from websockets.asyncio.client import connect

from harness.audio import encode_raw
from harness.audio.signals import silence, speech_bursts
from harness.contract import all_clauses
from harness.contract import tables as T
from harness.emulator.alternatives import ALL_DISPUTES
from harness.emulator.deviations import STREAM_DEVIATIONS
from harness.emulator.faults import FaultPlan, parse_fault, parse_fault_header

RAW = RAW_QUERY


def _addr(emu) -> tuple[str, int]:
    host, port = emu.base_url.removeprefix("http://").rsplit(":", 1)
    return host, int(port)


def _speech(seconds: float, seed: int = 1) -> np.ndarray:
    return speech_bursts(seconds, 16000, seed=seed).samples


# --------------------------------------------------------------------------- slow clients


def test_slow_header_client_does_not_block_others(emu):
    stop = threading.Event()

    def slowloris() -> None:
        with socket.create_connection(_addr(emu)) as s:
            s.sendall(b"POST /api/velma-2-stt-batch HTTP/1.1\r\nHost: x\r\n")
            while not stop.wait(0.05):
                s.sendall(b"X")  # one byte of a header that never ends

    _others_served_while(emu, slowloris, stop)


def test_slow_body_upload_does_not_block_others(emu):
    clip = wav(1.0)
    stop = threading.Event()
    sent: list[int] = []

    def body():
        yield b"--b\r\nContent-Disposition: form-data; name=upload_file; filename=a.wav\r\n\r\n"
        for i in range(0, len(clip), 500):
            if stop.wait(0.05):
                return
            sent.append(i)
            yield clip[i : i + 500]

    def slow_upload() -> None:
        headers = {"X-API-Key": VALID, "Content-Type": "multipart/form-data; boundary=b"}
        url = emu.base_url + T.VELMA_PATHS["stt-batch"]
        with httpx.Client(timeout=10) as c, contextlib.suppress(httpx.HTTPError):
            c.post(url, content=body(), headers=headers)

    _others_served_while(emu, slow_upload, stop)
    assert sent


def _others_served_while(emu, slow_client, stop: threading.Event) -> None:
    """Run ``slow_client`` in a thread; meanwhile a normal request is answered promptly."""
    t = threading.Thread(target=slow_client, daemon=True)
    t.start()
    try:
        time.sleep(0.3)
        t0 = time.monotonic()
        assert post(emu, "stt-batch", wav(1.0)).status_code == 200
        assert time.monotonic() - t0 < 2.0
    finally:
        stop.set()
        t.join(15)


def test_endless_header_is_cut_off_with_400():
    """A header that never ends is refused once it passes max_header_bytes (bounded memory)."""
    with running(config({"server": {"max_header_bytes": 8192}})) as e:
        with socket.create_connection(_addr(e)) as s:
            s.settimeout(5)
            s.sendall(b"GET /_emulator/state HTTP/1.1\r\nHost: x\r\nX-Big: ")
            reply = b""
            for _ in range(64):  # up to 256 kB, 4 kB at a time
                try:
                    s.sendall(b"a" * 4096)
                    time.sleep(0.005)
                except OSError:
                    break
            with contextlib.suppress(OSError):
                reply = s.recv(200)
        assert reply.startswith(b"HTTP/1.1 400"), reply
        assert post(e, "vfast-batch", wav(0.6)).status_code == 200


# --------------------------------------------------------------------------- multipart


def _multipart(parts: list[tuple[bytes, bytes]]) -> bytes:
    out = b""
    for head, data in parts:
        out += b"--b\r\n" + head + b"\r\n\r\n" + data + b"\r\n"
    return out + b"--b--\r\n"


def _post_raw(emu, body: bytes, surface: str = "stt-batch") -> httpx.Response:
    headers = {"X-API-Key": VALID, "Content-Type": "multipart/form-data; boundary=b"}
    return httpx.post(emu.base_url + T.VELMA_PATHS[surface], content=body, headers=headers)


def test_huge_field_part_many_parts_and_huge_part_header_are_400(emu):
    upload = (b'Content-Disposition: form-data; name="upload_file"; filename="a.wav"', wav(0.6))
    huge_field = (b'Content-Disposition: form-data; name="language"', b"e" * 200_000)
    r = _post_raw(emu, _multipart([upload, huge_field]))
    assert (r.status_code, r.json()["detail"]) == (400, T.DETAIL_BAD_VALUE)
    many = [(f'Content-Disposition: form-data; name="f{i}"'.encode(), b"x") for i in range(100)]
    r = _post_raw(emu, _multipart([upload, *many]))
    assert (r.status_code, r.json()["detail"]) == (400, T.DETAIL_BAD_VALUE)
    huge_head = (b"X-Junk: " + b"j" * 100_000, b"x")
    r = _post_raw(emu, _multipart([upload, huge_head]))
    assert (r.status_code, r.json()["detail"]) == (400, T.DETAIL_BAD_VALUE)


def test_huge_file_part_over_the_limit_is_a_clear_4xx():
    cfg = config(
        {
            "processing": {"time_scale": 0.0, "max_upload_bytes": 50_000},
            "alternatives": {"velma/batch-max-size": "rejected-4xx"},
        }
    )
    with running(cfg) as e:
        r = post(e, "stt-batch", wav(3.0))  # about 96 kB
        assert 400 <= r.status_code < 500 and isinstance(r.json()["detail"], str)


def test_bad_utf8_in_form_fields_is_never_500(emu):
    upload = (b'Content-Disposition: form-data; name="upload_file"; filename="a.wav"', wav(0.6))
    for name, value in [
        (b"language", b"\xff\xfe"),
        (b"config", b'{"language": "\xc3\x28"}'),
        (b"\xff\xfe", b"x"),
        (b"emotion_signal", b"tr\xffue"),
    ]:
        body = _multipart(
            [upload, (b'Content-Disposition: form-data; name="' + name + b'"', value)]
        )
        r = _post_raw(emu, body)
        assert r.status_code in (200, 400, 422), r.text
        r.json()  # a JSON body, not a crash page


# --------------------------------------------------------------------------- idle WebSocket


def test_idle_websocket_gets_error_then_1011():
    with running(config({"server": {"ws_idle_timeout_s": 0.3}})) as e:

        async def main() -> None:
            async with connect(ws_url(e, "svd-stream", RAW)) as ws:
                t0 = time.monotonic()
                msg = await asyncio.wait_for(ws.recv(), 5)
                assert 0.25 < time.monotonic() - t0 < 3
                assert '"error"' in msg and "idle" in msg
                await ws.wait_closed()
                assert ws.close_code == 1011
            # a slot held by an idle client is freed
            deadline = time.monotonic() + 5
            while e.state.admission.in_flight("demo", "svd-stream"):
                assert time.monotonic() < deadline
                await asyncio.sleep(0.01)

        asyncio.run(main())


def test_active_websocket_is_not_idle():
    with running(config({"server": {"ws_idle_timeout_s": 0.3}})) as e:
        chunks = [("bin", c) for c in np.array_split(np.frombuffer(b"\0\0" * 8000, np.uint8), 5)]

        async def main() -> tuple[int | None, list]:
            async with connect(ws_url(e, "svd-stream", RAW)) as ws:
                for _, c in chunks:
                    await ws.send(c.tobytes())
                    await asyncio.sleep(0.15)
                await ws.send("")
                got = [m async for m in ws]
                return ws.close_code, got

        code, got = asyncio.run(main())
        assert code == 1000 and '"done"' in got[-1]


# --------------------------------------------------------------------------- mid-stream fault


def test_midstream_fault_parsing():
    assert str(parse_fault("internal-midstream")) == "internal-midstream=1f"
    assert str(parse_fault("internal-midstream=3f")) == "internal-midstream=3f"
    assert str(parse_fault("internal-midstream=1.5")) == "internal-midstream=1.5s"
    plan = FaultPlan.of(parse_fault_header("internal-midstream=2s, internal-midstream=1s"))
    assert plan.midstream_audio_s == 1.0 and plan.stream_fail_frame is None
    assert FaultPlan.of([parse_fault("overload")]).stream_fail_frame == 1
    for bad in ("internal-midstream=0f", "internal-midstream=x", "internal-midstream=-1"):
        with pytest.raises(ValueError):
            parse_fault(bad)


def _frames(seconds: float) -> list[tuple[str, bytes]]:
    data = encode_raw(_speech(seconds), "s16le")
    return [("bin", data[i : i + 3200]) for i in range(0, len(data), 3200)]  # 0.1 s each


def test_midstream_fault_after_seconds_delivers_results_first(emu):
    hdrs = {"X-Emulator-Fault": "internal-midstream=1.6s"}
    code, got = asyncio.run(fuzz_session(ws_url(emu, "svd-stream", RAW), _frames(3.0), [], hdrs))
    check_close(code, got)
    assert code == 1011 and got[-1]["error"] == T.DETAIL_INTERNAL
    assert [m["frame"]["end_time_ms"] for m in got if m["type"] == "frame"] == [500, 1500]


def test_midstream_fault_by_frames_key_and_control_endpoint():
    with running(with_faulty_key("flaky", ["internal-midstream=5f"])) as e:
        code, got = asyncio.run(
            fuzz_session(ws_url(e, "stt-stream", {**RAW, "api_key": "flaky"}), _frames(1.0), [], {})
        )
        assert code == 1011 and got[-1]["type"] == "error"
        code, _ = asyncio.run(fuzz_session(ws_url(e, "stt-stream", RAW), _frames(1.0), [], {}))
        assert code == 1000
        on = control(e, "POST", "switches", json={"faults": ["internal-midstream=0.5"]})
        assert on.json()["switches"]["faults"] == ["internal-midstream=0.5s"]
        code, got = asyncio.run(fuzz_session(ws_url(e, "pii-stream", RAW), _frames(1.0), [], {}))
        assert code == 1011 and got[-1]["type"] == "error"
        control(e, "POST", "reset")
        # REST ignores it
        control(e, "POST", "switches", json={"faults": ["internal-midstream"]})
        assert post(e, "stt-batch", wav(0.6)).status_code == 200


# --------------------------------------------------------------------------- deviations


def test_streaming_deviations_from_config_and_control():
    assert {"no-error-before-close", "partials-without-flag"} <= set(STREAM_DEVIATIONS)
    cfg = config({"deviations": {"enabled": ["no-error-before-close"]}})
    with running(cfg) as e:
        code, got = asyncio.run(
            fuzz_session(ws_url(e, "svd-stream", {**RAW, "audio_format": "mp2"}), [], [], {})
        )
        assert code == 1003 and got == []
    with running() as e:
        r = control(e, "POST", "switches", json={"deviations": ["partials-without-flag"]})
        assert r.status_code == 200, r.text
        sig = speech_bursts(4.0, 16000, seed=1, burst_s=(1.5, 2.5)).samples
        frames = [("bin", c) for c in _chunks(encode_raw(sig, "s16le"), 1600)]
        code, got = asyncio.run(fuzz_session(ws_url(e, "stt-stream", RAW), frames, [], {}))
        assert code == 1000 and any(m["type"] == "partial_utterance" for m in got)


def _chunks(data: bytes, n: int) -> list[bytes]:
    return [data[i : i + n] for i in range(0, len(data), n)]


# --------------------------------------------------------------------------- alternatives


def test_every_dispute_names_one_catalog_clause_per_surface():
    clauses = {c.id: c for c in all_clauses() if c.disputed}
    for d in ALL_DISPUTES:
        for surface in d.surfaces:
            found = [cid for cid in d.clause_ids(surface) if cid in clauses]
            assert found, (d, surface)
            assert clauses[found[0]].contradiction == d.row, (d, surface)


def test_svd_stream_rate_limit_clauses_resolve_separately():
    from harness.emulator.alternatives import STREAM_CONCURRENCY, STREAM_QUOTA, resolve_choices

    ch = resolve_choices({"svd-stream/concurrency-limit": "4003"})
    assert ch.outcome(STREAM_CONCURRENCY, "svd-stream", "close_code").close_code == 4003
    assert ch.outcome(STREAM_QUOTA, "svd-stream", "close_code").close_code == 4029


# --------------------------------------------------------------------------- WAV streaming


def _wav_bytes(signal: np.ndarray, subtype: str = "PCM_16") -> bytes:
    buf = io.BytesIO()
    sf.write(buf, signal, 16000, format="WAV", subtype=subtype)
    return buf.getvalue()


@pytest.mark.parametrize("subtype", ["PCM_16", "PCM_24", "FLOAT", "ULAW"])
def test_wav_results_flow_before_end_of_stream(emu, subtype):
    sig = np.concatenate([_speech(1.0), silence(1.0, 16000)])
    data = _wav_bytes(sig, subtype)

    async def main() -> tuple[list, list]:
        async with connect(
            ws_url(emu, "stt-stream", {"api_key": VALID, "audio_format": "wav"})
        ) as ws:
            for c in _chunks(data, 1000):
                await ws.send(c)
            early = []
            try:
                while True:
                    early.append(await asyncio.wait_for(ws.recv(), 1.0))
            except TimeoutError:
                pass
            await ws.send("")
            return early, [m async for m in ws]

    early, rest = asyncio.run(main())
    assert any('"utterance"' in m for m in early), (early, rest)
    assert '"duration_ms": 2000' in rest[-1]
