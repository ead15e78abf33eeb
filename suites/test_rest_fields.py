"""Request fields of the REST batch surfaces: the endpoints, the flags and their
defaults, ``language``, STT's ``config`` JSON and custom terms, and bad values.
"""

from __future__ import annotations

import json
import re

import pytest
from _params import surface_params
from _rest_helpers import (
    CLIP,
    REST,
    SPEAKERS,
    clip_for,
    fastapi_422,
    is_json,
    is_num,
    json_body,
    parse_pii,
    pii_markup,
    speakers_consistent,
    strip_tags,
    upload_fixture,
)
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.checks import observe_http
from harness.contract.tables import VELMA_PATHS
from harness.not_tested import not_tested

SHORT = "clip-wav-16000-1ch-0.5s"  # the cheapest clip every surface analyses
_BOOL_WORDS = {"1", "0", "on", "off", "t", "f", "true", "false", "y", "n", "yes", "no"}


def _utts(r) -> list[dict]:
    body = json_body(r)
    if r.status_code != 200 or not isinstance(body, dict):
        return []
    utts = body.get("utterances")
    return utts if isinstance(utts, list) else []


def _pii_utts(r) -> list[dict]:
    parsed = parse_pii(r) if r.status_code == 200 else None
    utts = parsed[0].get("utterances") if parsed else None
    return utts if isinstance(utts, list) else []


def _stt(case, fields=None, fixture_id=SPEAKERS):
    return upload_fixture(case, "stt-batch", fixture_id, fields)


# --------------------------------------------------------------------------- endpoints


@pytest.mark.parametrize("surface", surface_params("endpoint", REST))
def test_endpoint(case, surface):
    """multipart POST with ``upload_file``, a synchronous result in the body."""
    r = case.upload(surface, case.fixture(clip_for(surface)), audio_seconds=2.0)
    if surface == "pii-batch":
        ok = r.status_code == 200 and parse_pii(r) is not None
        note = f"content-type {r.headers.get('content-type', '')[:40]!r}"
    else:
        ok = is_json(r) and isinstance(json_body(r), dict)
        note = f"content-type {r.headers.get('content-type', '')!r}"
    case.judge(observe_http(r, behaviour=ok, note=note))


def _judge_without_upload_file(case, surface: str, parts: dict) -> None:
    """POST the multipart ``parts`` (no ``upload_file`` among them) with the valid key:
    FastAPI's validation body naming ``upload_file`` is expected."""
    r = case.http().post(
        VELMA_PATHS[surface], files=parts, headers={"X-API-Key": case.key("valid")}
    )
    ok, note = fastapi_422(r, "upload_file")
    case.judge(observe_http(r, behaviour=ok, note=note))


@pytest.mark.parametrize("surface", surface_params("missing-upload-file", REST))
def test_missing_upload_file(case, surface):
    """A multipart body whose file travels under another part name (``file``)."""
    _judge_without_upload_file(case, surface, {"file": case.fixture(clip_for(surface))})


@pytest.mark.parametrize("surface", surface_params("missing-upload-file", REST))
def test_missing_upload_file_fields_only(case, surface):
    """A multipart body holding only a form field, no file at all."""
    _judge_without_upload_file(case, surface, {"language": _FieldPart("en")})


class _FieldPart:
    """A multipart part without a filename (a plain form field sent as multipart)."""

    def __init__(self, value: str) -> None:
        self.filename = None
        self.path = None
        self.content_type = "text/plain"
        self._value = value.encode()
        self.size = len(self._value)

    def open(self) -> bytes:
        return self._value


# --------------------------------------------------------------------------- bad values

_GARBAGE = st.text(
    alphabet=st.characters(min_codepoint=33, max_codepoint=126), min_size=1, max_size=8
).filter(lambda s: s.strip().lower() not in _BOOL_WORDS)
_FLAGS = {
    "stt-batch": ("speaker_diarization", "emotion_signal", "deepfake_signal", "pii_phi_tagging"),
    "pii-batch": ("speaker_diarization",),
}


@pytest.mark.parametrize("surface", surface_params("bad-value", ("stt-batch", "pii-batch")))
def test_bad_boolean(case, surface):
    """A flag that is not a boolean (hypothesis picks garbage words) is refused."""

    @settings(max_examples=5, deadline=None, database=None)
    @given(flag=st.sampled_from(_FLAGS[surface]), value=_GARBAGE)
    def probe(flag, value):
        r = case.upload(surface, case.fixture(SHORT), fields={flag: value})
        ok, note = fastapi_422(r)
        case.judge(observe_http(r, behaviour=ok, note=f"{flag}={value!r}: {note}"))

    probe()


@pytest.mark.clause("pii-batch/bad-value")
@pytest.mark.parametrize("value", ["ten", "1.5"])
def test_pii_bad_padding_value(case, value):
    r = case.upload(
        "pii-batch",
        case.fixture(SHORT),
        fields={"start_redaction_padding_ms": value},
        audio_seconds=0.5,
    )
    ok, note = fastapi_422(r)
    case.judge(observe_http(r, behaviour=ok, note=note))


@pytest.mark.parametrize("surface", surface_params("bad-value", ("vfast-batch", "svd-batch")))
def test_bad_value_info(case, surface):
    """No field of these surfaces is documented; a malformed flag is recorded (INFO)."""
    r = case.upload(
        surface,
        case.fixture(clip_for(surface) if surface == "vfast-batch" else SHORT),
        fields={"speaker_diarization": "maybe"},
        audio_seconds=2.0,
    )
    ok, note = fastapi_422(r)
    case.judge(observe_http(r, behaviour=ok, note=note))


@pytest.mark.clause("pii-batch/padding-negative")
@pytest.mark.parametrize("field", ["start_redaction_padding_ms", "end_redaction_padding_ms"])
def test_pii_padding_negative(case, field):
    r = case.upload("pii-batch", case.fixture(SHORT), fields={field: "-100"}, audio_seconds=0.5)
    ok, note = fastapi_422(r)
    case.judge(observe_http(r, behaviour=ok, note=note))


# --------------------------------------------------------------------------- defaults


@pytest.mark.clause("stt-batch/speaker-diarization-default")
def test_stt_diarization_default(case):
    r = _stt(case)
    ok, note = speakers_consistent(
        _utts(r), case.fixture_entry(SPEAKERS).segments or (), distinct=False
    )
    case.judge(observe_http(r, behaviour=ok, note=note))


@pytest.mark.clause("pii-batch/speaker-diarization-default")
def test_pii_diarization_default(case):
    r = case.upload("pii-batch", case.fixture(SPEAKERS), audio_seconds=8.0)
    ok, note = speakers_consistent(
        _pii_utts(r), case.fixture_entry(SPEAKERS).segments or (), distinct=False
    )
    case.judge(observe_http(r, behaviour=ok, note=note))


@pytest.mark.parametrize("surface", surface_params("speaker-distinct", ("stt-batch", "pii-batch")))
def test_speaker_distinct(case, surface):
    """Two voices, two numbers: a recommendation (the spec's numbers are an example)."""
    if surface == "stt-batch":
        r = _stt(case, {"speaker_diarization": "true"})
        utts = _utts(r)
    else:
        r = case.upload("pii-batch", case.fixture(SPEAKERS), audio_seconds=8.0)
        utts = _pii_utts(r)
    ok, note = speakers_consistent(utts, case.fixture_entry(SPEAKERS).segments or (), distinct=True)
    case.judge(observe_http(r, behaviour=ok, note=note))


@pytest.mark.clause("stt-batch/speaker-numbering")
def test_stt_speaker_numbering(case):
    r = _stt(case, {"speaker_diarization": "true"})
    ok, note = speakers_consistent(
        _utts(r), case.fixture_entry(SPEAKERS).segments or (), distinct=False
    )
    case.judge(observe_http(r, behaviour=ok, note=note))


# signal -> (utterance key, request field)
SIGNALS = {
    "emotion": ("emotion", "emotion_signal"),
    "accent": ("accent", "accent_signal"),
    "deepfake": ("deepfake_score", "deepfake_signal"),
}


def _per_signal(suffix: str, names: tuple[str, ...]) -> list[object]:
    """(key, field) params, one per signal, marked with ``stt-batch/<signal><suffix>``."""
    mark = pytest.mark.clause
    return [pytest.param(*SIGNALS[n], marks=mark(f"stt-batch/{n}{suffix}"), id=n) for n in names]


@pytest.mark.parametrize(("key", "field"), _per_signal("-signal-default", tuple(SIGNALS)))
def test_stt_signal_defaults(case, key, field):
    """Signals left out are off: every utterance carries the key, set to null."""
    r = _stt(case, fixture_id=CLIP)
    utts = _utts(r)
    ok = bool(utts) and all(key in u and u[key] is None for u in utts)
    case.judge(observe_http(r, behaviour=ok, note=f"{key}: {[u.get(key) for u in utts]}"))


@pytest.mark.clause("stt-batch/pii-phi-tagging-default")
def test_stt_pii_tagging_default(case):
    r = _stt(case)
    body = json_body(r) if r.status_code == 200 else None
    texts = [u.get("text", "") for u in _utts(r)] + [
        body.get("text", "") if isinstance(body, dict) else ""
    ]
    tagged = [t for t in texts if isinstance(t, str) and pii_markup(t)]
    ok = bool(_utts(r)) and not tagged
    case.judge(observe_http(r, behaviour=ok, note=f"tagged texts: {tagged[:2]}"))


# --------------------------------------------------------------------------- signals on


def _labels(case) -> set[str]:
    """The documented labels, read from the clause's own outcome text."""
    text = case.clause.outcomes[0].behaviour or ""
    return {w.strip() for w in text.split(" in ", 1)[-1].split(",")}


@pytest.mark.parametrize(("key", "field"), _per_signal("-signal", ("emotion", "accent")))
def test_stt_signal_on(case, key, field):
    r = _stt(case, {field: "true"}, fixture_id=CLIP)
    utts = _utts(r)
    ok = bool(utts) and all(isinstance(u.get(key), str) and u[key] for u in utts)
    case.judge(observe_http(r, behaviour=ok, note=f"{key}: {[u.get(key) for u in utts]}"))


@pytest.mark.parametrize(("key", "field"), _per_signal("-labels", ("emotion", "accent")))
def test_stt_signal_labels(case, key, field):
    r = _stt(case, {field: "true"})
    labels = _labels(case)
    seen = [u.get(key) for u in _utts(r)]
    ok = bool(seen) and all(v in labels for v in seen)
    case.judge(observe_http(r, behaviour=ok, note=f"{key} labels: {seen}"))


@pytest.mark.clause("stt-batch/deepfake-signal")
def test_stt_deepfake_signal(case):
    r = _stt(case, {"deepfake_signal": "true"})
    utts = _utts(r)
    bad = []
    for u in utts:
        score = u.get("deepfake_score")
        long_enough = isinstance(u.get("duration_ms"), int) and u["duration_ms"] >= 500
        if score is None and not long_enough:
            continue  # too short to score: null is documented
        if not (is_num(score) and 0.0 <= score <= 1.0):
            bad.append(score)
    ok = bool(utts) and not bad
    case.judge(
        observe_http(r, behaviour=ok, note=f"scores: {[u.get('deepfake_score') for u in utts]}")
    )


_XML_TAG = re.compile(r"<([A-Za-z][\w:.-]*)[^<>]*>([^<>]+)</\1>")


@pytest.mark.clause("stt-batch/pii-phi-tagging")
def test_stt_pii_tagging(case):
    """Tagging, not redaction: tags enclose words, and without the tags the words match."""
    plain = _stt(case, {"pii_phi_tagging": "false"})
    tagged = _stt(case, {"pii_phi_tagging": "true"})
    a, b = json_body(plain), json_body(tagged)
    if tagged.status_code != 200 or not isinstance(b, dict) or not isinstance(a, dict):
        case.judge(observe_http(tagged, behaviour=False, note="no JSON result"))
        return
    text = str(b.get("text", ""))
    spans = _XML_TAG.findall(text)
    same = strip_tags(text) == strip_tags(str(a.get("text", "")))
    ok = bool(spans) and all(inner.strip() for _, inner in spans) and same
    note = f"tags {spans[:3]}; words kept: {same}"
    case.judge(observe_http(tagged, behaviour=ok, note=note))


# --------------------------------------------------------------------------- language

HINTS = ("en", "EN", "en-US", "en_US")
_VALID_LANG = st.from_regex(r"\A[A-Za-z]{2,3}([-_][A-Za-z0-9]{1,4}){0,2}\Z")


@pytest.mark.parametrize("surface", surface_params("language-hint", ("stt-batch", "pii-batch")))
def test_language_hint(case, surface):
    """``en``, ``EN``, ``en-US`` (and ``en_US``) are the same hint; hypothesis adds more."""
    langs: dict[str, object] = {}
    notes: list[str] = []

    def send(lang: str):
        r = case.upload(surface, case.fixture(CLIP), fields={"language": lang}, audio_seconds=2.0)
        utts = _pii_utts(r) if surface == "pii-batch" else _utts(r)
        langs[lang] = tuple(u.get("language") for u in utts) if r.status_code == 200 else None
        notes.append(f"{lang}: HTTP {r.status_code}")
        return r

    last = None
    for lang in HINTS if surface == "stt-batch" else HINTS[:3]:
        last = send(lang)

    @settings(max_examples=3, deadline=None, database=None)
    @given(lang=_VALID_LANG)
    def more(lang):
        send(lang)

    more()
    hinted = [langs[h] for h in langs if h in HINTS]
    ok = all(v is not None for v in langs.values()) and len(set(hinted)) == 1
    case.judge(
        observe_http(last, behaviour=ok, note="; ".join(notes) + f"; languages {hinted[:1]}")
    )


@pytest.mark.parametrize("surface", surface_params("invalid-language", ("stt-batch", "pii-batch")))
def test_invalid_language(case, surface):
    """``english`` is judged by the catalog; other invalid values must get the same status.

    The documented text is an example (judged as wording on ``english``), so the other
    values' texts are not compared."""
    r = case.upload(surface, case.fixture(SHORT), fields={"language": "english"}, audio_seconds=0.5)
    case.judge(observe_http(r))
    for value in ("e", "en US", "12", "en-"):
        other = case.upload(surface, case.fixture(SHORT), fields={"language": value})
        got = observe_http(other).detail
        assert other.status_code == r.status_code, (
            f"language={value!r}: HTTP {other.status_code} {got!r}, not like 'english' "
            f"(HTTP {r.status_code})"
        )


@pytest.mark.clause("stt-batch/code-switching")
def test_code_switching(case):
    """Needs a fixture with English then French speech (tag ``code-switching``)."""
    entries = case.hs.manifest.with_tag("code-switching")
    if not entries:
        not_tested("other", "the fixture manifest has no bilingual (English then French) speech")
    entry = entries[0]
    r = _stt(case, fixture_id=entry.id)
    langs = [u.get("language") for u in _utts(r)]
    ok = "en" in langs and "fr" in langs and langs.index("en") < langs.index("fr")
    case.judge(observe_http(r, behaviour=ok, note=f"languages {langs}"))


# --------------------------------------------------------------------------- config


@pytest.mark.clause("stt-batch/config-override")
def test_config_override(case):
    on = json.dumps({"emotion_signal": True})
    over = _stt(case, {"emotion_signal": "false", "config": on}, CLIP)
    empty = _stt(case, {"emotion_signal": "false", "config": "{}"}, CLIP)
    kept = _stt(case, {"emotion_signal": "true", "config": "{}"}, CLIP)

    def labelled(r) -> bool | None:
        utts = _utts(r)
        if not utts:
            return None
        return all(isinstance(u.get("emotion"), str) for u in utts)

    seen = (labelled(over), labelled(empty), labelled(kept))
    ok = seen == (True, False, True)
    note = f"labels with config true / config {{}} on false / config {{}} on true: {seen}"
    case.judge(observe_http(over, behaviour=ok, note=note))


@pytest.mark.clause("stt-batch/invalid-config")
@pytest.mark.parametrize(
    "config",
    [
        "{not json",
        "[]",
        '"text"',
        json.dumps({"emotion_signal": "maybe"}),
        json.dumps({"custom_terms": "Velma"}),
    ],
    ids=["not-json", "array", "string", "bad-flag-type", "terms-not-list"],
)
def test_invalid_config(case, config):
    r = case.upload("stt-batch", case.fixture(SHORT), fields={"config": config}, audio_seconds=0.5)
    case.judge(observe_http(r))


@pytest.mark.clause("stt-batch/custom-terms")
def test_custom_terms(case):
    terms = [
        "Velma",
        "",
        "  ",
        {
            "term": "Modulate",
            "definition": "a voice-AI company",
            "pronunciations": ["MOD-yoo-late", ""],
        },
        {"term": "ToxMod"},
        {"term": "KugelAudio", "pronunciations": []},
    ]
    r = _stt(case, {"config": json.dumps({"custom_terms": terms})}, CLIP)
    ok = r.status_code == 200 and isinstance(json_body(r), dict)
    case.judge(observe_http(r, behaviour=ok, note="strings, objects and blanks"))


_TOO_MANY = [f"term{i}" for i in range(1001)]


@pytest.mark.clause("stt-batch/custom-terms-limits")
@pytest.mark.parametrize(
    "terms",
    [
        _TOO_MANY,
        ["x" * 4000, "y" * 4000],
        [{"term": "Velma", "definition": "d" * 257}],
        [{"term": "Velma", "pronunciations": ["vel-ma"] * 17}],
        [{"term": "Velma", "pronunciations": ["v" * 129]}],
        [{"term": "Velma", "pronunciations": ["vélma"]}],
    ],
    ids=[
        "1001-entries",
        "8000-chars",
        "definition-257",
        "17-pronunciations",
        "pronunciation-129",
        "non-ascii",
    ],
)
def test_custom_terms_limits(case, terms):
    r = case.upload(
        "stt-batch",
        case.fixture(SHORT),
        fields={"config": json.dumps({"custom_terms": terms})},
        audio_seconds=0.5,
    )
    ok, note = fastapi_422(r)
    case.judge(observe_http(r, behaviour=ok, note=note))
