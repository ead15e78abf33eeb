"""``harness audit-client``: a client written to the documented policy passes, a naive one
is judged against the backoff / concurrency / no-retry clauses, bad input exits 3."""

from __future__ import annotations

import json
import sys
import textwrap
from pathlib import Path

import pytest

from harness.audit.judge import in_flight_peak, verdicts
from harness.audit.runner import ClientRun, run_client
from harness.audit.scenarios import BUILTIN, builtin, load_scenarios
from harness.cli import main
from harness.outcomes import ExitCode, Outcome

# One client, three behaviours: RETRY (statuses retried), WAIT (documented backoff or
# none), LIMIT (a semaphore, or none). Standard library only.
CLIENT = textwrap.dedent(
    """
    import os, random, threading, time, urllib.error, urllib.request, uuid, pathlib
    BASE = os.environ["MODULATE_API_BASE"]; KEY = os.environ["MODULATE_API_KEY"]
    RETRY = {RETRY}; WAIT = {WAIT}; LIMIT = {LIMIT}; TRIES = {TRIES}
    sem = threading.Semaphore(LIMIT or 1000)
    def post(path):
        b = uuid.uuid4().hex
        head = ("--" + b + '\\r\\nContent-Disposition: form-data; name="upload_file"; '
                'filename="' + path.name + '"\\r\\nContent-Type: audio/wav\\r\\n\\r\\n')
        body = head.encode() + path.read_bytes() + ("\\r\\n--" + b + "--\\r\\n").encode()
        req = urllib.request.Request(BASE + "/api/velma-2-stt-batch", data=body, method="POST",
            headers={{"X-API-Key": KEY, "Content-Type": "multipart/form-data; boundary=" + b}})
        try:
            with urllib.request.urlopen(req, timeout=30) as r:
                return r.status
        except urllib.error.HTTPError as e:
            return e.code
    def one(path):
        for attempt in range(TRIES):
            with sem:
                status = post(path)
            if status not in RETRY:
                print(path.name, status)
                return
            if WAIT:
                time.sleep(2 ** attempt + random.uniform(0, 1))
    files = sorted(pathlib.Path(os.environ["HARNESS_AUDIO_DIR"]).iterdir())
    ts = [threading.Thread(target=one, args=(p,)) for p in files]
    [t.start() for t in ts]
    [t.join() for t in ts]
    """
)

POLICY = {"RETRY": "(429, 503)", "WAIT": "True", "LIMIT": "2", "TRIES": "6"}
NAIVE = {"RETRY": "(401, 403, 429, 503)", "WAIT": "False", "LIMIT": "0", "TRIES": "50"}


def _client(tmp_path: Path, name: str, params: dict[str, str]) -> list[str]:
    path = tmp_path / f"{name}.py"
    path.write_text(CLIENT.format(**params), encoding="utf-8")
    return [sys.executable, str(path)]


def _outcomes(scenario: str, command: list[str]) -> dict[str, Outcome]:
    s = builtin(scenario)
    run = run_client(s, command, timeout_s=30)
    assert run.entries, run.stderr
    return {v.clause: v.outcome for v in verdicts(s, run)}


def test_list_prints_one_scenario_a_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit-client", "--list"]) == ExitCode.CONFORMS
    lines = capsys.readouterr().out.splitlines()
    assert [line.split("\t")[0] for line in lines] == [s.name for s in BUILTIN]


def test_policy_client_passes_429_burst_with_reports(tmp_path: Path) -> None:
    cmd = _client(tmp_path, "policy", POLICY)
    out = tmp_path / "report"
    code = main(["audit-client", "velma-batch-429-burst", "--report-dir", str(out), "--", *cmd])
    assert code == ExitCode.CONFORMS
    report = json.loads((out / "conformance.json").read_text())
    assert {c["outcome"] for c in report["cases"]} == {"passed"}
    assert {c["clause"] for c in report["cases"]} >= {"velma/client-backoff-jitter"}
    assert (out / "junit.xml").exists() and (out / "index.html").exists()
    assert "data:image/png" in (out / "timeline.html").read_text()


def test_naive_client_misses_the_backoff_clause(tmp_path: Path) -> None:
    got = _outcomes("velma-batch-429-burst", _client(tmp_path, "naive", NAIVE))
    assert got["velma/client-backoff-jitter"] == Outcome.NON_STRICT  # a SHOULD clause
    assert got["velma/client-retry-statuses"] == Outcome.PASSED  # it did get there


def test_naive_client_retries_what_cannot_succeed(tmp_path: Path) -> None:
    naive = _outcomes("velma-batch-401-invalid-key", _client(tmp_path, "naive", NAIVE))
    assert naive["velma/client-retry-statuses"] == Outcome.NON_STRICT
    policy = _outcomes("velma-batch-403-model-not-enabled", _client(tmp_path, "p", POLICY))
    assert policy["velma/client-retry-statuses"] == Outcome.PASSED


def test_concurrency_limit_policy_passes_naive_misses(tmp_path: Path) -> None:
    policy = _outcomes("velma-batch-concurrency-limit", _client(tmp_path, "p", POLICY))
    assert policy["velma/client-semaphore"] == Outcome.PASSED
    naive = _outcomes("velma-batch-concurrency-limit", _client(tmp_path, "n", NAIVE))
    assert naive["velma/client-semaphore"] == Outcome.NON_STRICT


@pytest.mark.parametrize(
    ("command", "needle"),
    [
        (["no-such-command-xyz"], "command not found"),
        ([sys.executable, "-c", "raise SystemExit(0)"], "never contacted"),
        ([sys.executable, "-c", "import time; time.sleep(0.3); print('done')"], "never contacted"),
        ([sys.executable, "-c", "import time; time.sleep(60)"], "did not finish within"),
    ],
    ids=["missing", "exits-at-once", "never-contacts", "hangs"],
)
def test_bad_input_could_not_audit(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], command: list[str], needle: str
) -> None:
    out = tmp_path / "r"
    argv = ["audit-client", "velma-batch-429-burst", "--timeout", "2", "--report-dir", str(out)]
    assert main([*argv, "--", *command]) == ExitCode.COULD_NOT_TEST
    assert needle in capsys.readouterr().err
    report = json.loads((out / "conformance.json").read_text())
    assert report["cases"] == [] and report["aborted"]["exit_code"] == ExitCode.COULD_NOT_TEST


def test_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["audit-client", "nope", "--", "true"]) == ExitCode.USAGE
    assert main(["audit-client", "velma-batch-429-burst"]) == ExitCode.USAGE


def test_toml_scenarios(tmp_path: Path) -> None:
    f = tmp_path / "more.toml"
    f.write_text(
        '[[scenario]]\nname = "x"\nchecks = ["backoff"]\nscript = { reject_first = 3 }\n',
        encoding="utf-8",
    )
    (s,) = load_scenarios(f)
    assert s.name == "x" and s.clauses == ("velma/client-backoff-jitter",)
    f.write_text('[[scenario]]\nname = "y"\nchecks = ["nope"]\n', encoding="utf-8")
    with pytest.raises(ValueError, match="unknown checks"):
        load_scenarios(f)


def test_in_flight_peak_and_pure_judging() -> None:
    e = [{"t": 0.0, "end": 1.0}, {"t": 0.5, "end": 1.5}, {"t": 1.6, "end": 2.0}]
    assert in_flight_peak(e) == 2
    entries = [
        {
            "kind": "http",
            "path": "/api/velma-2-stt-batch",
            "file": "a.wav",
            "t": t,
            "end": t + 0.01,
            "status": s,
        }
        for t, s in ((0.0, 429), (0.2, 429), (0.4, 200))
    ]
    run = ClientRun("velma-batch-429-burst", ["x"], 0, False, 1.0, "", "", 0.0, entries, ["a.wav"])
    got = {v.clause: v for v in verdicts(builtin("velma-batch-429-burst"), run)}
    assert got["velma/client-backoff-jitter"].outcome == Outcome.NON_STRICT
    assert "too soon" in got["velma/client-backoff-jitter"].message


def test_strict_makes_a_missed_recommendation_fail_the_audit(tmp_path: Path) -> None:
    cmd = _client(tmp_path, "naive", NAIVE)
    out = tmp_path / "report"
    args = ["audit-client", "velma-batch-429-burst", "--report-dir", str(out)]
    assert main([*args, "--", *cmd]) == ExitCode.CONFORMS  # SHOULD misses: non-strict
    assert main([*args, "--strict", "--", *cmd]) == ExitCode.VIOLATIONS


def test_a_check_the_scenario_never_provoked_is_an_error_not_a_pass() -> None:
    entries = [  # every attempt served at once: no 429 was ever shown to the client
        {
            "kind": "http",
            "path": "/v1/tts/generate",
            "file": "a",
            "t": t,
            "end": t + 0.01,
            "status": 200,
        }
        for t in (0.0, 0.5)
    ]
    run = ClientRun("kugel-429-retry-after", ["x"], 0, False, 1.0, "", "", 0.0, entries, ["a"])
    got = {v.clause: v for v in verdicts(builtin("kugel-429-retry-after"), run)}
    v = got["kugel/client-honours-retry-after"]
    assert v.outcome == Outcome.ERROR and "never got a 429" in v.message


# ---------------------------------------------------------------- streams and KugelAudio


def _ws(t: float, end: float, close: int, upload: str | None = None, **kw: object) -> dict:
    return {
        "kind": "ws",
        "path": "/api/velma-2-stt-streaming",
        "method": "GET",
        "key": "abc123abc123",
        "file": None,
        "upload": upload,
        "t": t,
        "end": end,
        "closed_at": end,
        "closed_by": "server",
        "status": 101,
        "close_code": close,
        "result": close == 1000,
        **kw,
    }


def _run(name: str, entries: list[dict], files: int = 2, exit_code: int = 0) -> ClientRun:
    names = [f"{i}.wav" for i in range(files)]
    return ClientRun(name, ["x"], exit_code, False, 1.0, "", "", 0.0, entries, names)


def test_concurrent_first_connections_are_not_taken_for_quick_retries() -> None:
    # two streams refused at connect at once, each retried 1.2 s later: on schedule
    entries = [
        _ws(0.000, 0.001, 4029),
        _ws(0.002, 0.003, 4029),
        _ws(1.2, 1.5, 1000, "aaa"),
        _ws(1.3, 1.6, 1000, "bbb"),
    ]
    (v,) = verdicts(builtin("velma-stream-4029-connect"), _run("s", entries))
    assert v.outcome == Outcome.PASSED, v.message
    # the same, retried at once: too soon
    quick = [*entries[:2], _ws(0.004, 0.3, 1000, "aaa"), _ws(0.005, 0.3, 1000, "bbb")]
    (v,) = verdicts(builtin("velma-stream-4029-connect"), _run("s", quick))
    assert v.outcome == Outcome.NON_STRICT and "too soon" in v.message


def test_a_midstream_refusal_is_followed_by_the_same_stream() -> None:
    entries = [_ws(0.0, 0.01, 1011, "aaa"), _ws(0.02, 0.3, 1000, "bbb"), _ws(1.1, 1.4, 1000, "aaa")]
    (v,) = verdicts(builtin("velma-stream-1011-midstream"), _run("s", entries))
    assert v.outcome == Outcome.PASSED, v.message  # bbb, a first attempt, is not the retry


@pytest.mark.parametrize(("exit_code", "expected"), [(1, Outcome.PASSED), (0, Outcome.NON_STRICT)])
def test_a_stream_given_up_after_1011_must_be_reported(exit_code: int, expected: Outcome) -> None:
    entries = [_ws(0.0, 0.01, 1011, "aaa"), _ws(0.0, 0.3, 1000, "bbb")]
    (v,) = verdicts(builtin("velma-stream-1011-midstream"), _run("s", entries, 2, exit_code))
    assert v.outcome == expected, v.message


def test_stream_no_retry_counts_reconnections_per_stream() -> None:
    entries = [_ws(0.01 * i, 0.01 * i + 0.001, 4001) for i in range(8)]  # 2 streams x 4
    (v,) = verdicts(builtin("velma-stream-4001-invalid-key"), _run("s", entries))
    assert v.outcome == Outcome.NON_STRICT and "3 further attempt" in v.message


def test_every_verdict_carries_the_exchanges_it_judged_with_key_fingerprints() -> None:
    entries = [_ws(10.0, 10.001, 4029), _ws(11.5, 11.8, 1000, "aaa", frames_in=3)]
    (v,) = verdicts(builtin("velma-stream-4029-connect"), _run("s", entries, files=1))
    assert len(v.exchanges) == 2
    assert "close 4029 by server" in v.exchanges[0] and "key#abc123abc123" in v.exchanges[0]
    assert "+11.500s WS /api/velma-2-stt-streaming" in v.exchanges[1]


def test_ws_script_fields_are_checked() -> None:
    from harness.emulator.record import Script

    s = Script.from_json({"ws_close": 4029, "ws_when": "first-binary"})
    assert s.error_message() == {"type": "error", "error": s.detail}
    with pytest.raises(ValueError, match="ws_when"):
        Script.from_json({"ws_close": 4029, "ws_when": "later"})
    with pytest.raises(ValueError, match="ws_close"):
        Script.from_json({"ws_close": 99})


# A KugelAudio client over /v1/tts/generate: DECIDE picks what to retry (by status, by
# error_code or by the error text), WAIT the seconds before a retry.
KUGEL_POLICY = textwrap.dedent(
    """
    import json, os, time, urllib.error, urllib.request
    BASE = os.environ["KUGEL_API_BASE"]; KEY = os.environ["KUGEL_API_KEY"]
    failed = 0
    for text in ("Hello there.", "Second line."):
        for attempt in range(4):
            req = urllib.request.Request(BASE + "/v1/tts/generate", method="POST",
                data=json.dumps({{"text": text}}).encode(),
                headers={{"Authorization": "Bearer " + KEY, "Content-Type": "application/json"}})
            try:
                with urllib.request.urlopen(req, timeout=30) as r:
                    break
            except urllib.error.HTTPError as e:
                body = json.loads(e.read() or b"{{}}")
                if not ({DECIDE}):
                    failed += 1
                    break
                time.sleep({WAIT})
    raise SystemExit(1 if failed else 0)
    """
)
BY_CODE = "body.get('error_code') in ('RATE_LIMITED', 'MODEL_UNAVAILABLE')"
BY_TEXT = "'rate limit' in body.get('error', '').lower() or 'overloaded' in body.get('error', '')"
BACKOFF = "2 ** attempt"


def _kugel(tmp_path: Path, decide: str, wait: str) -> list[str]:
    path = tmp_path / "kugel_client.py"
    path.write_text(KUGEL_POLICY.format(DECIDE=decide, WAIT=wait), encoding="utf-8")
    return [sys.executable, str(path)]


@pytest.mark.parametrize(
    ("wait", "expected"),
    [("float(e.headers['Retry-After'])", Outcome.PASSED), ("0.05", Outcome.NON_STRICT)],
    ids=["honours", "ignores"],
)
def test_kugel_retry_after(tmp_path: Path, wait: str, expected: Outcome) -> None:
    client = _kugel(tmp_path, "e.code == 429", wait)
    got = _outcomes("kugel-429-retry-after", client)
    assert got["kugel/client-honours-retry-after"] == expected


def test_kugel_error_text_keyed_client_misbehaves(tmp_path: Path) -> None:
    clause = "kugel/client-keys-off-error-code"
    good = _outcomes("kugel-unusual-error-text", _kugel(tmp_path, BY_CODE, BACKOFF))
    assert good[clause] == Outcome.PASSED
    bad = _outcomes("kugel-unusual-error-text", _kugel(tmp_path, BY_TEXT, BACKOFF))
    assert bad[clause] == Outcome.NON_STRICT


def test_kugel_429_without_retry_after_needs_a_backoff(tmp_path: Path) -> None:
    clause = "kugel/client-backs-off"
    assert _outcomes("kugel-429-backoff", _kugel(tmp_path, BY_CODE, BACKOFF))[clause] == (
        Outcome.PASSED
    )
    quick = _outcomes("kugel-429-backoff", _kugel(tmp_path, BY_CODE, "0.01"))
    assert quick[clause] == Outcome.NON_STRICT


def test_kugel_402_is_not_retried(tmp_path: Path) -> None:
    clause = "kugel/client-no-retry"
    good = _outcomes("kugel-402-insufficient-credits", _kugel(tmp_path, BY_CODE, "0.01"))
    assert good[clause] == Outcome.PASSED
    bad = _outcomes("kugel-402-insufficient-credits", _kugel(tmp_path, "True", "0.01"))
    assert bad[clause] == Outcome.NON_STRICT
