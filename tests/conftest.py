"""Fixtures shared by the emulator tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from test_emulator_helpers import running, wav

from harness.emulator import RunningEmulator


@pytest.fixture(scope="module")
def emu() -> Iterator[RunningEmulator]:
    """The emulator with the default demo config (no modelled sleeps), one per test module."""
    with running() as e:
        yield e


@pytest.fixture(scope="module")
def clip() -> bytes:
    """A short WAV of speech that every Velma-2 batch surface accepts."""
    return wav(0.6)
