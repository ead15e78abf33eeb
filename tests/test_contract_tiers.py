"""The tier rule: codes, fields and types may be MUST; wording only where a sentence promises it.

Every rule is checked on the catalog and shown to catch a deliberately broken clause.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from harness.contract import Acceptable, Clause, Source, Surface, Tier, all_clauses
from harness.contract.catalog import problems

SRC = (Source("seeds/x.txt", "s"),)


def _ok(**kw) -> Clause:
    base = dict(
        id="svd-batch/x",
        surface=Surface.SVD_BATCH,
        requirement="r",
        sources=SRC,
        tier=Tier.MUST,
        outcomes=(Acceptable(status=422, detail="too short"),),
    )
    base.update(kw)
    return Clause(**base)


def _kugel(**kw) -> Clause:
    base = dict(
        id="kugel-http/x",
        surface=Surface.KUGEL_HTTP,
        wording=Tier.INFO,
        outcomes=(Acceptable(status=404, error_code="NOT_FOUND", detail="Voice not found"),),
    )
    base.update(kw)
    return _ok(**base)


def test_the_sound_examples_are_sound():
    assert problems([_ok(), _kugel()]) == []


@pytest.mark.parametrize(
    ("broken", "says"),
    [
        (_ok(wording=Tier.MUST), "wording MUST needs wording_source"),
        (_ok(wording_source=SRC[0]), "wording_source given but wording is SHOULD"),
        (_kugel(wording=Tier.SHOULD), "display-only; wording must be INFO"),
        (_kugel(wording=Tier.MUST, wording_source=SRC[0]), "display-only; wording must be INFO"),
        (_ok(outcomes=(Acceptable(status=404, message="Voice not found"),)), "not a message type"),
    ],
)
def test_each_rule_catches_a_broken_clause(broken, says):
    found = problems([broken])
    assert any(says in p for p in found), found


def test_no_clause_claims_exact_wording_without_the_promising_sentence():
    for c in all_clauses():
        assert c.wording is not Tier.MUST or c.wording_source is not None, c.id


def test_every_kugel_clause_with_error_text_records_it_at_info_only():
    texts = [
        c
        for c in all_clauses()
        if c.surface.vendor == "kugelaudio"
        and any(o.detail for o in (*c.outcomes, *(o for a in c.alternatives for o in a.outcomes)))
    ]
    assert texts, "KugelAudio clauses carry their documented texts as wording"
    assert all(c.wording_tier is Tier.INFO for c in texts), [
        c.id for c in texts if c.wording_tier is not Tier.INFO
    ]


def test_wording_tier_never_exceeds_the_clause_tier():
    c = _ok(tier=Tier.SHOULD)
    assert c.wording_tier is Tier.SHOULD
    assert replace(c, tier=Tier.INFO).wording_tier is Tier.INFO
    assert _kugel().wording_tier is Tier.INFO


def test_outcome_messages_are_message_types_only():
    for c in all_clauses():
        for o in (*c.outcomes, *(o for a in c.alternatives for o in a.outcomes)):
            assert o.message is None or o.message.replace("_", "").isalpha(), (c.id, o.message)
            assert o.message is None or o.message.islower(), (c.id, o.message)


def test_main_verdict_expectation_leaves_text_out():
    o = Acceptable(status=403, detail="monthly limit reached")
    assert o.describe(text=False) == "HTTP 403"
    assert o.codes == Acceptable(status=403)
    assert "monthly limit reached" in o.describe()


def test_the_export_names_the_wording_tier():
    from harness.contract import get
    from harness.contract.export import clause_to_dict

    assert clause_to_dict(get("svd-batch/too-short"))["wording"] == "SHOULD"
    assert clause_to_dict(get("kugel-http/voice-not-found"))["wording"] == "INFO"
    sourced = clause_to_dict(_ok(wording=Tier.MUST, wording_source=SRC[0]))
    assert sourced["wording"] == "MUST" and sourced["wording_source"]["section"] == "s"
