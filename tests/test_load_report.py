"""capacity.html for every load scenario, terminal progress, and the small `harness load` things.

Most pages are rendered from small results dicts shaped like each scenario's results.json
(the expensive runs); one page comes from a real short `harness load streaming` run.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

from harness.cli import _load_argv, main
from harness.load import report as R
from harness.load.judge import Measured
from harness.load.progress import hist_diff, hist_pct

REPO = Path(__file__).resolve().parents[1]
IMG = re.compile(
    r'<figure id="(fig-[a-z0-9-]+)"><img src="data:image/png;base64,[A-Za-z0-9+/=]{200,}'
)


def _summary(p50: float, p95: float, p99: float, n: int = 20) -> dict:
    return {"n": n, "p50": p50, "p95": p95, "p99": p99, "max": p99 * 1.2}


def _series(names: tuple[str, ...] = ("ws svd-stream first-result",)) -> dict:
    points = []
    for i in range(1, 6):
        by_name = {
            n: {"requests": 10, "failures": 0, "p50_ms": 5.0, "p95_ms": 9.0 + i, "p99_ms": 12.0}
            for n in names
        }
        points.append(
            {
                "t_s": float(i),
                "users": 4,
                "requests": 10 * len(names),
                "failures": i % 2,
                "p50_ms": 5.0,
                "p95_ms": 9.0 + i,
                "p99_ms": 12.0,
                "by_name": by_name,
            }
        )
    return {"interval_s": 1.0, "points": points}


def _probe_part(model: str, signal: str) -> dict:
    steps = []
    for n in range(1, 5):
        rejected = 1 if n == 4 else 0
        steps.append(
            {
                "n": n,
                "served": n - rejected,
                "queued": 0,
                "rejected": rejected,
                "errors": 0,
                "latency_ms": _summary(400, 410, 420, n),
                "signals": [signal] * rejected,
                "started_s": 0.5 * n,
                "duration_s": 0.4,
                "rejection_ms": _summary(2, 2, 2, rejected),
            }
        )
    return {
        "observed_limit": 3,
        "mode": "immediate",
        "signal": [signal],
        "model": model,
        "steps": steps,
        "slots_released": True,
        "released_after_s": 0.902,
    }


def _thr(metric: str, limit: float, value, ok: bool | None = None, **kw) -> dict:
    ok = (value is not None and value <= limit) if ok is None else ok
    return {"metric": metric, "limit": limit, "value": value, "ok": ok, **kw}


SOAK_SERIES = [
    {
        "t_s": t,
        "streams_open": 4,
        "sessions": 2 * t,
        "lost_results": 0,
        "ttfr_p95_ms": 400.0,
        "result_lag_p95_ms": 3.0,
        "result_lag_p99_ms": 5.0,
        "pacing_lag_p99_ms": 1.0,
        "generator_rss_mb": 70 + 0.1 * t,
        "target_rss_mb": 60 + 0.2 * t,
    }
    for t in range(0, 10)
]

CAPACITY = {
    "surface": "svd-stream",
    "model": "closed",
    "max_within_slo": 30,
    "first_breach": {"level": 40, "metric": "ttfr_ms.p95", "value": 1800.0, "limit": 1500.0},
    "limiting_signal": "ttfr_ms.p95",
    "slos": ["ttfr_ms.p95<=1500", "error_ratio<=0.01"],
    "steps": [
        {
            "level": lv,
            "started_s": 10.0 * i,
            "duration_s": 10.0,
            "requests": 100 * lv,
            "errors": 0,
            "error_ratio": 0.0,
            "rejections": {"429": 0, "4029": 2 if lv == 40 else 0},
            "metrics": {
                "ttfr_ms": _summary(300 + 20 * lv, 400 + 35 * lv, 500 + 40 * lv, lv),
                "result_lag_ms": _summary(5, 10 + lv, 20 + lv, lv),
            },
            "breached": ["ttfr_ms.p95"] if lv == 40 else [],
            "verdict": "breached" if lv == 40 else "within",
        }
        for i, lv in enumerate((10, 20, 30, 40))
    ],
}

SCENARIOS: dict[str, tuple[dict, tuple[str, ...]]] = {
    "concurrency-probe": (
        {
            "http": _probe_part("vfast-batch", "429"),
            "ws": _probe_part("svd-stream", "4029"),
            "thresholds": [
                _thr("http.released_after_s", 10.0, 0.902),
                _thr("ws.released_after_s", 10.0, 0.03),
            ],
        },
        ("fig-probe-http", "fig-probe-ws", "fig-probe-http-over-time", "fig-probe-ws-over-time"),
    ),
    "backoff": (
        {
            "limit_cleared_at_s": 0.6,
            "immediate_limit_cleared_at_s": 0.6,
            "documented": {
                "attempts": 6,
                "successes": 2,
                "low_violations": 0,
                "judged": _summary(0.5, 0.9, 0.902),
                "waits": [
                    {
                        "client": c,
                        "attempt": a,
                        "actual_s": 0.05 * 2**a + 0.001,
                        "scheduled_s": 0.05 * 2**a,
                        "low_bound_s": 0.05 * 2**a,
                    }
                    for c in (0, 1)
                    for a in (0, 1)
                ],
                "goodput": 0.33,
            },
            "immediate": {"attempts": 90, "storm": 88, "successes": 2, "goodput": 0.02},
            "timeline": [
                {
                    "policy": p,
                    "client": c,
                    "attempt": a,
                    "t_s": 0.1 * a,
                    "status": 200 if a == 3 else 429,
                }
                for p in ("documented", "immediate")
                for c in (0, 1)
                for a in range(4)
            ],
            "thresholds": [
                _thr("documented.judged.p99", 10.0, 0.902),
                _thr("documented.low_violations", 0, 0),
            ],
        },
        ("fig-backoff-timeline", "fig-backoff-deviation"),
    ),
    "streaming": (
        {
            "sessions": 20,
            "started": 22,
            "late_sessions": 0,
            "close_codes": {"1000": 19, "1006": 1},
            "connect_ms": _summary(3, 8, 9),
            "ttfr_ms": _summary(400, 410, 420),
            "result_lag_ms": _summary(2, 5, 6),
            "done_ms": _summary(1, 3, 3),
            "pacing_lag_ms": _summary(0.5, 2, 4, 300),
            "error_ratio": 0.02,
            "worst_pacing": [[4.6, 0.8], [3.8, 0.9]],
            "thresholds": [
                _thr("ttfr_ms.p95", 3000.0, 410),
                _thr("error_ratio", 0.01, 0.02),
                _thr("pacing_lag_ms.p99", 20.0, 4),
            ],
        },
        ("fig-streaming-percentiles", "fig-pacing-lag"),
    ),
    "tts": (
        {
            "latency_ms": _summary(5, 6, 7),
            "retries": 12,
            "retry_after_honoured": 12,
            "status": {"200": 80, "429": 12},
            "thresholds": [_thr("latency_ms.p95", 5000.0, 6)],
        },
        ("fig-tts-status", "fig-tts-latency"),
    ),
    "quota": (
        {
            "model": "vfast-batch",
            "documented_statuses": [429],
            "accepted_before_exhaustion": 3,
            "exhausted_after": 4,
            "after": [429, 429, 429],
            "retries": 9,
            "accepted_after_exhaustion": 0,
            "undocumented_after_exhaustion": 0,
            "thresholds": [
                _thr("accepted_after_exhaustion", 0, 0),
                _thr("undocumented_after_exhaustion", 0, 0),
            ],
        },
        ("fig-quota",),
    ),
    "http-rps": (
        {"requests": 8000, "failures": 0, "expected": 8000, "rps": 2900.5, "thresholds": []},
        (),
    ),
    "soak": (
        {
            "model": "svd-stream",
            "sessions": 18,
            "started": 22,
            "chunks_sent": 180,
            "chunks_answered": 180,
            "lost_results": 0,
            "close_codes": {"1000": 18},
            "error_ratio": 0.0,
            "ttfr_ms": _summary(400, 410, 420),
            "result_lag_ms": _summary(2, 5, 6),
            "pacing_lag_ms": _summary(0.5, 2, 4, 180),
            "memory_growth_mb": {"generator": 0.9, "target": None},
            "series": SOAK_SERIES,
            "thresholds": [
                _thr("lost_results", 0, 0),
                _thr("memory_growth_mb.generator", 64.0, 0.9),
                Measured("memory_growth_mb.target", 64.0).check(
                    {"memory_growth_mb": {"target": None}}
                ),
            ],
        },
        ("fig-soak-memory", "fig-soak-latency", "fig-soak-streams", "fig-pacing-lag"),
    ),
    "capacity": (
        {
            "capacity": CAPACITY,
            "workers": {
                "w1": {"requests": 500, "ttfr_ms": _summary(300, 900, 1000)},
                "w2": {"requests": 500, "ttfr_ms": _summary(310, 950, 1100)},
            },
            "requests": 1000,
            "ttfr_ms": _summary(305, 930, 1100),
            "thresholds": [_thr("ttfr_ms.p95", 1500.0, 1800.0), _thr("error_ratio", 0.01, 0.0)],
        },
        ("fig-capacity-knee", "fig-capacity-rejections", "fig-capacity-over-time"),
    ),
}


@pytest.mark.parametrize("scenario", sorted(SCENARIOS))
def test_every_scenario_page_has_its_plots_and_thresholds_with_units(scenario: str) -> None:
    results, wanted = SCENARIOS[scenario]
    results = {
        **results,
        "scenario": scenario,
        "target": {"base_url": "http://127.0.0.1:1", "live": False},
    }
    page = R.render_capacity_page(results, series=_series(), locust_json=None, folder="/x")
    shown = set(IMG.findall(page))
    assert set(wanted) <= shown, sorted(shown)
    assert {"fig-latency-over-time", "fig-load-over-time"} <= shown  # every scenario
    assert "_layout" not in page and "--passed: #2e7d32" in page  # the shared stylesheet
    assert '<details class="group" id="raw-json">' in page  # raw figures, collapsed
    if results["thresholds"]:
        table = page[
            page.index('id="thresholds-table"') : page.index(
                "</table>", page.index('id="thresholds-table"')
            )
        ]
        assert table.count("<tr>") == len(R.judged(results)) + 1  # + a search's objectives
        for t in results["thresholds"]:
            unit = R.unit_of(t["metric"])
            assert f"≤ {R.with_unit(t['limit'], unit)}" in table
            if unit and t["value"] is not None:
                assert re.search(rf">\S+ {re.escape(unit)}</td>", table), (t["metric"], unit)
    else:
        assert "This scenario judges no thresholds" in page


def test_units_as_people_read_them() -> None:
    row = R.threshold_rows([_thr("documented.judged.p99", 10.0, 0.902)])[0]
    assert (row["value"], row["limit"], row["verdict"]) == ("0.902 ms", "≤ 10 ms", "kept")
    row = R.threshold_rows([_thr("http.released_after_s", 10.0, 0.902)])[0]
    assert (row["value"], row["limit"]) == ("0.902 s", "≤ 10 s")
    row = R.threshold_rows([_thr("error_ratio", 0.01, 0.025)])[0]
    assert (row["value"], row["limit"], row["verdict"]) == ("2.5 %", "≤ 1 %", "BREACHED")
    row = R.threshold_rows(
        [_thr("memory_growth_mb.target", 64.0, None, ok=True, not_measured=True)]
    )[0]
    assert (row["value"], row["verdict"]) == ("not measured", "not measured")
    assert R.threshold_line(_thr("ttfr_ms.p95", 1500.0, 1800.0)).startswith(
        "BREACHED ttfr_ms.p95 = 1800 ms"
    )


def test_capacity_page_names_the_knee_the_first_breach_and_the_workers() -> None:
    results, _ = SCENARIOS["capacity"]
    page = R.render_capacity_page({**results, "scenario": "capacity"})
    section = page[page.index('id="capacity"') : page.index('id="capacity-steps"')]
    assert "<b>30</b> concurrent users" in section
    assert "<b>40</b> <code>ttfr_ms.p95</code> broke first (1800 ms, limit ≤ 1500 ms)" in section
    steps = page[page.index('id="capacity-steps"') :]
    assert steps.count("o-failed") >= 1 and "4029: 2" in steps
    workers = page[page.index('id="workers-table"') :]
    assert ">w1<" in workers and ">w2<" in workers and ">merged<" in workers
    assert 'class="banner v-failed"' in page  # the breached threshold decides the banner
    table = page[page.index('id="thresholds-table"') :]
    assert "1450 ms at 30 concurrent users" in table  # the objective at the knee: kept
    assert "1800 ms at 40 concurrent users" in table  # and where it broke


def test_capacity_banner_names_the_knee_when_no_threshold_breached() -> None:
    results, _ = SCENARIOS["capacity"]
    page = R.render_capacity_page({**results, "scenario": "capacity", "thresholds": []})
    assert 'class="banner v-passed"' in page
    assert "Holds 30 concurrent users within the objectives" in page
    assert "ttfr_ms.p95 broke first at 40 (1800 ms, limit ≤ 1500 ms)" in page


def test_series_percentiles_come_from_histogram_differences() -> None:
    before = {10: 5, 20: 5}
    now = {10: 6, 20: 5, 300: 9, 400: 1}  # this interval: 1x10, 9x300, 1x400
    h = hist_diff(now, before)
    assert h == {10: 1, 300: 9, 400: 1}
    assert (hist_pct(h, 0.5), hist_pct(h, 0.95), hist_pct(h, 1.0)) == (300.0, 400.0, 400.0)
    assert hist_pct({}, 0.5) is None


# --------------------------------------------------------------------------- a real run


def test_harness_load_streaming_prints_progress_and_a_one_screen_summary(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    env = dict(os.environ, PYTHONPATH=str(REPO))
    cmd = [sys.executable, "-m", "harness.cli", "load", "streaming", "--report-dir", str(out)]
    cmd += ["--users", "3", "--duration", "4", "--", "--stream-seconds", "1", "--progress-s", "1"]
    p = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=90)
    assert p.returncode == 0, p.stdout + p.stderr[-3000:]
    progress = [line for line in p.stderr.splitlines() if line.startswith("[load streaming]")]
    assert len(progress) >= 2, p.stderr[-3000:]
    assert all(" | users 3 | requests " in line and "| p95 " in line for line in progress)
    assert "load streaming: Thresholds kept" in p.stdout
    assert re.search(r"ok +ttfr_ms\.p95 = \S+ ms \(limit ≤ 3000 ms\)", p.stdout), p.stdout
    assert len(p.stdout.splitlines()) <= 24  # one screen
    series = json.loads((out / "series.json").read_text())
    assert series["points"] and sum(pt["requests"] for pt in series["points"]) > 0
    page = (out / "capacity.html").read_text()
    shown = set(IMG.findall(page))
    assert {"fig-streaming-percentiles", "fig-pacing-lag", "fig-latency-over-time"} <= shown
    assert re.search(r"<td class=\"num\">\S+ ms</td>\s*<td class=\"num\">≤ 3000 ms</td>", page)
    assert "load-valid-key" not in page + p.stdout + p.stderr


# --------------------------------------------------------------------------- small things


def test_locust_args_repeat_and_follow_double_dash(monkeypatch) -> None:
    seen = []
    monkeypatch.setattr("harness.load.runner.run_load", lambda o: seen.append(o.extra) or 0)
    argv = ["load", "backoff", "--locust-args", "--wait-scale 0.05", "--locust-args=--clients 2"]
    assert main([*argv, "--", "--block-s", "0.3"]) == 0
    assert seen[-1] == ["--wait-scale", "0.05", "--clients", "2", "--block-s", "0.3"]
    assert main(["load", "backoff", "--locust-args", "--help"]) == 0
    assert seen[-1] == ["--help"]
    assert _load_argv(["run", "--", "x"]) == (["run", "--", "x"], [])


def test_locust_args_help_lists_the_scenario_options_and_writes_nothing(tmp_path: Path) -> None:
    env = dict(os.environ, PYTHONPATH=str(REPO))
    out = tmp_path / "never"
    cmd = [
        sys.executable,
        "-m",
        "harness.cli",
        "load",
        "concurrency-probe",
        "--report-dir",
        str(out),
    ]
    p = subprocess.run(
        [*cmd, "--locust-args", "--help"], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.returncode == 0, p.stderr[-2000:]
    assert "--probe-limit" in p.stdout and "--progress-s" in p.stdout
    assert not out.exists()


def test_failed_load_runs_leave_no_report_folder(tmp_path: Path, capsys) -> None:
    out = tmp_path / "rep"
    assert main(["load", "streaming", "--users", "999999", "--report-dir", str(out)]) == 2
    assert not out.exists()
    assert "--users must be 1..5000" in capsys.readouterr().err
    argv = ["load", "concurrency-probe", "--report-dir", str(out), "--duration", "5"]
    assert main([*argv, "--", "--probe-what", "nope"]) != 0  # Locust refuses the option
    assert not out.exists()


def test_probe_default_limit_is_the_demo_organisations() -> None:
    from harness.emulator.config import OrgConfig

    readme = (REPO / "README.md").read_text()
    assert f"The demo organisation has {OrgConfig.concurrency} concurrent requests" in readme
    env = dict(os.environ, PYTHONPATH=str(REPO))
    code = "import harness.load.probe as p; print(p._demo_limit())"
    p = subprocess.run(
        [sys.executable, "-c", code], env=env, capture_output=True, text=True, timeout=60
    )
    assert p.stdout.strip() == str(OrgConfig.concurrency), p.stderr[-2000:]
