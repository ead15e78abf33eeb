"""The soak scenario: a short real run against the emulator child, and its pure parts."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from harness.load.judge import Measured

REPO = Path(__file__).resolve().parents[1]
SERIES_KEYS = {
    "t_s",
    "streams_open",
    "sessions",
    "lost_results",
    "ttfr_p95_ms",
    "result_lag_p95_ms",
    "result_lag_p99_ms",
    "pacing_lag_p99_ms",
    "generator_rss_mb",
    "target_rss_mb",
}


@pytest.fixture(scope="module")
def soak_run(tmp_path_factory) -> tuple[subprocess.CompletedProcess[str], dict, Path]:
    out = tmp_path_factory.mktemp("soak")
    cmd = [sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "soak.py")]
    cmd += ["--headless", "-u", "4", "-r", "4", "--run-time", "5s", "--only-summary"]
    cmd += ["--results-file", str(out / "results.json"), "--json-file", str(out / "locust")]
    cmd += ["--stream-seconds", "1", "--sample-s", "0.4", "--progress-s", "2"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.run(cmd, cwd=out, env=env, capture_output=True, text=True, timeout=90)
    assert (out / "results.json").exists(), p.stderr[-3000:]
    return p, json.loads((out / "results.json").read_text()), out


def test_soak_reports_lost_results_close_codes_and_memory(soak_run) -> None:
    p, r, _ = soak_run
    assert p.returncode == 0, p.stderr[-3000:]
    assert r["scenario"] == "soak" and r["streams"] == 4
    assert r["sessions"] >= 4 and r["close_codes"].get("1000", 0) == r["sessions"]
    assert r["chunks_sent"] == 10 * r["sessions"]  # 1 s of audio in 100 ms chunks
    assert r["chunks_answered"] == r["chunks_sent"] and r["lost_results"] == 0
    assert r["sessions_without_done"] == 0
    assert r["ttfr_ms"]["n"] >= 4 and r["pacing_lag_ms"]["n"] >= r["chunks_sent"]
    assert sum(n for _, n in r["pacing_lag_hist"]["b"]) == r["pacing_lag_ms"]["n"]
    for who in ("generator", "target"):
        m = r["memory"][who]
        assert m["pid_sampled"] is True and m["samples"] >= 6, m
        assert m["start_mb"] > 0 and m["peak_mb"] >= m["end_mb"]
        assert isinstance(r["memory_growth_mb"][who], float)
    assert len(r["series"]) >= 6 and set(r["series"][0]) == SERIES_KEYS
    assert r["series"][-1]["sessions"] == r["sessions"]
    names = [t["metric"] for t in r["thresholds"]]
    assert names == [
        "lost_results",
        "error_ratio",
        "memory_growth_mb.generator",
        "memory_growth_mb.target",
    ]
    assert all(t["ok"] for t in r["thresholds"])


def test_soak_prints_progress_with_streams_and_memory(soak_run) -> None:
    p, _, _ = soak_run
    lines = [line for line in p.stderr.splitlines() if line.startswith("[load soak]")]
    assert lines, p.stderr[-3000:]
    assert "streams open" in lines[-1] and "lost 0" in lines[-1] and "RSS generator" in lines[-1]


def test_soak_page_plots_memory_over_time(soak_run) -> None:
    from harness.load.report import write_capacity_page

    _, r, out = soak_run
    page = write_capacity_page(out, r).read_text()
    for fid in ("fig-soak-memory", "fig-soak-latency", "fig-soak-streams", "fig-load-over-time"):
        assert f'<figure id="{fid}"><img src="data:image/png;base64,' in page
    assert "≤ 64 MB" in page and "≤ 0 results" in page


def test_a_stream_closed_without_done_loses_its_unanswered_chunks(tmp_path: Path) -> None:
    """stt-stream: the silence after the last utterance is answered only by `done`; with the
    emulator's `omit-done` deviation those chunks are lost and the threshold fails the run."""
    cmd = [sys.executable, "-m", "locust", "-f", str(REPO / "loadtests" / "soak.py")]
    cmd += ["--headless", "-u", "2", "-r", "2", "--run-time", "3s", "--only-summary"]
    cmd += ["--results-file", str(tmp_path / "results.json"), "--stream-seconds", "1"]
    cmd += ["--soak-model", "stt-stream", "--deviation", "omit-done", "--progress-s", "0"]
    env = dict(os.environ, PYTHONPATH=str(REPO))
    p = subprocess.run(cmd, cwd=tmp_path, env=env, capture_output=True, text=True, timeout=90)
    r = json.loads((tmp_path / "results.json").read_text())
    assert r["sessions"] >= 2 and r["sessions_without_done"] == r["sessions"]
    assert 0 < r["lost_results"] == r["chunks_sent"] - r["chunks_answered"]
    verdicts = {t["metric"]: t["ok"] for t in r["thresholds"]}
    assert verdicts["lost_results"] is False
    assert p.returncode == 1, p.stderr[-2000:]


def test_answered_counts_only_covered_sent_chunks() -> None:
    from harness.load.judge import answered

    sent = [1.0] * 10
    assert answered(sent, 100.0, 1000.0, 1000.0) == 10
    assert answered(sent, 100.0, 1000.0, 500.0) == 5  # the last 5 chunks: lost
    assert answered([1.0, None, 1.0], 100.0, 300.0, 300.0) == 2  # never sent: not counted
    assert answered([1.0] * 3, 100.0, 250.0, 250.0) == 3  # a short last chunk ends at 250


def test_memory_growth_needs_samples_after_the_warmup() -> None:
    from harness.load.judge import growth_mb

    pts = [(float(t), 100.0 + t) for t in range(10)]
    assert growth_mb(pts) == (6.0, None)  # warm-up 0.9 s: median of t 7..9 (8) - of t 1..3 (2)
    value, why = growth_mb(pts[:4])
    assert value is None and "too few samples" in (why or "")
    assert growth_mb([(0.0, None), (1.0, None)]) == (None, "not measured")


def test_unmeasured_memory_is_not_a_breach() -> None:
    t = Measured("memory_growth_mb.target", 64.0)
    assert t.check({"memory_growth_mb": {"target": None}})["not_measured"] is True
    assert t.check({"memory_growth_mb": {"target": None}})["ok"] is True
    assert t.check({"memory_growth_mb": {"target": 65.0}})["ok"] is False
