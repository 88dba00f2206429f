"""Hypothesis stateful test: orders, cancellations, deliveries, returns, refunds, restocks.

Random interleavings of the real actions on a real (SQLite) database, with the invariants the
product promises checked after every step: stock never negative and conserved, refunds never
above what was paid, at most one delivery per order.
"""

from __future__ import annotations

import shutil

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule
from sqlalchemy import select

from commerce import clock
from commerce.cart.actions import add_to_cart, clear_cart
from commerce.delivery import actions as delivery
from commerce.delivery import handover
from commerce.delivery.codes import code_for_order
from commerce.delivery.models import DeliveryJob
from commerce.errors import CommerceError
from commerce.orders import actions as orders
from commerce.orders.models import Order, OrderItem, OrderStatus
from commerce.returns import actions as returns
from commerce.returns.models import Return
from tests import invariants
from tests.support import (
    make_buyer,
    make_courier,
    make_product,
    make_seller,
)

INITIAL_STOCK = 6


class OrderLifecycle(RuleBasedStateMachine):
    def __init__(self) -> None:
        super().__init__()
        self.db, self.dir = invariants.fresh_machine_db()
        self.seller, _shop = make_seller(self.db)
        self.products = [
            make_product(self.db, seller_id=self.seller, name=f"Article {i}", stock=INITIAL_STOCK)
            for i in range(2)
        ]
        self.buyers = [make_buyer(self.db) for _ in range(2)]
        self.courier = make_courier(self.db)
        self.order_ids: list[int] = []
        self.return_ids: list[int] = []

    def teardown(self) -> None:
        self.db.engine.dispose()
        shutil.rmtree(self.dir, ignore_errors=True)
        clock.reset()

    def _try(self, fn, **kwargs):  # type: ignore[no-untyped-def]
        """Run one action in its own transaction; a refusal is a legal outcome."""
        try:
            with self.db.uow() as s:
                return fn(s, **kwargs)
        except CommerceError:
            return None

    # --- rules ---------------------------------------------------------------------------

    @rule(buyer=st.integers(0, 1), product=st.integers(0, 1), qty=st.integers(1, 4))
    def place(self, buyer: int, product: int, qty: int) -> None:
        buyer_id, address_id = self.buyers[buyer]
        self._try(clear_cart, user_id=buyer_id)
        if self._try(
            add_to_cart, user_id=buyer_id, product_id=self.products[product], quantity=qty
        ):
            placed = self._try(
                orders.place_order,
                buyer_id=buyer_id,
                address_id=address_id,
                delivery_mode="home",
                commission_payer="buyer",
                payment_method="cash",
            )
            if placed:
                self.order_ids.extend(p.order.id for p in placed)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def cancel(self, data: st.DataObject) -> None:
        order_id = self._pick(data, OrderStatus.PLACED, OrderStatus.ACCEPTED)
        buyer_id = self._buyer_of(order_id)
        self._try(orders.cancel_order, buyer_id=buyer_id, order_id=order_id)

    def _pick(self, data: st.DataObject, *statuses: OrderStatus) -> int | None:
        """An order in one of `statuses` (so every rule makes progress), else any order."""
        with self.db.session() as s:
            ids = list(s.scalars(select(Order.id).where(Order.status.in_(statuses))))
        pool = ids if ids and data.draw(st.integers(0, 4)) else self.order_ids
        return data.draw(st.sampled_from(sorted(pool))) if pool else None

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data(), refuse=st.integers(0, 3))
    def seller_decides(self, data: st.DataObject, refuse: int) -> None:
        order_id = self._pick(data, OrderStatus.PLACED)
        if refuse == 0:
            self._try(
                orders.refuse_order, seller_id=self.seller, order_id=order_id, reason="rupture"
            )
        else:
            self._try(orders.accept_order, seller_id=self.seller, order_id=order_id)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data())
    def ship(self, data: st.DataObject) -> None:
        order_id = self._pick(data, OrderStatus.ACCEPTED)
        job = self._try(delivery.assign_courier, seller_id=self.seller, order_id=order_id)
        if job is not None:
            self._try(delivery.mark_picked_up, user_id=self.seller, job_id=job.id)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data(), cash_first=st.booleans())
    def deliver(self, data: st.DataObject, cash_first: bool) -> None:
        order_id = self._pick(data, OrderStatus.PICKED_UP)
        with self.db.session() as s:
            pin = code_for_order(s, order_id).pin
        buyer_id = self._buyer_of(order_id)
        steps = [
            (handover.prove_with_pin, {"user_id": self.seller, "order_id": order_id, "pin": pin}),
            (handover.confirm_cash, {"buyer_id": buyer_id, "order_id": order_id}),
        ]
        for fn, kwargs in reversed(steps) if cash_first else steps:
            self._try(fn, **kwargs)

    @precondition(lambda self: self.order_ids)
    @rule(data=st.data(), qty=st.integers(1, 3))
    def request_return(self, data: st.DataObject, qty: int) -> None:
        order_id = self._pick(data, OrderStatus.DELIVERED)
        with self.db.session() as s:
            item_id = s.scalar(select(OrderItem.id).where(OrderItem.order_id == order_id))
        ret = self._try(
            returns.request_return,
            buyer_id=self._buyer_of(order_id),
            order_id=order_id,
            items=[(item_id, qty)],
            reason="taille trop petite",
        )
        if ret is not None:
            self.return_ids.append(ret.id)

    @precondition(lambda self: self.return_ids)
    @rule(data=st.data(), approve=st.booleans())
    def decide_return(self, data: st.DataObject, approve: bool) -> None:
        return_id = data.draw(st.sampled_from(self.return_ids))
        if approve:
            self._try(returns.approve_return, seller_id=self.seller, return_id=return_id)
        else:
            self._try(
                returns.refuse_return, seller_id=self.seller, return_id=return_id, reason="usé"
            )

    @precondition(lambda self: self.return_ids)
    @rule(data=st.data(), refund_first=st.booleans())
    def bring_back_and_refund(self, data: st.DataObject, refund_first: bool) -> None:
        return_id = data.draw(st.sampled_from(self.return_ids))
        with self.db.session() as s:
            job_id = s.scalar(select(DeliveryJob.id).where(DeliveryJob.return_id == return_id))
            ret = s.get(Return, return_id)
            assert ret is not None
            buyer_id = ret.buyer_id
        if job_id is None:
            return
        self._try(delivery.claim_job, courier_user_id=self.courier, job_id=job_id)
        self._try(delivery.mark_picked_up, user_id=self.courier, job_id=job_id)
        refund = (returns.confirm_refund, {"buyer_id": buyer_id, "return_id": return_id})
        restock = (delivery.deliver_return, {"user_id": self.courier, "job_id": job_id})
        for fn, kwargs in (refund, restock) if refund_first else (restock, refund):
            self._try(fn, **kwargs)

    def _buyer_of(self, order_id: int) -> int:
        with self.db.session() as s:
            order = s.get(Order, order_id)
            assert order is not None
            return order.buyer_id

    # --- invariants ----------------------------------------------------------------------

    @invariant()
    def stock_is_never_negative_and_is_conserved(self) -> None:
        invariants.stock_is_never_negative_and_is_conserved(self.db, self.products, INITIAL_STOCK)

    @invariant()
    def refunds_never_exceed_what_was_paid(self) -> None:
        invariants.refunds_never_exceed_what_was_paid(self.db)

    @invariant()
    def at_most_one_delivery_per_order(self) -> None:
        invariants.at_most_one_delivery_per_order(self.db)


OrderLifecycle.TestCase.settings = settings(
    max_examples=25,
    stateful_step_count=30,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow],
)
TestOrderLifecycle = OrderLifecycle.TestCase
