"""Backoff: the documented retry policy against immediate retries (see harness/load/backoff.py).

locust -f loadtests/backoff.py --headless -u 1 -r 1 --run-time 90s
harness load backoff [--target FILE]
"""

from harness.load.backoff import BackoffUser

__all__ = ["BackoffUser"]
