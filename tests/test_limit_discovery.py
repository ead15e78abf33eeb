"""Discovering a concurrency limit the profile does not state (harness.client.discover).

The REST and WebSocket climbs run here against small in-process fakes: a target with
a known limit that refuses at once, refuses late, queues, has no limit, or refuses
everything. A discovered limit says how it was found; no limit is a None value with
the cause, never a number.
"""

from __future__ import annotations

import threading
import time

import pytest

from harness.client import discover as D
from harness.load.judge import Attempt

SERVICE_S = 0.15


class FakeRest:
    """A target with ``limit`` slots; over the limit: refuse (after ``refuse_after_s``)
    or, with ``queue``, wait for a slot."""

    def __init__(
        self,
        limit: int | None,
        *,
        refuse_after_s: float = 0.0,
        queue: bool = False,
        service_s: float = SERVICE_S,
    ):
        self.service_s = service_s
        self.slots = threading.BoundedSemaphore(limit) if limit else None
        self.refuse_after_s = refuse_after_s
        self.queue = queue
        self.calls = 0
        self._lock = threading.Lock()

    def send(self) -> Attempt:
        with self._lock:
            self.calls += 1
        t = time.perf_counter()
        if self.slots is not None and not self.slots.acquire(blocking=self.queue):
            time.sleep(self.refuse_after_s)
            return Attempt("rejected", time.perf_counter() - t, "429")
        try:
            time.sleep(self.service_s)
        finally:
            if self.slots is not None:
                self.slots.release()
        return Attempt("served", time.perf_counter() - t)


def test_an_immediate_refusal_gives_the_limit_and_says_it_was_discovered():
    target = FakeRest(3)
    found = D.discover_http("stt-batch", target.send, bound=8)
    assert (found.value, found.origin) == (3, D.DISCOVERED)
    assert "8 at once: 3 served; 5 refused (429)" in found.how
    assert target.calls == 9  # one alone, then the bound: capped
    assert found.steps[1]["signals"] == {"429": 5}
    assert "discovered" in found.describe() and found.evidence()["origin"] == "discovered"


def test_a_late_refusal_still_gives_the_limit_with_its_latency():
    found = D.discover_http("stt-batch", FakeRest(2, refuse_after_s=0.5).send, bound=6)
    assert found.value == 2
    assert min(found.steps[1]["rejection_s"]) >= 0.5
    assert "after a median 0.5" in found.how


def test_a_queueing_target_gives_the_number_served_at_once():
    # queued: 2xx later than max(1.5 x, +0.2 s) the service time (the load probe's rule)
    found = D.discover_http("vfast-batch", FakeRest(2, queue=True, service_s=0.4).send, bound=6)
    assert found.value == 2 and found.origin == D.DISCOVERED
    assert "served only after waiting (queued)" in found.how


def test_no_limit_up_to_the_bound_is_not_a_number():
    found = D.discover_http("svd-batch", FakeRest(None).send, bound=5)
    assert found.value is None and found.origin == D.NOT_FOUND
    assert "no limit up to 5" in found.how and "could not be tested" in found.how


def test_a_target_that_serves_nothing_is_not_a_limit_of_zero():
    def refuse() -> Attempt:
        return Attempt("rejected", 0.001, "401")

    found = D.discover_http("pii-batch", refuse, bound=4)
    assert found.value is None and "not served (401)" in found.how


def test_stated_limits_say_so():
    found = D.stated("stt-batch", 5)
    assert found.value == 5 and found.origin == D.STATED
    assert "profile" in found.describe()


class FakeWs:
    """``limit`` sessions stay open; the others are closed with 4029 after ``after_s``."""

    def __init__(self, limit: int | None, after_s: float = 0.0):
        self.limit = limit
        self.after_s = after_s
        self.open_now = 0
        self.closed = 0
        self._lock = threading.Lock()

    def open_one(self, window_s: float):
        t = time.perf_counter()
        with self._lock:
            admitted = self.limit is None or self.open_now < self.limit
            if admitted:
                self.open_now += 1
        if not admitted:
            if self.after_s >= window_s:
                time.sleep(window_s)
                return Attempt("served", window_s), self._close
            time.sleep(self.after_s)
            return Attempt("rejected", time.perf_counter() - t, "4029"), None
        time.sleep(window_s)
        return Attempt("served", window_s), self._close

    def _close(self) -> None:
        with self._lock:
            self.open_now -= 1
            self.closed += 1


@pytest.mark.parametrize("after_s", [0.0, 0.3])
def test_ws_discovery_counts_the_sessions_left_open_and_closes_them(after_s):
    fake = FakeWs(3, after_s)
    found = D.discover_ws("stt-stream", fake.open_one, bound=7, window_s=0.6)
    assert (found.value, found.origin) == (3, D.DISCOVERED)
    assert "3 stayed open" in found.how and "4 refused (4029)" in found.how
    assert fake.open_now == 0 and fake.closed == 3  # every held session was closed again


def test_ws_without_a_refusal_in_the_window_is_not_a_limit():
    found = D.discover_ws("svd-stream", FakeWs(None).open_one, bound=4, window_s=0.2)
    assert found.value is None and "no refusal up to 4" in found.how
