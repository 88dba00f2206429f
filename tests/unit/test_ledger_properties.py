"""Property: whatever the day's sequence of orders, deliveries, cancellations, returns,
hand-overs and disputes, every entry balances and every account is what the orders say.

The expected balances are computed here from the orders alone (a small model of who holds
what), never from the ledger, and compared with the ledger's balances after each example.
"""

from __future__ import annotations

import sqlite3
from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sqlalchemy import func, select

from commerce import rules
from commerce.errors import CommerceError
from commerce.ledger import actions as ledger
from commerce.ledger.models import AccountKind, LedgerLine
from commerce.orders import actions as orders
from commerce.orders.models import CommissionPayer, DeliveryMode
from tests.support import Db, make_admin, make_buyer, make_courier, make_seller
from tests.unit import flows
from tests.unit import ledger_world as w

A = AccountKind

OPS = st.one_of(
    st.tuples(
        st.just("order"),
        st.integers(0, 1),  # seller
        st.sampled_from([0, 1, None]),  # courier (None: pickup at the shop)
        st.sampled_from(list(CommissionPayer)),
        st.integers(1, 9),  # price, in 10 000 GNF
        st.integers(1, 3),  # quantity
    ),
    st.tuples(st.just("cancel"), st.integers(0, 1)),
    st.tuples(st.just("return"), st.integers(0, 20), st.integers(0, 1)),
    st.tuples(st.just("declare"), st.integers(0, 1)),
    st.tuples(st.just("confirm"), st.integers(0, 1), st.integers(0, 1)),
    st.tuples(st.just("dispute"), st.integers(0, 1)),
    st.tuples(st.just("resolve"), st.booleans()),
)


@dataclass
class Model:
    """Who should hold what, from the orders alone."""

    buyer: int = 0
    seller: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    earned: dict[int, int] = field(default_factory=lambda: defaultdict(int))
    # (courier, seller) -> {order: (seller's share, commission)} not settled yet
    pending: dict[tuple[int, int], dict[int, tuple[int, int]]] = field(
        default_factory=lambda: defaultdict(dict)
    )
    declared: dict[tuple[int, int], list[int]] = field(default_factory=dict)
    disputed: list[tuple[int, int, int, list[int]]] = field(default_factory=list)
    returnable: list[tuple[flows.Placed, int]] = field(default_factory=list)

    def busy(self, pair: tuple[int, int]) -> set[int]:
        out = set(self.declared.get(pair, []))
        for c, s, _rid, ids in self.disputed:
            if (c, s) == pair:
                out |= set(ids)
        return out

    def settle(self, pair: tuple[int, int], ids: list[int]) -> None:
        for oid in ids:
            cash, commission = self.pending[pair].pop(oid)
            self.seller[pair[1]] += cash
            self.earned[pair[0]] += commission


def _reset(unit_db: Db, template: Path) -> None:
    src = sqlite3.connect(template)
    raw = unit_db.engine.raw_connection()
    try:
        src.backup(raw.driver_connection)
    finally:
        raw.close()
        src.close()
    rules.bind(unit_db.factory, rules.DEFAULT)


def _play(db: Db, ops: list[tuple]) -> None:  # type: ignore[type-arg]
    admin = make_admin(db)
    sellers = [make_seller(db), make_seller(db)]
    couriers = [make_courier(db), make_courier(db)]
    buyer = make_buyer(db)
    m = Model()
    for op in ops:
        kind = op[0]
        if kind == "order":
            _k, si, ci, payer, price, qty = op
            seller = sellers[si]
            courier = couriers[ci] if ci is not None else None
            mode = DeliveryMode.HOME if courier else DeliveryMode.PICKUP
            p = w.delivered_by(
                db,
                courier,
                seller=seller,
                buyer=buyer,
                price=price * 10_000,
                quantity=qty,
                payer=payer,
                mode=mode,
            )
            m.buyer -= p.total
            if courier is None:
                m.seller[seller[0]] += p.total
            else:
                c = w.commission_of(db, p.order_id)
                m.pending[(courier, seller[0])][p.order_id] = (p.total - c, c)
            m.returnable.append((p, qty))
        elif kind == "cancel":
            p = flows.place(db, seller=sellers[op[1]], buyer=buyer, stock=5)
            with db.uow() as s:
                orders.cancel_order(s, buyer_id=p.buyer_id, order_id=p.order_id)
        elif kind == "return" and m.returnable:
            i = op[1] % len(m.returnable)
            p, left = m.returnable[i]
            if left == 0:
                continue
            amount = w.refund_order(db, p, couriers[op[2]])
            m.returnable[i] = (p, left - 1)
            m.buyer += amount
            m.seller[p.seller_id] -= amount
        elif kind == "declare":
            courier = couriers[op[1]]
            made = {}
            for (c, s), held in m.pending.items():
                todo = sorted(set(held) - m.busy((c, s)))
                if c == courier and todo and (c, s) not in m.declared:
                    made[(c, s)] = todo
            try:
                got = w.declare(db, courier)
            except CommerceError:
                got = []
            assert {(r.courier_id, r.seller_id): sorted(r.order_ids) for r in got} == made
            m.declared.update(made)
        elif kind == "confirm":
            seller_id, courier = sellers[op[1]][0], couriers[op[2]]
            pair = (courier, seller_id)
            ids = m.declared.get(pair) or sorted(set(m.pending[pair]) - m.busy(pair))
            amount = sum(m.pending[pair][o][0] for o in ids)
            if not ids:
                continue
            w.confirm(db, seller_id, courier, amount)
            m.declared.pop(pair, None)
            m.settle(pair, ids)
        elif kind == "dispute":
            seller_id = sellers[op[1]][0]
            pairs = sorted(p for p in m.declared if p[1] == seller_id)
            if not pairs:
                continue
            with db.session() as s:
                from commerce.ledger.models import Remittance, RemittanceStatus

                rem = s.scalar(
                    select(Remittance).where(
                        Remittance.courier_id == pairs[0][0],
                        Remittance.seller_id == seller_id,
                        Remittance.status == RemittanceStatus.DECLARED,
                    )
                )
                assert rem is not None
            w.dispute(db, seller_id, rem.id)
            m.disputed.append((pairs[0][0], seller_id, rem.id, m.declared.pop(pairs[0])))
        elif kind == "resolve" and m.disputed:
            c, s_id, rid, ids = m.disputed.pop(0)
            with db.uow() as s:
                ledger.resolve_dispute(
                    s, admin_id=admin, remittance_id=rid, received=op[1], reason="vérifié"
                )
            if op[1]:
                m.settle((c, s_id), ids)

    assert w.unbalanced_entries(db) == []
    with db.session() as s:
        assert int(s.scalar(select(func.coalesce(func.sum(LedgerLine.amount), 0)))) == 0
        assert ledger.balance(s, A.BUYER, buyer[0]) == m.buyer
        for seller_id, _shop in sellers:
            assert ledger.balance(s, A.SELLER, seller_id) == m.seller[seller_id]
        for courier in couriers:
            for seller_id, _shop in sellers:
                held = m.pending[(courier, seller_id)]
                assert ledger.balance(s, A.COURIER_CASH, courier, party_id=seller_id) == sum(
                    v[0] for v in held.values()
                )
                assert ledger.balance(s, A.COURIER_COMMISSION, courier, party_id=seller_id) == sum(
                    v[1] for v in held.values()
                )
            assert ledger.balance(s, A.COURIER_EARNED, courier) == m.earned[courier]
        rec = ledger.reconciliation(s, admin_id=admin)
        assert rec.open_disputes == len(m.disputed)
        assert rec.owed_to_sellers == sum(v[0] for h in m.pending.values() for v in h.values())


@settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(ops=st.lists(OPS, min_size=1, max_size=8))
def test_every_sequence_keeps_the_ledger_balanced_and_true_to_the_orders(
    _unit_db: Db,
    sqlite_template: Path,
    ops: list[tuple],  # type: ignore[type-arg]
) -> None:
    _reset(_unit_db, sqlite_template)
    _play(_unit_db, ops)
