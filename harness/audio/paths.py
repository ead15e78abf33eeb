"""Where built fixtures live by default."""

from __future__ import annotations

import os
from pathlib import Path

ENV_VAR = "HARNESS_FIXTURE_DIR"
REPO_ROOT = Path(__file__).resolve().parents[2]


def default_fixture_dir() -> Path:
    """``$HARNESS_FIXTURE_DIR`` if set, else ``<repo>/fixtures/build``."""
    env = os.environ.get(ENV_VAR)
    return Path(env).expanduser() if env else REPO_ROOT / "fixtures" / "build"


DEFAULT_FIXTURE_DIR = default_fixture_dir()
