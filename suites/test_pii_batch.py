"""PII/PHI redaction batch: the multipart answer, its ``metadata``, the redaction
markers (disputed #11), merged and padded ranges, the silenced MP3, JSON errors.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
from _rest_helpers import (
    CLIP,
    SPEAKERS,
    decode_mono,
    duration_ok,
    fastapi_422,
    is_int,
    is_json,
    is_uuid,
    parse_multipart,
    parse_pii,
    rms_envelope,
    utterance_end,
)

from harness.checks import Observation, observe_http
from harness.client import FilePart

EMPTY_MARKER = re.compile(r"<(pii:[a-z_]+|phi)></\1>")
FILLED_TAG = re.compile(r"<(pii:[a-z_]+|phi)>[^<]+</\1>")
BRACKET = re.compile(r"\[[A-Z][A-Z0-9_]*\]")
DEFAULT_PADDING = (100, 0)  # start, end (ms): the spec's defaults


def _pii(case, fixture_id=SPEAKERS, fields=None):
    entry = case.fixture_entry(fixture_id)
    return case.upload(
        "pii-batch", case.fixture(fixture_id), fields=fields, audio_seconds=entry.duration_s
    )


def _meta(r) -> dict:
    parsed = parse_pii(r) if r.status_code == 200 else None
    return parsed[0] if parsed else {}


def _ranges(meta: dict) -> list[tuple[int, int]]:
    out = []
    for item in meta.get("redaction_ranges") or []:
        if isinstance(item, list) and len(item) == 2 and all(is_int(x) for x in item):
            out.append((item[0], item[1]))
    return out


def _widen(base, start_pad, end_pad, duration):
    """Ranges detected with no padding, widened, clipped and merged as the spec says."""
    merged: list[list[int]] = []
    for a, b in sorted((max(0, a - start_pad), min(duration, b + end_pad)) for a, b in base):
        if merged and a <= merged[-1][1]:
            merged[-1][1] = max(merged[-1][1], b)
        else:
            merged.append([a, b])
    return [tuple(m) for m in merged]


# --------------------------------------------------------------------------- shape


@pytest.mark.clause("pii-batch/multipart-response")
def test_multipart_response(case):
    r = _pii(case, CLIP)
    parts = parse_multipart(r) or {}
    problems = []
    if not r.headers.get("content-type", "").startswith("multipart/form-data"):
        problems.append(f"content-type {r.headers.get('content-type')!r}")
    if set(parts) != {"metadata", "audio"}:
        problems.append(f"parts {sorted(parts)}")
    meta = _meta(r)
    if not meta:
        problems.append("metadata is not a JSON object")
    if "audio" in parts:
        try:
            samples, rate = decode_mono(parts["audio"][1])
            from harness.audio.containers import probe

            probe(parts["audio"][1], "mp3")  # decodes as MP3
            ok, note = duration_ok(meta.get("duration_ms"), samples.size / rate, 150.0)
            if not ok:
                problems.append(f"audio length vs metadata: {note}")
        except Exception as exc:  # noqa: BLE001 - any decoder failure is the finding
            problems.append(f"audio does not decode: {exc}")
    case.judge(observe_http(r, behaviour=not problems, note="; ".join(problems) or "ok"))


@pytest.mark.clause("pii-batch/metadata-schema")
def test_metadata_schema(case):
    r = _pii(case)
    m = _meta(r)
    problems = []
    if not isinstance(m.get("text"), str):
        problems.append("text")
    if not is_int(m.get("duration_ms")):
        problems.append("duration_ms")
    if not isinstance(m.get("redaction_ranges"), list):
        problems.append("redaction_ranges")
    utts = m.get("utterances")
    if not isinstance(utts, list) or not utts:
        problems.append("utterances")
        utts = []
    for i, u in enumerate(utts):
        if not isinstance(u, dict):
            problems.append(f"#{i} not an object")
            continue
        if not is_uuid(u.get("utterance_uuid")):
            problems.append(f"#{i} utterance_uuid")
        for k in ("text", "language"):
            if not isinstance(u.get(k), str):
                problems.append(f"#{i} {k}")
        for k in ("start_ms", "duration_ms", "speaker"):
            if not is_int(u.get(k)):
                problems.append(f"#{i} {k}")
        signals = [k for k in ("emotion", "accent", "deepfake_score") if u.get(k) is not None]
        if signals:
            problems.append(f"#{i} carries signals {signals}")
    starts = [u.get("start_ms") for u in utts if isinstance(u, dict)]
    if starts != sorted(s for s in starts if is_int(s)):
        problems.append(f"start_ms not ascending: {starts}")
    case.judge(observe_http(r, behaviour=not problems, note="; ".join(problems[:6]) or "ok"))


@pytest.mark.clause("pii-batch/errors-json")
def test_errors_json(case):
    """Every kind of error this surface can be made to give is a JSON body."""
    clip = case.fixture(CLIP)
    answers = {
        "unsupported": case.upload(
            "pii-batch", FilePart("clip.txt", data=case.fixture_bytes(CLIP))
        ),
        "empty": case.upload("pii-batch", case.fixture("empty-0b-wav")),
        "undecodable": case.upload("pii-batch", case.fixture("corrupt-wav-bad-magic")),
        "language": case.upload("pii-batch", clip, fields={"language": "english"}),
        "bad value": case.upload("pii-batch", clip, fields={"speaker_diarization": "maybe"}),
        "missing file": case.upload("pii-batch", None, fields={"language": "en"}),
        "bad key": case.upload("pii-batch", clip, role="invalid"),
    }
    seen = {k: (r.status_code, r.headers.get("content-type", "")) for k, r in answers.items()}
    errors = {k: v for k, v in seen.items() if v[0] != 200}
    not_json = {k: v for k, v in errors.items() if not is_json(answers[k])}
    ok = len(errors) == len(answers) and not not_json
    note = ", ".join(f"{k}: {s} {c}" for k, (s, c) in seen.items())
    case.judge(Observation(behaviour=ok, note=note))


@pytest.mark.clause("pii-batch/missing-upload-file")
def test_missing_upload_file_urlencoded(case):
    """Not even multipart: a form-urlencoded body with no file."""
    r = case.upload("pii-batch", None, fields={"language": "en"})
    ok, note = fastapi_422(r, "upload_file")
    case.judge(observe_http(r, behaviour=ok, note=note))


# --------------------------------------------------------------------------- redaction


@pytest.mark.clause("pii-batch/redaction-text")
def test_redaction_text(case):
    """Disputed (#11): empty marker tags (spec) or [ENTITY] tags (FAQ).

    Both sides differ only in a described behaviour, so the case tells them apart and
    names the side it saw (``side=``); the verdict compares it with the expected side.
    """
    r = _pii(case)
    m = _meta(r)
    texts = [str(u.get("text", "")) for u in m.get("utterances") or [] if isinstance(u, dict)]
    top = str(m.get("text", ""))
    markers = [t for t in texts if EMPTY_MARKER.search(t)]
    filled = [t for t in texts + [top] if FILLED_TAG.search(t)]
    brackets = [t for t in texts if BRACKET.search(t)]
    in_top = all(t.strip() in top for t in texts)
    if markers and not filled and not brackets and EMPTY_MARKER.search(top):
        seen = "empty-markers"
    elif brackets and not markers and not filled and BRACKET.search(top):
        seen = "bracket-tags"
    else:
        seen = "neither"
    note = (
        f"side seen: {seen}; utterances with markers {len(markers) or len(brackets)}/{len(texts)}"
        f"; utterance texts inside `text`: {in_top}; e.g. {(markers or brackets or texts)[:1]}"
    )
    side = seen if seen != "neither" and in_top else None
    case.judge(observe_http(r, behaviour=side is not None, note=note, side=side))


def _marked(meta: dict) -> list[tuple[int, int]]:
    """Where the utterances holding a redaction marker sit (ms)."""
    out = []
    for u in meta.get("utterances") or []:
        if not isinstance(u, dict):
            continue
        text = str(u.get("text", ""))
        if (EMPTY_MARKER.search(text) or BRACKET.search(text)) and is_int(u.get("start_ms")):
            end = utterance_end(u)
            if is_int(end):
                out.append((u["start_ms"], end))
    return out


@pytest.mark.clause("pii-batch/redaction-ranges")
def test_redaction_ranges(case):
    r = _pii(case)
    m = _meta(r)
    raw = m.get("redaction_ranges")
    ranges = _ranges(m)
    dur = round(case.fixture_entry(SPEAKERS).duration_s * 1000)  # the file's true length
    problems = []
    if not isinstance(raw, list) or len(ranges) != len(raw):
        problems.append(f"items are not [int, int] pairs: {str(raw)[:80]}")
    if not ranges:
        problems.append("no ranges")
    for a, b in ranges:
        if not (0 <= a < b <= dur):
            problems.append(f"[{a}, {b}] out of order or outside the audio")
    for (a1, b1), (a2, b2) in zip(ranges, ranges[1:], strict=False):
        if a2 < b1 or a2 < a1:
            problems.append(f"[{a1}, {b1}] and [{a2}, {b2}] overlap or are not ascending")
    marked = _marked(m)
    pad_a, pad_b = DEFAULT_PADDING
    for a, b in ranges:  # each range covers part of an utterance that holds a marker
        if not any(a < e + pad_b and b > s - pad_a for s, e in marked):
            problems.append(f"[{a}, {b}] lies on no redacted utterance")
    for s, e in marked:  # and each redacted utterance has a range
        if not any(a < e + pad_b and b > s - pad_a for a, b in ranges):
            problems.append(f"utterance {s}-{e} ms has a marker but no range")
    case.judge(observe_http(r, behaviour=not problems, note="; ".join(problems[:4]) or f"{ranges}"))


@pytest.mark.clause("pii-batch/padding-defaults")
def test_padding_defaults(case):
    """Against the ranges at zero padding: defaults widen the start by 100 ms only,
    and other paddings move the edges by exactly their values (then merge)."""
    zero = _pii(case, fields={"start_redaction_padding_ms": "0", "end_redaction_padding_ms": "0"})
    default = _pii(case)
    custom = _pii(
        case,
        fields={"start_redaction_padding_ms": "250", "end_redaction_padding_ms": "150"},
    )
    base = _ranges(_meta(zero))
    dur = round(case.fixture_entry(SPEAKERS).duration_s * 1000)  # clipped at the true end
    problems = [] if base else ["no ranges at zero padding"]
    if not problems:
        for name, r, pads in (
            ("default", default, DEFAULT_PADDING),
            ("250/150", custom, (250, 150)),
        ):
            want = _widen(base, *pads, dur)
            got = _ranges(_meta(r))
            if len(got) != len(want) or any(
                abs(g[0] - w[0]) > 1 or abs(g[1] - w[1]) > 1
                for g, w in zip(got, want, strict=False)
            ):
                problems.append(f"{name}: {got} not {want}")
    case.judge(
        observe_http(default, behaviour=not problems, note="; ".join(problems) or f"base {base}")
    )


@pytest.mark.clause("pii-batch/silenced-audio")
def test_silenced_audio(case):
    """Decoded MP3: near-silent inside every range, the input's energy outside."""
    entry = case.fixture_entry(SPEAKERS)
    r = _pii(case)
    parsed = parse_pii(r) if r.status_code == 200 else None
    if parsed is None:
        case.judge(observe_http(r, behaviour=False, note="no multipart metadata + audio"))
        return
    meta, mp3 = parsed
    ranges = _ranges(meta)
    out, out_rate = decode_mono(mp3)
    src, src_rate = decode_mono(case.fixture_bytes(SPEAKERS))
    env_out, env_src = rms_envelope(out, out_rate), rms_envelope(src, src_rate)
    lag = _lag(env_src, env_out)  # codec delay, in 10 ms hops
    env_out = env_out[lag:] if lag >= 0 else np.concatenate([np.zeros(-lag), env_out])
    n = min(env_out.size, env_src.size)
    env_out, env_src = env_out[:n], env_src[:n]
    problems = [] if ranges else ["no ranges to check"]
    inside = np.zeros(n, bool)
    margin = 3  # hops (30 ms) of MP3 smear at each edge
    for a, b in ranges:
        lo, hi = a // 10 + margin, b // 10 - margin
        inside[max(0, a // 10 - margin) : min(n, b // 10 + margin)] = True
        if hi > lo:
            level = float(np.sqrt(np.mean(env_out[lo:hi] ** 2)))
            if level > 0.01:  # louder than about -40 dBFS
                problems.append(f"[{a}, {b}] not silent (rms {level:.3f})")
    keep = (~inside) & (env_src > 0.05)
    if keep.any():
        ratio = float(np.sqrt(np.mean(env_out[keep] ** 2)) / np.sqrt(np.mean(env_src[keep] ** 2)))
        if not 0.5 <= ratio <= 2.0:
            problems.append(f"outside the ranges the level changed by x{ratio:.2f}")
    else:
        problems.append("no speech left outside the ranges to compare")
    note = "; ".join(problems) or f"{len(ranges)} ranges silent, codec lag {lag * 10} ms"
    case.judge(
        observe_http(r, behaviour=not problems, note=note + f" ({entry.duration_s} s input)")
    )


def _lag(src: np.ndarray, out: np.ndarray, max_hops: int = 20) -> int:
    """The shift (hops) of ``out`` against ``src`` with the best envelope match."""
    n = min(src.size, out.size) - 2 * max_hops
    if n <= 0:
        return 0
    best, best_score = 0, -np.inf
    for k in range(-max_hops, max_hops + 1):
        a = src[max_hops : max_hops + n]
        b = out[max_hops + k : max_hops + k + n]
        score = float(np.dot(a, b))
        if score > best_score:
            best, best_score = k, score
    return best
