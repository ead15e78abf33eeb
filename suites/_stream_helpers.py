"""Shared pieces for the streaming suites (stt-stream, svd-stream, pii-stream).

Generated audio, chunking, a tiny JSON-Schema checker for the dicts in
``harness.contract.schemas_stream``, a session that can carry extra upgrade headers
(emulator fault switches), and small readers of a recorded ``WsResult``. Nothing here
imports the emulator: cases talk to the target over the network only.
"""

from __future__ import annotations

import io
import re
import time
import uuid
from collections.abc import Iterable, Mapping
from typing import Any

import numpy as np

from harness.audio.raw import encode_raw
from harness.audio.signals import Segment, SpeechSignal, speech_bursts
from harness.client.ws import WsResult, WsSession, ws_url
from harness.contract.clauses import velma_stream as V
from harness.contract.schemas_stream import server_schema
from harness.contract.tables import VELMA_PATHS
from harness.not_tested import not_tested

STREAM = ("stt-stream", "svd-stream", "pii-stream")
TRANSCRIBING = ("stt-stream", "pii-stream")
RAW16 = {"audio_format": "s16le", "sample_rate": 16000, "num_channels": 1}
RATE = 16000
BYTES_PER_S = RATE * 2
CHUNK_100MS = BYTES_PER_S // 10


def per_surface(name: str, surfaces: Iterable[str] = STREAM) -> list[Any]:
    """One pytest param per surface, marked with the clause ``<surface>/<name>``."""
    import pytest

    return [pytest.param(s, marks=pytest.mark.clause(f"{s}/{name}"), id=s) for s in surfaces]


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


def schema_errors(value: Any, schema: Mapping[str, Any], root: Mapping[str, Any] | None = None,
                  path: str = "$") -> list[str]:  # fmt: skip
    """The subset of JSON Schema 2020-12 that ``schemas_stream`` uses; [] when valid."""
    root = root or schema
    errs: list[str] = []
    if "$ref" in schema:
        ref = schema["$ref"]
        assert ref.startswith("#/$defs/"), ref
        return schema_errors(value, root["$defs"][ref.split("/")[-1]], root, path)
    if "oneOf" in schema:
        ok = [s for s in schema["oneOf"] if not schema_errors(value, s, root, path)]
        if len(ok) != 1:
            errs.append(f"{path}: matches {len(ok)} of oneOf")
        return errs
    t = schema.get("type")
    if t is not None and not _is_type(value, t):
        return [f"{path}: expected {t}, got {type(value).__name__}"]
    if "const" in schema and value != schema["const"]:
        errs.append(f"{path}: expected {schema['const']!r}")
    if "enum" in schema and value not in schema["enum"]:
        errs.append(f"{path}: {value!r} not in {schema['enum']}")
    if isinstance(value, int | float) and not isinstance(value, bool):
        if "minimum" in schema and value < schema["minimum"]:
            errs.append(f"{path}: {value} < {schema['minimum']}")
        if "maximum" in schema and value > schema["maximum"]:
            errs.append(f"{path}: {value} > {schema['maximum']}")
    if isinstance(value, str):
        if "pattern" in schema and not re.search(schema["pattern"], value):
            errs.append(f"{path}: {value!r} does not match {schema['pattern']}")
        if len(value) < schema.get("minLength", 0):
            errs.append(f"{path}: shorter than {schema['minLength']}")
        if "maxLength" in schema and len(value) > schema["maxLength"]:
            errs.append(f"{path}: longer than {schema['maxLength']}")
        if schema.get("format") == "uuid" and not is_uuid(value):
            errs.append(f"{path}: {value!r} is not a UUID")
    if isinstance(value, dict):
        for name in schema.get("required", ()):
            if name not in value:
                errs.append(f"{path}: missing {name!r}")
        for name, sub in schema.get("properties", {}).items():
            if name in value:
                errs += schema_errors(value[name], sub, root, f"{path}.{name}")
    if isinstance(value, list):
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            errs.append(f"{path}: more than {schema['maxItems']} items")
        if "items" in schema:
            for i, item in enumerate(value):
                errs += schema_errors(item, schema["items"], root, f"{path}[{i}]")
    return errs


def _is_type(value: Any, t: str) -> bool:
    if t == "object":
        return isinstance(value, dict)
    if t == "array":
        return isinstance(value, list)
    if t == "string":
        return isinstance(value, str)
    if t == "integer":
        return isinstance(value, int) and not isinstance(value, bool)
    if t == "number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if t == "boolean":
        return isinstance(value, bool)
    if t == "null":
        return value is None
    return False


def message_errors(surface: str, messages: Iterable[Mapping[str, Any]], kind: str) -> list[str]:
    schema = server_schema(surface, kind)
    out: list[str] = []
    for i, m in enumerate(messages):
        if m.get("type") == kind:
            out += [f"#{i} {e}" for e in schema_errors(m, schema)]
    return out


def is_uuid(text: Any) -> bool:
    try:
        uuid.UUID(str(text))
    except ValueError:
        return False
    return True


# --------------------------------------------------------------------------- sessions


class HeaderWsSession(WsSession):
    """A :class:`WsSession` whose upgrade request carries extra headers."""

    def __init__(self, url: str, recorder: Any, timeout_s: float,
                 headers: Mapping[str, str]) -> None:  # fmt: skip
        super().__init__(url, recorder, timeout_s, headers=headers)


def ws_with_headers(case: Any, surface: str, query: Mapping[str, Any],
                    headers: Mapping[str, str]) -> WsSession:  # fmt: skip
    base = case.profile.velma.ws_base_url
    if not base:
        not_tested("missing-surface", "the profile has no velma.ws_base_url")
    case.require_reachable("velma")
    q = {"api_key": case.key("valid"), **query}
    path = VELMA_PATHS[surface]
    try:
        session = HeaderWsSession(ws_url(base, path, q), case.recorder, case.timeout_s, headers)
    except ConnectionRefusedError as exc:
        case.connection_refused(surface, base, exc)
        raise
    case._closers.append(session.close)  # closed with the case, like case.ws()
    case.served_upgrade(surface, session.result.handshake_status, base, path)
    return session


def stream_then_wait(case: Any, surface: str, query: Mapping[str, Any], data: bytes, *,
                     wait_for: str, wait_s: float = 3.0, chunk: int = CHUNK_100MS,
                     audio_seconds: float = 0.0) -> tuple[WsResult, bool]:  # fmt: skip
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
        return V.audio_format_error(surface, value)
    if name == "sample_rate":
        return V.sample_rate_error(value)
    return V.num_channels_error(value)


def example_value(name: str, surface: str) -> Any:
    v = V.EXAMPLE_BAD_VALUES[name]
    return v[surface] if isinstance(v, Mapping) else v
