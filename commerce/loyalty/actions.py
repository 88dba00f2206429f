"""Loyalty: 1 point per 10 000 GNF spent, credited once when an order is delivered; points
spent at checkout are debited with the order and given back once if it is cancelled or refused."""

from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commerce import rules
from commerce.db import conditional_update
from commerce.errors import NotEnoughPoints
from commerce.loyalty.models import LoyaltyEntry
from commerce.money import loyalty_points_for
from commerce.orders.models import Order
from commerce.users.models import User

REASON_ORDER = "order_delivered"
REASON_SPENT = "order_spent"
REASON_GIVEN_BACK = "order_points_back"


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


def spendable_points(session: Session, *, user_id: int, goods: int) -> int:
    """How many of her points a buyer may spend on `goods` GNF (after any code): none below
    the minimum balance, at most the configured share of the goods."""
    r = rules.of(session)
    held = balance(session, user_id=user_id)
    if held < r.min_points_to_spend or goods <= 0:
        return 0
    cap = goods * r.max_share_of_order_pct // 100 // r.gnf_per_point_spent
    return max(0, min(held, cap))


def debit_for_orders(session: Session, *, user_id: int, spent: dict[int, int]) -> None:
    """Take the points spent on each order (order id → points) in the order's transaction.

    A conditional UPDATE: two checkouts racing on one balance cannot both spend it.
    """
    total = sum(spent.values())
    if total <= 0:
        return
    taken = conditional_update(
        session,
        update(User)
        .where(User.id == user_id, User.loyalty_points >= total)
        .values(loyalty_points=User.loyalty_points - total),
    )
    if taken != 1:
        raise NotEnoughPoints("not enough points", wanted=total)
    for order_id, points in spent.items():
        if points > 0:
            entry = LoyaltyEntry(
                user_id=user_id, order_id=order_id, points=-points, reason=REASON_SPENT
            )
            session.add(entry)
    session.flush()


def give_back_for_order(session: Session, *, order: Order) -> int:
    """A cancelled or refused order's spent points come back, once (the unique key)."""
    if order.points_spent <= 0:
        return 0
    exists = session.scalar(
        select(LoyaltyEntry.id).where(
            LoyaltyEntry.order_id == order.id, LoyaltyEntry.reason == REASON_GIVEN_BACK
        )
    )
    if exists is not None:
        return 0
    session.add(
        LoyaltyEntry(
            user_id=order.buyer_id,
            order_id=order.id,
            points=order.points_spent,
            reason=REASON_GIVEN_BACK,
        )
    )
    session.execute(
        update(User)
        .where(User.id == order.buyer_id)
        .values(loyalty_points=User.loyalty_points + order.points_spent)
        .execution_options(synchronize_session=False)
    )
    session.flush()
    return order.points_spent
