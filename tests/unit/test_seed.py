"""The demo seed builds a believable Conakry marketplace through the real commerce actions."""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from pathlib import Path

import pytest
from PIL import Image
from sqlalchemy import func, select
from sqlalchemy.orm import Session

from commerce import geo
from commerce.cart.models import PromoCode
from commerce.catalog.models import Category, ModerationStatus, Product, Shop, ShopStatus
from commerce.catalog.search import search_products
from commerce.delivery.models import Courier, CourierStatus, DeliveryCode
from commerce.messaging.models import Outbox
from commerce.orders.models import Order, OrderItem, OrderStatus
from commerce.reviews.models import Review
from commerce.users.models import Role, User, UserRole
from devtools.seed.data import CATEGORIES
from devtools.seed.pictures import render_product_photo
from devtools.seed.seeder import SeedSummary, is_empty, seed_demo
from tests.support import Db

CONAKRY_COMMUNES = {"Kaloum", "Dixinn", "Matam", "Ratoma", "Matoto"}
DONE = (OrderStatus.DELIVERED, OrderStatus.COMPLETED)


@dataclass
class Seeded:
    db: Db
    media: Path
    summary: SeedSummary
    cpu_seconds: float


@pytest.fixture
def seeded(db: Db, tmp_path: Path) -> Seeded:
    assert is_empty(db.factory)
    media = tmp_path / "media"
    # CPU time, not wall time: what seeding costs (rows, photos), which other jobs on a busy
    # machine do not inflate.
    start = time.process_time()
    summary = seed_demo(db.factory, media)
    return Seeded(db, media, summary, time.process_time() - start)


def _users_with_role(s: Session, role: Role) -> list[User]:
    return list(s.scalars(select(User).join(UserRole).where(UserRole.role == role)))


def test_seeding_fills_an_empty_database_quickly(seeded: Seeded) -> None:
    assert not is_empty(seeded.db.factory)
    summary = seeded.summary
    assert summary.sellers >= 5
    assert summary.products >= 60
    assert summary.categories == 8
    assert summary.couriers == 5
    assert summary.buyers == 3
    assert summary.orders >= 10
    assert str(summary.products) in str(summary)
    assert seeded.cpu_seconds < 15, f"seeding took {seeded.cpu_seconds:.1f} s of CPU"
    with seeded.db.session() as s:
        (admin,) = _users_with_role(s, Role.ADMIN)
        assert admin.telegram_id == 100000001


def test_admins_come_from_the_configured_telegram_ids(db: Db, tmp_path: Path) -> None:
    seed_demo(db.factory, tmp_path / "media", admin_telegram_ids=(4242, 4343))
    with db.session() as s:
        admins = _users_with_role(s, Role.ADMIN)
        assert sorted(a.telegram_id for a in admins) == [4242, 4343]


def test_sellers_are_approved_telegram_users_with_phones_across_conakry(seeded: Seeded) -> None:
    g = geo.guinea()
    with seeded.db.session() as s:
        shops = list(s.scalars(select(Shop)))
        assert len([sh for sh in shops if sh.status == ShopStatus.APPROVED]) >= 5
        assert {sh.prefecture for sh in shops} == CONAKRY_COMMUNES
        for shop in shops:
            owner = s.get(User, shop.owner_id)
            assert owner is not None and owner.has_role(Role.SELLER)
            assert owner.telegram_id is not None
            assert owner.phone is not None and owner.phone.startswith("+224")
            assert len(owner.phone) == 13
            assert g.quartier(shop.quartier, prefecture=shop.prefecture) is not None
            assert shop.landmark
        names = {sh.name for sh in shops}
        assert {"Bah Électronique", "Mode Fatou", "Kaloum Chaussures"} <= names


def test_catalogue_has_eight_categories_moderated_products_and_real_photos(
    seeded: Seeded,
) -> None:
    with seeded.db.session() as s:
        categories = list(s.scalars(select(Category)))
        products = list(s.scalars(select(Product)))
        assert len(categories) == 8
        assert len(products) >= 60
        assert {p.category_id for p in products} == {c.id for c in categories}
        assert sum(p.status == ModerationStatus.PENDING for p in products) == 2
        assert all(
            p.status in (ModerationStatus.APPROVED, ModerationStatus.PENDING) for p in products
        )
        visible = search_products(s, query="", limit=1)
        assert visible.total >= 58

        assert all(isinstance(p.price, int) and 35_000 <= p.price <= 4_500_000 for p in products)
        assert all(0 <= p.stock <= 40 for p in products)
        assert any(p.stock == 0 for p in products)
        assert any(0 < p.stock <= 3 for p in products)
        assert sum(not p.name.isascii() for p in products) >= 20  # French, with accents
        assert all(p.brand or p.colour or p.description for p in products)

        for p in products:
            assert len(p.photos) == 1
            rel = p.photos[0].path
            assert not Path(rel).is_absolute() and rel.startswith("products/")
            with Image.open(seeded.media / rel) as img:
                assert img.format == "JPEG"
                assert img.size == (480, 480)


def test_typos_and_missing_accents_still_find_a_samsung_phone(seeded: Seeded) -> None:
    with seeded.db.session() as s:
        page = search_products(s, query="telefone samsng")
        assert page.products
        first = page.products[0]
        assert "Samsung" in first.name
        assert first.category.slug == "telephones"


def test_couriers_and_buyers(seeded: Seeded) -> None:
    with seeded.db.session() as s:
        couriers = list(s.scalars(select(Courier)))
        assert len(couriers) == 5
        assert all(c.status == CourierStatus.APPROVED for c in couriers)
        assert sum(c.available for c in couriers) >= 4
        assert len({c.prefecture for c in couriers}) == 5
        assert len({c.vehicle for c in couriers}) >= 3
        for c in couriers:
            user = s.get(User, c.user_id)
            assert user is not None and user.phone and user.phone.startswith("+224")

        buyers = [
            u
            for u in _users_with_role(s, Role.BUYER)
            if not u.has_role(Role.SELLER) and not u.has_role(Role.ADMIN)
        ]
        assert {b.name for b in buyers} == {"Mariama Diallo", "Ibrahima Sow", "Fatoumata Camara"}
        for buyer in buyers:
            assert 1 <= len(buyer.addresses) <= 2
            for a in buyer.addresses:
                assert a.region == "Conakry" and a.prefecture in CONAKRY_COMMUNES
                assert a.quartier and a.landmark
        assert any(a.lat is not None for b in buyers for a in b.addresses)


def test_order_history_spans_weeks_and_many_states(seeded: Seeded) -> None:
    with seeded.db.session() as s:
        orders = list(s.scalars(select(Order)))
        statuses = {o.status for o in orders}
        assert OrderStatus.DELIVERED in statuses
        assert {
            OrderStatus.PLACED,
            OrderStatus.ACCEPTED,
            OrderStatus.COURIER_ASSIGNED,
            OrderStatus.CANCELLED,
            OrderStatus.REFUSED,
        } <= statuses
        assert all(o.refusal_reason for o in orders if o.status == OrderStatus.REFUSED)

        created = [o.created_at for o in orders]
        assert max(created) - min(created) > dt.timedelta(days=7)
        assert max(created) <= dt.datetime.now(dt.UTC)

        reviewed = s.scalars(
            select(Order)
            .join(OrderItem, OrderItem.order_id == Order.id)
            .join(Review, Review.order_item_id == OrderItem.id)
            .where(Order.status == OrderStatus.DELIVERED)
        ).first()
        assert reviewed is not None
        for order in orders:
            if order.status in DONE:
                code = s.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order.id))
                assert code is not None and code.used_at is not None
                assert order.cash_confirmed_at is not None and order.delivered_at is not None

        assert s.scalar(select(func.min(Product.stock))) >= 0
        assert s.scalar(select(func.count(Outbox.id))) == 0

        promo = s.scalar(select(PromoCode).where(PromoCode.code == "BIENVENUE"))
        assert promo is not None
        assert promo.percent_off == 10 and promo.max_uses == 500 and promo.uses == 0
        now = dt.datetime.now(dt.UTC)
        assert promo.starts_at <= now
        assert promo.ends_at - now > dt.timedelta(days=89)


def test_product_photos_are_deterministic(tmp_path: Path) -> None:
    spec = CATEGORIES[0]
    a, b = tmp_path / "a.jpg", tmp_path / "b.jpg"
    render_product_photo("Téléphone Samsung Galaxy A15", spec, a)
    render_product_photo("Téléphone Samsung Galaxy A15", spec, b)
    render_product_photo("Téléphone Itel A70", spec, tmp_path / "c.jpg")
    assert a.read_bytes() == b.read_bytes()
    assert a.read_bytes() != (tmp_path / "c.jpg").read_bytes()
