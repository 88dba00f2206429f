"""Integration tests use the fixtures of tests/services.py (real PostgreSQL and Redis)."""

from __future__ import annotations

import pytest

from devtools.emulators.store import EmulatorStore
from tests.services import Emulator


@pytest.fixture
def store(emulator: Emulator) -> EmulatorStore:
    """The suite's shared emulators (tests/services.py), emptied for this test."""
    emulator.store.reset()
    return emulator.store
