"""The seller's own hand-over in the core: who may type the PIN, and the pickup it implies."""

from __future__ import annotations

import pytest

from commerce.delivery import actions as delivery
from commerce.delivery import handover
from commerce.delivery.models import JobStatus
from commerce.errors import IllegalTransition, PermissionDenied, WrongPin
from commerce.orders.models import DeliveryMode, OrderStatus
from tests.support import Db, make_seller
from tests.unit import flows


def _riding_myself(db: Db) -> flows.Placed:
    p = flows.place(db)
    flows.accept(db, p)
    with db.uow() as s:
        delivery.assign_courier(s, seller_id=p.seller_id, order_id=p.order_id)
    return p


def _hands_over(db: Db, p: flows.Placed) -> bool:
    with db.session() as s:
        return handover.seller_hands_over(s, flows.order(db, p.order_id))


def test_the_seller_riding_the_order_types_the_pin_and_the_parcel_is_picked_up(db: Db) -> None:
    p = _riding_myself(db)
    assert _hands_over(db, p)
    with db.uow() as s:
        proof = handover.prove_as_seller(s, seller_id=p.seller_id, order_id=p.order_id, pin=p.pin)
        assert proof.delivered is False  # the buyer's cash confirmation is still awaited
    assert flows.order(db, p.order_id).status == OrderStatus.PICKED_UP
    job = flows.delivery_job(db, p.order_id)
    assert job is not None and job.status == JobStatus.PICKED_UP
    assert flows.code(db, p.order_id).used_at is not None


def test_a_wrong_pin_counts_and_the_pickup_stays(db: Db) -> None:
    p = _riding_myself(db)
    wrong = "0000" if p.pin != "0000" else "1111"
    with db.uow() as s, pytest.raises(WrongPin):
        handover.prove_as_seller(s, seller_id=p.seller_id, order_id=p.order_id, pin=wrong)
    assert flows.order(db, p.order_id).status == OrderStatus.PICKED_UP
    assert flows.code(db, p.order_id).failed_attempts == 1


def test_a_pickup_at_the_shop_is_the_sellers_hand_over(db: Db) -> None:
    p = flows.place(db, mode=DeliveryMode.PICKUP)
    assert not _hands_over(db, p)  # not accepted yet
    flows.accept(db, p)
    assert _hands_over(db, p)
    with db.uow() as s:
        handover.prove_as_seller(s, seller_id=p.seller_id, order_id=p.order_id, pin=p.pin)
    assert flows.code(db, p.order_id).used_at is not None


def test_an_order_a_courier_rides_is_not_the_sellers_hand_over(db: Db) -> None:
    p = flows.place(db)
    flows.to_picked_up(db, p)
    assert not _hands_over(db, p)
    with db.uow() as s, pytest.raises(IllegalTransition):
        handover.prove_as_seller(s, seller_id=p.seller_id, order_id=p.order_id, pin=p.pin)
    assert flows.code(db, p.order_id).used_at is None


def test_another_seller_is_refused(db: Db) -> None:
    p = _riding_myself(db)
    other, _shop = make_seller(db)
    with db.uow() as s, pytest.raises(PermissionDenied):
        handover.prove_as_seller(s, seller_id=other, order_id=p.order_id, pin=p.pin)
    assert flows.order(db, p.order_id).status == OrderStatus.COURIER_ASSIGNED
