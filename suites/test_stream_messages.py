"""STT streaming: the JSON configuration first frame, and the shape of what comes back
(utterance, partial_utterance, done) with its enrichment signals.

Shapes are checked against the JSON Schemas of ``harness.contract.schemas_stream``.
"""

from __future__ import annotations

import re

import pytest
from _examples import examples
from _rest_helpers import is_uuid
from _stream_helpers import (
    RAW16,
    chunks,
    done_of,
    message_errors,
    speech_pcm,
    utterances_of,
)
from hypothesis import given
from hypothesis import strategies as st

from harness.checks import observe_ws
from harness.contract.tables import STT_STREAM_FLAG_DEFAULTS

STT = "stt-stream"
HYP = examples(6)
AUDIO_S = 2.0


def _stream(case, query=None, config=None, *, seconds=AUDIO_S, seed=1, first_text=None):
    """Open STT, optionally send a config text frame first, stream speech, end, read all."""
    case.charge(STT, seconds)
    s = case.ws(STT, RAW16 if query is None else query)
    if s.open:
        if first_text is not None:
            s.send_text(first_text)
        elif config is not None:
            s.send_json(config)
        s.stream(chunks(speech_pcm(seconds, seed=seed)))
        s.end_of_stream()
        s.until_close()
    s.close()
    return s.result


def _normal(result) -> bool:
    return result.close_code == 1000 and "error" not in result.types and "done" in result.types


# --------------------------------------------------------------------------- config frame


@pytest.mark.clause("stt-stream/config-frame")
def test_config_frame_optional(case):
    without = _stream(case)
    with_cfg = _stream(case, config={"speaker_diarization": True})
    ok = bool(utterances_of(without)) and bool(utterances_of(with_cfg)) and _normal(with_cfg)
    note = f"without: {without.describe()}; with: {with_cfg.describe()}"
    case.judge(observe_ws(with_cfg, behaviour=ok, note=note), aspect="data")
    case.judge(
        observe_ws(with_cfg, behaviour=ok), clause="stt-stream/end-of-stream", aspect="close"
    )


@pytest.mark.clause("stt-stream/config-frame-overrides")
@pytest.mark.parametrize("flag,field", [("emotion_signal", "emotion"), ("accent_signal", "accent")])
def test_config_frame_overrides(case, flag, field):
    on = _stream(case, {**RAW16, flag: False}, {flag: True})
    off = _stream(case, {**RAW16, flag: True}, {flag: False})
    on_vals = [u.get(field) for u in utterances_of(on)]
    off_vals = [u.get(field) for u in utterances_of(off)]
    ok = (
        bool(on_vals)
        and all(isinstance(v, str) for v in on_vals)
        and bool(off_vals)
        and all(v is None for v in off_vals)
    )
    case.judge(observe_ws(on, behaviour=ok, note=f"on={on_vals} off={off_vals}"), aspect="data")


CONFIG = st.fixed_dictionaries(
    {},
    optional={
        **{flag: st.booleans() for flag in STT_STREAM_FLAG_DEFAULTS},
        "language": st.one_of(st.none(), st.sampled_from(["en", "EN-us", "es", "zh-Hant-TW"])),
        "custom_terms": st.one_of(
            st.none(),
            st.lists(
                st.one_of(
                    st.sampled_from(["Modulate", "Velma", "ToxMod"]),
                    st.fixed_dictionaries(
                        {"term": st.sampled_from(["Velma", "KugelAudio"])},
                        optional={
                            "definition": st.text(max_size=40),
                            "pronunciations": st.lists(
                                st.sampled_from(["VEL-ma", "vElm@"]), max_size=3
                            ),
                        },
                    ),
                ),
                max_size=4,
            ),
        ),
    },
)


@pytest.mark.clause("stt-stream/config-frame-fields")
def test_config_frame_fields_accepted(case):
    refused: list[str] = []
    last = []

    @HYP
    @given(CONFIG)
    def probe(cfg):
        r = _stream(case, config=cfg, seconds=0.6)
        last[:] = [r]
        if not _normal(r):
            refused.append(f"{cfg}: {r.describe()}")

    probe()
    case.judge(
        observe_ws(last[0], behaviour=not refused, note="; ".join(refused[:3]) or "all accepted"),
        aspect="close",
    )


INVALID_CONFIGS = {
    "not-json": "{speaker_diarization: true",
    "array": "[1, 2]",
    "string-flag": '{"emotion_signal": "yes"}',
    "int-flag": '{"partial_results": 1}',
    "bad-language": '{"language": "english1"}',
    "terms-not-list": '{"custom_terms": "Velma"}',
    "term-number": '{"custom_terms": [42]}',
}


@pytest.mark.clause("stt-stream/config-frame-invalid")
@pytest.mark.parametrize("label", list(INVALID_CONFIGS))
def test_config_frame_invalid(case, label):
    r = _stream(case, first_text=INVALID_CONFIGS[label], seconds=0.5)
    case.judge(observe_ws(r, note=label), aspect="close")


def _terms_over_limit(label: str):
    if label == "1001-entries":
        return [f"t{i}" for i in range(1001)]
    if label == "long-definition":
        return [{"term": "Velma", "definition": "d" * 257}]
    if label == "17-pronunciations":
        return [{"term": "Velma", "pronunciations": ["VEL-ma"] * 17}]
    if label == "long-pronunciation":
        return [{"term": "Velma", "pronunciations": ["a" * 129]}]
    if label == "empty-object-term":
        return [{"term": ""}]
    if label == "8000-chars":
        return ["x" * 500 for _ in range(16)]  # 16 * 502 + 15 separators > 8000
    raise KeyError(label)


@pytest.mark.clause("stt-stream/custom-terms-limits")
@pytest.mark.parametrize(
    "label",
    [
        "1001-entries",
        "long-definition",
        "17-pronunciations",
        "long-pronunciation",
        "empty-object-term",
        "8000-chars",
    ],
)
def test_custom_terms_limits(case, label):
    r = _stream(case, config={"custom_terms": _terms_over_limit(label)}, seconds=0.5)
    refused_early = "utterance" not in r.types and "done" not in r.types
    case.judge(observe_ws(r, behaviour=refused_early, note=label), aspect="close")


@pytest.mark.clause("stt-stream/custom-terms-limits")
def test_custom_terms_at_limits_accepted(case):
    """The limits themselves are allowed: 1000 entries, 256-char definition, 16 x 128 chars."""
    terms = [f"t{i}" for i in range(999)] + [
        {"term": "Velma", "definition": "d" * 256, "pronunciations": ["a" * 128] * 16}
    ]
    r = _stream(case, config={"custom_terms": terms}, seconds=0.5)
    # Accepted is the documented result here; judged through end-of-stream's outcome.
    case.judge(
        observe_ws(r, behaviour=_normal(r), note=r.describe()),
        clause="stt-stream/end-of-stream",
        aspect="close",
    )


@pytest.mark.clause("stt-stream/custom-terms-blank-dropped")
@pytest.mark.parametrize(
    "terms",
    [["", "Velma"], ["   ", "Velma"], [{"term": "Velma", "pronunciations": ["", "VEL-ma"]}], None],
    ids=["blank", "spaces", "blank-pronunciation", "null"],
)
def test_custom_terms_blank_dropped(case, terms):
    r = _stream(case, config={"custom_terms": terms})
    ok = _normal(r) and bool(utterances_of(r))
    case.judge(observe_ws(r, behaviour=ok, note=r.describe()), aspect="data")


@pytest.mark.clause("stt-stream/config-frame-empty-first")
def test_config_frame_empty_first(case):
    s = case.ws(STT, RAW16)
    if s.open:
        s.end_of_stream()
        s.until_close()
    s.close()
    r = s.result
    d = done_of(r) or {}
    case.judge(
        observe_ws(r, behaviour=d.get("duration_ms") == 0, note=r.describe()), aspect="close"
    )


@pytest.mark.clause("stt-stream/config-frame-unknown-field")
def test_config_frame_unknown_field(case):
    r = _stream(case, config={"emotion_signal": True, "colour": "blue"})
    case.judge(observe_ws(r, behaviour=_normal(r), note=r.describe()), aspect="close")


@pytest.mark.clause("stt-stream/late-text-frame")
def test_late_text_frame(case):
    case.charge(STT, 2.0)
    s = case.ws(STT, RAW16)
    audio = chunks(speech_pcm(2.0))
    s.stream(audio[:10])
    s.send_text('{"emotion_signal": true}')
    s.stream(audio[10:])
    s.end_of_stream()
    s.until_close()
    s.close()
    r = s.result
    case.judge(observe_ws(r, behaviour=_normal(r), note=r.describe()), aspect="close")


# --------------------------------------------------------------------------- utterances


@pytest.mark.clause("stt-stream/utterance-shape")
@pytest.mark.parametrize("signals", ["off", "on"])
def test_utterance_shape(case, signals):
    q = (
        RAW16
        if signals == "off"
        else {**RAW16, "emotion_signal": True, "accent_signal": True, "deepfake_signal": True}
    )
    r = case.stream(STT, q, chunks(speech_pcm(3.0, seed=22)), audio_seconds=3.0)
    errs = message_errors(STT, r.messages, "utterance")
    ok = bool(r.of_type("utterance")) and not errs
    case.judge(observe_ws(r, behaviour=ok, note="; ".join(errs[:4])), aspect="data")


@pytest.mark.clause("stt-stream/utterance-timing")
def test_utterance_timing(case):
    r = case.stream(STT, RAW16, chunks(speech_pcm(3.0, seed=23)), audio_seconds=3.0)
    utts = utterances_of(r)
    dur = 3000  # the audio sent, not the length the target reports

    def _int(v):
        return isinstance(v, int) and not isinstance(v, bool) and v >= 0

    start_duration = bool(utts) and all(
        _int(u.get("start_ms"))
        and _int(u.get("duration_ms"))
        and u["start_ms"] + u["duration_ms"] <= dur + 1
        for u in utts
    )
    end_ms = bool(utts) and all(
        _int(u.get("start_ms")) and _int(u.get("end_ms")) and u["end_ms"] >= u["start_ms"]
        for u in utts
    )
    # Both sides' outcomes are "message=utterance + behaviour": the case tells them apart
    # and names the side it saw; the verdict compares it with the expected side.
    side = "start-duration" if start_duration else "end-ms" if end_ms else None
    note = f"start_ms+duration_ms: {start_duration}; end_ms: {end_ms}; first={utts[:1]}"
    case.judge(observe_ws(r, behaviour=side is not None, note=note, side=side))


@pytest.mark.clause("stt-stream/utterance-uuid")
def test_utterance_uuid(case):
    r = case.stream(STT, RAW16, chunks(speech_pcm(4.0, seed=24)), audio_seconds=4.0)
    ids = [u.get("utterance_uuid") for u in utterances_of(r)]
    ok = len(ids) >= 2 and all(is_uuid(i) for i in ids) and len(set(ids)) == len(ids)
    case.judge(observe_ws(r, behaviour=ok, note=f"{len(ids)} ids, {len(set(ids))} distinct"))


@pytest.mark.clause("stt-stream/language-detected")
def test_language_detected(case):
    r = case.stream(STT, RAW16, chunks(speech_pcm(3.0, seed=25)), audio_seconds=3.0)
    langs = [u.get("language") for u in utterances_of(r)]
    ok = bool(langs) and all(
        isinstance(x, str) and re.fullmatch(r"[A-Za-z]{2,3}([-_][A-Za-z0-9]+)*", x) for x in langs
    )
    case.judge(observe_ws(r, behaviour=ok, note=f"languages={langs}"))


@pytest.mark.parametrize(
    "flag,field,check",
    [
        pytest.param("emotion_signal", "emotion", "label",
                     marks=pytest.mark.clause("stt-stream/emotion-signal"), id="emotion"),
        pytest.param("accent_signal", "accent", "label",
                     marks=pytest.mark.clause("stt-stream/accent-signal"), id="accent"),
        pytest.param("deepfake_signal", "deepfake_score", "score",
                     marks=pytest.mark.clause("stt-stream/deepfake-signal"), id="deepfake"),
    ],
)  # fmt: skip
def test_signal_off_by_default_on_when_asked(case, flag, field, check):
    off = case.stream(STT, RAW16, chunks(speech_pcm(3.0, seed=26)), audio_seconds=3.0)
    on = case.stream(
        STT, {**RAW16, flag: True}, chunks(speech_pcm(3.0, seed=26)), audio_seconds=3.0
    )
    off_vals = [u.get(field, "absent") for u in utterances_of(off)]
    on_utts = utterances_of(on)
    if check == "label":
        on_ok = all(isinstance(u.get(field), str) and u[field] for u in on_utts)
    else:  # a score; null is allowed only for utterances under 0.5 s
        on_ok = all(
            (u.get("duration_ms", 0) < 500 and u.get(field) is None)
            or (isinstance(u.get(field), int | float) and 0 <= u[field] <= 1)
            for u in on_utts
        ) and any(isinstance(u.get(field), int | float) for u in on_utts)
    ok = bool(off_vals) and all(v is None for v in off_vals) and bool(on_utts) and on_ok
    vals = [u.get(field) for u in on_utts]
    case.judge(observe_ws(on, behaviour=ok, note=f"off={off_vals} on={vals}"))


_TAG = re.compile(r"<(pii:[A-Za-z_]+|phi)>(.*?)</\1>")


@pytest.mark.clause("stt-stream/pii-phi-tagging")
def test_pii_phi_tagging(case):
    data = speech_pcm(6.0, seed=27)
    plain = case.stream(STT, RAW16, chunks(data), audio_seconds=6.0)
    tagged = case.stream(STT, {**RAW16, "pii_phi_tagging": True}, chunks(data), audio_seconds=6.0)
    a = [u.get("text", "") for u in utterances_of(plain)]
    b = [u.get("text", "") for u in utterances_of(tagged)]
    has_tags = any(_TAG.search(t) for t in b)
    untagged = [_TAG.sub(r"\2", t) for t in b]
    plain_no_tags = not any(_TAG.search(t) for t in a)
    ok = bool(b) and has_tags and untagged == a and plain_no_tags
    case.judge(observe_ws(tagged, behaviour=ok, note=f"tagged={b[:3]} plain={a[:3]}"))


# --------------------------------------------------------------------------- partials


def _partial_run(case, query=None, config=None):
    return _stream(case, query, config, seconds=4.0, seed=28)


@pytest.mark.clause("stt-stream/partials-off-by-default")
@pytest.mark.parametrize("how", ["default", "query-false", "config-false"])
def test_partials_off_by_default(case, how):
    if how == "default":
        r = _partial_run(case)
    elif how == "query-false":
        r = _partial_run(case, {**RAW16, "partial_results": False})
    else:
        r = _partial_run(case, {**RAW16, "partial_results": True}, {"partial_results": False})
    ok = "partial_utterance" not in r.types and bool(r.of_type("utterance"))
    case.judge(observe_ws(r, behaviour=ok, note=f"types={sorted(set(r.types))}"))


@pytest.mark.clause("stt-stream/partial-utterance")
@pytest.mark.parametrize("how", ["query", "config"])
def test_partial_utterance_shape(case, how):
    if how == "query":
        r = _partial_run(case, {**RAW16, "partial_results": True})
    else:
        r = _partial_run(case, RAW16, {"partial_results": True})
    errs = message_errors(STT, r.messages, "partial_utterance")
    ok = bool(r.of_type("partial_utterance")) and not errs
    case.judge(observe_ws(r, behaviour=ok, note="; ".join(errs[:4])))


@pytest.mark.clause("stt-stream/partial-superseded")
def test_partial_superseded(case):
    r = _partial_run(case, {**RAW16, "partial_results": True})
    kinds = [t for t in r.types if t in ("partial_utterance", "utterance", "done")]
    after_done = kinds[kinds.index("done") + 1 :] if "done" in kinds else ["no done"]
    # every run of partials is closed by an utterance (the final result of that segment)
    dangling = (
        bool(kinds)
        and "partial_utterance" in kinds
        and (
            kinds[: kinds.index("done") if "done" in kinds else len(kinds)][-1]
            == "partial_utterance"
        )
    )
    ok = "partial_utterance" in kinds and not after_done and not dangling
    case.judge(observe_ws(r, behaviour=ok, note=" ".join(k[:4] for k in kinds)))


@pytest.mark.clause("stt-stream/partial-signals")
def test_partial_signals(case):
    r = _partial_run(case, {**RAW16, "partial_results": True, "emotion_signal": True})
    parts = [m.get("partial_utterance") or {} for m in r.of_type("partial_utterance")]
    present = all(all(k in p for k in ("emotion", "accent", "deepfake_score")) for p in parts)
    off_null = all(p.get("accent") is None and p.get("deepfake_score") is None for p in parts)
    on_ok = all(p.get("emotion") is None or isinstance(p.get("emotion"), str) for p in parts)
    ok = bool(parts) and present and off_null and on_ok
    case.judge(observe_ws(r, behaviour=ok, note=f"{len(parts)} partials; first={parts[:1]}"))


@pytest.mark.clause("stt-stream/done-shape")
def test_stt_done_shape(case):
    r = case.stream(STT, RAW16, chunks(speech_pcm(1.0)), audio_seconds=1.0)
    errs = message_errors(STT, r.messages, "done")
    ok = bool(r.of_type("done")) and not errs
    case.judge(observe_ws(r, behaviour=ok, note="; ".join(errs)))
