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

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field, replace
from typing import Any

from harness.client.evidence import exchange_of
from harness.contract import Acceptable, Clause, Tier
from harness.contract.model import describe_codes
from harness.outcomes import Outcome
from harness.outcomes import worst as _worst


def worst(outcomes: list[str]) -> Outcome:
    """The most severe verdict outcome (``passed`` for none)."""
    return _worst(outcomes) or Outcome.PASSED


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


def matches(outcome: Acceptable, obs: Observation, *, text: bool = False) -> bool:
    """Does the observation show this outcome? Unset outcome fields match anything.

    The error text (``Acceptable.detail``) is compared only with ``text=True``: verdicts judge
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
    outcome: Outcome
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


def _describe(outcomes: tuple[Acceptable, ...], prefix: str = "") -> tuple[str, ...]:
    return tuple(dict.fromkeys(f"{prefix}{o.describe(text=False)}" for o in outcomes))


def _judge(
    clause: Clause, obs: Observation, *, expect: str | None, strict: bool, aspect: str
) -> tuple[Verdict, tuple[Acceptable, ...]]:
    """The main verdict and the outcomes it matched (whose texts the wording is judged on)."""
    actual = obs.describe()
    if not clause.disputed:
        expected = _describe(clause.outcomes)
        matched = tuple(o for o in clause.outcomes if matches(o, obs))
        outcome = Outcome.PASSED if matched else _miss(clause.tier)
        if clause.tier is Tier.INFO:
            outcome = Outcome.INFORMATIONAL
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
    matched: tuple[Acceptable, ...] = ()
    if pick == wanted:
        outcome, msg = Outcome.PASSED, f"kept, on the expected side '{wanted}'"
    elif pick is not None:
        outcome = Outcome.FAILED if strict else Outcome.NON_STRICT
        msg = f"the target chose the documented side '{pick}', not the expected '{wanted}'"
    else:
        outcome = _miss(clause.tier)
        msg = "matches no documented side: " + "; ".join(
            f"{a.key}: {' or '.join(_describe(a.outcomes))}" for a in clause.alternatives
        )
    if pick is not None:
        matched = tuple(o for o in clause.alternative(pick).outcomes if matches(o, seen))
    if clause.tier is Tier.INFO:
        outcome = Outcome.INFORMATIONAL
    verdict = Verdict(clause.id, outcome, expected, actual, msg, alternative, aspect=aspect)
    return verdict, matched


def _judge_wording(
    clause: Clause, obs: Observation, matched: tuple[Acceptable, ...], aspect: str
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
        return Verdict(clause.id, Outcome.PASSED, expected, actual, msg, aspect=name)
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


def _miss(tier: Tier) -> Outcome:
    return {
        Tier.MUST: Outcome.FAILED,
        Tier.SHOULD: Outcome.NON_STRICT,
        Tier.INFO: Outcome.INFORMATIONAL,
    }[tier]


# --------------------------------------------------------------------------- observing


def observe_http(
    response: Any, *, behaviour: bool | None = None, note: str = "", side: str | None = None
) -> Observation:
    """An :class:`Observation` of an httpx response (Modulate or KugelAudio error bodies)."""
    body: Any = None
    if "json" in response.headers.get("content-type", ""):
        try:
            body = response.json()
        except ValueError:
            body = None
    detail, error_code = _error_fields(body, ("detail", "error"))  # Kugel: `error` is the text
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


@dataclass(frozen=True)
class SocketReading:
    """How one vendor's WebSocket messages are read: the hook of :func:`observe_ws`.

    ``kinds`` names the kind of every message a session received; ``error`` picks the
    error message (or refusal body) the observation reports, None for none. With
    ``error_only_before_close`` an ``error`` kind counts only when it came right before a
    close other than 1000 (Velma-2's rule); with ``note_from_result`` an observation given
    no note describes the session instead.
    """

    kinds: Callable[[Any], Iterable[str]]
    error: Callable[[Any], Mapping[str, Any] | None]
    error_only_before_close: bool = True
    note_from_result: bool = False


# Velma-2: every message has a `type`; the last `error` message carries the text.
VELMA_SOCKET = SocketReading(kinds=lambda r: r.types, error=lambda r: r.last_error)


def observe_ws(
    result: Any,
    *,
    behaviour: bool | None = None,
    note: str = "",
    side: str | None = None,
    reading: SocketReading = VELMA_SOCKET,
) -> Observation:
    """An :class:`Observation` of a recorded WebSocket session (``harness.client.WsResult``),
    its messages read the vendor's way (``reading``; Velma-2's by default)."""
    messages = set(reading.kinds(result))
    detail, error_code = _error_fields(reading.error(result), ("error",))
    if (
        reading.error_only_before_close
        and result.close_code not in (None, 1000)
        and not result.error_before_close
    ):
        messages.discard("error")  # an error that did not come right before the close
    return Observation(
        status=result.handshake_status,
        close_code=result.close_code,
        detail=detail,
        error_code=error_code,
        messages=frozenset(messages),
        behaviour=behaviour,
        note=note or (result.describe() if reading.note_from_result else ""),
        side=side,
        exchange=exchange_of(result),
    )


def _error_fields(body: Any, text_keys: tuple[str, ...]) -> tuple[str | None, str | None]:
    """(error text, error_code) of an error body: the first of ``text_keys`` holding text."""
    if not isinstance(body, Mapping):
        return None, None
    text = next((body[k] for k in text_keys if isinstance(body.get(k), str)), None)
    code = body.get("error_code")
    return text, code if isinstance(code, str) else None


def closed_at_once(result: Any) -> bool:
    """The upgrade succeeded and the server closed before sending any result."""
    return (
        result.handshake_status is None
        and result.closed_by == "server"
        and all(t == "error" for t in result.types)
        and not result.binary
    )
