"""Loyalty: 1 point per 10 000 GNF spent, credited once when an order is delivered."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commerce import rules
from commerce.loyalty.models import LoyaltyEntry
from commerce.money import loyalty_points_for
from commerce.orders.models import Order
from commerce.users.models import User

REASON_ORDER = "order_delivered"


def credit_for_order(session: Session, *, order: Order) -> int:
    """Credit the buyer for a delivered order; the ledger's unique key makes it once only."""
    spent = order.subtotal - order.discount
    points = loyalty_points_for(spent, gnf_per_point=rules.of(session).gnf_per_point)
    if points <= 0:
        return 0
    exists = session.scalar(
        select(LoyaltyEntry.id).where(
            LoyaltyEntry.order_id == order.id, LoyaltyEntry.reason == REASON_ORDER
        )
    )
    if exists is not None:
        return 0
    session.add(
        LoyaltyEntry(user_id=order.buyer_id, order_id=order.id, points=points, reason=REASON_ORDER)
    )
    session.execute(
        update(User)
        .where(User.id == order.buyer_id)
        .values(loyalty_points=User.loyalty_points + points)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return points


def balance(session: Session, *, user_id: int) -> int:
    return session.scalar(select(User.loyalty_points).where(User.id == user_id)) or 0
