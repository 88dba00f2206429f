"""Databases for tests and benchmarks: migrate one, open it, empty it.

`ROOT` is the source checkout (alembic.ini and migrations/ live there), not an installed copy.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from alembic import command
from alembic.config import Config as AlembicConfig
from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

from commerce.db import Base, make_engine, make_session_factory, unit_of_work

ROOT = Path(__file__).resolve().parents[2]


def alembic_config(url: str) -> AlembicConfig:
    cfg = AlembicConfig(str(ROOT / "alembic.ini"))
    cfg.set_main_option("script_location", str(ROOT / "migrations"))
    cfg.attributes["database_url"] = url
    cfg.attributes["configure_logger"] = False
    return cfg


def migrate(url: str) -> None:
    command.upgrade(alembic_config(url), "head")


@dataclass
class Db:
    engine: Engine
    factory: sessionmaker[Session]

    @contextlib.contextmanager
    def uow(self) -> Iterator[Session]:
        with unit_of_work(self.factory) as session:
            yield session

    def session(self) -> Session:
        return self.factory()


def open_db(url: str, **kwargs: object) -> Db:
    engine = make_engine(url, **kwargs)  # type: ignore[arg-type]
    return Db(engine=engine, factory=make_session_factory(engine))


def truncate_all(engine: Engine) -> None:
    names = ", ".join(f'"{t.name}"' for t in reversed(Base.metadata.sorted_tables))
    with engine.begin() as conn:
        conn.execute(text(f"TRUNCATE {names} RESTART IDENTITY CASCADE"))
