"""What every load scenario shares: options, the target, safety bounds, cost, redaction,
results and thresholds.

A scenario module (``harness.load.probe`` ...) describes itself as a :class:`Scenario` and
calls :func:`register`, which adds these Locust listeners (one scenario per process):

* ``init_command_line_parser`` adds the harness options (``--target-profile``,
  ``--allow-live``, ``--max-cost``, ``--results-file``, ``--max-seconds`` and the
  scenario's own ones, all with ``HARNESS_LOAD_*`` environment defaults);
* ``init`` hangs a :class:`LoadRun` on ``environment.harness`` (the run's state: target,
  cost, the scenario's measurements; nothing is kept in module globals) and resolves the
  target: a profile (``--target-profile``), or, without one, an emulator child process
  configured for the scenario (see :mod:`harness.load.emu`); refuses a non-loopback target
  without ``--allow-live`` and ``--max-cost``; caps users;
* ``test_start`` arms a hard stop after ``--max-seconds`` (even without ``--run-time``);
* ``test_stopping`` (on a Locust master) gathers every worker's final state;
* ``quitting`` evaluates the scenario's thresholds (exit code 1 on a breach), writes the
  results JSON, and stops the child emulator.

A scenario whose state is a :class:`~harness.load.metrics.Tally` (``Scenario.figures``)
runs on Locust master and workers too: only the master (or a local run) judges and writes,
from the workers' states merged (:mod:`harness.load.distributed`). The state is kept in
windows (``LoadRun.windows``): one per capacity step, else just one.

Request names never carry a key: names are fixed strings (``POST vfast-batch``,
``ws svd-stream first-result``); exception texts go through :class:`~harness.redact.Redactor`.
"""

from __future__ import annotations

import ipaddress
import json
import math
import os
import time
import wave
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from io import BytesIO
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

from harness.contract import tables as T
from harness.redact import Redactor

from . import progress

MAX_USERS = 5000  # a hard ceiling whatever the command line says
DEFAULT_MAX_SECONDS = 300.0
KEY_ENV = "HARNESS_LOAD_KEY"  # a key given by environment (never by command line)


class LoadUsageError(ValueError):
    """Bad load options (exit 2)."""


# --------------------------------------------------------------------------- percentiles


def pct(values: Iterable[float], p: float) -> float | None:
    xs = sorted(values)
    if not xs:
        return None
    k = min(len(xs) - 1, max(0, math.ceil(p * len(xs)) - 1))
    return xs[k]


def summary_ms(values_s: Iterable[float]) -> dict[str, float | int | None]:
    xs = sorted(values_s)
    out: dict[str, float | int | None] = {"n": len(xs)}
    for name, p in (("p50", 0.5), ("p95", 0.95), ("p99", 0.99)):
        v = pct(xs, p)
        out[name] = None if v is None else round(v * 1000.0, 3)
    out["max"] = round(xs[-1] * 1000.0, 3) if xs else None
    return out


# --------------------------------------------------------------------------- audio


def wav_bytes(seconds: float, rate: int = 16000, seed: int = 0) -> bytes:
    """Speech-like s16le mono WAV (the emulator charges its true duration)."""
    import numpy as np

    from harness.audio.signals import speech_bursts

    samples = speech_bursts(seconds, rate, 1, seed=seed).samples
    pcm = (np.clip(samples.reshape(-1), -1.0, 1.0) * 32767.0).astype("<i2").tobytes()
    out = BytesIO()
    with wave.open(out, "wb") as w:
        w.setnchannels(1)
        w.setsampwidth(2)
        w.setframerate(rate)
        w.writeframes(pcm)
    return out.getvalue()


def multipart(
    filename: str, data: bytes, boundary: str = "harnessloadboundary"
) -> tuple[bytes, str]:
    """A multipart body with one ``upload_file`` part, and its content type."""
    head = (
        f'--{boundary}\r\nContent-Disposition: form-data; name="{T.UPLOAD_PART}"; '
        f'filename="{filename}"\r\nContent-Type: application/octet-stream\r\n\r\n'
    ).encode()
    body = head + data + f"\r\n--{boundary}--\r\n".encode()
    return body, f"multipart/form-data; boundary={boundary}"


# --------------------------------------------------------------------------- target


def is_loopback_url(url: str) -> bool:
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


@dataclass
class LoadTarget:
    base_url: str
    ws_base_url: str
    key: str
    live: bool = False
    control: tuple[str, str] | None = None  # an emulator's control URL and token
    kugel_base_url: str | None = None
    kugel_key: str | None = None
    child: Any = None  # a ChildEmulator we started (stopped at quit)
    own_child: bool = False  # an emulator child of this run (here, or the master's)
    secrets: list[str] = field(default_factory=list)

    @property
    def is_emulator(self) -> bool:
        return self.control is not None

    @property
    def pid(self) -> int | None:
        """The emulator child's process id (its memory is sampled by the soak), if we started it."""
        proc = getattr(self.child, "proc", None)
        return proc.pid if proc is not None else None

    def control_client(self) -> Any:
        """The emulator's control client (``None``: not an emulator)."""
        from harness.client.control import EmulatorControl

        return EmulatorControl(*self.control) if self.control is not None else None

    def redactor(self) -> Redactor:
        return Redactor(self.secrets)

    def stop(self) -> None:
        if self.child is not None:
            self.child.stop()
            self.child = None


def target_from_profile(path: str) -> LoadTarget:
    from harness.target import ProfileError, load_profile

    try:
        p = load_profile(path)
    except (ProfileError, OSError) as exc:
        raise LoadUsageError(str(exc)) from None
    key = p.velma.key("valid")
    if p.velma.base_url is None or key is None:
        raise LoadUsageError(f"{path}: velma.base_url and velma.keys.valid are needed for load")
    kugel_key = p.kugel.key("valid")
    ws = p.velma.ws_base_url or "ws" + p.velma.base_url[len("http") :]
    return LoadTarget(
        base_url=p.velma.base_url.rstrip("/"),
        ws_base_url=ws.rstrip("/"),
        key=key.value,
        control=(p.emulator.url, p.emulator.token.value) if p.emulator else None,
        kugel_base_url=p.kugel.base_url,
        kugel_key=kugel_key.value if kugel_key else None,
        live=p.is_live or not is_loopback_url(p.velma.base_url),
        secrets=[s.value for s in p.secrets()],
    )


def target_from_child(config: Mapping[str, Any]) -> LoadTarget:
    from harness.emulator.child import start_child
    from harness.emulator.wire import CONTROL_PREFIX

    child = start_child(config)
    return LoadTarget(
        base_url=child.base_url,
        ws_base_url=child.ws_base_url,
        key=child.key,
        control=(child.base_url + CONTROL_PREFIX, child.token),
        kugel_base_url=child.base_url,
        kugel_key=child.key,
        child=child,
        own_child=True,
        secrets=[child.key, child.token],
    )


def check_safety(target: LoadTarget, allow_live: bool, max_cost: float | None) -> None:
    """A non-loopback target needs ``--allow-live`` and ``--max-cost``."""
    if not target.live:
        return
    if not allow_live:
        raise LoadUsageError(
            f"target {urlsplit(target.base_url).hostname} is not loopback; add --allow-live"
        )
    if max_cost is None or max_cost < 0:
        raise LoadUsageError("a live target needs --max-cost USD (>= 0)")


class CostGuard:
    """Audio cost by the published prices; refuses audio that would pass the cap."""

    def __init__(self, max_cost: float | None, live: bool) -> None:
        self.max_cost = max_cost
        self.live = live
        self.spent = 0.0

    def allow(self, surface: str, audio_s: float) -> bool:
        cost = T.audio_cost_usd(surface, audio_s)
        if self.live and self.max_cost is not None and self.spent + cost > self.max_cost:
            return False
        self.spent += cost
        return True


# --------------------------------------------------------------------------- thresholds


@dataclass(frozen=True)
class Threshold:
    """k6-style: ``metric`` (a dotted path into the results) must be ``<=`` ``limit``."""

    metric: str
    limit: float

    def check(self, results: Mapping[str, Any]) -> dict[str, Any]:
        value: Any = results
        for part in self.metric.split("."):
            value = value.get(part) if isinstance(value, Mapping) else None
        ok = value is not None and float(value) <= self.limit
        return {"metric": self.metric, "limit": self.limit, "value": value, "ok": ok}


def judge_thresholds(
    thresholds: Iterable[Threshold], results: Mapping[str, Any]
) -> list[dict[str, Any]]:
    return [t.check(results) for t in thresholds]


# --------------------------------------------------------------------------- the scenario


@dataclass
class Scenario:
    """One scenario's hooks, registered by its module with :func:`register`.

    ``new_state`` makes the scenario's own measurements for one run (kept on the run, see
    :class:`LoadRun`); ``results`` turns the environment (and so the run) into the results.
    """

    name: str
    emulator_config: Callable[[Any], Mapping[str, Any]]  # options -> emulator TOML data
    # environment -> results (JSON-able); None: ``figures`` of the run's merged state
    results: Callable[[Any], dict[str, Any]] | None
    thresholds: Callable[[Any], list[Threshold]] = lambda environment: []
    arguments: Callable[[Any], None] = lambda parser: None
    max_seconds: float = DEFAULT_MAX_SECONDS
    new_state: Callable[[], Any] = dict
    # state -> figures; set when the state is a metrics.Tally: then the scenario can run
    # on Locust workers (the master merges their states and judges once)
    figures: Callable[[Any], dict[str, Any]] | None = None

    @property
    def distributable(self) -> bool:
        return self.figures is not None


@dataclass
class LoadRun:
    """Everything one Locust run of a scenario keeps, hung on ``environment.harness``.

    ``state`` is the scenario's own (``Scenario.new_state()``); ``target`` and ``cost`` are
    set by the ``init`` listener on a worker (or a local run), never on the master.
    """

    scenario: Scenario
    state: Any  # the current window's state (what users record into)
    target: LoadTarget | None = None
    cost: CostGuard = field(default_factory=lambda: CostGuard(None, live=False))
    init_failed: bool = False
    stopper: Any = None  # the greenlet that ends the run after --max-seconds
    sender: Any = None  # the process's one wsraw.PacedSender, made on first use
    results: dict[str, Any] | None = None
    role: str = "local"  # local | master | worker
    started_at: float = 0.0  # perf_counter at test start
    # windows of the state by step (0 unless a capacity search steps); state is windows[window]
    windows: dict[int, Any] = field(default_factory=dict)
    window: int = 0
    # master: the latest state each worker reported ({"windows": {k: dict}, "final": bool})
    workers: dict[str, dict[str, Any]] = field(default_factory=dict)
    replies: dict[int, set[str]] = field(default_factory=dict)  # request seq -> worker ids
    seq: int = 0
    extra: dict[str, Any] = field(default_factory=dict)  # scenario-owned (e.g. capacity steps)

    def __post_init__(self) -> None:
        self.windows.setdefault(self.window, self.state)

    def begin_window(self, k: int) -> None:
        """Record from now on into window ``k`` (a capacity step)."""
        self.window = k
        if k not in self.windows:
            self.windows[k] = self.scenario.new_state()
        self.state = self.windows[k]


def load_run(environment: Any) -> LoadRun:
    """The run the ``init`` listener hung on ``environment``."""
    run = getattr(environment, "harness", None)
    if not isinstance(run, LoadRun):
        raise RuntimeError("no load run on this Locust environment (was a scenario registered?)")
    return run


def state(environment: Any) -> Any:
    """The scenario's own measurements for this run."""
    return load_run(environment).state


def overall(environment: Any) -> Any:
    """The run's state merged over its windows (capacity steps); on the master, over every
    worker too (see :mod:`harness.load.distributed`)."""
    from .distributed import overall as _overall

    return _overall(load_run(environment))


def current_target(environment: Any, timeout_s: float = 30.0) -> LoadTarget:
    """The target; on a worker, users may start while ``init`` still starts the emulator."""
    deadline = time.monotonic() + timeout_s
    while True:
        run = getattr(environment, "harness", None)
        if isinstance(run, LoadRun) and run.target is not None:
            return run.target
        if time.monotonic() > deadline or (isinstance(run, LoadRun) and run.init_failed):
            raise RuntimeError("no load target (the Locust init event did not resolve one)")
        import gevent

        gevent.sleep(0.05)


def cost_guard(environment: Any) -> CostGuard:
    return load_run(environment).cost


def paced_sender(environment: Any) -> Any:
    """The run's one :class:`~harness.load.wsraw.PacedSender` (made on first use)."""
    run = load_run(environment)
    if run.sender is None:
        from .wsraw import PacedSender

        run.sender = PacedSender()
    return run.sender


def run_once(environment: Any, job: Callable[[], object]) -> None:
    """The task of a one-shot scenario: ``job`` runs once, then the whole run stops (also
    when ``job`` fails); the user waits here while Locust stops it."""
    import gevent

    try:
        job()
    finally:
        gevent.spawn_later(0, environment.runner.quit)
        gevent.sleep(5)


def add_deviation_option(parser: Any, example: str) -> None:
    """``--deviation NAME`` (repeatable): a deviation for the scenario's child emulator."""
    parser.add_argument(
        "--deviation",
        action="append",
        default=[],
        help=f"child emulator deviation (e.g. {example})",
    )


def redact(environment: Any, text: str) -> str:
    run = getattr(environment, "harness", None)
    target = run.target if isinstance(run, LoadRun) else None
    return target.redactor().text(text) if target else Redactor().text(text)


def _add_arguments(parser: Any, scenario: Scenario) -> None:
    env = os.environ.get
    parser.add_argument(
        "--target-profile",
        default=env("HARNESS_LOAD_TARGET", ""),
        help="target profile TOML (default: an emulator child process)",
    )
    parser.add_argument(
        "--allow-live", action="store_true", default=env("HARNESS_LOAD_ALLOW_LIVE") == "1"
    )
    parser.add_argument("--max-cost", type=float, default=float(env("HARNESS_LOAD_MAX_COST") or -1))
    parser.add_argument(
        "--results-file",
        default=env("HARNESS_LOAD_RESULTS", ""),
        help="write the scenario's results JSON here",
    )
    parser.add_argument(
        "--max-seconds",
        type=float,
        default=float(env("HARNESS_LOAD_MAX_SECONDS") or 0),
        help="hard stop after this long (default: the scenario's)",
    )
    parser.add_argument(
        "--stop-on-breach",
        action="store_true",
        help="stop the run (every worker) as soon as a threshold is breached",
    )
    parser.add_argument(
        "--share-target",
        action="store_true",
        help="master: start the emulator child and send it to the workers (loopback only)",
    )
    parser.add_argument(
        "--target-from-master",
        action="store_true",
        help="worker: take the target from the master (see --share-target)",
    )
    scenario.arguments(parser)


def _resolve_target(scenario: Scenario, opts: Any) -> LoadTarget:
    if not opts.target_profile:
        return target_from_child(scenario.emulator_config(opts))
    target = target_from_profile(opts.target_profile)
    env_key = os.environ.get(KEY_ENV)
    if env_key:
        target.key = env_key
        target.secrets.append(env_key)
    return target


def _init(environment: Any, scenario: Scenario) -> None:
    from .distributed import install, role_of

    opts = environment.parsed_options
    if opts is None:
        return
    if getattr(opts, "num_users", None) and opts.num_users > MAX_USERS:
        raise LoadUsageError(f"--users {opts.num_users} is over the ceiling {MAX_USERS}")
    existing = getattr(environment, "harness", None)
    if isinstance(existing, LoadRun) and existing.scenario is not scenario:
        raise LoadUsageError("one load scenario per Locust process")
    run = LoadRun(scenario, scenario.new_state())
    environment.harness = run
    role = role_of(environment.runner)
    if environment.runner is not None:
        install(environment)
    if role == "master" and not (opts.share_target or opts.target_profile):
        return  # the master sends nothing; each worker resolves its own target
    if role == "worker" and opts.target_from_master:
        return  # the master sends the target (distributed.MSG_TARGET)
    if role == "master" and not scenario.distributable:
        return
    target = _resolve_target(scenario, opts)
    max_cost = opts.max_cost if opts.max_cost >= 0 else None
    try:
        check_safety(target, opts.allow_live, max_cost)
    except LoadUsageError:
        target.stop()
        run.init_failed = True
        raise
    run.cost = CostGuard(max_cost, target.live)
    run.target = target
    environment.host = environment.host or target.base_url


def _start(environment: Any) -> None:
    import gevent

    from .distributed import MSG_SHARE, MSG_STOP, share_target

    run = load_run(environment)
    run.started_at = time.perf_counter()
    opts = environment.parsed_options
    limit = (opts.max_seconds if opts and opts.max_seconds else 0) or run.scenario.max_seconds
    if run.role == "master" and opts is not None and opts.share_target:
        share_target(environment)
    if run.role == "master":  # an open model's arrival rate is the total over the workers
        environment.runner.send_message(MSG_SHARE, {"workers": len(environment.runner.clients)})
    if run.role == "worker":
        limit += 30.0  # the master stops the run; this is the worker's own safety net

    def stop_later() -> None:
        gevent.sleep(limit)
        runner = environment.runner
        if runner is None:
            return
        if run.role == "worker":
            runner.send_message(MSG_STOP, {"reason": "worker hard stop"})
            gevent.sleep(5.0)
        runner.quit()

    run.stopper = gevent.spawn(stop_later)
    if opts is not None and opts.stop_on_breach and run.role != "worker":
        run.extra["watcher"] = gevent.spawn(_watch_thresholds, environment)


def _watch_thresholds(environment: Any, every_s: float = 2.0) -> None:
    """``--stop-on-breach``: judge the (merged) figures every few seconds; stop on a breach."""
    import gevent

    from .distributed import breached_now

    run = load_run(environment)
    if not run.scenario.distributable:
        return
    while True:
        gevent.sleep(every_s)
        broken = breached_now(environment)
        if broken and environment.runner is not None:
            run.extra["stopped_on_breach"] = broken
            print(f"harness: threshold breached ({', '.join(broken)}); stopping the run")
            environment.runner.quit()
            return


def _stopping(environment: Any) -> None:
    """The run is stopping: on the master, gather every worker's final state."""
    from .distributed import finish_master

    run = getattr(environment, "harness", None)
    if not isinstance(run, LoadRun):
        return
    if run.sender is not None:
        run.sender.measuring = False  # stopping kills users: not the generator's pace
    if run.role == "master" and run.scenario.distributable and not run.extra.get("gathered"):
        run.extra["gathered"] = True
        finish_master(environment)


def _results(environment: Any, run: LoadRun) -> dict[str, Any]:
    from .distributed import per_worker, worker_target

    scenario = run.scenario
    if scenario.results is not None:
        results = scenario.results(environment)
    else:
        assert scenario.figures is not None
        results = scenario.figures(overall(environment))
    target = run.target
    if run.role == "master":
        results["workers"] = per_worker(run)
        results["distributed"] = {"role": "master", "workers": len(run.workers)}
        t = worker_target(run) if target is None else None
        if t is not None:
            results["target"] = t
    if target is not None:
        results["target"] = {"base_url": target.base_url, "live": target.live}
    results.setdefault("target", {"base_url": None, "live": None})
    if run.extra.get("stopped_on_breach"):
        results["stopped_on_breach"] = run.extra["stopped_on_breach"]
    return results


def _quit(environment: Any) -> None:
    run = getattr(environment, "harness", None)
    if not isinstance(run, LoadRun):
        return
    if run.stopper is not None:
        run.stopper.kill(block=False)
        run.stopper = None
    watcher = run.extra.pop("watcher", None)
    if watcher is not None:
        watcher.kill(block=False)
    target = run.target
    if run.role == "worker":  # only the master (or a local run) writes results
        if target is not None:
            target.stop()
        return
    if run.role == "master" and not run.scenario.distributable:
        return
    if run.role == "local" and target is None:
        return
    if run.role == "master" and not run.extra.get("gathered"):
        _stopping(environment)  # stopped without test_stopping (e.g. the last worker quit)
    try:
        results = _results(environment, run)
        verdicts = judge_thresholds(run.scenario.thresholds(environment), results)
        results["thresholds"] = verdicts
        results["scenario"] = run.scenario.name
        results["cost_usd"] = round(run.cost.spent, 6)
        if any(not v["ok"] for v in verdicts) and environment.process_exit_code in (None, 0):
            environment.process_exit_code = 1
        redactor = target.redactor() if target is not None else Redactor()
        text = redactor.text(json.dumps(results, indent=2, default=str))
        path = environment.parsed_options.results_file
        if path:
            Path(path).parent.mkdir(parents=True, exist_ok=True)
            Path(path).write_text(text + "\n")
        else:
            print(text)
        run.results = results
    finally:
        if target is not None:
            target.stop()


# the scenarios registered in this process, in import order; the last one runs (a scenario
# module may import another's users: the capacity search imports streaming and tts)
_SCENARIOS: list[Scenario] = []


def register(scenario: Scenario) -> None:
    """Install ``scenario``'s Locust listeners (one scenario per Locust process: when a
    module registers after another, as the capacity search does, the last one runs).

    The listeners keep nothing here: the run's state lives on ``environment.harness``.
    """
    from locust import events

    _SCENARIOS.append(scenario)
    if len(_SCENARIOS) > 1:
        return  # a module that builds on another scenario (capacity): the last one counts
    events.init_command_line_parser.add_listener(
        lambda parser, **_: _add_arguments(parser, _SCENARIOS[-1])
    )
    events.init.add_listener(lambda environment, **_: _init(environment, _SCENARIOS[-1]))
    events.test_start.add_listener(lambda environment, **_: _start(environment))
    events.test_stopping.add_listener(lambda environment, **_: _stopping(environment))
    events.quitting.add_listener(lambda environment, **_: _quit(environment))
    progress.install(events)  # a progress line on stderr every few seconds, and series.json


def fire(
    environment: Any,
    request_type: str,
    name: str,
    elapsed_s: float,
    length: int = 0,
    exception: BaseException | str | None = None,
) -> None:
    """One Locust request event (times in seconds; Locust wants ms)."""
    if isinstance(exception, str):
        exception = LoadFailure(redact(environment, exception))
    elif exception is not None:
        exception = LoadFailure(redact(environment, f"{type(exception).__name__}: {exception}"))
    environment.events.request.fire(
        request_type=request_type,
        name=name,
        response_time=elapsed_s * 1000.0,
        response_length=length,
        exception=exception,
        context={},
    )


class LoadFailure(Exception):
    """A failure as Locust records it (its text already redacted)."""
