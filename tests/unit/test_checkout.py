"""Checkout: one order per seller, stock taken, delivery fee from shop to address, pickup,
who pays the commission, the promo discount split exactly, codes and notifications."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import func, select

from commerce import clock, geo, rules
from commerce.cart import actions as cart
from commerce.cart.models import PromoCode
from commerce.errors import AddressInvalid, InvalidInput, NotFound, OutOfStock
from commerce.orders import actions as orders
from commerce.orders.models import (
    CommissionPayer,
    DeliveryMode,
    Order,
    OrderStatus,
    PaymentMethod,
)
from commerce.users import actions as users
from tests.support import ensure_admin, make_buyer, make_product, make_seller, stock_of
from tests.unit import flows

HOME, PICKUP = DeliveryMode.HOME, DeliveryMode.PICKUP
BUYER_PAYS, SELLER_PAYS = CommissionPayer.BUYER, CommissionPayer.SELLER


def expected_fee(shop_place: tuple[str, str], buyer_place: tuple[str, str]) -> tuple[float, int]:
    a = geo.locate(prefecture=shop_place[0], quartier=shop_place[1])
    b = geo.locate(prefecture=buyer_place[0], quartier=buyer_place[1])
    km = round(geo.haversine_km(a, b), 2)
    r = rules.DEFAULT
    return km, max(r.minimum_commission, int(km * r.rate_per_km + 0.5))


def add_promo(db, code: str, **kwargs) -> int:
    with db.uow() as s:
        return cart.create_promo_code(
            s,
            admin_id=ensure_admin(db),
            code=code,
            starts_at=clock.now() - dt.timedelta(days=1),
            ends_at=clock.now() + dt.timedelta(days=1),
            **kwargs,
        ).id


@pytest.fixture
def two_shops(db):
    """Shop 1 in Kaloum/Boulbinet, shop 2 in Matoto/Gbessia; the buyer lives in Ratoma/Kipé."""
    s1 = make_seller(db, prefecture="Kaloum", quartier="Boulbinet")
    s2 = make_seller(db, prefecture="Matoto", quartier="Gbessia")
    a = make_product(db, seller_id=s1[0], name="Pagne", price=100_000, stock=5)
    b = make_product(db, seller_id=s1[0], name="Foulard", price=30_000, stock=5)
    c = make_product(db, seller_id=s2[0], name="Montre", price=270_000, stock=2)
    buyer_id, address_id = make_buyer(db, prefecture="Ratoma", quartier="Kipé")
    flows.add(db, buyer_id, a, 2)
    flows.add(db, buyer_id, b, 1)
    flows.add(db, buyer_id, c, 1)
    return {
        "s1": s1,
        "s2": s2,
        "a": a,
        "b": b,
        "c": c,
        "buyer": buyer_id,
        "address": address_id,
    }


def test_multi_seller_cart_becomes_one_order_per_seller(db, two_shops):
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"])
    assert len(placed) == 2
    by_shop = {p.order.shop_id: p.order for p in placed}
    o1, o2 = by_shop[two_shops["s1"][1]], by_shop[two_shops["s2"][1]]
    assert sorted((i.product_id, i.quantity, i.unit_price) for i in o1.items) == sorted(
        [(two_shops["a"], 2, 100_000), (two_shops["b"], 1, 30_000)]
    )
    assert [(i.product_id, i.quantity) for i in o2.items] == [(two_shops["c"], 1)]
    assert (o1.subtotal, o2.subtotal) == (230_000, 270_000)
    assert o1.checkout_ref == o2.checkout_ref
    assert o1.status == o2.status == OrderStatus.PLACED
    assert o1.payment_method == PaymentMethod.CASH
    assert o1.landmark == "derrière la grande mosquée"
    assert (o1.prefecture, o1.quartier) == ("Ratoma", "Kipé")


def test_checkout_takes_the_stock(db, two_shops):
    flows.checkout(db, two_shops["buyer"], two_shops["address"])
    assert stock_of(db, two_shops["a"]) == 3
    assert stock_of(db, two_shops["b"]) == 4
    assert stock_of(db, two_shops["c"]) == 1


def test_delivery_fee_is_the_commission_from_each_shop_to_the_address(db, two_shops):
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"])
    by_shop = {p.order.shop_id: p.order for p in placed}
    for shop_key, place in (("s1", ("Kaloum", "Boulbinet")), ("s2", ("Matoto", "Gbessia"))):
        order = by_shop[two_shops[shop_key][1]]
        km, fee = expected_fee(place, ("Ratoma", "Kipé"))
        assert order.distance_km == pytest.approx(km)
        assert order.delivery_fee == fee
        assert order.total == order.subtotal - order.discount + order.delivery_fee
    # Kaloum → Kipé is about 12.5 km: km × 2 000 GNF. Gbessia → Kipé about 4.2 km: the
    # 8 400 GNF it would cost is raised to the 10 000 GNF minimum.
    far, near = by_shop[two_shops["s1"][1]], by_shop[two_shops["s2"][1]]
    assert 12 < far.distance_km < 13
    assert far.delivery_fee == int(far.distance_km * 2_000 + 0.5) > 10_000
    assert 4 < near.distance_km < 5
    assert near.delivery_fee == 10_000


def test_delivery_fee_follows_the_configured_rate(db, two_shops):
    rules.bind(db.factory, rules.Rules(rate_per_km=5_000, minimum_commission=1_000))
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"])
    for p in placed:
        assert p.order.delivery_fee == int(p.order.distance_km * 5_000 + 0.5)


def test_delivery_fee_never_under_the_minimum(db):
    seller_id, _shop = make_seller(db, prefecture="Ratoma", quartier="Kipé")
    pid = make_product(db, seller_id=seller_id, price=50_000)
    buyer_id, address_id = make_buyer(db, prefecture="Ratoma", quartier="Kipé")
    flows.add(db, buyer_id, pid, 1)
    [placed] = flows.checkout(db, buyer_id, address_id)
    assert placed.order.distance_km == 0
    assert placed.order.delivery_fee == 10_000
    assert placed.order.total == 60_000


def test_gps_pins_beat_quartier_centres(db):
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, price=50_000)
    buyer_id, _addr = make_buyer(db)
    with db.uow() as s:
        pinned = users.add_address(
            s, user_id=buyer_id, prefecture="Kaloum", quartier="Boulbinet", lat=9.6, lng=-13.6
        ).id
    flows.add(db, buyer_id, pid, 1)
    [placed] = flows.checkout(db, buyer_id, pinned)
    shop_pt = geo.locate(prefecture="Kaloum", quartier="Boulbinet")
    km = round(geo.haversine_km(shop_pt, (9.6, -13.6)), 2)
    assert placed.order.distance_km == pytest.approx(km)
    assert (placed.order.lat, placed.order.lng) == (9.6, -13.6)


def test_pickup_at_the_shop_has_no_fee_and_needs_no_address(db, two_shops):
    placed = flows.checkout(db, two_shops["buyer"], None, mode=PICKUP)
    assert len(placed) == 2
    for p in placed:
        assert p.order.delivery_mode == DeliveryMode.PICKUP
        assert p.order.delivery_fee == 0
        assert p.order.distance_km == 0
        assert p.order.total == p.order.subtotal


def test_pickup_with_a_saved_address_still_has_no_fee(db, two_shops):
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"], mode=PICKUP)
    assert sum(p.order.delivery_fee for p in placed) == 0


def test_home_delivery_needs_an_address_of_ones_own(db, two_shops):
    before = flows.snapshot(db)
    with pytest.raises(AddressInvalid):
        flows.checkout(db, two_shops["buyer"], None)
    _other, someone_elses = make_buyer(db)
    before = flows.snapshot(db)
    with pytest.raises(NotFound):
        flows.checkout(db, two_shops["buyer"], someone_elses)
    assert flows.snapshot(db) == before


def test_seller_paying_the_commission_keeps_the_fee_out_of_the_total(db, two_shops):
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"], payer=SELLER_PAYS)
    for p in placed:
        assert p.order.commission_payer == CommissionPayer.SELLER
        assert p.order.delivery_fee > 0
        assert p.order.total == p.order.subtotal - p.order.discount


def test_quote_is_what_checkout_charges(db, two_shops):
    with db.session() as s:
        quote = orders.quote_checkout(
            s,
            buyer_id=two_shops["buyer"],
            address_id=two_shops["address"],
            delivery_mode=HOME,
            commission_payer=BUYER_PAYS,
        )
        quoted = {q.shop.id: q.total for q in quote.orders}
        quoted_total, quoted_fees = quote.total, quote.delivery_fees
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"])
    assert {p.order.shop_id: p.order.total for p in placed} == quoted
    assert sum(p.order.total for p in placed) == quoted_total
    assert sum(p.order.delivery_fee for p in placed) == quoted_fees
    assert stock_of(db, two_shops["c"]) == 1  # quoting alone took nothing: 2 - 1 at checkout


def test_promo_discount_is_split_across_orders_summing_exactly(db, two_shops):
    add_promo(db, "SPLIT", amount_off=100_001)
    with db.uow() as s:
        cart.apply_promo(s, user_id=two_shops["buyer"], code="SPLIT")
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"], payer=SELLER_PAYS)
    discounts = {p.order.shop_id: p.order.discount for p in placed}
    assert sum(discounts.values()) == 100_001
    # In proportion to each order's subtotal (230 000 and 270 000 of 500 000), to the franc.
    assert abs(discounts[two_shops["s1"][1]] - 100_001 * 230_000 / 500_000) < 1
    assert abs(discounts[two_shops["s2"][1]] - 100_001 * 270_000 / 500_000) < 1
    for p in placed:
        assert p.order.total == p.order.subtotal - p.order.discount


def test_split_never_discounts_an_order_beyond_its_subtotal(db):
    """Three tiny orders (3, 3 and 1 GNF) share a 6 GNF discount: the 1 GNF order can take at
    most 1 GNF, whichever shop happens to come last."""
    sellers = [make_seller(db) for _ in range(3)]
    buyer_id, address_id = make_buyer(db)
    for (seller_id, _shop), price in zip(sellers, (3, 3, 1), strict=True):
        flows.add(db, buyer_id, make_product(db, seller_id=seller_id, price=price), 1)
    add_promo(db, "SIX", amount_off=6)
    with db.uow() as s:
        cart.apply_promo(s, user_id=buyer_id, code="SIX")
    placed = flows.checkout(db, buyer_id, address_id, payer=SELLER_PAYS)
    assert sum(p.order.discount for p in placed) == 6
    for p in placed:
        assert 0 <= p.order.discount <= p.order.subtotal
        assert p.order.total >= 0


@pytest.mark.parametrize(
    ("amount", "weights"),
    [
        (6, [3, 3, 1]),
        (0, [5, 5]),
        (10, [0, 0]),
        (100_001, [230_000, 270_000]),
        (99, [1, 1, 1, 97]),
        (7, [1, 1, 1, 1, 1, 1, 1]),
        (1_020_011, [10, 20_000, 3, 999_999]),
        (9, [10, 20_000, 3, 999_999]),
    ],
)
def test_split_sums_exactly_and_stays_within_each_weight(amount, weights):
    shares = orders._split(amount, weights)
    assert len(shares) == len(weights)
    if sum(weights):
        assert sum(shares) == amount
    else:
        assert shares == [0] * len(weights)
    # A discount never exceeds the cart (promo_discount caps it): no share exceeds its order.
    assert all(0 <= s <= w for s, w in zip(shares, weights, strict=True))
    for s, w in zip(shares, weights, strict=True):
        if sum(weights):
            assert abs(s - amount * w / sum(weights)) < 1


def test_each_order_gets_its_own_delivery_code_and_a_history_row(db, two_shops):
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"])
    assert len({p.code.token for p in placed}) == 2
    assert {p.code.order_id for p in placed} == {p.order.id for p in placed}
    for p in placed:
        assert flows.history(db, p.order.id) == [(None, "placed", two_shops["buyer"])]


def test_each_seller_is_told_of_the_new_order(db, two_shops):
    placed = flows.checkout(db, two_shops["buyer"], two_shops["address"])
    for seller_key in ("s1", "s2"):
        seller_id, shop_id = two_shops[seller_key]
        [told] = flows.outbox(db, user_id=seller_id, kind="order_placed")
        [order] = [p.order for p in placed if p.order.shop_id == shop_id]
        assert told.payload["params"] == {"order_id": order.id}
        assert told.essential


def test_low_stock_alert_when_checkout_leaves_little(db, two_shops):
    flows.checkout(db, two_shops["buyer"], two_shops["address"])
    # Pagne 5 → 3 (threshold 3), Foulard 5 → 4, Montre 2 → 1.
    s1_alerts = flows.outbox(db, user_id=two_shops["s1"][0], kind="low_stock")
    s2_alerts = flows.outbox(db, user_id=two_shops["s2"][0], kind="low_stock")
    assert [a.payload["params"] for a in s1_alerts] == [{"product_id": two_shops["a"], "stock": 3}]
    assert [a.payload["params"] for a in s2_alerts] == [{"product_id": two_shops["c"], "stock": 1}]


def test_out_of_stock_at_checkout_changes_nothing(db, two_shops):
    """The promo use is counted and the first products' stock taken before the Montre runs
    out: all of it must roll back."""
    pid = add_promo(db, "ROLL", percent_off=5, max_uses=3)
    with db.uow() as s:
        cart.apply_promo(s, user_id=two_shops["buyer"], code="ROLL")
    rival, rival_addr = make_buyer(db)
    flows.add(db, rival, two_shops["c"], 2)
    flows.checkout(db, rival, rival_addr)
    assert stock_of(db, two_shops["c"]) == 0
    before = flows.snapshot(db)
    with pytest.raises(OutOfStock) as exc:
        flows.checkout(db, two_shops["buyer"], two_shops["address"])
    assert exc.value.params == {"product_id": two_shops["c"], "available": 0}
    assert flows.snapshot(db) == before
    with db.session() as s:
        assert s.get(PromoCode, pid).uses == 0
        assert (
            s.scalar(select(func.count(Order.id)).where(Order.buyer_id == two_shops["buyer"])) == 0
        )
    assert stock_of(db, two_shops["a"]) == 5


@pytest.mark.parametrize(
    ("field", "value"),
    [("delivery_mode", "drone"), ("commission_payer", "nobody"), ("payment_method", "bitcoin")],
)
def test_unknown_checkout_choices_are_refused(db, two_shops, field, value):
    kwargs = {
        "buyer_id": two_shops["buyer"],
        "address_id": two_shops["address"],
        "delivery_mode": HOME,
        "commission_payer": BUYER_PAYS,
        "payment_method": PaymentMethod.CASH,
        field: value,
    }
    before = flows.snapshot(db)
    with pytest.raises(InvalidInput), db.uow() as s:
        orders.place_order(s, **kwargs)
    assert flows.snapshot(db) == before


def test_mobile_money_is_recorded(db, two_shops):
    placed = flows.checkout(
        db, two_shops["buyer"], two_shops["address"], payment=PaymentMethod.ORANGE_MONEY
    )
    assert {p.order.payment_method for p in placed} == {PaymentMethod.ORANGE_MONEY}
