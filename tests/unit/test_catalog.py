"""Catalog rules: only approved products of approved, active sellers are visible to buyers;
sellers manage their own products only; edits go back to moderation; promotions price."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commerce import clock
from commerce.cart import actions as cart
from commerce.catalog import actions as catalog
from commerce.catalog.models import ModerationStatus, Product
from commerce.catalog.search import search_products
from commerce.errors import (
    AlreadyExists,
    IllegalTransition,
    InvalidInput,
    InvalidQuantity,
    NotFound,
    PermissionDenied,
    ProductUnavailable,
    ReasonRequired,
)
from commerce.moderation import actions as moderation
from commerce.users import actions as users
from tests.support import (
    ensure_admin,
    make_buyer,
    make_category,
    make_product,
    make_seller,
    stock_of,
)
from tests.unit import flows


def visible_ids(db) -> set[int]:
    with db.session() as s:
        return {p.id for p in search_products(s, limit=1000).products}


def is_visible(db, product_id: int) -> bool:
    with db.session() as s:
        return catalog.is_visible(s, product_id)


# --- visibility ---------------------------------------------------------------------------


def test_approved_product_of_approved_shop_is_visible(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    assert is_visible(db, pid)
    assert pid in visible_ids(db)
    with db.session() as s:
        assert catalog.get_visible_product(s, pid).id == pid


def test_pending_product_is_invisible_until_approved(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, approve=False)
    assert not is_visible(db, pid)
    assert pid not in visible_ids(db)
    with db.uow() as s:
        moderation.decide_product(s, admin_id=ensure_admin(db), product_id=pid, approve=True)
    assert is_visible(db, pid)


def test_rejected_product_is_invisible_and_rejection_needs_a_reason(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, approve=False)
    admin = ensure_admin(db)
    with pytest.raises(ReasonRequired), db.uow() as s:
        moderation.decide_product(s, admin_id=admin, product_id=pid, approve=False, reason=" ")
    with db.uow() as s:
        p = moderation.decide_product(
            s, admin_id=admin, product_id=pid, approve=False, reason="photo floue"
        )
        assert p.status == ModerationStatus.REJECTED
        assert p.rejection_reason == "photo floue"
    assert not is_visible(db, pid)
    [told] = flows.outbox(db, user_id=seller_id, kind="product_rejected")
    assert told.payload["params"]["reason"] == "photo floue"


def test_a_product_is_moderated_once(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    with pytest.raises(IllegalTransition), db.uow() as s:
        moderation.decide_product(
            s, admin_id=ensure_admin(db), product_id=pid, approve=False, reason="trop tard"
        )
    assert is_visible(db, pid)


def test_paused_product_is_invisible_and_comes_back_when_resumed(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    with db.uow() as s:
        catalog.set_paused(s, seller_id=seller_id, product_id=pid, paused=True)
    assert not is_visible(db, pid)
    with db.uow() as s:
        catalog.set_paused(s, seller_id=seller_id, product_id=pid, paused=False)
    assert is_visible(db, pid)


def test_deleted_product_is_invisible_and_cannot_be_managed(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    with db.uow() as s:
        catalog.delete_product(s, seller_id=seller_id, product_id=pid)
    assert not is_visible(db, pid)
    with pytest.raises(NotFound), db.session() as s:
        catalog.get_visible_product(s, pid)
    with pytest.raises(NotFound), db.uow() as s:
        catalog.set_paused(s, seller_id=seller_id, product_id=pid, paused=False)


def test_products_of_a_shop_pending_approval_are_invisible(db):
    seller_id, shop_id = make_seller(db, approve=False)
    pid = make_product(db, seller_id=seller_id)  # the product itself is approved
    assert not is_visible(db, pid)
    with db.uow() as s:
        moderation.decide_shop(s, admin_id=ensure_admin(db), shop_id=shop_id, approve=True)
    assert is_visible(db, pid)


def test_products_of_a_refused_shop_are_invisible(db):
    seller_id, shop_id = make_seller(db, approve=False)
    pid = make_product(db, seller_id=seller_id)
    with db.uow() as s:
        moderation.decide_shop(
            s, admin_id=ensure_admin(db), shop_id=shop_id, approve=False, reason="faux papiers"
        )
    assert not is_visible(db, pid)
    [told] = flows.outbox(db, user_id=seller_id, kind="shop_refused")
    assert told.essential


def test_products_of_a_deactivated_seller_are_invisible(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    other = make_product(db, seller_id=make_seller(db)[0])
    with db.uow() as s:
        users.set_user_active(s, admin_id=ensure_admin(db), user_id=seller_id, active=False)
    assert not is_visible(db, pid)
    assert visible_ids(db) == {other}


def test_invisible_products_cannot_be_added_to_a_cart(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, approve=False)
    buyer_id, _addr = make_buyer(db)
    with pytest.raises(ProductUnavailable), db.uow() as s:
        cart.add_to_cart(s, user_id=buyer_id, product_id=pid)
    with pytest.raises(NotFound), db.uow() as s:
        cart.add_to_cart(s, user_id=buyer_id, product_id=999_999)


# --- seller management --------------------------------------------------------------------


def test_new_product_is_pending_and_admins_are_told(db):
    seller_id, _shop = make_seller(db)
    admin = ensure_admin(db)
    pid = make_product(db, seller_id=seller_id, approve=False)
    with db.session() as s:
        p = s.get(Product, pid)
        assert p.status == ModerationStatus.PENDING
        assert p.search_text == "telephone samsung galaxy a15 samsung noir telephones telephones"
    pending = flows.outbox(db, user_id=admin, kind="product_pending")
    assert [o.payload["params"]["product_id"] for o in pending] == [pid]


def test_editing_a_product_sends_it_back_to_moderation(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    with db.uow() as s:
        p = catalog.update_product(s, seller_id=seller_id, product_id=pid, name="Téléphone Tecno")
        assert p.status == ModerationStatus.PENDING
        assert "tecno" in p.search_text
    assert not is_visible(db, pid)


@pytest.mark.parametrize(
    "changes",
    [{}, {"stock": 3}, {"status": "approved"}, {"price": 0}, {"price": 1.5}, {"name": ""}],
)
def test_bad_edits_are_refused_and_leave_the_product_approved(db, changes):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    before = flows.snapshot(db)
    with pytest.raises((InvalidInput, InvalidQuantity)), db.uow() as s:
        catalog.update_product(s, seller_id=seller_id, product_id=pid, **changes)
    assert flows.snapshot(db) == before
    assert is_visible(db, pid)


@pytest.mark.parametrize(
    ("price", "stock", "error"),
    [
        (0, 1, InvalidInput),
        (-5, 1, InvalidInput),
        (1.5, 1, InvalidInput),
        (True, 1, InvalidInput),
        (catalog.MAX_PRICE + 1, 1, InvalidInput),
        (1000, -1, InvalidQuantity),
        (1000, catalog.MAX_STOCK + 1, InvalidQuantity),
    ],
)
def test_create_product_rejects_bad_price_or_stock(db, price, stock, error):
    seller_id, _shop = make_seller(db)
    cat = make_category(db)
    before = flows.snapshot(db)
    with pytest.raises(error), db.uow() as s:
        catalog.create_product(
            s, seller_id=seller_id, category_id=cat, name="Sac", price=price, stock=stock
        )
    assert flows.snapshot(db) == before


def test_a_seller_cannot_touch_another_shops_product(db):
    owner, _shop = make_seller(db)
    intruder, _other = make_seller(db)
    pid = make_product(db, seller_id=owner)
    for act in (
        lambda s: catalog.set_paused(s, seller_id=intruder, product_id=pid, paused=True),
        lambda s: catalog.restock(s, seller_id=intruder, product_id=pid, add=5),
        lambda s: catalog.delete_product(s, seller_id=intruder, product_id=pid),
        lambda s: catalog.update_product(s, seller_id=intruder, product_id=pid, price=1),
    ):
        with pytest.raises(PermissionDenied), db.uow() as s:
            act(s)
    assert is_visible(db, pid)
    assert stock_of(db, pid) == 10


def test_restock_adds_to_the_current_stock(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, stock=4)
    with db.uow() as s:
        assert catalog.restock(s, seller_id=seller_id, product_id=pid, add=6).stock == 10
    assert stock_of(db, pid) == 10
    for bad in (0, -3, 2.5):
        with pytest.raises(InvalidQuantity), db.uow() as s:
            catalog.restock(s, seller_id=seller_id, product_id=pid, add=bad)
    assert stock_of(db, pid) == 10


def test_one_shop_per_seller(db):
    seller_id, _shop = make_seller(db)
    with pytest.raises(AlreadyExists), db.uow() as s:
        catalog.create_shop(s, owner_id=seller_id, name="Deuxième", prefecture="Kaloum")


def test_new_shop_needs_a_known_prefecture(db):
    from commerce.errors import AddressInvalid

    with db.uow() as s:
        u = users.get_or_create_by_telegram(s, telegram_id=123_456_789, name="Awa")
        uid = u.id
    with pytest.raises(AddressInvalid), db.uow() as s:
        catalog.create_shop(s, owner_id=uid, name="Awa Shop", prefecture="Atlantis")


# --- promotions ---------------------------------------------------------------------------


def test_promotion_lowers_the_price_only_inside_its_window(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, price=200_000)
    start = clock.now() + dt.timedelta(days=1)
    with db.uow() as s:
        catalog.add_promotion(
            s,
            seller_id=seller_id,
            product_id=pid,
            percent=15,
            starts_at=start,
            ends_at=start + dt.timedelta(days=2),
        )
    with db.session() as s:
        p = s.get(Product, pid)
        assert catalog.effective_price(p) == 200_000
        assert catalog.effective_price(p, start) == 170_000
        assert catalog.effective_price(p, start + dt.timedelta(days=2)) == 200_000


@pytest.mark.parametrize("percent", [0, 100, -10])
def test_promotion_percent_must_be_between_1_and_99(db, percent):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    with pytest.raises(InvalidInput), db.uow() as s:
        catalog.add_promotion(
            s,
            seller_id=seller_id,
            product_id=pid,
            percent=percent,
            starts_at=clock.now(),
            ends_at=clock.now() + dt.timedelta(days=1),
        )


def test_promotion_must_end_in_the_future_after_it_starts(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    now = clock.now()
    for starts, ends in ((now, now), (now - dt.timedelta(days=3), now - dt.timedelta(days=1))):
        with pytest.raises(InvalidInput), db.uow() as s:
            catalog.add_promotion(
                s, seller_id=seller_id, product_id=pid, percent=10, starts_at=starts, ends_at=ends
            )


def test_cart_uses_the_promotional_price(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, price=100_000)
    with db.uow() as s:
        catalog.add_promotion(
            s,
            seller_id=seller_id,
            product_id=pid,
            percent=20,
            starts_at=clock.now() - dt.timedelta(hours=1),
            ends_at=clock.now() + dt.timedelta(days=1),
        )
    buyer_id, _addr = make_buyer(db)
    flows.add(db, buyer_id, pid, 2)
    with db.session() as s:
        summary = cart.cart_summary(s, user_id=buyer_id)
        assert summary.lines[0].unit_price == 80_000
        assert summary.subtotal == 160_000


def test_category_by_slug(db):
    cid = make_category(db, "chaussures")
    with db.session() as s:
        assert catalog.category_by_slug(s, "chaussures").id == cid
        with pytest.raises(NotFound):
            catalog.category_by_slug(s, "nope")
        assert s.scalar(select(Product.id)) is None
