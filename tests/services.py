"""Fixtures for the real PostgreSQL and Redis, and the provider emulators.

Unreachable PostgreSQL or Redis → the test fails with the reason (never a skip).
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

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

    def overlay(self, path: Path, *, public: str, **sections: dict[str, Any]) -> Path:
        """Write a config overlay (BOUTIK_CONFIG) pointing Twilio and Telegram at these
        emulators, with `public` as the web's base URL and more keys per section
        (`twilio={"sms_segments_per_s": 50.0}`, `media={"dir": …}`); returns `path`."""
        tables: dict[str, dict[str, Any]] = {
            "web": {"public_base_url": public},
            "twilio": {"api_base_url": self.base_url},
            "telegram": {"api_base_url": f"{self.base_url}/telegram/bot"},
        }
        for name, keys in sections.items():
            tables.setdefault(name, {}).update(keys)
        lines: list[str] = []
        for name, keys in tables.items():
            lines.append(f"[{name}]")
            lines += [f"{key} = {_toml_value(value)}" for key, value in keys.items()]
        path.write_text("\n".join(lines) + "\n")
        return path


def _toml_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    return json.dumps(str(value) if isinstance(value, Path) else value)  # strings, lists


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
