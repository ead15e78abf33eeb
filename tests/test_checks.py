"""Verdicts: tiers, disputed clauses and the side a target chose."""

from __future__ import annotations

import numpy as np
import pytest

from harness.checks import (
    Observation,
    SocketReading,
    judge,
    judge_all,
    matches,
    observe_http,
    observe_ws,
    worst,
)
from harness.client.ws import WsResult
from harness.contract import Acceptable, Alternative, Clause, Source, Surface, Tier

SRC = (Source("seeds/x.txt", "s"),)


def _clause(tier: Tier = Tier.MUST, **kw) -> Clause:
    base = dict(
        id="svd-batch/x",
        surface=Surface.SVD_BATCH,
        requirement="r",
        sources=SRC,
        tier=tier,
        outcomes=(Acceptable(status=422, detail="too short"),),
    )
    base.update(kw)
    return Clause(**base)


def _disputed(tier: Tier = Tier.MUST) -> Clause:
    return _clause(
        tier,
        outcomes=(),
        alternatives=(
            Alternative("429", "a", SRC, (Acceptable(status=429),)),
            Alternative("403", "b", SRC, (Acceptable(status=403),)),
        ),
        preferred="403",
        rationale="why",
        contradiction=2,
    )


@pytest.mark.parametrize(
    ("tier", "miss"),
    [(Tier.MUST, "failed"), (Tier.SHOULD, "non-strict"), (Tier.INFO, "informational")],
)
def test_plain_clause_outcome_follows_the_tier(tier, miss):
    c = _clause(tier)
    assert judge(c, Observation(status=422, detail="too short")).outcome == (
        "informational" if tier is Tier.INFO else "passed"
    )
    v = judge(c, Observation(status=400, detail="too short"))
    assert v.outcome == miss
    assert v.expected == ("HTTP 422",) and "HTTP 400" in v.actual


def _kugel(**kw) -> Clause:
    return _clause(
        id="kugel-http/x",
        surface=Surface.KUGEL_HTTP,
        wording=Tier.INFO,
        outcomes=(Acceptable(status=404, error_code="NOT_FOUND", detail="Voice not found"),),
        **kw,
    )


def _aspects(verdicts) -> dict[str, str]:
    return {v.aspect: v.outcome for v in verdicts}


def test_reworded_detail_with_the_right_status_is_a_wording_non_strict():
    c = _clause()
    assert judge(c, Observation(status=422, detail="Too short")).outcome == "passed"
    vs = judge_all(c, Observation(status=422, detail="Too short"))
    assert _aspects(vs) == {"data": "passed", "wording": "non-strict"}
    w = vs[1]
    assert w.clause == c.id and w.expected == ("'too short'",) and w.actual == "'Too short'"
    assert "differs from the documented example" in w.message and c.id in w.message
    assert worst([v.outcome for v in vs]) == "non-strict"


def test_wrong_status_fails_and_the_wording_is_not_judged():
    vs = judge_all(_clause(), Observation(status=400, detail="too short"))
    assert _aspects(vs) == {"data": "failed"}


def test_matching_text_passes_both_aspects():
    vs = judge_all(_clause(), Observation(status=422, detail="too short"))
    assert _aspects(vs) == {"data": "passed", "wording": "passed"}


def test_missing_text_is_a_wording_miss_not_a_failure():
    vs = judge_all(_clause(), Observation(status=422))
    assert _aspects(vs) == {"data": "passed", "wording": "non-strict"}
    assert vs[1].actual == "no error text"


def test_kugel_display_text_is_informational():
    seen = Observation(status=404, error_code="NOT_FOUND", detail="No such voice")
    assert _aspects(judge_all(_kugel(), seen)) == {"data": "passed", "wording": "informational"}
    wrong_code = Observation(status=404, error_code="MISSING", detail="Voice not found")
    assert _aspects(judge_all(_kugel(), wrong_code)) == {"data": "failed"}
    same = Observation(status=404, error_code="NOT_FOUND", detail="Voice not found")
    assert _aspects(judge_all(_kugel(), same)) == {"data": "passed", "wording": "passed"}


def test_wording_is_must_only_with_a_source_and_never_above_the_clause():
    seen = Observation(status=422, detail="Too short")
    unsourced = _clause(wording=Tier.MUST)
    assert _aspects(judge_all(unsourced, seen))["wording"] == "non-strict"
    sourced = _clause(wording=Tier.MUST, wording_source=SRC[0])
    vs = judge_all(sourced, seen)
    assert _aspects(vs)["wording"] == "failed" and str(SRC[0]) in vs[1].message
    info = _clause(Tier.INFO)
    assert _aspects(judge_all(info, seen)) == {"data": "informational", "wording": "informational"}


def test_a_matched_outcome_without_text_leaves_the_wording_free():
    c = _clause(outcomes=(Acceptable(status=422, detail="too short"), Acceptable(status=422)))
    assert _aspects(judge_all(c, Observation(status=422, detail="anything"))) == {"data": "passed"}


def test_several_documented_texts_any_one_passes():
    c = _clause(outcomes=(Acceptable(status=403, detail="a"), Acceptable(status=403, detail="b")))
    assert _aspects(judge_all(c, Observation(status=403, detail="b")))["wording"] == "passed"
    w = judge_all(c, Observation(status=403, detail="c"))[1]
    assert w.outcome == "non-strict" and w.expected == ("'a'", "'b'")


def test_wording_aspect_follows_the_main_aspect():
    vs = judge_all(_clause(), Observation(status=422, detail="x"), aspect="close")
    assert [v.aspect for v in vs] == ["close", "close-wording"]


def test_disputed_wording_is_judged_on_the_side_chosen():
    c = _clause(
        outcomes=(),
        alternatives=(
            Alternative("429", "a", SRC, (Acceptable(status=429, detail="Insufficient credits."),)),
            Alternative("403", "b", SRC, (Acceptable(status=403, detail="monthly limit reached"),)),
        ),
        preferred="403",
        rationale="why",
    )
    vs = judge_all(c, Observation(status=429, detail="Out of credits"))
    assert _aspects(vs) == {"data": "non-strict", "wording": "non-strict"}
    assert vs[1].expected == ("'Insufficient credits.'",)
    assert _aspects(judge_all(c, Observation(status=403, detail="monthly limit reached"))) == {
        "data": "passed",
        "wording": "passed",
    }


def test_observe_http_puts_kugel_error_text_in_detail():
    import httpx

    body = {"error": "Voice not found", "error_code": "NOT_FOUND", "code": 404}
    obs = observe_http(httpx.Response(404, json=body))
    assert (obs.status, obs.error_code, obs.detail) == (404, "NOT_FOUND", "Voice not found")
    assert obs.messages == frozenset()
    modulate = observe_http(httpx.Response(400, json={"detail": "The uploaded file is empty."}))
    assert modulate.detail == "The uploaded file is empty."


def test_kugel_error_text_is_detail_not_a_message_type():
    r = WsResult(
        url="ws://x",
        messages=[{"type": "error", "error": "Voice not found", "error_code": "NOT_FOUND"}],
        order=["json:error"],
        close_code=4000,
        closed_by="server",
    )
    obs = observe_ws(r)
    assert obs.detail == "Voice not found" and "Voice not found" not in obs.messages


def test_disputed_clause_names_the_side_chosen():
    c = _disputed()
    v = judge(c, Observation(status=403))
    assert v.outcome == "passed" and v.alternative["chosen"] == "403"
    v = judge(c, Observation(status=429))
    assert v.outcome == "non-strict" and v.alternative["chosen"] == "429"
    assert judge(c, Observation(status=429), strict=True).outcome == "failed"
    assert judge(c, Observation(status=429), expect="429").outcome == "passed"
    v = judge(c, Observation(status=500))
    assert v.outcome == "failed" and v.alternative["chosen"] is None


def test_behaviour_outcomes_need_the_case_to_confirm():
    c = _clause(outcomes=(Acceptable(status=200, behaviour="frames ordered"),))
    assert judge(c, Observation(status=200)).outcome == "failed"
    assert judge(c, Observation(status=200, behaviour=False)).outcome == "failed"
    assert judge(c, Observation(status=200, behaviour=np.bool_(True))).outcome == "passed"


def test_a_case_can_name_the_side_when_sides_differ_only_in_behaviour():
    same = (Acceptable(message="utterance", behaviour="x"),)
    c = _clause(
        outcomes=(),
        alternatives=(Alternative("a", "a", SRC, same), Alternative("b", "b", SRC, same)),
        preferred="a",
        rationale="why",
    )
    seen = frozenset({"utterance"})
    assert judge(c, Observation(messages=seen, side="b")).alternative["chosen"] == "b"
    assert judge(c, Observation(messages=seen, side="b")).outcome == "non-strict"
    assert judge(c, Observation(messages=frozenset(), side="a")).outcome == "failed"
    with pytest.raises(ValueError, match="no documented side 'z'"):
        judge(c, Observation(messages=seen, side="z"))


def test_error_only_counts_when_it_comes_right_before_the_close():
    r = WsResult(
        url="ws://x",
        messages=[{"type": "error", "error": "bad"}, {"type": "frame"}],
        order=["json:error", "json:frame"],
        close_code=4002,
        closed_by="server",
    )
    o = Acceptable(close_code=4002, message="error")
    assert not matches(o, observe_ws(r))
    r.order = ["json:frame", "json:error"]
    assert matches(o, observe_ws(r))


def test_a_vendor_reading_names_kinds_and_errors_its_own_way():
    """The hook of observe_ws: kinds by marker, the refusal body as the error, no
    before-the-close rule, and the session described when no note is given."""
    reading = SocketReading(
        kinds=lambda r: ["error" if "error_code" in m else "audio" for m in r.messages],
        error=lambda r: r.handshake_json,
        error_only_before_close=False,
        note_from_result=True,
    )
    refused = WsResult(
        url="ws://x",
        handshake_status=401,
        handshake_body=b'{"error": "Unauthorized", "error_code": "UNAUTHORIZED"}',
    )
    obs = observe_ws(refused, reading=reading)
    assert (obs.status, obs.detail, obs.error_code) == (401, "Unauthorized", "UNAUTHORIZED")
    assert obs.note == "handshake refused with HTTP 401"
    assert observe_ws(refused).detail is None  # Velma-2's reading: messages only
    framed = WsResult(
        url="ws://x",
        messages=[{"error_code": "X", "error": "e"}, {"audio": ""}],
        order=["json:None", "json:None"],
        close_code=4500,
    )
    assert observe_ws(framed, reading=reading).messages == {"error", "audio"}
    assert WsResult(url="ws://x", handshake_body=b"<html>").handshake_json is None


def test_worst_orders_outcomes():
    assert worst(["passed", "informational", "non-strict"]) == "non-strict"
    assert worst(["passed", "error", "failed"]) == "failed"
    assert worst([]) == "passed"
