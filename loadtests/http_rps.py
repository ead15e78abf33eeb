"""The HTTP generator's own rate (see harness/load/http_rps.py).

locust -f loadtests/http_rps.py --headless -u 32 -r 32 --run-time 10s
"""

from harness.load.http_rps import RpsUser

__all__ = ["RpsUser"]
