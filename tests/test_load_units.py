"""Load helpers without Locust runs: verdicts, judging, thresholds, safety, the raw client."""

from __future__ import annotations

import random

import pytest

from harness.cli import main
from harness.contract.tables import DOCUMENTED_BACKOFF
from harness.load import common as C
from harness.load.judge import analyse_backoff, probe_conclusion, scheduled_wait


def _step(n, served, rejected=0, queued=0, rej_s=(), signals=()):
    return {
        "n": n,
        "served": served,
        "rejected": rejected,
        "queued": queued,
        "rejection_latencies_s": list(rej_s),
        "signals": list(signals),
    }


def test_probe_verdict_immediate_and_queued() -> None:
    steps = [_step(1, 1), _step(2, 2), _step(3, 3), _step(4, 3, 1, rej_s=[0.01], signals=["429"])]
    v = probe_conclusion(steps, 0.4, 12)
    assert (v["observed_limit"], v["mode"], v["signal"]) == (3, "immediate", ["429"])
    v = probe_conclusion([_step(1, 1), _step(2, 2), _step(3, 2, 1, rej_s=[0.39])], 0.4, 12)
    assert v["mode"] == "rejected-slowly"
    v = probe_conclusion([_step(1, 1), _step(2, 1, queued=1)], 0.4, 12)
    assert (v["observed_limit"], v["mode"]) == (1, "queued")
    assert probe_conclusion([_step(1, 1)], 0.4, 1)["mode"] == "none"


def test_scheduled_wait_follows_the_documented_formula() -> None:
    rng = random.Random(1)
    for attempt in range(DOCUMENTED_BACKOFF.max_retries):
        low, high = DOCUMENTED_BACKOFF.wait_bounds(attempt)
        w = scheduled_wait(attempt, rng)
        assert low <= w <= high
    assert scheduled_wait(0, rng, retry_after=7.0) == 7.0  # Retry-After honoured


def test_backoff_analysis_counts_low_violations() -> None:
    docs = [
        {
            "client": 0,
            "attempt": 0,
            "t": 0.0,
            "end": 0.01,
            "status": 429,
            "scheduled_wait": 1.2,
            "low_bound": 1.0,
        },
        {
            "client": 0,
            "attempt": 1,
            "t": 1.215,
            "end": 1.22,
            "status": 429,
            "scheduled_wait": 2.5,
            "low_bound": 2.0,
        },
        {"client": 0, "attempt": 2, "t": 2.5, "end": 2.51, "status": 200},
    ]
    r = analyse_backoff(docs, [], 0.0, 2.0, 1.0)
    assert r["documented"]["attempts"] == 3
    assert r["documented"]["low_violations"] == 1  # 1.28 s after the second answer < 2 s
    assert r["documented"]["judged"]["n"] == 2


def test_thresholds() -> None:
    res = {"a": {"p99": 5.0}, "b": 0.5}
    assert C.Threshold("a.p99", 10).check(res)["ok"]
    assert not C.Threshold("b", 0.1).check(res)["ok"]
    assert not C.Threshold("missing.x", 1).check(res)["ok"]  # no value: not kept


def test_live_target_needs_allow_live_and_max_cost(tmp_path, capsys) -> None:
    profile = tmp_path / "live.toml"
    profile.write_text(
        'name = "x"\nkind = "live"\n[velma]\nbase_url = "https://api.example.invalid"\n'
        '[velma.keys]\nvalid = "live-secret-key-123"\n'
    )
    t = C.target_from_profile(str(profile))
    with pytest.raises(C.LoadUsageError):
        C.check_safety(t, False, 1.0)
    with pytest.raises(C.LoadUsageError):
        C.check_safety(t, True, None)
    C.check_safety(t, True, 0.5)
    assert main(["load", "streaming", "--target", str(profile)]) == 2
    assert main(["load", "streaming", "--target", str(profile), "--allow-live"]) == 2
    assert "live-secret-key-123" not in capsys.readouterr().err
    assert main(["load", "nope"]) == 2
    assert main(["load", "streaming", "--users", "999999"]) == 2


def test_cost_guard_caps_live_audio() -> None:
    g = C.CostGuard(0.001, live=True)
    assert g.allow("svd-stream", 10.0)  # 10 s at 0.25 USD/h
    assert not g.allow("svd-stream", 3600.0)
    assert C.CostGuard(None, live=False).allow("svd-stream", 1e6)


def test_masked_frame_round_trip() -> None:
    from harness.load.wsraw import MASK, OP_BINARY, masked_frame

    payload = bytes(range(200))
    f = masked_frame(OP_BINARY, payload)
    assert f[0] == 0x80 | OP_BINARY and f[1] == 0x80 | 126
    body = f[8:]
    assert bytes(b ^ MASK[i % 4] for i, b in enumerate(body)) == payload
