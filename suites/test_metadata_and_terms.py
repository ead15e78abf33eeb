"""Metadata-only MP3 on deepfake batch, and empty custom terms on STT batch."""

from __future__ import annotations

import json

import pytest

from harness.checks import observe_http


@pytest.mark.clause("svd-batch/metadata-only")
@pytest.mark.parametrize("fixture_id", ["tags-only-mp3"])
def test_svd_metadata_only_id3(case, fixture_id):
    """An .mp3 holding only an ID3 tag: metadata, no samples (disputed #9)."""
    r = case.upload("svd-batch", case.fixture(fixture_id))
    case.judge(observe_http(r))


@pytest.mark.clause("stt-batch/custom-terms")
def test_custom_terms_empty_object_term(case):
    """Blank plain-string terms and blank pronunciations are dropped without an error.

    (An object whose `term` is empty is not "blank": the CustomTerm schema gives `term` a
    minimum length of 1, so that one is an invalid configuration; see *-limits.)
    """
    terms = ["Velma", "", "   ", {"term": "Modulate", "pronunciations": ["", "MOD-you-late"]}]
    r = case.upload(
        "stt-batch",
        case.fixture("clip-wav-16000-1ch-0.5s"),
        fields={"config": json.dumps({"custom_terms": terms})},
        audio_seconds=0.5,
    )
    ok = r.status_code == 200
    case.judge(observe_http(r, behaviour=ok, note="blank string terms and a blank pronunciation"))
