"""Read-only queries behind the seller's and the admin's Telegram screens.

Why a module of its own: the screens need lists (my products, the moderation queue, open
reports, a user search) that no business action returns, and handlers never write SQL. Every
query checks who asks, as actions do: a seller only ever sees their own shop, and only admins
see the moderation queue, the reports and other people's accounts.
"""

from __future__ import annotations

import contextlib
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select
from sqlalchemy.orm import Session

from commerce import rules
from commerce.catalog.models import Category, ModerationStatus, Product, Shop, ShopStatus
from commerce.delivery import pricing
from commerce.delivery.models import Courier, CourierStatus
from commerce.errors import InvalidPhone, NotFound, PermissionDenied
from commerce.moderation.models import Report, ReportStatus
from commerce.orders.actions import Destination, seller_order
from commerce.orders.models import Order
from commerce.phones import normalize_phone
from commerce.returns.models import Return
from commerce.reviews.models import Review
from commerce.users.actions import require_actor
from commerce.users.models import Role, User

OPEN_REPORTS_SHOWN = 10


# --- seller -----------------------------------------------------------------------------------


def shop_of(session: Session, user_id: int) -> Shop | None:
    """The user's shop, whatever its status (None for a newcomer)."""
    return session.scalar(select(Shop).where(Shop.owner_id == user_id))


def categories(session: Session) -> list[Category]:
    return list(session.scalars(select(Category).order_by(Category.position, Category.id)))


def seller_products(
    session: Session, *, seller_id: int, offset: int = 0, limit: int = 8
) -> tuple[list[Product], int]:
    """A page of the seller's own (not deleted) products, newest first, and the total."""
    require_actor(session, seller_id, Role.SELLER)
    shop = shop_of(session, seller_id)
    if shop is None:
        return [], 0
    where = (Product.shop_id == shop.id, Product.is_deleted.is_(False))
    total = session.scalar(select(func.count(Product.id)).where(*where)) or 0
    rows = session.scalars(
        select(Product).where(*where).order_by(Product.id.desc()).offset(offset).limit(limit)
    )
    return list(rows), total


def seller_product(session: Session, *, seller_id: int, product_id: int) -> Product:
    """One of the seller's products; another shop's product is refused, as the actions do."""
    require_actor(session, seller_id, Role.SELLER)
    shop = shop_of(session, seller_id)
    product = session.get(Product, product_id)
    if shop is None or product is None or product.is_deleted:
        raise NotFound("unknown product", entity="product", id=product_id)
    if product.shop_id != shop.id:
        raise PermissionDenied("not your product", product_id=product_id)
    return product


def seller_return(session: Session, *, seller_id: int, return_id: int) -> tuple[Return, Order]:
    require_actor(session, seller_id, Role.SELLER)
    ret = session.get(Return, return_id)
    order = session.get(Order, ret.order_id) if ret else None
    shop = shop_of(session, seller_id)
    if ret is None or order is None:
        raise NotFound("unknown return", entity="return", id=return_id)
    if shop is None or order.shop_id != shop.id:
        raise PermissionDenied("not your return", return_id=return_id)
    return ret, order


def seller_review(session: Session, *, seller_id: int, review_id: int) -> tuple[Review, Product]:
    require_actor(session, seller_id, Role.SELLER)
    review = session.get(Review, review_id)
    product = session.get(Product, review.product_id) if review else None
    shop = shop_of(session, seller_id)
    if review is None or product is None:
        raise NotFound("unknown review", entity="review", id=review_id)
    if shop is None or product.shop_id != shop.id:
        raise PermissionDenied("not your product", review_id=review_id)
    return review, product


def publish_quote(session: Session, *, seller_id: int, order_id: int) -> tuple[float, int]:
    """What publishing one of the seller's orders would pay a courier before any bonus.

    (distance km, commission GNF), from the shop to the order's address.
    """
    order = seller_order(session, seller_id, order_id)
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    dest = Destination(
        region=order.region, prefecture=order.prefecture, quartier=order.quartier,
        lat=order.lat, lng=order.lng,
    )  # fmt: skip
    return pricing.quote(shop, dest, rules=rules.of(session))


def user_by_phone(session: Session, phone: str) -> User | None:
    """The account holding `phone` (raises InvalidPhone for something that is not a number)."""
    return session.scalar(select(User).where(User.phone == normalize_phone(phone)))


# --- admin ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class QueueItem:
    """The next thing an admin must decide: kind is "shop", "product" or "courier"."""

    kind: str
    id: int


def moderation_queue(
    session: Session, *, admin_id: int, skip: frozenset[tuple[str, int]] = frozenset()
) -> tuple[QueueItem | None, int]:
    """The oldest pending shop, then product, then courier, and how many wait in all."""
    require_actor(session, admin_id, Role.ADMIN)
    shops = list(
        session.scalars(
            select(Shop.id).where(Shop.status == ShopStatus.PENDING).order_by(Shop.id).limit(200)
        )
    )
    products = list(
        session.scalars(
            select(Product.id)
            .where(Product.status == ModerationStatus.PENDING, Product.is_deleted.is_(False))
            .order_by(Product.id)
            .limit(200)
        )
    )
    couriers = list(
        session.scalars(
            select(Courier.id)
            .where(Courier.status == CourierStatus.PENDING)
            .order_by(Courier.id)
            .limit(200)
        )
    )
    waiting = [QueueItem("shop", i) for i in shops]
    waiting += [QueueItem("product", i) for i in products]
    waiting += [QueueItem("courier", i) for i in couriers]
    for item in waiting:
        if (item.kind, item.id) not in skip:
            return item, len(waiting)
    return None, len(waiting)


def open_reports(session: Session, *, admin_id: int) -> tuple[list[Report], int]:
    require_actor(session, admin_id, Role.ADMIN)
    where = Report.status == ReportStatus.OPEN
    total = session.scalar(select(func.count(Report.id)).where(where)) or 0
    rows = session.scalars(
        select(Report).where(where).order_by(Report.id).limit(OPEN_REPORTS_SHOWN)
    )
    return list(rows), total


def report_for_admin(session: Session, *, admin_id: int, report_id: int) -> Report:
    require_actor(session, admin_id, Role.ADMIN)
    rep = session.get(Report, report_id)
    if rep is None:
        raise NotFound("unknown report", entity="report", id=report_id)
    return rep


def find_users(session: Session, *, admin_id: int, query: str, limit: int = 10) -> list[User]:
    """By phone number when the query is one, else by name (case-insensitive substring)."""
    require_actor(session, admin_id, Role.ADMIN)
    text = (query or "").strip()[:80]
    if not text:
        return []
    conditions: list[ColumnElement[bool]] = [
        User.name.ilike(f"%{_escape_like(text)}%", escape="\\")
    ]
    with contextlib.suppress(InvalidPhone):
        conditions.append(User.phone == normalize_phone(text))
    if text.isdecimal() and len(text) <= 9:  # "①" is a digit int() refuses; ids fit 32 bits
        conditions.append(User.id == int(text))
    return list(
        session.scalars(select(User).where(or_(*conditions)).order_by(User.id).limit(limit))
    )


def user_for_admin(session: Session, *, admin_id: int, user_id: int) -> User:
    require_actor(session, admin_id, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("unknown user", entity="user", id=user_id)
    return user


def _escape_like(text: str) -> str:
    return text.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
