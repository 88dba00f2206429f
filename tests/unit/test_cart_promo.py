"""Cart (per user, kept across days), promo codes (window, max uses counted once per
checkout) and loyalty points (1 per 10 000 GNF, credited once at delivery)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import select

from commerce import clock, rules
from commerce.cart import actions as cart
from commerce.cart.models import PromoCode
from commerce.catalog import actions as catalog
from commerce.errors import (
    AlreadyExists,
    CartEmpty,
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
from commerce.loyalty import actions as loyalty
from commerce.loyalty.models import LoyaltyEntry
from commerce.orders.models import Order
from tests.support import ensure_admin, make_buyer, make_product, make_seller, stock_of
from tests.unit import flows

DAY = dt.timedelta(days=1)


def summary(db, buyer_id: int) -> cart.CartSummary:
    with db.session() as s:
        return cart.cart_summary(s, user_id=buyer_id)


def lines(db, buyer_id: int) -> dict[int, int]:
    return {ln.product.id: ln.quantity for ln in summary(db, buyer_id).lines}


def promo(db, code: str = "TABASKI", **kwargs) -> int:
    kwargs.setdefault("starts_at", clock.now() - DAY)
    kwargs.setdefault("ends_at", clock.now() + 10 * DAY)
    if "amount_off" not in kwargs:
        kwargs.setdefault("percent_off", 10)
    with db.uow() as s:
        return cart.create_promo_code(s, admin_id=ensure_admin(db), code=code, **kwargs).id


def apply(db, buyer_id: int, code: str = "TABASKI") -> None:
    with db.uow() as s:
        cart.apply_promo(s, user_id=buyer_id, code=code)


def uses(db, promo_id: int) -> int:
    with db.session() as s:
        return s.get(PromoCode, promo_id).uses


@pytest.fixture
def goods(db):
    seller_id, _shop = make_seller(db)
    a = make_product(db, seller_id=seller_id, name="Pagne wax", price=120_000, stock=5)
    b = make_product(db, seller_id=seller_id, name="Boubou brodé", price=350_000, stock=3)
    buyer_id, address_id = make_buyer(db)
    return {"seller": seller_id, "a": a, "b": b, "buyer": buyer_id, "address": address_id}


# --- cart ---------------------------------------------------------------------------------


def test_add_with_quantity_and_totals(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 2)
    flows.add(db, goods["buyer"], goods["b"], 1)
    s = summary(db, goods["buyer"])
    assert lines(db, goods["buyer"]) == {goods["a"]: 2, goods["b"]: 1}
    assert [ln.total for ln in s.lines] == [240_000, 350_000]
    assert s.subtotal == 590_000
    assert s.discount == 0
    assert s.total == 590_000


def test_adding_again_adds_to_the_line(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 2)
    flows.add(db, goods["buyer"], goods["a"], 3)
    assert lines(db, goods["buyer"]) == {goods["a"]: 5}


def test_cannot_add_more_than_the_stock(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 4)
    with pytest.raises(OutOfStock) as exc, db.uow() as s:
        cart.add_to_cart(s, user_id=goods["buyer"], product_id=goods["a"], quantity=2)
    assert exc.value.params["available"] == 5
    assert lines(db, goods["buyer"]) == {goods["a"]: 4}


@pytest.mark.parametrize("qty", [0, -1, 100, 1.5, True, "2"])
def test_bad_quantities_are_refused(db, goods, qty):
    with pytest.raises(InvalidQuantity), db.uow() as s:
        cart.add_to_cart(s, user_id=goods["buyer"], product_id=goods["a"], quantity=qty)
    assert lines(db, goods["buyer"]) == {}


def test_change_quantity_and_remove(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 1)
    flows.add(db, goods["buyer"], goods["b"], 1)
    with db.uow() as s:
        cart.set_quantity(s, user_id=goods["buyer"], product_id=goods["a"], quantity=3)
    assert lines(db, goods["buyer"]) == {goods["a"]: 3, goods["b"]: 1}
    with db.uow() as s:
        cart.remove_from_cart(s, user_id=goods["buyer"], product_id=goods["b"])
    assert lines(db, goods["buyer"]) == {goods["a"]: 3}
    with db.uow() as s:
        cart.set_quantity(s, user_id=goods["buyer"], product_id=goods["a"], quantity=0)
    assert lines(db, goods["buyer"]) == {}
    assert summary(db, goods["buyer"]).subtotal == 0


def test_change_quantity_is_bounded_by_stock_and_needs_the_line(db, goods):
    flows.add(db, goods["buyer"], goods["b"], 1)
    with pytest.raises(OutOfStock), db.uow() as s:
        cart.set_quantity(s, user_id=goods["buyer"], product_id=goods["b"], quantity=4)
    with pytest.raises(InvalidQuantity), db.uow() as s:
        cart.set_quantity(s, user_id=goods["buyer"], product_id=goods["b"], quantity=-2)
    with pytest.raises(NotFound), db.uow() as s:
        cart.set_quantity(s, user_id=goods["buyer"], product_id=goods["a"], quantity=1)
    assert lines(db, goods["buyer"]) == {goods["b"]: 1}


def test_cart_survives_across_days_and_sessions(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 2)
    clock.advance(12 * DAY)
    assert lines(db, goods["buyer"]) == {goods["a"]: 2}


def test_carts_are_per_user(db, goods):
    other, _addr = make_buyer(db)
    flows.add(db, goods["buyer"], goods["a"], 2)
    flows.add(db, other, goods["b"], 1)
    assert lines(db, goods["buyer"]) == {goods["a"]: 2}
    assert lines(db, other) == {goods["b"]: 1}
    # The other buyer cannot change a line of someone else's cart: it is not in theirs.
    with pytest.raises(NotFound), db.uow() as s:
        cart.set_quantity(s, user_id=other, product_id=goods["a"], quantity=5)
    assert lines(db, goods["buyer"]) == {goods["a"]: 2}


def test_lines_no_longer_on_sale_are_set_aside_and_block_checkout(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 1)
    flows.add(db, goods["buyer"], goods["b"], 1)
    with db.uow() as s:
        catalog.set_paused(s, seller_id=goods["seller"], product_id=goods["b"], paused=True)
    s = summary(db, goods["buyer"])
    assert [p.id for p in s.unavailable] == [goods["b"]]
    assert s.subtotal == 120_000
    with pytest.raises(ProductUnavailable) as exc:
        flows.checkout(db, goods["buyer"], goods["address"])
    assert exc.value.params["product_ids"] == [goods["b"]]
    assert stock_of(db, goods["a"]) == 5


def test_empty_cart_cannot_check_out(db, goods):
    with pytest.raises(CartEmpty):
        flows.checkout(db, goods["buyer"], goods["address"])


def test_checkout_empties_the_cart(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 1)
    flows.checkout(db, goods["buyer"], goods["address"])
    assert lines(db, goods["buyer"]) == {}


def test_clear_cart(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 1)
    promo(db)
    apply(db, goods["buyer"])
    with db.uow() as s:
        cart.clear_cart(s, user_id=goods["buyer"])
    s = summary(db, goods["buyer"])
    assert s.lines == [] and s.promo_code is None


# --- promo codes --------------------------------------------------------------------------


def test_percent_promo_discounts_the_subtotal(db, goods):
    promo(db, "tabaski", percent_off=10)
    flows.add(db, goods["buyer"], goods["a"], 2)
    apply(db, goods["buyer"], " tabaski ")
    s = summary(db, goods["buyer"])
    assert s.promo_code == "TABASKI"
    assert s.discount == 24_000
    assert s.total == 216_000


def test_amount_promo_never_exceeds_the_subtotal(db, goods):
    promo(db, "GROS", amount_off=500_000)
    flows.add(db, goods["buyer"], goods["a"], 1)
    apply(db, goods["buyer"], "GROS")
    s = summary(db, goods["buyer"])
    assert s.discount == 120_000
    assert s.total == 0


def test_promo_minimum_total(db, goods):
    promo(db, "MIN", amount_off=10_000, min_total=200_000)
    flows.add(db, goods["buyer"], goods["a"], 1)
    apply(db, goods["buyer"], "MIN")
    assert summary(db, goods["buyer"]).discount == 0
    flows.add(db, goods["buyer"], goods["a"], 1)
    assert summary(db, goods["buyer"]).discount == 10_000


def test_unknown_promo(db, goods):
    for code in ("NOPE", "", "X" * 31):
        with pytest.raises(PromoUnknown), db.uow() as s:
            cart.apply_promo(s, user_id=goods["buyer"], code=code)


def test_promo_not_started(db, goods):
    promo(db, "DEMAIN", starts_at=clock.now() + DAY, ends_at=clock.now() + 3 * DAY)
    with pytest.raises(PromoNotStarted):
        apply(db, goods["buyer"], "DEMAIN")
    clock.advance(DAY + dt.timedelta(minutes=1))
    apply(db, goods["buyer"], "DEMAIN")


def test_promo_expired(db, goods):
    promo(db, "BREF", ends_at=clock.now() + DAY)
    flows.add(db, goods["buyer"], goods["a"], 1)
    apply(db, goods["buyer"], "BREF")
    assert summary(db, goods["buyer"]).discount == 12_000
    clock.advance(DAY)
    with pytest.raises(PromoExpired):
        apply(db, goods["buyer"], "BREF")
    # Applied before it ended: the cart no longer counts it.
    assert summary(db, goods["buyer"]).discount == 0


def test_promo_uses_counted_once_per_checkout_even_with_several_sellers(db, goods):
    pid = promo(db, "DUO", percent_off=10, max_uses=5)
    other_seller, _shop = make_seller(db)
    c = make_product(db, seller_id=other_seller, price=80_000)
    flows.add(db, goods["buyer"], goods["a"], 1)
    flows.add(db, goods["buyer"], c, 1)
    apply(db, goods["buyer"], "DUO")
    placed = flows.checkout(db, goods["buyer"], goods["address"])
    assert len(placed) == 2
    assert uses(db, pid) == 1
    assert {p.order.promo_code_id for p in placed} == {pid}


def test_promo_max_uses(db, goods):
    pid = promo(db, "UNIQUE", percent_off=10, max_uses=1)
    flows.add(db, goods["buyer"], goods["a"], 1)
    apply(db, goods["buyer"], "UNIQUE")
    flows.checkout(db, goods["buyer"], goods["address"])
    assert uses(db, pid) == 1
    late, _addr = make_buyer(db)
    with pytest.raises(PromoExhausted):
        apply(db, late, "UNIQUE")
    assert uses(db, pid) == 1


def test_promo_used_up_between_apply_and_checkout_is_refused_not_dropped(db, goods):
    """The buyer confirmed a discounted summary: charging the full price silently is wrong."""
    pid = promo(db, "UNIQUE", percent_off=10, max_uses=1)
    second, second_addr = make_buyer(db)
    for buyer in (goods["buyer"], second):
        flows.add(db, buyer, goods["a"], 1)
        apply(db, buyer, "UNIQUE")
    flows.checkout(db, goods["buyer"], goods["address"])
    with pytest.raises(PromoExhausted):
        flows.checkout(db, second, second_addr)
    assert uses(db, pid) == 1
    assert stock_of(db, goods["a"]) == 4
    with db.session() as s:
        assert s.scalars(select(Order).where(Order.buyer_id == second)).all() == []
    # Without the code, the second buyer can still buy.
    with db.uow() as s:
        cart.remove_promo(s, user_id=second)
    [placed] = flows.checkout(db, second, second_addr)
    assert placed.order.discount == 0


def test_checkout_without_a_discount_does_not_count_a_use(db, goods):
    pid = promo(db, "MIN", amount_off=10_000, min_total=1_000_000, max_uses=1)
    flows.add(db, goods["buyer"], goods["a"], 1)
    apply(db, goods["buyer"], "MIN")
    [placed] = flows.checkout(db, goods["buyer"], goods["address"])
    assert placed.order.discount == 0
    assert placed.order.promo_code_id is None
    assert uses(db, pid) == 0


@pytest.mark.parametrize(
    "kwargs",
    [
        {"code": "A B", "percent_off": 10},
        {"code": "", "percent_off": 10},
        {"code": "X" * 31, "percent_off": 10},
        {"code": "BOTH", "percent_off": 10, "amount_off": 1000},
        {"code": "NONE"},
        {"code": "PCT", "percent_off": 0},
        {"code": "PCT", "percent_off": 101},
        {"code": "AMT", "amount_off": -1},
        {"code": "MAX", "percent_off": 5, "max_uses": 0},
        {"code": "WIN", "percent_off": 5, "ends_at": "start"},
    ],
)
def test_create_promo_code_validates(db, kwargs):
    admin = ensure_admin(db)
    start = clock.now()
    ends = start if kwargs.pop("ends_at", None) == "start" else start + DAY
    before = flows.snapshot(db)
    with pytest.raises(InvalidInput), db.uow() as s:
        cart.create_promo_code(s, admin_id=admin, starts_at=start, ends_at=ends, **kwargs)
    assert flows.snapshot(db) == before


def test_promo_codes_are_unique_and_admin_only(db, goods):
    promo(db, "SOLDES")
    with pytest.raises(AlreadyExists):
        promo(db, "soldes")
    with pytest.raises(PermissionDenied), db.uow() as s:
        cart.create_promo_code(
            s,
            admin_id=goods["seller"],
            code="MOI",
            percent_off=50,
            starts_at=clock.now(),
            ends_at=clock.now() + DAY,
        )


# --- loyalty ------------------------------------------------------------------------------


def points(db, user_id: int) -> int:
    with db.session() as s:
        return loyalty.balance(s, user_id=user_id)


def test_loyalty_credited_at_delivery_only_and_once(db):
    p = flows.place(db, price=125_000, quantity=2)  # 250 000 GNF → 25 points
    assert points(db, p.buyer_id) == 0
    courier, _job = flows.to_picked_up(db, p)
    assert points(db, p.buyer_id) == 0
    assert flows.prove_pin(db, courier, p) is False
    assert points(db, p.buyer_id) == 0
    assert flows.confirm_cash(db, p) is True
    assert points(db, p.buyer_id) == 25
    with db.session() as s:
        entries = s.scalars(select(LoyaltyEntry).where(LoyaltyEntry.user_id == p.buyer_id)).all()
        assert [(e.order_id, e.points) for e in entries] == [(p.order_id, 25)]
        order = s.get(Order, p.order_id)
        # Crediting again (a repeated confirmation) adds nothing.
        assert loyalty.credit_for_order(s, order=order) == 0
    assert points(db, p.buyer_id) == 25


def test_loyalty_counts_what_was_spent_after_discount_not_the_delivery_fee(db, goods):
    promo(db, "DIX", percent_off=10)
    flows.add(db, goods["buyer"], goods["b"], 1)  # 350 000, discount 35 000 → 315 000
    apply(db, goods["buyer"], "DIX")
    [placed] = flows.checkout(db, goods["buyer"], goods["address"])
    assert placed.order.delivery_fee > 0
    p = flows.wrap(placed, seller_id=goods["seller"])
    flows.deliver(db, p)
    assert points(db, goods["buyer"]) == 31


def test_loyalty_rate_comes_from_the_rules(db):
    rules.bind(db.factory, rules.Rules(gnf_per_point=1_000))
    p = flows.place(db, price=5_500, quantity=1)
    flows.deliver(db, p)
    assert points(db, p.buyer_id) == 5


# --- shop codes (issue 19 part B) -----------------------------------------------------------


def shop_code(db, seller_id: int, code: str = "KADI10", **kwargs) -> int:
    kwargs.setdefault("starts_at", clock.now() - DAY)
    kwargs.setdefault("ends_at", clock.now() + 10 * DAY)
    if "amount_off" not in kwargs:
        kwargs.setdefault("percent_off", 10)
    with db.uow() as s:
        return cart.create_shop_promo_code(s, seller_id=seller_id, code=code, **kwargs).id


def test_a_shop_code_discounts_only_that_shops_items_and_its_order(db, goods):
    other_seller, _ = make_seller(db)
    c = make_product(db, seller_id=other_seller, name="Sac", price=200_000, stock=5)
    pid = shop_code(db, goods["seller"], "KADI10", percent_off=10)
    flows.add(db, goods["buyer"], goods["a"], 1)  # 120 000, this shop
    flows.add(db, goods["buyer"], c, 1)  # 200 000, another shop
    apply(db, goods["buyer"], "kadi10")
    assert summary(db, goods["buyer"]).discount == 12_000
    placed = flows.checkout(db, goods["buyer"], goods["address"])
    by_shop = {p.order.shop_id: p.order for p in placed}
    with db.session() as s:
        mine = s.get(PromoCode, pid).shop_id
    assert by_shop[mine].discount == 12_000
    assert [o.discount for sid, o in by_shop.items() if sid != mine] == [0]
    assert uses(db, pid) == 1


def test_a_platform_code_discounts_the_whole_cart(db, goods):
    other_seller, _ = make_seller(db)
    c = make_product(db, seller_id=other_seller, name="Sac", price=200_000, stock=5)
    promo(db, "PARTOUT", amount_off=32_000)
    flows.add(db, goods["buyer"], goods["a"], 1)
    flows.add(db, goods["buyer"], c, 1)
    apply(db, goods["buyer"], "PARTOUT")
    placed = flows.checkout(db, goods["buyer"], goods["address"])
    assert sorted(p.order.discount for p in placed) == [12_000, 20_000]


def test_a_switched_off_code_is_refused_and_only_its_seller_or_an_admin_may(db, goods):
    pid = shop_code(db, goods["seller"])
    flows.add(db, goods["buyer"], goods["a"], 1)
    apply(db, goods["buyer"], "KADI10")
    other_seller, _ = make_seller(db)
    for intruder in (other_seller, goods["buyer"]):
        with pytest.raises((PermissionDenied, NotFound)), db.uow() as s:
            cart.disable_promo_code(s, user_id=intruder, promo_id=pid)
    with db.uow() as s:
        cart.disable_promo_code(s, user_id=goods["seller"], promo_id=pid)
    with pytest.raises(AlreadyExists), db.uow() as s:
        cart.disable_promo_code(s, user_id=ensure_admin(db), promo_id=pid)
    assert summary(db, goods["buyer"]).discount == 0
    with pytest.raises(PromoDisabled), db.uow() as s:
        cart.apply_promo(s, user_id=goods["buyer"], code="KADI10")
    with pytest.raises(PromoDisabled):
        flows.checkout(db, goods["buyer"], goods["address"])
    assert uses(db, pid) == 0


def test_shop_codes_are_validated_and_only_sellers_make_them(db, goods):
    with pytest.raises(PermissionDenied), db.uow() as s:
        cart.create_shop_promo_code(
            s,
            seller_id=goods["buyer"],
            code="NOPE",
            percent_off=5,
            starts_at=clock.now(),
            ends_at=clock.now() + DAY,
        )
    with pytest.raises(InvalidInput):
        shop_code(
            db, goods["seller"], "PAST", ends_at=clock.now() - DAY, starts_at=clock.now() - 2 * DAY
        )
    with pytest.raises(InvalidInput):
        shop_code(db, goods["seller"], "BOTH", percent_off=5, amount_off=100)
    shop_code(db, goods["seller"], "ONCE", max_uses=1)
    with pytest.raises(AlreadyExists):
        shop_code(db, goods["seller"], "once")
    with db.session() as s:
        assert [p.code for p in cart.shop_promo_codes(s, seller_id=goods["seller"])] == ["ONCE"]


def test_an_exhausted_shop_code_is_refused_at_the_second_checkout(db, goods):
    pid = shop_code(db, goods["seller"], "UNE", max_uses=1)
    other, other_address = make_buyer(db)
    for buyer in (goods["buyer"], other):
        flows.add(db, buyer, goods["a"], 1)
        apply(db, buyer, "UNE")
    flows.checkout(db, goods["buyer"], goods["address"])
    with pytest.raises(PromoExhausted):
        flows.checkout(db, other, other_address)
    assert uses(db, pid) == 1


# --- loyalty points spent at checkout -------------------------------------------------------


def give_points(db, user_id: int, points: int) -> None:
    from commerce.users.models import User

    with db.uow() as s:
        s.get(User, user_id).loyalty_points = points


def place_with_points(db, buyer_id: int, address_id: int) -> list:
    from commerce.orders import actions as orders
    from commerce.orders.models import CommissionPayer, DeliveryMode, PaymentMethod

    with db.uow() as s:
        return orders.place_order(
            s,
            buyer_id=buyer_id,
            address_id=address_id,
            delivery_mode=DeliveryMode.HOME,
            commission_payer=CommissionPayer.SELLER,
            payment_method=PaymentMethod.CASH,
            use_points=True,
        )


def test_points_pay_part_of_the_order_and_are_debited_with_it(db, goods):
    r = rules.Rules()
    flows.add(db, goods["buyer"], goods["a"], 1)  # 120 000
    give_points(db, goods["buyer"], 1_000)
    cap = 120_000 * r.max_share_of_order_pct // 100 // r.gnf_per_point_spent
    placed = place_with_points(db, goods["buyer"], goods["address"])
    order = placed[0].order
    assert order.points_spent == cap
    assert order.discount == cap * r.gnf_per_point_spent
    assert order.total == 120_000 - cap * r.gnf_per_point_spent
    with db.session() as s:
        assert loyalty.balance(s, user_id=goods["buyer"]) == 1_000 - cap
        spent = s.scalars(select(LoyaltyEntry).where(LoyaltyEntry.order_id == order.id)).all()
        assert [(e.points, e.reason) for e in spent] == [(-cap, loyalty.REASON_SPENT)]


def test_points_below_the_minimum_are_not_offered_nor_spent(db, goods):
    flows.add(db, goods["buyer"], goods["a"], 1)
    give_points(db, goods["buyer"], rules.Rules().min_points_to_spend - 1)
    placed = place_with_points(db, goods["buyer"], goods["address"])
    assert placed[0].order.points_spent == 0 and placed[0].order.discount == 0


def test_cancelled_or_refused_orders_give_the_points_back_once(db, goods):
    from commerce.orders import actions as orders

    for ends_by in ("cancel", "refuse"):
        flows.add(db, goods["buyer"], goods["a"], 1)
        give_points(db, goods["buyer"], 500)
        order = place_with_points(db, goods["buyer"], goods["address"])[0].order
        assert order.points_spent > 0
        with db.uow() as s:
            if ends_by == "cancel":
                orders.cancel_order(s, buyer_id=goods["buyer"], order_id=order.id)
            else:
                orders.refuse_order(
                    s, seller_id=goods["seller"], order_id=order.id, reason="Plus en stock"
                )
        with db.uow() as s:  # a second give-back (a retried job) changes nothing
            assert loyalty.give_back_for_order(s, order=s.get(Order, order.id)) == 0
        with db.session() as s:
            assert loyalty.balance(s, user_id=goods["buyer"]) == 500


def test_points_spent_twice_from_one_balance_are_refused(db, goods):
    from commerce.errors import NotEnoughPoints
    from commerce.users.models import User

    flows.add(db, goods["buyer"], goods["a"], 1)
    give_points(db, goods["buyer"], 100)
    with pytest.raises(NotEnoughPoints), db.uow() as s:
        # Another checkout spent them between the quote and this debit.
        loyalty.debit_for_orders(s, user_id=goods["buyer"], spent={1: 101})
    with db.session() as s:
        assert s.get(User, goods["buyer"]).loyalty_points == 100
