"""Bounded waiting on a misbehaving target: a stream that never ends is judged at its
deadline, and once the same stall shows on a surface several streams in a row, the
surface's later cases that wait for a stream's end are not tested, with that cause.

The emulator's ``hang-after-end`` deviation answers the end of a stream with silence and
keeps the connection open (no ``done``, no close).
"""

from __future__ import annotations

import json
import subprocess
import threading
import time
from pathlib import Path

import pytest
from harness_cli import harness_run

from harness.client.evidence import Recorder
from harness.client.ws import open_session
from harness.contract.tables import VELMA_PATHS
from harness.emulator.child import start_child
from harness.emulator.deviations import HANG_AFTER_END, STREAM_DEVIATIONS
from harness.emulator.profile import profile_toml
from harness.not_tested import (
    REPEATS_BEFORE_SHORTCUT,
    EndOfStreamWatch,
    FailurePatterns,
    NotTested,
    stream_end_pattern,
)
from harness.redact import Redactor
from harness.report import resolve_latest

ROOT = Path(__file__).resolve().parents[1]
NO_DONE = "no `done` and no close after the end of the stream"
RAW16 = {"audio_format": "s16le", "sample_rate": 16000, "num_channels": 1}


# --------------------------------------------------------------------------- the memory


def test_the_pattern_trips_after_the_threshold_in_a_row_and_names_it():
    p = FailurePatterns(threshold=3)
    p.seen("stt-stream", NO_DONE)
    p.seen("stt-stream", NO_DONE)
    p.seen("stt-stream", None)  # one stream that ended as it should: the row starts again
    p.seen("stt-stream", NO_DONE)
    p.seen("stt-stream", NO_DONE)
    assert p.cause("stt-stream") is None
    p.seen("svd-stream", NO_DONE)  # another surface does not count
    assert p.cause("stt-stream") is None
    p.seen("stt-stream", NO_DONE)
    cause = p.cause("stt-stream")
    assert cause is not None and NO_DONE in cause and "3 streams in a row" in cause
    assert cause.startswith("stt-stream: ")
    assert p.cause("svd-stream") is None
    p.seen("stt-stream", None)  # once tripped, the cause stays for the rest of the run
    assert p.cause("stt-stream") == cause


def test_a_different_pattern_breaks_the_row():
    p = FailurePatterns(threshold=2)
    p.seen("pii-stream", NO_DONE)
    p.seen("pii-stream", "`done` but no close after the end of the stream")
    assert p.cause("pii-stream") is None


def test_the_memory_is_thread_safe():
    p = FailurePatterns(threshold=10_000)
    barrier = threading.Barrier(8)

    def hammer() -> None:
        barrier.wait()
        for _ in range(1250):
            p.seen("stt-stream", NO_DONE)

    threads = [threading.Thread(target=hammer) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    cause = p.cause("stt-stream")  # exactly 10 000 in a row: no update was lost
    assert cause is not None and "10000 streams in a row" in cause


def test_the_watch_skips_with_the_cause_once_tripped():
    p = FailurePatterns(threshold=1)
    watch = EndOfStreamWatch(p, "stt-stream")
    watch.before()  # nothing seen yet: the wait goes ahead

    class Stalled:
        timed_out, close_code, types = True, None, ["utterance"]

    watch.after(Stalled())
    with pytest.raises(NotTested) as info:
        watch.before()
    assert info.value.cause == p.cause("stt-stream") and NO_DONE in info.value.cause


# --------------------------------------------------------------------------- the emulator


def test_hang_after_end_is_a_stream_deviation():
    assert HANG_AFTER_END in STREAM_DEVIATIONS


def test_hang_after_end_never_sends_done_nor_closes_and_the_wait_is_bounded():
    child = start_child({"deviations": {"enabled": [HANG_AFTER_END]}}, time_scale=0)
    try:
        seen = []

        class Watch:
            def before(self) -> None:
                seen.append("before")

            def after(self, result) -> None:
                seen.append(stream_end_pattern(result))

        s = open_session(
            child.ws_base_url,
            VELMA_PATHS["stt-stream"],
            {"api_key": child.key, **RAW16},
            Recorder(Redactor({})),
            0.8,
            watch=Watch(),
        )
        s.stream([bytes(3200)] * 5)
        assert s.end_of_stream()
        t0 = time.monotonic()
        r = s.until_close()
        waited = time.monotonic() - t0
        assert r.timed_out and r.close_code is None and "done" not in r.types
        s.close()
        assert r.closed_by == "client"
        assert 0.7 < waited < 5.0
        assert seen == ["before", NO_DONE]
    finally:
        child.stop()


# --------------------------------------------------------------------------- a run


@pytest.fixture(scope="module")
def stalled_run(
    tmp_path_factory: pytest.TempPathFactory,
) -> tuple[subprocess.CompletedProcess[str], Path]:
    """``--clause stt-stream/`` against ``harness emulate``-like child with hang-after-end,
    through a kind = "emulator" profile with a 1 s wait."""
    tmp = tmp_path_factory.mktemp("stalled")
    child = start_child({"deviations": {"enabled": [HANG_AFTER_END]}}, time_scale=0.002)
    try:
        profile = tmp / "emulator.toml"
        text = profile_toml(child.base_url, child.config, child.token)
        profile.write_text(text + "\n[run]\ntimeout_s = 1\n", encoding="utf-8")
        r = harness_run(tmp / "r", target=profile, clauses=("stt-stream/",), timeout=600)
    finally:
        child.stop()
    return r, resolve_latest(tmp / "r")


def test_later_cases_carry_the_pattern_cause_and_none_fails_because_of_it(stalled_run):
    r, where = stalled_run
    data = json.loads((where / "conformance.json").read_text())
    cases = data["cases"]
    shortcut = [c for c in cases if NO_DONE in (c.get("cause") or "")]
    assert len(shortcut) >= 5, (r.returncode, r.stderr[-2000:])
    for c in shortcut:
        assert c["outcome"] in ("skipped", "error"), c["id"]
        assert c["cause"].startswith("stt-stream: ")
        assert f"{REPEATS_BEFORE_SHORTCUT} streams in a row" in c["cause"]
    assert len({c["cause"] for c in shortcut}) == 1  # one group in the report
    # the first stalled streams were judged when their deadline passed (not skipped)
    judged = [c for c in cases if c["outcome"] not in ("skipped", "error")]
    assert judged
    # the report's not-tested groups and the terminal say so
    assert NO_DONE in r.stdout


STALL = "no `done` and no close after the end of the stream"


def test_a_new_wait_awaits_a_suspected_stall_instead_of_meeting_it_again(monkeypatch):
    """Cases at once: a wait that starts while others on the surface have lasted long
    waits for their outcome; when they trip the surface it is skipped at once."""
    import harness.not_tested as nt

    monkeypatch.setattr(nt, "SUSPECT_AFTER_S", 0.05)
    p = FailurePatterns(threshold=2)
    assert p.begin("stt-stream", 1, patience_s=5) is None
    assert p.begin("stt-stream", 2, patience_s=5) is None  # fresh waits do not hold others
    time.sleep(0.1)  # both now look like stalls in progress

    def stall_both() -> None:
        time.sleep(0.3)
        for wait in (1, 2):
            p.end("stt-stream", wait)
            p.seen("stt-stream", STALL)

    threading.Thread(target=stall_both).start()
    t0 = time.monotonic()
    cause = p.begin("stt-stream", 3, patience_s=5)
    held = time.monotonic() - t0
    assert cause is not None and STALL in cause
    assert 0.2 < held < 3, held  # it waited for the others' outcome, not its own timeout
    assert p.begin("svd-stream", 4, patience_s=5) is None  # other surfaces are not held


def test_a_suspected_stall_holds_a_new_wait_no_longer_than_its_patience(monkeypatch):
    import harness.not_tested as nt

    monkeypatch.setattr(nt, "SUSPECT_AFTER_S", 0.01)
    p = FailurePatterns(threshold=1)
    assert p.begin("pii-stream", 1, patience_s=5) is None
    time.sleep(0.05)
    t0 = time.monotonic()
    assert p.begin("pii-stream", 2, patience_s=0.3) is None  # nobody ended: it goes ahead
    assert 0.25 < time.monotonic() - t0 < 2


def test_suspects_too_few_to_trip_the_surface_hold_nobody(monkeypatch):
    import harness.not_tested as nt

    monkeypatch.setattr(nt, "SUSPECT_AFTER_S", 0.01)
    p = FailurePatterns(threshold=3)
    assert p.begin("svd-stream", 1, patience_s=5) is None
    time.sleep(0.05)  # one suspected stall, none seen yet: 0 + 1 < 3
    t0 = time.monotonic()
    assert p.begin("svd-stream", 2, patience_s=5) is None
    assert time.monotonic() - t0 < 2.0  # held, it would wait out its patience (5 s)


def test_idle_counts_long_waits_and_held_waits_only(monkeypatch):
    """What ``--jobs`` does not count: waits for a stream's end that have lasted a while,
    and waits held behind a suspected stall; a fresh wait is still busy."""
    import harness.not_tested as nt

    monkeypatch.setattr(nt, "SUSPECT_AFTER_S", 0.05)
    p = FailurePatterns(threshold=2)
    assert p.begin("stt-stream", 1, patience_s=5) is None
    assert p.begin("stt-stream", 2, patience_s=5) is None
    assert p.idle(after_s=0.05) == 0  # both just started
    time.sleep(0.1)
    assert p.idle(after_s=0.05) == 2
    held = threading.Thread(target=p.begin, args=("stt-stream", 3, 5.0))
    held.start()
    time.sleep(0.2)  # 3 is held behind the two suspected stalls (0 + 2 >= 2)
    assert p.idle(after_s=0.05) == 3
    p.end("stt-stream", 1)
    p.seen("stt-stream", None)  # 1 ended well: 0 + 1 < 2, so 3 goes ahead and starts its wait
    held.join(timeout=2)
    assert not held.is_alive()
    assert p.idle(after_s=0.05) == 1  # 2 is still long; 3's wait is fresh
    p.end("stt-stream", 2)
    p.end("stt-stream", 3)
    assert p.idle(after_s=0.0) == 0
