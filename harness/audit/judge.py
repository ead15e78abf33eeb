"""Verdicts on the emulator's record of one client run (pure; tested directly).

The record's entries on the scenario's path are put into *chains*, one per piece of work
the client attempted again and again (:func:`chains`): HTTP attempts by uploaded file name
(else by body); WebSocket connections by the stream they carried (a hash of the first
binary frame, else of the first text frame); a connection refused before it carried
anything is followed by the next connection that starts after the refusal, once every
fixture file has had a connection of its own (a client starts each file before it can
retry one, and concurrent first attempts must not pass for quick retries). Each attempt
gets one ``code``: the HTTP status; for a WebSocket 200 when the server sent it a result
(``done``, KugelAudio ``final``), else its close code.

* ``backoff`` / ``reconnect-4029`` / ``reconnect-1011``: every wait after a 429/503 (4029,
  1011) -- from the end of the refusal to the next attempt of the same chain -- is judged
  against the documented schedule with :func:`harness.load.judge.analyse_backoff` (a wait
  shorter than ``2**attempt`` seconds, less :data:`TOLERANCE_S`, is too soon).
* ``max-retries``: no chain has more than ``1 + max_retries`` attempts.
* ``all-served`` / ``stream-served``: every fixture file got a result in the end (for
  streams: as many distinct streams got a result as there were files).
* ``served-or-reported``: every stream got a result, or the program exited non-zero (it
  reported the failure instead of dropping the audio silently).
* ``no-retry`` / ``stream-no-retry`` / ``kugel-no-retry``: after a 401/402/403 (streams:
  4001/4003; KugelAudio: 401/402/403 or close 4001/4003) the same chain is attempted at most
  once more.
* ``retry-after``: after a 429 with ``Retry-After`` the same request comes again no earlier
  than the header says.
* ``kugel-backoff``: after a KugelAudio 429/503 (close 4029/4500) the next attempt waits at
  least :data:`KUGEL_MIN_BACKOFF_S` and no wait is shorter than the one before it;
  ``kugel-served`` / ``text-independent``: every refused request was tried again until served.
* ``concurrency``: requests in flight at once never exceed the limit; the 429s the client
  provoked are counted.

A check decides its clause (:data:`.scenarios.CHECK_CLAUSES`); a broken check gives the
clause's tier its outcome (MUST: failed, SHOULD: non-strict, INFO: informational). A check
whose precondition never happened (no refusal of the kind it judges reached the client)
makes the clause ``error``: the scenario did not provoke it, so it is not a pass. Every
verdict carries the record's exchanges it judged (:func:`exchange_lines`).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from harness.contract import catalog
from harness.contract import tables as T
from harness.contract.model import Tier
from harness.contract.tables_kugel import KUGEL_MIN_BACKOFF_S
from harness.load.judge import analyse_backoff
from harness.outcomes import Outcome, worst

from .runner import ClientRun
from .scenarios import CHECK_CLAUSES, Scenario

POLICY = T.DOCUMENTED_BACKOFF
TOLERANCE_S = 0.05  # clock and scheduling slack on the low bound
NO_RETRY_STATUSES = (401, 402, 403)
STREAM_NO_RETRY = (4001, 4003)
KUGEL_RETRYABLE = (429, 503, 4029, 4500)
KUGEL_NO_RETRY = (401, 402, 403, 4001, 4003)  # 4001: a forbidden key; 4003: no credits
SERVED = 200  # the code of a WebSocket attempt that got its result
MAX_EXCHANGE_LINES = 80  # per verdict; the rest is counted
_BROKEN = {Tier.MUST: Outcome.FAILED, Tier.SHOULD: Outcome.NON_STRICT}

Chains = dict[str, list[dict[str, Any]]]


@dataclass
class Check:
    name: str
    clause: str
    kept: bool
    message: str
    evidence: dict[str, Any] = field(default_factory=dict)
    provoked: bool = True  # False: the scenario never showed the client what the check needs


# ------------------------------------------------------------------ chains of attempts


def code_of(e: dict[str, Any]) -> int:
    """An attempt's one code: HTTP status; WebSocket: 200 with a result, else its close."""
    if e["kind"] == "http":
        return int(e.get("status") or 0)
    if e.get("result"):
        return SERVED
    return int(e.get("close_code") or e.get("status") or 0)


def refusal_end(e: dict[str, Any]) -> float:
    return float(e.get("closed_at") or e["end"])


def _refused(e: dict[str, Any]) -> bool:
    return not 200 <= code_of(e) < 300 and code_of(e) != 1000


def attempts_by_file(run: ClientRun, path: str) -> Chains:
    out: Chains = {}
    for e in run.entries:
        if e["kind"] == "http" and e["path"] == path:
            out.setdefault(e.get("file") or e.get("upload") or "?", []).append(e)
    for v in out.values():
        v.sort(key=lambda e: e["t"])
    return out


def _follows(
    e: dict[str, Any], pending: list[tuple[dict[str, Any], str]], first_attempts_left: bool
) -> int | None:
    """Which pending refusal connection ``e`` retries: the same stream; else, when either
    carried nothing to tell and every file has had its first connection, the oldest
    refusal that ended before it started."""
    if e.get("upload"):
        for i, (r, _) in enumerate(pending):
            if r.get("upload") == e["upload"]:
                return i
    if first_attempts_left:  # a client starts each file once before any retry can be told
        return None
    for i, (r, _) in enumerate(pending):
        unknown = not e.get("upload") or not r.get("upload")
        if unknown and refusal_end(r) <= e["t"] + TOLERANCE_S:
            return i
    return None


def stream_chains(run: ClientRun, path: str) -> Chains:
    """WebSocket connections on ``path`` as chains (see the module's docstring)."""
    out: Chains = {}
    pending: list[tuple[dict[str, Any], str]] = []  # refused, not yet followed
    for e in sorted(
        (e for e in run.entries if e["kind"] == "ws" and e["path"] == path), key=lambda e: e["t"]
    ):
        i = _follows(e, pending, len(out) < len(run.files))
        key = f"stream-{len(out) + 1}" if i is None else pending.pop(i)[1]
        out.setdefault(key, []).append(e)
        if _refused(e):
            pending.append((e, key))
    return out


def chains(scenario: Scenario, run: ClientRun) -> Chains:
    """Every judged path's chains (a second path's names carry the path)."""
    out: Chains = {}
    for n, path in enumerate((scenario.path, *scenario.also_paths)):
        found = {**attempts_by_file(run, path), **stream_chains(run, path)}
        out.update({(k if n == 0 else f"{path} {k}"): v for k, v in found.items()})
    return out


# ------------------------------------------------------------------ checks


def _unprovoked(name: str, got: str, evidence: dict[str, Any]) -> Check:
    """Check ``name`` cannot be judged: the client never got ``got`` (what the check needs)."""
    msg = f"the client never got {got}"
    return Check(name, CHECK_CLAUSES[name], False, msg, evidence, provoked=False)


def _schedule(by_file: Chains, codes: tuple[int, ...], name: str) -> Check:
    """Waits after ``codes`` against the documented schedule (reused from the load judge)."""
    clause = CHECK_CLAUSES[name]
    docs = []
    for client, (_, entries) in enumerate(sorted(by_file.items())):
        for attempt, e in enumerate(entries):
            low, high = POLICY.wait_bounds(attempt)
            docs.append(
                {
                    "client": client,
                    "attempt": attempt,
                    "t": e["t"],
                    "end": refusal_end(e),
                    "status": code_of(e),
                    "scheduled_wait": (low + high) / 2,
                    "low_bound": low - TOLERANCE_S,
                }
            )
    # only waits that follow a retryable refusal are the schedule's business
    retried = {(d["client"], d["attempt"]) for d in docs if d["status"] in codes}
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
    what = "/".join(map(str, codes))
    refused = sum(d["status"] in codes for d in docs)
    if not refused:
        return _unprovoked(name, f"a {what} (did it send anything the scenario refuses?)", evidence)
    if not waits:
        msg = f"no retry after {refused} refusal(s) ({what}): nothing came too soon"
        return Check(name, clause, True, msg, evidence)
    if short:
        w = short[0]
        msg = (
            f"{len(short)} of {len(waits)} retries after {what} came too soon: e.g. after "
            f"attempt {w['attempt']} it waited {w['actual_s']:.3f} s, the schedule asks at "
            f"least {w['low_bound_s'] + TOLERANCE_S:g} s"
        )
        return Check(name, clause, False, msg, evidence)
    return Check(name, clause, True, f"{len(waits)} waits after {what} on schedule", evidence)


def _max_retries(by_file: Chains) -> Check:
    most = max((len(v) for v in by_file.values()), default=0)
    allowed = POLICY.max_retries + 1
    kept = most <= allowed
    msg = f"at most {most} attempts of one file (allowed {allowed})"
    return Check("max-retries", CHECK_CLAUSES["max-retries"], kept, msg, {"most_attempts": most})


def _all_served(run: ClientRun, by_file: Chains) -> Check:
    served = {f for f, v in by_file.items() if any(200 <= code_of(e) < 300 for e in v)}
    missing = [f for f in run.files if f not in served]
    msg = (
        f"every file ({len(run.files)}) got a result"
        if not missing
        else f"no result for {', '.join(missing)} (given up or never sent)"
    )
    return Check("all-served", CHECK_CLAUSES["all-served"], not missing, msg, {"missing": missing})


def _served_streams(run: ClientRun, by_file: Chains) -> tuple[int, int]:
    """Distinct streams that got a result, and how many streams were refused on the way."""
    served = {
        e.get("upload") or key for key, v in by_file.items() for e in v if code_of(e) == SERVED
    }
    refused = sum(any(_refused(e) for e in v) for v in by_file.values())
    return len(served), refused


def _stream_served(run: ClientRun, by_file: Chains, name: str, codes: tuple[int, ...]) -> Check:
    clause = CHECK_CLAUSES[name]
    served, _ = _served_streams(run, by_file)
    got = sum(code_of(e) in codes for v in by_file.values() for e in v)
    evidence = {"files": len(run.files), "streams_served": served, "exit_code": run.exit_code}
    if not got:
        got_what = f"a {'/'.join(map(str, codes))} on {next(iter(by_file), '?')}"
        return _unprovoked(name, got_what, evidence)
    if served >= len(run.files):
        return Check(
            name, clause, True, f"every stream ({len(run.files)}) got its result", evidence
        )
    lost = len(run.files) - served
    if name == "served-or-reported" and run.exit_code not in (0, None):
        msg = f"{lost} of {len(run.files)} streams got no result; the program reported it (exit "
        msg += f"{run.exit_code})"
        return Check(name, clause, True, msg, evidence)
    tail = " and exited 0: dropped silently" if run.exit_code == 0 else ""
    msg = f"{lost} of {len(run.files)} streams got no result (given up or never resent){tail}"
    return Check(name, clause, False, msg, evidence)


def _no_retry(by_file: Chains, name: str, codes: tuple[int, ...]) -> Check:
    worst_after, seen = 0, set()
    for entries in by_file.values():
        for i, e in enumerate(entries):
            if code_of(e) in codes:
                seen.add(code_of(e))
                worst_after = max(worst_after, len(entries) - i - 1)
                break
    evidence = {"retries_after": worst_after}
    if not seen:
        return _unprovoked(name, f"a {'/'.join(map(str, codes))} to not retry", evidence)
    kept = worst_after <= 1
    msg = (
        f"after {'/'.join(map(str, sorted(seen)))}: at most "
        f"{worst_after} further attempt(s) of one request (allowed 1)"
    )
    return Check(name, CHECK_CLAUSES[name], kept, msg, evidence)


def in_flight_peak(entries: list[dict[str, Any]]) -> int:
    events = sorted([(e["t"], 1) for e in entries] + [(e["end"], -1) for e in entries])
    peak = now = 0
    for _, d in events:
        now += d
        peak = max(peak, now)
    return peak


def _concurrency(scenario: Scenario, by_file: Chains) -> Check:
    entries = [e for v in by_file.values() for e in v]
    peak = in_flight_peak(entries)
    provoked = sum(code_of(e) == 429 for e in entries)
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


def _gaps_after(by_file: Chains, codes: tuple[int, ...]) -> list[list[float]]:
    """Per chain, the waits after each refusal in ``codes`` that was followed."""
    return [
        [
            round(nxt["t"] - refusal_end(prev), 3)
            for prev, nxt in zip(entries, entries[1:], strict=False)
            if code_of(prev) in codes
        ]
        for entries in by_file.values()
    ]


def _retry_after(scenario: Scenario, by_file: Chains) -> Check:
    header = float((scenario.script or {}).get("retry_after") or 0.0)
    gaps = [g for chain in _gaps_after(by_file, (429,)) for g in chain]
    early = [g for g in gaps if g < header - TOLERANCE_S]
    evidence = {"retry_after_s": header, "gaps_s": gaps, "early": len(early)}
    clause = CHECK_CLAUSES["retry-after"]
    refused = sum(code_of(e) == 429 for entries in by_file.values() for e in entries)
    if not refused:
        got_what = f"a 429 on {scenario.path} (it may use another route)"
        return _unprovoked("retry-after", got_what, evidence)
    if not gaps:
        msg = f"no retry after {refused} 429(s): nothing came before Retry-After"
        return Check("retry-after", clause, True, msg, evidence)
    if early:
        msg = f"{len(early)} of {len(gaps)} retries came {min(early):.3f} s after a 429 with "
        msg += f"Retry-After: {header:g}"
        return Check("retry-after", clause, False, msg, evidence)
    msg = f"{len(gaps)} retries, each at least Retry-After ({header:g} s) later"
    return Check("retry-after", clause, True, msg, evidence)


def _kugel_backoff(scenario: Scenario, by_file: Chains) -> Check:
    name, clause = "kugel-backoff", CHECK_CLAUSES["kugel-backoff"]
    per_chain = _gaps_after(by_file, KUGEL_RETRYABLE)
    gaps = [g for chain in per_chain for g in chain]
    early = [g for chain in per_chain for g in chain[:1] if g < KUGEL_MIN_BACKOFF_S - TOLERANCE_S]
    shrinking = [
        (a, b) for chain in per_chain for a, b in zip(chain, chain[1:], strict=False) if b < a
    ]
    refused = sum(code_of(e) in KUGEL_RETRYABLE for v in by_file.values() for e in v)
    evidence = {"gaps_s": gaps, "min_first_wait_s": KUGEL_MIN_BACKOFF_S, "early": len(early)}
    if not refused:
        return _unprovoked(
            name, f"a 429/503/4029/4500 on {scenario.path} (another route?)", evidence
        )
    if not gaps:
        msg = f"no retry after {refused} refusal(s): nothing came too soon"
        return Check(name, clause, True, msg, evidence)
    if early:
        msg = f"{len(early)} retries came {min(early):.3f} s after the refusal (backing off "
        msg += f"means at least {KUGEL_MIN_BACKOFF_S:g} s)"
        return Check(name, clause, False, msg, evidence)
    if shrinking:
        a, b = shrinking[0]
        msg = f"waits shrank between retries ({a:.3f} s, then {b:.3f} s)"
        return Check(name, clause, False, msg, evidence)
    return Check(name, clause, True, f"{len(gaps)} retries, each after backing off", evidence)


def _kugel_served(run: ClientRun, by_file: Chains, name: str) -> Check:
    clause = CHECK_CLAUSES[name]
    refused = {k: v for k, v in by_file.items() if any(_refused(e) for e in v)}
    lost = [k for k, v in refused.items() if not 200 <= code_of(v[-1]) < 300]
    evidence = {"refused_requests": len(refused), "not_served": len(lost)}
    if not refused:
        return _unprovoked(name, f"a refusal on {next(iter(by_file), 'the path')}", evidence)
    if lost:
        tries = max(len(by_file[k]) for k in lost)
        msg = (
            f"{len(lost)} of {len(refused)} refused request(s) never served: the client gave "
            f"up after {tries} attempt(s) (exit {run.exit_code})"
        )
        return Check(name, clause, False, msg, evidence)
    msg = f"every refused request ({len(refused)}) was tried again and served"
    return Check(name, clause, True, msg, evidence)


def run_checks(scenario: Scenario, run: ClientRun) -> list[Check]:
    by_file = chains(scenario, run)
    table: dict[str, Callable[[], Check]] = {
        "backoff": lambda: _schedule(by_file, POLICY.retry_statuses, "backoff"),
        "reconnect-4029": lambda: _schedule(by_file, (4029,), "reconnect-4029"),
        "reconnect-1011": lambda: _schedule(by_file, (1011,), "reconnect-1011"),
        "max-retries": lambda: _max_retries(by_file),
        "all-served": lambda: _all_served(run, by_file),
        "stream-served": lambda: _stream_served(run, by_file, "stream-served", (4029,)),
        "served-or-reported": lambda: _stream_served(run, by_file, "served-or-reported", (1011,)),
        "no-retry": lambda: _no_retry(by_file, "no-retry", NO_RETRY_STATUSES),
        "stream-no-retry": lambda: _no_retry(by_file, "stream-no-retry", STREAM_NO_RETRY),
        "kugel-no-retry": lambda: _no_retry(by_file, "kugel-no-retry", KUGEL_NO_RETRY),
        "concurrency": lambda: _concurrency(scenario, by_file),
        "retry-after": lambda: _retry_after(scenario, by_file),
        "kugel-backoff": lambda: _kugel_backoff(scenario, by_file),
        "kugel-served": lambda: _kugel_served(run, by_file, "kugel-served"),
        "text-independent": lambda: _kugel_served(run, by_file, "text-independent"),
    }
    return [table[name]() for name in scenario.checks]


# ------------------------------------------------------------------ evidence


def exchange_line(e: dict[str, Any], t0: float) -> str:
    """One record entry as a line: times relative to the client's start, the key as its
    fingerprint (the record never holds the key itself)."""
    key = f" key#{e['key']}" if e.get("key") else " no-key"
    rel = e["t"] - t0
    if e["kind"] == "http":
        what = f" file={e['file']}" if e.get("file") else f" body#{(e.get('upload') or '')[:8]}"
        return (
            f"+{rel:.3f}s {e.get('method', 'POST')} {e['path']}{key}{what} -> {e.get('status')} "
            f"at +{e['end'] - t0:.3f}s"
        )
    stream = f" stream#{e['upload'][:8]}" if e.get("upload") else ""
    closed = (
        f"; close {e['close_code']} by {e.get('closed_by') or '?'} at +{refusal_end(e) - t0:.3f}s"
        if e.get("close_code") is not None
        else "; no close"
    )
    extra = " result" if e.get("result") else ""
    extra += f" error={e['error']!r}" if e.get("error") else ""
    extra += " (scripted)" if e.get("scripted") else ""
    return (
        f"+{rel:.3f}s WS {e['path']}{key}{stream} frames_in={e.get('frames_in', 0)} -> "
        f"{e.get('status')}{closed}{extra}"
    )


def exchange_lines(by_file: Chains, t0: float) -> list[str]:
    """The judged exchanges, by chain then time, capped at :data:`MAX_EXCHANGE_LINES`."""
    lines = [
        f"[{name}] {exchange_line(e, t0)}"
        for name, entries in sorted(by_file.items())
        for e in entries
    ]
    if len(lines) > MAX_EXCHANGE_LINES:
        extra = len(lines) - MAX_EXCHANGE_LINES
        lines = [*lines[:MAX_EXCHANGE_LINES], f"... {extra} more exchanges not shown"]
    return lines


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
    exchanges: list[str] = field(default_factory=list)


def verdicts(scenario: Scenario, run: ClientRun) -> list[AuditVerdict]:
    """One verdict per clause the scenario judges (its checks combined, worst first)."""
    checks = run_checks(scenario, run)
    exchanges = exchange_lines(chains(scenario, run), run.t0)
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
        out.append(
            AuditVerdict(scenario.name, clause_id, outcome, str(tier), message, mine, exchanges)
        )
    return out
