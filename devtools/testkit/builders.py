"""World builders for tests and benchmarks: admins, shops, products, buyers, couriers.

Each builder is one transaction through the real commerce actions (never raw inserts), so a
test's world obeys the same rules production data does. Ids and phone numbers come from `uid()`,
unique within the process, so tests never collide.
"""

from __future__ import annotations

import datetime as dt
import itertools

from sqlalchemy import select

from commerce import clock
from commerce.catalog import actions as catalog
from commerce.catalog.models import Category, Product, Shop
from commerce.delivery import actions as delivery
from commerce.delivery.models import Courier
from commerce.moderation import actions as moderation
from commerce.users import actions as users
from commerce.users.models import Channel, ChannelIdentity, Role, User, UserRole
from devtools.testkit.db import Db

_ids = itertools.count(1)


def uid() -> int:
    """A small number unique within the test run: phones and names never collide."""
    return next(_ids)


def phone() -> str:
    """A valid Guinean mobile number (+224 62x xx xx xx), unique per call."""
    return f"+22462{uid():07d}"


def make_admin(db: Db, telegram_id: int | None = None) -> int:
    with db.uow() as s:
        user = users.get_or_create_by_telegram(
            s, telegram_id=telegram_id or 900_000 + uid(), name="Admin", role=Role.ADMIN
        )
        return user.id


def ensure_admin(db: Db) -> int:
    with db.session() as s:
        admin = s.scalar(select(User).join(UserRole).where(UserRole.role == Role.ADMIN).limit(1))
        if admin is not None:
            return admin.id
    return make_admin(db)


def make_category(db: Db, slug: str | None = None) -> int:
    slug = slug or f"cat{uid()}"
    with db.uow() as s:
        existing = s.scalar(select(Category).where(Category.slug == slug))
        if existing is not None:
            return existing.id
        cat = Category(slug=slug, name_fr=slug.capitalize(), name_en=slug.capitalize())
        s.add(cat)
        s.flush()
        return cat.id


def make_seller(
    db: Db, *, prefecture: str = "Kaloum", quartier: str = "Boulbinet", approve: bool = True
) -> tuple[int, int]:
    """(seller user id, shop id) for an approved shop."""
    admin_id = ensure_admin(db)
    with db.uow() as s:
        seller = users.get_or_create_by_telegram(
            s, telegram_id=500_000 + uid(), name="Vendeur", role=Role.SELLER
        )
        users.link_phone(s, user_id=seller.id, phone=phone())
        shop = catalog.create_shop(
            s,
            owner_id=seller.id,
            name=f"Boutique {uid()}",
            prefecture=prefecture,
            quartier=quartier,
            landmark="en face de la pharmacie",
        )
        if approve:
            moderation.decide_shop(s, admin_id=admin_id, shop_id=shop.id, approve=True)
        return seller.id, shop.id


def make_product(
    db: Db,
    *,
    seller_id: int,
    name: str = "Téléphone Samsung Galaxy A15",
    price: int = 1_500_000,
    stock: int = 10,
    category_id: int | None = None,
    brand: str = "Samsung",
    colour: str = "noir",
    approve: bool = True,
) -> int:
    category_id = category_id or make_category(db, "telephones")
    admin_id = ensure_admin(db)
    with db.uow() as s:
        product = catalog.create_product(
            s,
            seller_id=seller_id,
            category_id=category_id,
            name=name,
            price=price,
            stock=stock,
            brand=brand,
            colour=colour,
        )
        if approve:
            moderation.decide_product(s, admin_id=admin_id, product_id=product.id, approve=True)
        return product.id


def make_buyer(
    db: Db,
    *,
    prefecture: str = "Ratoma",
    quartier: str = "Kipé",
    landmark: str = "derrière la grande mosquée",
    lat: float | None = None,
    lng: float | None = None,
) -> tuple[int, int]:
    """(buyer id, saved address id); `lat`/`lng`, the GPS pin she dropped there."""
    with db.uow() as s:
        buyer = users.get_or_create_by_phone(s, phone=phone(), name="Mariama")
        address = users.add_address(
            s,
            user_id=buyer.id,
            region="Conakry",
            prefecture=prefecture,
            quartier=quartier,
            landmark=landmark,
            lat=lat,
            lng=lng,
        )
        return buyer.id, address.id


def make_whatsapp_buyer(db: Db, *, in_window: bool = True) -> tuple[int, str]:
    """(buyer id, phone) of a WhatsApp buyer who last wrote an hour ago (inside the 24 h window)
    or 30 hours ago (outside it)."""
    number = phone()
    with db.uow() as s:
        user = users.get_or_create_by_phone(s, phone=number, name="Awa")
        s.add(
            ChannelIdentity(
                user_id=user.id,
                channel=Channel.WHATSAPP,
                address=number,
                last_inbound_at=clock.now() - dt.timedelta(hours=1 if in_window else 30),
            )
        )
        return user.id, number


def make_courier(
    db: Db, *, prefecture: str = "Dixinn", quartier: str = "", available: bool = True
) -> int:
    admin_id = ensure_admin(db)
    with db.uow() as s:
        user = users.get_or_create_by_phone(s, phone=phone(), name="Ibrahima", role=Role.COURIER)
        courier = delivery.register_courier(
            s, user_id=user.id, prefecture=prefecture, vehicle="moto", quartier=quartier
        )
        delivery.decide_courier(s, admin_id=admin_id, courier_id=courier.id, approve=True)
        if available:
            delivery.set_available(s, user_id=user.id, available=True)
        return user.id


def stock_of(db: Db, product_id: int) -> int:
    with db.session() as s:
        return s.scalar(select(Product.stock).where(Product.id == product_id)) or 0


def shop_owner(db: Db, shop_id: int) -> int:
    with db.session() as s:
        shop = s.get(Shop, shop_id)
        assert shop is not None
        return shop.owner_id


def courier_row(db: Db, user_id: int) -> Courier:
    with db.session() as s:
        c = s.scalar(select(Courier).where(Courier.user_id == user_id))
        assert c is not None
        return c


def later(**kwargs: float) -> dt.datetime:
    return clock.now() + dt.timedelta(**kwargs)
