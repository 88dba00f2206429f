"""The foundation's invariants, as plain checks any stateful test can run after every step.

Why a module: the commerce state machine (tests/unit/test_order_state_machine.py) and the
whole-conversation machine (tests/fuzz/test_conversation_machine.py) promise the same things —
stock never negative and conserved, refunds never above what was paid, at most one delivery
per order — and must check them the same way.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterable
from functools import cache
from pathlib import Path

from sqlalchemy import func, select

from commerce import clock
from commerce.catalog.models import Product
from commerce.delivery.models import DeliveryCode, DeliveryJob, JobKind, JobStatus
from commerce.orders.models import Order, OrderItem, OrderStatus
from commerce.returns.models import Refund, Return, ReturnItem, ReturnStatus
from tests.support import Db, migrate, open_db


@cache
def _template() -> Path:
    path = Path(tempfile.mkdtemp(prefix="boutik-machine-")) / "template.db"
    migrate(f"sqlite:///{path}")
    return path


def fresh_machine_db() -> tuple[Db, Path]:
    """A migrated SQLite database (and a directory) of one state-machine example's own.

    Copied from a template migrated once per run: hypothesis runs dozens of examples, and
    migrating each would take most of the test's time. Rules and clock start from defaults.
    The caller removes the directory in its teardown.
    """
    clock.reset()
    directory = Path(tempfile.mkdtemp(prefix="boutik-machine-"))
    shutil.copy(_template(), directory / "db.sqlite")
    return open_db(f"sqlite:///{directory / 'db.sqlite'}"), directory


def stock_is_never_negative_and_is_conserved(
    db: Db, product_ids: Iterable[int], initial_stock: int
) -> None:
    """stock + units held by live orders − units returned to the shelf == the initial stock."""
    with db.session() as s:
        for pid in product_ids:
            stock = s.scalar(select(Product.stock).where(Product.id == pid))
            assert stock is not None and stock >= 0
            held = s.scalar(
                select(func.coalesce(func.sum(OrderItem.quantity), 0))
                .join(Order, Order.id == OrderItem.order_id)
                .where(
                    OrderItem.product_id == pid,
                    Order.status.not_in([OrderStatus.CANCELLED, OrderStatus.REFUSED]),
                )
            )
            restocked = s.scalar(
                select(func.coalesce(func.sum(ReturnItem.quantity), 0))
                .join(Return, Return.id == ReturnItem.return_id)
                .join(OrderItem, OrderItem.id == ReturnItem.order_item_id)
                .where(
                    OrderItem.product_id == pid,
                    Return.status.in_([ReturnStatus.RECEIVED, ReturnStatus.CLOSED]),
                )
            )
            assert stock + held - restocked == initial_stock, (pid, stock, held, restocked)


def refunds_never_exceed_what_was_paid(db: Db) -> None:
    with db.session() as s:
        for order in s.scalars(select(Order)):
            refunded = s.scalar(
                select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.order_id == order.id)
            )
            assert refunded <= order.total
            if refunded:
                assert order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


def at_most_one_delivery_per_order(db: Db) -> None:
    """One delivery job per order, done exactly when the order is delivered (code used, cash
    confirmed), and a single move to DELIVERED in its history."""
    with db.session() as s:
        for order in s.scalars(select(Order)):
            jobs = s.scalars(
                select(DeliveryJob).where(
                    DeliveryJob.order_id == order.id, DeliveryJob.kind == JobKind.DELIVERY
                )
            ).all()
            assert len(jobs) <= 1
            done = [j for j in jobs if j.status == JobStatus.DONE]
            code = s.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order.id))
            if order.status == OrderStatus.DELIVERED:
                assert code is not None and code.used_at is not None
                assert order.cash_confirmed_at is not None
                assert len(done) == 1
            else:
                assert not done
            delivered_moves = [h for h in order.history if h.to_status == OrderStatus.DELIVERED]
            assert len(delivered_moves) <= 1
