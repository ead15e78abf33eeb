"""The audio fixture factory: deterministic test audio for the conformance suites.

``build(out_dir)`` writes every fixture in the catalog plus ``manifest.json``;
``load_manifest(out_dir)`` reads it back. Raw encodings are exposed directly
(``encode_raw`` / ``decode_raw``) and the oversize fixture is only ever produced
lazily (``open_stream`` / ``write_to``). This package imports nothing from the
project except ``harness.contract``.
"""

from .catalog import EDGE_CASE_TAGS, REFERENCED_CLAUSES
from .errors import AudioSpecError
from .manifest import (
    BuildStats,
    FixtureEntry,
    Manifest,
    build,
    load_manifest,
    open_stream,
    write_to,
)
from .paths import DEFAULT_FIXTURE_DIR, default_fixture_dir
from .raw import decode_raw, encode_raw, validate_raw_params
from .specs import GENERATOR_VERSION

__all__ = [
    "DEFAULT_FIXTURE_DIR",
    "EDGE_CASE_TAGS",
    "GENERATOR_VERSION",
    "REFERENCED_CLAUSES",
    "AudioSpecError",
    "BuildStats",
    "FixtureEntry",
    "Manifest",
    "build",
    "decode_raw",
    "default_fixture_dir",
    "encode_raw",
    "load_manifest",
    "open_stream",
    "validate_raw_params",
    "write_to",
]
