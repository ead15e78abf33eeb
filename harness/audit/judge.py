"""Verdicts on the emulator's record of one client run (pure; tested directly).

Each check reads the record's entries for the scenario's path, grouped by uploaded file:

* ``backoff``: every wait after a 429/503 (from the end of the refused response to the
  next attempt of the same file) is judged against the documented schedule with
  :func:`harness.load.judge.analyse_backoff` (``low_violations``: a wait shorter than
  ``2**attempt`` seconds, less :data:`TOLERANCE_S`).
* ``max-retries``: no file is attempted more than ``1 + max_retries`` times.
* ``all-served``: every fixture file got a 2xx in the end (nothing silently dropped).
* ``no-retry``: after a 401/403 the same file is attempted at most once more.
* ``retry-after``: after a 429 with ``Retry-After`` the same request (same body) comes
  again no earlier than the header says.
* ``concurrency``: requests in flight at once never exceed the limit; the 429s the client
  provoked are counted.

A check decides its clause (:data:`.scenarios.CHECK_CLAUSES`); a broken check gives the
clause's tier its outcome (MUST: failed, SHOULD: non-strict, INFO: informational). A check
whose precondition never happened (no 429 served, no 401/403 served) makes the clause
``error``: the scenario did not provoke it, so it is not a pass.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from harness.contract import catalog
from harness.contract import tables as T
from harness.contract.model import Tier
from harness.load.judge import analyse_backoff
from harness.outcomes import Outcome, worst

from .runner import ClientRun
from .scenarios import CHECK_CLAUSES, Scenario

POLICY = T.DOCUMENTED_BACKOFF
TOLERANCE_S = 0.05  # clock and scheduling slack on the low bound
NO_RETRY_STATUSES = (401, 402, 403)
_BROKEN = {Tier.MUST: Outcome.FAILED, Tier.SHOULD: Outcome.NON_STRICT}


@dataclass
class Check:
    name: str
    clause: str
    kept: bool
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    provoked: bool = True  # False: the scenario never showed the client what the check needs


def attempts_by_file(run: ClientRun, path: str) -> dict[str, list[dict[str, Any]]]:
    out: dict[str, list[dict[str, Any]]] = {}
    for e in run.entries:
        if e["kind"] == "http" and e["path"] == path:
            out.setdefault(e.get("file") or e.get("upload") or "?", []).append(e)
    for v in out.values():
        v.sort(key=lambda e: e["t"])
    return out


def _backoff(by_file: dict[str, list[dict[str, Any]]]) -> Check:
    docs = []
    for client, (_, entries) in enumerate(sorted(by_file.items())):
        for attempt, e in enumerate(entries):
            low, high = POLICY.wait_bounds(attempt)
            docs.append(
                {
                    "client": client,
                    "attempt": attempt,
                    "t": e["t"],
                    "end": e["end"],
                    "status": e["status"] or 0,
                    "scheduled_wait": (low + high) / 2,
                    "low_bound": low - TOLERANCE_S,
                }
            )
    # only waits that follow a retryable refusal are the schedule's business
    retried = {(d["client"], d["attempt"]) for d in docs if d["status"] in POLICY.retry_statuses}
    t0 = min((d["t"] for d in docs), default=0.0)
    result = analyse_backoff(docs, [], t0, t0, 1.0)["documented"]
    waits = [w for w in result["waits"] if (w["client"], w["attempt"]) in retried]
    short = [w for w in waits if w["actual_s"] < w["low_bound_s"]]
    evidence = {
        "waits": [
            {**w, "actual_s": round(w["actual_s"], 3), "low_bound_s": round(w["low_bound_s"], 3)}
            for w in waits
        ],
        "short_waits": len(short),
    }
    refused = sum(d["status"] in POLICY.retry_statuses for d in docs)
    if not refused:
        msg = "the client never got a 429/503 (did it send anything the scenario refuses?)"
        return Check("backoff", CHECK_CLAUSES["backoff"], False, msg, evidence, provoked=False)
    if not waits:
        msg = f"no retry after {refused} refusal(s): nothing came too soon"
        return Check("backoff", CHECK_CLAUSES["backoff"], True, msg, evidence)
    if short:
        w = short[0]
        msg = (
            f"{len(short)} of {len(waits)} retries came too soon: e.g. after attempt "
            f"{w['attempt']} it waited {w['actual_s']:.3f} s, the schedule asks at least "
            f"{w['low_bound_s'] + TOLERANCE_S:g} s"
        )
        return Check("backoff", CHECK_CLAUSES["backoff"], False, msg, evidence)
    return Check(
        "backoff", CHECK_CLAUSES["backoff"], True, f"{len(waits)} waits on schedule", evidence
    )


def _max_retries(by_file: dict[str, list[dict[str, Any]]]) -> Check:
    most = max((len(v) for v in by_file.values()), default=0)
    allowed = POLICY.max_retries + 1
    kept = most <= allowed
    msg = f"at most {most} attempts of one file (allowed {allowed})"
    return Check("max-retries", CHECK_CLAUSES["max-retries"], kept, msg, {"most_attempts": most})


def _all_served(run: ClientRun, by_file: dict[str, list[dict[str, Any]]]) -> Check:
    served = {f for f, v in by_file.items() if any(200 <= (e["status"] or 0) < 300 for e in v)}
    missing = [f for f in run.files if f not in served]
    msg = (
        f"every file ({len(run.files)}) got a result"
        if not missing
        else f"no result for {', '.join(missing)} (given up or never sent)"
    )
    return Check("all-served", CHECK_CLAUSES["all-served"], not missing, msg, {"missing": missing})


def _no_retry(by_file: dict[str, list[dict[str, Any]]]) -> Check:
    worst_after, statuses = 0, set()
    for entries in by_file.values():
        for i, e in enumerate(entries):
            if e["status"] in NO_RETRY_STATUSES:
                statuses.add(e["status"])
                worst_after = max(worst_after, len(entries) - i - 1)
                break
    evidence = {"retries_after": worst_after}
    if not statuses:
        msg = "the client never got a 401/402/403 to not retry"
        return Check("no-retry", CHECK_CLAUSES["no-retry"], False, msg, evidence, provoked=False)
    kept = worst_after <= 1
    msg = (
        f"after {'/'.join(map(str, sorted(statuses)))}: at most "
        f"{worst_after} further attempt(s) of one file (allowed 1)"
    )
    return Check("no-retry", CHECK_CLAUSES["no-retry"], kept, msg, evidence)


def in_flight_peak(entries: list[dict[str, Any]]) -> int:
    events = sorted([(e["t"], 1) for e in entries] + [(e["end"], -1) for e in entries])
    peak = now = 0
    for _, d in events:
        now += d
        peak = max(peak, now)
    return peak


def _concurrency(scenario: Scenario, by_file: dict[str, list[dict[str, Any]]]) -> Check:
    entries = [e for v in by_file.values() for e in v]
    peak = in_flight_peak(entries)
    provoked = sum(e["status"] == 429 for e in entries)
    limit = scenario.limit or 0
    kept = provoked == 0 and peak <= limit
    msg = f"at most {peak} in flight (limit {limit}); {provoked} concurrency refusal(s) provoked"
    return Check(
        "concurrency",
        CHECK_CLAUSES["concurrency"],
        kept,
        msg,
        {"peak_in_flight": peak, "limit": limit, "provoked_429": provoked},
    )


def _retry_after(scenario: Scenario, by_file: dict[str, list[dict[str, Any]]]) -> Check:
    header = float((scenario.script or {}).get("retry_after") or 0.0)
    gaps = [
        round(nxt["t"] - prev["end"], 3)
        for entries in by_file.values()
        for prev, nxt in zip(entries, entries[1:], strict=False)
        if prev["status"] == 429
    ]
    early = [g for g in gaps if g < header - TOLERANCE_S]
    evidence = {"retry_after_s": header, "gaps_s": gaps, "early": len(early)}
    clause = CHECK_CLAUSES["retry-after"]
    refused = sum(e["status"] == 429 for entries in by_file.values() for e in entries)
    if not refused:
        msg = f"the client never got a 429 on {scenario.path} (it may use another route)"
        return Check("retry-after", clause, False, msg, evidence, provoked=False)
    if not gaps:
        msg = f"no retry after {refused} 429(s): nothing came before Retry-After"
        return Check("retry-after", clause, True, msg, evidence)
    if early:
        msg = f"{len(early)} of {len(gaps)} retries came {min(early):.3f} s after a 429 with "
        msg += f"Retry-After: {header:g}"
        return Check("retry-after", clause, False, msg, evidence)
    msg = f"{len(gaps)} retries, each at least Retry-After ({header:g} s) later"
    return Check("retry-after", clause, True, msg, evidence)


def run_checks(scenario: Scenario, run: ClientRun) -> list[Check]:
    by_file = attempts_by_file(run, scenario.path)
    out = []
    for name in scenario.checks:
        if name == "backoff":
            out.append(_backoff(by_file))
        elif name == "max-retries":
            out.append(_max_retries(by_file))
        elif name == "all-served":
            out.append(_all_served(run, by_file))
        elif name == "no-retry":
            out.append(_no_retry(by_file))
        elif name == "concurrency":
            out.append(_concurrency(scenario, by_file))
        elif name == "retry-after":
            out.append(_retry_after(scenario, by_file))
    return out


@dataclass
class AuditVerdict:
    """One clause judged on one scenario's record (``error``: the scenario did not provoke
    what a check needs, so nothing was tested; never a pass)."""

    scenario: str
    clause: str
    outcome: Outcome
    tier: str
    message: str
    checks: list[Check]


def verdicts(scenario: Scenario, run: ClientRun) -> list[AuditVerdict]:
    """One verdict per clause the scenario judges (its checks combined, worst first)."""
    checks = run_checks(scenario, run)
    out = []
    for clause_id in scenario.clauses:
        mine = [c for c in checks if c.clause == clause_id]
        tier = catalog.get(clause_id).tier
        outcomes = [
            Outcome.ERROR
            if not c.provoked
            else Outcome.PASSED
            if c.kept
            else _BROKEN.get(tier, Outcome.INFORMATIONAL)
            for c in mine
        ]
        outcome = worst(outcomes) or Outcome.SKIPPED
        message = "; ".join(f"{c.name}: {c.message}" for c in mine)
        out.append(AuditVerdict(scenario.name, clause_id, outcome, str(tier), message, mine))
    return out
