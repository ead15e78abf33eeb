"""Capacity search on one surface (see harness/load/capacity.py).

locust -f loadtests/capacity.py --headless --surface svd-stream --start 2 --step 2 --max 12
harness load capacity --surface svd-stream [--target FILE] [--workers N]
"""

from harness.load.capacity import (
    CapacityBatchUser,
    CapacityShape,
    CapacityStreamUser,
    CapacityTtsUser,
)

__all__ = ["CapacityBatchUser", "CapacityShape", "CapacityStreamUser", "CapacityTtsUser"]
