"""The order lifecycle as one declared table, and the only function that changes a status.

Why a table: the rules ("a buyer may cancel until pickup", "only the seller accepts") read as
data, are tested as data, and cannot drift between the flows that use them. Each transition
writes a history row with who and when.
"""

from __future__ import annotations

from sqlalchemy import update
from sqlalchemy.orm import Session
from sqlalchemy.orm.attributes import set_committed_value

from commerce import clock
from commerce.db import conditional_update
from commerce.errors import IllegalTransition
from commerce.orders.models import Order, OrderStatus, OrderStatusChange

S = OrderStatus


class Actor:
    BUYER = "buyer"
    SELLER = "seller"
    COURIER = "courier"
    ADMIN = "admin"
    SYSTEM = "system"


# (from, to) → who may make that move.
TRANSITIONS: dict[tuple[OrderStatus, OrderStatus], frozenset[str]] = {
    (S.PLACED, S.ACCEPTED): frozenset({Actor.SELLER}),
    (S.PLACED, S.REFUSED): frozenset({Actor.SELLER, Actor.ADMIN}),
    (S.PLACED, S.CANCELLED): frozenset({Actor.BUYER, Actor.ADMIN}),
    (S.ACCEPTED, S.COURIER_ASSIGNED): frozenset({Actor.SELLER, Actor.COURIER, Actor.SYSTEM}),
    (S.ACCEPTED, S.CANCELLED): frozenset({Actor.BUYER, Actor.ADMIN}),
    # Pickup at the shop: the buyer collects and the seller checks the code.
    (S.ACCEPTED, S.DELIVERED): frozenset({Actor.SYSTEM}),
    (S.COURIER_ASSIGNED, S.PICKED_UP): frozenset({Actor.COURIER, Actor.SELLER}),
    (S.COURIER_ASSIGNED, S.CANCELLED): frozenset({Actor.BUYER, Actor.ADMIN}),
    # A courier who gives the job back, or a seller who reassigns it.
    (S.COURIER_ASSIGNED, S.ACCEPTED): frozenset({Actor.SELLER, Actor.SYSTEM}),
    (S.PICKED_UP, S.DELIVERED): frozenset({Actor.SYSTEM}),
    (S.DELIVERED, S.COMPLETED): frozenset({Actor.SYSTEM}),
}

TERMINAL = frozenset({S.REFUSED, S.CANCELLED, S.COMPLETED})
# Statuses in which the stock taken at checkout is still held by the order.
HOLDS_STOCK = frozenset({S.PLACED, S.ACCEPTED, S.COURIER_ASSIGNED})


def can(from_status: OrderStatus, to_status: OrderStatus, actor: str) -> bool:
    return actor in TRANSITIONS.get((from_status, to_status), frozenset())


def transition(
    session: Session,
    order: Order,
    to_status: OrderStatus,
    *,
    actor: str,
    actor_id: int | None,
    note: str = "",
) -> Order:
    """Move `order` to `to_status`, or raise IllegalTransition.

    The UPDATE is conditional on the status we read, so two concurrent moves (a buyer
    cancelling while the courier picks up) cannot both succeed.
    """
    from_status = order.status
    if not can(from_status, to_status, actor):
        raise IllegalTransition(
            "illegal transition",
            order_id=order.id,
            from_status=from_status.value,
            to_status=to_status.value,
            actor=actor,
        )
    now = clock.now()
    result = conditional_update(
        session,
        update(Order)
        .where(Order.id == order.id, Order.status == from_status)
        .values(status=to_status, updated_at=now),
    )
    if result != 1:
        session.refresh(order)
        raise IllegalTransition(
            "order changed meanwhile",
            order_id=order.id,
            from_status=order.status.value,
            to_status=to_status.value,
            actor=actor,
        )
    set_committed_value(order, "status", to_status)
    set_committed_value(order, "updated_at", now)
    session.add(
        OrderStatusChange(
            order_id=order.id,
            from_status=from_status,
            to_status=to_status,
            actor_id=actor_id,
            note=note,
            at=now,
        )
    )
    session.flush()
    return order
