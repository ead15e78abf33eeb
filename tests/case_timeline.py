"""A pytest plugin for the scheduler tests: writes when each case started and ended.

Loaded with ``-p case_timeline`` (``tests/`` on ``PYTHONPATH``); the file is named by
``CASE_TIMELINE``. One JSON line per case: nodeid, start, end (monotonic seconds), and its needs as the
scheduler reads them (alone, owns, surfaces).
"""

from __future__ import annotations

import json
import os
import threading
import time

_LOCK = threading.Lock()
_STARTS: dict[str, float] = {}


def pytest_runtest_setup(item):
    _STARTS[item.nodeid] = time.monotonic()


def pytest_runtest_teardown(item):
    from harness.plugin.schedule import needs_of

    needs = needs_of(item)
    line = {
        "nodeid": item.nodeid,
        "start": _STARTS.get(item.nodeid),
        "end": time.monotonic(),
        "alone": needs.alone is not None,
        "owns": needs.owns is not None,
        "surfaces": sorted(needs.slots),
    }
    with _LOCK, open(os.environ["CASE_TIMELINE"], "a", encoding="utf-8") as f:
        f.write(json.dumps(line) + "\n")
