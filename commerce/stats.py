"""Figures for the seller's /stats chart and the admins' /chiffres, and next month's forecast.

Why aggregation in Python rather than SQL date functions: month and day bucketing differ
between SQLite and PostgreSQL, and one shop's last year of orders is a few thousand rows at
most. Platform figures, which cover every order, stay plain SQL aggregates.
"""

from __future__ import annotations

import datetime as dt
import math
from collections import Counter, defaultdict
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commerce import clock
from commerce.catalog.models import Product, Shop, ShopStatus
from commerce.delivery.models import Courier, CourierStatus
from commerce.orders.models import Order, OrderItem, OrderStatus
from commerce.returns.models import Return
from commerce.reviews.models import Review
from commerce.users.actions import require_actor
from commerce.users.models import Role, User

SOLD = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
NOT_SOLD = (OrderStatus.REFUSED, OrderStatus.CANCELLED)
MONTHS_SHOWN = 12
DAYS_SHOWN = 30
TREND_MIN_MONTHS = 3


@dataclass(frozen=True)
class Forecast:
    """Next month's revenue: a range always; a central value only with enough history."""

    method: str  # "none" | "average" | "trend"
    months_used: int
    low: int
    high: int
    expected: int | None = None


@dataclass(frozen=True)
class SellerStats:
    revenue_by_month: list[tuple[str, int]]  # ("2025-03", GNF), oldest first
    orders_by_day: list[tuple[dt.date, int]]  # the last 30 days, every day present
    top_products: list[tuple[str, int]]  # (name, units sold), best first, at most 5
    rating_counts: dict[int, int]  # stars → reviews
    low_stock: list[tuple[str, int, int]]  # (name, stock, threshold)
    forecast: Forecast
    total_orders: int = 0  # over the same 30 days as orders_by_day
    ratings: list[int] = field(default_factory=list)

    @property
    def rating_average(self) -> float | None:
        count = sum(self.rating_counts.values())
        if not count:
            return None
        return sum(k * v for k, v in self.rating_counts.items()) / count


def _month(d: dt.datetime) -> str:
    return f"{d.year:04d}-{d.month:02d}"


def _months_back(now: dt.datetime, n: int) -> list[str]:
    year, month = now.year, now.month
    out = []
    for _ in range(n):
        out.append(f"{year:04d}-{month:02d}")
        month -= 1
        if month == 0:
            year, month = year - 1, 12
    return list(reversed(out))


def forecast_next_month(monthly: list[int], *, ahead: int = 1) -> Forecast:
    """Forecast the month `ahead` months after the last of `monthly`, complete months of
    revenue (oldest first, zeros included). /stats passes ahead=2: its last complete month is
    the previous calendar month, and "next month" is the one after the current one.

    - no sales at all: no forecast (0–0);
    - fewer than 3 months with sales: their average, ±50 % (a range, no single number);
    - otherwise a least-squares linear trend over the months, ± 1.5 × the residuals' standard
      deviation (at least ±20 % of the expected value), never below zero.
    """
    active = monthly[next((i for i, v in enumerate(monthly) if v > 0), len(monthly)) :]
    if not active:
        return Forecast("none", 0, 0, 0)
    n = len(active)
    if n < TREND_MIN_MONTHS:
        mean = sum(active) / n
        return Forecast("average", n, int(mean * 0.5), math.ceil(mean * 1.5))
    xs = range(n)
    x_mean, y_mean = (n - 1) / 2, sum(active) / n
    sxx = sum((x - x_mean) ** 2 for x in xs)
    slope = sum((x - x_mean) * (y - y_mean) for x, y in zip(xs, active, strict=True)) / sxx
    intercept = y_mean - slope * x_mean
    expected = max(0.0, intercept + slope * (n - 1 + ahead))
    residuals = [y - (intercept + slope * x) for x, y in zip(xs, active, strict=True)]
    spread = math.sqrt(sum(r * r for r in residuals) / max(1, n - 2))
    margin = max(1.5 * spread, 0.2 * expected)
    return Forecast(
        "trend",
        n,
        int(max(0.0, expected - margin)),
        math.ceil(expected + margin),
        expected=round(expected),
    )


def seller_stats(
    session: Session, *, seller_id: int, now: dt.datetime | None = None
) -> SellerStats:
    require_actor(session, seller_id, Role.SELLER)
    now = now or clock.now()
    shop = session.scalar(select(Shop).where(Shop.owner_id == seller_id))
    months = _months_back(now, MONTHS_SHOWN)
    days = [(now - dt.timedelta(days=i)).date() for i in range(DAYS_SHOWN - 1, -1, -1)]
    if shop is None:
        return SellerStats(
            [(m, 0) for m in months], [(d, 0) for d in days], [], {}, [], Forecast("none", 0, 0, 0)
        )
    since = now - dt.timedelta(days=31 * MONTHS_SHOWN)
    orders = session.execute(
        select(
            Order.id,
            Order.status,
            Order.created_at,
            Order.delivered_at,
            Order.subtotal,
            Order.discount,
        ).where(Order.shop_id == shop.id, Order.created_at >= since)
    ).all()
    revenue: dict[str, int] = defaultdict(int)
    per_day: Counter[dt.date] = Counter()
    for _id, status, created, delivered, subtotal, discount in orders:
        if status in SOLD:
            revenue[_month(delivered or created)] += subtotal - discount
        if status not in NOT_SOLD:
            per_day[created.date()] += 1
    top = session.execute(
        select(OrderItem.name, func.sum(OrderItem.quantity - OrderItem.returned_quantity))
        .join(Order, OrderItem.order_id == Order.id)
        .where(Order.shop_id == shop.id, Order.status.not_in(NOT_SOLD))
        .group_by(OrderItem.product_id, OrderItem.name)
        .order_by(func.sum(OrderItem.quantity - OrderItem.returned_quantity).desc())
        .limit(5)
    ).all()
    ratings = Counter(
        session.scalars(
            select(Review.rating)
            .join(Product, Review.product_id == Product.id)
            .where(Product.shop_id == shop.id)
        )
    )
    low = session.execute(
        select(Product.name, Product.stock, Product.low_stock_threshold)
        .where(
            Product.shop_id == shop.id,
            Product.is_deleted.is_(False),
            Product.stock <= Product.low_stock_threshold,
        )
        .order_by(Product.stock, Product.id)
        .limit(10)
    ).all()
    complete_months = [revenue.get(m, 0) for m in months[:-1]]  # the current month is partial
    by_day = [(d, per_day.get(d, 0)) for d in days]
    return SellerStats(
        revenue_by_month=[(m, revenue.get(m, 0)) for m in months],
        orders_by_day=by_day,
        top_products=[(name, int(qty or 0)) for name, qty in top if qty],
        rating_counts={k: ratings.get(k, 0) for k in range(1, 6)},
        low_stock=[(n, s, t) for n, s, t in low],
        forecast=forecast_next_month(complete_months, ahead=2),  # the next calendar month
        # The days the chart draws, not the year the query reads: text and chart agree.
        total_orders=sum(n for _d, n in by_day),
    )


@dataclass(frozen=True)
class PlatformFigures:
    gmv: int  # delivered and completed orders, GNF
    orders: int
    orders_30d: int
    delivered: int
    returns: int
    active_sellers: int
    active_couriers: int
    available_couriers: int
    users: int

    @property
    def return_rate(self) -> float:
        return self.returns / self.delivered if self.delivered else 0.0


def platform_figures(
    session: Session, *, admin_id: int, now: dt.datetime | None = None
) -> PlatformFigures:
    require_actor(session, admin_id, Role.ADMIN)
    now = now or clock.now()
    gmv, delivered = session.execute(
        select(func.coalesce(func.sum(Order.total), 0), func.count(Order.id)).where(
            Order.status.in_(SOLD)
        )
    ).one()
    orders = session.scalar(select(func.count(Order.id))) or 0
    orders_30d = (
        session.scalar(
            select(func.count(Order.id)).where(Order.created_at >= now - dt.timedelta(days=30))
        )
        or 0
    )
    returns = session.scalar(select(func.count(Return.id))) or 0
    sellers = (
        session.scalar(
            select(func.count(Shop.id))
            .join(User, Shop.owner_id == User.id)
            .where(Shop.status == ShopStatus.APPROVED, User.is_active.is_(True))
        )
        or 0
    )
    couriers = session.execute(
        select(Courier.available, func.count(Courier.id))
        .join(User, Courier.user_id == User.id)
        .where(Courier.status == CourierStatus.APPROVED, User.is_active.is_(True))
        .group_by(Courier.available)
    ).all()
    return PlatformFigures(
        gmv=int(gmv),
        orders=orders,
        orders_30d=orders_30d,
        delivered=int(delivered),
        returns=returns,
        active_sellers=sellers,
        active_couriers=sum(n for _a, n in couriers),
        available_couriers=sum(n for a, n in couriers if a),
        users=session.scalar(select(func.count(User.id))) or 0,
    )
