"""The ledger under real concurrency on PostgreSQL: a movement is recorded once, whatever races."""

from __future__ import annotations

from functools import partial

from sqlalchemy import func, select

from commerce.ledger import actions as ledger
from commerce.ledger.errors import AlreadyRecorded
from commerce.ledger.models import AccountKind, EntryKind, LedgerEntry, Remittance
from commerce.orders.models import Order
from tests.integration.races import race
from tests.support import Db, make_courier, make_seller
from tests.unit import ledger_world as w


def _count(db: Db, kind: EntryKind) -> int:
    with db.session() as s:
        return int(s.scalar(select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == kind)))


def test_two_taps_on_reçu_record_one_hand_over(pg: Db) -> None:
    seller = make_seller(pg)
    courier = make_courier(pg)
    w.delivered_by(pg, courier, seller=seller, price=500_000)
    w.delivered_by(pg, courier, seller=seller, price=500_000)
    amount = w.held_for(pg, courier, seller[0])
    for _trial in range(2):  # without a declaration, then with one
        results = race(
            pg,
            [
                partial(
                    ledger.confirm_remittance,
                    seller_id=seller[0],
                    courier_id=courier,
                    amount=amount,
                )
                for _ in range(4)
            ],
        )
        assert sum(isinstance(r, Remittance) for r in results) == 1, results
        assert w.held_for(pg, courier, seller[0]) == 0
        with pg.session() as s:
            assert ledger.balance(s, AccountKind.SELLER, seller[0]) == amount * (_trial + 1)
        w.delivered_by(pg, courier, seller=seller, price=500_000)
        w.delivered_by(pg, courier, seller=seller, price=500_000)
        w.declare(pg, courier)
    assert _count(pg, EntryKind.REMITTANCE) == 2
    assert w.unbalanced_entries(pg) == []


def test_two_workers_recording_the_same_door_payment_write_one_entry(pg: Db) -> None:
    seller = make_seller(pg)
    courier = make_courier(pg)
    p = w.delivered_by(pg, courier, seller=seller, price=100_000)

    def again(session):  # type: ignore[no-untyped-def]
        from commerce.delivery.actions import job_for_order

        order = session.get(Order, p.order_id)
        return ledger.record_door_payment(
            session, order=order, job=job_for_order(session, p.order_id)
        )

    results = race(pg, [again for _ in range(4)])
    assert all(isinstance(r, AlreadyRecorded) for r in results), results
    assert _count(pg, EntryKind.DOOR_PAYMENT) == 1


def test_two_sessions_racing_a_brand_new_key_write_it_once(pg: Db) -> None:
    seller = make_seller(pg)
    courier = make_courier(pg)
    lines = [
        ledger.Line(AccountKind.COURIER_CASH, -1_000, courier, seller[0]),
        ledger.Line(AccountKind.PLATFORM, 1_000),
    ]
    results = race(
        pg,
        [
            partial(ledger.post, kind=EntryKind.CORRECTION, key="correction:same", lines=lines)
            for _ in range(6)
        ],
    )
    assert sum(isinstance(r, LedgerEntry) for r in results) == 1
    assert sum(isinstance(r, AlreadyRecorded) for r in results) == 5
