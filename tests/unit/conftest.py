"""Unit-test database: one engine for the whole run, its file reset from the template per test.

Why: SQLAlchemy caches compiled SQL per engine; a new engine per test recompiled every
statement in every test. Resetting the content with SQLite's backup API gives each test the
same fresh, migrated database while the compiled-statement cache survives.
"""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from pathlib import Path

import pytest

from commerce import rules
from tests.support import Db, open_db


@pytest.fixture(scope="session")
def _unit_db(sqlite_template: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Db]:
    path = tmp_path_factory.mktemp("unit") / "boutik.db"
    shutil.copy(sqlite_template, path)
    database = open_db(f"sqlite:///{path}")
    yield database
    database.engine.dispose()


@pytest.fixture
def db(_unit_db: Db, sqlite_template: Path) -> Iterator[Db]:
    """A migrated SQLite database of this test's own (same engine, fresh content)."""
    # Copy the template's pages over this run's file through a pooled connection: no
    # connection is closed (closing the last one would checkpoint the WAL every test).
    src = sqlite3.connect(sqlite_template)
    raw = _unit_db.engine.raw_connection()
    try:
        src.backup(raw.driver_connection)
    finally:
        raw.close()
        src.close()
    rules.bind(_unit_db.factory, rules.DEFAULT)  # one factory serves every test: its own rules
    yield _unit_db
