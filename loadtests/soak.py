"""Soak: many real-time streams for a long time (see harness/load/soak.py).

locust -f loadtests/soak.py --headless -u 200 -r 50 --run-time 10m
harness load soak [--target FILE] [--users N] [--duration S]
"""

from harness.load.soak import SoakUser

__all__ = ["SoakUser"]
