"""Backoff: clients that follow the documented retry policy, against clients that retry at once.

The documented policy (``harness.contract.tables.DOCUMENTED_BACKOFF``): after failed attempt
``a`` (0, 1, ...) on 429 or 503, wait ``2**a + uniform(0, 1)`` seconds, at most 5 retries;
a ``Retry-After`` header, when sent, is honoured (the wait is at least that long).

On the emulator the limit is made to bite: the model's concurrency limit is 1 and a blocker
request holds that slot for ``--block-s`` (``X-Emulator-Fault: latency=...``). Meanwhile
``--clients`` documented clients and as many immediate-retry clients each try to make one
request. Every attempt's time and status is recorded:

* ``documented.judged``: deviation = actual wait (previous answer -> next attempt) minus the
  scheduled wait, p50 / p99 / max in ms; every wait must be >= the documented lower bound
  (``low_violations``);
* ``immediate.storm``: attempts the immediate clients made while the limit held; goodput =
  successes / attempts;
* ``recovery_s``: per policy, from the moment the limit cleared to each client's success.

``--wait-scale`` multiplies the documented waits (tests use 0.05 to stay fast; the judged
deviation is then against the scaled schedule). Names: ``POST <model> documented``,
``POST <model> immediate``, ``POST <model> blocker``; a request that exhausted its retries is a
failure named ``<policy> gave up``.
"""

from __future__ import annotations

import random
import time
from typing import Any

import gevent
from locust import FastHttpUser, task

from harness.client.control import fault_header
from harness.contract import tables as T

from . import common as C
from .judge import POLICY, analyse_backoff, retry_after, scheduled_wait

IMMEDIATE_CAP = 3000  # attempts per immediate client, whatever happens


def _arguments(parser: Any) -> None:
    parser.add_argument("--backoff-model", default="vfast-batch")
    parser.add_argument("--block-s", type=float, default=3.0, help="how long the limit holds")
    parser.add_argument("--clients", type=int, default=4, help="clients per policy")
    parser.add_argument("--wait-scale", type=float, default=1.0, help="x the documented waits")
    parser.add_argument(
        "--max-deviation-ms", type=float, default=10.0, help="threshold: p99 judged deviation"
    )
    parser.add_argument("--seed", type=int, default=0)


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    return scenario_emulator_data(per_model={opts.backoff_model: 1})


class BackoffUser(FastHttpUser):
    concurrency = 64
    network_timeout = 30.0

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.opts = self.environment.parsed_options
        self.body, self.ctype = C.multipart("backoff.wav", C.wav_bytes(0.6))
        self.path = T.VELMA_PATHS[self.opts.backoff_model]
        self.model = self.opts.backoff_model

    def _post(
        self, name: str, extra: dict[str, str] | None = None
    ) -> tuple[int, float, float, Any]:
        if not C.cost_guard(self.environment).allow(self.model, 0.6):
            return 0, time.perf_counter(), time.perf_counter(), None
        headers = {T.VELMA_HTTP_AUTH_HEADER: self.target.key, "Content-Type": self.ctype}
        headers.update(extra or {})
        t0 = time.perf_counter()
        with self.client.post(
            self.path, data=self.body, headers=headers, name=name, catch_response=True
        ) as r:
            t1 = time.perf_counter()
            status = r.status_code or 0
            if status in POLICY.retry_statuses or 200 <= status < 300:
                r.success()
            else:
                r.failure(f"HTTP {status}")
            return status, t0, t1, r.headers

    def _documented(self, i: int, log: list[dict[str, Any]]) -> None:
        rng = random.Random(self.opts.seed * 1000 + i)
        name = f"POST {self.model} documented"
        for attempt in range(POLICY.max_retries + 1):
            status, t0, t1, headers = self._post(name)
            entry = {"client": i, "attempt": attempt, "t": t0, "end": t1, "status": status}
            log.append(entry)
            if status not in POLICY.retry_statuses:
                return
            if attempt == POLICY.max_retries:
                break
            ra = retry_after(headers)
            wait = scheduled_wait(attempt, rng, self.opts.wait_scale, ra)
            entry["scheduled_wait"] = wait
            entry["retry_after"] = ra
            entry["low_bound"] = POLICY.wait_bounds(attempt)[0] * self.opts.wait_scale
            gevent.sleep(max(0.0, t1 + wait - time.perf_counter()))
        C.fire(self.environment, "RETRY", "documented gave up", 0.0, exception="retries exhausted")

    def _immediate(self, i: int, log: list[dict[str, Any]]) -> None:
        name = f"POST {self.model} immediate"
        for attempt in range(IMMEDIATE_CAP):
            status, t0, t1, _ = self._post(name)
            log.append({"client": i, "attempt": attempt, "t": t0, "end": t1, "status": status})
            if status not in POLICY.retry_statuses:
                return
        C.fire(self.environment, "RETRY", "immediate gave up", 0.0, exception="retries exhausted")

    @task
    def backoff(self) -> None:
        C.run_once(self.environment, self._run)

    def _phase(self, worker: Any) -> tuple[list[dict[str, Any]], float, float]:
        """Hold the limit for ``--block-s`` while ``--clients`` clients run ``worker``."""
        block_s = self.opts.block_s
        fault = fault_header("latency", block_s) if self.target.is_emulator else {}
        blocker = gevent.spawn(self._post, f"POST {self.model} blocker", fault)
        gevent.sleep(0.1)  # the blocker holds the slot
        t_start = time.perf_counter()
        log: list[dict[str, Any]] = []
        jobs = [gevent.spawn(worker, i, log) for i in range(self.opts.clients)]
        blocker.join()
        t_clear = blocker.value[2] if blocker.value else time.perf_counter()
        gevent.joinall(jobs)
        return log, t_start, t_clear

    def _run(self) -> None:
        # One policy at a time: an immediate-retry storm in the same process would
        # delay the documented clients' timers and be judged as their deviation.
        docs, t0, clear = self._phase(self._documented)
        gevent.sleep(0.2)
        imms, i0, iclear = self._phase(self._immediate)
        results = C.state(self.environment)
        results.update(analyse_backoff(docs, imms, t0, clear, self.opts.wait_scale, i0, iclear))


def _results(environment: Any) -> dict[str, Any]:
    return dict(C.state(environment))


def _thresholds(environment: Any) -> list[C.Threshold]:
    opts = environment.parsed_options
    return [
        C.Threshold("documented.judged.p99", opts.max_deviation_ms),
        C.Threshold("documented.low_violations", 0),
    ]


C.register(
    C.Scenario("backoff", _emulator_config, _results, _thresholds, _arguments, max_seconds=180.0)
)
