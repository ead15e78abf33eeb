"""Plain-data views of clauses, for JSON output and reports (no I/O)."""

from __future__ import annotations

from dataclasses import asdict
from typing import Any

from .model import Acceptable, Clause


def outcome_to_dict(o: Acceptable) -> dict[str, Any]:
    return {k: v for k, v in asdict(o).items() if v is not None}


def clause_to_dict(c: Clause) -> dict[str, Any]:
    d: dict[str, Any] = {
        "id": c.id,
        "surface": c.surface.value,
        "tier": c.tier.value,
        "wording": c.wording_tier.value,  # the tier the error text is judged at
        "requirement": c.requirement,
        "sources": [{"document": s.document, "section": s.section} for s in c.sources],
        "outcomes": [outcome_to_dict(o) for o in c.outcomes],
        "tags": list(c.tags),
    }
    if c.defined_at is not None:
        d["defined_at"] = c.defined_at  # "path:line" where the clause is written
    if c.wording_source is not None:
        d["wording_source"] = {
            "document": c.wording_source.document,
            "section": c.wording_source.section,
        }
    if c.alternatives:
        d["contradiction"] = c.contradiction
        d["preferred"] = c.preferred
        d["rationale"] = c.rationale
        d["spec_literal"] = c.spec_side  # the side the published spec files take, or None
        d["alternatives"] = [
            {
                "key": a.key,
                "summary": a.summary,
                "sources": [{"document": s.document, "section": s.section} for s in a.sources],
                "outcomes": [outcome_to_dict(o) for o in a.outcomes],
                "spec_literal": a.spec_literal,
            }
            for a in c.alternatives
        ]
    return d


def describe_outcomes(c: Clause) -> str:
    """One line: what keeps the clause (the preferred side, for a disputed one)."""
    outs = c.acceptable()
    text = " | ".join(o.describe() for o in outs) or "-"
    if c.disputed:
        text = f"[{c.preferred}] {text} (disputed: {', '.join(a.key for a in c.alternatives)})"
    return text
