"""The cart: one per user, kept across days and across the channels of one phone number."""

from __future__ import annotations

import datetime as dt
from collections.abc import Collection
from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce import clock
from commerce.cart.models import Cart, CartItem, PromoCode
from commerce.catalog.actions import effective_price, is_visible
from commerce.catalog.models import Product, Shop
from commerce.db import action
from commerce.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidQuantity,
    NotFound,
    OutOfStock,
    PermissionDenied,
    ProductUnavailable,
    PromoDisabled,
    PromoExhausted,
    PromoExpired,
    PromoNotStarted,
    PromoUnknown,
)
from commerce.money import percent_of
from commerce.users.actions import require_actor
from commerce.users.models import Role

MAX_QUANTITY = 99


def _cart(session: Session, user_id: int) -> Cart:
    require_actor(session, user_id)
    cart = session.scalar(select(Cart).where(Cart.user_id == user_id))
    if cart is None:
        cart = Cart(user_id=user_id)
        session.add(cart)
        session.flush()
    return cart


def _check_quantity(quantity: object) -> int:
    if not isinstance(quantity, int) or isinstance(quantity, bool) or quantity <= 0:
        raise InvalidQuantity("quantity must be 1 or more", quantity=quantity)
    if quantity > MAX_QUANTITY:
        raise InvalidQuantity("quantity too large", quantity=quantity, max=MAX_QUANTITY)
    return quantity


def _available_product(session: Session, product_id: int) -> Product:
    product = session.get(Product, product_id)
    if product is None:
        raise NotFound("unknown product", entity="product", id=product_id)
    if not is_visible(session, product_id):
        raise ProductUnavailable("product not available", product_id=product_id)
    return product


@action
def add_to_cart(session: Session, *, user_id: int, product_id: int, quantity: int = 1) -> Cart:
    _check_quantity(quantity)
    cart = _cart(session, user_id)
    product = _available_product(session, product_id)
    item = next((i for i in cart.items if i.product_id == product_id), None)
    new_qty = quantity + (item.quantity if item else 0)
    _check_quantity(new_qty)
    if new_qty > product.stock:
        raise OutOfStock("not enough stock", product_id=product_id, available=product.stock)
    if item is None:
        cart.items.append(CartItem(product_id=product_id, quantity=new_qty))
    else:
        item.quantity = new_qty
    cart.updated_at = clock.now()
    session.flush()
    return cart


@action
def set_quantity(session: Session, *, user_id: int, product_id: int, quantity: int) -> Cart:
    """Change a line's quantity; 0 removes it."""
    cart = _cart(session, user_id)
    item = next((i for i in cart.items if i.product_id == product_id), None)
    if item is None:
        raise NotFound("not in your cart", entity="cart_item", product_id=product_id)
    if quantity == 0:
        cart.items.remove(item)
    else:
        _check_quantity(quantity)
        product = _available_product(session, product_id)
        if quantity > product.stock:
            raise OutOfStock("not enough stock", product_id=product_id, available=product.stock)
        item.quantity = quantity
    cart.updated_at = clock.now()
    session.flush()
    return cart


@action
def remove_from_cart(session: Session, *, user_id: int, product_id: int) -> Cart:
    return set_quantity(session, user_id=user_id, product_id=product_id, quantity=0)


@action
def clear_cart(session: Session, *, user_id: int) -> Cart:
    cart = _cart(session, user_id)
    cart.items.clear()
    cart.promo_code_id = None
    session.flush()
    return cart


def find_promo(session: Session, code: str) -> PromoCode:
    """Look a code up and check its window and remaining uses (not yet counted)."""
    normalized = (code or "").strip().upper()
    if not normalized or len(normalized) > 30:
        raise PromoUnknown("unknown promo code", code=code)
    promo = session.scalar(select(PromoCode).where(PromoCode.code == normalized))
    if promo is None:
        raise PromoUnknown("unknown promo code", code=normalized)
    if not promo.is_active:
        raise PromoDisabled("promo switched off", code=normalized)
    now = clock.now()
    if now < promo.starts_at:
        raise PromoNotStarted("promo not started", code=normalized)
    if now >= promo.ends_at:
        raise PromoExpired("promo expired", code=normalized)
    if promo.max_uses is not None and promo.uses >= promo.max_uses:
        raise PromoExhausted("promo used up", code=normalized)
    return promo


@action
def apply_promo(session: Session, *, user_id: int, code: str) -> Cart:
    cart = _cart(session, user_id)
    promo = find_promo(session, code)
    cart.promo_code_id = promo.id
    session.flush()
    session.refresh(cart, ["promo_code"])
    return cart


@action
def remove_promo(session: Session, *, user_id: int) -> Cart:
    cart = _cart(session, user_id)
    cart.promo_code_id = None
    session.flush()
    return cart


@dataclass(frozen=True)
class CartLine:
    product: Product
    quantity: int
    unit_price: int

    @property
    def total(self) -> int:
        return self.unit_price * self.quantity


@dataclass(frozen=True)
class CartSummary:
    lines: list[CartLine]
    subtotal: int
    discount: int
    promo_code: str | None
    # A shop code's shop: its discount is on that shop's lines only (None: the whole cart).
    promo_shop_id: int | None = None
    # Lines whose product is no longer on sale (paused, rejected, deleted): not counted.
    unavailable: list[Product] = field(default_factory=list)

    @property
    def total(self) -> int:
        return self.subtotal - self.discount

    @property
    def shop_ids(self) -> list[int]:
        return sorted({line.product.shop_id for line in self.lines})


def promo_discount(promo: PromoCode | None, subtotal: int) -> int:
    if promo is None or subtotal < promo.min_total:
        return 0
    if promo.percent_off is not None:
        return min(subtotal, percent_of(subtotal, promo.percent_off))
    return min(subtotal, promo.amount_off or 0)


def cart_summary(
    session: Session, *, user_id: int, product_ids: Collection[int] | None = None
) -> CartSummary:
    """The cart's lines, totals and promo; with `product_ids`, only those lines (a "buy this
    one" checkout), the promo counted on them alone."""
    cart = _cart(session, user_id)
    lines: list[CartLine] = []
    unavailable: list[Product] = []
    for item in cart.items:
        if product_ids is not None and item.product_id not in product_ids:
            continue
        product = session.get(Product, item.product_id)
        assert product is not None
        if not is_visible(session, product.id):
            unavailable.append(product)
            continue
        lines.append(CartLine(product, item.quantity, effective_price(product)))
    subtotal = sum(line.total for line in lines)
    promo = None
    if cart.promo_code_id is not None:
        try:
            promo = find_promo(session, cart.promo_code.code if cart.promo_code else "")
        except (PromoExpired, PromoExhausted, PromoNotStarted, PromoUnknown, PromoDisabled):
            promo = None
    return CartSummary(
        lines=lines,
        subtotal=subtotal,
        discount=promo_discount(promo, discountable(promo, lines)),
        promo_code=promo.code if promo else None,
        promo_shop_id=promo.shop_id if promo else None,
        unavailable=unavailable,
    )


def discountable(promo: PromoCode | None, lines: list[CartLine]) -> int:
    """What a code discounts: the whole cart for a platform code, a shop code's own lines."""
    if promo is not None and promo.shop_id is not None:
        return sum(line.total for line in lines if line.product.shop_id == promo.shop_id)
    return sum(line.total for line in lines)


def _new_code(
    session: Session,
    *,
    code: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    percent_off: int | None,
    amount_off: int | None,
    max_uses: int | None,
    min_total: int,
    shop_id: int | None,
    created_by_id: int,
) -> PromoCode:
    normalized = (code or "").strip().upper()
    if not normalized or len(normalized) > 30 or not normalized.isalnum():
        raise InvalidInput("promo code: letters and digits, 30 at most", field="code")
    if (percent_off is None) == (amount_off is None):
        raise InvalidInput("give a percent or an amount", field="percent_off")
    if percent_off is not None and not 0 < percent_off <= 100:
        raise InvalidInput("percent between 1 and 100", field="percent_off")
    if amount_off is not None and amount_off <= 0:
        raise InvalidInput("amount must be positive", field="amount_off")
    if ends_at <= starts_at:
        raise InvalidInput("the code must end after it starts", field="ends_at")
    if max_uses is not None and max_uses <= 0:
        raise InvalidInput("max uses must be positive", field="max_uses")
    if min_total < 0:
        raise InvalidInput("minimum must be 0 or more", field="min_total")
    if session.scalar(select(PromoCode).where(PromoCode.code == normalized)) is not None:
        raise AlreadyExists("code exists", code=normalized)
    promo = PromoCode(
        code=normalized,
        percent_off=percent_off,
        amount_off=amount_off,
        starts_at=starts_at,
        ends_at=ends_at,
        max_uses=max_uses,
        min_total=min_total,
        shop_id=shop_id,
        created_by_id=created_by_id,
    )
    session.add(promo)
    session.flush()
    return promo


@action
def create_promo_code(
    session: Session,
    *,
    admin_id: int,
    code: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    percent_off: int | None = None,
    amount_off: int | None = None,
    max_uses: int | None = None,
    min_total: int = 0,
) -> PromoCode:
    """A platform code (an admin's): it discounts the whole cart."""
    require_actor(session, admin_id, Role.ADMIN)
    return _new_code(
        session,
        code=code,
        starts_at=starts_at,
        ends_at=ends_at,
        percent_off=percent_off,
        amount_off=amount_off,
        max_uses=max_uses,
        min_total=min_total,
        shop_id=None,
        created_by_id=admin_id,
    )


def _own_shop(session: Session, seller_id: int) -> Shop:
    require_actor(session, seller_id, Role.SELLER)
    shop = session.scalar(select(Shop).where(Shop.owner_id == seller_id))
    if shop is None:
        raise NotFound("no shop", entity="shop")
    return shop


@action
def create_shop_promo_code(
    session: Session,
    *,
    seller_id: int,
    code: str,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
    percent_off: int | None = None,
    amount_off: int | None = None,
    max_uses: int | None = None,
    min_total: int = 0,
) -> PromoCode:
    """A seller's code: it discounts her own shop's items only, in any buyer's cart."""
    shop = _own_shop(session, seller_id)
    if ends_at <= clock.now():
        raise InvalidInput("the code must end in the future", field="ends_at")
    return _new_code(
        session,
        code=code,
        starts_at=starts_at,
        ends_at=ends_at,
        percent_off=percent_off,
        amount_off=amount_off,
        max_uses=max_uses,
        min_total=min_total,
        shop_id=shop.id,
        created_by_id=seller_id,
    )


def shop_promo_codes(session: Session, *, seller_id: int, limit: int = 10) -> list[PromoCode]:
    """A seller's codes, newest first (active and switched off)."""
    shop = _own_shop(session, seller_id)
    return list(
        session.scalars(
            select(PromoCode)
            .where(PromoCode.shop_id == shop.id)
            .order_by(PromoCode.id.desc())
            .limit(limit)
        )
    )


def platform_promo_codes(session: Session, *, admin_id: int, limit: int = 10) -> list[PromoCode]:
    require_actor(session, admin_id, Role.ADMIN)
    return list(
        session.scalars(
            select(PromoCode)
            .where(PromoCode.shop_id.is_(None))
            .order_by(PromoCode.id.desc())
            .limit(limit)
        )
    )


@action
def disable_promo_code(session: Session, *, user_id: int, promo_id: int) -> PromoCode:
    """Switch a code off: its seller for a shop code, an admin for any. Carts holding it see
    it refused (PromoDisabled) at checkout; orders already placed keep their discount."""
    actor = require_actor(session, user_id)
    promo = session.get(PromoCode, promo_id)
    if promo is None:
        raise NotFound("unknown promo code", entity="promo_code", id=promo_id)
    if not actor.has_role(Role.ADMIN):
        shop = _own_shop(session, user_id)
        if promo.shop_id != shop.id:
            raise PermissionDenied("not your code", promo_id=promo_id)
    if not promo.is_active:
        raise AlreadyExists("already switched off", promo_id=promo_id)
    promo.is_active = False
    session.flush()
    return promo
