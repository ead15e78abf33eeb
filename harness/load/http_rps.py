"""The harness's HTTP generator at full speed: how many requests a second one process makes.

Each user POSTs a small multipart upload to ``--rps-model`` (default ``vfast-batch``) with
no wait between requests, using Locust's ``FastHttpUser`` (geventhttpclient). With
``--rps-key-role invalid`` (default) the emulator answers 401 from its admission check, so the
route is cheap and the figure is the generator's; 401 is expected (not a failure).
``benchmarks/bench_load.py`` compares it with ``wrk`` on the same route.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from locust import FastHttpUser, constant, task

from harness.contract import tables as T

from . import common as C
from .metrics import Tally


@dataclass
class RpsTally(Tally):
    ok: int = 0  # answers with the expected status


def _arguments(parser: Any) -> None:
    parser.add_argument("--rps-model", default="vfast-batch")
    parser.add_argument("--rps-expect", type=int, default=401, help="the expected status")


def _emulator_config(opts: Any) -> dict[str, Any]:
    from .emu import scenario_emulator_data

    return scenario_emulator_data()


class RpsUser(FastHttpUser):
    wait_time = constant(0)
    network_timeout = 10.0

    def on_start(self) -> None:
        self.opts = self.environment.parsed_options
        self.body, ctype = C.multipart("rps.wav", b"RIFF0000WAVE")
        self.headers = {T.VELMA_HTTP_AUTH_HEADER: "rps-not-a-key", "Content-Type": ctype}
        self.path = T.VELMA_PATHS[self.opts.rps_model]
        C.current_target(self.environment)

    @task
    def post(self) -> None:
        with self.client.post(
            self.path,
            data=self.body,
            headers=self.headers,
            name=f"POST {self.opts.rps_model}",
            catch_response=True,
        ) as r:
            if r.status_code == self.opts.rps_expect:
                r.success()
                C.state(self.environment).ok += 1
            else:
                r.failure(f"HTTP {r.status_code}")


def figures(m: RpsTally) -> dict[str, Any]:
    return {"expected": m.ok}


def _results(environment: Any) -> dict[str, Any]:
    """Locust's totals (merged by Locust itself on a master) and the expected answers."""
    s = environment.stats.total
    return {
        "requests": s.num_requests,
        "failures": s.num_failures,
        **figures(C.overall(environment)),
        "rps": s.total_rps,
    }


C.register(
    C.Scenario(
        "http-rps",
        _emulator_config,
        _results,
        arguments=_arguments,
        max_seconds=120.0,
        new_state=RpsTally,
        figures=figures,
    )
)
