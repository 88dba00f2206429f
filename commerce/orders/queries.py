"""Read-only questions the buyer conversation asks about its own orders and addresses.

Kept apart from `actions.py` (which changes things) so the bot reads through named queries and
never writes SQL itself. Every function takes the buyer's id and only ever returns what is theirs.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.catalog.models import Category, Shop
from commerce.delivery.models import DeliveryCode
from commerce.orders.models import DeliveryMode, Order, OrderItem, OrderStatus
from commerce.returns.models import Return
from commerce.reviews.models import Review
from commerce.users.models import Address, User

CANCELLABLE = frozenset({OrderStatus.PLACED, OrderStatus.ACCEPTED, OrderStatus.COURIER_ASSIGNED})


def saved_addresses(session: Session, *, user_id: int, limit: int = 3) -> list[Address]:
    """The buyer's most recent saved addresses, newest first."""
    return list(
        session.scalars(
            select(Address)
            .where(Address.user_id == user_id)
            .order_by(Address.id.desc())
            .limit(limit)
        )
    )


def usual_address(session: Session, *, user_id: int) -> Address | None:
    """Where the buyer usually has things delivered: the saved address her last home delivery
    went to, else her newest saved address; None when she has none."""
    saved = saved_addresses(session, user_id=user_id)
    last_home = session.scalar(
        select(Order)
        .where(Order.buyer_id == user_id, Order.delivery_mode == DeliveryMode.HOME)
        .order_by(Order.id.desc())
        .limit(1)
    )
    if last_home is not None:
        for address in saved:
            same = (address.prefecture, address.quartier, address.landmark)
            if same == (last_home.prefecture, last_home.quartier, last_home.landmark):
                return address
    return saved[0] if saved else None


def address_of(session: Session, *, user_id: int, address_id: int) -> Address | None:
    address = session.get(Address, address_id)
    return address if address is not None and address.user_id == user_id else None


def last_order(session: Session, *, buyer_id: int) -> Order | None:
    return session.scalar(
        select(Order).where(Order.buyer_id == buyer_id).order_by(Order.id.desc()).limit(1)
    )


def shop(session: Session, shop_id: int) -> Shop | None:
    return session.get(Shop, shop_id)


def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))


def courier_name(session: Session, order: Order) -> str:
    """The full name of whoever carries the order ('' before a courier is assigned)."""
    if order.courier_id is None:
        return ""
    user = session.get(User, order.courier_id)
    return user.name if user is not None else ""


def code_of(session: Session, order: Order) -> DeliveryCode | None:
    return session.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order.id))


def awaiting_cash(session: Session, *, buyer_id: int) -> list[Order]:
    """Orders at the door: handed over (or being handed over) and not yet confirmed paid."""
    rows = session.scalars(
        select(Order)
        .where(
            Order.buyer_id == buyer_id,
            Order.cash_confirmed_at.is_(None),
            Order.status.in_([OrderStatus.PICKED_UP, OrderStatus.ACCEPTED]),
        )
        .order_by(Order.id.desc())
    )
    out = []
    for order in rows:
        if order.status == OrderStatus.ACCEPTED and order.delivery_mode != DeliveryMode.PICKUP:
            continue
        if order.status == OrderStatus.ACCEPTED:
            code = code_of(session, order)
            if code is None or code.used_at is None:
                continue  # a pickup order is at the door only once the seller checked the code
        out.append(order)
    return out


def reviewable_items(session: Session, order: Order) -> list[OrderItem]:
    """Items of a delivered order the buyer has not rated yet."""
    if order.status not in (OrderStatus.DELIVERED, OrderStatus.COMPLETED):
        return []
    reviewed = set(
        session.scalars(
            select(Review.order_item_id).where(
                Review.order_item_id.in_([i.id for i in order.items])
            )
        )
    )
    return [i for i in order.items if i.id not in reviewed]


def returnable_items(order: Order) -> list[OrderItem]:
    """Items with some quantity not yet asked back."""
    return [i for i in order.items if i.quantity - i.returned_quantity > 0]


def returns_of(session: Session, order: Order) -> list[Return]:
    return list(
        session.scalars(select(Return).where(Return.order_id == order.id).order_by(Return.id))
    )


def item_of(session: Session, order: Order, item_id: int) -> OrderItem | None:
    return next((i for i in order.items if i.id == item_id), None)
