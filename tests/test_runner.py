"""`harness run` end to end: exit codes, partial reports, and no key in any report file.

Each test runs the real command in a subprocess (a conformance run starts pytest
itself) against the embedded emulator or a tiny misbehaving server on loopback.
"""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from harness_cli import harness_run

ROOT = Path(__file__).resolve().parents[1]
HARNESS = [sys.executable, "-m", "harness.cli"]


def _report(base: Path) -> dict:
    return json.loads((base / "latest" / "conformance.json").read_text())


def _profile(tmp_path: Path, base_url: str, extra: str = "") -> Path:
    p = tmp_path / "target.toml"
    p.write_text(
        f'name = "test target"\nkind = "live"\n[velma]\nbase_url = "{base_url}"\n'
        f'[velma.keys]\nvalid = "${{TEST_KEY}}"\n[run]\ntimeout_s = 2\n{extra}',
        encoding="utf-8",
    )
    return p


class _Server:
    """A loopback TCP server whose behaviour per connection is a function."""

    def __init__(self, handle) -> None:
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(50)
        self.port = self.sock.getsockname()[1]
        self._handle = handle
        self._stop = False
        self._conns: list[socket.socket] = []
        threading.Thread(target=self._loop, daemon=True).start()

    def _loop(self) -> None:
        self.sock.settimeout(0.2)
        while not self._stop:
            try:
                conn, _ = self.sock.accept()
            except OSError:
                continue
            self._conns.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def close(self) -> None:
        self._stop = True
        for c in self._conns:
            c.close()
        self.sock.close()


@pytest.fixture
def hung_server() -> Iterator[_Server]:
    s = _Server(lambda conn: time.sleep(30))
    yield s
    s.close()


@pytest.fixture
def garbage_server() -> Iterator[_Server]:
    def handle(conn: socket.socket) -> None:
        try:
            conn.recv(65536)
            conn.sendall(b"\x00\xffthis is not HTTP\r\n\x13\x37" * 20)
        finally:
            conn.close()

    s = _Server(handle)
    yield s
    s.close()


def _closed_port() -> int:
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def _assert_could_not_test(r: subprocess.CompletedProcess[str], reports: Path, words: str) -> None:
    assert r.returncode == 3, (r.returncode, r.stdout[-2000:], r.stderr[-2000:])
    assert "Traceback" not in r.stderr and "INTERNALERROR" not in r.stdout + r.stderr
    assert words in r.stderr + r.stdout
    data = _report(reports)  # the partial report is there and readable
    assert data["complete"] is False
    assert data["aborted"]["exit_code"] == 3 and words in data["aborted"]["reason"]


@pytest.mark.parametrize(
    ("server", "words"),
    [
        (None, "unreachable"),
        ("hung_server", "did not answer"),
        ("garbage_server", "did not speak HTTP"),
    ],
    ids=["unreachable", "hung", "garbage"],
)
def test_an_untestable_target_exits_3_with_a_partial_report(tmp_path, request, server, words):
    """A closed port, a server that never answers, and one that does not speak HTTP
    each end the run with exit 3, a partial report and the cause, within the timeout."""
    port = request.getfixturevalue(server).port if server else _closed_port()
    profile = _profile(tmp_path, f"http://127.0.0.1:{port}")
    t0 = time.monotonic()
    r = harness_run(tmp_path / "r", target=profile, env={"TEST_KEY": "k" * 12})
    assert time.monotonic() - t0 < 60
    _assert_could_not_test(r, tmp_path / "r", words)


def test_bad_profile_exits_2_naming_the_field(tmp_path):
    p = tmp_path / "bad.toml"
    p.write_text('name = "x"\n[velma]\nbase_url = 42\n', encoding="utf-8")
    r = harness_run(tmp_path / "r", target=p)
    assert r.returncode == 2
    assert "velma.base_url" in r.stderr and "expected a URL" in r.stderr
    assert "Traceback" not in r.stderr


def test_missing_env_variable_exits_2_naming_it(tmp_path):
    profile = _profile(tmp_path, "http://127.0.0.1:9")
    env = {k: v for k, v in os.environ.items() if k != "TEST_KEY"}
    r = subprocess.run(
        [*HARNESS, "run", "--target", str(profile), "--report-dir", str(tmp_path / "r")],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=60,
        env=env,
    )
    assert r.returncode == 2
    assert "TEST_KEY" in r.stderr and "velma.keys.valid" in r.stderr


def test_a_canary_key_appears_nowhere_under_the_report_directory(tmp_path):
    canary = "CANARY-" + os.urandom(8).hex()
    config = tmp_path / "emulator.toml"
    config.write_text(
        f'[orgs.demo]\nconcurrency = 5\nquota_audio_hours = 3.0\n[[orgs.demo.keys]]\nkey = "{canary}"\nrole = "valid"\n',
        encoding="utf-8",
    )
    from harness.emulator.config import load_emulator_config
    from harness.emulator.server import start

    running = start(load_emulator_config(config))
    try:
        ws = "ws" + running.base_url[len("http") :]
        profile = tmp_path / "canary.toml"
        profile.write_text(
            f'name = "canary"\nkind = "emulator"\n[velma]\nbase_url = "{running.base_url}"\n'
            f'ws_base_url = "{ws}"\n[velma.keys]\nvalid = "${{CANARY_KEY}}"\n',
            encoding="utf-8",
        )
        r = harness_run(
            tmp_path / "r",
            target=profile,
            clauses=("stt-batch/", "stt-stream/", "svd-batch/"),
            env={"CANARY_KEY": canary},
        )
    finally:
        running.stop()
    assert r.returncode in (0, 1), r.stderr[-2000:]
    assert canary not in r.stdout + r.stderr
    files = [p for p in (tmp_path / "r").rglob("*") if p.is_file()]
    assert any(p.name == "conformance.json" for p in files)
    assert any("allure-results" in p.parts for p in files)
    for f in files:
        assert canary.encode() not in f.read_bytes(), f"the key leaked into {f}"
    data = _report(tmp_path / "r")
    used = [
        c for c in data["cases"] if c["outcome"] in ("passed", "failed") and c.get("reproducer")
    ]
    assert used, "no case exercised the key"
    assert any("${CANARY_KEY}" in c["reproducer"]["text"] for c in used)
