"""The shape of a documented promise.

A :class:`Clause` is one requirement that a target can keep or break. It is
stated in our own words, names the page and section it comes from, carries a
tier (MUST / SHOULD / INFO) and lists every observable outcome that counts as
keeping it. Where two documents disagree, the clause lists each documented
:class:`Alternative`, names the one this project prefers and says why.

This module holds types only; the clauses themselves are data, the TOML files of
``harness/contract/clauses/``, read by :mod:`harness.contract.load`.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from enum import StrEnum


class Tier(StrEnum):
    """How strongly the documents bind the target (cf. Autobahn's outcomes)."""

    MUST = "MUST"  # broken -> failed
    SHOULD = "SHOULD"  # broken -> non-strict
    INFO = "INFO"  # the documents leave it open -> informational


class Surface(StrEnum):
    """Where a clause applies. Group surfaces (``velma``, ``kugel``) span several."""

    STT_BATCH = "stt-batch"
    VFAST_BATCH = "vfast-batch"
    SVD_BATCH = "svd-batch"
    PII_BATCH = "pii-batch"
    STT_STREAM = "stt-stream"
    SVD_STREAM = "svd-stream"
    PII_STREAM = "pii-stream"
    VELMA = "velma"  # every Velma-2 model endpoint
    PLATFORM = "platform"  # Modulate Platform API
    KUGEL_HTTP = "kugel-http"  # KugelAudio TTS REST
    KUGEL_WS = "kugel-ws"  # KugelAudio TTS WebSocket
    KUGEL = "kugel"  # both KugelAudio transports

    @property
    def vendor(self) -> str:
        if self in (Surface.KUGEL_HTTP, Surface.KUGEL_WS, Surface.KUGEL):
            return "kugelaudio"
        return "modulate"

    @property
    def transport(self) -> str:
        """``http``, ``websocket`` or ``mixed`` (group surfaces)."""
        if self in (Surface.STT_STREAM, Surface.SVD_STREAM, Surface.PII_STREAM, Surface.KUGEL_WS):
            return "websocket"
        if self in (Surface.VELMA, Surface.KUGEL):
            return "mixed"
        return "http"


@dataclass(frozen=True)
class Source:
    """Where a promise is written: a seed page or a spec file, and a section in it.

    ``document`` is a path relative to the vendor material (``seeds/...`` or
    ``specs/...``); it is a citation, never opened at run time.
    """

    document: str
    section: str

    def __str__(self) -> str:
        return f"{self.document} § {self.section}"


def describe_codes(
    status: int | None, close_code: int | None, error_code: str | None, detail: str | None
) -> list[str]:
    """The wording shared by expected outcomes and observations, so that they line up."""
    parts: list[str] = []
    if status is not None:
        parts.append(f"HTTP {status}")
    if close_code is not None:
        parts.append(f"close {close_code}")
    if error_code is not None:
        parts.append(f"error_code={error_code}")
    if detail is not None:
        parts.append(f"detail={detail!r}")
    return parts


@dataclass(frozen=True)
class Acceptable:
    """One observable result that keeps the promise.

    Fill only the fields that matter; unset fields are "anything". A clause's
    outcomes are alternatives: the target keeps the clause if it shows any one.
    """

    status: int | None = None  # HTTP status code
    close_code: int | None = None  # WebSocket close code
    # Error TEXT: Modulate REST ``detail``, streaming ``error`` text, KugelAudio ``error``.
    # Judged apart from the codes, at the clause's ``wording`` tier (see Clause.wording).
    detail: str | None = None
    error_code: str | None = None  # KugelAudio ``error_code``
    message: str | None = None  # a streaming message TYPE ("done", "error", "utterance", ...)
    header: str | None = None  # a response header that must be present (e.g. Retry-After)
    behaviour: str | None = None  # anything else, stated so that it can be checked

    @property
    def codes(self) -> Acceptable:
        """This outcome without its text: what the main verdict compares."""
        return replace(self, detail=None) if self.detail is not None else self

    def describe(self, *, text: bool = True) -> str:
        """Our wording of the outcome; ``text=False`` leaves the error text out."""
        detail = self.detail if text else None
        parts = describe_codes(self.status, self.close_code, self.error_code, detail)
        if self.message is not None:
            parts.append(f"message={self.message!r}")
        if self.header is not None:
            parts.append(f"header {self.header}")
        if self.behaviour is not None:
            parts.append(self.behaviour)
        return ", ".join(parts) or "any"


@dataclass(frozen=True)
class Alternative:
    """One side of a documented disagreement."""

    key: str  # short stable name, e.g. "429" or "403-detail"
    summary: str  # what this side says, in our words
    sources: tuple[Source, ...]
    outcomes: tuple[Acceptable, ...]
    # True for the side the published OpenAPI/AsyncAPI files take (at most one per clause;
    # none where no spec file takes a side). The emulator's ``preset = "specs"`` uses it.
    spec_literal: bool = False


@dataclass(frozen=True)
class Clause:
    """One documented behaviour a target can keep or break."""

    id: str  # "<surface>/<slug>", stable forever once published
    surface: Surface
    requirement: str  # our own words: short, precise, checkable
    sources: tuple[Source, ...]
    tier: Tier
    outcomes: tuple[Acceptable, ...] = ()
    # The tier at which the TEXT of the outcomes (``Acceptable.detail``) is judged. Codes,
    # fields and types are judged at ``tier``; the documents give texts as examples
    # ("e.g.", "or similar", OpenAPI ``example``), so wording is SHOULD by default, INFO
    # where a page calls the text display-only (KugelAudio ``error``). MUST only with
    # ``wording_source``: the sentence that promises the exact text.
    wording: Tier = Tier.SHOULD
    wording_source: Source | None = None
    alternatives: tuple[Alternative, ...] = ()
    preferred: str | None = None  # Alternative.key this project expects by default
    rationale: str | None = None  # why ``preferred`` was chosen
    contradiction: int | None = None  # row in the contradictions table (CONTRACT-NOTES)
    tags: tuple[str, ...] = field(default_factory=tuple)
    # Where the clause is written, "path:line" from the project root: the ``id``/``slug`` line
    # of its TOML entry (filled by ``harness.contract.load``); not part of the promise, so not
    # compared.
    defined_at: str | None = field(default=None, compare=False)

    @property
    def disputed(self) -> bool:
        return bool(self.alternatives)

    @property
    def wording_tier(self) -> Tier:
        """The tier the text is judged at: ``wording``, never above the clause's own tier."""
        rank = (Tier.INFO, Tier.SHOULD, Tier.MUST)
        return min(self.wording, self.tier, key=rank.index)

    @property
    def spec_side(self) -> str | None:
        """The key of the side the published spec files take (None: no spec takes one)."""
        return next((a.key for a in self.alternatives if a.spec_literal), None)

    def alternative(self, key: str) -> Alternative:
        for alt in self.alternatives:
            if alt.key == key:
                return alt
        known = ", ".join(a.key for a in self.alternatives) or "none"
        raise KeyError(f"clause {self.id} has no alternative {key!r} (known: {known})")

    def acceptable(self, choice: str | None = None) -> tuple[Acceptable, ...]:
        """Outcomes that keep this clause.

        For a disputed clause: the outcomes of ``choice`` (default: the
        preferred alternative), else the union of all alternatives when
        ``choice == "any"``.
        """
        if not self.alternatives:
            return self.outcomes
        if choice == "any":
            return tuple(o for alt in self.alternatives for o in alt.outcomes)
        return self.alternative(choice or self.preferred or "").outcomes
