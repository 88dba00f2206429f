"""The stock race on the embedded SQLite (WAL, BEGIN IMMEDIATE): no oversell either."""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select

from commerce.cart.actions import add_to_cart
from commerce.errors import OutOfStock
from commerce.orders.actions import place_order
from commerce.orders.models import Order
from tests.integration.races import race
from tests.support import Db, make_buyer, make_product, make_seller, stock_of


def _checkout(session, *, buyer_id, address_id):  # type: ignore[no-untyped-def]
    return place_order(
        session,
        buyer_id=buyer_id,
        address_id=address_id,
        delivery_mode="home",
        commission_payer="buyer",
        payment_method="cash",
    )


def test_fifty_concurrent_checkouts_on_sqlite(db: Db) -> None:
    seller_id, _ = make_seller(db)
    pid = make_product(db, seller_id=seller_id, stock=10)
    buyers = [make_buyer(db) for _ in range(50)]
    for buyer_id, _addr in buyers:
        with db.uow() as s:
            add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=1)

    results = race(db, [partial(_checkout, buyer_id=b, address_id=a) for b, a in buyers])

    assert sum(isinstance(r, list) for r in results) == 10
    assert sum(isinstance(r, OutOfStock) for r in results) == 40
    assert stock_of(db, pid) == 0
    with db.session() as s:
        assert s.scalar(select(func.count(Order.id))) == 10


def test_sqlite_runs_in_wal_mode_with_a_busy_timeout(db: Db) -> None:
    with db.engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA busy_timeout").scalar() >= 1000
