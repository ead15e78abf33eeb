"""Scenarios on Locust's own master and workers: one merged state, one verdict.

A scenario whose state is a :class:`~harness.load.metrics.Tally` (``Scenario.figures``
set) can run distributed. Then:

* every worker adds its state (by window: a capacity step, or 0) to Locust's periodic
  worker report (``report_to_master``); the master keeps the latest one per worker
  (``worker_report``);
* when the run stops, the master asks every worker for its final state
  (``harness_final``) and waits for the answers (bounded); the latest periodic report
  stands in for a worker that does not answer;
* the master merges the windows of all workers (histograms are merged, never averaged),
  computes the results once from the merged state, adds each worker's own figures under
  ``workers``, judges the thresholds once and is the only process that writes results;
* a capacity step change is a message to every worker (``harness_step``); each answers
  with its state, so the master judges a step on every worker's window;
* with ``--share-target`` (``harness load --workers N`` without ``--target``) the master
  starts the one emulator child and sends its address and key to the workers
  (``harness_target``; loopback only), which were started with ``--target-from-master``;
* a worker that hits its own hard stop asks the master to stop everyone
  (``harness_stop``).

Message names are plain strings; payloads are JSON-able dicts.
"""

from __future__ import annotations

import time
from typing import Any

from .metrics import merge_tallies

MSG_STATE = "harness_state"  # worker -> master: {"id", "seq", "final", "windows", "target"}
MSG_STEP = "harness_step"  # master -> workers: {"k", "seq"}
MSG_FINAL = "harness_final"  # master -> workers: {"seq"}
MSG_TARGET = "harness_target"  # master -> workers: the target's fields
MSG_STOP = "harness_stop"  # worker -> master: {"reason"}
MSG_SHARE = "harness_share"  # master -> workers: {"workers": n} (an open model's share)
REPLY_TIMEOUT_S = 10.0


def role_of(runner: Any) -> str:
    from locust.runners import MasterRunner, WorkerRunner

    if isinstance(runner, MasterRunner):
        return "master"
    if isinstance(runner, WorkerRunner):
        return "worker"
    return "local"


def worker_id(runner: Any) -> str:
    return f"worker-{getattr(runner, 'worker_index', 0)}"


def snapshot(run: Any, runner: Any, seq: int = 0, final: bool = False) -> dict[str, Any]:
    """This worker's state, by window, for the master."""
    target = run.target
    return {
        "id": worker_id(runner),
        "seq": seq,
        "final": final,
        "windows": {str(k): s.to_dict() for k, s in run.windows.items()},
        "target": None if target is None else {"base_url": target.base_url, "live": target.live},
    }


def store(run: Any, data: dict[str, Any]) -> None:
    """Keep a worker's report (a final one is never replaced by a periodic one)."""
    wid = data.get("id")
    if not isinstance(wid, str):
        return
    if run.workers.get(wid, {}).get("final") and not data.get("final"):
        return
    run.workers[wid] = data


def worker_windows(run: Any, wid: str) -> dict[int, Any]:
    cls = type(run.scenario.new_state())
    return {int(k): cls.from_dict(v) for k, v in run.workers[wid].get("windows", {}).items()}


def merged_windows(run: Any, only: set[int] | None = None) -> dict[int, Any]:
    """Each window merged over every worker's latest report."""
    cls = type(run.scenario.new_state())
    by_k: dict[int, list[Any]] = {}
    for wid in sorted(run.workers):
        for k, state in worker_windows(run, wid).items():
            if only is None or k in only:
                by_k.setdefault(k, []).append(state)
    return {k: merge_tallies(cls, states) for k, states in sorted(by_k.items())}


def overall(run: Any) -> Any:
    """The run's state merged over its windows (a Tally), or the plain state."""
    from .metrics import Tally

    if not isinstance(run.state, Tally):
        return run.state
    return merge_tallies(type(run.state), run.windows.values())


def ask_workers(environment: Any, msg_type: str, data: dict[str, Any], timeout_s: float) -> bool:
    """Master: send ``msg_type`` to every worker and wait until each has answered with its
    state (or ``timeout_s``). True when every worker answered."""
    import gevent

    run = environment.harness
    runner = environment.runner
    run.seq += 1
    seq = run.seq
    run.replies[seq] = set()
    expected = {c.id for c in runner.clients.all}
    runner.send_message(msg_type, {**data, "seq": seq})
    deadline = time.monotonic() + timeout_s
    while not expected <= run.replies[seq] and time.monotonic() < deadline:
        gevent.sleep(0.02)
        expected &= {c.id for c in runner.clients.all}  # a worker that quit answers nothing
    return expected <= run.replies.pop(seq, set())


def install(environment: Any) -> None:
    """Register the messages of this process's role (from the ``init`` listener)."""
    runner = environment.runner
    run = environment.harness
    role = role_of(runner)
    run.role = role
    if role == "master":

        def on_state(environment: Any, msg: Any, **_: Any) -> None:
            store(run, msg.data)
            run.replies.setdefault(int(msg.data.get("seq", 0)), set()).add(msg.node_id)

        def on_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
            if "harness" in data:
                store(run, data["harness"])

        def on_stop(environment: Any, msg: Any, **_: Any) -> None:
            import gevent

            gevent.spawn(runner.quit)

        runner.register_message(MSG_STATE, on_state)
        runner.register_message(MSG_STOP, on_stop)
        environment.events.worker_report.add_listener(on_report)
        return

    def on_step(environment: Any, msg: Any, **_: Any) -> None:
        if msg.data.get("rate") is not None and environment.parsed_options is not None:
            environment.parsed_options.arrival_rate = float(msg.data["rate"])  # open model
        run.begin_window(int(msg.data["k"]))
        if role == "worker":
            runner.send_message(MSG_STATE, snapshot(run, runner, int(msg.data.get("seq", 0))))

    runner.register_message(MSG_STEP, on_step)
    if role != "worker":
        return

    def on_final(environment: Any, msg: Any, **_: Any) -> None:
        if run.sender is not None:
            run.sender.measuring = False
        runner.send_message(MSG_STATE, snapshot(run, runner, int(msg.data["seq"]), final=True))

    def on_target(environment: Any, msg: Any, **_: Any) -> None:
        from .common import LoadTarget

        d = msg.data
        target = LoadTarget(
            base_url=d["base_url"],
            ws_base_url=d["ws_base_url"],
            key=d["key"],
            control=tuple(d["control"]) if d.get("control") else None,
            kugel_base_url=d.get("kugel_base_url"),
            kugel_key=d.get("kugel_key"),
            secrets=list(d.get("secrets", [])),
            own_child=bool(d.get("own_child")),
        )
        environment.host = environment.host or target.base_url
        run.target = target

    def on_report(client_id: str, data: dict[str, Any], **_: Any) -> None:
        data["harness"] = snapshot(run, runner)

    def on_share(environment: Any, msg: Any, **_: Any) -> None:
        run.extra["workers"] = max(1, int(msg.data.get("workers", 1)))

    runner.register_message(MSG_SHARE, on_share)
    runner.register_message(MSG_FINAL, on_final)
    runner.register_message(MSG_TARGET, on_target)
    environment.events.report_to_master.add_listener(on_report)


def share_target(environment: Any) -> None:
    """Master: send the target it started to every worker (loopback targets only)."""
    from .common import is_loopback_url

    target = environment.harness.target
    if target is None or not is_loopback_url(target.base_url):
        return
    environment.runner.send_message(
        MSG_TARGET,
        {
            "base_url": target.base_url,
            "ws_base_url": target.ws_base_url,
            "key": target.key,
            "control": list(target.control) if target.control else None,
            "kugel_base_url": target.kugel_base_url,
            "kugel_key": target.kugel_key,
            "secrets": list(target.secrets),
            "own_child": target.own_child,
        },
    )


def finish_master(environment: Any) -> None:
    """Master, as the run stops: gather every worker's final state, then merge windows."""
    run = environment.harness
    if environment.runner.clients.all:
        ask_workers(environment, MSG_FINAL, {}, REPLY_TIMEOUT_S)
    adopt_merged(run)


def adopt_merged(run: Any) -> None:
    merged = merged_windows(run)
    if merged:
        run.windows = merged
        run.window = max(merged)
        run.state = merged[run.window]


def per_worker(run: Any) -> dict[str, dict[str, Any]]:
    """Each worker's own figures (from its windows merged)."""
    cls = type(run.scenario.new_state())
    figures = run.scenario.figures
    out: dict[str, dict[str, Any]] = {}
    for wid in sorted(run.workers):
        state = merge_tallies(cls, worker_windows(run, wid).values())
        out[wid] = {**figures(state), "final_report": bool(run.workers[wid].get("final"))}
    return out


def worker_target(run: Any) -> dict[str, Any] | None:
    for rep in run.workers.values():
        if rep.get("target"):
            return rep["target"]
    return None


def breached_now(environment: Any) -> list[str]:
    """The thresholds the run breaks so far (merged over workers on a master); a threshold
    without a value yet is not counted. For ``--stop-on-breach``."""
    from .common import judge_thresholds

    run = environment.harness
    windows = merged_windows(run) if run.role == "master" else run.windows
    if not windows:
        return []
    state = merge_tallies(type(run.scenario.new_state()), windows.values())
    figures = run.scenario.figures(state)
    verdicts = judge_thresholds(run.scenario.thresholds(environment), figures)
    return [v["metric"] for v in verdicts if not v["ok"] and v["value"] is not None]
