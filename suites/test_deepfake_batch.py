"""Deepfake (SVD) batch semantics: 4 s windows and padding, silence trimming with
timestamps kept in the original file's time, and ``no-content`` frames.

Speech positions come from the fixture manifest (``segments``), never from the
target's own answer.
"""

from __future__ import annotations

import pytest
from _rest_helpers import PADDED, SILENCE, is_int, json_body

from harness.checks import observe_http

# How far a trimming model may place a window edge from where the speech really starts.
EDGE_TOLERANCE_MS = 250


def _frames(r) -> tuple[list[dict], object]:
    body = json_body(r) if r.status_code == 200 else None
    if not isinstance(body, dict) or not isinstance(body.get("frames"), list):
        return [], None
    return [f for f in body["frames"] if isinstance(f, dict)], body.get("duration_ms")


def _upload(case, fixture_id):
    entry = case.fixture_entry(fixture_id)
    return case.upload("svd-batch", case.fixture(fixture_id), audio_seconds=entry.duration_s)


@pytest.mark.clause("svd-batch/window-padding")
@pytest.mark.parametrize(
    "fixture_id",
    ["clip-wav-16000-1ch-0.5s", "clip-wav-16000-1ch-0.51s", "wav-pcm16-16000-1ch-2s"],
)
def test_svd_window_padding(case, fixture_id):
    """Under one 4 s window: at least one frame with a speech verdict. (Whether a frame may
    reach over the padding is not documented, so frame ends are only reported.)"""
    r = _upload(case, fixture_id)
    frames, dur = _frames(r)
    ends = [f.get("end_time_ms") for f in frames]
    ok = any(f.get("verdict") in ("synthetic", "non-synthetic") for f in frames)
    case.judge(observe_http(r, behaviour=ok, note=f"frame ends {ends}, duration_ms {dur}"))


@pytest.mark.clause("svd-batch/recommended-length")
@pytest.mark.parametrize("fixture_id", ["window-wav-16000-1ch-4s", "window-wav-16000-1ch-6s"])
def test_svd_recommended_length(case, fixture_id):
    r = _upload(case, fixture_id)
    case.judge(observe_http(r))


@pytest.mark.clause("svd-batch/silence-trim-timestamps")
def test_svd_silence_trim_timestamps(case):
    """Leading/trailing silence: speech verdicts sit on the speech, in file time."""
    entry = case.fixture_entry(PADDED)
    segs = entry.segments or ()
    first_ms = float(segs[0]["start_s"]) * 1000  # type: ignore[arg-type]
    last_ms = float(segs[-1]["end_s"]) * 1000  # type: ignore[arg-type]
    r = _upload(case, PADDED)
    frames, dur = _frames(r)
    speech = [f for f in frames if f.get("verdict") in ("synthetic", "non-synthetic")]
    problems = []
    if not speech:
        problems.append("no speech verdict")
    else:
        start = speech[0].get("start_time_ms")
        end = speech[-1].get("end_time_ms")
        if not (is_int(start) and start >= first_ms - EDGE_TOLERANCE_MS):
            problems.append(f"first speech verdict starts at {start}, speech at {first_ms:.0f}")
        if not (is_int(end) and end <= last_ms + EDGE_TOLERANCE_MS):
            problems.append(f"last speech verdict ends at {end}, speech ends {last_ms:.0f}")
    # the silent stretches before and after the speech are covered by no-content
    for f in frames:
        a, b = f.get("start_time_ms"), f.get("end_time_ms")
        if not (is_int(a) and is_int(b)):
            continue
        inside_silence = b <= first_ms - EDGE_TOLERANCE_MS or a >= last_ms + EDGE_TOLERANCE_MS
        if inside_silence and f.get("verdict") != "no-content":
            problems.append(f"silent {a}-{b} ms is {f.get('verdict')!r}")
    lead = [f for f in frames if f.get("start_time_ms") == 0]
    if not lead or lead[0].get("verdict") != "no-content":
        problems.append("no no-content frame at the start of the file")
    note = "; ".join(problems) or f"speech verdicts within {first_ms:.0f}-{last_ms:.0f} ms"
    case.judge(observe_http(r, behaviour=not problems, note=note))


@pytest.mark.clause("svd-batch/no-content")
@pytest.mark.parametrize("fixture_id", [SILENCE, PADDED])
def test_svd_no_content(case, fixture_id):
    """Frames over silence only: verdict no-content with confidence exactly 1.0."""
    entry = case.fixture_entry(fixture_id)
    segs = entry.segments or ()
    speech = [
        (float(s["start_s"]) * 1000, float(s["end_s"]) * 1000)  # type: ignore[arg-type]
        for s in segs
    ]
    r = _upload(case, fixture_id)
    frames, _ = _frames(r)
    silent, wrong = [], []
    for f in frames:
        a, b = f.get("start_time_ms"), f.get("end_time_ms")
        if not (is_int(a) and is_int(b)):
            continue
        touches_speech = any(a < e and b > s for s, e in speech)
        if touches_speech:
            continue
        silent.append((a, b))
        if f.get("verdict") != "no-content" or f.get("confidence") != 1.0:
            wrong.append(f)
    ok = bool(silent) and not wrong
    case.judge(observe_http(r, behaviour=ok, note=f"silent frames {silent}; wrong: {wrong[:2]}"))
