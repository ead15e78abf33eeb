"""The expected wall time printed beside the cost estimate before a live run: from the
selection, the streamed audio (at its duration) and a round trip measured at the start."""

from __future__ import annotations

import re
import socket
from pathlib import Path

import pytest
from harness_cli import harness_run

from harness.cost_estimate import (
    LOCAL_S_PER_CASE,
    REQUESTS_PER_CASE,
    Estimate,
    measure_round_trip,
    wall_estimate,
)
from harness.emulator.child import start_child
from harness.emulator.profile import profile_toml

ROOT = Path(__file__).resolve().parents[1]


def test_the_estimate_adds_requests_at_the_round_trip_and_streams_at_their_duration():
    planned = Estimate({"stt-stream": 30.0, "svd-stream": 12.0, "stt-batch": 600.0})
    w = wall_estimate(100, planned, 0.25)
    assert w.stream_s == 42.0  # batch audio is not streamed: it does not count as real time
    assert w.requests_s == pytest.approx(100 * REQUESTS_PER_CASE * 0.25)
    assert w.total_s == pytest.approx(100 * LOCAL_S_PER_CASE + w.requests_s + 42.0)
    text = w.describe()
    assert "100 cases" in text and "0.250 s round trip (measured)" in text
    assert "42 s of streamed audio at real time" in text
    slower = wall_estimate(100, planned, 0.5)
    assert slower.total_s > w.total_s


def test_the_estimate_with_jobs_never_beats_the_longest_surface():
    planned = Estimate({"stt-stream": 300.0, "svd-stream": 12.0})
    w = wall_estimate(10, planned, 0.1)
    assert w.with_jobs(1, {}) == pytest.approx(w.total_s)
    assert w.with_jobs(8, {"stt-stream": 1}) == pytest.approx(300.0)  # one stream at a time
    assert w.with_jobs(8, {"stt-stream": 4}) == pytest.approx(max(w.total_s / 8, 75.0))
    assert "with --jobs 8 about" in w.describe(8, {"stt-stream": 4})
    assert "--jobs" not in w.describe(1, {})


def test_the_round_trip_is_measured_against_a_server_and_none_without_one():
    child = start_child(None, time_scale=0)
    try:
        rtt = measure_round_trip(child.base_url)
    finally:
        child.stop()
    assert rtt is not None and 0 < rtt < 5
    with socket.socket() as s:  # a port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    assert measure_round_trip(f"http://127.0.0.1:{port}", timeout_s=1) is None


def test_a_live_run_prints_the_wall_time_beside_the_cost(tmp_path):
    """A kind = "live" profile pointing at an emulator child on loopback."""
    child = start_child(None, time_scale=0.002)
    try:
        text = profile_toml(child.base_url, child.config, child.token)
        text = text.replace('kind = "emulator"', 'kind = "live"').split("[emulator]")[0]
        profile = tmp_path / "live.toml"
        profile.write_text(text, encoding="utf-8")
        r = harness_run(
            tmp_path / "r",
            "--max-cost",
            "5",
            target=profile,
            clauses=("svd-stream/end-of-stream", "svd-batch/too-short"),
            timeout=300,
        )
    finally:
        child.stop()
    assert "audio hours to the live target" in r.stderr, r.stderr[-2000:]
    m = re.search(
        r"expected wall time about .+ one case at a time(?:; with --jobs \d+ about [^:]+)?: "
        r"(\d+) cases x \S+ requests x "
        r"([\d.]+) s round trip \(measured\)",
        r.stderr,
    )
    assert m, r.stderr[-2000:]
    cases = int(m.group(1))
    assert f"the {cases} selected cases will submit" in r.stderr
    assert 0 < float(m.group(2)) < 5
    assert "of streamed audio at real time" in r.stderr
