"""Raw (headerless) audio on the Velma-2 streaming surfaces: formats, rates, channels.

Every streaming surface takes a raw ``audio_format`` with ``sample_rate`` and
``num_channels``. The input space (20 encodings x 8 rates x 1-8 channels x 3
surfaces) is sampled with hypothesis; each example streams 0.6 s of speech-like
audio (``harness.audio.signals``) in whole 0.1 s frames, sends end of stream and
reads until the close. A case judges once, at the end, with a summary of every
example it tried (data: results then ``done``; close: 1000, never 1003/4002).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pytest
from _examples import examples
from hypothesis import given
from hypothesis import strategies as st

from harness.audio import encode_raw, signals
from harness.checks import observe_ws
from harness.contract.tables import (
    MAX_CHANNELS,
    PASSTHROUGH,
    RAW_FORMAT_NAMES,
    RAW_FORMATS_BY_NAME,
    RECOMMENDED_RAW_SETUPS,
    SAMPLE_RATES,
    STREAM_SURFACES,
)

STREAMS = STREAM_SURFACES
SECONDS = 0.6
TOLERANCE_MS = 50
RESULT_TYPES = {"stt-stream": "utterance", "svd-stream": "frame", "pii-stream": "utterance"}
SETTINGS = examples(2)
# aspect -> what every example showed when the aspect held
ASPECTS = {"data": "results then done", "close": "closed 1000"}


# --------------------------------------------------------------------------- helpers


def speech_raw(
    fmt: str, rate: int, channels: int, seconds: float = SECONDS, seed: int = 7
) -> bytes:
    sig = signals.speech_bursts(seconds, rate, channels, seed=seed, burst_s=(0.3, 0.5))
    return encode_raw(sig.samples, fmt)


def frames_of(data: bytes, fmt: str, rate: int, channels: int, seconds: float = 0.1) -> list[bytes]:
    """Split raw bytes into chunks of whole sample frames (``seconds`` of audio each)."""
    step = max(1, round(rate * seconds)) * RAW_FORMATS_BY_NAME[fmt].frame_bytes(channels)
    return [data[i : i + step] for i in range(0, len(data), step)]


def raw_query(fmt: str, rate: int, channels: int) -> dict[str, Any]:
    return {"audio_format": fmt, "sample_rate": rate, "num_channels": channels}


def result_spans(surface: str, result: Any) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of every result message, in the surface's own fields."""
    spans: list[tuple[int, int]] = []
    for m in result.of_type(RESULT_TYPES[surface]):
        if surface == "svd-stream":
            f = m.get("frame") or {}
            start, end = f.get("start_time_ms"), f.get("end_time_ms")
        else:
            u = m.get("utterance") or {}
            start = u.get("start_ms")
            end = start + u["duration_ms"] if isinstance(u.get("duration_ms"), int) else None
        if isinstance(start, int) and isinstance(end, int):
            spans.append((start, end))
    return spans


@dataclass
class RunCheck:
    """What one stream showed, checked against 'accepted, analysed, done, 1000'."""

    label: str
    result: Any
    problems: dict[str, list[str]] = field(default_factory=lambda: {a: [] for a in ASPECTS})

    @property
    def ok(self) -> bool:
        return not any(self.problems.values())


def check_run(
    surface: str, label: str, result: Any, seconds: float = SECONDS, *, mono: bool = False
) -> RunCheck:
    rc = RunCheck(label, result)
    data, close = rc.problems["data"], rc.problems["close"]
    json_order = [o for o in result.order if o.startswith("json:")]
    if result.handshake_status is not None:
        close.append(f"handshake refused with HTTP {result.handshake_status}")
        return rc
    if result.close_code != 1000:
        close.append(f"closed {result.close_code} ({result.describe()})")
    if not json_order:
        data.append("no JSON message arrived")
    elif json_order[-1] != "json:done":
        data.append(f"`done` is not the last message: {json_order[-4:]}")
    spans = result_spans(surface, result)
    if not spans:
        data.append(f"no {RESULT_TYPES[surface]} result before `done`")
    want_ms = round(seconds * 1000)
    done = result.of_type("done")
    got_ms = done[-1].get("duration_ms") if done else None
    if not isinstance(got_ms, int) or abs(got_ms - want_ms) > TOLERANCE_MS:
        data.append(
            f"done.duration_ms={got_ms!r}, the audio lasts {want_ms} ms at the declared rate"
        )
    late = [s for s in spans if s[1] > want_ms + TOLERANCE_MS or s[0] < 0]
    if late:
        data.append(f"result times outside the {want_ms} ms sent: {late[:3]}")
    if mono and len(set(spans)) != len(spans):
        data.append(f"repeated result spans (per-channel results?): {spans}")
    return rc


def stream_raw(
    case: Any, surface: str, fmt: str, rate: int, channels: int, *, mono: bool = False
) -> RunCheck:
    data = speech_raw(fmt, rate, channels)
    result = case.stream(
        surface,
        raw_query(fmt, rate, channels),
        frames_of(data, fmt, rate, channels),
        audio_seconds=SECONDS,
    )
    return check_run(surface, f"{surface} {fmt}/{rate}/{channels}ch", result, mono=mono)


def judge_runs(case: Any, runs: list[RunCheck]) -> None:
    """One verdict per aspect (data, close) for all the examples a case tried."""
    assert runs, "hypothesis produced no example"
    tried = ", ".join(r.label for r in runs)
    shown = next((r for r in runs if not r.ok), runs[-1])
    for aspect, held in ASPECTS.items():
        bad = [f"{r.label}: {'; '.join(r.problems[aspect])}" for r in runs if r.problems[aspect]]
        note = "; ".join(bad) if bad else f"{held} for: {tried}"
        case.judge(observe_ws(shown.result, behaviour=not bad, note=note), aspect=aspect)


def judge_examples(
    case: Any, fixed: dict[str, Any], drawn: dict[str, Any], *, mono: bool = False
) -> None:
    """Stream each example hypothesis draws from ``drawn`` (with the ``fixed`` values) to a
    streaming surface it also draws, as :func:`stream_raw` does; judge them all at once."""
    runs: list[RunCheck] = []

    @SETTINGS
    @given(surface=st.sampled_from(STREAMS), **drawn)
    def example(**picked: Any) -> None:
        p = {**fixed, **picked}
        runs.append(stream_raw(case, p["surface"], p["fmt"], p["rate"], p["channels"], mono=mono))

    example()
    judge_runs(case, runs)


# --------------------------------------------------------------------------- accepted inputs


@pytest.mark.clause("velma/raw-formats")
@pytest.mark.parametrize("fmt", RAW_FORMAT_NAMES)
def test_raw_format_accepted(case, fmt):
    judge_examples(
        case,
        {"fmt": fmt},
        {"rate": st.sampled_from(SAMPLE_RATES), "channels": st.integers(1, MAX_CHANNELS)},
    )


@pytest.mark.clause("velma/raw-sample-rates")
@pytest.mark.parametrize("rate", SAMPLE_RATES)
def test_raw_sample_rate_accepted(case, rate):
    judge_examples(
        case,
        {"rate": rate},
        {"fmt": st.sampled_from(RAW_FORMAT_NAMES), "channels": st.integers(1, 2)},
    )


@pytest.mark.clause("velma/raw-channels")
@pytest.mark.parametrize("channels", range(1, MAX_CHANNELS + 1))
def test_raw_channels_accepted(case, channels):
    judge_examples(
        case,
        {"channels": channels},
        {
            "fmt": st.sampled_from(RAW_FORMAT_NAMES),
            "rate": st.sampled_from((8000, 16000, 22050, 48000)),
        },
        mono=True,
    )


def _setup_params() -> list[object]:
    out: list[object] = []
    for _use, fmt, rate, channels in RECOMMENDED_RAW_SETUPS:
        clause = f"velma/raw-setup-{fmt}-{rate}-{channels}"
        fid = f"raw-{fmt}-{rate}-{channels}ch-3s"
        for surface in STREAMS:
            out.append(
                pytest.param(
                    surface,
                    fid,
                    marks=pytest.mark.clause(clause),
                    id=f"{fmt}-{rate}-{channels}ch-{surface}",
                )
            )
    return out


@pytest.mark.parametrize(("surface", "fixture_id"), _setup_params())
def test_recommended_raw_setup(case, surface, fixture_id):
    entry = case.fixture_entry(fixture_id)
    data = case.fixture_bytes(fixture_id)
    fmt, rate, channels = entry.audio_format, entry.sample_rate, entry.num_channels
    result = case.stream(
        surface,
        raw_query(fmt, rate, channels),
        frames_of(data, fmt, rate, channels, seconds=0.25),
        audio_seconds=entry.duration_s,
    )
    rc = check_run(surface, f"{surface} {fixture_id}", result, entry.duration_s)
    judge_runs(case, [rc])


@pytest.mark.clause("velma/raw-passthrough")
@pytest.mark.parametrize("surface", STREAMS)
def test_raw_passthrough_same_results(case, surface):
    """s16le/16000/1 (passthrough) and s16be (the same samples, byte-swapped) agree."""
    fmt, rate, channels = PASSTHROUGH
    seconds = 1.2
    sig = signals.speech_bursts(seconds, rate, channels, seed=11, burst_s=(0.4, 0.6))
    results = {}
    for name in (fmt, "s16be"):
        data = encode_raw(sig.samples, name)
        results[name] = case.stream(
            surface,
            raw_query(name, rate, channels),
            frames_of(data, name, rate, channels),
            audio_seconds=seconds,
        )
    a, b = results[fmt], results["s16be"]
    problems = []
    if a.types != b.types:
        problems.append(f"message types differ: {a.types} vs {b.types}")
    for ma, mb in zip(a.messages, b.messages, strict=False):
        sa, sb = _comparable(ma), _comparable(mb)
        if sa != sb:
            problems.append(f"{ma.get('type')} differs: {sa} vs {sb}")
            break
    if a.close_code != 1000 or b.close_code != 1000:
        problems.append(f"closes {a.close_code} / {b.close_code}")
    case.judge(
        observe_ws(
            a,
            behaviour=not problems,
            note="; ".join(problems)
            or f"s16le/16000/1 and s16be/16000/1 gave the same {len(a.messages)} messages",
        )
    )


def _comparable(message: dict[str, Any]) -> Any:
    """A message with its per-connection identifiers removed (uuids)."""

    def strip(v: Any) -> Any:
        if isinstance(v, dict):
            return {k: strip(x) for k, x in sorted(v.items()) if not k.endswith("uuid")}
        if isinstance(v, list):
            return [strip(x) for x in v]
        return v

    return strip(message)


# --------------------------------------------------------------------------- refused inputs


def _refused(result: Any, names: tuple[str, ...]) -> tuple[bool, str]:
    """Closed 1003 before any result, an `error` right before the close naming a parameter."""
    problems = []
    if result.close_code != 1003:
        problems.append(f"close {result.close_code}, not 1003")
    if not result.error_before_close:
        problems.append("no `error` message right before the close")
    results = [t for t in result.types if t not in ("error",)]
    if results:
        problems.append(f"audio was analysed: {results}")
    text = (result.last_error or {}).get("error")
    if names and not (isinstance(text, str) and any(n in text for n in names)):
        problems.append(f"error text {text!r} names none of {names}")
    return not problems, "; ".join(problems) or f"1003 after error {text!r}"


@pytest.mark.clause("velma/raw-requires-params")
@pytest.mark.parametrize("surface", STREAMS)
@pytest.mark.parametrize(
    "query",
    [
        pytest.param({"audio_format": "s16le", "num_channels": 1}, id="no-rate"),
        pytest.param({"audio_format": "s16le", "sample_rate": 16000}, id="no-channels"),
        pytest.param({"audio_format": "mulaw"}, id="neither"),
    ],
)
def test_raw_requires_rate_and_channels(case, surface, query):
    data = speech_raw("s16le", 16000, 1)
    result = case.stream(surface, query, frames_of(data, "s16le", 16000, 1))
    ok, note = _refused(result, ())
    case.judge(observe_ws(result, behaviour=ok, note=note), aspect="close")


_BAD_RATES = st.one_of(
    st.sampled_from((0, 12345, 44000, 192000)),
    st.integers(-1, 200_000).filter(lambda r: r not in SAMPLE_RATES),
)
_BAD_CHANNELS = st.one_of(
    st.sampled_from((0, 9)), st.integers(-3, 64).filter(lambda c: c < 1 or c > 8)
)


@pytest.mark.clause("velma/raw-invalid-params")
@pytest.mark.parametrize("surface", STREAMS)
def test_raw_invalid_rate_or_channels(case, surface):
    """Undocumented rates / channel counts (12345, 0, 9 and hypothesis' picks) -> 1003."""
    seen: list[tuple[str, bool, str, Any]] = []

    def attempt(query: dict[str, Any], names: tuple[str, ...]) -> None:
        result = case.stream(surface, query, [speech_raw("s16le", 16000, 1, 0.2)])
        ok, note = _refused(result, names)
        seen.append((str(query), ok, note, result))

    for rate in (12345, 0):
        attempt(raw_query("s16le", rate, 1), ("sample_rate",))
    for channels in (0, 9):
        attempt(raw_query("s16le", 16000, channels), ("num_channels",))
    attempt(raw_query("s16", 16000, 1), ("audio_format",))

    @SETTINGS
    @given(rate=_BAD_RATES, channels=_BAD_CHANNELS, which=st.sampled_from(("rate", "channels")))
    def example(rate, channels, which):
        if which == "rate":
            attempt(raw_query("s16le", rate, 1), ("sample_rate",))
        else:
            attempt(raw_query("s16le", 16000, channels), ("num_channels",))

    example()
    bad = [(q, note, r) for q, ok, note, r in seen if not ok]
    shown = bad[0][2] if bad else seen[-1][3]
    note = (
        "; ".join(f"{q}: {n}" for q, n, _ in bad)
        if bad
        else f"1003 with a named parameter for {len(seen)} queries: "
        + ", ".join(q for q, *_ in seen)
    )
    case.judge(observe_ws(shown, behaviour=not bad, note=note), aspect="close")
