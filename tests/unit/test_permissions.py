"""Role and ownership checks in every action, deactivated accounts, and the promise that a
refused action carries a code and leaves the database exactly as it found it."""

from __future__ import annotations

import datetime as dt

import pytest

from commerce import clock
from commerce.cart import actions as cart
from commerce.catalog import actions as catalog
from commerce.db import action
from commerce.delivery import actions as delivery
from commerce.errors import (
    AccountInactive,
    AddressInvalid,
    AlreadyExists,
    CommerceError,
    ErrorCode,
    IllegalTransition,
    InvalidPhone,
    InvalidQuantity,
    JobTaken,
    NotFound,
    OutOfStock,
    PermissionDenied,
    ReasonRequired,
    ReviewNotAllowed,
)
from commerce.moderation import actions as moderation
from commerce.orders import actions as orders
from commerce.orders.models import OrderStatus
from commerce.returns import actions as returns
from commerce.reviews import actions as reviews
from commerce.users import actions as users
from commerce.users.models import Role, User
from tests.support import (
    courier_row,
    ensure_admin,
    make_buyer,
    make_category,
    make_courier,
    make_product,
    make_seller,
    stock_of,
)
from tests.unit import flows

# --- error codes --------------------------------------------------------------------------


def all_errors() -> list[type[CommerceError]]:
    found, todo = [], [CommerceError]
    while todo:
        cls = todo.pop()
        found.append(cls)
        todo.extend(cls.__subclasses__())
    return [c for c in found if c is not CommerceError]


def test_every_error_has_its_own_code():
    codes = [cls.code for cls in all_errors()]
    assert len(codes) == len(set(codes))
    assert set(codes) == set(ErrorCode)


def test_errors_carry_their_code_and_params():
    err = NotFound("unknown order", entity="order", id=7)
    assert err.code == ErrorCode.NOT_FOUND == "not_found"
    assert err.params == {"entity": "order", "id": 7}
    assert "not_found" in repr(err)
    assert str(InvalidPhone()) == "invalid_phone"


def test_only_wrong_pins_keep_their_changes():
    # CourierPinPaused is also what the wrong PIN that starts a pause raises: it must count.
    kept = {c.__name__ for c in all_errors() if c.keeps_changes}
    assert kept == {"WrongPin", "CodeLocked", "CourierPinPaused"}


# --- ownership ----------------------------------------------------------------------------


def test_a_seller_cannot_accept_or_refuse_another_shops_order(db):
    p = flows.place(db)
    intruder, _shop = make_seller(db)
    before = flows.snapshot(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        orders.accept_order(s, seller_id=intruder, order_id=p.order_id)
    with pytest.raises(PermissionDenied), db.uow() as s:
        orders.refuse_order(s, seller_id=intruder, order_id=p.order_id, reason="non")
    with pytest.raises(PermissionDenied), db.uow() as s:
        delivery.assign_courier(s, seller_id=intruder, order_id=p.order_id)
    assert flows.snapshot(db) == before
    with db.session() as s:
        assert orders.orders_of_seller(s, seller_id=intruder) == []
        assert [o.id for o in orders.orders_of_seller(s, seller_id=p.seller_id)] == [p.order_id]


def test_a_buyer_cannot_see_or_touch_another_buyers_order(db):
    p = flows.place(db)
    stranger, _addr = make_buyer(db)
    with db.session() as s:
        with pytest.raises(NotFound) as exc:
            orders.buyer_order(s, stranger, p.order_id)
        # The same answer as for an order that does not exist: nothing is confirmed.
        with pytest.raises(NotFound) as missing:
            orders.buyer_order(s, stranger, 999_999)
        assert exc.value.params.keys() == missing.value.params.keys()
        assert orders.orders_of_buyer(s, buyer_id=stranger) == []
        assert [o.id for o in orders.orders_of_buyer(s, buyer_id=p.buyer_id)] == [p.order_id]
    before = flows.snapshot(db)
    with pytest.raises(NotFound), db.uow() as s:
        orders.cancel_order(s, buyer_id=stranger, order_id=p.order_id)
    assert flows.snapshot(db) == before


def test_a_buyer_cannot_act_as_a_seller(db):
    p = flows.place(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        orders.accept_order(s, seller_id=p.buyer_id, order_id=p.order_id)
    with pytest.raises(PermissionDenied), db.uow() as s:
        catalog.create_product(
            s,
            seller_id=p.buyer_id,
            category_id=make_category(db),
            name="Faux",
            price=1000,
            stock=1,
        )
    assert flows.order(db, p.order_id).status == OrderStatus.PLACED


def test_an_address_belongs_to_its_owner(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    buyer_id, _own = make_buyer(db)
    _other, foreign = make_buyer(db)
    flows.add(db, buyer_id, pid)
    with pytest.raises(NotFound):
        flows.checkout(db, buyer_id, foreign)
    assert stock_of(db, pid) == 10


# --- moderation is for admins ----------------------------------------------------------------


@pytest.mark.parametrize(
    "act",
    [
        "decide_shop",
        "decide_product",
        "set_user_active",
        "decide_courier",
        "create_promo_code",
        "resolve_report",
    ],
)
def test_a_non_admin_cannot_moderate(db, act):
    seller_id, shop_id = make_seller(db, approve=False)
    pid = make_product(db, seller_id=seller_id, approve=False)
    buyer_id, _addr = make_buyer(db)
    courier_id = make_courier(db)
    with db.uow() as s:
        report_id = moderation.report(
            s, reporter_id=buyer_id, reason="x", target_user_id=seller_id
        ).id
    calls = {
        "decide_shop": lambda s, who: moderation.decide_shop(
            s, admin_id=who, shop_id=shop_id, approve=True
        ),
        "decide_product": lambda s, who: moderation.decide_product(
            s, admin_id=who, product_id=pid, approve=True
        ),
        "set_user_active": lambda s, who: users.set_user_active(
            s, admin_id=who, user_id=buyer_id, active=False
        ),
        "decide_courier": lambda s, who: delivery.decide_courier(
            s, admin_id=who, courier_id=courier_row(db, courier_id).id, approve=False, reason="x"
        ),
        "create_promo_code": lambda s, who: cart.create_promo_code(
            s,
            admin_id=who,
            code="MOI",
            percent_off=90,
            starts_at=clock.now(),
            ends_at=clock.now() + dt.timedelta(days=1),
        ),
        "resolve_report": lambda s, who: moderation.resolve_report(
            s, admin_id=who, report_id=report_id
        ),
    }
    before = flows.snapshot(db)
    for who in (seller_id, buyer_id, courier_id):
        with pytest.raises(PermissionDenied), db.uow() as s:
            calls[act](s, who)
    assert flows.snapshot(db) == before
    with db.uow() as s:
        calls[act](s, ensure_admin(db))
    assert flows.snapshot(db) != before


# --- deactivated accounts ----------------------------------------------------------------


def deactivate(db, user_id: int) -> None:
    with db.uow() as s:
        users.set_user_active(s, admin_id=ensure_admin(db), user_id=user_id, active=False)


def test_a_deactivated_buyer_cannot_shop(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    buyer_id, address_id = make_buyer(db)
    flows.add(db, buyer_id, pid)
    deactivate(db, buyer_id)
    before = flows.snapshot(db)
    with pytest.raises(AccountInactive) as exc, db.uow() as s:
        cart.add_to_cart(s, user_id=buyer_id, product_id=pid)
    assert exc.value.code == ErrorCode.ACCOUNT_INACTIVE
    with pytest.raises(AccountInactive):
        flows.checkout(db, buyer_id, address_id)
    with pytest.raises(AccountInactive), db.uow() as s:
        moderation.report(s, reporter_id=buyer_id, reason="x", target_user_id=seller_id)
    assert flows.snapshot(db) == before


def test_a_deactivated_seller_cannot_handle_orders(db):
    p = flows.place(db)
    deactivate(db, p.seller_id)
    with pytest.raises(AccountInactive), db.uow() as s:
        orders.accept_order(s, seller_id=p.seller_id, order_id=p.order_id)
    assert flows.order(db, p.order_id).status == OrderStatus.PLACED


def test_a_deactivated_admin_cannot_moderate(db):
    admin = ensure_admin(db)
    with db.uow() as s:
        other_admin = users.get_or_create_by_telegram(
            s, telegram_id=991_991, name="Admin 2", role=Role.ADMIN
        ).id
    with db.uow() as s:
        users.set_user_active(s, admin_id=other_admin, user_id=admin, active=False)
    _seller_id, shop_id = make_seller(db, approve=False)
    with pytest.raises(AccountInactive), db.uow() as s:
        moderation.decide_shop(s, admin_id=admin, shop_id=shop_id, approve=True)


def test_a_deactivated_courier_cannot_deliver(db):
    p = flows.place(db)
    courier, _job = flows.to_picked_up(db, p)
    deactivate(db, courier)
    with pytest.raises(AccountInactive):
        flows.prove_pin(db, courier, p)
    assert flows.code(db, p.order_id).failed_attempts == 0


def test_reactivation_restores_access(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id)
    buyer_id, _addr = make_buyer(db)
    deactivate(db, buyer_id)
    with db.uow() as s:
        users.set_user_active(s, admin_id=ensure_admin(db), user_id=buyer_id, active=True)
    flows.add(db, buyer_id, pid)


def test_unknown_actor_is_not_found(db):
    with pytest.raises(NotFound), db.uow() as s:
        cart.add_to_cart(s, user_id=424_242, product_id=1)


# --- identity ----------------------------------------------------------------------------


def test_one_person_whatever_the_phone_spelling(db):
    with db.uow() as s:
        a = users.get_or_create_by_phone(s, phone="622 12 34 56", name="Fanta").id
    with db.uow() as s:
        b = users.get_or_create_by_phone(s, phone="whatsapp:+224622123456").id
    with db.uow() as s:
        c = users.get_or_create_by_phone(s, phone="00224622123456").id
    assert a == b == c
    with db.session() as s:
        u = s.get(User, a)
        assert (u.phone, u.name) == ("+224622123456", "Fanta")
    with pytest.raises(InvalidPhone), db.uow() as s:
        users.get_or_create_by_phone(s, phone="bonjour")


def test_a_phone_linked_to_another_telegram_account_is_refused(db):
    with db.uow() as s:
        first = users.get_or_create_by_telegram(s, telegram_id=11, name="A")
        users.link_phone(s, user_id=first.id, phone="+224 655 00 00 01")
        second = users.get_or_create_by_telegram(s, telegram_id=22, name="B").id
    with pytest.raises(PermissionDenied), db.uow() as s:
        users.link_phone(s, user_id=second, phone="655000001")


def test_a_telegram_seller_joins_the_phone_account_they_bought_with(db):
    with db.uow() as s:
        buyer = users.get_or_create_by_phone(s, phone="+224655000002", name="Aissatou").id
    with db.uow() as s:
        tg = users.get_or_create_by_telegram(s, telegram_id=33, role=Role.SELLER).id
    with db.uow() as s:
        merged = users.link_phone(s, user_id=tg, phone="655 00 00 02")
        assert merged.id == buyer
        assert merged.telegram_id == 33
        assert merged.has_role(Role.SELLER) and merged.has_role(Role.BUYER)


# --- refused actions leave the database as they found it ------------------------------------


def test_a_refused_action_rolls_back_only_its_own_work(db):
    """Inside one turn's transaction, the work done before a refused action still commits."""
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, stock=2)
    buyer_id, _addr = make_buyer(db)
    with db.uow() as s:
        cart.add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=1)
        with pytest.raises(CommerceError):
            cart.add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=5)
        users.set_language(s, user_id=buyer_id, language="en")
    with db.session() as s:
        summary = cart.cart_summary(s, user_id=buyer_id)
        assert [(ln.product.id, ln.quantity) for ln in summary.lines] == [(pid, 1)]
        assert s.get(User, buyer_id).language.value == "en"


def test_the_action_wrapper_undoes_partial_work(db):
    """An action that changed rows and then refused leaves no trace of those rows."""
    buyer_id, _addr = make_buyer(db)

    @action
    def rename_then_refuse(session, *, user_id: int) -> None:
        session.get(User, user_id).name = "Changé"
        session.flush()
        raise NotFound("nope")

    before = flows.snapshot(db)
    with db.uow() as s:
        with pytest.raises(NotFound):
            rename_then_refuse(s, user_id=buyer_id)
        assert s.get(User, buyer_id).name == "Mariama"
    assert flows.snapshot(db) == before


@pytest.mark.parametrize(
    ("case", "error"),
    [
        ("checkout_out_of_stock", OutOfStock),
        ("accept_twice", IllegalTransition),
        ("cancel_after_pickup", IllegalTransition),
        ("refuse_without_reason", ReasonRequired),
        ("claim_taken_job", JobTaken),
        ("return_too_many", InvalidQuantity),
        ("review_before_delivery", ReviewNotAllowed),
        ("duplicate_report", AlreadyExists),
        ("restock_negative", InvalidQuantity),
        ("bad_address", AddressInvalid),
    ],
)
def test_refused_actions_leave_the_database_unchanged(db, case, error):
    p = flows.place(db, quantity=2, stock=3)
    stranger, stranger_addr = make_buyer(db)
    late_courier = make_courier(db)
    job_id = None
    if case == "checkout_out_of_stock":
        # Stock is taken in product-id order: ours first, then another shop's last unit,
        # which a rival has bought meanwhile. The whole checkout must roll back.
        scarce = make_product(db, seller_id=make_seller(db)[0], stock=1)
        flows.add(db, stranger, p.product_id, 1)
        flows.add(db, stranger, scarce, 1)
        rival, rival_addr = make_buyer(db)
        flows.add(db, rival, scarce, 1)
        flows.checkout(db, rival, rival_addr)
    elif case == "accept_twice":
        flows.accept(db, p)
    elif case == "claim_taken_job":
        flows.accept(db, p)
        job_id = flows.publish(db, p)
        flows.offer(db, job_id, late_courier)  # offered too, but too late
        flows.claim(db, make_courier(db), job_id)
    elif case == "cancel_after_pickup":
        flows.to_picked_up(db, p)
    elif case == "return_too_many":
        flows.deliver(db, p)
    elif case == "duplicate_report":
        with db.uow() as s:
            moderation.report(s, reporter_id=stranger, reason="x", target_user_id=p.seller_id)

    failing = {
        "checkout_out_of_stock": lambda s: orders.place_order(
            s,
            buyer_id=stranger,
            address_id=stranger_addr,
            delivery_mode="home",
            commission_payer="buyer",
            payment_method="cash",
        ),
        "accept_twice": lambda s: orders.accept_order(
            s, seller_id=p.seller_id, order_id=p.order_id
        ),
        "cancel_after_pickup": lambda s: orders.cancel_order(
            s, buyer_id=p.buyer_id, order_id=p.order_id
        ),
        "refuse_without_reason": lambda s: orders.refuse_order(
            s, seller_id=p.seller_id, order_id=p.order_id, reason=""
        ),
        "claim_taken_job": lambda s: delivery.claim_job(
            s, courier_user_id=late_courier, job_id=job_id
        ),
        "return_too_many": lambda s: returns.request_return(
            s, buyer_id=p.buyer_id, order_id=p.order_id, items=[(p.item_id, 3)], reason="x"
        ),
        "review_before_delivery": lambda s: reviews.add_review(
            s, buyer_id=p.buyer_id, order_item_id=p.item_id, rating=5
        ),
        "duplicate_report": lambda s: moderation.report(
            s, reporter_id=stranger, reason="encore", target_user_id=p.seller_id
        ),
        "restock_negative": lambda s: catalog.restock(
            s, seller_id=p.seller_id, product_id=p.product_id, add=-5
        ),
        "bad_address": lambda s: users.add_address(
            s, user_id=stranger, prefecture="Kaloum", lat=95.0, lng=0.0
        ),
    }
    before = flows.snapshot(db)
    with pytest.raises(error) as exc, db.uow() as s:
        failing[case](s)
    assert exc.value.code == error.code
    assert flows.snapshot(db) == before, flows.diff(before, flows.snapshot(db))
