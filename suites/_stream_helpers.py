"""Shared pieces for the streaming suites (stt-stream, svd-stream, pii-stream).

Generated audio, chunking, message checks against ``harness.contract.schemas_stream``
(through ``harness.client.schema``), and small readers of a recorded ``WsResult``. Nothing
here imports the emulator: cases talk to the target over the network only.
"""

from __future__ import annotations

import io
import time
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from harness.audio.raw import encode_raw
from harness.audio.signals import Segment, SpeechSignal, speech_bursts
from harness.checks import closed_at_once, observe_ws
from harness.client import schema
from harness.client.ws import WsResult
from harness.contract import tables as T
from harness.contract.schemas_stream import server_schema

STREAM = T.STREAM_SURFACES
TRANSCRIBING = ("stt-stream", "pii-stream")
RAW16 = {"audio_format": "s16le", "sample_rate": 16000, "num_channels": 1}
RATE = 16000
BYTES_PER_S = RATE * 2
CHUNK_100MS = BYTES_PER_S // 10


# --------------------------------------------------------------------------- audio


def speech(
    seconds: float = 2.0, *, seed: int = 1, rate: int = RATE, channels: int = 1, **kw: Any
) -> SpeechSignal:
    return speech_bursts(seconds, rate, channels, seed=seed, **kw)


def pcm(signal: SpeechSignal | np.ndarray, fmt: str = "s16le") -> bytes:
    samples = signal.samples if isinstance(signal, SpeechSignal) else signal
    return encode_raw(samples, fmt)


def speech_pcm(seconds: float = 2.0, *, seed: int = 1, **kw: Any) -> bytes:
    return pcm(speech(seconds, seed=seed, **kw))


def silence_pcm(seconds: float, rate: int = RATE, channels: int = 1) -> bytes:
    return bytes(int(round(seconds * rate)) * 2 * channels)


def two_bursts(short_s: float, long_s: float, gap_s: float = 1.0) -> tuple[bytes, list[Segment]]:
    """s16le/16 kHz mono: a ``short_s`` burst, ``gap_s`` of silence, a ``long_s`` burst."""
    a = speech_bursts(short_s, RATE, 1, seed=3, burst_s=(short_s, short_s))
    b = speech_bursts(long_s, RATE, 1, seed=4, burst_s=(long_s, long_s))
    gap = np.zeros((int(gap_s * RATE), 1))
    tail = np.zeros((int(0.6 * RATE), 1))
    x = np.concatenate([a.samples, gap, b.samples, tail])
    segs = [Segment(0.0, short_s), Segment(short_s + gap_s, short_s + gap_s + long_s)]
    return encode_raw(x, "s16le"), segs


def chunks(data: bytes, size: int = CHUNK_100MS) -> list[bytes]:
    return [data[i : i + size] for i in range(0, len(data), size)] or []


# --------------------------------------------------------------------------- schemas


def message_errors(surface: str, messages: Iterable[Mapping[str, Any]], kind: str) -> list[str]:
    doc = server_schema(surface, kind)
    out: list[str] = []
    for i, m in enumerate(messages):
        if m.get("type") == kind:
            out += [f"#{i} {e}" for e in schema.errors(m, doc)]
    return out


# --------------------------------------------------------------------------- sessions


def stream_then_wait(
    case: Any,
    surface: str,
    query: Mapping[str, Any],
    data: bytes,
    *,
    wait_for: str,
    wait_s: float = 3.0,
    chunk: int = CHUNK_100MS,
    audio_seconds: float = 0.0,
) -> tuple[WsResult, bool]:
    """Send ``data`` without ending the stream; wait until a ``wait_for`` message arrives.

    Returns the result (after ending the stream and reading to the close) and whether a
    ``wait_for`` message had arrived before the empty text frame was sent.
    """
    s = case.ws(surface, query)
    if audio_seconds and s.open:  # charged once the upgrade is accepted
        case.charge(surface, audio_seconds)
    s.stream(chunks(data, chunk))
    deadline = time.monotonic() + wait_s
    while wait_for not in s.result.types and s.open and time.monotonic() < deadline:
        s.receive(until_close=False, timeout_s=0.1)
    early = wait_for in s.result.types
    s.end_of_stream()
    s.until_close()
    s.close()
    return s.result, early


def on_connect(case: Any, surface: str, query: Mapping[str, Any]) -> tuple[WsResult, bool]:
    """Open, send nothing, read until the server closes (bounded)."""
    s = case.ws(surface, query)
    if s.open:
        s.until_close(timeout_s=min(case.timeout_s, 5.0))
    s.close()
    r = s.result
    return r, r.closed_by == "server" and not r.timed_out and not r.binary


def judge_refused_at_once(case: Any, surface: str, role: str | None, note: str = "") -> None:
    """Connect with ``role``'s key (``None``: no key) and send no audio: the server must
    close before any result (judged on the ``close`` aspect)."""
    result = case.stream(surface, RAW16, [], role=role)
    case.judge(observe_ws(result, behaviour=closed_at_once(result), note=note), aspect="close")


# --------------------------------------------------------------------------- reading results


def json_after(result: WsResult, index_of_msg: int) -> str | None:
    """The kind ("binary", "json:<t>", "text") of the frame right after the n-th JSON message."""
    seen = -1
    for i, kind in enumerate(result.order):
        if kind.startswith("json:"):
            seen += 1
            if seen == index_of_msg:
                return result.order[i + 1] if i + 1 < len(result.order) else None
    return None


def frames_of(result: WsResult) -> list[dict[str, Any]]:
    return [m.get("frame") or {} for m in result.of_type("frame")]


def utterances_of(result: WsResult) -> list[dict[str, Any]]:
    return [m.get("utterance") or {} for m in result.of_type("utterance")]


def done_of(result: WsResult) -> dict[str, Any] | None:
    d = result.of_type("done")
    return d[-1] if d else None


def is_mp3(data: bytes) -> bool:
    return data[:3] == b"ID3" or (len(data) > 1 and data[0] == 0xFF and data[1] & 0xE0 == 0xE0)


def mp3_samples(data: bytes) -> tuple[np.ndarray, int]:
    """Decode an MP3 clip to mono float samples and their rate."""
    import av

    out: list[np.ndarray] = []
    rate = 0
    with av.open(io.BytesIO(data), mode="r") as container:
        for frame in container.decode(audio=0):
            rate = frame.sample_rate
            arr = frame.to_ndarray().astype(np.float64)
            if frame.format.is_planar:
                arr = arr.mean(axis=0)
            else:
                arr = arr.reshape(-1, len(frame.layout.channels)).mean(axis=1)
            out.append(arr)
    return (np.concatenate(out) if out else np.zeros(0)), rate


def mp3_duration_ms(data: bytes) -> float:
    x, rate = mp3_samples(data)
    return 1000.0 * x.size / rate if rate else 0.0


def silent_runs_ms(
    x: np.ndarray, rate: int, hop_ms: int = 5, level: float = 1e-3
) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of runs where the hop RMS stays below ``level``."""
    hop = max(1, rate * hop_ms // 1000)
    n = x.size // hop
    if n == 0:
        return []
    rms = np.sqrt((x[: n * hop].reshape(n, hop) ** 2).mean(axis=1))
    quiet = rms < level
    runs: list[tuple[int, int]] = []
    start = None
    for i, q in enumerate(quiet):
        if q and start is None:
            start = i
        elif not q and start is not None:
            runs.append((start * hop_ms, i * hop_ms))
            start = None
    if start is not None:
        runs.append((start * hop_ms, n * hop_ms))
    return runs


def error_text(name: str, surface: str, value: Any) -> str:
    """The documented ``error`` text for a bad value of ``name`` (template from the catalog)."""
    if name == "audio_format":
        return T.audio_format_error(surface, value)
    if name == "sample_rate":
        return T.sample_rate_error(value)
    return T.num_channels_error(value)


def example_value(name: str, surface: str) -> Any:
    v = T.EXAMPLE_BAD_VALUES[name]
    return v[surface] if isinstance(v, Mapping) else v
