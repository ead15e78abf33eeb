"""Capacity search: raise the load on one surface step by step until a service-level
objective breaks, and say at which level and what broke first.

``harness load capacity --surface svd-stream`` (or ``locust -f loadtests/capacity.py``).
The load is closed-model by default: level N means N users, each running one stream (or
request) after another; with ``--model open`` (streaming surfaces) level N means N sessions
arriving a second from ``--sources`` Poisson sources (the rate changes at each step). A Locust ``LoadTestShape`` (:class:`CapacityShape`) holds each level for
``--settle-s`` (not judged: users start, slots free up) plus ``--hold-s`` (judged), from
``--start`` by ``--step`` up to ``--max``. Each level's figures come from its own window
of the run's state (a capacity step; on a distributed run, every worker's window merged),
judged against the objectives (``--slo``, repeatable, ``METRIC<=NUMBER``):

* streaming surfaces: ``ttfr_ms.p95<=1500``, ``result_lag_ms.p99<=500``, ``error_ratio<=0.01``;
* batch surfaces and KugelAudio TTS (``kugel-tts``): ``latency_ms.p95<=2000``,
  ``error_ratio<=0.01``.

A metric with no sample in a step (no first result arrived while it was held) breaks its
objective. Documented rejections (HTTP 429, close 4029) are failures in ``error_ratio``;
when a breaking step had any, the most frequent one is the limiting signal, otherwise
``latency`` (a ``*_ms`` objective broke) or the commonest failure. The search stops at the
first breaking step; with ``--refine`` (default) it then bisects between the last good and
the first bad level. ``results.json`` carries ``capacity``: ``surface``, ``model``,
``max_within_slo`` (``null``: the first level already broke), ``first_breach`` (the lowest
breaking level: ``level``, ``metric``, ``value``, ``limit``; ``null`` when ``--max`` held),
``limiting_signal`` and ``steps``.

Without a target profile the emulator child is configured for the search: the
organisation's concurrency limit on the surface (``--emulator-limit``), and optionally a
latency that grows with load (``--knee N --knee-latency-s S``: every stream beyond N in
flight delays each message by S; streaming surfaces).
"""

from __future__ import annotations

import time
from typing import Any

import gevent
from locust import FastHttpUser, LoadTestShape, events, task

from harness.client.control import fault_header
from harness.contract import tables as T

from . import common as C
from . import streaming, tts
from .distributed import MSG_STEP, REPLY_TIMEOUT_S, ask_workers, merged_windows
from .runner import CAPACITY_DEFAULTS, CAPACITY_REFINE_STEPS
from .slo import DEFAULT_SLOS, SURFACES, kind_of, levels, objectives, parse_slo
from .tallies import CapacityTally, step_record
from .tallies import capacity_figures as figures

__all__ = ["DEFAULT_SLOS", "SURFACES", "kind_of", "levels", "parse_slo"]

REFINE_STEPS = CAPACITY_REFINE_STEPS
D = CAPACITY_DEFAULTS


# --------------------------------------------------------------------------- the search


class Search:
    """The stepped search, driven by :class:`CapacityShape`'s ticks (master or local run)."""

    def __init__(self, environment: Any) -> None:
        opts = environment.parsed_options
        self.env = environment
        self.surface = opts.surface
        self.kind = kind_of(opts.surface)
        self.slos = objectives(self.kind, opts.slo)
        self.climb = levels(opts.start, opts.step, opts.max)
        self.hold_s, self.settle_s, self.refine = opts.hold_s, opts.settle_s, opts.refine
        self.user_class = USER_CLASSES[self.kind]
        self.model, self.sources = opts.model, opts.sources
        self.steps: list[dict[str, Any]] = []
        self.k = 0
        self.current: dict[str, Any] | None = None
        self.lo: int | None = None  # highest level within the objectives
        self.hi: int | None = None  # lowest level that broke one
        self.refined = 0
        self.done = False

    # ---------------------------------------------------------------- windows

    def _switch(self, k: int, rate: float | None = None) -> dict[int, Any]:
        """Record into window ``k`` from now on (and, open model, arrive at ``rate``);
        returns every window so far (merged over the workers)."""
        run = C.load_run(self.env)
        if rate is not None:
            self.env.parsed_options.arrival_rate = rate
        if run.role == "master":
            ask_workers(self.env, MSG_STEP, {"k": k, "rate": rate}, REPLY_TIMEOUT_S)
            return merged_windows(run)
        run.begin_window(k)
        return run.windows

    def _next_level(self) -> int | None:
        if self.hi is None:  # climbing
            done = {s["level"] for s in self.steps}
            for lvl in self.climb:
                if lvl not in done:
                    return lvl
            return None
        if not self.refine or self.lo is None or self.refined >= REFINE_STEPS:
            return None
        if self.hi - self.lo <= 1:
            return None
        return (self.lo + self.hi) // 2

    def _tick_tuple(self, level: int) -> tuple[int, float, list[Any]]:
        if self.model == "open":  # level: sessions a second from a fixed number of sources
            return (self.sources, float(self.sources), [self.user_class])
        return (level, float(max(1, level)), [self.user_class])

    def tick(self, shape: LoadTestShape) -> tuple[int, float, list[Any]] | None:
        if self.done:
            return None
        t = shape.get_run_time()
        cur = self.current
        if cur is None:
            return self._begin(t)
        if not cur["judged_from"] and t - cur["t0"] >= self.settle_s:
            self._switch(cur["k"])
            cur["judged_from"] = t
        elif cur["judged_from"] and t - cur["judged_from"] >= self.hold_s:
            self._end(t)
            return self._begin(t)
        return self._tick_tuple(cur["level"])

    def _begin(self, t: float) -> tuple[int, float, list[Any]] | None:
        level = self._next_level()
        if level is None:
            self._finish()
            return None
        self.k += 1
        rate = float(level) if self.model == "open" else None
        if self.k == 1 or rate is not None:  # else the previous _end opened this settle window
            self._switch(-self.k, rate)
        self.current = {"level": level, "k": self.k, "t0": t, "judged_from": 0.0}
        return self._tick_tuple(level)

    def _end(self, t: float) -> None:
        cur = self.current
        assert cur is not None
        windows = self._switch(-(cur["k"] + 1))  # the next step's settle window
        state = windows.get(cur["k"]) or CapacityTally()
        rec = step_record(
            cur["level"], cur["judged_from"], t - cur["judged_from"], state, self.slos, time.time()
        )
        self.steps.append(rec)
        self.current = None
        level = cur["level"]
        if self.hi is not None:  # a refine step (the climb had broken already)
            self.refined += 1
        if rec["verdict"] == "within":
            self.lo = level if self.lo is None else max(self.lo, level)
        elif rec["verdict"] == "breach":
            self.hi = level if self.hi is None else min(self.hi, level)
        # "no-data": nothing was measured at this level; the search goes on past it
        if self.hi is not None and self.lo is not None and self.lo > self.hi:
            self.lo = None  # a level above the breach held: noisy; trust the breach
        self.publish()

    def _finish(self) -> None:
        self.done = True
        self.publish()

    def publish(self) -> None:
        """The ``capacity`` record as it stands (kept on the run for the results)."""
        breach = None
        signal = None
        if self.hi is not None:
            first = next(
                s for s in self.steps if s["level"] == self.hi and s["verdict"] == "breach"
            )
            broken = [x for x in first["_verdicts"] if not x["ok"]]
            # the objective that matches the limiting signal comes first
            if first["_signal"] == "latency":
                broken.sort(key=lambda x: x["metric"] == "error_ratio")
            else:
                broken.sort(key=lambda x: x["metric"] != "error_ratio")
            v = broken[0]
            breach = {
                "level": self.hi,
                "metric": v["metric"],
                "value": v["value"],
                "limit": v["limit"],
            }
            signal = first["_signal"]
        within = [s["level"] for s in self.steps if s["verdict"] == "within"]
        best = self.lo if self.hi is not None else (max(within) if within else None)
        C.load_run(self.env).extra["capacity"] = {
            "surface": self.surface,
            "model": self.model,
            "max_within_slo": best,
            "first_breach": breach,
            "limiting_signal": signal,
            "steps": [{k: v for k, v in s.items() if not k.startswith("_")} for s in self.steps],
        }


class CapacityShape(LoadTestShape):
    """The search's levels, one tick a second (runs on the master or a local runner)."""

    def tick(self) -> tuple[int, float, list[Any]] | None:
        env = self.runner.environment
        run = C.load_run(env)
        search = run.extra.get("search")
        if search is None:
            search = run.extra["search"] = Search(env)
        return search.tick(self)


# --------------------------------------------------------------------------- users


class CapacityStreamUser(streaming.StreamUser):
    """Closed model: one real-time stream after another on ``--surface``."""

    model_option = "surface"


class CapacityTtsUser(tts.TtsUser):
    """KugelAudio generate, one request after another with ``--think-s`` between."""

    def wait_time(self) -> float:
        return float(self.environment.parsed_options.think_s)


class CapacityBatchUser(FastHttpUser):
    """A 1 s WAV upload to ``--surface``, one after another with ``--think-s`` between; on
    the emulator each is held ``--batch-hold-s`` (``X-Emulator-Fault: latency``)."""

    network_timeout = 60.0

    def wait_time(self) -> float:
        return float(self.environment.parsed_options.think_s)

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.opts = self.environment.parsed_options
        self.body, self.ctype = C.multipart("capacity.wav", C.wav_bytes(1.0))

    @task
    def post(self) -> None:
        surface = self.opts.surface
        if not C.cost_guard(self.environment).allow(surface, 1.0):
            gevent.sleep(1.0)
            return
        headers = {T.VELMA_HTTP_AUTH_HEADER: self.target.key, "Content-Type": self.ctype}
        if self.target.is_emulator and self.opts.batch_hold_s > 0:
            headers.update(fault_header("latency", self.opts.batch_hold_s))
        t = time.perf_counter()
        with self.client.post(
            T.VELMA_PATHS[surface],
            data=self.body,
            headers=headers,
            name=f"POST {surface}",
            catch_response=True,
        ) as r:
            status = r.status_code or 0
            m: CapacityTally = C.state(self.environment)
            m.status[str(status)] += 1
            if 200 <= status < 300:
                m.latency.record(time.perf_counter() - t)
                r.success()
            else:
                r.failure(f"HTTP {status}")
        if not 200 <= status < 300:
            gevent.sleep(0.1)  # a refused user does not hammer the target


USER_CLASSES: dict[str, type] = {
    "stream": CapacityStreamUser,
    "batch": CapacityBatchUser,
    "tts": CapacityTtsUser,
}


# --------------------------------------------------------------------------- the scenario


def _arguments(parser: Any) -> None:
    streaming._arguments(parser)
    tts._arguments(parser)
    g = parser.add_argument_group("capacity search")
    g.add_argument("--surface", default="svd-stream", choices=SURFACES)
    g.add_argument("--start", type=int, default=D["start"], help="first level (users)")
    g.add_argument("--step", type=int, default=D["step"], help="users added per step")
    g.add_argument("--max", type=int, default=D["max"], help="highest level")
    g.add_argument("--hold-s", type=float, default=D["hold_s"], help="judged seconds per step")
    g.add_argument(
        "--settle-s", type=float, default=D["settle_s"], help="unjudged seconds per step"
    )
    g.add_argument(
        "--slo", action="append", default=[], help="objective METRIC<=NUMBER (repeatable)"
    )
    g.add_argument(
        "--refine",
        action="store_true",
        default=True,
        help="bisect between the last good and first bad level (default)",
    )
    g.add_argument("--no-refine", dest="refine", action="store_false")
    g.add_argument(
        "--model",
        choices=("closed", "open"),
        default="closed",
        help="closed: level = users; open (streams): level = sessions arriving a second",
    )
    g.add_argument("--sources", type=int, default=10, help="open model: Poisson sources (users)")
    g.add_argument("--think-s", type=float, default=0.0, help="batch/TTS: pause per request")
    g.add_argument("--batch-hold-s", type=float, default=0.2, help="emulator: batch hold time")
    g.add_argument("--emulator-limit", type=int, default=5, help="emulator child: the org's limit")
    g.add_argument("--emulator-rate", type=int, default=20, help="emulator child: TTS rate/s")
    g.add_argument("--knee", type=int, default=0, help="emulator child: streams before latency")
    g.add_argument("--knee-latency-s", type=float, default=0.0, help="per stream beyond --knee")
    parser.set_defaults(stream_seconds=2.0, session_gap_ms=50.0)


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    kind = kind_of(opts.surface)
    per_model = {opts.surface: opts.emulator_limit} if kind != "tts" else None
    data = scenario_emulator_data(concurrency=10_000, per_model=per_model)
    data["processing"]["knee_in_flight"] = opts.knee
    data["processing"]["knee_latency_s"] = opts.knee_latency_s
    if kind == "tts":
        data["kugel"] = {"rate_window_s": 1.0, "rate_limit": {"rate_limited": opts.emulator_rate}}
    return data


def _results(environment: Any) -> dict[str, Any]:
    run = C.load_run(environment)
    search = run.extra.get("search")
    if search is not None and not search.done:
        search.publish()  # stopped early (time limit): what was judged so far
    if search is not None and search.done and environment.process_exit_code in (None, 1):
        environment.process_exit_code = 0  # refusals past the limit are the finding, not a fault
    out = figures(C.overall(environment))
    if search is not None:
        out["slos"] = [f"{s.metric}<={s.limit:g}" for s in search.slos]
    out["capacity"] = run.extra.get("capacity") or {
        "surface": environment.parsed_options.surface,
        "model": environment.parsed_options.model,
        "max_within_slo": None,
        "first_breach": None,
        "limiting_signal": None,
        "steps": [],
    }
    return out


def check_options(opts: Any) -> None:
    """Bad search options: :class:`~harness.load.common.LoadUsageError` naming the option."""
    kind_of(opts.surface)
    for t in opts.slo:
        parse_slo(t)
    levels(opts.start, opts.step, opts.max)
    if opts.model == "open" and kind_of(opts.surface) != "stream":
        raise C.LoadUsageError("--model open: streaming surfaces only (batch and TTS are closed)")
    if not 1 <= opts.sources <= C.MAX_USERS:
        raise C.LoadUsageError(f"--sources must be 1..{C.MAX_USERS}, got {opts.sources}")
    for name in ("hold_s", "settle_s"):
        if not 0 < getattr(opts, name) <= 600:
            raise C.LoadUsageError(f"--{name.replace('_', '-')} must be > 0 and <= 600 s")


@events.init.add_listener
def _check(environment: Any, **_: Any) -> None:
    run = getattr(environment, "harness", None)
    opts = environment.parsed_options
    if opts is not None and isinstance(run, C.LoadRun) and run.scenario.name == "capacity":
        check_options(opts)


C.register(
    C.Scenario(
        "capacity",
        _emulator_config,
        _results,
        arguments=_arguments,
        max_seconds=1800.0,
        new_state=CapacityTally,
        figures=figures,
    )
)
