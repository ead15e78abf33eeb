"""Verdicts: tiers, disputed clauses and the side a target chose."""

from __future__ import annotations

import numpy as np
import pytest

from harness.checks import Observation, judge, matches, observe_ws, worst
from harness.client.ws import WsResult
from harness.contract import Alternative, Clause, Outcome, Source, Surface, Tier

SRC = (Source("seeds/x.txt", "s"),)


def _clause(tier: Tier = Tier.MUST, **kw) -> Clause:
    base = dict(id="svd-batch/x", surface=Surface.SVD_BATCH, requirement="r", sources=SRC, tier=tier,
                outcomes=(Outcome(status=422, detail="too short"),))  # fmt: skip
    base.update(kw)
    return Clause(**base)


def _disputed(tier: Tier = Tier.MUST) -> Clause:
    return _clause(
        tier,
        outcomes=(),
        alternatives=(
            Alternative("429", "a", SRC, (Outcome(status=429),)),
            Alternative("403", "b", SRC, (Outcome(status=403),)),
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
    assert v.expected == ("HTTP 422, detail='too short'",) and "HTTP 400" in v.actual


def test_detail_must_match_exactly():
    assert judge(_clause(), Observation(status=422, detail="Too short")).outcome == "failed"


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
    c = _clause(outcomes=(Outcome(status=200, behaviour="frames ordered"),))
    assert judge(c, Observation(status=200)).outcome == "failed"
    assert judge(c, Observation(status=200, behaviour=False)).outcome == "failed"
    assert judge(c, Observation(status=200, behaviour=np.bool_(True))).outcome == "passed"


def test_a_case_can_name_the_side_when_sides_differ_only_in_behaviour():
    same = (Outcome(message="utterance", behaviour="x"),)
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
    r = WsResult(url="ws://x", messages=[{"type": "error", "error": "bad"}, {"type": "frame"}],
                 order=["json:error", "json:frame"], close_code=4002, closed_by="server")  # fmt: skip
    o = Outcome(close_code=4002, message="error")
    assert not matches(o, observe_ws(r))
    r.order = ["json:frame", "json:error"]
    assert matches(o, observe_ws(r))


def test_worst_orders_outcomes():
    assert worst(["passed", "informational", "non-strict"]) == "non-strict"
    assert worst(["passed", "error", "failed"]) == "failed"
    assert worst([]) == "passed"
