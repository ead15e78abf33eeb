"""Concurrency probe (see harness/load/probe.py).

locust -f loadtests/concurrency_probe.py --headless -u 1 -r 1 --run-time 60s
harness load concurrency-probe [--target FILE]
"""

from harness.load.probe import ProbeUser

__all__ = ["ProbeUser"]
