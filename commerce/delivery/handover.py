"""The seller's own hand-over: a pickup at the shop, or a delivery the seller rides personally.

Why a module of its own: the seller's screens must know whether the seller is the one who meets
the buyer (to offer the PIN button), and typing the PIN is one step for them even when the
parcel has not formally left the shop yet. Both checks live here, once, for the bot and the core.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from commerce.db import action
from commerce.delivery.actions import (
    ProofResult,
    job_for_order_number,
    mark_picked_up,
    prove_with_pin,
    shop_owner_id,
)
from commerce.errors import IllegalTransition
from commerce.orders.actions import seller_order
from commerce.orders.models import DeliveryMode, Order, OrderStatus

RIDING_STATUSES = (OrderStatus.COURIER_ASSIGNED, OrderStatus.PICKED_UP)


def seller_hands_over(session: Session, order: Order) -> bool:
    """The seller meets the buyer now: a pickup ready at the shop, or a delivery they ride."""
    if order.delivery_mode == DeliveryMode.PICKUP:
        return order.status == OrderStatus.ACCEPTED
    return (
        order.courier_id is not None
        and order.courier_id == shop_owner_id(session, order)
        and order.status in RIDING_STATUSES
    )


@action
def prove_as_seller(session: Session, *, seller_id: int, order_id: int, pin: str) -> ProofResult:
    """The seller types the buyer's PIN at the hand-over.

    Riding it personally, the parcel left the shop with the seller: it is marked picked up first.
    A refusal that counts (a wrong PIN, a lock) keeps that, as it keeps the count.
    """
    order = seller_order(session, seller_id, order_id)
    if not seller_hands_over(session, order):
        raise IllegalTransition(
            "the seller does not hand this order over",
            order_id=order.id,
            from_status=order.status.value,
        )
    if order.status == OrderStatus.COURIER_ASSIGNED:
        job = job_for_order_number(session, user_id=seller_id, order_id=order.id)
        mark_picked_up(session, user_id=seller_id, job_id=job.id)
    return prove_with_pin(session, user_id=seller_id, order_id=order.id, pin=pin)
