"""Quota: use up a small monthly audio quota, then check that every later request is rejected
as documented and that no retry gets through.

On the emulator child the organisation's quota is ``--quota-seconds`` of audio (default 6 s);
requests of ``--clip-s`` audio (default 1 s) are sent until the first rejection
(``exhausted_after``), then ``--after`` more requests, each retried by the documented policy
(``--wait-scale`` x the documented waits). Every post-exhaustion answer must be the
documented rejection for the model (``harness.emulator`` follows the catalog's preferred side:
e.g. 429 on ``vfast-batch``, 403 on ``svd-batch``); ``accepted_after_exhaustion`` must be 0.
Names: ``POST <model> until-exhausted``, ``POST <model> after-exhausted``, ``POST <model> retry``.
"""

from __future__ import annotations

import random
import time
from typing import Any

import gevent
from locust import FastHttpUser, task

from harness.contract import tables as T

from . import common as C
from .judge import POLICY, scheduled_wait

MAX_BEFORE = 500  # requests before giving up on exhausting the quota


def _arguments(parser: Any) -> None:
    parser.add_argument("--quota-model", default="vfast-batch")
    parser.add_argument("--quota-seconds", type=float, default=6.0)
    parser.add_argument("--clip-s", type=float, default=1.0)
    parser.add_argument("--after", type=int, default=5, help="requests after exhaustion")
    parser.add_argument("--quota-wait-scale", type=float, default=0.01)


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    return scenario_emulator_data(quota_audio_hours=opts.quota_seconds / 3600.0)


def documented_rejection(model: str) -> set[int]:
    """Statuses the contract allows for an exhausted quota on ``model``."""
    from harness.contract import all_clauses

    out: set[int] = set()
    for c in all_clauses():
        if c.id == f"{model}/monthly-quota":
            for o in c.outcomes:
                if getattr(o, "status", None):
                    out.add(o.status)
            for a in c.alternatives:
                for o in a.outcomes:
                    if getattr(o, "status", None):
                        out.add(o.status)
    return out or {403, 429}


class QuotaUser(FastHttpUser):
    network_timeout = 30.0

    def on_start(self) -> None:
        self.target = C.current_target(self.environment)
        self.opts = self.environment.parsed_options
        self.model = self.opts.quota_model
        self.body, self.ctype = C.multipart("quota.wav", C.wav_bytes(self.opts.clip_s))

    def _post(self, name: str) -> int:
        if not C.cost_guard(self.environment).allow(self.model, self.opts.clip_s):
            return 0
        headers = {T.VELMA_HTTP_AUTH_HEADER: self.target.key, "Content-Type": self.ctype}
        with self.client.post(
            T.VELMA_PATHS[self.model],
            data=self.body,
            headers=headers,
            name=name,
            catch_response=True,
        ) as r:
            status = r.status_code or 0
            r.success()  # judged below, against the documented statuses
            return status

    @task
    def quota(self) -> None:
        C.run_once(self.environment, self._quota)

    def _quota(self) -> None:
        allowed = documented_rejection(self.model)
        before: list[int] = []
        while len(before) < MAX_BEFORE:
            status = self._post(f"POST {self.model} until-exhausted")
            before.append(status)
            if status != 200:
                break
        after: list[int] = []
        retries: list[int] = []
        rng = random.Random(0)
        for _ in range(self.opts.after):
            status = self._post(f"POST {self.model} after-exhausted")
            after.append(status)
            attempt = 0
            while status in POLICY.retry_statuses and attempt < POLICY.max_retries:
                gevent.sleep(scheduled_wait(attempt, rng, self.opts.quota_wait_scale))
                status = self._post(f"POST {self.model} retry")
                retries.append(status)
                attempt += 1
        bad = [s for s in after + retries if s not in allowed]
        for s in bad:
            C.fire(
                self.environment,
                "QUOTA",
                f"{self.model} not rejected as documented",
                0.0,
                exception=f"HTTP {s}",
            )
        C.state(self.environment).update(
            {
                "model": self.model,
                "documented_statuses": sorted(allowed),
                "accepted_before_exhaustion": sum(s == 200 for s in before),
                "exhausted_after": len(before),
                "first_rejection": before[-1] if before and before[-1] != 200 else None,
                "after": after,
                "retries": len(retries),
                "accepted_after_exhaustion": sum(200 <= s < 300 for s in after + retries),
                "undocumented_after_exhaustion": len(bad),
                "at": time.time(),
            }
        )


def _results(environment: Any) -> dict[str, Any]:
    return dict(C.state(environment))


def _thresholds(environment: Any) -> list[C.Threshold]:
    return [
        C.Threshold("accepted_after_exhaustion", 0),
        C.Threshold("undocumented_after_exhaustion", 0),
    ]


C.register(
    C.Scenario("quota", _emulator_config, _results, _thresholds, _arguments, max_seconds=120.0)
)
