"""Catalog use cases: shops and products as sellers manage them, prices as buyers pay them."""

from __future__ import annotations

import datetime as dt
import functools
from collections.abc import Iterable
from typing import Any, cast

from sqlalchemy import ColumnElement, Select, Table, and_, bindparam, func, inspect, select
from sqlalchemy.orm import Session

from commerce import clock
from commerce.catalog import favourites
from commerce.catalog.models import (
    Category,
    ModerationStatus,
    Product,
    ProductPhoto,
    Promotion,
    Shop,
    ShopStatus,
)
from commerce.db import action
from commerce.errors import (
    AlreadyExists,
    InvalidInput,
    InvalidQuantity,
    NotFound,
    PermissionDenied,
)
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify_many
from commerce.money import percent_of
from commerce.text import fold
from commerce.users.actions import _grant, admins, require_actor, validate_place
from commerce.users.models import Role, User

MAX_PRICE = 1_000_000_000  # 1 billion GNF: anything above is a typo
MAX_STOCK = 100_000
MAX_PHOTOS = 5  # photos per product: the card pages through them one by one
EDITABLE_FIELDS = {"name", "description", "brand", "colour", "price", "category_id"}


def visible_condition() -> ColumnElement[bool]:
    """What buyers may see: approved, not paused or deleted, from an approved, active seller."""
    return and_(
        Product.status == ModerationStatus.APPROVED,
        Product.is_paused.is_(False),
        Product.is_deleted.is_(False),
        Shop.status == ShopStatus.APPROVED,
        User.is_active.is_(True),
    )


@functools.cache
def visible_products_query() -> Select[Product]:
    """Products buyers may see, with their shop and seller joined; built once.

    Why cached: every search starts from it, and building the joins and the five conditions
    is a visible part of a turn's CPU (bench/turn_cpu.py). A Select is immutable — each
    `.where()` returns a new one — so sharing it is safe.
    """
    return (
        select(Product)
        .join(Shop, Product.shop_id == Shop.id)
        .join(User, Shop.owner_id == User.id)
        .where(visible_condition())
    )


def is_visible(session: Session, product_id: int) -> bool:
    return (
        session.scalar(visible_products_query().where(Product.id == product_id).limit(1))
        is not None
    )


def build_search_text(product: Product, category: Category | None) -> str:
    parts = [product.name, product.brand, product.colour]
    if category is not None:
        parts += [category.name_fr, category.name_en]
    return fold(" ".join(p for p in parts if p))


def active_promotion(product: Product, at: dt.datetime | None = None) -> Promotion | None:
    at = at or clock.now()
    live = [p for p in product.promotions if p.starts_at <= at < p.ends_at]
    return max(live, key=lambda p: p.percent, default=None)


def effective_price(product: Product, at: dt.datetime | None = None) -> int:
    promo = active_promotion(product, at)
    if promo is None:
        return product.price
    return product.price - percent_of(product.price, promo.percent)


# Built once (a list's prices are read on every search turn): the best live percent per product.
_BEST_LIVE_PERCENT = (
    select(Promotion.product_id, func.max(Promotion.percent))
    .where(
        Promotion.product_id.in_(bindparam("b_ids", expanding=True)),
        Promotion.starts_at <= bindparam("b_at"),
        Promotion.ends_at > bindparam("b_at"),
    )
    .group_by(Promotion.product_id)
)


def effective_prices(
    session: Session, products: Iterable[Product], at: dt.datetime | None = None
) -> dict[int, int]:
    """`effective_price` of each product by id, with one query for the whole list.

    Why: a product list priced one by one lazy-loads each product's promotions — one SELECT
    per row shown, the largest cost of a search turn (bench/turn_cpu.py). Here the best live
    percent of every product is read at once (the same rule as `active_promotion`: the
    highest percent among promotions with starts_at <= at < ends_at). A product whose
    promotions are already loaded (perhaps with unflushed changes) is priced from them.
    """
    at = at or clock.now()
    products = list(products)
    prices: dict[int, int] = {}
    unloaded: list[Product] = []
    for product in products:
        if "promotions" in inspect(product).unloaded:
            unloaded.append(product)
        else:
            prices[product.id] = effective_price(product, at)
    if unloaded:
        params = {"b_ids": [p.id for p in unloaded], "b_at": at}
        best = dict(session.execute(_BEST_LIVE_PERCENT, params).all())
        for product in unloaded:
            percent = best.get(product.id)
            price = product.price
            prices[product.id] = price if percent is None else price - percent_of(price, percent)
    return prices


def _seller_shop(session: Session, seller_id: int) -> Shop:
    require_actor(session, seller_id, Role.SELLER)
    shop = session.scalar(select(Shop).where(Shop.owner_id == seller_id))
    if shop is None:
        raise NotFound("no shop", entity="shop")
    return shop


def _owned_product(session: Session, seller_id: int, product_id: int) -> Product:
    shop = _seller_shop(session, seller_id)
    product = session.get(Product, product_id)
    if product is None or product.is_deleted:
        raise NotFound("unknown product", entity="product", id=product_id)
    if product.shop_id != shop.id:
        raise PermissionDenied("not your product", product_id=product_id)
    return product


def _check_price(price: Any) -> int:
    if not isinstance(price, int) or isinstance(price, bool) or not 0 < price <= MAX_PRICE:
        raise InvalidInput("price must be a whole number of GNF", field="price")
    return price


def _check_stock(stock: Any) -> int:
    if not isinstance(stock, int) or isinstance(stock, bool) or not 0 <= stock <= MAX_STOCK:
        raise InvalidQuantity("stock must be a whole number", field="stock")
    return stock


def _check_photo_path(path: Any) -> str:
    """A stored photo's path (relative to the media directory) or "telegram:<file_id>"."""
    if not isinstance(path, str) or not path.strip() or len(path) > 255 or ".." in path:
        raise InvalidInput("bad photo", field="photos")
    return path.strip()


def _text(value: Any, field: str, max_len: int, *, required: bool = False) -> str:
    text = (value or "").strip() if isinstance(value, str | type(None)) else None
    if text is None or (required and not text) or len(text) > max_len:
        raise InvalidInput(f"{field} is required and at most {max_len} characters", field=field)
    return text


@action
def create_shop(
    session: Session,
    *,
    owner_id: int,
    name: str,
    prefecture: str,
    quartier: str = "",
    landmark: str = "",
    region: str = "",
    lat: float | None = None,
    lng: float | None = None,
) -> Shop:
    """A new shop waits for an admin; the admins are told."""
    owner = require_actor(session, owner_id)
    if session.scalar(select(Shop).where(Shop.owner_id == owner_id)) is not None:
        raise AlreadyExists("you already have a shop", entity="shop")
    region_name, pref_name, quartier_name = validate_place(region, prefecture, quartier)
    _grant(owner, Role.SELLER)
    shop = Shop(
        owner_id=owner.id,
        name=_text(name, "name", 80, required=True),
        region=region_name,
        prefecture=pref_name,
        quartier=quartier_name,
        landmark=_text(landmark, "landmark", 300),
        lat=lat,
        lng=lng,
    )
    session.add(shop)
    session.flush()
    notify_many(
        session, users=admins(session), kind=Notice.SHOP_PENDING, params={"shop_id": shop.id}
    )
    return shop


def category_by_slug(session: Session, slug: str) -> Category:
    cat = session.scalar(select(Category).where(Category.slug == slug))
    if cat is None:
        raise NotFound("unknown category", entity="category", slug=slug)
    return cat


@action
def create_product(
    session: Session,
    *,
    seller_id: int,
    category_id: int,
    name: str,
    price: int,
    stock: int,
    description: str = "",
    brand: str = "",
    colour: str = "",
    photo_paths: list[str] | None = None,
    low_stock_threshold: int = 3,
) -> Product:
    """A new product is pending until an admin approves it."""
    shop = _seller_shop(session, seller_id)
    photo_paths = [_check_photo_path(p) for p in photo_paths or []]
    if len(photo_paths) > MAX_PHOTOS:
        raise InvalidInput("too many photos", field="photos", max=MAX_PHOTOS)
    category = session.get(Category, category_id)
    if category is None:
        raise NotFound("unknown category", entity="category", id=category_id)
    product = Product(
        shop_id=shop.id,
        category_id=category.id,
        name=_text(name, "name", 120, required=True),
        description=_text(description, "description", 2000),
        brand=_text(brand, "brand", 60),
        colour=_text(colour, "colour", 40),
        price=_check_price(price),
        stock=_check_stock(stock),
        low_stock_threshold=_check_stock(low_stock_threshold),
        status=ModerationStatus.PENDING,
    )
    product.photos = [ProductPhoto(path=p, position=i) for i, p in enumerate(photo_paths)]
    product.search_text = build_search_text(product, category)
    session.add(product)
    session.flush()
    notify_many(
        session,
        users=admins(session),
        kind=Notice.PRODUCT_PENDING,
        params={"product_id": product.id},
    )
    return product


@action
def update_product(session: Session, *, seller_id: int, product_id: int, **changes: Any) -> Product:
    """Edit fields; any edit sends the product back to moderation."""
    product = _owned_product(session, seller_id, product_id)
    unknown = set(changes) - EDITABLE_FIELDS
    if unknown or not changes:
        raise InvalidInput("unknown field", fields=sorted(unknown))
    for key, value in changes.items():
        if key == "price":
            value = _check_price(value)
        elif key == "category_id":
            if session.get(Category, value) is None:
                raise NotFound("unknown category", entity="category", id=value)
        else:
            limits = {"name": 120, "description": 2000, "brand": 60, "colour": 40}
            value = _text(value, key, limits[key], required=key == "name")
        setattr(product, key, value)
    session.flush()
    session.refresh(product, ["category"])
    product.search_text = build_search_text(product, product.category)
    _back_to_moderation(session, product)
    return product


def _back_to_moderation(session: Session, product: Product) -> None:
    """Any change a buyer would see waits for an admin again (the admins are told)."""
    product.status = ModerationStatus.PENDING
    product.rejection_reason = ""
    notify_many(
        session,
        users=admins(session),
        kind=Notice.PRODUCT_PENDING,
        params={"product_id": product.id},
    )


@action
def add_photo(session: Session, *, seller_id: int, product_id: int, path: str) -> ProductPhoto:
    """One more photo, last in order, up to MAX_PHOTOS; the product goes back to moderation."""
    product = _owned_product(session, seller_id, product_id)
    path = _check_photo_path(path)
    # The product row locked first: two photos sent at once cannot both be the fifth.
    session.execute(select(Product.id).where(Product.id == product.id).with_for_update())
    session.refresh(product, ["photos"])
    if len(product.photos) >= MAX_PHOTOS:
        raise InvalidInput("too many photos", field="photos", max=MAX_PHOTOS)
    position = max((p.position for p in product.photos), default=-1) + 1
    photo = ProductPhoto(product_id=product.id, path=path, position=position)
    session.add(photo)
    session.flush()
    session.expire(product, ["photos"])
    _back_to_moderation(session, product)
    return photo


@action
def remove_photo(session: Session, *, seller_id: int, product_id: int, photo_id: int) -> Product:
    """Take one photo off her product (at least one stays); back to moderation."""
    product = _owned_product(session, seller_id, product_id)
    photo = session.get(ProductPhoto, photo_id)
    if photo is None or photo.product_id != product.id:
        raise NotFound("unknown photo", entity="photo", id=photo_id)
    if len(product.photos) <= 1:
        raise InvalidInput("a product keeps one photo", field="photos")
    session.delete(photo)
    session.flush()
    session.expire(product, ["photos"])
    _back_to_moderation(session, product)
    return product


@action
def set_paused(session: Session, *, seller_id: int, product_id: int, paused: bool) -> Product:
    product = _owned_product(session, seller_id, product_id)
    was_paused = product.is_paused
    product.is_paused = paused
    if was_paused and not paused:
        session.flush()
        favourites.tell_favourites(session, product)  # visible again: news kept meanwhile
    return product


@action
def restock(session: Session, *, seller_id: int, product_id: int, add: int) -> Product:
    product = _owned_product(session, seller_id, product_id)
    if not isinstance(add, int) or isinstance(add, bool) or add <= 0 or add > MAX_STOCK:
        raise InvalidQuantity("restock by a positive whole number", field="add")
    # Relative update: concurrent checkouts taking stock are not overwritten.
    session.execute(
        cast(Table, Product.__table__)
        .update()
        .where(Product.id == product.id)
        .values(stock=Product.stock + add)
    )
    session.refresh(product, ["stock"])
    # Read after the update (the row is ours until commit): the stock just before was this.
    favourites.tell_favourites(session, product, was_out=product.stock - add <= 0)
    return product


@action
def delete_product(session: Session, *, seller_id: int, product_id: int) -> Product:
    """Soft delete: past orders and reviews still point at the product."""
    product = _owned_product(session, seller_id, product_id)
    product.is_deleted = True
    return product


@action
def add_promotion(
    session: Session,
    *,
    seller_id: int,
    product_id: int,
    percent: int,
    starts_at: dt.datetime,
    ends_at: dt.datetime,
) -> Promotion:
    product = _owned_product(session, seller_id, product_id)
    if not isinstance(percent, int) or not 0 < percent < 100:
        raise InvalidInput("discount between 1 and 99 percent", field="percent")
    if ends_at <= starts_at or ends_at <= clock.now():
        raise InvalidInput("the promotion must end after it starts, in the future", field="ends_at")
    promo = Promotion(product_id=product.id, percent=percent, starts_at=starts_at, ends_at=ends_at)
    session.add(promo)
    session.flush()
    session.expire(product, ["promotions"])
    if starts_at <= clock.now():
        favourites.tell_favourites(session, product)  # a lower price, from now
    return promo


def get_visible_product(session: Session, product_id: int) -> Product:
    product = session.scalar(visible_products_query().where(Product.id == product_id))
    if product is None:
        raise NotFound("unknown product", entity="product", id=product_id)
    return product
