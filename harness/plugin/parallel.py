"""Run the selected cases on a few threads (``--jobs N``), within what the target allows.

The cases of a conformance run mostly wait on the target (round trips, paced audio,
processing), so overlapping them is what makes a run short against a distant target. Each
case still runs pytest's own protocol (setup, call, teardown, every plugin's hooks) on a
worker thread; :class:`~.schedule.Scheduler` decides when it may start. The reports are
then logged on the main thread in collection order, so the terminal, JUnit, Allure and
``conformance.json`` see the cases in the same order, with the same ids, as a serial run.

pytest keeps a little state that assumes one case at a time; while the loop runs, each
worker thread gets its own copy of it (:func:`thread_local_pytest`): the stack of set-up
nodes and the cached value of each fixture (the ``case`` fixture would otherwise be handed
from one case to another). Allure's reporter keeps "the current test" the same way, and
``PYTEST_CURRENT_TEST`` stays set while cases run.
"""

from __future__ import annotations

import os
import queue
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest

from .schedule import Needs, Scheduler

#: Set on the worker threads: :func:`in_worker` tells the protocol hook to keep the reports.
WORKER = threading.local()

#: item.stash: the reports of a case run on a worker thread, logged later on the main thread.
REPORTS: pytest.StashKey[list[Any]] = pytest.StashKey()


def in_worker() -> bool:
    return bool(getattr(WORKER, "active", False))


def run_protocol(item: pytest.Item) -> None:
    """A case's setup, call and teardown on a worker thread; the reports wait in its stash."""
    from _pytest.runner import runtestprotocol

    item.stash[REPORTS] = runtestprotocol(item, log=False, nextitem=None)


class _PerThread:
    """A data descriptor: each thread sees its own value of the attribute."""

    def __init__(self, name: str, default: Callable[[], Any]) -> None:
        self.key = f"__harness_tls_{name}"
        self.default = default

    def _tls(self, obj: Any) -> threading.local:
        return obj.__dict__.setdefault(self.key, threading.local())

    def __get__(self, obj: Any, owner: Any = None) -> Any:
        if obj is None:
            return self
        tls = self._tls(obj)
        try:
            return tls.value
        except AttributeError:
            tls.value = self.default()
            return tls.value

    def __set__(self, obj: Any, value: Any) -> None:
        self._tls(obj).value = value


class _SetupStates:
    """``session._setupstate`` while threads run: each thread its own stack of set-up nodes."""

    def __init__(self) -> None:
        from _pytest.runner import SetupState

        self._factory = SetupState
        self._local = threading.local()

    def _state(self) -> Any:
        state = getattr(self._local, "state", None)
        if state is None:
            state = self._local.state = self._factory()
        return state

    def __getattr__(self, name: str) -> Any:
        return getattr(self._state(), name)


@contextmanager
def thread_local_pytest(session: pytest.Session) -> Iterator[None]:
    """Give each thread its own set-up stack and fixture cache for the loop's duration."""
    from _pytest.fixtures import FixtureDef

    saved_state = session._setupstate
    patched = {"cached_result": lambda: None, "_finalizers": list}
    had = {name: name in FixtureDef.__dict__ for name in patched}
    for name, default in patched.items():
        setattr(FixtureDef, name, _PerThread(name, default))
    session._setupstate = _SetupStates()  # type: ignore[assignment]
    undo_allure = _allure_per_thread(session.config)
    import _pytest.runner as pytest_runner

    saved_var = pytest_runner._update_current_test_var
    pytest_runner._update_current_test_var = _current_test_var
    os.environ[CURRENT_TEST] = "(cases running on threads)"  # set before any thread starts
    try:
        yield
    finally:
        pytest_runner._update_current_test_var = saved_var
        os.environ.pop(CURRENT_TEST, None)
        undo_allure()
        session._setupstate = saved_state
        for name in patched:
            if not had[name]:
                delattr(FixtureDef, name)


CURRENT_TEST = "PYTEST_CURRENT_TEST"


def _current_test_var(item: pytest.Item, when: str | None) -> None:
    """``PYTEST_CURRENT_TEST`` with several cases at once: the latest case to set it wins,
    and it stays set until the loop ends (removing and adding a variable while another
    thread reads the environment, e.g. for proxy settings, breaks that thread's loop)."""
    if when:
        os.environ[CURRENT_TEST] = f"{item.nodeid} ({when})".replace("\x00", "(null)")


class _ThreadItems:
    """A mapping whose contents belong to the calling thread (Allure's "current test")."""

    def __init__(self) -> None:
        self._local = threading.local()

    def _d(self) -> dict[Any, Any]:
        d = getattr(self._local, "d", None)
        if d is None:
            d = self._local.d = {}
        return d

    def __getitem__(self, k: Any) -> Any:
        return self._d()[k]

    def __setitem__(self, k: Any, v: Any) -> None:
        self._d()[k] = v

    def __delitem__(self, k: Any) -> None:
        del self._d()[k]

    def __contains__(self, k: object) -> bool:
        return k in self._d()

    def __iter__(self) -> Iterator[Any]:
        return iter(list(self._d()))

    def __reversed__(self) -> Iterator[Any]:
        return reversed(list(self._d()))

    def __len__(self) -> int:
        return len(self._d())

    def get(self, k: Any, default: Any = None) -> Any:
        return self._d().get(k, default)

    def pop(self, k: Any, *default: Any) -> Any:
        return self._d().pop(k, *default)

    def setdefault(self, k: Any, default: Any = None) -> Any:
        return self._d().setdefault(k, default)

    def items(self) -> list[tuple[Any, Any]]:
        return list(self._d().items())

    def keys(self) -> list[Any]:
        return list(self._d())

    def values(self) -> list[Any]:
        return list(self._d().values())

    def cleanup(self) -> None:
        """Allure's own per-thread store has this; each thread's dict goes with it here."""


def _allure_per_thread(config: pytest.Config) -> Callable[[], None]:
    """allure-pytest finds "the current test" as the last one it scheduled; with cases on
    several threads each thread must see only its own. Returns the undo."""
    listener = None
    for plugin in config.pluginmanager.get_plugins():
        if type(plugin).__name__ == "AllureListener" and hasattr(plugin, "allure_logger"):
            listener = plugin
    if listener is None:
        return lambda: None
    swaps: list[tuple[Any, str, Any]] = []
    for owner in (listener.allure_logger, getattr(listener, "_cache", None)):
        if owner is not None and hasattr(owner, "_items"):
            swaps.append((owner, "_items", owner._items))
            owner._items = _ThreadItems()

    def undo() -> None:
        for owner, name, old in swaps:
            setattr(owner, name, old)

    return undo


def run_parallel(
    session: pytest.Session,
    jobs: int,
    caps: dict[str, int],
    needs: list[Needs],
    refresh_caps: Callable[[], dict[str, int]] | None = None,
    idle: Callable[[], int] | None = None,
) -> None:
    """The run loop for ``jobs > 1``: start cases as the scheduler allows, log in order.
    ``refresh_caps``: the caps again after each case (a case may have discovered a limit);
    ``idle``: how many running cases only wait on a stalled stream (see ``next_batch``)."""
    items = session.items
    scheduler = Scheduler(needs, caps, jobs)
    order = list(scheduler.order)  # collection order, the alone cases last
    finished: queue.Queue[tuple[int, BaseException | None]] = queue.Queue()
    logged = 0  # the cases order[:logged] have had their reports logged
    done: set[int] = set()
    ihook = session.config.hook

    def work(i: int) -> None:
        item = items[i]
        error: BaseException | None = None
        WORKER.active = True
        try:
            ihook.pytest_runtest_protocol(item=item, nextitem=None)
        except BaseException as exc:  # noqa: BLE001 - handed to the main thread
            error = exc
        finished.put((i, error))

    def log(item: pytest.Item) -> None:
        item.ihook.pytest_runtest_logstart(nodeid=item.nodeid, location=item.location)
        for report in item.stash.get(REPORTS, []):
            item.ihook.pytest_runtest_logreport(report=report)
        item.ihook.pytest_runtest_logfinish(nodeid=item.nodeid, location=item.location)

    def log_ready(final: bool = False) -> None:
        """Log the finished cases in the scheduler's order; ``final``: those after a gap too
        (cases never started after a stop leave gaps)."""
        nonlocal logged
        while logged < len(order) and order[logged] in done:
            log(items[order[logged]])
            logged += 1
        if final:
            for i in [i for i in order[logged:] if i in done]:
                log(items[i])
            logged = len(order)

    stop: BaseException | None = None
    with thread_local_pytest(session):
        try:
            while not scheduler.done:
                if stop is None and not (session.shouldstop or session.shouldfail):
                    for i in scheduler.next_batch(idle() if idle is not None else 0):
                        t = threading.Thread(target=work, args=(i,), name=f"case-{i}", daemon=True)
                        t.start()
                elif scheduler.pending:
                    scheduler.cancel_pending()
                if not scheduler.running:
                    break
                try:  # a timeout, so that Ctrl-C reaches this thread promptly
                    i, error = finished.get(timeout=0.2)
                except queue.Empty:
                    continue
                scheduler.finish(i)
                done.add(i)
                if refresh_caps is not None:
                    scheduler.caps.update(refresh_caps())
                if error is not None and stop is None:
                    stop = error
                log_ready()
        except KeyboardInterrupt:
            scheduler.cancel_pending()
            _drain(scheduler, finished, done, timeout_s=10.0)
            log_ready(final=True)
            raise
    log_ready(final=True)
    if stop is not None:
        raise stop
    if session.shouldfail:
        raise session.Failed(session.shouldfail)
    if session.shouldstop:
        raise session.Interrupted(session.shouldstop)


def _drain(
    scheduler: Scheduler,
    finished: queue.Queue[tuple[int, BaseException | None]],
    done: set[int],
    timeout_s: float,
) -> None:
    """After an interrupt: wait a little for the cases in flight, so their verdicts land."""
    deadline = time.monotonic() + timeout_s
    while scheduler.running and time.monotonic() < deadline:
        try:
            i, _ = finished.get(timeout=max(0.01, deadline - time.monotonic()))
        except queue.Empty:
            break
        scheduler.finish(i)
        done.add(i)
    if scheduler.running:
        sys.stderr.write(
            f"harness: {len(scheduler.running)} case(s) still in flight were left unfinished\n"
        )
