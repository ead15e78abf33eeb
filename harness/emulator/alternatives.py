"""Which side of each documented disagreement the emulator follows.

The catalog (``harness.contract``) lists, for every disputed clause, the
documented alternatives and the one the project prefers. The config's
``[alternatives]`` table maps a clause ID to an alternative key; every disputed
clause not named there follows its ``preferred`` side.

The emulator does not hard-code alternative keys. A surface asks for the
outcome of a :class:`Dispute` on its own surface, e.g.
``choices.outcome(CONCURRENCY, "svd-batch", "status")``, and gets the chosen
alternative's first outcome with that field set, or ``None`` when the catalog
holds no such clause (the caller then uses its built-in default).

A dispute is found by clause ID only (``<surface>/<slug>``, else ``velma/<slug>``),
never by its contradiction row: one row can hold several clauses on one surface
(row 6 is both ``svd-stream/concurrency-limit`` and ``svd-stream/monthly-quota``).

Two rules fill in what the config does not name, in this order:

- **Linked rows** (:data:`LINKED_ROWS`): every clause of such a row takes one side, because
  the emulator answers them from one place (row 15: KugelAudio's one validation layer).
  Naming one clause of the row selects that side for all of them; naming two with
  different sides is an error.
- **Presets** (``preset = "specs"``): every clause not named takes the side the published
  OpenAPI/AsyncAPI files take (``Alternative.spec_literal``), or its preferred side where
  no spec file takes one.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

from harness.contract import Acceptable, Alternative, Clause
from harness.contract.tables import REST_SURFACES, STREAM_SURFACES

_BATCH = frozenset(REST_SURFACES)
_STREAM = frozenset(STREAM_SURFACES)
_GROUP = "velma"


@dataclass(frozen=True)
class Dispute:
    """A documented disagreement the emulator acts on.

    Found in the catalog as the clause ``<surface>/<slug>`` (or ``velma/<slug>``).
    ``row`` is the contradiction it belongs to (``None``: a disputed clause outside the
    table), kept for documentation and checked by the tests; ``surfaces`` are where the
    disagreement exists at all.
    """

    slug: str
    row: int | None
    surfaces: frozenset[str]

    def clause_ids(self, surface: str) -> tuple[str, ...]:
        """The clause IDs this dispute is looked up under, most specific first."""
        return (f"{surface}/{self.slug}", f"{_GROUP}/{self.slug}")


CONCURRENCY = Dispute("concurrency-limit", 2, frozenset({"svd-batch"}))
QUOTA = Dispute("monthly-quota", 3, _BATCH)
SVD_BAD_KEY = Dispute("invalid-key", 4, frozenset({"svd-batch"}))
REST_BAD_KEY = Dispute("invalid-key", 17, _BATCH - {"svd-batch"})
REST_MISSING_KEY = Dispute("missing-key", 16, _BATCH)
VFAST_FORMATS = Dispute("container-formats", 7, frozenset({"vfast-batch"}))
EMPTY_FILE = Dispute("empty-file", 9, frozenset({"svd-batch"}))
METADATA_ONLY = Dispute("metadata-only", 9, frozenset({"svd-batch"}))
MAX_SIZE = Dispute("batch-max-size", 10, _BATCH)
REDACTION_TEXT = Dispute("redaction-text", 11, frozenset({"pii-batch"}))
UTTERANCE_TIMING = Dispute("utterance-timing", 12, frozenset({"stt-batch"}))
# For the streaming surfaces (used by their modules).
SVD_STREAM_INPUT = Dispute("container-input", 1, frozenset({"svd-stream"}))
STREAM_BAD_KEY = Dispute("invalid-key", 5, _STREAM)
STREAM_MISSING_KEY = Dispute("missing-key", 5, _STREAM)
STREAM_CONCURRENCY = Dispute("concurrency-limit", 6, frozenset({"svd-stream"}))
STREAM_QUOTA = Dispute("monthly-quota", 6, frozenset({"svd-stream"}))
SVD_MULTICHANNEL = Dispute("multichannel", None, frozenset({"svd-stream"}))
STREAM_UTTERANCE_TIMING = Dispute("utterance-timing", 12, frozenset({"stt-stream"}))
PII_STREAM_MARKERS = Dispute("redaction-markers", 11, frozenset({"pii-stream"}))
# KugelAudio (used by harness.emulator.kugel).
KUGEL_FORBIDDEN = Dispute("forbidden", 13, frozenset({"kugel-http"}))
KUGEL_WS_CREDITS = Dispute("insufficient-credits", 14, frozenset({"kugel-ws"}))
KUGEL_VALIDATION = Dispute("validation-failure", 15, frozenset({"kugel-http"}))
KUGEL_CODE_SET = Dispute("error-code-documented", 19, frozenset({"kugel"}))
# velma/host (row 18) has no Dispute: the host is the profile's configuration, which a
# loopback emulator cannot take.

ALL_DISPUTES: tuple[Dispute, ...] = (
    CONCURRENCY,
    QUOTA,
    SVD_BAD_KEY,
    REST_BAD_KEY,
    REST_MISSING_KEY,
    VFAST_FORMATS,
    EMPTY_FILE,
    METADATA_ONLY,
    MAX_SIZE,
    REDACTION_TEXT,
    UTTERANCE_TIMING,
    SVD_STREAM_INPUT,
    STREAM_BAD_KEY,
    STREAM_MISSING_KEY,
    STREAM_CONCURRENCY,
    STREAM_QUOTA,
    SVD_MULTICHANNEL,
    STREAM_UTTERANCE_TIMING,
    PII_STREAM_MARKERS,
    KUGEL_FORBIDDEN,
    KUGEL_WS_CREDITS,
    KUGEL_VALIDATION,
    KUGEL_CODE_SET,
)

# Rows whose clauses the emulator answers from one place, so they take one side together.
LINKED_ROWS: frozenset[int] = frozenset({15})
SPECS_PRESET = "specs"  # every clause on the side the published spec files take
PRESETS: tuple[str, ...] = (SPECS_PRESET,)


@dataclass(frozen=True)
class Choices:
    """The chosen alternative of every disputed clause, by clause ID."""

    chosen: Mapping[str, tuple[Clause, Alternative]] = field(
        default_factory=lambda: MappingProxyType({})
    )

    def key(self, clause_id: str) -> str | None:
        pair = self.chosen.get(clause_id)
        return pair[1].key if pair else None

    def alternative(self, dispute: Dispute, surface: str) -> Alternative | None:
        """The chosen side of ``dispute`` as it applies to ``surface`` (None: not in the catalog)."""
        if surface not in dispute.surfaces:
            return None
        for cid in dispute.clause_ids(surface):
            if cid in self.chosen:
                return self.chosen[cid][1]
        return None

    def outcome(self, dispute: Dispute, surface: str, attr: str) -> Acceptable | None:
        """The chosen side's first outcome that sets ``attr`` (``status``, ``close_code``...)."""
        alt = self.alternative(dispute, surface)
        if alt is None:
            return None
        for o in alt.outcomes:
            if getattr(o, attr) is not None:
                return o
        return None

    def as_dict(self) -> dict[str, str]:
        return {cid: alt.key for cid, (_, alt) in sorted(self.chosen.items())}


def resolve_choices(
    requested: Mapping[str, str],
    catalog: Iterable[Clause] | None = None,
    preset: str | None = None,
) -> Choices:
    """Validate ``requested`` (clause ID -> key) and fill in the rest: the side a linked
    row's named clause takes, else the ``preset``'s side, else ``preferred``.

    Raises ``ValueError`` naming the allowed clause IDs, keys or presets.
    """
    if preset is not None and preset not in PRESETS:
        raise ValueError(f"preset = {preset!r} is not a preset; allowed: {', '.join(PRESETS)}")
    if catalog is None:
        from harness.contract import all_clauses

        catalog = all_clauses()
    disputed = {c.id: c for c in catalog if c.disputed}
    chosen: dict[str, tuple[Clause, Alternative]] = {}
    for cid, key in requested.items():
        clause = disputed.get(cid)
        if clause is None:
            allowed = ", ".join(sorted(disputed)) or "none (the catalog has no disputed clause)"
            raise ValueError(f"{cid!r} is not a disputed clause; allowed clause IDs: {allowed}")
        keys = [a.key for a in clause.alternatives]
        if key not in keys:
            raise ValueError(
                f"{cid} = {key!r} is not one of its alternatives; allowed keys: {', '.join(keys)}"
            )
        chosen[cid] = (clause, clause.alternative(key))
    for cid, key in _linked(chosen, disputed).items():
        chosen[cid] = (disputed[cid], disputed[cid].alternative(key))
    for cid, clause in disputed.items():
        if cid in chosen:
            continue
        key = clause.spec_side if preset == SPECS_PRESET else None
        key = key or clause.preferred
        if key:
            chosen[cid] = (clause, clause.alternative(key))
    return Choices(MappingProxyType(chosen))


def _linked(
    named: Mapping[str, tuple[Clause, Alternative]], disputed: Mapping[str, Clause]
) -> dict[str, str]:
    """Clause ID -> key for the unnamed clauses of a linked row one of whose clauses is named."""
    out: dict[str, str] = {}
    for row in sorted(LINKED_ROWS):
        members = [cid for cid, c in disputed.items() if c.contradiction == row]
        picks = {cid: named[cid][1].key for cid in members if cid in named}
        if len(set(picks.values())) > 1:
            listed = ", ".join(f"{cid} = {key!r}" for cid, key in sorted(picks.items()))
            raise ValueError(
                f"contradiction {row} is answered in one place, so its clauses take one side "
                f"together; these disagree: {listed}"
            )
        if picks:
            key = next(iter(picks.values()))
            for cid in members:
                keys = [a.key for a in disputed[cid].alternatives]
                if cid not in picks and key in keys:
                    out[cid] = key
    return out
