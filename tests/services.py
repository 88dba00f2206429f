"""Fixtures for the real PostgreSQL and Redis, and the provider emulators.

Unreachable PostgreSQL or Redis → the test fails with the reason (never a skip).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

import pytest
import redis
from sqlalchemy import text

from commerce.db import make_engine
from devtools.emulators import create_emulator_app, serve_in_thread
from devtools.emulators.store import EmulatorStore
from tests.support import PG_URL, REDIS_URL, Db, migrate, open_db, truncate_all
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN


def _reset_schema() -> None:
    engine = make_engine(PG_URL)
    try:
        with engine.begin() as conn:
            conn.execute(text("DROP SCHEMA IF EXISTS public CASCADE"))
            conn.execute(text("CREATE SCHEMA public"))
    except Exception as exc:
        pytest.fail(f"PostgreSQL at {PG_URL} is required (run `make services`): {exc}")
    finally:
        engine.dispose()


@pytest.fixture(scope="session")
def pg_migrated() -> str:
    _reset_schema()
    migrate(PG_URL)
    return PG_URL


@pytest.fixture
def pg(pg_migrated: str) -> Iterator[Db]:
    """The migrated PostgreSQL `test` database, emptied before each test."""
    database = open_db(pg_migrated, pool_size=60, max_overflow=10)
    truncate_all(database.engine)
    yield database
    database.engine.dispose()


@pytest.fixture
def redis_conn() -> Iterator[redis.Redis]:
    conn = redis.Redis.from_url(REDIS_URL)
    try:
        conn.ping()
    except redis.RedisError as exc:
        pytest.fail(f"Redis at {REDIS_URL} is required (run `make services`): {exc}")
    conn.flushdb()
    yield conn
    conn.flushdb()
    conn.close()


@dataclass
class Emulator:
    store: EmulatorStore
    base_url: str


@pytest.fixture(scope="session")
def emulator() -> Iterator[Emulator]:
    store = EmulatorStore()
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )
    base_url, shutdown = serve_in_thread(app)
    yield Emulator(store=store, base_url=base_url)
    shutdown()
