"""A case that did not provoke what it checks has not passed: it is an ``error`` with the cause.

The emulator's ``rate_limited`` KugelAudio key is given no rate limit, so its requests
are all served. Before, ``kugel/no-retry-after-in-body`` passed on that HTTP 200 (a 200
body has no ``retry_after`` either) and the 429 row failed; now every case that needed
the 429 is an error naming the cause, and the rows that were provoked still pass.
"""

from __future__ import annotations

from detection import run_switched

CLAUSES = (
    "kugel/no-retry-after-in-body",
    "kugel-http/rate-limit-exceeded",
    "kugel-http/retry-after-header",
)
NEVER_REFUSED = "[kugel.rate_limit]\nrate_limited = 0\n"


def test_an_unprovoked_429_is_an_error_not_a_pass(tmp_path):
    code, report = run_switched(tmp_path, "never-refused", NEVER_REFUSED, CLAUSES)
    cases = [c for c in report["cases"] if c["clause"] in CLAUSES]
    rate = [c for c in cases if c["id"].endswith("[rate-limit-exceeded]")]
    assert len(rate) == 3, [c["id"] for c in cases]
    for c in rate:
        assert c["outcome"] == "error", (c["id"], c["outcome"], c["message"])
        assert c["reason"] == "cannot-provoke" and "never refused" in c["cause"], c
        assert "HTTP 200" in c["message"], c["message"]
    others = [c for c in cases if c not in rate]
    assert others and not [c for c in others if c["outcome"] in ("failed", "error")], [
        (c["id"], c["outcome"]) for c in others if c["outcome"] in ("failed", "error")
    ]
    assert code != 1  # nothing was judged a violation
