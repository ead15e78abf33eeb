"""quota scenario (see harness/load/quota.py).

locust -f loadtests/quota.py --headless -u 1 -r 1 --run-time 60s
harness load quota [--target FILE]
"""

from harness.load.quota import QuotaUser

__all__ = ["QuotaUser"]
