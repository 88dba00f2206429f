"""The database (it answers, its schema is at the code's migration head) and Redis.

Why its own engine and client: the runtime's are sized for serving and wait long for a
connection; doctor wants one short attempt, and to say which of the two is down.
"""

from __future__ import annotations

from pathlib import Path
from urllib.parse import urlsplit

from sqlalchemy import Connection, Engine, text
from sqlalchemy.engine import make_url
from sqlalchemy.exc import SQLAlchemyError

from boutik.doctor.results import CALL_TIMEOUT_S, Result
from boutik.runtime import Runtime
from commerce.db import make_engine
from settings.config import PROJECT_ROOT

MIGRATIONS_DIR = PROJECT_ROOT / "migrations"


def _where(url: str) -> str:
    """The database named without its password: "PostgreSQL 127.0.0.1:5432/boutik"."""
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        return f"SQLite {parsed.database or ':memory:'}"
    port = f":{parsed.port}" if parsed.port else ""
    return f"PostgreSQL {parsed.host or 'localhost'}{port}/{parsed.database or ''}"


def _engine(url: str) -> Engine:
    if url.startswith("sqlite"):
        return make_engine(url)
    return make_engine(
        url, pool_size=1, max_overflow=0, connect_args={"connect_timeout": int(CALL_TIMEOUT_S)}
    )


def _sqlite_file_missing(url: str) -> bool:
    database = make_url(url).database
    return (
        url.startswith("sqlite")
        and bool(database)
        and database != ":memory:"
        and not Path(str(database)).exists()
    )


def check_database(rt: Runtime) -> list[Result]:
    """SELECT 1, then the schema's Alembic revision against the code's head."""
    url = rt.database_url
    where = _where(url)
    if _sqlite_file_missing(url):  # connecting would create an empty file: say so instead
        return [
            Result.problem(
                "Database", f"{where}: the file does not exist", "run `boutik db upgrade`"
            )
        ]
    engine = _engine(url)
    try:
        with engine.connect() as conn:
            conn.execute(text("SELECT 1"))
            current = _current_heads(conn)
    except SQLAlchemyError as exc:
        reason = type(getattr(exc, "orig", None) or exc).__name__
        return [
            Result.problem(
                "Database",
                f"{where} does not answer ({reason})",
                "start the database, or correct DATABASE_URL / [database] url",
            ),
            Result.info("Migrations", "not checked: the database does not answer"),
        ]
    finally:
        engine.dispose()
    return [Result.ok("Database", f"{where} answers"), _migrations(current)]


def _current_heads(conn: Connection) -> set[str]:
    from alembic.runtime.migration import MigrationContext

    return set(MigrationContext.configure(conn).get_current_heads())


def _migrations(current: set[str]) -> Result:
    from alembic.script import ScriptDirectory
    from alembic.util.exc import CommandError

    script = ScriptDirectory(str(MIGRATIONS_DIR))
    heads = set(script.get_heads())
    shown_heads = ", ".join(sorted(heads))
    if current == heads:
        return Result.ok("Migrations", f"at head ({shown_heads})")
    if not current:
        return Result.problem(
            "Migrations", "no migration applied: the schema is empty", "run `boutik db upgrade`"
        )
    unknown = []
    for revision in sorted(current):
        try:
            if script.get_revision(revision) is None:
                unknown.append(revision)
        except CommandError:
            unknown.append(revision)
    shown_current = ", ".join(sorted(current))
    if unknown:
        return Result.problem(
            "Migrations",
            f"the database is at {shown_current}, which this code does not know "
            "(migrated by a newer release?)",
            "deploy the release that matches the database, then run `boutik db upgrade`",
        )
    return Result.problem(
        "Migrations",
        f"behind: the database is at {shown_current}, the code expects {shown_heads}",
        "run `boutik db upgrade`",
    )


def check_redis(rt: Runtime) -> list[Result]:
    url = rt.config.queue.redis_url
    if not url:
        return [
            Result.info(
                "Redis",
                "not configured: embedded mode, jobs run inside `boutik serve` (set REDIS_URL "
                "to run separate workers)",
            )
        ]
    from redis import Redis, RedisError

    where = _redis_where(url)
    client = Redis.from_url(
        url, socket_connect_timeout=CALL_TIMEOUT_S, socket_timeout=CALL_TIMEOUT_S
    )
    try:
        client.ping()
    except RedisError as exc:
        return [
            Result.problem(
                "Redis",
                f"{where} does not answer ({type(exc).__name__})",
                "start Redis, or correct REDIS_URL / [queue] redis_url (empty runs jobs "
                "in-process)",
            )
        ]
    finally:
        client.close()
    return [Result.ok("Redis", f"{where} answers")]


def _redis_where(url: str) -> str:
    """Redis named without its password: "127.0.0.1:6379/0" (or the socket's path)."""
    parts = urlsplit(url)
    if parts.scheme == "unix":
        return parts.path
    port = f":{parts.port}" if parts.port else ""
    return f"{parts.hostname or 'localhost'}{port}/{parts.path.strip('/') or '0'}"
