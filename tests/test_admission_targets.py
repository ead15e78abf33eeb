"""Admission on a target the run did not start: stated limits, discovered limits, and a
target that refuses only after holding the request (a proxy that delays refusals 3 s).

``harness emulate --write-profile`` runs as a separate process; the admission cases run
with ``harness run --target`` against it, directly and through :mod:`delay_proxy`, each
time with the profile as written (limits stated) and with its
``[velma.limits.concurrency]`` table removed (limits discovered by the run). Through the
proxy only the base URLs change (the control URL still reaches the emulator directly).
The proxy covers both transports: HTTP 429 and 403 (SVD Batch's concurrency refusal on
the preferred side) and WebSocket close frames with 4029 arrive 3 s late.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import time
import tomllib
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from delay_proxy import DelayProxy

ROOT = Path(__file__).resolve().parents[1]
DELAY_S = 3.0
# The "refused at once, never queued" clauses (the stream concurrency-limit cases also
# require the refusal at once) and the cases that check them.
IMMEDIATE = (
    "stt-batch/concurrency-immediate",
    "vfast-batch/concurrency-immediate",
    "svd-batch/concurrency-immediate",
    "pii-batch/concurrency-immediate",
    "stt-stream/admission-immediate",
    "svd-stream/admission-immediate",
    "pii-stream/admission-immediate",
    "velma/concurrency-immediate-reject",
)
SELECTION = IMMEDIATE + ("stt-stream/concurrency-limit",)


class Emulator:
    """``harness emulate --write-profile`` in its own process (its own folder for the profile)."""

    def __init__(self, folder: Path, config: str | None = None) -> None:
        folder.mkdir(parents=True, exist_ok=True)
        self.profile = folder / "written.toml"
        args = [
            sys.executable,
            "-m",
            "harness.cli",
            "emulate",
            "--write-profile",
            str(self.profile),
        ]
        if config is not None:
            (folder / "emulator.toml").write_text(config, encoding="utf-8")
            args += ["--config", str(folder / "emulator.toml")]
        self.proc = subprocess.Popen(
            args,
            cwd=ROOT,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.PIPE,
            text=True,
        )
        deadline = time.monotonic() + 20
        while not self.profile.exists() or "[emulator]" not in self.profile.read_text():
            assert self.proc.poll() is None, self.proc.stderr.read() if self.proc.stderr else ""
            assert time.monotonic() < deadline, "harness emulate wrote no profile"
            time.sleep(0.05)
        self.text = self.profile.read_text()
        self.port = int(tomllib.loads(self.text)["velma"]["base_url"].rsplit(":", 1)[1])

    def stop(self) -> None:
        self.proc.terminate()
        self.proc.communicate(timeout=10)


def _through(text: str, port: int, proxy_port: int) -> str:
    """The written profile with its service URLs on the proxy (the control URL unchanged)."""
    lines = []
    for line in text.splitlines(keepends=True):
        if not line.startswith("control_url"):
            line = line.replace(f"127.0.0.1:{port}", f"127.0.0.1:{proxy_port}")
        lines.append(line)
    return "".join(lines)


@pytest.fixture(scope="module")
def targets(tmp_path_factory) -> Iterator[dict[str, Path]]:
    """Two emulators (the plain and the proxied runs go side by side) and four profiles."""
    tmp = tmp_path_factory.mktemp("admission-targets")
    plain = Emulator(tmp / "plain")
    behind = Emulator(tmp / "behind")
    try:
        # SVD Batch refuses over-limit requests with 403 (contradiction 2, preferred side)
        with DelayProxy(behind.port, delay_s=DELAY_S, statuses=(429, 403)) as proxy:
            proxied = _through(behind.text, behind.port, proxy.port)
            assert f":{proxy.port}" in tomllib.loads(proxied)["velma"]["ws_base_url"]
            profiles = {
                "plain-stated": plain.text,
                "plain-discovered": _without_limits(plain.text),
                "proxy-stated": proxied,
                "proxy-discovered": _without_limits(proxied),
            }
            out = {}
            for name, text in profiles.items():
                out[name] = tmp / f"{name}.toml"
                out[name].write_text(text, encoding="utf-8")
            yield out
    finally:
        plain.stop()
        behind.stop()


def _without_limits(text: str) -> str:
    out = re.sub(r"\[velma\.limits\.concurrency\]\n(?:[a-z-]+ = \d+\n)+", "", text)
    assert "concurrency" not in out
    return out


def _run(profile: Path, report: Path, selection=SELECTION) -> tuple[int, dict]:
    args = [sys.executable, "-m", "harness.cli", "run", "--target", str(profile)]
    args += ["--report-dir", str(report)]
    for clause in selection:
        args += ["--clause", clause]
    r = subprocess.run(
        args, cwd=ROOT, capture_output=True, text=True, timeout=280, env=dict(os.environ)
    )
    path = report / "latest" / "conformance.json"
    assert path.exists(), f"no report\n{r.stdout[-2000:]}\n{r.stderr[-2000:]}"
    return r.returncode, json.loads(path.read_text())


@pytest.fixture(scope="module")
def reports(targets, tmp_path_factory) -> dict[str, tuple[int, dict]]:
    tmp = tmp_path_factory.mktemp("admission-reports")

    def lane(kind: str) -> dict[str, tuple[int, dict]]:  # one emulator, one run at a time
        return {
            f"{kind}-{how}": _run(targets[f"{kind}-{how}"], tmp / f"{kind}-{how}")
            for how in ("stated", "discovered")
        }

    with ThreadPoolExecutor(max_workers=2) as pool:
        lanes = list(pool.map(lane, ("plain", "proxy")))
    return {**lanes[0], **lanes[1]}


def _cases(report: dict, clauses=SELECTION) -> list[dict]:
    return [c for c in report["cases"] if c["clause"] in clauses]


@pytest.mark.parametrize("how", ["stated", "discovered"])
def test_the_plain_emulator_passes_with_the_limit_stated_or_discovered(reports, how):
    code, report = reports[f"plain-{how}"]
    cases = _cases(report)
    assert {c["clause"] for c in cases} == set(SELECTION)
    bad = [
        (c["id"], c["outcome"], c["message"], c["actual"])
        for c in cases
        if c["outcome"] != "passed"
    ]
    assert not bad and code == 0, bad
    found: dict[str, set[str]] = {}
    for c in cases:  # each verdict says where its limit came from, in the note and evidence
        assert f"limit 5, {how}" in c["actual"], c["actual"]
        limits = [e for e in c["evidence"] if e.get("kind") == "concurrency-limit"]
        assert limits and limits[0]["origin"] == how and limits[0]["limit"] == 5, c["evidence"]
        found.setdefault(limits[0]["surface"], set()).add(limits[0]["how"])
    # discovered once per surface and run: every case of a surface shows the same discovery
    assert all(len(hows) == 1 for hows in found.values()), found
    assert {"stt-batch", "stt-stream"} <= set(found)


@pytest.mark.parametrize("how", ["stated", "discovered"])
def test_refusals_held_back_3s_fail_the_immediate_clauses(reports, how):
    code, report = reports[f"proxy-{how}"]
    cases = _cases(report, IMMEDIATE)
    assert {c["clause"] for c in cases} == set(IMMEDIATE)
    not_failed = [(c["id"], c["outcome"], c["message"]) for c in cases if c["outcome"] != "failed"]
    assert not not_failed and code == 1, not_failed
    for c in cases:
        assert f"limit 5, {how}" in c["actual"], c["actual"]
    if how == "discovered":  # the discovery saw the late refusals and still found the limit
        ev = [e for c in cases for e in c["evidence"] if e.get("kind") == "concurrency-limit"]
        late = [min(e["steps"][-1]["rejection_s"]) for e in ev]
        assert late and min(late) >= DELAY_S - 0.1, late


def test_no_limit_found_up_to_the_bound_is_skipped_with_the_cause(tmp_path):
    """A limit above the discovery's bound (16 at once) cannot be tested: skipped, not passed."""
    roomy = '[orgs.demo]\nconcurrency = 40\n[[orgs.demo.keys]]\nkey = "k"\nrole = "valid"\n'
    emulator = Emulator(tmp_path / "roomy", roomy)
    try:
        profile = tmp_path / "roomy.toml"
        profile.write_text(_without_limits(emulator.text), encoding="utf-8")
        selection = ("stt-batch/concurrency-immediate", "svd-stream/admission-immediate")
        code, report = _run(profile, tmp_path / "report", selection)
    finally:
        emulator.stop()
    cases = _cases(report, selection)
    assert {c["clause"] for c in cases} == set(selection)
    for c in cases:
        assert c["outcome"] == "skipped" and c["reason"] == "cannot-provoke", c
        surface = c["clause"].split("/")[0]
        assert c["cause"] == f"{surface}: no concurrency limit stated, none found by discovery"
        assert "no limit up to 16" in c["message"] or "no refusal up to 16" in c["message"], c
    assert code != 1
