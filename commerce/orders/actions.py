"""Order use cases: checkout (one order per seller), accept, refuse, cancel, complete."""

from __future__ import annotations

import datetime as dt
import secrets
from collections import defaultdict
from collections.abc import Collection
from dataclasses import dataclass

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.cart.actions import cart_summary, find_promo
from commerce.cart.models import Cart, CartItem, PromoCode
from commerce.catalog import favourites
from commerce.catalog.models import Product, Shop
from commerce.db import action, conditional_update
from commerce.delivery import pricing
from commerce.delivery.codes import issue_code
from commerce.delivery.models import DeliveryCode, DeliveryJob, JobKind, JobStatus
from commerce.errors import (
    AddressInvalid,
    CartEmpty,
    InvalidInput,
    NotFound,
    OutOfStock,
    PermissionDenied,
    ProductUnavailable,
    PromoExhausted,
)
from commerce.loyalty import actions as loyalty
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.orders.lifecycle import Actor, transition
from commerce.orders.models import (
    CommissionPayer,
    DeliveryMode,
    Order,
    OrderItem,
    OrderStatus,
    OrderStatusChange,
    PaymentMethod,
)
from commerce.reasons import reason_text
from commerce.users.actions import require_actor
from commerce.users.models import Address, Role


@dataclass(frozen=True)
class Destination:
    """Where an order goes: a snapshot of a saved or new address."""

    region: str = ""
    prefecture: str = ""
    quartier: str = ""
    landmark: str = ""
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class OrderQuote:
    shop: Shop
    subtotal: int
    discount: int
    distance_km: float
    delivery_fee: int
    buyer_pays_fee: bool
    # Loyalty points spent on this order and what they take off (0 unless she chose to).
    points: int = 0
    points_discount: int = 0

    @property
    def total(self) -> int:
        fee = self.delivery_fee if self.buyer_pays_fee else 0
        return self.subtotal - self.discount - self.points_discount + fee


@dataclass(frozen=True)
class CheckoutQuote:
    orders: list[OrderQuote]
    promo_code: str | None
    # Points she may spend on this checkout (offered at the summary when more than 0).
    points_offer: int = 0

    @property
    def total(self) -> int:
        return sum(o.total for o in self.orders)

    @property
    def points_used(self) -> int:
        return sum(o.points for o in self.orders)

    @property
    def points_discount(self) -> int:
        return sum(o.points_discount for o in self.orders)

    @property
    def delivery_fees(self) -> int:
        return sum(o.delivery_fee for o in self.orders if o.buyer_pays_fee)


def _split(amount: int, weights: list[int]) -> list[int]:
    """Share `amount` in proportion to `weights`, whole francs, summing exactly to amount."""
    total = sum(weights)
    if total == 0 or amount == 0:
        return [0] * len(weights)
    shares = [amount * w // total for w in weights]
    # The francs left by rounding down go one each to the largest remainders (not all to the
    # last order, which could then be discounted beyond its own subtotal).
    left = amount - sum(shares)
    by_remainder = sorted(range(len(weights)), key=lambda i: -(amount * weights[i] % total))
    for i in by_remainder[:left]:
        shares[i] += 1
    return shares


def _destination(
    session: Session, buyer_id: int, address_id: int | None, mode: DeliveryMode
) -> Destination:
    if address_id is None:
        if mode == DeliveryMode.HOME:
            raise AddressInvalid("a delivery address is required")
        return Destination()
    address = session.get(Address, address_id)
    if address is None or address.user_id != buyer_id:
        raise NotFound("unknown address", entity="address", id=address_id)
    return Destination(
        region=address.region,
        prefecture=address.prefecture,
        quartier=address.quartier,
        landmark=address.landmark,
        lat=address.lat,
        lng=address.lng,
    )


def quote_checkout(
    session: Session,
    *,
    buyer_id: int,
    address_id: int | None,
    delivery_mode: DeliveryMode,
    commission_payer: CommissionPayer,
    product_ids: Collection[int] | None = None,
    use_points: bool = False,
) -> CheckoutQuote:
    """What checkout would charge, without taking anything: the summary before confirmation.

    `product_ids`: check out only those lines of the cart ("Acheter" on one product).
    `use_points`: spend the loyalty points she may (`loyalty.spendable_points`), shared
    between the orders in proportion to their goods after the code.
    """
    require_actor(session, buyer_id)
    summary = cart_summary(session, user_id=buyer_id, product_ids=product_ids)
    if not summary.lines:
        raise CartEmpty("your cart is empty")
    dest = _destination(session, buyer_id, address_id, delivery_mode)
    by_shop: dict[int, int] = defaultdict(int)
    for line in summary.lines:
        by_shop[line.product.shop_id] += line.total
    shop_ids = sorted(by_shop)
    if summary.promo_shop_id is not None:
        # A shop's code discounts that shop's order alone.
        discounts = [summary.discount if s == summary.promo_shop_id else 0 for s in shop_ids]
    else:
        discounts = _split(summary.discount, [by_shop[s] for s in shop_ids])
    after_code = [by_shop[s] - d for s, d in zip(shop_ids, discounts, strict=True)]
    offer = loyalty.spendable_points(session, user_id=buyer_id, goods=sum(after_code))
    points = _split(offer if use_points else 0, after_code)
    per_point = rules.of(session).gnf_per_point_spent
    quotes = []
    for shop_id, discount, spent in zip(shop_ids, discounts, points, strict=True):
        shop = session.get(Shop, shop_id)
        assert shop is not None
        if delivery_mode == DeliveryMode.HOME:
            km, fee = pricing.quote(shop, dest, rules=rules.of(session))
        else:
            km, fee = 0.0, 0
        quotes.append(
            OrderQuote(
                shop=shop,
                subtotal=by_shop[shop_id],
                discount=discount,
                distance_km=km,
                delivery_fee=fee,
                buyer_pays_fee=commission_payer == CommissionPayer.BUYER,
                points=spent,
                points_discount=spent * per_point,
            )
        )
    return CheckoutQuote(orders=quotes, promo_code=summary.promo_code, points_offer=offer)


@dataclass(frozen=True)
class PlacedOrder:
    order: Order
    code: DeliveryCode


def _take_stock(session: Session, product_id: int, quantity: int) -> int:
    """Atomically take stock; returns what is left, or raises OutOfStock.

    A conditional UPDATE: on PostgreSQL concurrent takers queue on the row lock and re-check
    the condition; on SQLite BEGIN IMMEDIATE already serialises writers.
    """
    result = session.execute(
        update(Product)
        .where(Product.id == product_id, Product.stock >= quantity)
        .values(stock=Product.stock - quantity)
        .returning(Product.stock)
        .execution_options(synchronize_session=False)
    )
    row = result.first()
    if row is None:
        available = session.scalar(select(Product.stock).where(Product.id == product_id))
        raise OutOfStock("not enough stock", product_id=product_id, available=available)
    return int(row[0])


def _give_back_stock(session: Session, order: Order) -> None:
    for item in order.items:
        session.execute(
            update(Product)
            .where(Product.id == item.product_id)
            .values(stock=Product.stock + item.quantity)
            .execution_options(synchronize_session=False)
        )
        favourites.stock_given_back(session, product_id=item.product_id, quantity=item.quantity)


@action
def _sold_out_first(session: Session, buyer_id: int, product_ids: Collection[int] | None) -> None:
    """A flash sale's losers leave at once, with one SELECT, before the cart is summed and
    quoted (issue 20: 500 buyers on stock 10 — each loser's full checkout before the stock
    UPDATE turned it down was what made the others wait). Only an early exit: the conditional
    UPDATE in `_take_stock` still decides every winner."""
    stmt = (
        select(CartItem.product_id, Product.stock)
        .join(Cart, Cart.id == CartItem.cart_id)
        .join(Product, Product.id == CartItem.product_id)
        .where(Cart.user_id == buyer_id, Product.stock < CartItem.quantity)
        .limit(1)
    )
    if product_ids is not None:
        stmt = stmt.where(CartItem.product_id.in_(list(product_ids)))
    short = session.execute(stmt).first()
    if short is not None:
        raise OutOfStock("not enough stock", product_id=short[0], available=short[1])


def place_order(
    session: Session,
    *,
    buyer_id: int,
    address_id: int | None,
    delivery_mode: DeliveryMode,
    commission_payer: CommissionPayer,
    payment_method: PaymentMethod,
    product_ids: Collection[int] | None = None,
    use_points: bool = False,
) -> list[PlacedOrder]:
    """Turn the cart into one order per seller, taking stock, the promo use and the loyalty
    points spent atomically.

    `product_ids`: only those lines of the cart ("Acheter" on one product): they leave the
    cart, the other lines stay, and so does a promo code this checkout did not use.
    `use_points`: spend the points the quote allows; their value is in each order's discount.
    """
    _sold_out_first(session, buyer_id, product_ids)
    buyer = require_actor(session, buyer_id)
    try:
        delivery_mode = DeliveryMode(delivery_mode)
        commission_payer = CommissionPayer(commission_payer)
        payment_method = PaymentMethod(payment_method)
    except ValueError as exc:
        raise InvalidInput(str(exc)) from exc
    summary = cart_summary(session, user_id=buyer_id, product_ids=product_ids)
    if summary.unavailable:
        raise ProductUnavailable(
            "some products are no longer on sale",
            product_ids=[p.id for p in summary.unavailable],
        )
    applied = session.scalar(select(Cart.promo_code_id).where(Cart.user_id == buyer_id))
    if applied is not None and summary.promo_code is None:
        # The code expired or ran out since it was applied: say so (PromoExpired,
        # PromoExhausted…) rather than silently charge more than the summary showed.
        applied_promo = session.get(PromoCode, applied)
        find_promo(session, applied_promo.code if applied_promo else "")
    quote = quote_checkout(
        session,
        buyer_id=buyer_id,
        address_id=address_id,
        delivery_mode=delivery_mode,
        commission_payer=commission_payer,
        product_ids=product_ids,
        use_points=use_points,
    )
    dest = _destination(session, buyer_id, address_id, delivery_mode)
    cart = session.scalar(select(Cart).where(Cart.user_id == buyer_id))
    assert cart is not None
    promo_id = None
    if summary.promo_code is not None and summary.discount > 0:
        promo = session.scalar(select(PromoCode).where(PromoCode.code == summary.promo_code))
        assert promo is not None
        promo_id = promo.id

    checkout_ref = secrets.token_hex(8)
    placed: list[PlacedOrder] = []
    for q in quote.orders:
        order = Order(
            checkout_ref=checkout_ref,
            buyer_id=buyer.id,
            shop_id=q.shop.id,
            delivery_mode=delivery_mode,
            commission_payer=commission_payer,
            payment_method=payment_method,
            region=dest.region,
            prefecture=dest.prefecture,
            quartier=dest.quartier,
            landmark=dest.landmark,
            lat=dest.lat,
            lng=dest.lng,
            distance_km=q.distance_km,
            subtotal=q.subtotal,
            discount=q.discount + q.points_discount,
            points_spent=q.points,
            delivery_fee=q.delivery_fee,
            total=q.total,
            promo_code_id=promo_id,
            status=OrderStatus.PLACED,
        )
        order.items = [
            OrderItem(
                product_id=line.product.id,
                name=line.product.name,
                unit_price=line.unit_price,
                quantity=line.quantity,
            )
            for line in summary.lines
            if line.product.shop_id == q.shop.id
        ]
        session.add(order)
        session.flush()
        session.add(
            OrderStatusChange(
                order_id=order.id, from_status=None, to_status=OrderStatus.PLACED, actor_id=buyer.id
            )
        )
        code = issue_code(session, order_id=order.id)
        notify(
            session,
            user_id=q.shop.owner_id,
            kind=Notice.ORDER_PLACED,
            params={"order_id": order.id},
            essential=True,
        )
        placed.append(PlacedOrder(order=order, code=code))
    # Count the promo use and take stock last, stock in product-id order (concurrent
    # multi-product checkouts never deadlock): their row locks are then held only for what is
    # left of this transaction, not for the orders' creation — a flash sale's winners queue on
    # them one after another.
    if promo_id is not None:
        counted = conditional_update(
            session,
            update(PromoCode)
            .where(
                PromoCode.id == promo_id,
                (PromoCode.max_uses.is_(None)) | (PromoCode.uses < PromoCode.max_uses),
            )
            .values(uses=PromoCode.uses + 1),
        )
        if counted != 1:
            raise PromoExhausted("promo used up", code=summary.promo_code)
    low_stock: list[tuple[Product, int]] = []
    for line in sorted(summary.lines, key=lambda ln: ln.product.id):
        left = _take_stock(session, line.product.id, line.quantity)
        if left <= line.product.low_stock_threshold:
            low_stock.append((line.product, left))
    loyalty.debit_for_orders(
        session, user_id=buyer.id, spent={p.order.id: p.order.points_spent for p in placed}
    )
    for product, left in low_stock:
        shop = session.get(Shop, product.shop_id)
        assert shop is not None
        notify(
            session,
            user_id=shop.owner_id,
            kind=Notice.LOW_STOCK,
            params={"product_id": product.id, "stock": left},
        )
    if product_ids is None:
        cart.items.clear()
    else:
        bought = {line.product.id for line in summary.lines}
        for cart_item in [i for i in cart.items if i.product_id in bought]:
            cart.items.remove(cart_item)
    if product_ids is None or promo_id is not None:
        cart.promo_code_id = None
    session.flush()
    return placed


def _order_for(session: Session, order_id: int) -> Order:
    order = session.get(Order, order_id)
    if order is None:
        raise NotFound("unknown order", entity="order", id=order_id)
    return order


def seller_order(session: Session, seller_id: int, order_id: int) -> Order:
    require_actor(session, seller_id, Role.SELLER)
    order = _order_for(session, order_id)
    shop = session.get(Shop, order.shop_id)
    if shop is None or shop.owner_id != seller_id:
        raise PermissionDenied("not your order", order_id=order_id)
    return order


def buyer_order(session: Session, buyer_id: int, order_id: int) -> Order:
    require_actor(session, buyer_id)
    order = _order_for(session, order_id)
    if order.buyer_id != buyer_id:
        # Same answer as a missing order: never confirm that someone else's order exists.
        raise NotFound("unknown order", entity="order", id=order_id)
    return order


def _reason(reason: str) -> str:
    return reason_text(reason)


@action
def accept_order(session: Session, *, seller_id: int, order_id: int) -> Order:
    order = seller_order(session, seller_id, order_id)
    transition(session, order, OrderStatus.ACCEPTED, actor=Actor.SELLER, actor_id=seller_id)
    notify(
        session,
        user_id=order.buyer_id,
        kind=Notice.ORDER_ACCEPTED,
        params={"order_id": order.id},
        essential=True,
    )
    return order


@action
def refuse_order(session: Session, *, seller_id: int, order_id: int, reason: str) -> Order:
    text = _reason(reason)
    order = seller_order(session, seller_id, order_id)
    transition(
        session, order, OrderStatus.REFUSED, actor=Actor.SELLER, actor_id=seller_id, note=text
    )
    order.refusal_reason = text
    _give_back_stock(session, order)
    loyalty.give_back_for_order(session, order=order)
    notify(
        session,
        user_id=order.buyer_id,
        kind=Notice.ORDER_REFUSED,
        params={"order_id": order.id, "reason": text},
        essential=True,
    )
    return order


def _cancel_jobs(session: Session, order_id: int) -> list[DeliveryJob]:
    jobs = list(
        session.scalars(
            select(DeliveryJob).where(
                DeliveryJob.order_id == order_id,
                DeliveryJob.kind == JobKind.DELIVERY,
                DeliveryJob.status.in_([JobStatus.OPEN, JobStatus.CLAIMED]),
            )
        )
    )
    for job in jobs:
        job.status = JobStatus.CANCELLED
    return jobs


@action
def cancel_order(session: Session, *, buyer_id: int, order_id: int) -> Order:
    """The buyer cancels before pickup: stock comes back, any courier job is withdrawn."""
    order = buyer_order(session, buyer_id, order_id)
    transition(session, order, OrderStatus.CANCELLED, actor=Actor.BUYER, actor_id=buyer_id)
    _give_back_stock(session, order)
    loyalty.give_back_for_order(session, order=order)
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    notify(
        session,
        user_id=shop.owner_id,
        kind=Notice.ORDER_CANCELLED,
        params={"order_id": order.id},
        essential=True,
    )
    for job in _cancel_jobs(session, order.id):
        if job.courier_id is not None:
            notify(
                session,
                user_id=job.courier_id,
                kind=Notice.JOB_CANCELLED,
                params={"order_id": order.id, "job_id": job.id},
                essential=True,
            )
    session.flush()
    return order


@action
def complete_due_orders(session: Session, *, now: dt.datetime | None = None) -> list[int]:
    """Delivered orders whose return window has closed become completed (a timer job)."""
    now = now or clock.now()
    cutoff = now - dt.timedelta(days=rules.of(session).return_window_days)
    due = list(
        session.scalars(
            select(Order).where(Order.status == OrderStatus.DELIVERED, Order.delivered_at <= cutoff)
        )
    )
    for order in due:
        transition(session, order, OrderStatus.COMPLETED, actor=Actor.SYSTEM, actor_id=None)
    return [o.id for o in due]


def orders_of_buyer(session: Session, *, buyer_id: int, limit: int = 10) -> list[Order]:
    require_actor(session, buyer_id)
    return list(
        session.scalars(
            select(Order).where(Order.buyer_id == buyer_id).order_by(Order.id.desc()).limit(limit)
        )
    )


def orders_of_seller(
    session: Session, *, seller_id: int, statuses: list[OrderStatus] | None = None
) -> list[Order]:
    require_actor(session, seller_id, Role.SELLER)
    shop = session.scalar(select(Shop).where(Shop.owner_id == seller_id))
    if shop is None:
        return []
    stmt = select(Order).where(Order.shop_id == shop.id)
    if statuses:
        stmt = stmt.where(Order.status.in_(statuses))
    return list(session.scalars(stmt.order_by(Order.id.desc())))
