"""Returns: requested within the window, decided by the seller, picked up, refunded in cash.

Stock comes back when the parcel is back with the seller (not at approval): until then it
cannot be sold again. The refund is recorded at approval and closed when the buyer confirms
the cash; refunds never exceed what the order cost.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.catalog import favourites
from commerce.catalog.models import Product, Shop
from commerce.db import action, conditional_update
from commerce.delivery import pricing
from commerce.delivery.models import DeliveryJob, JobKind, JobStatus
from commerce.errors import (
    IllegalTransition,
    InvalidInput,
    InvalidQuantity,
    NotFound,
    ReasonRequired,
    RefundState,
    ReturnNotAllowed,
    ReturnWindowClosed,
)
from commerce.ledger.actions import record_refund
from commerce.messaging import events
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.orders.actions import buyer_order, seller_order
from commerce.orders.models import Order, OrderItem, OrderStatus
from commerce.reasons import MAX_REASON, reason_text
from commerce.returns.models import Refund, RefundStatus, Return, ReturnItem, ReturnStatus


def _return(session: Session, return_id: int) -> Return:
    ret = session.get(Return, return_id)
    if ret is None:
        raise NotFound("unknown return", entity="return", id=return_id)
    return ret


def refunded_total(session: Session, order_id: int) -> int:
    return (
        session.scalar(
            select(func.coalesce(func.sum(Refund.amount), 0)).where(Refund.order_id == order_id)
        )
        or 0
    )


@action
def request_return(
    session: Session,
    *,
    buyer_id: int,
    order_id: int,
    items: list[tuple[int, int]],
    reason: str,
    photo_path: str = "",
) -> Return:
    """`items` is [(order_item_id, quantity)]. Reserved at once so two requests cannot overlap."""
    order = buyer_order(session, buyer_id, order_id)
    if order.status == OrderStatus.COMPLETED:
        raise ReturnWindowClosed("return window closed", order_id=order_id)
    if order.status != OrderStatus.DELIVERED or order.delivered_at is None:
        raise ReturnNotAllowed("only delivered orders", order_id=order_id)
    window = dt.timedelta(days=rules.of(session).return_window_days)
    if clock.now() > order.delivered_at + window:
        raise ReturnWindowClosed("return window closed", order_id=order_id)
    text = reason_text(reason)
    if not items:
        raise InvalidInput("choose at least one item")
    ret = Return(order_id=order.id, buyer_id=buyer_id, reason=text, photo_path=photo_path)
    seen: set[int] = set()
    for item_id, qty in items:
        if item_id in seen:
            raise InvalidInput("item listed twice", order_item_id=item_id)
        seen.add(item_id)
        item = session.get(OrderItem, item_id)
        if item is None or item.order_id != order.id:
            raise NotFound("not an item of this order", entity="order_item", id=item_id)
        if not isinstance(qty, int) or isinstance(qty, bool) or qty <= 0:
            raise InvalidQuantity("quantity must be 1 or more", quantity=qty)
        reserved = conditional_update(
            session,
            update(OrderItem)
            .where(OrderItem.id == item.id, OrderItem.returned_quantity + qty <= OrderItem.quantity)
            .values(returned_quantity=OrderItem.returned_quantity + qty),
        )
        if reserved != 1:
            raise InvalidQuantity("more than was bought", order_item_id=item.id)
        ret.items.append(ReturnItem(order_item_id=item.id, quantity=qty))
    session.add(ret)
    session.flush()
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    notify(
        session,
        user_id=shop.owner_id,
        kind=Notice.RETURN_REQUESTED,
        params={"return_id": ret.id, "order_id": order.id},
        essential=True,
    )
    return ret


def _seller_return(session: Session, seller_id: int, return_id: int) -> tuple[Return, Order]:
    ret = _return(session, return_id)
    order = seller_order(session, seller_id, ret.order_id)
    if ret.status != ReturnStatus.REQUESTED:
        raise IllegalTransition("return already decided", return_id=return_id)
    return ret, order


def refund_amount(session: Session, ret: Return, order: Order) -> int:
    """Items' price, less their share of any discount, never above what is left to refund."""
    gross = 0
    for ri in ret.items:
        item = session.get(OrderItem, ri.order_item_id)
        assert item is not None
        gross += item.unit_price * ri.quantity
    if order.subtotal > 0 and order.discount > 0:
        gross -= order.discount * gross // order.subtotal
    left = order.total - refunded_total(session, order.id)
    return max(0, min(gross, left))


@action
def approve_return(session: Session, *, seller_id: int, return_id: int) -> Return:
    """Approval creates the refund record and a pickup job for the couriers."""
    ret, order = _seller_return(session, seller_id, return_id)
    ret.status = ReturnStatus.APPROVED
    ret.decided_at = clock.now()
    session.add(
        Refund(return_id=ret.id, order_id=order.id, amount=refund_amount(session, ret, order))
    )
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    # The trip runs backwards: from the buyer's door (the order's address) to the shop.
    start, end = pricing.point(order), pricing.point(shop)
    km, commission = (
        pricing.quote(order, shop, rules=rules.of(session)) if start else pricing.UNPLACED
    )
    job = DeliveryJob(
        kind=JobKind.RETURN_PICKUP,
        order_id=order.id,
        return_id=ret.id,
        shop_id=shop.id,
        status=JobStatus.OPEN,
        from_lat=start[0] if start else None,
        from_lng=start[1] if start else None,
        to_lat=end[0] if end else None,
        to_lng=end[1] if end else None,
        distance_km=km,
        commission=commission,
    )
    session.add(job)
    notify(
        session,
        user_id=ret.buyer_id,
        kind=Notice.RETURN_APPROVED,
        params={"return_id": ret.id, "order_id": order.id},
        essential=True,
    )
    session.flush()
    events.record(session, "job_published", job.id, job.offer_round)  # offered to couriers
    return ret


@action
def refuse_return(session: Session, *, seller_id: int, return_id: int, reason: str) -> Return:
    text = (reason or "").strip()
    if not text:
        raise ReasonRequired("a reason is required")
    ret, order = _seller_return(session, seller_id, return_id)
    ret.status = ReturnStatus.REFUSED
    ret.refusal_reason = text[:MAX_REASON]
    ret.decided_at = clock.now()
    # The reserved quantities are free again for a later request.
    for ri in ret.items:
        session.execute(
            update(OrderItem)
            .where(OrderItem.id == ri.order_item_id)
            .values(returned_quantity=OrderItem.returned_quantity - ri.quantity)
            .execution_options(synchronize_session=False)
        )
    notify(
        session,
        user_id=ret.buyer_id,
        kind=Notice.RETURN_REFUSED,
        params={"return_id": ret.id, "order_id": order.id, "reason": ret.refusal_reason},
        essential=True,
    )
    session.flush()
    return ret


def receive_return(session: Session, *, return_id: int) -> Return:
    """The parcel is back with the seller: restock. Called by the courier's drop-off."""
    ret = _return(session, return_id)
    if ret.status != ReturnStatus.APPROVED:
        raise IllegalTransition("return not on its way", return_id=return_id)
    ret.status = ReturnStatus.RECEIVED
    for ri in ret.items:
        item = session.get(OrderItem, ri.order_item_id)
        assert item is not None
        session.execute(
            update(Product)
            .where(Product.id == item.product_id)
            .values(stock=Product.stock + ri.quantity)
            .execution_options(synchronize_session=False)
        )
        favourites.stock_given_back(session, product_id=item.product_id, quantity=ri.quantity)
    refund = session.scalar(select(Refund).where(Refund.return_id == ret.id))
    if refund is not None and refund.status == RefundStatus.PAID:
        ret.status = ReturnStatus.CLOSED
    shop = session.get(Shop, session.get(Order, ret.order_id).shop_id)  # type: ignore[union-attr]
    assert shop is not None
    notify(
        session,
        user_id=shop.owner_id,
        kind=Notice.RETURN_RECEIVED,
        params={"return_id": ret.id, "order_id": ret.order_id},
        essential=True,
    )
    session.flush()
    return ret


@action
def confirm_refund(session: Session, *, buyer_id: int, return_id: int) -> Refund:
    """The buyer confirms the refund cash was received: the refund record closes."""
    ret = _return(session, return_id)
    buyer_order(session, buyer_id, ret.order_id)
    refund = session.scalar(select(Refund).where(Refund.return_id == ret.id))
    job = session.scalar(select(DeliveryJob).where(DeliveryJob.return_id == ret.id))
    # The courier hands the cash over when collecting the parcel at the buyer's door.
    collected = job is not None and job.status in (JobStatus.PICKED_UP, JobStatus.DONE)
    if refund is None or not collected:
        raise RefundState("no refund to confirm yet", return_id=return_id)
    done = conditional_update(
        session,
        update(Refund)
        .where(Refund.id == refund.id, Refund.status == RefundStatus.PENDING)
        .values(status=RefundStatus.PAID, paid_at=clock.now()),
    )
    if done != 1:
        raise RefundState("refund already confirmed", return_id=return_id)
    if ret.status == ReturnStatus.RECEIVED:
        ret.status = ReturnStatus.CLOSED
    session.refresh(refund)
    order = session.get(Order, ret.order_id)
    assert order is not None
    record_refund(session, refund=refund, ret=ret, order=order)
    return refund
