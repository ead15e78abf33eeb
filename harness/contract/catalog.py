"""The catalog: look-ups over every clause, and its own consistency checks."""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import cache
from types import MappingProxyType

from .clauses import ALL_CLAUSES
from .model import Clause, Surface, Tier

ID_PATTERN = re.compile(r"^[a-z0-9-]+/[a-z0-9][a-z0-9.-]*$")


class UnknownClauseError(KeyError):
    """Raised for a clause ID the catalog does not hold."""

    def __init__(self, clause_id: str, suggestions: Iterable[str] = ()) -> None:
        self.clause_id = clause_id
        self.suggestions = tuple(suggestions)
        hint = f" Did you mean: {', '.join(self.suggestions)}?" if self.suggestions else ""
        super().__init__(f"no clause {clause_id!r} in the catalog.{hint}")

    def __str__(self) -> str:  # KeyError quotes its argument; we want the sentence
        return str(self.args[0])


@cache
def _index() -> MappingProxyType[str, Clause]:
    return MappingProxyType({c.id: c for c in ALL_CLAUSES})


def all_clauses() -> tuple[Clause, ...]:
    return ALL_CLAUSES


def get(clause_id: str) -> Clause:
    try:
        return _index()[clause_id]
    except KeyError:
        import difflib

        close = difflib.get_close_matches(clause_id, _index().keys(), n=3, cutoff=0.6)
        raise UnknownClauseError(clause_id, close) from None


def ids() -> frozenset[str]:
    return frozenset(_index())


def by_surface(surface: Surface | str) -> tuple[Clause, ...]:
    s = Surface(surface)
    return tuple(c for c in ALL_CLAUSES if c.surface == s)


def disputed() -> tuple[Clause, ...]:
    return tuple(c for c in ALL_CLAUSES if c.disputed)


def problems(clauses: Iterable[Clause] = ALL_CLAUSES) -> list[str]:
    """Everything wrong with the catalog's own data (empty when sound)."""
    found: list[str] = []
    seen: set[str] = set()
    for c in clauses:
        where = f"clause {c.id!r}"
        if c.id in seen:
            found.append(f"{where}: duplicate ID")
        seen.add(c.id)
        if not ID_PATTERN.match(c.id):
            found.append(f"{where}: ID must look like 'surface/slug' in lower case")
        elif not c.id.startswith(c.surface.value + "/"):
            found.append(f"{where}: ID must start with its surface {c.surface.value!r}")
        if not c.requirement.strip():
            found.append(f"{where}: empty requirement")
        if not c.sources:
            found.append(f"{where}: no source")
        if not isinstance(c.tier, Tier):
            found.append(f"{where}: tier must be a Tier")
        if c.alternatives:
            keys = [a.key for a in c.alternatives]
            if len(keys) < 2:
                found.append(f"{where}: a disputed clause needs at least two alternatives")
            if len(set(keys)) != len(keys):
                found.append(f"{where}: duplicate alternative keys {keys}")
            if c.preferred not in keys:
                found.append(f"{where}: preferred {c.preferred!r} is not one of {keys}")
            if not c.rationale:
                found.append(f"{where}: disputed clause without a rationale")
            if c.outcomes:
                found.append(f"{where}: disputed clause keeps outcomes on its alternatives only")
            for a in c.alternatives:
                if not a.outcomes:
                    found.append(f"{where}: alternative {a.key!r} has no outcomes")
                if not a.sources:
                    found.append(f"{where}: alternative {a.key!r} has no source")
                if a.spec_literal and not any(s.document.startswith("specs/") for s in a.sources):
                    found.append(f"{where}: spec-literal side {a.key!r} cites no spec file")
            if sum(a.spec_literal for a in c.alternatives) > 1:
                found.append(f"{where}: more than one spec-literal side")
        else:
            if not c.outcomes:
                found.append(f"{where}: no acceptable outcome")
            if c.preferred or c.rationale:
                found.append(f"{where}: preferred/rationale without alternatives")
        found += _tier_problems(c, where)
    return found


MESSAGE_TYPE = re.compile(r"^[a-z][a-z_]*$")


def _tier_problems(c: Clause, where: str) -> list[str]:
    """The tier rule: codes may be MUST, wording only where a sentence promises the text."""
    found: list[str] = []
    outcomes = c.outcomes + tuple(o for a in c.alternatives for o in a.outcomes)
    if not isinstance(c.wording, Tier):
        found.append(f"{where}: wording must be a Tier")
    elif c.wording is Tier.MUST and c.wording_source is None:
        found.append(
            f"{where}: wording MUST needs wording_source (the sentence promising the exact text)"
        )
    elif c.wording_source is not None and c.wording is not Tier.MUST:
        found.append(f"{where}: wording_source given but wording is {c.wording.value}, not MUST")
    texts = any(o.detail is not None for o in outcomes)
    if c.surface.vendor == "kugelaudio" and texts and c.wording is not Tier.INFO:
        found.append(
            f"{where}: KugelAudio `error` text is display-only; wording must be INFO, "
            f"not {c.wording.value}"
        )
    for o in outcomes:
        if o.message is not None and not MESSAGE_TYPE.match(o.message):
            found.append(
                f"{where}: outcome message {o.message!r} is not a message type; "
                "error text belongs in `detail`"
            )
    return found
