"""Buyers' favourites ("♥ Favori") and the news they bring: a lower price, stock again.

Why the news is written here, by the change itself: a price drop or a restock is committed by a
seller's or an admin's action; `tell_favourites` runs inside that action's transaction, so a
notice exists if and only if the change was saved. Each favourite remembers what its buyer was
last shown (`last_price`, `last_in_stock`) and the rows are read FOR UPDATE: two changes racing
tell her once, and the same price twice is no news. Notices are non-essential (STOP silences
them) and only for products buyers may see — approved, not paused or deleted, of an approved
shop whose seller is active.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commerce.catalog import actions as catalog
from commerce.catalog.models import Favourite, Product
from commerce.db import action
from commerce.errors import AlreadyExists, InvalidInput, NotFound
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.users.actions import require_actor
from commerce.users.models import User

MAX_FAVOURITES = 50  # a list people can read on a phone; the oldest must go before a new one


@dataclass(frozen=True)
class FavouriteRow:
    product: Product
    price: int  # what she would pay now
    available: bool  # visible to buyers now


@action
def add_favourite(session: Session, *, user_id: int, product_id: int) -> Favourite:
    """Keep a product she can see; she is told later if its price drops or stock comes back."""
    require_actor(session, user_id)
    product = catalog.get_visible_product(session, product_id)
    existing = session.scalar(
        select(Favourite).where(Favourite.user_id == user_id, Favourite.product_id == product.id)
    )
    if existing is not None:
        raise AlreadyExists("already a favourite", product_id=product.id)
    count = session.scalar(select(func.count(Favourite.id)).where(Favourite.user_id == user_id))
    if (count or 0) >= MAX_FAVOURITES:
        raise InvalidInput("too many favourites", field="favourites", max=MAX_FAVOURITES)
    fav = Favourite(
        user_id=user_id,
        product_id=product.id,
        last_price=catalog.effective_price(product),
        last_in_stock=product.stock > 0,
    )
    session.add(fav)
    session.flush()
    return fav


@action
def remove_favourite(session: Session, *, user_id: int, product_id: int) -> None:
    """Her own favourite only; one she does not have is NotFound (a stale or forged tap)."""
    require_actor(session, user_id)
    fav = session.scalar(
        select(Favourite).where(Favourite.user_id == user_id, Favourite.product_id == product_id)
    )
    if fav is None:
        raise NotFound("no such favourite", entity="favourite", product_id=product_id)
    session.delete(fav)
    session.flush()


def is_favourite(session: Session, *, user_id: int, product_id: int) -> bool:
    return (
        session.scalar(
            select(Favourite.id).where(
                Favourite.user_id == user_id, Favourite.product_id == product_id
            )
        )
        is not None
    )


def favourites_of(
    session: Session, *, user_id: int, offset: int = 0, limit: int = 10
) -> tuple[list[FavouriteRow], int]:
    """One page of her favourites, newest first, deleted products left out; and the total."""
    base = (
        select(Favourite, Product)
        .join(Product, Product.id == Favourite.product_id)
        .where(Favourite.user_id == user_id, Product.is_deleted.is_(False))
    )
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    page = session.execute(
        base.order_by(Favourite.created_at.desc(), Favourite.id.desc()).offset(offset).limit(limit)
    ).all()
    rows = [
        FavouriteRow(
            product=p, price=catalog.effective_price(p), available=catalog.is_visible(session, p.id)
        )
        for _fav, p in page
    ]
    return rows, total


def stock_given_back(session: Session, *, product_id: int, quantity: int) -> int:
    """After `quantity` came back to a product's stock (a cancelled order, a returned parcel):
    the buyers waiting for it are told if it had none just before."""
    product = session.get(Product, product_id)
    if product is None or quantity <= 0:
        return 0
    session.refresh(product, ["stock"])
    return tell_favourites(session, product, was_out=product.stock - quantity <= 0)


def tell_favourites(session: Session, product: Product, *, was_out: bool = False) -> int:
    """Tell the buyers who favourited `product` what is news since they last saw it; how many.

    Call it in the transaction of any change that can make news: an approval (a new price is
    visible only then), a resumed product, a restock or stock given back (`was_out`: the stock
    was 0 before this change), a promotion live now. Back in stock when it has stock and she
    last saw none (or it was out just before); otherwise a price below the one she last saw.
    A product buyers cannot see tells nobody; it only remembers it was out of stock, so the
    news waits until it is visible again.
    """
    favs = list(
        session.scalars(
            select(Favourite)
            .where(Favourite.product_id == product.id)
            .order_by(Favourite.id)
            .with_for_update()
        )
    )
    if not favs:
        return 0
    session.refresh(product, ["stock", "price", "status", "is_paused", "is_deleted"])
    if not catalog.is_visible(session, product.id):
        if was_out:
            for fav in favs:
                fav.last_in_stock = False
        return 0
    price = catalog.effective_price(product)
    in_stock = product.stock > 0
    told = 0
    for fav in favs:
        kind: Notice | None = None
        if in_stock and (was_out or not fav.last_in_stock):
            kind = Notice.FAVOURITE_BACK_IN_STOCK
        elif in_stock and price < fav.last_price:
            kind = Notice.FAVOURITE_PRICE_DROP
        old_price = fav.last_price
        fav.last_in_stock = in_stock
        if kind is None:
            continue
        fav.last_price = price
        user = session.get(User, fav.user_id)
        if user is None or not user.is_active or user.opted_out:
            continue  # STOP: nothing written; the worker would skip it anyway
        notify(
            session,
            user_id=fav.user_id,
            kind=kind,
            params={"product_id": product.id, "price": price, "old_price": old_price},
            essential=False,
        )
        told += 1
    session.flush()
    return told
