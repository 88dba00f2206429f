"""Test support shared by unit, integration and e2e tests: the test services, databases, builders.

The databases and world builders live in `devtools.testkit` (the benchmarks use them too) and are
re-exported here; only the URLs of the test services are the tests' own.
"""

from __future__ import annotations

import os

from devtools.testkit.builders import (
    courier_row,
    ensure_admin,
    later,
    make_admin,
    make_buyer,
    make_category,
    make_courier,
    make_product,
    make_seller,
    make_whatsapp_buyer,
    phone,
    shop_owner,
    stock_of,
    uid,
)
from devtools.testkit.db import ROOT, Db, alembic_config, migrate, open_db, truncate_all

PG_URL = os.environ.get("TEST_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")
REDIS_URL = os.environ.get("TEST_REDIS_URL", "redis://127.0.0.1:6379/15")

__all__ = [
    "PG_URL",
    "REDIS_URL",
    "ROOT",
    "Db",
    "alembic_config",
    "courier_row",
    "ensure_admin",
    "later",
    "make_admin",
    "make_buyer",
    "make_category",
    "make_courier",
    "make_product",
    "make_seller",
    "make_whatsapp_buyer",
    "migrate",
    "open_db",
    "phone",
    "shop_owner",
    "stock_of",
    "truncate_all",
    "uid",
]
