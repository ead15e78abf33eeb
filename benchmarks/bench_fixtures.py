"""Fixture factory figures: cold build, warm rebuild, peak RSS while streaming the oversize file.

Run: .venv/bin/python benchmarks/bench_fixtures.py
Prints figures; asserts nothing. Goals on a 2-core machine: cold <= 3 s, warm <= 0.3 s,
peak RSS <= 64 MB while streaming the >100 MiB fixture.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]

# Runs in a fresh interpreter so the build's own memory does not count.
_STREAM_CHILD = r"""
import hashlib, json, sys, time

def hwm_kib():
    with open("/proc/self/status") as fh:
        for line in fh:
            if line.startswith("VmHWM:"):
                return int(line.split()[1])
    return -1

from harness.audio import open_stream
from harness.audio.catalog import all_specs

before = hwm_kib()
fixture = next(s for s in all_specs() if "oversize" in s.tags)
t = time.perf_counter()
h, total, chunks = hashlib.sha256(), 0, 0
for chunk in open_stream(fixture.id):
    h.update(chunk)
    total += len(chunk)
    chunks += 1
json.dump({"id": fixture.id, "bytes": total, "chunks": chunks, "sha256": h.hexdigest(),
           "seconds": time.perf_counter() - t, "hwm_before_kib": before,
           "hwm_after_kib": hwm_kib()}, sys.stdout)
"""


def main() -> None:
    # Stream first, while this process is still small: a forked child's ru_maxrss
    # counts the parent's pages it shared before exec.
    proc = subprocess.run(
        [sys.executable, "-c", _STREAM_CHILD], cwd=REPO, capture_output=True, text=True, check=True
    )
    child = json.loads(proc.stdout)
    child_maxrss_kib = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss

    t0 = time.perf_counter()
    sys.path.insert(0, str(REPO))
    from harness.audio import build

    t_import = time.perf_counter() - t0

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "fixtures"
        t = time.perf_counter()
        cold = build(out)
        t_cold = time.perf_counter() - t
        t = time.perf_counter()
        warm = build(out)
        t_warm = time.perf_counter() - t
        on_disk = sum(p.stat().st_size for p in out.rglob("*") if p.is_file())
        oversize = next(e for e in cold if "oversize" in e.tags)

    mb = 1e6
    print(f"import harness.audio          {t_import:7.3f} s")
    print(
        f"cold build ({len(cold)} fixtures)     {t_cold:7.3f} s   goal <= 3 s   "
        f"[{cold.stats.summary()}]"
    )
    print(f"warm rebuild                  {t_warm:7.3f} s   goal <= 0.3 s [{warm.stats.summary()}]")
    print(f"written to disk               {on_disk / mb:7.1f} MB")
    print(
        f"oversize stream               {child['bytes'] / mb:7.1f} MB in {child['chunks']} "
        f"chunks, {child['seconds']:.2f} s, sha256 matches manifest: "
        f"{child['sha256'] == oversize.sha256}"
    )
    print(
        f"peak RSS streaming (VmHWM)    {child['hwm_after_kib'] / 1024:7.1f} MiB   goal <= 64 MB "
        f"(after imports {child['hwm_before_kib'] / 1024:.1f} MiB, "
        f"streaming added {(child['hwm_after_kib'] - child['hwm_before_kib']) / 1024:.1f} MiB)"
    )
    print(f"peak RSS child (getrusage)    {child_maxrss_kib / 1024:7.1f} MiB")


if __name__ == "__main__":
    main()
