"""Returns: delivered orders only, within 30 days, never more than was bought; approval makes a
pickup job and a refund; stock comes back when the parcel reaches the seller; the buyer
confirms the refund once; refunds never exceed what the order cost."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commerce import clock, rules
from commerce.cart import actions as cart
from commerce.delivery import actions as delivery
from commerce.delivery.models import DeliveryJob, JobKind, JobStatus
from commerce.errors import (
    IllegalTransition,
    InvalidInput,
    InvalidQuantity,
    NotFound,
    PermissionDenied,
    ReasonRequired,
    RefundState,
    ReturnNotAllowed,
    ReturnWindowClosed,
)
from commerce.orders.models import CommissionPayer, Order
from commerce.returns import actions as returns
from commerce.returns.models import Refund, RefundStatus, Return, ReturnStatus
from tests.support import ensure_admin, make_buyer, make_courier, make_product, make_seller
from tests.support import stock_of as stock
from tests.unit import flows


def delivered(db, **kwargs) -> flows.Placed:
    kwargs.setdefault("price", 100_000)
    kwargs.setdefault("quantity", 3)
    kwargs.setdefault("stock", 10)
    p = flows.place(db, **kwargs)
    flows.deliver(db, p)
    return p


def request(db, p: flows.Placed, items=None, reason: str = "taille trop petite") -> int:
    with db.uow() as s:
        return returns.request_return(
            s,
            buyer_id=p.buyer_id,
            order_id=p.order_id,
            items=items if items is not None else [(p.item_id, 1)],
            reason=reason,
        ).id


def approve(db, p: flows.Placed, return_id: int) -> None:
    with db.uow() as s:
        returns.approve_return(s, seller_id=p.seller_id, return_id=return_id)


def refuse(db, p: flows.Placed, return_id: int, reason: str = "article porté") -> None:
    with db.uow() as s:
        returns.refuse_return(s, seller_id=p.seller_id, return_id=return_id, reason=reason)


def return_job(db, return_id: int) -> DeliveryJob:
    with db.session() as s:
        j = s.scalar(select(DeliveryJob).where(DeliveryJob.return_id == return_id))
        assert j is not None
        return j


def refund(db, return_id: int) -> Refund:
    with db.session() as s:
        r = s.scalar(select(Refund).where(Refund.return_id == return_id))
        assert r is not None
        return r


def ret(db, return_id: int) -> Return:
    with db.session() as s:
        r = s.get(Return, return_id)
        assert r is not None
        return r


def bring_back(db, return_id: int) -> int:
    """A courier claims the return pickup, collects the parcel and drops it at the shop."""
    courier = make_courier(db)
    job_id = return_job(db, return_id).id
    flows.claim(db, courier, job_id)
    flows.pick_up(db, courier, job_id)
    with db.uow() as s:
        delivery.deliver_return(s, user_id=courier, job_id=job_id)
    return courier


def confirm_refund(db, p: flows.Placed, return_id: int) -> Refund:
    with db.uow() as s:
        return returns.confirm_refund(s, buyer_id=p.buyer_id, return_id=return_id)


# --- requesting ---------------------------------------------------------------------------


def test_only_delivered_orders_can_be_returned(db):
    p = flows.place(db, quantity=1)
    with pytest.raises(ReturnNotAllowed):
        request(db, p)
    flows.to_picked_up(db, p)
    with pytest.raises(ReturnNotAllowed):
        request(db, p)


def test_return_within_30_days(db):
    p = delivered(db)
    clock.advance(dt.timedelta(days=29, hours=23))
    rid = request(db, p)
    assert ret(db, rid).status == ReturnStatus.REQUESTED


def test_return_window_closes_after_30_days(db):
    p = delivered(db)
    clock.advance(dt.timedelta(days=30, minutes=1))
    before = flows.snapshot(db)
    with pytest.raises(ReturnWindowClosed):
        request(db, p)
    assert flows.snapshot(db) == before


def test_return_window_comes_from_the_rules(db):
    rules.bind(db.factory, rules.Rules(return_window_days=3))
    p = delivered(db)
    clock.advance(dt.timedelta(days=3, minutes=1))
    with pytest.raises(ReturnWindowClosed):
        request(db, p)


def test_request_needs_a_reason(db):
    p = delivered(db)
    with pytest.raises(ReasonRequired):
        request(db, p, reason="  ")


def test_seller_is_told_of_a_return_request(db):
    p = delivered(db)
    rid = request(db, p)
    [told] = flows.outbox(db, user_id=p.seller_id, kind="return_requested")
    assert told.payload["params"] == {"return_id": rid, "order_id": p.order_id}


@pytest.mark.parametrize("qty", [0, -1, 1.5, True])
def test_bad_quantities(db, qty):
    p = delivered(db)
    with pytest.raises(InvalidQuantity):
        request(db, p, items=[(p.item_id, qty)])


def test_no_more_than_was_bought_counting_earlier_requests(db):
    p = delivered(db)  # 3 bought
    with pytest.raises(InvalidQuantity):
        request(db, p, items=[(p.item_id, 4)])
    request(db, p, items=[(p.item_id, 2)])
    assert flows.item(db, p.item_id).returned_quantity == 2
    with pytest.raises(InvalidQuantity):
        request(db, p, items=[(p.item_id, 2)])
    request(db, p, items=[(p.item_id, 1)])
    assert flows.item(db, p.item_id).returned_quantity == 3
    with pytest.raises(InvalidQuantity):
        request(db, p, items=[(p.item_id, 1)])


def test_a_failing_line_releases_the_lines_before_it(db):
    seller = make_seller(db)
    buyer_id, address_id = make_buyer(db)
    a = make_product(db, seller_id=seller[0], name="Robe", price=50_000)
    b = make_product(db, seller_id=seller[0], name="Ceinture", price=20_000)
    flows.add(db, buyer_id, a, 2)
    flows.add(db, buyer_id, b, 1)
    [placed] = flows.checkout(db, buyer_id, address_id)
    p = flows.wrap(placed, seller_id=seller[0])
    flows.deliver(db, p)
    item_a, item_b = (i.id for i in placed.order.items)
    before = flows.snapshot(db)
    with pytest.raises(InvalidQuantity):
        request(db, p, items=[(item_a, 2), (item_b, 5)])
    assert flows.snapshot(db) == before
    assert flows.item(db, item_a).returned_quantity == 0


def test_items_must_belong_to_the_order_and_be_listed_once(db):
    p = delivered(db)
    other = delivered(db)
    with pytest.raises(NotFound):
        request(db, p, items=[(other.item_id, 1)])
    with pytest.raises(InvalidInput):
        request(db, p, items=[(p.item_id, 1), (p.item_id, 1)])
    with pytest.raises(InvalidInput):
        request(db, p, items=[])
    assert flows.item(db, p.item_id).returned_quantity == 0


def test_another_buyer_cannot_return_my_order(db):
    p = delivered(db)
    stranger, _addr = make_buyer(db)
    with pytest.raises(NotFound), db.uow() as s:
        returns.request_return(
            s, buyer_id=stranger, order_id=p.order_id, items=[(p.item_id, 1)], reason="x"
        )


# --- deciding -----------------------------------------------------------------------------


def test_approval_creates_a_pickup_job_and_a_refund_but_no_stock_yet(db):
    p = delivered(db)  # stock 10 → 7
    rid = request(db, p, items=[(p.item_id, 2)])
    approve(db, p, rid)
    r = ret(db, rid)
    assert r.status == ReturnStatus.APPROVED and r.decided_at is not None
    rf = refund(db, rid)
    assert (rf.amount, rf.status, rf.order_id) == (200_000, RefundStatus.PENDING, p.order_id)
    j = return_job(db, rid)
    assert (j.kind, j.status, j.order_id, j.shop_id) == (
        JobKind.RETURN_PICKUP,
        JobStatus.OPEN,
        p.order_id,
        p.shop_id,
    )
    assert j.commission >= rules.DEFAULT.minimum_commission
    assert stock(db, p.product_id) == 7
    assert len(flows.outbox(db, user_id=p.buyer_id, kind="return_approved")) == 1


def test_refusal_needs_a_reason_and_frees_the_quantities(db):
    p = delivered(db)
    rid = request(db, p, items=[(p.item_id, 3)])
    with pytest.raises(ReasonRequired):
        refuse(db, p, rid, reason=" ")
    assert ret(db, rid).status == ReturnStatus.REQUESTED
    refuse(db, p, rid, reason="article porté")
    r = ret(db, rid)
    assert (r.status, r.refusal_reason) == (ReturnStatus.REFUSED, "article porté")
    assert flows.item(db, p.item_id).returned_quantity == 0
    [told] = flows.outbox(db, user_id=p.buyer_id, kind="return_refused")
    assert told.payload["params"]["reason"] == "article porté"
    with db.session() as s:
        assert s.scalar(select(Refund).where(Refund.return_id == rid)) is None
    # The buyer may ask again for the freed quantities.
    request(db, p, items=[(p.item_id, 3)])


def test_a_return_is_decided_once(db):
    p = delivered(db)
    rid = request(db, p)
    approve(db, p, rid)
    with pytest.raises(IllegalTransition):
        approve(db, p, rid)
    with pytest.raises(IllegalTransition):
        refuse(db, p, rid)
    with db.session() as s:
        assert len(s.scalars(select(Refund).where(Refund.order_id == p.order_id)).all()) == 1


def test_only_the_orders_seller_decides(db):
    p = delivered(db)
    rid = request(db, p)
    intruder, _shop = make_seller(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        returns.approve_return(s, seller_id=intruder, return_id=rid)
    with pytest.raises(PermissionDenied), db.uow() as s:
        returns.refuse_return(s, seller_id=intruder, return_id=rid, reason="non")
    assert ret(db, rid).status == ReturnStatus.REQUESTED


# --- the parcel comes back ----------------------------------------------------------------


def test_stock_comes_back_when_the_courier_drops_the_parcel_at_the_seller(db):
    p = delivered(db)  # stock 7
    rid = request(db, p, items=[(p.item_id, 2)])
    approve(db, p, rid)
    courier = make_courier(db)
    job_id = return_job(db, rid).id
    flows.claim(db, courier, job_id)
    assert stock(db, p.product_id) == 7
    flows.pick_up(db, courier, job_id)
    assert stock(db, p.product_id) == 7
    with db.uow() as s:
        delivery.deliver_return(s, user_id=courier, job_id=job_id)
    assert stock(db, p.product_id) == 9
    assert ret(db, rid).status == ReturnStatus.RECEIVED
    assert flows.job(db, job_id).status == JobStatus.DONE
    assert len(flows.outbox(db, user_id=p.seller_id, kind="return_received")) == 1
    # Dropping it twice does not restock twice.
    with pytest.raises(IllegalTransition), db.uow() as s:
        delivery.deliver_return(s, user_id=courier, job_id=job_id)
    assert stock(db, p.product_id) == 9


def test_the_return_pickup_does_not_move_the_order(db):
    p = delivered(db)
    rid = request(db, p)
    approve(db, p, rid)
    bring_back(db, rid)
    assert flows.order(db, p.order_id).status.value == "delivered"


def test_drop_off_needs_the_parcel_picked_up_first(db):
    p = delivered(db)
    rid = request(db, p)
    approve(db, p, rid)
    courier = make_courier(db)
    job_id = return_job(db, rid).id
    flows.claim(db, courier, job_id)
    with pytest.raises(IllegalTransition), db.uow() as s:
        delivery.deliver_return(s, user_id=courier, job_id=job_id)
    assert stock(db, p.product_id) == 7


# --- refunds ------------------------------------------------------------------------------


def test_refund_is_confirmed_by_the_buyer_once_the_courier_has_collected(db):
    p = delivered(db)
    rid = request(db, p)
    approve(db, p, rid)
    with pytest.raises(RefundState):
        confirm_refund(db, p, rid)  # no courier has come yet
    bring_back(db, rid)
    rf = confirm_refund(db, p, rid)
    assert rf.status == RefundStatus.PAID and rf.paid_at is not None
    assert ret(db, rid).status == ReturnStatus.CLOSED
    with pytest.raises(RefundState):
        confirm_refund(db, p, rid)
    assert refund(db, rid).paid_at == rf.paid_at


def test_refund_confirmed_before_the_drop_off_closes_the_return_at_drop_off(db):
    p = delivered(db)
    rid = request(db, p)
    approve(db, p, rid)
    courier = make_courier(db)
    job_id = return_job(db, rid).id
    flows.claim(db, courier, job_id)
    flows.pick_up(db, courier, job_id)
    confirm_refund(db, p, rid)
    assert ret(db, rid).status == ReturnStatus.APPROVED
    with db.uow() as s:
        delivery.deliver_return(s, user_id=courier, job_id=job_id)
    assert ret(db, rid).status == ReturnStatus.CLOSED


def test_only_the_buyer_confirms_the_refund(db):
    p = delivered(db)
    rid = request(db, p)
    approve(db, p, rid)
    bring_back(db, rid)
    stranger, _addr = make_buyer(db)
    with pytest.raises(NotFound), db.uow() as s:
        returns.confirm_refund(s, buyer_id=stranger, return_id=rid)
    assert refund(db, rid).status == RefundStatus.PENDING


def test_refund_takes_off_the_items_share_of_the_discount(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, price=100_000, stock=10)
    buyer_id, address_id = make_buyer(db)
    with db.uow() as s:
        cart.create_promo_code(
            s,
            admin_id=ensure_admin(db),
            code="QUART",
            percent_off=25,
            starts_at=clock.now() - dt.timedelta(days=1),
            ends_at=clock.now() + dt.timedelta(days=1),
        )
    flows.add(db, buyer_id, pid, 4)  # 400 000, discount 100 000
    with db.uow() as s:
        cart.apply_promo(s, user_id=buyer_id, code="QUART")
    [placed] = flows.checkout(db, buyer_id, address_id, payer=CommissionPayer.SELLER)
    p = flows.wrap(placed, seller_id=seller_id)
    assert p.total == 300_000
    flows.deliver(db, p)
    rid = request(db, p, items=[(p.item_id, 4)])
    approve(db, p, rid)
    assert refund(db, rid).amount == 300_000  # never the 400 000 list price
    assert refund(db, rid).amount <= p.total


def test_refund_does_not_include_the_delivery_fee_and_stays_within_the_total(db):
    p = delivered(db)  # buyer paid the delivery fee
    order = flows.order(db, p.order_id)
    assert order.delivery_fee > 0
    rid = request(db, p, items=[(p.item_id, 3)])
    approve(db, p, rid)
    assert refund(db, rid).amount == order.subtotal
    assert refund(db, rid).amount <= order.total


def test_several_returns_on_one_order_each_get_a_pickup_and_stay_within_the_total(db):
    """Returning one item now and another later must work: the quantities rule counts earlier
    requests precisely so that a buyer can return in several steps."""
    p = delivered(db)
    first = request(db, p, items=[(p.item_id, 1)])
    approve(db, p, first)
    second = request(db, p, items=[(p.item_id, 2)])
    approve(db, p, second)
    assert return_job(db, first).id != return_job(db, second).id
    with db.session() as s:
        total_refunded = returns.refunded_total(s, p.order_id)
    assert total_refunded == 300_000
    assert total_refunded <= flows.order(db, p.order_id).total


def test_refunds_are_capped_by_what_is_left_of_the_order_total(db):
    """Rounding each return's share of a discount down would refund one franc too many over
    two returns: the second is capped at what is left of the total."""
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, price=100_001, stock=10)
    buyer_id, address_id = make_buyer(db)
    with db.uow() as s:
        cart.create_promo_code(
            s,
            admin_id=ensure_admin(db),
            code="UNFRANC",
            amount_off=1,
            starts_at=clock.now() - dt.timedelta(days=1),
            ends_at=clock.now() + dt.timedelta(days=1),
        )
    flows.add(db, buyer_id, pid, 3)
    with db.uow() as s:
        cart.apply_promo(s, user_id=buyer_id, code="UNFRANC")
    [placed] = flows.checkout(db, buyer_id, address_id, payer=CommissionPayer.SELLER)
    p = flows.wrap(placed, seller_id=seller_id)
    assert p.total == 300_002
    flows.deliver(db, p)
    first = request(db, p, items=[(p.item_id, 1)])
    approve(db, p, first)
    assert refund(db, first).amount == 100_001
    second = request(db, p, items=[(p.item_id, 2)])
    with db.session() as s:
        amount = returns.refund_amount(s, s.get(Return, second), s.get(Order, p.order_id))
    assert amount == 200_001  # not 200 002
    assert refund(db, first).amount + amount == p.total
