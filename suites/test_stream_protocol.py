"""The streaming protocol shared by stt-stream, svd-stream and pii-stream.

Binary frames carry audio; an empty TEXT frame ends the stream (outstanding results,
``done``, close 1000); what a zero-length BINARY frame does is only recorded. A close for
an error comes right after an ``error`` message; undecodable or mismatched audio is refused
with a non-1000 close (4002 is promised on deepfake streaming, recommended elsewhere).
"""

from __future__ import annotations

import pytest
from _params import surface_params
from _stream_helpers import (
    CHUNK_100MS,
    RAW16,
    STREAM,
    chunks,
    done_of,
    frames_of,
    is_mp3,
    on_connect,
    speech,
    speech_pcm,
    stream_then_wait,
    utterances_of,
)

from harness.checks import observe_ws
from harness.client import schema
from harness.client.control import fault_header
from harness.contract import tables as T
from harness.contract.schemas_stream import ERROR, SVD_FRAME

RESULT = {"stt-stream": "utterance", "svd-stream": "frame", "pii-stream": "utterance"}


def _seg_covered(segments, utts) -> list[str]:
    """Speech segments (s) with no utterance overlapping them."""
    missing = []
    for seg in segments:
        a, b = seg.start_s * 1000, seg.end_s * 1000
        if not any(
            u.get("start_ms", 0) < b and u.get("start_ms", 0) + u.get("duration_ms", 0) > a
            for u in utts
        ):
            missing.append(f"{a:.0f}-{b:.0f} ms")
    return missing


# --------------------------------------------------------------------------- audio in


@pytest.mark.parametrize(
    "surface", surface_params("audio-binary-frames", ("stt-stream", "pii-stream"))
)
def test_speech_in_binary_frames(case, surface):
    result = case.stream(surface, RAW16, chunks(speech_pcm(2.0)), audio_seconds=2.0)
    utts = utterances_of(result)
    ok = any(isinstance(u.get("text"), str) and u["text"].strip() for u in utts)
    case.judge(observe_ws(result, behaviour=ok, note=f"{len(utts)} utterances"), aspect="data")


@pytest.mark.clause("svd-stream/audio-binary-frames")
def test_svd_odd_chunk_sizes(case):
    data = speech_pcm(2.5, seed=5)
    aligned = case.stream("svd-stream", RAW16, chunks(data, 3200), audio_seconds=2.5)
    odd = case.stream("svd-stream", RAW16, chunks(data, 1001), audio_seconds=2.5)
    # Only the documented frame fields are compared: a target may add fields of its own.
    fields = SVD_FRAME["properties"]["frame"]["required"]
    a = [{k: f.get(k) for k in fields} for f in frames_of(aligned)]
    b = [{k: f.get(k) for k in fields} for f in frames_of(odd)]
    ok = bool(a) and a == b and odd.close_code == 1000
    case.judge(
        observe_ws(odd, behaviour=ok, note=f"{len(a)} frames aligned vs {len(b)} odd"),
        aspect="data",
    )


# --------------------------------------------------------------------------- messages out


@pytest.mark.parametrize("surface", surface_params("message-types", STREAM))
def test_message_types(case, surface):
    q = {**RAW16, "partial_results": True} if surface == "stt-stream" else RAW16
    result = case.stream(surface, q, chunks(speech_pcm(3.0, seed=6)), audio_seconds=3.0)
    allowed = T.SERVER_MESSAGE_TYPES[surface]
    bad = [t for t in result.types if t not in allowed] + [
        f"text:{t[:40]}" for t in result.raw_text
    ]
    if surface == "pii-stream":
        bad += [f"binary {len(b)} B not MP3" for b in result.binary if not is_mp3(b)]
    else:
        bad += [f"binary {len(b)} B" for b in result.binary]
    ok = bool(result.types) and not bad
    case.judge(observe_ws(result, behaviour=ok, note=f"unexpected: {bad}"), aspect="data")


@pytest.mark.parametrize("surface", surface_params("results-while-streaming", STREAM))
def test_results_while_streaming(case, surface):
    data = speech_pcm(3.0, seed=7) + bytes(CHUNK_100MS * 8)  # speech, then 0.8 s of silence
    result, early = stream_then_wait(
        case, surface, RAW16, data, wait_for=RESULT[surface], audio_seconds=3.8
    )
    case.judge(
        observe_ws(result, behaviour=early, note=f"result before end of stream: {early}"),
        aspect="data",
    )


# --------------------------------------------------------------------------- errors


def _error_cases(surface: str):
    """(label, query, audio) that must each end in an error close."""
    return [
        ("bad-rate", {**RAW16, "sample_rate": 50000}, None),
        ("mismatch", RAW16, "container-as-raw-webm-declared-s16le"),
    ]


def _run(case, surface, query, fixture_id):
    if fixture_id is None:
        return on_connect(case, surface, query)[0]
    data = case.fixture_bytes(fixture_id)
    return case.stream(surface, query, chunks(data, 4096), audio_seconds=2.0)


@pytest.mark.parametrize("surface", surface_params("error-shape", STREAM))
@pytest.mark.parametrize("label", ["bad-rate", "mismatch"])
def test_error_shape(case, surface, label):
    _, query, fid = next(c for c in _error_cases(surface) if c[0] == label)
    result = _run(case, surface, query, fid)
    errs = [m for m in result.messages if m.get("type") == "error"]
    problems = [e for m in errs for e in schema.errors(m, ERROR)]
    ok = bool(errs) and not problems and all(m["error"].strip() for m in errs)
    case.judge(observe_ws(result, behaviour=ok, note="; ".join(problems)), aspect="data")


@pytest.mark.parametrize("surface", surface_params("error-before-close", STREAM))
@pytest.mark.parametrize("label", ["bad-rate", "mismatch"])
def test_error_before_close(case, surface, label):
    _, query, fid = next(c for c in _error_cases(surface) if c[0] == label)
    result = _run(case, surface, query, fid)
    errors = result.types.count("error")
    ok = (
        result.close_code not in (None, 1000)
        and result.closed_by == "server"
        and result.error_before_close
        and (surface != "pii-stream" or result.order[-1:] == ["json:error"])
    )
    case.judge(
        observe_ws(result, behaviour=ok, note=f"{errors} error message(s); {result.describe()}"),
        aspect="close",
    )


@pytest.mark.parametrize("surface", surface_params("internal-error", STREAM))
@pytest.mark.parametrize("fault", ["internal-midstream=2f", "internal-midstream=1s"])
def test_internal_error(case, surface, fault):
    case.emulator()  # the fault switch exists only on the emulator
    s = case.ws(surface, RAW16, headers=fault_header(fault))
    if s.open:
        case.charge(surface, 2.0)
        s.stream(chunks(speech_pcm(2.0)))
        s.end_of_stream()
        s.until_close()
    s.close()
    result = s.result
    case.judge(observe_ws(result), aspect="close")
    case.judge(
        observe_ws(result, behaviour=result.error_before_close),
        clause=f"{surface}/error-before-close",
        aspect="close",
    )


UNDECODABLE = {
    # (query, fixture): no recognisable format with audio_format left out, or a broken
    # stream of the declared container format.
    "stt-stream": [
        ({}, "corrupt-wav-bad-magic"),
        ({"audio_format": "wav"}, "truncated-wav-inside-header"),
    ],
    "pii-stream": [
        ({}, "corrupt-wav-bad-magic"),
        ({"audio_format": "wav"}, "truncated-wav-inside-header"),
    ],
    "svd-stream": [
        ({"audio_format": "wav"}, "truncated-wav-inside-header"),
        ({"audio_format": "flac"}, "corrupt-flac-bad-magic"),
    ],
}


@pytest.mark.parametrize("surface", surface_params("undecodable", STREAM))
@pytest.mark.parametrize("which", [0, 1])
def test_undecodable(case, surface, which):
    query, fixture_id = UNDECODABLE[surface][which]
    data = case.fixture_bytes(fixture_id)
    result = case.stream(surface, query, chunks(data, 4096), audio_seconds=2.0)
    case.judge(observe_ws(result, behaviour=_refused(result), note=fixture_id), aspect="close")


def _refused(result) -> bool:
    """An `error` message with a non-blank text, right before a server close other than 1000."""
    err = result.last_error or {}
    text_ok = isinstance(err.get("error"), str) and bool(err["error"].strip())
    return text_ok and result.error_before_close and result.close_code not in (None, 1000)


@pytest.mark.parametrize(
    "surface", surface_params("audio-error-4002", ("stt-stream", "pii-stream"))
)
@pytest.mark.parametrize("which", ["undecodable", "mismatch"])
def test_audio_error_close_code(case, surface, which):
    """The exact close code for bad audio on STT/PII: 4002 is recommended, not promised."""
    if which == "undecodable":
        query, fixture_id = UNDECODABLE[surface][0]
        data = case.fixture_bytes(fixture_id)
        result = case.stream(surface, query, chunks(data, 4096), audio_seconds=2.0)
    else:
        fixture_id = "container-as-raw-webm-declared-s16le"
        result = _send_declared(case, surface, fixture_id)
    case.judge(observe_ws(result, note=f"{fixture_id}: {result.describe()}"), aspect="close")


# Mismatch fixtures from the manifest (tag ``mismatch``), sent under their ``declared``
# parameters. A container's bytes on a raw connection carry a signature a server can
# recognise; raw samples of another raw layout (f32le as s16le, 44.1 kHz as 16 kHz, stereo
# as mono) are byte-for-byte valid audio of the declared layout, so no server can tell:
# for those only a documented close code is asked for.
DETECTABLE_MISMATCH = [
    "container-as-raw-wav-declared-s16le",
    "container-as-raw-webm-declared-s16le",
]
RAW_AS_RAW = [
    "mismatch-f32le-declared-s16le",
    "mismatch-44100-declared-16000",
    "mismatch-stereo-declared-mono",
]


def _send_declared(case, surface, fixture_id):
    entry = case.fixture_entry(fixture_id)
    declared = dict(entry.declared or {})
    data = case.fixture_bytes(fixture_id)
    return case.stream(surface, declared, chunks(data, 4096), audio_seconds=entry.duration_s)


@pytest.mark.parametrize("surface", surface_params("format-mismatch", STREAM))
@pytest.mark.parametrize("fixture_id", DETECTABLE_MISMATCH)
def test_format_mismatch(case, surface, fixture_id):
    result = _send_declared(case, surface, fixture_id)
    case.judge(observe_ws(result, behaviour=_refused(result), note=fixture_id), aspect="close")


@pytest.mark.parametrize("surface", surface_params("documented-close-codes", STREAM))
@pytest.mark.parametrize("fixture_id", RAW_AS_RAW)
def test_raw_as_other_raw_closes_documented(case, surface, fixture_id):
    result = _send_declared(case, surface, fixture_id)
    ok = result.close_code in T.STREAM_CLOSE_CODES[surface] and (
        result.close_code == 1000 or result.error_before_close
    )
    case.judge(
        observe_ws(result, behaviour=ok, note=f"{fixture_id}: {result.describe()}"), aspect="close"
    )


# --------------------------------------------------------------------------- end of stream


@pytest.mark.parametrize("surface", surface_params("end-of-stream", STREAM))
def test_end_of_stream_delivers_outstanding(case, surface):
    sig = speech(3.0, seed=8)
    data = sig.samples
    from harness.audio.raw import encode_raw

    raw = encode_raw(data, "s16le")
    result = case.stream(surface, RAW16, chunks(raw), audio_seconds=3.0)
    d = done_of(result) or {}
    dur = round(sig.duration_s * 1000)  # the audio sent, not the length the target reports
    if surface == "svd-stream":
        frames = frames_of(result)
        last = max((f.get("end_time_ms", 0) for f in frames), default=0)
        count = d.get("frame_count")
        speech_frames = sum(1 for f in frames if f.get("verdict") != "no-content")
        counted = isinstance(count, int) and speech_frames <= count <= len(frames)
        ok = bool(frames) and last >= dur - 1000 and counted
        note = f"last frame ends {last} ms of {dur}"
    else:
        utts = utterances_of(result)
        missing = _seg_covered(sig.segments, utts)
        ok = bool(utts) and not missing
        note = f"{len(utts)} utterances; segments with no utterance: {missing}"
        if surface == "pii-stream":
            tail = d.get("trailing_redacted_audio")
            clips = [m.get("redacted_audio") for m in result.of_type("utterance")]
            clips = [c for c in clips if c] + ([tail] if tail else [])
            end = max((c["start_ms"] + c["duration_ms"] for c in clips), default=0)
            ok = ok and abs(end - dur) <= 2
            note += f"; clips reach {end} of {dur} ms"
    case.judge(observe_ws(result, behaviour=ok, note=note), aspect="data")
    case.judge(observe_ws(result, behaviour=ok, note=note), aspect="close")


@pytest.mark.parametrize("surface", surface_params("empty-binary-not-eos", STREAM))
def test_empty_binary_not_eos(case, surface):
    first, second = speech_pcm(1.0, seed=9), speech_pcm(1.0, seed=10)
    case.charge(surface, 2.0)
    s = case.ws(surface, RAW16)
    s.stream(chunks(first))
    s.send_bytes(b"")
    s.receive(until_close=False, timeout_s=0.5)
    still_open = s.open and "done" not in s.result.types
    s.stream(chunks(second))
    s.end_of_stream()
    s.until_close()
    s.close()
    r = s.result
    d = done_of(r) or {}
    later = abs(int(d.get("duration_ms", 0)) - 2000) <= 2
    ok = still_open and later and r.close_code == 1000
    note = f"open after empty binary: {still_open}; done={d}"
    case.judge(observe_ws(r, behaviour=ok, note=note), aspect="data")
    case.judge(observe_ws(r, behaviour=ok, note=note), aspect="close")


@pytest.mark.parametrize("surface", surface_params("done-last", STREAM))
def test_done_last(case, surface):
    result = case.stream(surface, RAW16, chunks(speech_pcm(2.0, seed=11)), audio_seconds=2.0)
    json_kinds = [k for k in result.order if k.startswith("json:")]
    tail = (
        result.order[result.order.index("json:done") + 1 :] if "json:done" in result.order else []
    )
    allowed_tail = ["binary"] if surface == "pii-stream" else []
    ok = (
        json_kinds[-1:] == ["json:done"]
        and tail in ([], allowed_tail)
        and result.closed_by == "server"
    )
    case.judge(observe_ws(result, behaviour=ok, note=result.describe()), aspect="data")
    case.judge(observe_ws(result), aspect="close")


@pytest.mark.parametrize("surface", surface_params("done-duration", STREAM))
@pytest.mark.parametrize(
    "fmt,rate,seconds", [("s16le", 16000, 1.25), ("f32le", 48000, 0.8), ("mulaw", 8000, 1.5)]
)
def test_done_duration(case, surface, fmt, rate, seconds):
    from harness.audio.raw import encode_raw

    data = encode_raw(speech(seconds, seed=12, rate=rate).samples, fmt)
    q = {"audio_format": fmt, "sample_rate": rate, "num_channels": 1}
    result = case.stream(surface, q, chunks(data, 3000), audio_seconds=seconds)
    d = done_of(result) or {}
    want = seconds * 1000
    got = d.get("duration_ms")
    ok = isinstance(got, int) and abs(got - want) <= 1
    case.judge(observe_ws(result, behaviour=ok, note=f"sent {want:.0f} ms, done says {got}"))


@pytest.mark.parametrize("surface", surface_params("documented-close-codes", STREAM))
@pytest.mark.parametrize("scenario", ["normal", "bad-param", "mismatch"])
def test_documented_close_codes(case, surface, scenario):
    if scenario == "normal":
        result = case.stream(surface, RAW16, chunks(speech_pcm(1.0)), audio_seconds=1.0)
    elif scenario == "bad-param":
        result = on_connect(case, surface, {**RAW16, "num_channels": 12})[0]
    else:
        data = case.fixture_bytes("container-as-raw-webm-declared-s16le")
        result = case.stream(surface, RAW16, chunks(data, 4096), audio_seconds=2.0)
    ok = result.close_code in T.STREAM_CLOSE_CODES[surface]
    case.judge(observe_ws(result, behaviour=ok, note=result.describe()), aspect="close")
