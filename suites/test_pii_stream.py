"""PII/PHI redaction streaming: redacted utterances, the MP3 clip after each one, the
trailing clip after ``done``, and the redaction padding.

Redaction in the audio is measured differentially: the same speech is streamed with
different padding values and the silenced stretches of speech are compared, so no
knowledge of where the target finds PII is needed.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from _rest_helpers import is_uuid
from _stream_helpers import (
    RAW16,
    chunks,
    done_of,
    is_mp3,
    message_errors,
    mp3_duration_ms,
    mp3_samples,
    pcm,
    speech,
)

from harness.checks import observe_ws

PII = "pii-stream"
HOP_MS = 5


def _run(case, seconds=4.0, seed=41, query=None, signal=None):
    sig = signal or speech(seconds, seed=seed, burst_s=(1.4, 2.4), gap_s=(0.4, 0.6))
    q = {**RAW16, **(query or {})}
    return case.stream(PII, q, chunks(pcm(sig)), audio_seconds=sig.duration_s), sig


def _pairs(result):
    """(utterance message, the frame kind right after it) in order."""
    out = []
    order = result.order
    j = 0
    for i, kind in enumerate(order):
        if kind.startswith("json:"):
            msg = result.messages[j]
            j += 1
            if msg.get("type") == "utterance":
                out.append((msg, order[i + 1] if i + 1 < len(order) else None))
    return out


def _clips(result):
    """[(start_ms, duration_ms, mp3 bytes)] for every clip, trailing one included."""
    out = []
    b = 0
    for i, kind in enumerate(result.order):
        if kind == "binary":
            prev = result.order[i - 1] if i else None
            info = None
            if prev and prev.startswith("json:"):
                idx = sum(1 for k in result.order[:i] if k.startswith("json:")) - 1
                m = result.messages[idx]
                info = (
                    m.get("redacted_audio")
                    if m.get("type") == "utterance"
                    else m.get("trailing_redacted_audio")
                )
            out.append((info, result.binary[b]))
            b += 1
    return out


# --------------------------------------------------------------------------- shapes


@pytest.mark.clause("pii-stream/utterance-shape")
def test_utterance_shape(case):
    r, _ = _run(case)
    errs = message_errors(PII, r.messages, "utterance")
    ok = bool(r.of_type("utterance")) and not errs
    case.judge(observe_ws(r, behaviour=ok, note="; ".join(errs[:4])))


@pytest.mark.clause("pii-stream/utterance-uuid")
def test_utterance_uuid(case):
    r, _ = _run(case, 5.0, seed=42)
    ids = [(m.get("utterance") or {}).get("utterance_uuid") for m in r.of_type("utterance")]
    ok = len(ids) >= 2 and all(is_uuid(i) for i in ids) and len(set(ids)) == len(ids)
    case.judge(observe_ws(r, behaviour=ok, note=f"{len(ids)} ids, {len(set(ids))} distinct"))


@pytest.mark.clause("pii-stream/language-detected")
def test_language_detected(case):
    r, _ = _run(case, seed=43)
    langs = [(m.get("utterance") or {}).get("language") for m in r.of_type("utterance")]
    ok = bool(langs) and all(
        isinstance(x, str) and re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*", x) for x in langs
    )
    case.judge(observe_ws(r, behaviour=ok, note=f"languages={langs}"))


@pytest.mark.clause("pii-stream/done-shape")
def test_done_shape(case):
    r, _ = _run(case, 2.0, seed=44)
    errs = message_errors(PII, r.messages, "done")
    d = done_of(r) or {}
    ok = (
        bool(d)
        and not errs
        and all(k in d for k in ("type", "duration_ms", "trailing_redacted_audio"))
    )
    case.judge(observe_ws(r, behaviour=ok, note=f"done={d}; {errs}"))


# --------------------------------------------------------------------------- clip framing


@pytest.mark.clause("pii-stream/audio-follows-utterance")
def test_audio_follows_utterance(case):
    r, _ = _run(case, 5.0, seed=45)
    pairs = _pairs(r)
    with_audio = [(m, nxt) for m, nxt in pairs if m.get("redacted_audio") is not None]
    bad = []
    for i, kind in enumerate(r.order):
        if kind == "binary" and i + 1 < len(r.order) and r.order[i + 1] == "binary":
            bad.append(f"two binary frames in a row at {i}")
    bad += [f"after utterance: {nxt}" for _, nxt in with_audio if nxt != "binary"]
    bad += [f"clip {n} not MP3" for n, b in enumerate(r.binary) if not is_mp3(b)]
    ok = bool(with_audio) and not bad
    case.judge(observe_ws(r, behaviour=ok, note=f"{len(with_audio)} clips; {bad[:3]}"))


@pytest.mark.clause("pii-stream/no-audio-when-null")
def test_no_audio_when_null(case):
    r, _ = _run(case, 5.0, seed=46)
    pairs = _pairs(r)
    nulls = [(m, nxt) for m, nxt in pairs if m.get("redacted_audio") is None]
    bad = [nxt for _, nxt in nulls if nxt == "binary"]
    ok = bool(pairs) and not bad
    note = f"{len(nulls)} utterance(s) with null redacted_audio; binary after {len(bad)}"
    case.judge(observe_ws(r, behaviour=ok, note=note))


@pytest.mark.clause("pii-stream/clip-window")
def test_clip_window(case):
    r, sig = _run(case, 5.0, seed=47)
    clips = _clips(r)
    pos = 0
    bad = []
    for info, mp3 in clips:
        if not info:
            bad.append("clip without a window")
            continue
        if info.get("start_ms") != pos:
            bad.append(f"clip starts {info.get('start_ms')}, previous ended {pos}")
        length = mp3_duration_ms(mp3)
        if abs(length - info.get("duration_ms", 0)) > 60:
            bad.append(f"MP3 {length:.0f} ms vs window {info.get('duration_ms')} ms")
        pos = info.get("start_ms", 0) + info.get("duration_ms", 0)
    dur = round(sig.duration_s * 1000)  # the audio sent, not the length the target reports
    if clips and abs(pos - dur) > 1:
        bad.append(f"clips end at {pos}, the audio sent at {dur}")
    ok = bool(clips) and not bad
    case.judge(observe_ws(r, behaviour=ok, note="; ".join(bad[:4]) or f"{len(clips)} clips tile"))


@pytest.mark.clause("pii-stream/trailing-audio")
@pytest.mark.parametrize("tail_s", [0.0, 1.5], ids=["no-tail", "silent-tail"])
def test_trailing_audio(case, tail_s):
    sig = speech(3.0, seed=48, burst_s=(1.4, 2.4), gap_s=(0.4, 0.6))
    data = pcm(sig) + bytes(int(tail_s * 16000) * 2)
    r = case.stream(PII, RAW16, chunks(data), audio_seconds=3.0 + tail_s)
    d = done_of(r) or {}
    tail = d.get("trailing_redacted_audio")
    after = r.order[r.order.index("json:done") + 1 :] if "json:done" in r.order else ["no done"]
    if tail is None:
        ok = after == []
    else:
        ok = after == ["binary"] and is_mp3(r.binary[-1])
        ok = ok and abs(mp3_duration_ms(r.binary[-1]) - tail.get("duration_ms", 0)) <= 60
    case.judge(
        observe_ws(r, behaviour=ok, note=f"trailing={tail}; after done: {after}"), aspect="data"
    )
    case.judge(observe_ws(r), aspect="close", clause="pii-stream/done-last")


# --------------------------------------------------------------------------- redaction


_MARKER = re.compile(r"<pii:([A-Za-z_]+)></pii:\1>|<phi></phi>")
_BRACKET = re.compile(r"\[[A-Z_]+\]")


@pytest.mark.clause("pii-stream/redaction-markers")
def test_redaction_markers(case):
    r, _ = _run(case, 6.0, seed=49)
    texts = [(m.get("utterance") or {}).get("text", "") for m in r.of_type("utterance")]
    tags = any(_MARKER.search(t) for t in texts)
    brackets = any(_BRACKET.search(t) for t in texts)
    # Both sides are "message=utterance + behaviour": the case tells them apart and names
    # the side it saw; the verdict compares it with the expected side.
    side = (
        "marker-tags" if tags and not brackets else "entity-tags" if brackets and not tags else None
    )
    note = f"marker tags: {tags}; bracket tags: {brackets}; texts={texts[:3]}"
    case.judge(observe_ws(r, behaviour=side is not None, note=note, side=side))


def _muted(result, sig) -> np.ndarray:
    """Per 5 ms hop: True where the source has speech and the returned clips are silent."""
    speech_mask = _speech_mask(sig)
    n = speech_mask.size
    quiet = np.zeros(n, bool)
    covered = np.zeros(n, bool)
    for info, mp3 in _clips(result):
        if not info:
            continue
        x, rate = mp3_samples(mp3)
        hop = rate * HOP_MS // 1000
        k = x.size // hop
        rms = np.sqrt((x[: k * hop].reshape(k, hop) ** 2).mean(axis=1))
        a = info["start_ms"] // HOP_MS
        k = min(k, n - a, info["duration_ms"] // HOP_MS)
        quiet[a : a + k] = rms[:k] < 1e-3
        covered[a : a + k] = True
    return speech_mask & quiet & covered


def _speech_mask(sig) -> np.ndarray:
    """Per 5 ms hop: True where the source signal is clearly audible."""
    x = sig.samples.mean(axis=1)
    hop = sig.sample_rate * HOP_MS // 1000
    k = x.size // hop
    return np.sqrt((x[: k * hop].reshape(k, hop) ** 2).mean(axis=1)) > 0.01


def _runs(mask: np.ndarray, min_ms: int = 20) -> list[tuple[int, int]]:
    """(start_ms, end_ms) of True runs at least ``min_ms`` long."""
    out, start = [], None
    for i, v in enumerate(list(mask) + [False]):
        if v and start is None:
            start = i
        elif not v and start is not None:
            if (i - start) * HOP_MS >= min_ms:
                out.append((start * HOP_MS, i * HOP_MS))
            start = None
    return out


def _compare(base, wide, sig, before: int, after: int, tol: int = 30) -> list[str]:
    """Each muted run of ``base`` widened by (before, after) ms, within speech, is ``wide``."""
    n = base.size
    speech_mask = _speech_mask(sig)
    want = np.zeros(n, bool)
    for a, b in _runs(base):
        want[max(0, (a - before) // HOP_MS) : min(n, (b + after) // HOP_MS)] = True
    want &= speech_mask
    diff = want ^ wide
    # ignore differences within `tol` ms of an expected edge (codec smear)
    edges = np.zeros(n, bool)
    for a, b in _runs(want):
        for e in (a, b):
            edges[max(0, (e - tol) // HOP_MS) : min(n, (e + tol) // HOP_MS)] = True
    bad = _runs(diff & ~edges)
    return [f"{a}-{b} ms" for a, b in bad]


@pytest.mark.clause("pii-stream/redaction-ranges")
def test_redaction_ranges(case):
    sig = speech(6.0, seed=50, burst_s=(1.6, 2.4), gap_s=(0.4, 0.6))
    tight, _ = _run(
        case, query={"start_redaction_padding_ms": 0, "end_redaction_padding_ms": 0}, signal=sig
    )
    wide, _ = _run(
        case, query={"start_redaction_padding_ms": 200, "end_redaction_padding_ms": 150}, signal=sig
    )
    m0, m1 = _muted(tight, sig), _muted(wide, sig)
    runs0 = _runs(m0)
    off = _compare(m0, m1, sig, 200, 150)
    audible = bool(m0.sum() < 0.5 * m0.size)  # the rest of the speech is kept
    ok = bool(runs0) and not off and audible
    note = f"unpadded silence {runs0}; padded {_runs(m1)}; off by more than 30 ms at {off}"
    case.judge(observe_ws(wide, behaviour=ok, note=note))


@pytest.mark.clause("pii-stream/redaction-padding")
def test_redaction_padding_defaults(case):
    sig = speech(6.0, seed=50, burst_s=(1.6, 2.4), gap_s=(0.4, 0.6))
    tight, _ = _run(
        case, query={"start_redaction_padding_ms": 0, "end_redaction_padding_ms": 0}, signal=sig
    )
    default, _ = _run(case, signal=sig)
    m0, md = _muted(tight, sig), _muted(default, sig)
    off = _compare(m0, md, sig, 100, 0)
    ok = bool(_runs(m0)) and not off
    note = f"unpadded silence {_runs(m0)}; default {_runs(md)}; off at {off}"
    case.judge(observe_ws(default, behaviour=ok, note=note))
