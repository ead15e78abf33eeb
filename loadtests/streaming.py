"""Real-time WebSocket streams (see harness/load/streaming.py).

locust -f loadtests/streaming.py --headless -u 50 -r 50 --run-time 30s
locust -f loadtests/streaming.py --headless -u 4 -r 4 --run-time 30s --arrival-rate 5
harness load streaming [--target FILE] [--users N] [--duration S]
"""

from harness.load.streaming import StreamUser

__all__ = ["StreamUser"]
