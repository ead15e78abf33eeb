"""The case scheduler of ``--jobs``: caps per surface, alone cases, collection order."""

from __future__ import annotations

import random
from types import SimpleNamespace

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from harness.plugin.hooks import parse_jobs
from harness.plugin.schedule import (
    GROUPS,
    Needs,
    Scheduler,
    caps_from_limits,
    default_jobs,
    needs_of,
)

SURFACES = ["stt-batch", "svd-stream", "kugel-http"]


def _simulate(needs: list[Needs], caps: dict[str, int], jobs: int, seed: int) -> list[list[int]]:
    """Run the scheduler to the end, finishing a random running case each step; the sets
    of cases in flight after every start."""
    rng = random.Random(seed)
    s = Scheduler(needs, caps, jobs)
    snapshots: list[list[int]] = []
    started: list[int] = []
    for _ in range(10 * len(needs) + 10):
        batch = s.next_batch()
        started += batch
        if batch:
            snapshots.append(sorted(s.running))
        if s.done:
            break
        assert s.running, "nothing running and nothing could start: the scheduler is stuck"
        s.finish(rng.choice(sorted(s.running)))
    assert s.done
    assert sorted(started) == list(range(len(needs)))  # every case ran exactly once
    return snapshots


needs_strategy = st.lists(
    st.one_of(
        st.builds(
            Needs,
            slots=st.dictionaries(st.sampled_from(SURFACES), st.integers(1, 3), max_size=2),
        ),
        st.just(Needs(alone="fills a limit")),
        st.builds(
            Needs,
            slots=st.dictionaries(st.sampled_from(SURFACES), st.just(1), min_size=1, max_size=2),
            owns=st.just("fills the limit there"),
        ),
    ),
    max_size=25,
)


@settings(max_examples=200, deadline=None)
@given(needs=needs_strategy, jobs=st.integers(1, 6), cap=st.integers(1, 4), seed=st.integers())
def test_limits_hold_whatever_finishes_first(needs, jobs, cap, seed):
    caps = {s: cap for s in SURFACES}
    for running in _simulate(needs, caps, jobs, seed):
        assert len(running) <= jobs
        if any(needs[i].alone for i in running):
            assert len(running) == 1, f"an alone case ran beside others: {running}"
        for i in running:
            if needs[i].owns:
                shared = [
                    j for j in running if j != i and set(needs[j].slots) & set(needs[i].slots)
                ]
                assert not shared, f"case {i} owns its surfaces but {shared} ran on them"
        for surface in SURFACES:
            used = [needs[i].slots.get(surface, 0) for i in running]
            if sum(used) > cap:  # only a single case asking for more than the cap may
                assert len([u for u in used if u]) == 1, (surface, running)


@settings(max_examples=200, deadline=None)
@given(
    needs=needs_strategy,
    jobs=st.integers(1, 6),
    cap=st.integers(1, 4),
    seed=st.integers(),
    idle_share=st.floats(0, 1),
)
def test_idle_cases_make_room_for_jobs_but_not_on_the_caps(needs, jobs, cap, seed, idle_share):
    """Cases that only wait on a stalled stream do not count against ``jobs`` (up to
    ``jobs`` of them), but still hold their surface's slots and aloneness."""
    rng = random.Random(seed)
    caps = {s: cap for s in SURFACES}
    s = Scheduler(needs, caps, jobs)
    for _ in range(10 * len(needs) + 10):
        idle = int(len(s.running) * idle_share)
        s.next_batch(idle)
        assert len(s.running) <= jobs + max(idle, 0) and len(s.running) <= 2 * jobs
        if any(needs[i].alone for i in s.running):
            assert len(s.running) == 1
        for surface in SURFACES:
            used = [needs[i].slots.get(surface, 0) for i in s.running]
            if sum(used) > cap:
                assert len([u for u in used if u]) == 1, (surface, s.running)
        if s.done:
            break
        s.finish(rng.choice(sorted(s.running)))
    assert s.done


def test_idle_cases_let_more_start():
    needs = [Needs({"stt-stream": 1}), Needs({"svd-stream": 1}), Needs({"stt-batch": 1})]
    s = Scheduler(needs, {"stt-stream": 4, "svd-stream": 4, "stt-batch": 4}, jobs=1)
    assert s.next_batch() == [0]
    assert s.next_batch(idle=0) == []  # 0 is busy: one job
    assert s.next_batch(idle=1) == [1]  # 0 only waits on a stall: one more may run
    assert s.next_batch(idle=5) == []  # never more than jobs extra


def test_alone_cases_come_last_one_at_a_time():
    needs = [Needs({"stt-batch": 1}), Needs(alone="x"), Needs({"svd-stream": 1}), Needs(alone="y")]
    s = Scheduler(needs, {"stt-batch": 4, "svd-stream": 4}, jobs=4)
    assert s.order == [0, 2, 1, 3]
    assert s.next_batch() == [0, 2]  # the shared cases first
    s.finish(0)
    assert s.next_batch() == []  # the alone case waits for everything else
    s.finish(2)
    assert s.next_batch() == [1]
    assert s.next_batch() == []  # nothing beside it, not even the next alone case
    s.finish(1)
    assert s.next_batch() == [3]


def test_case_over_the_cap_is_passed_over_then_started():
    needs = [Needs({"stt-batch": 1}), Needs({"stt-batch": 1}), Needs({"svd-stream": 1})]
    s = Scheduler(needs, {"stt-batch": 1, "svd-stream": 1}, jobs=8)
    assert s.next_batch() == [0, 2]  # 1 must wait for 0's slot; 2 goes ahead
    s.finish(2)
    assert s.next_batch() == []
    s.finish(0)
    assert s.next_batch() == [1]


def test_owning_cases_wait_for_their_surfaces_only():
    needs = [
        Needs({"stt-batch": 1}),
        Needs({"stt-batch": 1}, owns="fills stt-batch"),
        Needs({"svd-stream": 1}, owns="fills svd-stream"),
        Needs({"kugel-http": 1}),
    ]
    s = Scheduler(needs, {"stt-batch": 4, "svd-stream": 4, "kugel-http": 4}, jobs=8)
    assert s.order == [0, 3, 1, 2]  # the shared cases first
    assert s.next_batch() == [0, 3, 2]  # svd-stream is free: case 2 owns it at once
    s.finish(0)
    assert s.next_batch() == [1]  # stt-batch is free now
    assert s.owned == {"stt-batch", "svd-stream"}


def test_one_job_follows_the_order():
    needs = [Needs({"stt-batch": 1}), Needs(), Needs(alone="x"), Needs({"svd-stream": 2})]
    s = Scheduler(needs, {}, jobs=1)
    order = []
    while not s.done:
        (i,) = s.next_batch()
        order.append(i)
        s.finish(i)
    assert order == s.order == [0, 1, 3, 2]


def test_caps_leave_one_slot_of_the_limit_free():
    caps = caps_from_limits({"stt-batch": 5, "svd-stream": 1, "pii-batch": "x"}, default=1)
    assert caps["stt-batch"] == 4 and caps["svd-stream"] == 1
    assert caps["pii-batch"] == 1  # unreadable limit: the default
    assert set(GROUPS["velma"]) <= set(caps)
    assert default_jobs({"a": 4, "b": 4, "c": 1}) == 8
    assert default_jobs({"a": 1}) == 1


@pytest.mark.parametrize("value", ["0", "-2", "two", "1.5", ""])
def test_bad_jobs_is_a_usage_error(value):
    with pytest.raises(pytest.UsageError, match="--jobs: expected a whole number"):
        parse_jobs(value)


def test_jobs_values():
    assert parse_jobs("auto") is None and parse_jobs("AUTO") is None
    assert parse_jobs("3") == 3


class _Item:
    """Enough of a pytest item for needs_of: markers and parameters."""

    def __init__(self, markers: dict, params: dict | None = None) -> None:
        self._markers = markers
        if params is not None:
            self.callspec = type("CallSpec", (), {"params": params})()

    def get_closest_marker(self, name):
        return self._markers.get(name)


def _mark(*args):
    return SimpleNamespace(args=args)


def test_needs_from_markers_and_parameters():
    alone = _mark("fills the limit")
    assert needs_of(_Item({"alone": alone})).alone == "fills the limit"
    by_param = needs_of(_Item({}, {"surface": "pii-stream"}))
    assert dict(by_param.slots) == {"pii-stream": 1}
    clause = _mark("svd-batch/response-schema")
    two = _mark(2)
    assert dict(needs_of(_Item({"clause": clause, "slots": two})).slots) == {"svd-batch": 2}
    group = _mark("velma/close-codes")
    assert set(needs_of(_Item({"clause": group})).slots) == set(GROUPS["velma"])
