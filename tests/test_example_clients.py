"""The worked example clients in examples/clients/, run by hand against an emulator child.

Each example gets its target only through the environment (``MODULATE_API_BASE`` ...,
``HARNESS_AUDIO_DIR``), as ``harness audit-client`` gives it. Here the emulator admits one
request at a time and each takes ~0.2 s, so a client that sends more than one at once meets 429s:
the policy client must still transcribe every file, with at most its semaphore (2) in flight;
the naive one makes strictly more attempts. Both report their attempts and their most
requests in flight on a ``summary`` line.

Then ``harness audit-client`` judges them: the policy examples (Velma-2 batch and streaming,
KugelAudio HTTP and /ws/tts) pass every built-in scenario, the naive one misses the backoff,
concurrency and non-retryable clauses, and the official KugelAudio SDK (when installed) gets
a verdict on the /ws/tts rate-limit scenario instead of an error.
"""

from __future__ import annotations

import importlib.util
import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from harness.audio import write_to
from harness.audit.scenarios import BUILTIN
from harness.cli import main
from harness.emulator.child import ChildEmulator, start_child
from harness.outcomes import ExitCode

ROOT = Path(__file__).resolve().parents[1]
CLIENTS = ROOT / "examples" / "clients"
FIXTURES = ("clip-wav-16000-1ch-0.1s", "clip-wav-16000-1ch-0.3s", "clip-wav-16000-1ch-0.49s")
RUN_TIMEOUT_S = 25.0

EMULATOR = {
    # modelled time = 0.1-0.5 s / 200 + 50 s; slept * 0.004: every request takes ~0.2 s
    "processing": {"time_scale": 0.004, "base_s": 50.0},
    "orgs": {
        "demo": {"concurrency": 1, "keys": [{"key": "demo-valid-key", "role": "valid"}]},
    },
}


@pytest.fixture(scope="module")
def audio_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("audio")
    for fixture_id in FIXTURES:
        write_to(fixture_id, out / f"{fixture_id}.wav")
    return out


@pytest.fixture(scope="module")
def emulator() -> Iterator[ChildEmulator]:
    child = start_child(EMULATOR)
    try:
        yield child
    finally:
        child.stop()


def _run(
    script: str, emulator: ChildEmulator, audio_dir: Path, *args: str, key: str | None = None
) -> tuple[int, str, dict[str, int]]:
    env = {
        **os.environ,
        "MODULATE_API_BASE": emulator.base_url,
        "MODULATE_WS_BASE": emulator.ws_base_url,
        "MODULATE_API_KEY": key if key is not None else emulator.key,
        "KUGEL_API_BASE": emulator.base_url,
        "KUGEL_API_KEY": "demo-kugel-valid-key",
        "HARNESS_AUDIO_DIR": str(audio_dir),
    }
    proc = subprocess.run(
        [sys.executable, str(CLIENTS / script), *args],
        env=env,
        capture_output=True,
        text=True,
        timeout=RUN_TIMEOUT_S,
        check=False,
    )
    summary = re.search(r"^summary (.*)$", proc.stdout, re.MULTILINE)
    fields = {k: int(v) for k, v in re.findall(r"(\w+)=(\d+)", summary.group(1))} if summary else {}
    return proc.returncode, proc.stdout + proc.stderr, fields


def test_policy_client_transcribes_every_file_within_its_semaphore(emulator, audio_dir):
    rc, out, s = _run("velma_policy_client.py", emulator, audio_dir)
    assert rc == 0, out
    assert s["files"] == s["ok"] == len(FIXTURES), out
    assert 1 <= s["max_in_flight"] <= 2, out
    assert len(re.findall(r"^ok ", out, re.MULTILINE)) == len(FIXTURES), out


def test_policy_client_with_a_semaphore_of_one_keeps_one_in_flight(emulator, audio_dir):
    rc, out, s = _run("velma_policy_client.py", emulator, audio_dir, "--max-in-flight", "1")
    assert rc == 0, out
    assert s["max_in_flight"] == 1 and s["attempts"] >= len(FIXTURES), out


def test_naive_client_makes_more_attempts_under_a_one_slot_limit(emulator, audio_dir):
    _, policy_out, policy = _run("velma_policy_client.py", emulator, audio_dir)
    _, naive_out, naive = _run("velma_naive_client.py", emulator, audio_dir)
    assert naive["max_in_flight"] == len(FIXTURES), naive_out  # everything at once
    assert naive["attempts"] > policy["attempts"], (policy_out, naive_out)


def test_invalid_key_is_retried_only_by_the_naive_client(emulator, audio_dir):
    rc, out, s = _run("velma_policy_client.py", emulator, audio_dir, key="demo-invalid-key")
    assert rc == 1 and s["attempts"] == len(FIXTURES) and s["ok"] == 0, out
    assert out.count("401, not retryable") == len(FIXTURES), out
    rc, out, s = _run("velma_naive_client.py", emulator, audio_dir, key="demo-invalid-key")
    assert rc == 1 and s["attempts"] == 11 * len(FIXTURES) and s["ok"] == 0, out


def test_missing_environment_is_exit_2(audio_dir):
    env = {k: v for k, v in os.environ.items() if not k.startswith(("MODULATE_", "HARNESS_"))}
    for script in ("velma_policy_client.py", "velma_naive_client.py"):
        proc = subprocess.run(
            [sys.executable, str(CLIENTS / script)],
            env=env,
            capture_output=True,
            text=True,
            timeout=RUN_TIMEOUT_S,
            check=False,
        )
        assert proc.returncode == 2 and "MODULATE_API_BASE" in proc.stderr, proc.stderr


@pytest.mark.skipif(
    importlib.util.find_spec("kugelaudio") is None,
    reason="the optional KugelAudio SDK (`kugelaudio`, extra `sdk`) is not installed",
)
def test_kugel_sdk_script_synthesises_once(emulator, audio_dir):
    rc, out, _ = _run("kugel_sdk_audit.py", emulator, audio_dir)
    assert rc == 0 and out.startswith("ok synthesised"), out


# ---------------------------------------------------------------- judged by harness audit-client

AUDIT_TIMEOUT = "40"  # per scenario; the slowest policy run needs about 8 s
VELMA_BATCH = [s.name for s in BUILTIN if s.name.startswith("velma-batch-")]
VELMA_STREAM = [s.name for s in BUILTIN if s.name.startswith("velma-stream-")]
KUGEL_HTTP = [s.name for s in BUILTIN if s.name.startswith("kugel-") and "-ws-" not in s.name]
KUGEL_WS = [s.name for s in BUILTIN if s.name.startswith("kugel-ws-")]


def _audit(out: Path, names: list[str], script: str, *args: str, strict: bool = False):
    argv = ["audit-client", *names, "--timeout", AUDIT_TIMEOUT, "--report-dir", str(out)]
    argv += ["--strict"] if strict else []
    code = main([*argv, "--", sys.executable, str(CLIENTS / script), *args])
    report = json.loads((out / "conformance.json").read_text())
    got = {(c["nodeid"].split("::", 1)[1], c["clause"]): c["outcome"] for c in report["cases"]}
    return code, got


def test_every_scenario_has_a_policy_example_run_here():
    assert set(VELMA_BATCH + VELMA_STREAM + KUGEL_HTTP + KUGEL_WS) == {s.name for s in BUILTIN}


@pytest.mark.parametrize(
    ("names", "script", "args"),
    [
        (VELMA_BATCH, "velma_policy_client.py", ()),
        (VELMA_STREAM, "velma_policy_client.py", ("--stream",)),
        (KUGEL_HTTP, "kugel_policy_client.py", ()),
        (KUGEL_WS, "kugel_policy_client.py", ("--ws",)),
    ],
    ids=["velma-batch", "velma-stream", "kugel-http", "kugel-ws"],
)
def test_policy_examples_pass_every_scenario(tmp_path, names, script, args):
    code, got = _audit(tmp_path / "r", names, script, *args, strict=True)
    assert {scenario for scenario, _ in got} == set(names)
    assert set(got.values()) == {"passed"}, got
    assert code == ExitCode.CONFORMS


def test_naive_example_misses_backoff_concurrency_and_no_retry(tmp_path):
    batch = [
        "velma-batch-429-burst",
        "velma-batch-401-invalid-key",
        "velma-batch-concurrency-limit",
    ]
    _, got = _audit(tmp_path / "batch", batch, "velma_naive_client.py")
    assert got[("velma-batch-429-burst", "velma/client-backoff-jitter")] == "non-strict"
    assert got[("velma-batch-401-invalid-key", "velma/client-retry-statuses")] == "non-strict"
    assert got[("velma-batch-concurrency-limit", "velma/client-semaphore")] == "non-strict"
    stream = ["velma-stream-4029-connect", "velma-stream-1011-midstream"]
    stream += ["velma-stream-4003-model-not-enabled"]
    code, got = _audit(tmp_path / "s", stream, "velma_naive_client.py", "--stream", strict=True)
    assert got[("velma-stream-4029-connect", "velma/client-concurrency-retry")] == "non-strict"
    assert got[("velma-stream-1011-midstream", "velma/client-stream-internal-error")] == (
        "non-strict"
    )
    assert got[("velma-stream-4003-model-not-enabled", "velma/client-stream-no-retry")] == (
        "non-strict"
    )
    assert code == ExitCode.VIOLATIONS  # --strict: a missed recommendation fails the audit
    page = (tmp_path / "s" / "index.html").read_text()
    assert "Attempt timelines" in page and page.count("alt='attempt timeline of") == len(stream)


@pytest.mark.skipif(
    importlib.util.find_spec("kugelaudio") is None,
    reason="the optional KugelAudio SDK (`kugelaudio`, extra `sdk`) is not installed",
)
def test_kugel_sdk_is_judged_on_the_ws_rate_limit(tmp_path):
    _, got = _audit(tmp_path / "r", ["kugel-ws-4029"], "kugel_sdk_audit.py")
    outcome = got[("kugel-ws-4029", "kugel/client-backs-off")]
    assert outcome in {"passed", "non-strict"}, outcome  # a verdict, whatever it is
