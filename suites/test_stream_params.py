"""Query parameters of the three streaming surfaces: formats, rates, channels, flags.

Bad parameters are refused on connect (``error`` then close 1003, before any audio);
good ones lead to a normal stream (``done`` then close 1000). Value texts that embed the
rejected value are compared with the catalog's template for that value.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping
from typing import Any

import pytest
from _examples import examples
from _params import surface_params
from _stream_helpers import (
    RAW16,
    STREAM,
    TRANSCRIBING,
    chunks,
    done_of,
    error_text,
    example_value,
    on_connect,
    speech,
    speech_pcm,
    utterances_of,
)
from hypothesis import given
from hypothesis import strategies as st

from harness.audio.raw import encode_raw
from harness.checks import observe_ws
from harness.client.ws import WsResult
from harness.contract import tables as T
from harness.contract.tables import RAW_FORMAT_NAMES, SAMPLE_RATES

HYP = examples(6)


def _templated(result, name: str, surface: str, value, *, behaviour: bool, note: str = ""):
    """Observe a value error; an exact template match is shown as the catalog's example text."""
    obs = observe_ws(result, behaviour=behaviour, note=note)
    want = error_text(name, surface, value)
    if obs.detail == want:
        canonical = error_text(name, surface, example_value(name, surface))
        obs = dataclasses.replace(
            obs,
            detail=canonical,
            note=(note + "; " if note else "") + f"error text matches the template for {value!r}",
        )
    return obs


# --------------------------------------------------------------------------- refusals


INVALID_MIXES = st.one_of(
    st.fixed_dictionaries(
        {"audio_format": st.sampled_from(["mp2", "pcm", "S16LE", "wavv", "", "s16"])}
    ),
    st.fixed_dictionaries(
        {
            "audio_format": st.sampled_from(RAW_FORMAT_NAMES),
            "sample_rate": st.integers(1, 200000).filter(lambda r: r not in SAMPLE_RATES),
            "num_channels": st.integers(1, 8),
        }
    ),
    st.fixed_dictionaries(
        {
            "audio_format": st.sampled_from(RAW_FORMAT_NAMES),
            "sample_rate": st.sampled_from(SAMPLE_RATES),
            "num_channels": st.one_of(st.integers(-3, 0), st.integers(9, 64)),
        }
    ),
    st.fixed_dictionaries(
        {
            "audio_format": st.sampled_from(RAW_FORMAT_NAMES),
            "sample_rate": st.sampled_from(SAMPLE_RATES),
        }
    ),
    st.fixed_dictionaries(
        {"audio_format": st.sampled_from(RAW_FORMAT_NAMES), "num_channels": st.integers(1, 8)}
    ),
    st.fixed_dictionaries(
        {"sample_rate": st.sampled_from(SAMPLE_RATES), "num_channels": st.integers(1, 2)}
    ),
)


@pytest.mark.parametrize("surface", surface_params("bad-query-params", STREAM))
def test_bad_query_mix_refused_on_connect(case, surface):
    seen: list[str] = []

    @HYP
    @given(INVALID_MIXES)
    def probe(query):
        result, at_once = on_connect(case, surface, query)
        v = case.judge(observe_ws(result, behaviour=at_once, note=f"query={query}"), aspect="close")
        seen.append(f"{query}: {v.outcome}")

    probe()
    assert seen


@pytest.mark.parametrize("surface", surface_params("audio-format-values", STREAM))
def test_audio_format_example_value(case, surface):
    bad = example_value("audio_format", surface)
    result, at_once = on_connect(case, surface, {**RAW16, "audio_format": bad})
    case.judge(observe_ws(result, behaviour=at_once), aspect="close")


@pytest.mark.parametrize("surface", surface_params("audio-format-values", STREAM))
def test_audio_format_other_values(case, surface):
    valid = set(T.STREAM_AUDIO_FORMATS[surface])

    @HYP
    @given(st.text("abcdefghijklmnopqrstuvwxyz0123456789", min_size=1, max_size=6))
    def probe(value):
        if value in valid:
            return
        result, at_once = on_connect(case, surface, {**RAW16, "audio_format": value})
        case.judge(
            _templated(result, "audio_format", surface, value, behaviour=at_once), aspect="close"
        )

    probe()


@pytest.mark.parametrize("surface", surface_params("sample-rate-values", STREAM))
def test_sample_rate_values(case, surface):
    result, at_once = on_connect(case, surface, {**RAW16, "sample_rate": 50000})
    case.judge(observe_ws(result, behaviour=at_once), aspect="close")

    @HYP
    @given(st.integers(1, 400000).filter(lambda r: r not in SAMPLE_RATES))
    def probe(rate):
        result, at_once = on_connect(case, surface, {**RAW16, "sample_rate": rate})
        case.judge(
            _templated(result, "sample_rate", surface, rate, behaviour=at_once), aspect="close"
        )

    probe()


@pytest.mark.parametrize("surface", surface_params("num-channels-range", STREAM))
@pytest.mark.parametrize("channels", [12, 0, 9, -1])
def test_num_channels_range(case, surface, channels):
    result, at_once = on_connect(case, surface, {**RAW16, "num_channels": channels})
    case.judge(
        _templated(result, "num_channels", surface, channels, behaviour=at_once), aspect="close"
    )


@pytest.mark.parametrize("surface", surface_params("raw-needs-rate-and-channels", STREAM))
@pytest.mark.parametrize("drop", ["sample_rate", "num_channels", "both"])
def test_raw_needs_rate_and_channels(case, surface, drop):
    q = dict(RAW16)
    for k in ("sample_rate", "num_channels") if drop == "both" else (drop,):
        del q[k]
    result, _ = on_connect(case, surface, q)
    case.judge(observe_ws(result), aspect="close")


@pytest.mark.parametrize("surface", surface_params("params-need-audio-format", STREAM))
@pytest.mark.parametrize(
    "query",
    [{"sample_rate": 16000}, {"num_channels": 1}, {"sample_rate": 16000, "num_channels": 1}],
    ids=["rate", "channels", "both"],
)
def test_params_need_audio_format(case, surface, query):
    result, _ = on_connect(case, surface, query)
    case.judge(observe_ws(result), aspect="close")


@pytest.mark.clause("svd-stream/audio-format-required")
def test_svd_audio_format_required(case):
    result, _ = on_connect(case, "svd-stream", {})
    case.judge(observe_ws(result), aspect="close")


@pytest.mark.parametrize("surface", surface_params("language-invalid", TRANSCRIBING))
@pytest.mark.parametrize("language", ["english1", "e", "en US", "12"])
def test_language_invalid(case, surface, language):
    result, at_once = on_connect(case, surface, {**RAW16, "language": language})
    case.judge(observe_ws(result, behaviour=at_once), aspect="close")


@pytest.mark.clause("pii-stream/redaction-padding-invalid")
@pytest.mark.parametrize(
    "param", ["start_redaction_padding_ms", "end_redaction_padding_ms"], ids=["start", "end"]
)
@pytest.mark.parametrize("value", ["-1", "1.5", "abc"])
def test_redaction_padding_invalid(case, param, value):
    result, _ = on_connect(case, "pii-stream", {**RAW16, param: value})
    case.judge(observe_ws(result), aspect="close")


# --------------------------------------------------------------------------- acceptance


def _accepted(result) -> tuple[bool, str]:
    ok = (
        result.close_code == 1000
        and "done" in result.types
        and "error" not in result.types
        and result.types[-1:] == ["done"]
    )
    return ok, result.describe()


VALID_MIXES = st.fixed_dictionaries(
    {
        "audio_format": st.sampled_from(RAW_FORMAT_NAMES),
        "sample_rate": st.sampled_from((8000, 11025, 16000, 22050, 32000)),
        "num_channels": st.integers(1, 2),
    },
    optional={
        **{flag: st.booleans() for flag in T.STT_STREAM_FLAG_DEFAULTS},
        "language": st.sampled_from(["en", "EN-us", "fr", "de_DE"]),
    },
)
_FLAGS = {
    "stt-stream": set(T.STT_STREAM_FLAG_DEFAULTS) | {"language"},
    "pii-stream": {"speaker_diarization", "language"},
    "svd-stream": set(),
}


@pytest.mark.parametrize("surface", surface_params("end-of-stream", STREAM))
def test_valid_query_mix_accepted(case, surface):
    """Any documented format/rate/channels (+ flags) is accepted: done, then close 1000."""

    @HYP
    @given(VALID_MIXES, st.integers(min_value=0, max_value=2**16))
    def probe(query, pad):
        q = {k: v for k, v in query.items() if k in RAW16 or k in _FLAGS[surface]}
        if surface == "pii-stream" and pad % 2:
            q["start_redaction_padding_ms"] = pad % 500
            q["end_redaction_padding_ms"] = pad % 300
        sig = speech(0.6, seed=pad % 7, rate=q["sample_rate"], channels=q["num_channels"])
        data = encode_raw(sig.samples, q["audio_format"])
        result = case.stream(surface, q, chunks(data, 4096), audio_seconds=0.6)
        ok, note = _accepted(result)
        d = done_of(result) or {}
        lost = abs(int(d.get("duration_ms", -1000)) - 600) > 2
        case.judge(
            observe_ws(result, behaviour=ok and not lost, note=f"query={q}; {note}"),
            aspect="close",
        )

    probe()


@pytest.mark.parametrize("surface", surface_params("container-with-rate-channels", STREAM))
def test_container_with_rate_channels(case, surface):
    """WAV (16 kHz mono, 2 s) declared with a contradicting rate and channel count."""
    data = case.fixture_bytes("wav-pcm16-16000-1ch-2s")
    q = {"audio_format": "wav", "sample_rate": 8000, "num_channels": 2}
    result = case.stream(surface, q, chunks(data, 8192), audio_seconds=2.0)
    d = done_of(result) or {}
    header_used = result.close_code == 1000 and abs(int(d.get("duration_ms", 0)) - 2000) <= 2
    case.judge(observe_ws(result, behaviour=header_used, note=f"done={d}"), aspect="close")


@pytest.mark.parametrize("surface", surface_params("audio-format-optional", TRANSCRIBING))
@pytest.mark.parametrize("fixture_id", ["wav-pcm16-16000-1ch-2s", "mp3-44100-2ch-2s"])
def test_audio_format_optional(case, surface, fixture_id):
    data = case.fixture_bytes(fixture_id)
    result = case.stream(surface, {}, chunks(data, 4096), audio_seconds=2.0)
    utts = utterances_of(result)
    ok = bool(utts) and result.close_code == 1000
    case.judge(observe_ws(result, behaviour=ok, note=f"{len(utts)} utterances"), aspect="data")
    case.judge(observe_ws(result, behaviour=ok), clause=f"{surface}/end-of-stream", aspect="close")


@pytest.mark.parametrize("surface", surface_params("language-hint", TRANSCRIBING))
@pytest.mark.parametrize("language", ["EN-us", "en", "fr-Latn-FR"])
def test_language_hint(case, surface, language):
    result = case.stream(
        surface, {**RAW16, "language": language}, chunks(speech_pcm(2.0)), audio_seconds=2.0
    )
    utts = utterances_of(result)
    ok = bool(utts) and "error" not in result.types
    case.judge(observe_ws(result, behaviour=ok, note=f"{len(utts)} utterances"), aspect="data")


@pytest.mark.parametrize("surface", surface_params("speaker-diarization", TRANSCRIBING))
def test_speaker_diarization_default(case, surface):
    data = case.fixture_bytes("speakers-wav-16000-1ch-8s")
    result = case.stream(surface, {"audio_format": "wav"}, chunks(data, 16384), audio_seconds=8.0)
    speakers = [u.get("speaker") for u in utterances_of(result)]
    ok = bool(speakers) and all(
        isinstance(s, int) and not isinstance(s, bool) and s >= 1 for s in speakers
    )
    case.judge(observe_ws(result, behaviour=ok, note=f"speakers={speakers}"), aspect="data")


# --------------------------------------------------------------------------- SVD disputes


def _svd_unless_refused(
    case: Any, query: Mapping[str, Any], data: bytes, audio_seconds: float = 0.0
) -> tuple[WsResult, bool]:
    """Open svd-stream; unless it refuses within 0.3 s, stream ``data`` to the close.

    Returns the result and whether it was refused at once (an ``error``, then the close).
    """
    s = case.ws("svd-stream", query)
    refused_at_once = False
    if s.open:
        s.receive(until_close=False, timeout_s=0.3)
        refused_at_once = not s.open and "error" in s.result.types
        if s.open:
            if audio_seconds:
                case.charge("svd-stream", audio_seconds)
            s.stream(chunks(data, 8192))
            s.end_of_stream()
            s.until_close()
    s.close()
    return s.result, refused_at_once


@pytest.mark.clause("svd-stream/multichannel")
@pytest.mark.parametrize("channels", [3, 6, 8])
def test_svd_multichannel(case, channels):
    sig = speech(1.5, seed=2, channels=channels)
    data = encode_raw(sig.samples, "s16le")
    q = {"audio_format": "s16le", "sample_rate": 16000, "num_channels": channels}
    r, refused_at_once = _svd_unless_refused(case, q, data)
    analysed = bool(r.of_type("frame")) and r.close_code == 1000
    ok = analysed or (refused_at_once and r.close_code == 1003)
    note = "frames followed" if analysed else r.describe()
    case.judge(observe_ws(r, behaviour=ok, note=note), aspect="data")


@pytest.mark.clause("svd-stream/container-input")
def test_svd_container_input(case):
    data = case.fixture_bytes("wav-pcm16-16000-1ch-2s")
    r, refused_at_once = _svd_unless_refused(case, {"audio_format": "wav"}, data, 2.0)
    framed = bool(r.of_type("frame")) and r.close_code == 1000
    ok = framed or (refused_at_once and r.close_code == 1003)
    case.judge(observe_ws(r, behaviour=ok, note=r.describe()), aspect="data")
