"""KugelAudio TTS under load: ``POST /v1/tts/generate`` with 429 + ``Retry-After`` honoured.

Skipped cleanly (a results file saying why, exit 0) when the target has no KugelAudio base
URL or key, or answers 404/405 on ``/v1/tts/generate`` (the KugelAudio emulator is not built
yet in this tree). Otherwise each user sends small generate requests; a 429 is retried after
``Retry-After`` (or the documented backoff when absent), at most 5 retries; names are
``POST tts generate`` and ``POST tts generate retry``.
"""

from __future__ import annotations

import random
import time
from typing import Any

import gevent
from locust import FastHttpUser, task

from . import common as C
from .judge import POLICY, retry_after, scheduled_wait
from .tallies import TtsMetrics, tts_figures

PATH = "/v1/tts/generate"
RATE_PER_S = 20  # the emulator child's request-rate limit for its rate-limited KugelAudio key


def _arguments(parser: Any) -> None:
    parser.add_argument("--tts-text", default="Hello from the load harness.")
    parser.add_argument("--tts-p95-ms", type=float, default=5000.0)


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    data = scenario_emulator_data()
    data["kugel"] = {"rate_window_s": 1.0, "rate_limit": {"rate_limited": RATE_PER_S}}
    return data


class TtsUser(FastHttpUser):
    network_timeout = 30.0

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.rng = random.Random()
        if self.target.own_child:  # the run's emulator child: its rate-limited Kugel key
            from harness.emulator.kugel.config import DEFAULT_KEYS

            self.target.kugel_key = DEFAULT_KEYS["rate_limited"]
            self.target.secrets.append(self.target.kugel_key)
        if not self.target.kugel_base_url or not self.target.kugel_key:
            self._skip("the target has no KugelAudio base URL or key")
            return
        with self.client.post(
            self.target.kugel_base_url + PATH, json={}, name="POST tts probe", catch_response=True
        ) as r:
            r.success()  # an empty body: any answer but 404/405 says the route exists
            if r.status_code in (0, 404, 405):
                self._skip(f"no {PATH} on the target (HTTP {r.status_code})")

    @property
    def m(self) -> TtsMetrics:
        """The state to record into now (a capacity search changes it at each step)."""
        return C.state(self.environment)

    def _skip(self, why: str) -> None:
        self.m.skipped = why
        gevent.spawn_later(0, self.environment.runner.quit)

    @task
    def generate(self) -> None:
        if self.m.skipped:
            gevent.sleep(1)
            return
        headers = {"Authorization": f"Bearer {self.target.kugel_key}"}
        body = {"text": self.environment.parsed_options.tts_text}
        for attempt in range(POLICY.max_retries + 1):
            name = "POST tts generate" if attempt == 0 else "POST tts generate retry"
            t = time.perf_counter()
            with self.client.post(
                self.target.kugel_base_url + PATH,
                json=body,
                headers=headers,
                name=name,
                catch_response=True,
            ) as r:
                status = r.status_code or 0
                self.m.status[str(status)] += 1
                if status == 429:
                    r.success()
                    ra = retry_after(r.headers)
                    self.m.honoured += ra is not None
                    self.m.retries += 1
                    wait = ra if ra is not None else scheduled_wait(attempt, self.rng)
                    gevent.sleep(wait)
                    continue
                if 200 <= status < 300:
                    self.m.latency.record(time.perf_counter() - t)
                else:
                    r.failure(f"HTTP {status}")
                return


def _thresholds(environment: Any) -> list[C.Threshold]:
    if C.overall(environment).skipped:
        return []
    return [C.Threshold("latency_ms.p95", environment.parsed_options.tts_p95_ms)]


C.register(
    C.Scenario(
        "tts",
        _emulator_config,
        None,
        _thresholds,
        _arguments,
        max_seconds=300.0,
        new_state=TtsMetrics,
        figures=tts_figures,
    )
)
