"""The cash ledger: each movement one balanced entry, recorded once, read by whom it concerns."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.delivery import actions as delivery
from commerce.errors import PermissionDenied, ReasonRequired
from commerce.ledger import actions as ledger
from commerce.ledger.actions import Line
from commerce.ledger.errors import (
    AlreadyRecorded,
    AmountChanged,
    NothingToRemit,
    RemittanceState,
    UnbalancedEntry,
)
from commerce.ledger.models import (
    AccountKind,
    EntryKind,
    LedgerEntry,
    RemittanceStatus,
)
from commerce.orders.models import CommissionPayer, DeliveryMode, Order, PaymentMethod
from tests.support import make_admin, make_courier, make_seller
from tests.unit import flows
from tests.unit import ledger_world as w

A = AccountKind


def entries(db, kind: EntryKind | None = None) -> list[LedgerEntry]:
    with db.session() as s:
        q = select(LedgerEntry).order_by(LedgerEntry.id)
        if kind is not None:
            q = q.where(LedgerEntry.kind == kind)
        return list(s.scalars(q))


def bal(db, account: AccountKind, owner: int | None = None, **kw) -> int:
    with db.session() as s:
        return ledger.balance(s, account, owner, **kw)


def test_the_door_payment_is_recorded_when_the_delivery_closes_buyer_paying_delivery(db):
    seller = make_seller(db)
    courier = make_courier(db)
    p = w.delivered_by(db, courier, seller=seller, price=500_000, quantity=2)
    c = w.commission_of(db, p.order_id)
    [entry] = entries(db, EntryKind.DOOR_PAYMENT)
    assert entry.key == f"door_payment:{p.order_id}" and entry.order_id == p.order_id
    assert entry.method == PaymentMethod.CASH and entry.recorded_by == p.buyer_id
    assert sum(ln.amount for ln in entry.lines) == 0
    assert p.total == 1_000_000 + c  # the buyer paid the goods and the delivery
    assert bal(db, A.BUYER, p.buyer_id) == -p.total
    assert w.held_for(db, courier, seller[0]) == 1_000_000  # the goods price, the seller's
    assert bal(db, A.COURIER_COMMISSION, courier) == c
    with db.session() as s:
        assert delivery.earnings(s, user_id=courier).unpaid == c  # GAINS: not settled yet


def test_when_the_seller_pays_delivery_the_commission_comes_out_of_the_goods_price(db):
    seller = make_seller(db)
    courier = make_courier(db)
    p = w.delivered_by(db, courier, seller=seller, price=300_000, payer=CommissionPayer.SELLER)
    c = w.commission_of(db, p.order_id)
    assert p.total == 300_000
    assert w.held_for(db, courier, seller[0]) == 300_000 - c
    assert bal(db, A.COURIER_COMMISSION, courier) == c


def test_a_pickup_at_the_shop_puts_the_cash_in_the_sellers_hands(db):
    seller = make_seller(db)
    p = w.delivered_by(db, None, seller=seller, price=80_000, mode=DeliveryMode.PICKUP)
    assert bal(db, A.SELLER, seller[0]) == p.total == 80_000
    assert bal(db, A.BUYER, p.buyer_id) == -80_000


def test_the_door_payment_cannot_be_recorded_twice(db):
    seller = make_seller(db)
    courier = make_courier(db)
    p = w.delivered_by(db, courier, seller=seller)
    with db.uow() as s, pytest.raises(AlreadyRecorded):
        order = s.get(Order, p.order_id)
        ledger.record_door_payment(s, order=order, job=delivery.job_for_order(s, p.order_id))
    assert len(entries(db, EntryKind.DOOR_PAYMENT)) == 1


def test_declare_then_one_tap_confirm_settles_the_cash_and_the_commission(db):
    seller = make_seller(db)
    courier = make_courier(db)
    p1 = w.delivered_by(db, courier, seller=seller, price=400_000)
    p2 = w.delivered_by(db, courier, seller=seller, price=600_000)
    c = w.commission_of(db, p1.order_id) + w.commission_of(db, p2.order_id)
    [rem] = w.declare(db, courier)
    assert rem.amount == 1_000_000 and sorted(rem.order_ids) == [p1.order_id, p2.order_id]
    assert [o.user_id for o in flows.outbox(db, kind="remittance_declared")] == [seller[0]]
    with pytest.raises(NothingToRemit):
        w.declare(db, courier)  # the double SMS declares nothing new
    done = w.confirm(db, seller[0], courier, 1_000_000)
    assert done.id == rem.id and done.status == RemittanceStatus.CONFIRMED
    assert w.held_for(db, courier, seller[0]) == 0
    assert bal(db, A.SELLER, seller[0]) == 1_000_000
    assert bal(db, A.COURIER_COMMISSION, courier) == 0
    assert bal(db, A.COURIER_EARNED, courier) == c
    with db.session() as s:
        assert delivery.earnings(s, user_id=courier).unpaid == 0
    assert [o.user_id for o in flows.outbox(db, kind="remittance_confirmed")] == [courier]
    with pytest.raises((RemittanceState, NothingToRemit)):
        w.confirm(db, seller[0], courier, 1_000_000)  # the second tap
    assert len(entries(db, EntryKind.REMITTANCE)) == 1


def test_a_seller_may_confirm_without_a_declaration_but_only_the_amount_shown(db):
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=200_000)
    with pytest.raises(AmountChanged) as exc:
        w.confirm(db, seller[0], courier, 150_000)
    assert exc.value.params["amount_gnf"] == 200_000
    w.confirm(db, seller[0], courier, 200_000)
    assert bal(db, A.SELLER, seller[0]) == 200_000


def test_another_seller_cannot_confirm_or_dispute_what_is_not_hers(db):
    seller, other = make_seller(db), make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=200_000)
    [rem] = w.declare(db, courier)
    with pytest.raises(NothingToRemit):
        w.confirm(db, other[0], courier, 200_000)  # a forged button: nothing held for her
    with pytest.raises(PermissionDenied):
        w.dispute(db, other[0], rem.id)
    with pytest.raises(PermissionDenied):  # a courier is not a seller
        w.confirm(db, courier, courier, 200_000)
    assert w.held_for(db, courier, seller[0]) == 200_000


def test_not_received_opens_a_dispute_that_reaches_the_admins_and_an_admin_settles_it(db):
    admin = make_admin(db)
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=250_000)
    [rem] = w.declare(db, courier)
    w.dispute(db, seller[0], rem.id, note="personne n'est venu")
    told = {o.user_id for o in flows.outbox(db, kind="remittance_disputed")}
    assert admin in told
    assert [o.user_id for o in flows.outbox(db, kind="remittance_disputed_courier")] == [courier]
    with pytest.raises(NothingToRemit):
        w.confirm(db, seller[0], courier, 250_000)  # disputed cash is not confirmed by a tap
    with db.session() as s:
        assert ledger.reconciliation(s, admin_id=admin).open_disputes == 1
        assert ledger.seller_position(s, seller_id=seller[0]).disputed == 250_000
    with db.uow() as s, pytest.raises(ReasonRequired):
        ledger.resolve_dispute(s, admin_id=admin, remittance_id=rem.id, received=True, reason=" ")
    with db.uow() as s:
        ledger.resolve_dispute(
            s, admin_id=admin, remittance_id=rem.id, received=True, reason="reçu signé vu"
        )
    [entry] = entries(db, EntryKind.REMITTANCE)
    assert entry.recorded_by == admin and entry.reason == "reçu signé vu"
    assert bal(db, A.SELLER, seller[0]) == 250_000
    # Both sides learn the decision and its reason.
    [to_seller] = flows.outbox(db, kind="remittance_settled_received")
    [to_courier] = flows.outbox(db, kind="remittance_settled_received_courier")
    assert (to_seller.user_id, to_courier.user_id) == (seller[0], courier)
    said = to_seller.payload["params"]
    assert said["reason"] == "reçu signé vu" and said["amount"] == 250_000
    assert not flows.outbox(db, kind="remittance_settled_not_received")


def test_a_dispute_found_not_received_leaves_the_cash_with_the_courier(db):
    admin = make_admin(db)
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=250_000)
    [rem] = w.declare(db, courier)
    w.dispute(db, seller[0], rem.id)
    with db.uow() as s:
        ledger.resolve_dispute(
            s, admin_id=admin, remittance_id=rem.id, received=False, reason="pas de preuve"
        )
    assert w.held_for(db, courier, seller[0]) == 250_000
    [to_seller] = flows.outbox(db, kind="remittance_settled_not_received")
    [to_courier] = flows.outbox(db, kind="remittance_settled_not_received_courier")
    assert (to_seller.user_id, to_courier.user_id) == (seller[0], courier)
    [again] = w.declare(db, courier)  # he may hand it over again
    assert again.amount == 250_000


def test_a_refund_is_the_sellers_money_back_to_the_buyer(db):
    seller = make_seller(db)
    courier = make_courier(db)
    p = w.delivered_by(db, courier, seller=seller, price=100_000, quantity=3)
    amount = w.refund_order(db, p, make_courier(db))
    assert amount == 100_000
    [entry] = entries(db, EntryKind.REFUND)
    assert entry.return_id is not None and entry.job_id is not None
    assert bal(db, A.BUYER, p.buyer_id) == -p.total + 100_000
    assert bal(db, A.SELLER, seller[0]) == -100_000  # paid before the courier handed hers over


def test_a_correction_needs_an_admin_a_reason_and_balanced_lines(db):
    admin = make_admin(db)
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=100_000)
    lines = [
        Line(A.COURIER_CASH, -10_000, courier, seller[0]),
        Line(A.PLATFORM, 10_000),
    ]
    with db.uow() as s, pytest.raises(PermissionDenied):
        ledger.correct(s, admin_id=seller[0], lines=lines, reason="perte")
    with db.uow() as s, pytest.raises(ReasonRequired):
        ledger.correct(s, admin_id=admin, lines=lines, reason="")
    with db.uow() as s, pytest.raises(UnbalancedEntry):
        ledger.correct(s, admin_id=admin, lines=lines[:1], reason="perte")
    with db.uow() as s:
        ledger.correct(s, admin_id=admin, lines=lines, reason="billet faux", key="tap-1")
    with db.uow() as s, pytest.raises(AlreadyRecorded):
        ledger.correct(s, admin_id=admin, lines=lines, reason="billet faux", key="tap-1")
    assert w.held_for(db, courier, seller[0]) == 90_000
    assert bal(db, A.PLATFORM) == 10_000
    [entry] = entries(db, EntryKind.CORRECTION)
    assert entry.reason == "billet faux" and entry.recorded_by == admin


def test_positions_agree_for_courier_seller_and_admin(db):
    admin = make_admin(db)
    s1, s2 = make_seller(db), make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=s1, price=100_000)
    w.delivered_by(db, courier, seller=s2, price=300_000)
    with db.session() as s:
        pos = ledger.courier_position(s, courier_id=courier)
        p1 = ledger.seller_position(s, seller_id=s1[0])
        p2 = ledger.seller_position(s, seller_id=s2[0])
        rec = ledger.reconciliation(s, admin_id=admin)
    assert pos.owed == p1.pending + p2.pending == 400_000
    assert rec.held_by_couriers == pos.held and rec.owed_to_sellers == pos.owed
    assert rec.couriers_holding == 1 and rec.oldest_since == pos.since is not None


def test_every_entry_balances(db):
    seller = make_seller(db)
    courier = make_courier(db)
    p = w.delivered_by(db, courier, seller=seller, price=100_000, quantity=2)
    w.refund_order(db, p, courier)
    [rem] = w.declare(db, courier)
    w.confirm(db, seller[0], courier, rem.amount)
    assert w.unbalanced_entries(db) == []
