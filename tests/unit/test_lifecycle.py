"""The order lifecycle is one declared table; every move is checked against it, recorded with
who and when, and the moves that release an order put its stock back."""

from __future__ import annotations

import datetime as dt
import itertools

import pytest
from sqlalchemy import func, select, update

from commerce import clock
from commerce.delivery import actions as delivery
from commerce.delivery.models import JobStatus
from commerce.errors import IllegalTransition, InvalidInput, JobTaken, ReasonRequired
from commerce.orders import actions as orders
from commerce.orders import lifecycle
from commerce.orders.lifecycle import TRANSITIONS, Actor
from commerce.orders.models import DeliveryMode, Order, OrderStatus, OrderStatusChange
from tests.support import make_courier, stock_of
from tests.unit import flows

S = OrderStatus
ACTORS = [Actor.BUYER, Actor.SELLER, Actor.COURIER, Actor.ADMIN, Actor.SYSTEM]


def test_the_table_is_the_product_lifecycle():
    assert {k: set(v) for k, v in TRANSITIONS.items()} == {
        (S.PLACED, S.ACCEPTED): {"seller"},
        (S.PLACED, S.REFUSED): {"seller", "admin"},
        (S.PLACED, S.CANCELLED): {"buyer", "admin"},
        (S.ACCEPTED, S.COURIER_ASSIGNED): {"seller", "courier", "system"},
        (S.ACCEPTED, S.CANCELLED): {"buyer", "admin"},
        (S.ACCEPTED, S.DELIVERED): {"system"},
        (S.COURIER_ASSIGNED, S.PICKED_UP): {"courier", "seller"},
        (S.COURIER_ASSIGNED, S.CANCELLED): {"buyer", "admin"},
        (S.COURIER_ASSIGNED, S.ACCEPTED): {"seller", "system"},
        (S.PICKED_UP, S.DELIVERED): {"system"},
        (S.DELIVERED, S.COMPLETED): {"system"},
    }


def test_terminal_statuses_have_no_way_out_and_every_status_is_reachable():
    sources = {a for a, _b in TRANSITIONS}
    targets = {b for _a, b in TRANSITIONS}
    assert lifecycle.TERMINAL.isdisjoint(sources)
    assert set(OrderStatus) - {S.PLACED} <= targets
    # Nobody cancels once the parcel has left the shop, and no one but the system delivers.
    assert (S.PICKED_UP, S.CANCELLED) not in TRANSITIONS
    assert all(actors == {"system"} for (_a, b), actors in TRANSITIONS.items() if b == S.DELIVERED)


def _force_status(db, order_id: int, status: OrderStatus) -> None:
    """Test setup only: put the order in `status` without a transition."""
    with db.uow() as s:
        s.execute(update(Order).where(Order.id == order_id).values(status=status))


def _history_count(db, order_id: int) -> int:
    with db.session() as s:
        return s.scalar(
            select(func.count(OrderStatusChange.id)).where(OrderStatusChange.order_id == order_id)
        )


def test_every_pair_and_actor_is_allowed_exactly_when_the_table_says(db):
    p = flows.place(db)
    allowed = illegal = 0
    for (src, dst), actor in itertools.product(itertools.product(OrderStatus, OrderStatus), ACTORS):
        _force_status(db, p.order_id, src)
        rows_before = _history_count(db, p.order_id)
        if actor in TRANSITIONS.get((src, dst), frozenset()):
            assert lifecycle.can(src, dst, actor)
            with db.uow() as s:
                o = s.get(Order, p.order_id)
                lifecycle.transition(s, o, dst, actor=actor, actor_id=p.seller_id, note=actor)
            assert flows.order(db, p.order_id).status == dst
            assert _history_count(db, p.order_id) == rows_before + 1
            assert flows.history(db, p.order_id)[-1] == (src.value, dst.value, p.seller_id)
            allowed += 1
        else:
            assert not lifecycle.can(src, dst, actor)
            with pytest.raises(IllegalTransition) as exc, db.uow() as s:
                o = s.get(Order, p.order_id)
                lifecycle.transition(s, o, dst, actor=actor, actor_id=p.seller_id)
            assert exc.value.params["from_status"] == src.value
            assert exc.value.params["to_status"] == dst.value
            assert exc.value.params["actor"] == actor
            assert flows.order(db, p.order_id).status == src
            assert _history_count(db, p.order_id) == rows_before
            illegal += 1
    assert allowed == sum(len(v) for v in TRANSITIONS.values())
    assert illegal == len(OrderStatus) ** 2 * len(ACTORS) - allowed


def test_a_stale_order_cannot_be_moved(db):
    """A buyer cancelling while the seller accepts: the conditional UPDATE lets one win."""
    p = flows.place(db)
    with db.session() as s:
        stale = s.get(Order, p.order_id)
        s.commit()  # the buyer's view, read before the seller acts
        flows.accept(db, p)
        with pytest.raises(IllegalTransition):
            lifecycle.transition(s, stale, S.REFUSED, actor=Actor.SELLER, actor_id=p.seller_id)
        s.rollback()
    assert flows.order(db, p.order_id).status == S.ACCEPTED


def test_history_of_a_delivery_records_who_moved_it_and_when(db):
    p = flows.place(db)
    start = clock.now()
    courier = flows.deliver(db, p)
    clock.advance(dt.timedelta(days=31))
    with db.uow() as s:
        assert orders.complete_due_orders(s) == [p.order_id]
    assert flows.history(db, p.order_id) == [
        (None, "placed", p.buyer_id),
        ("placed", "accepted", p.seller_id),
        ("accepted", "courier_assigned", courier),
        ("courier_assigned", "picked_up", courier),
        ("picked_up", "delivered", None),
        ("delivered", "completed", None),
    ]
    with db.session() as s:
        ats = s.scalars(
            select(OrderStatusChange.at)
            .where(OrderStatusChange.order_id == p.order_id)
            .order_by(OrderStatusChange.id)
        ).all()
    assert all(a >= start - dt.timedelta(seconds=1) for a in ats)
    assert ats == sorted(ats)
    assert ats[-1] >= start + dt.timedelta(days=31)


def test_orders_complete_only_once_the_return_window_has_closed(db):
    p = flows.place(db)
    flows.deliver(db, p)
    clock.advance(dt.timedelta(days=29))
    with db.uow() as s:
        assert orders.complete_due_orders(s) == []
    assert flows.order(db, p.order_id).status == S.DELIVERED
    clock.advance(dt.timedelta(days=1, minutes=1))
    with db.uow() as s:
        assert orders.complete_due_orders(s) == [p.order_id]
    assert flows.order(db, p.order_id).status == S.COMPLETED


def test_accept_twice_is_illegal(db):
    p = flows.place(db)
    flows.accept(db, p)
    with pytest.raises(IllegalTransition):
        flows.accept(db, p)
    assert [h[1] for h in flows.history(db, p.order_id)] == ["placed", "accepted"]


def test_buyer_told_when_accepted(db):
    p = flows.place(db)
    flows.accept(db, p)
    [told] = flows.outbox(db, user_id=p.buyer_id, kind="order_accepted")
    assert told.payload["params"] == {"order_id": p.order_id} and told.essential


# --- refuse ------------------------------------------------------------------------------


@pytest.mark.parametrize("reason", ["", "   ", None])
def test_refuse_requires_a_reason(db, reason):
    p = flows.place(db, quantity=3, stock=5)
    before = flows.snapshot(db)
    with pytest.raises(ReasonRequired), db.uow() as s:
        orders.refuse_order(s, seller_id=p.seller_id, order_id=p.order_id, reason=reason)
    assert flows.snapshot(db) == before


def test_refuse_reason_has_a_length_limit(db):
    p = flows.place(db)
    with pytest.raises(InvalidInput), db.uow() as s:
        orders.refuse_order(s, seller_id=p.seller_id, order_id=p.order_id, reason="x" * 501)
    assert flows.order(db, p.order_id).status == S.PLACED


def test_refuse_puts_the_stock_back_and_tells_the_buyer(db):
    p = flows.place(db, quantity=3, stock=5)
    assert stock_of(db, p.product_id) == 2
    with db.uow() as s:
        orders.refuse_order(
            s, seller_id=p.seller_id, order_id=p.order_id, reason=" Rupture chez le grossiste "
        )
    o = flows.order(db, p.order_id)
    assert o.status == S.REFUSED
    assert o.refusal_reason == "Rupture chez le grossiste"
    assert stock_of(db, p.product_id) == 5
    assert flows.history(db, p.order_id)[-1] == ("placed", "refused", p.seller_id)
    [told] = flows.outbox(db, user_id=p.buyer_id, kind="order_refused")
    assert told.payload["params"]["reason"] == "Rupture chez le grossiste"


def test_refuse_after_accepting_is_illegal_and_keeps_the_stock_taken(db):
    p = flows.place(db, quantity=3, stock=5)
    flows.accept(db, p)
    with pytest.raises(IllegalTransition), db.uow() as s:
        orders.refuse_order(s, seller_id=p.seller_id, order_id=p.order_id, reason="trop tard")
    assert stock_of(db, p.product_id) == 2


# --- cancel -------------------------------------------------------------------------------


def cancel(db, p) -> None:
    with db.uow() as s:
        orders.cancel_order(s, buyer_id=p.buyer_id, order_id=p.order_id)


def test_cancel_while_placed_puts_stock_back_and_tells_the_seller(db):
    p = flows.place(db, quantity=4, stock=4)
    assert stock_of(db, p.product_id) == 0
    cancel(db, p)
    assert flows.order(db, p.order_id).status == S.CANCELLED
    assert stock_of(db, p.product_id) == 4
    assert flows.history(db, p.order_id)[-1] == ("placed", "cancelled", p.buyer_id)
    [told] = flows.outbox(db, user_id=p.seller_id, kind="order_cancelled")
    assert told.essential


def test_cancel_after_publishing_withdraws_the_open_job(db):
    p = flows.place(db, quantity=2, stock=5)
    flows.accept(db, p)
    job_id = flows.publish(db, p)
    cancel(db, p)
    assert flows.job(db, job_id).status == JobStatus.CANCELLED
    assert stock_of(db, p.product_id) == 5
    # A courier can no longer take it.
    with pytest.raises(JobTaken):
        flows.claim(db, make_courier(db), job_id)


def test_cancel_after_a_courier_took_it_cancels_the_job_and_tells_the_courier(db):
    p = flows.place(db, quantity=2, stock=5)
    courier, job_id = flows.to_assigned(db, p)
    cancel(db, p)
    assert flows.order(db, p.order_id).status == S.CANCELLED
    assert flows.job(db, job_id).status == JobStatus.CANCELLED
    assert stock_of(db, p.product_id) == 5
    [told] = flows.outbox(db, user_id=courier, kind="job_cancelled")
    assert told.payload["params"] == {"order_id": p.order_id, "job_id": job_id}
    with db.session() as s:
        assert delivery.active_jobs(s, user_id=courier) == []


def test_no_cancel_after_pickup(db):
    p = flows.place(db, quantity=2, stock=5)
    _courier, job_id = flows.to_picked_up(db, p)
    before = flows.snapshot(db)
    with pytest.raises(IllegalTransition):
        cancel(db, p)
    assert flows.snapshot(db) == before
    assert flows.job(db, job_id).status == JobStatus.PICKED_UP
    assert stock_of(db, p.product_id) == 3


def test_cancel_twice_gives_stock_back_once(db):
    p = flows.place(db, quantity=2, stock=5)
    cancel(db, p)
    with pytest.raises(IllegalTransition):
        cancel(db, p)
    assert stock_of(db, p.product_id) == 5


# --- couriers and pickup at the shop --------------------------------------------------------


def test_publish_before_accepting_is_illegal(db):
    p = flows.place(db)
    with pytest.raises(IllegalTransition):
        flows.publish(db, p)
    assert flows.delivery_job(db, p.order_id) is None


def test_seller_delivering_personally_earns_no_commission(db):
    p = flows.place(db)
    flows.accept(db, p)
    with db.uow() as s:
        job = delivery.assign_courier(s, seller_id=p.seller_id, order_id=p.order_id)
        job_id = job.id
        assert job.commission == 0
        assert job.courier_id == p.seller_id
    flows.pick_up(db, p.seller_id, job_id)
    assert flows.prove_pin(db, p.seller_id, p) is False
    assert flows.confirm_cash(db, p) is True
    assert flows.history(db, p.order_id)[1:] == [
        ("placed", "accepted", p.seller_id),
        ("accepted", "courier_assigned", p.seller_id),
        ("courier_assigned", "picked_up", p.seller_id),
        ("picked_up", "delivered", None),
    ]
    assert flows.outbox(db, kind="delivery_closed") == []


def test_pickup_order_needs_no_courier_and_closes_at_the_shop(db):
    p = flows.place(db, mode=DeliveryMode.PICKUP)
    flows.accept(db, p)
    with pytest.raises(IllegalTransition):
        flows.publish(db, p)
    assert flows.prove_pin(db, p.seller_id, p) is False
    assert flows.confirm_cash(db, p) is True
    assert [h[:2] for h in flows.history(db, p.order_id)][-1] == ("accepted", "delivered")
