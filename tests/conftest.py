"""Fixtures for every test layer.

Unit tests get a private SQLite file migrated by Alembic once and copied per test (fast, no
sockets). Integration and e2e tests get the real PostgreSQL and Redis this machine runs; when
either cannot be reached the test fails with the reason, never skips.
"""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from hypothesis import settings

from commerce import clock
from tests.support import Db, migrate, open_db

pytest_plugins = ["tests.services"]

# Hypothesis' default 200 ms per-example deadline measures the machine, not the code: a busy
# 2-core runner misses it on examples that take milliseconds here. A test's own settings(...)
# still override this default.
settings.register_profile("boutik", deadline=None)
settings.load_profile("boutik")


@pytest.fixture(autouse=True)
def _fresh_clock() -> Iterator[None]:
    clock.reset()
    yield
    clock.reset()


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "template.db"
    migrate(f"sqlite:///{path}")
    return path


@pytest.fixture
def db(sqlite_template: Path, tmp_path: Path) -> Iterator[Db]:
    """A migrated SQLite database of this test's own."""
    path = tmp_path / "boutik.db"
    shutil.copy(sqlite_template, path)
    database = open_db(f"sqlite:///{path}")
    yield database
    database.engine.dispose()


@pytest.fixture(autouse=True)
def _provider_contracts(request: pytest.FixtureRequest) -> Iterator[None]:
    """Every request a test's code sent to the shared emulators fits the providers' own specs,
    and so does every answer the emulators gave and every status callback Twilio's posted.

    Why suite-wide: the journeys make the calls production makes, and a parameter the spec does
    not know (or a missing one, a wrong type, a text past its limit) must fail the test that
    made it, not wait for Twilio or Telegram to refuse it. A test that sends bad requests on
    purpose says so with `@pytest.mark.bad_provider_requests`.
    """
    if "emulator" not in request.fixturenames or request.node.get_closest_marker(
        "bad_provider_requests"
    ):
        yield
        return
    from devtools import contracts

    store = request.getfixturevalue("emulator").store
    store.clear_raw_requests()
    yield
    found = contracts.violations(store.raw_requests())
    assert found == [], "requests that do not fit the providers' specs:\n" + "\n".join(found[:20])
    said = contracts.response_violations(store.raw_responses())
    said += contracts.webhook_violations(store.sent_webhooks())
    assert said == [], "emulator output the providers' specs refuse:\n" + "\n".join(said[:20])
