"""Which clauses the suites check: collect the suites (without running them) and read the marks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

SUITES_DIR = Path(__file__).resolve().parent.parent / "suites"

_SCRIPT = """
import json, sys, pytest
found = {}
class Collector:
    def pytest_collection_finish(self, session):
        for item in session.items:
            m = item.get_closest_marker("clause")
            cid = str(m.args[0]) if m and m.args else None
            found.setdefault(cid or "", []).append(item.nodeid)
code = pytest.main([sys.argv[1], "--collect-only", "-q", "-p", "no:cacheprovider",
                    "-o", "addopts=", "--rootdir", sys.argv[2]], plugins=[Collector()])
print("@@CLAUSES@@" + json.dumps(found))
sys.exit(int(code))
"""


def clauses_in_suites(suites: Path = SUITES_DIR) -> dict[str, list[str]]:
    """clause ID -> node IDs of the cases marked with it ("" holds unmarked cases)."""
    r = subprocess.run(
        [sys.executable, "-c", _SCRIPT, str(suites), str(suites.parent)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=suites.parent,
    )
    marker = "@@CLAUSES@@"
    line = next((ln for ln in r.stdout.splitlines() if ln.startswith(marker)), None)
    if r.returncode != 0 or line is None:
        raise RuntimeError(f"collecting {suites} failed:\n{r.stdout[-3000:]}\n{r.stderr[-3000:]}")
    return json.loads(line[len(marker) :])
