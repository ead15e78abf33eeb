"""Small helpers shared by the REST batch suites (S2): fixtures, body checks, PII parsing.

No JSON Schema for the Velma-2 REST bodies ships in ``harness/contract`` (only
KugelAudio and streaming), so the checks here are written from the clause texts.
Every function returns ``(ok, note)`` or plain data; the cases judge.
"""

from __future__ import annotations

import io
import json
import re
import uuid
from collections.abc import Mapping, Sequence
from email.parser import BytesParser
from email.policy import HTTP
from typing import Any

import numpy as np

from harness.contract.tables import REST_SURFACES, TRANSCRIBING_REST

REST = REST_SURFACES
TRANSCRIBING = TRANSCRIBING_REST
CLIP = "wav-pcm16-16000-1ch-2s"  # 2 s of speech-like bursts, mono WAV
SPEAKERS = "speakers-wav-16000-1ch-8s"  # two alternating voices A/B
PADDED = "speech-padded-wav-16000-1ch-6s"  # 1.5 s silence, speech, 1.5 s silence
SILENCE = "silence-wav-16000-1ch-3s"
# VFast input that both sides of its format dispute (#7) accept: Ogg Opus.
VFAST_CLIP = "opus-48000-1ch-2s"


def clip_for(surface: str) -> str:
    """The everyday 2 s input of a surface (VFast: Opus, so its other cases hold on either side of #7)."""
    return VFAST_CLIP if surface == "vfast-batch" else CLIP


# One valid fixture per container each surface's spec lists (2 s each).
CONTAINER_FIXTURES = {
    "aac": "aac-44100-1ch-2s",
    "aiff": "aiff-16000-1ch-2s",
    "au": "au-16000-1ch-2s",
    "flac": "flac-16000-1ch-2s",
    "mov": "mov-44100-1ch-2s",
    "mp3": "mp3-44100-2ch-2s",
    "mp4": "mp4-44100-1ch-2s",
    "ogg": "ogg-44100-2ch-2s",
    "opus": "opus-48000-1ch-2s",
    "wav": "wav-pcm16-16000-1ch-2s",
    "webm": "webm-48000-1ch-2s",
}
COMMON_EXTS = ("aac", "aiff", "flac", "mov", "mp3", "mp4", "ogg", "opus", "wav", "webm")
SVD_EXTS = COMMON_EXTS + ("au",)
# SVD's extensions with no fixture in the manifest: generated in memory (see ``generate``).
SVD_GENERATED = ("3gp", "3gpp", "amr", "m4a", "wma")

_TAG = re.compile(r"</?\s*(pii|phi)\b[^>]*>", re.IGNORECASE)
_BRACKET = re.compile(r"\[[A-Z][A-Z0-9_]*\]")


def upload_fixture(
    case: Any, surface: str, fixture_id: str, fields: Mapping[str, str] | None = None
) -> Any:
    """Upload one manifest fixture to ``surface``, charged at the fixture's own length."""
    entry = case.fixture_entry(fixture_id)
    return case.upload(
        surface, case.fixture(fixture_id), fields=fields, audio_seconds=entry.duration_s
    )


# --------------------------------------------------------------------------- bodies


def json_body(r: Any) -> Any:
    try:
        return r.json()
    except ValueError:
        return None


def is_json(r: Any) -> bool:
    return "application/json" in r.headers.get("content-type", "").lower()


def fastapi_422(r: Any, field: str | None = None) -> tuple[bool, str]:
    """FastAPI's validation body: ``detail`` a list of {loc, msg, type}; optionally a loc ending ``field``."""
    body = json_body(r)
    if not isinstance(body, dict) or not isinstance(body.get("detail"), list) or not body["detail"]:
        return False, f"body is not FastAPI's validation shape: {str(body)[:200]}"
    items = body["detail"]
    for item in items:
        if not (
            isinstance(item, dict)
            and isinstance(item.get("loc"), list)
            and isinstance(item.get("msg"), str)
            and isinstance(item.get("type"), str)
        ):
            return False, f"a detail item lacks loc/msg/type: {item!r}"
    locs = [item["loc"] for item in items]
    if field is not None and not any(loc and loc[-1] == field for loc in locs):
        return False, f"no loc ends with {field!r}: {locs}"
    return True, f"FastAPI 422, locs {locs}"


def is_int(v: Any) -> bool:
    return isinstance(v, int) and not isinstance(v, bool)


def is_num(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


def is_uuid(v: Any) -> bool:
    if not isinstance(v, str):
        return False
    try:
        uuid.UUID(v)
    except ValueError:
        return False
    return True


def duration_ok(got: Any, expected_s: float, tol_ms: float) -> tuple[bool, str]:
    want = expected_s * 1000.0
    if not is_int(got) or got < 0:
        return False, f"duration_ms={got!r} is not a non-negative integer"
    return abs(
        got - want
    ) <= tol_ms, f"duration_ms={got}, file {want:.0f} ms (tolerance {tol_ms:g})"


def container_tolerance_ms(fmt: str) -> float:
    """How far a lossy codec's priming/padding may move a decoded length."""
    return 2.0 if fmt in ("wav", "aiff", "au", "flac") else 120.0


def analysed(surface: str, r: Any, expected_s: float, tol_ms: float) -> tuple[bool, str]:
    """A 200 whose body is the surface's result for audio of about ``expected_s``."""
    if r.status_code != 200:
        return False, f"HTTP {r.status_code}"
    if surface == "pii-batch":
        parsed = parse_pii(r)
        if parsed is None:
            return False, "the 200 body is not multipart with metadata and audio parts"
        body = parsed[0]
    else:
        body = json_body(r)
    if not isinstance(body, dict):
        return False, "the 200 body is not a JSON object"
    ok, note = duration_ok(body.get("duration_ms"), expected_s, tol_ms)
    if surface == "svd-batch":
        frames = body.get("frames")
        if not isinstance(frames, list) or not frames:
            return False, f"no frames; {note}"
    elif not isinstance(body.get("text"), str):
        return False, f"no string text; {note}"
    return ok, note


# --------------------------------------------------------------------------- utterances


def utterance_end(u: Mapping[str, Any]) -> Any:
    if is_int(u.get("start_ms")) and is_int(u.get("duration_ms")):
        return u["start_ms"] + u["duration_ms"]
    return u.get("end_ms")


def voice_of(u: Mapping[str, Any], segments: Sequence[Mapping[str, Any]]) -> str | None:
    """The manifest speaker whose segment overlaps the utterance most."""
    start, end = u.get("start_ms"), utterance_end(u)
    if not is_num(start) or not is_num(end):
        return None
    best, best_overlap = None, 0.0
    for seg in segments:
        a, b = float(seg["start_s"]) * 1000, float(seg["end_s"]) * 1000  # type: ignore[arg-type]
        overlap = min(b, end) - max(a, start)
        if overlap > best_overlap:
            best, best_overlap = seg.get("speaker"), overlap
    return None if best is None else str(best)


def speakers_consistent(
    utts: Sequence[Mapping[str, Any]],
    segments: Sequence[Mapping[str, Any]],
    *,
    distinct: bool,
) -> tuple[bool, str]:
    """Speakers are ints >= 1; one voice keeps one number; with ``distinct`` voices differ."""
    if not utts:
        return False, "no utterances"
    numbers: dict[str, set[int]] = {}
    for u in utts:
        s = u.get("speaker")
        if not is_int(s) or s < 1:
            return False, f"speaker {s!r} is not an integer >= 1"
        voice = voice_of(u, segments)
        if voice is not None:
            numbers.setdefault(voice, set()).add(s)
    note = "voice -> speaker numbers: " + ", ".join(
        f"{v}={sorted(n)}" for v, n in sorted(numbers.items())
    )
    if any(len(n) > 1 for n in numbers.values()):
        return False, note + " (a voice changed number)"
    if distinct:
        firsts = [next(iter(n)) for n in numbers.values()]
        if len(numbers) < 2 or len(set(firsts)) != len(firsts):
            return False, note + " (distinct voices do not get distinct numbers)"
    return True, note


def pii_markup(text: str) -> bool:
    """Does ``text`` hold PII/PHI tags of either documented style?"""
    return bool(_TAG.search(text) or _BRACKET.search(text))


def strip_tags(text: str) -> str:
    return re.sub(r"\s+", " ", re.sub(r"</?[A-Za-z][^<>]*>", "", text)).strip()


# --------------------------------------------------------------------------- PII multipart


def parse_multipart(r: Any) -> dict[str, tuple[str, bytes]] | None:
    """Parts of a multipart body by name: (content type, payload); None if not multipart."""
    ctype = r.headers.get("content-type", "")
    if not ctype.lower().startswith("multipart/"):
        return None
    raw = f"Content-Type: {ctype}\r\nMIME-Version: 1.0\r\n\r\n".encode() + r.content
    msg = BytesParser(policy=HTTP).parsebytes(raw)
    if not msg.is_multipart():
        return None
    parts: dict[str, tuple[str, bytes]] = {}
    for part in msg.iter_parts():
        name = part.get_param("name", header="content-disposition")
        if name is None:
            continue
        payload = part.get_payload(decode=True) or b""
        parts[str(name)] = (part.get_content_type(), payload)
    return parts


def parse_pii(r: Any) -> tuple[dict[str, Any], bytes] | None:
    """(metadata, audio bytes) of a PII batch 200, or None when the shape is wrong."""
    parts = parse_multipart(r)
    if not parts or "metadata" not in parts or "audio" not in parts:
        return None
    try:
        metadata = json.loads(parts["metadata"][1])
    except ValueError:
        return None
    if not isinstance(metadata, dict):
        return None
    return metadata, parts["audio"][1]


# --------------------------------------------------------------------------- audio


def decode_mono(data: bytes) -> tuple[np.ndarray, int]:
    """Decode any container to mono float32 samples (soundfile, then PyAV)."""
    import soundfile as sf

    try:
        samples, rate = sf.read(io.BytesIO(data), dtype="float32", always_2d=True)
        return samples.mean(axis=1), int(rate)
    except (sf.LibsndfileError, RuntimeError, TypeError, ValueError):
        pass
    import av

    out: list[np.ndarray] = []
    with av.open(io.BytesIO(data)) as src:
        stream = src.streams.audio[0]
        rate = int(stream.codec_context.sample_rate)
        resampler = av.AudioResampler(format="flt", layout="mono", rate=rate)
        for frame in src.decode(stream):
            for o in resampler.resample(frame):
                out.append(o.to_ndarray().reshape(-1))
    return (np.concatenate(out) if out else np.zeros(0, np.float32)), rate


def rms_envelope(samples: np.ndarray, rate: int, hop_ms: int = 10) -> np.ndarray:
    hop = max(1, rate * hop_ms // 1000)
    n = samples.size // hop
    frames = samples[: n * hop].reshape(n, hop).astype(np.float64)
    return np.sqrt(np.mean(frames * frames, axis=1))


def opus_clip(seconds: float, *, silent: bool = False) -> bytes:
    """An Ogg Opus file of speech-like bursts (or silence), for VFast."""
    from harness.audio.containers import encode_container
    from harness.audio.signals import silence, speech_bursts

    rate = 48000
    samples = silence(seconds, rate) if silent else speech_bursts(seconds, rate).samples
    return encode_container(samples, rate, "opus")


def generate(ext: str, seconds: float = 2.0) -> bytes:
    """A valid file for a container the manifest has no fixture for (3gp, amr, m4a, wma)."""
    import av

    from harness.audio.signals import speech_bursts

    rate = 8000 if ext in ("3gp", "3gpp", "amr") else 16000
    signal = speech_bursts(seconds, rate)
    mono = np.asarray(getattr(signal, "samples", signal), dtype=np.float32).reshape(-1)
    fmt, codec = {
        "3gp": ("3gp", "libopencore_amrnb"),
        "3gpp": ("3gp", "libopencore_amrnb"),
        "amr": ("amr", "libopencore_amrnb"),
        "m4a": ("ipod", "aac"),
        "wma": ("asf", "wmav2"),
    }[ext]
    buf = io.BytesIO()
    with av.open(buf, mode="w", format=fmt) as out:
        stream = out.add_stream(codec, rate=rate, layout="mono")
        stream.bit_rate = 12200 if codec == "libopencore_amrnb" else 64000
        resampler = av.AudioResampler(
            format=stream.codec_context.format.name, layout="mono", rate=rate
        )
        frame = av.AudioFrame.from_ndarray(mono.reshape(1, -1), format="flt", layout="mono")
        frame.sample_rate = rate
        for f in [*resampler.resample(frame), *resampler.resample(None)]:
            for packet in stream.encode(f):
                out.mux(packet)
        for packet in stream.encode(None):
            out.mux(packet)
    return buf.getvalue()
