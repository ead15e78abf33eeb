"""A bounded fuzz run: malformed multipart bodies and random form fields never give a 500."""

from __future__ import annotations

import httpx
from hypothesis import given
from hypothesis import strategies as st
from test_emulator_helpers import SURFACES, VALID, fuzz_settings, post

from harness.contract import tables as T

FIELD_NAMES = (
    "speaker_diarization",
    "emotion_signal",
    "language",
    "config",
    "start_redaction_padding_ms",
    "end_redaction_padding_ms",
    "upload_file",
    "x",
)
FUZZ = fuzz_settings(40)


@FUZZ
@given(
    surface=st.sampled_from(SURFACES),
    boundary=st.text(st.characters(min_codepoint=33, max_codepoint=126), min_size=0, max_size=20),
    body=st.binary(max_size=600),
)
def test_malformed_multipart_never_500(emu, surface, boundary, body):
    url = emu.base_url + T.VELMA_PATHS[surface]
    headers = {"X-API-Key": VALID, "Content-Type": f"multipart/form-data; boundary={boundary}"}
    r = httpx.post(url, content=body, headers=headers, timeout=10)
    assert r.status_code < 500, r.text
    assert isinstance(r.json()["detail"], str | list)


@FUZZ
@given(
    surface=st.sampled_from(SURFACES),
    fields=st.dictionaries(st.sampled_from(FIELD_NAMES), st.text(max_size=30), max_size=4),
    filename=st.sampled_from(["a.wav", "a.WAV", "a", ".wav", "a.mp3", "a.wav.txt", "ä.flac"]),
)
def test_random_form_fields_never_500(emu, clip, surface, fields, filename):
    r = post(emu, surface, clip, filename=filename, fields=fields)
    assert r.status_code in (200, 400, 422), r.text


def test_server_keeps_serving_after_the_fuzz(emu, clip):
    assert post(emu, "stt-batch", clip).status_code == 200
