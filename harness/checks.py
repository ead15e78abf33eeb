"""Judging what a target did against a clause.

A case observes the target (an :class:`Observation`: status, close code, error
text, message types, headers, and the case's own check of any behaviour the
clause describes in words) and asks :func:`judge_all` for its verdicts. The main
verdict (:func:`judge`) compares codes, fields and behaviour, follows the clause's
tier and, for a disputed clause, names the documented alternative the target chose:

- plain clause: shown an acceptable outcome -> ``passed``; otherwise ``failed``
  (MUST), ``non-strict`` (SHOULD);
- disputed clause: the expected side -> ``passed``; another documented side ->
  ``non-strict`` (``failed`` under ``strict``); no documented side -> as a plain miss;
- ``INFO`` clauses are always ``informational``: the behaviour is recorded, never failed.

The error text is judged apart, as a second verdict with aspect ``wording``, at the
clause's ``wording`` tier: the documents give texts as examples (SHOULD) or as display
text (INFO), so a reworded message with the right codes is never ``failed`` unless the
clause cites a sentence promising the exact text (``Clause.wording_source``).
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from typing import Any

from harness.client.evidence import exchange_of
from harness.contract import Clause, Outcome, Tier
from harness.contract.model import describe_codes

PASSED = "passed"
FAILED = "failed"
NON_STRICT = "non-strict"
INFORMATIONAL = "informational"
SKIPPED = "skipped"
ERROR = "error"
OUTCOMES = (PASSED, FAILED, NON_STRICT, INFORMATIONAL, SKIPPED, ERROR)
_SEVERITY = {PASSED: 0, SKIPPED: 0, INFORMATIONAL: 1, NON_STRICT: 2, FAILED: 4, ERROR: 3}


def worst(outcomes: list[str]) -> str:
    return max(outcomes, key=lambda o: _SEVERITY[o]) if outcomes else PASSED


@dataclass(frozen=True)
class Observation:
    """What the target did, in the terms clause outcomes use."""

    status: int | None = None
    close_code: int | None = None
    detail: str | None = None  # error text: Modulate `detail`/streaming `error`; Kugel `error`
    error_code: str | None = None  # KugelAudio `error_code`
    messages: frozenset[str] = frozenset()  # message types seen
    headers: frozenset[str] = frozenset()  # response header names, lower case
    behaviour: bool | None = None  # the case's own check of a clause's described behaviour
    note: str = ""  # what the behaviour check saw, for the report
    side: str | None = None  # for a disputed clause whose sides differ only in behaviour:
    # the documented side the case saw (its own checks decided); None when it saw none
    exchange: int | None = field(default=None, compare=False)  # the recorded exchange seen
    # (index in the case's recorder, see harness.client.evidence): the case's reproducer

    def __post_init__(self) -> None:  # numpy booleans and the like become plain bools
        if self.behaviour is not None and not isinstance(self.behaviour, bool):
            object.__setattr__(self, "behaviour", bool(self.behaviour))

    def describe(self) -> str:
        parts = describe_codes(self.status, self.close_code, self.error_code, self.detail)
        if self.messages:
            parts.append("messages: " + ", ".join(sorted(self.messages)))
        if self.note:
            parts.append(self.note)
        return "; ".join(parts) or "nothing observable"


def matches(outcome: Outcome, obs: Observation, *, text: bool = False) -> bool:
    """Does the observation show this outcome? Unset outcome fields match anything.

    The error text (``Outcome.detail``) is compared only with ``text=True``: verdicts judge
    codes, fields and behaviour first and the wording apart (see :func:`judge_all`).
    """
    if outcome.status is not None and outcome.status != obs.status:
        return False
    if outcome.close_code is not None and outcome.close_code != obs.close_code:
        return False
    if outcome.error_code is not None and outcome.error_code != obs.error_code:
        return False
    if text and outcome.detail is not None and outcome.detail != obs.detail:
        return False
    if outcome.message is not None and outcome.message not in obs.messages:
        return False
    if outcome.header is not None and outcome.header.lower() not in obs.headers:
        return False
    return not (outcome.behaviour is not None and obs.behaviour is not True)


@dataclass(frozen=True)
class Verdict:
    clause: str
    outcome: str
    expected: tuple[str, ...]
    actual: str
    message: str
    alternative: dict[str, Any] | None = None
    aspect: str = "data"  # "data"/"close" for streaming cases; "wording"/"<aspect>-wording"
    extra: dict[str, Any] = field(default_factory=dict)


def judge(
    clause: Clause,
    obs: Observation,
    *,
    expect: str | None = None,
    strict: bool = False,
    aspect: str = "data",
) -> Verdict:
    """The main verdict for ``obs`` on ``clause`` (``expect``: the side the profile expects).

    Codes, fields and behaviour only; the error text is judged by :func:`judge_all`.
    """
    return _judge(clause, obs, expect=expect, strict=strict, aspect=aspect)[0]


def judge_all(
    clause: Clause,
    obs: Observation,
    *,
    expect: str | None = None,
    strict: bool = False,
    aspect: str = "data",
) -> list[Verdict]:
    """The main verdict, then (when the outcomes it matched document a text) the wording one.

    The wording verdict has aspect ``wording`` (``<aspect>-wording`` for another aspect than
    ``data``): ``passed`` when the observed text is one the matched outcomes give, otherwise
    ``non-strict`` (wording SHOULD), ``informational`` (INFO) or ``failed`` (MUST, allowed
    only with ``Clause.wording_source``).
    """
    main, matched = _judge(clause, obs, expect=expect, strict=strict, aspect=aspect)
    wording = _judge_wording(clause, obs, matched, aspect)
    return [main] if wording is None else [main, wording]


def wording_aspect(aspect: str = "data") -> str:
    return "wording" if aspect == "data" else f"{aspect}-wording"


def _describe(outcomes: tuple[Outcome, ...], prefix: str = "") -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{prefix}{o.describe(text=False)}" for o in outcomes))


def _judge(
    clause: Clause, obs: Observation, *, expect: str | None, strict: bool, aspect: str
) -> tuple[Verdict, tuple[Outcome, ...]]:
    """The main verdict and the outcomes it matched (whose texts the wording is judged on)."""
    actual = obs.describe()
    if not clause.disputed:
        expected = _describe(clause.outcomes)
        matched = tuple(o for o in clause.outcomes if matches(o, obs))
        outcome = PASSED if matched else _miss(clause.tier)
        if clause.tier is Tier.INFO:
            outcome = INFORMATIONAL
        msg = (
            "kept"
            if matched
            else f"{clause.tier.value} clause not kept: expected {' or '.join(expected)}"
        )
        return Verdict(clause.id, outcome, expected, actual, msg, aspect=aspect), matched

    wanted = expect or clause.preferred or clause.alternatives[0].key
    seen = obs
    if obs.side is not None:  # the case told the sides apart by their behaviour
        keys = [a.key for a in clause.alternatives]
        if obs.side not in keys:
            raise ValueError(f"{clause.id}: no documented side {obs.side!r} (sides: {keys})")
        seen = replace(obs, behaviour=True)
        side = clause.alternative(obs.side)
        chosen = [obs.side] if any(matches(o, seen) for o in side.outcomes) else []
    else:
        chosen = [a.key for a in clause.alternatives if any(matches(o, obs) for o in a.outcomes)]
    pick = wanted if wanted in chosen else (chosen[0] if chosen else None)
    expected = _describe(clause.alternative(wanted).outcomes, f"[{wanted}] ")
    alternative = {
        "contradiction": clause.contradiction,
        "expected": wanted,
        "chosen": pick,
        "alternatives": {a.key: a.summary for a in clause.alternatives},
    }
    matched: tuple[Outcome, ...] = ()
    if pick == wanted:
        outcome, msg = PASSED, f"kept, on the expected side '{wanted}'"
    elif pick is not None:
        outcome = FAILED if strict else NON_STRICT
        msg = f"the target chose the documented side '{pick}', not the expected '{wanted}'"
    else:
        outcome = _miss(clause.tier)
        msg = "matches no documented side: " + "; ".join(
            f"{a.key}: {' or '.join(_describe(a.outcomes))}" for a in clause.alternatives
        )
    if pick is not None:
        matched = tuple(o for o in clause.alternative(pick).outcomes if matches(o, seen))
    if clause.tier is Tier.INFO:
        outcome = INFORMATIONAL
    verdict = Verdict(clause.id, outcome, expected, actual, msg, alternative, aspect=aspect)
    return verdict, matched


def _judge_wording(
    clause: Clause, obs: Observation, matched: tuple[Outcome, ...], aspect: str
) -> Verdict | None:
    """The wording verdict, or None when no matched outcome pins a text."""
    if not matched or any(o.detail is None for o in matched):
        return None  # nothing matched, or a matching outcome leaves the text free
    documented = tuple(dict.fromkeys(o.detail for o in matched if o.detail is not None))
    tier = clause.wording_tier
    if tier is Tier.MUST and clause.wording_source is None:
        tier = Tier.SHOULD  # exact text is a promise only where a sentence says so
    actual = repr(obs.detail) if obs.detail is not None else "no error text"
    expected = tuple(repr(d) for d in documented)
    name = wording_aspect(aspect)
    if obs.detail in documented:
        msg = f"the error text is the documented one for {clause.id}"
        return Verdict(clause.id, PASSED, expected, actual, msg, aspect=name)
    why = {
        Tier.MUST: f"the text is promised by {clause.wording_source}",
        Tier.SHOULD: "the documents give it as an example",
        Tier.INFO: "the documents call it display text, not to be parsed",
    }[tier]
    msg = (
        f"{tier.value} wording: the error text differs from the documented example for "
        f"{clause.id} ({why}; the codes were judged separately)"
    )
    return Verdict(clause.id, _miss(tier), expected, actual, msg, aspect=name)


def _miss(tier: Tier) -> str:
    return {Tier.MUST: FAILED, Tier.SHOULD: NON_STRICT, Tier.INFO: INFORMATIONAL}[tier]


# --------------------------------------------------------------------------- observing


def observe_http(
    response: Any, *, behaviour: bool | None = None, note: str = "", side: str | None = None
) -> Observation:
    """An :class:`Observation` of an httpx response (Modulate or KugelAudio error bodies)."""
    detail: str | None = None
    error_code: str | None = None
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    if isinstance(body, dict):
        if isinstance(body.get("detail"), str):
            detail = body["detail"]
        if isinstance(body.get("error"), str) and detail is None:
            detail = body["error"]  # KugelAudio's error text
        if isinstance(body.get("error_code"), str):
            error_code = body["error_code"]
    return Observation(
        status=response.status_code,
        detail=detail,
        error_code=error_code,
        headers=frozenset(h.lower() for h in response.headers),
        behaviour=behaviour,
        note=note,
        side=side,
        exchange=exchange_of(response),
    )


def observe_ws(
    result: Any, *, behaviour: bool | None = None, note: str = "", side: str | None = None
) -> Observation:
    """An :class:`Observation` of a recorded WebSocket session (``harness.client.WsResult``)."""
    messages = set(result.types)
    err = result.last_error
    detail = None
    error_code = None
    if err is not None:
        text = err.get("error")
        if isinstance(text, str):
            detail = text
        if isinstance(err.get("error_code"), str):
            error_code = err["error_code"]
    if result.close_code not in (None, 1000) and not result.error_before_close:
        messages.discard("error")  # an error that did not come right before the close
    return Observation(
        status=result.handshake_status,
        close_code=result.close_code,
        detail=detail,
        error_code=error_code,
        messages=frozenset(messages),
        behaviour=behaviour,
        note=note,
        side=side,
        exchange=exchange_of(result),
    )


def closed_at_once(result: Any) -> bool:
    """The upgrade succeeded and the server closed before sending any result."""
    return (
        result.handshake_status is None
        and result.closed_by == "server"
        and all(t == "error" for t in result.types)
        and not result.binary
    )
