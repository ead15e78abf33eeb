"""The options of ``harness audit-client``, declared once.

They may come before the scenario names (parsed by the main ``harness`` parser) or after
them (parsed again from what follows, :func:`harness.audit.cli.options_parser`); both use
:func:`add_options`. Only argparse here, so that building the main parser stays cheap.
"""

from __future__ import annotations

import argparse

DEFAULT_TIMEOUT_S = 60.0


def add_options(p: argparse.ArgumentParser) -> None:
    p.add_argument("--list", action="store_true", help="list the scenarios, one a line")
    p.add_argument("--report-dir", default=None, help="write JSON, JUnit and HTML reports here")
    p.add_argument(
        "--timeout", type=float, default=None, help=f"seconds per scenario ({DEFAULT_TIMEOUT_S:g})"
    )
    p.add_argument("--scenarios", default=None, help="a TOML file of more scenarios")
    p.add_argument(
        "--strict",
        action="store_true",
        help="a documented recommendation (SHOULD) the client misses fails the audit (exit 1)",
    )
