"""One seeded day: two couriers deliver for two sellers; one hand-over is confirmed, one is
disputed, one order is refunded. The courier's SOLDE, each seller's /caisse and the admin's
/chiffres are printed (pytest -s) and must agree with each other and with the ledger."""

from __future__ import annotations

from sqlalchemy import func, select

from commerce.ledger import actions as ledger
from commerce.ledger.models import LedgerLine
from tests.support import make_admin, make_buyer, make_courier, make_seller
from tests.unit import ledger_world as w
from tests.unit.seller_admin_turns import make_bot, texts
from tests.unit.test_ledger_flows import _phone, _tg, sms


def test_one_seeded_day(db, tmp_path):
    admin_tg = 990_019
    admin = make_admin(db, telegram_id=admin_tg)
    s1, s2 = make_seller(db), make_seller(db)
    c1, c2 = make_courier(db), make_courier(db)
    buyer = make_buyer(db)
    a = w.delivered_by(db, c1, seller=s1, buyer=buyer, price=500_000, quantity=2)
    w.delivered_by(db, c1, seller=s2, buyer=buyer, price=150_000)
    d = w.delivered_by(db, c2, seller=s2, buyer=buyer, price=300_000)
    w.delivered_by(db, c2, seller=s1, buyer=buyer, price=80_000)

    # c1 hands s1 her cash: declared by SMS, confirmed with one tap.
    sms(db, tmp_path, _phone(db, c1), "REMIS")
    bot = make_bot(db, tmp_path, admin_ids=(admin_tg,))
    held = w.held_for(db, c1, s1[0])
    bot.tap(_tg(db, s1[0]), f"k:ok:{c1}:{held}")
    # c2 says he handed s2 her cash; she says not received.
    sms(db, tmp_path, _phone(db, c2), "REMIS")
    [rem] = [r for r in ledger_remittances(db) if r.courier_id == c2 and r.seller_id == s2[0]]
    bot.tap(_tg(db, s2[0]), f"k:no:{rem.id}")
    # The buyer returns one of order a's two items: refunded through a return courier.
    refund = w.refund_order(db, a, c2)

    solde1 = sms(db, tmp_path, _phone(db, c1), "SOLDE")
    solde2 = sms(db, tmp_path, _phone(db, c2), "SOLDE")
    caisse1 = texts(bot.send(_tg(db, s1[0]), "/caisse"))
    caisse2 = texts(bot.send(_tg(db, s2[0]), "/caisse"))
    chiffres = texts(bot.send(admin_tg, "/chiffres")).split("\n\n")[-1]
    for title, text in (
        ("SOLDE courier 1", solde1),
        ("SOLDE courier 2", solde2),
        ("/caisse seller 1", caisse1),
        ("/caisse seller 2", caisse2),
        ("/chiffres (cash)", chiffres),
    ):
        print(f"--- {title}\n{text}")

    with db.session() as s:
        p1, p2 = (ledger.courier_position(s, courier_id=c) for c in (c1, c2))
        k1, k2 = (ledger.seller_position(s, seller_id=x[0]) for x in (s1, s2))
        rec = ledger.reconciliation(s, admin_id=admin)
        assert s.scalar(select(func.sum(LedgerLine.amount))) == 0
    assert w.unbalanced_entries(db) == []
    # Couriers, sellers and the admin read the same cash.
    assert p1.owed + p2.owed == k1.pending + k2.pending == rec.owed_to_sellers
    assert p1.held + p2.held == rec.held_by_couriers
    assert rec.open_disputes == 1 and rec.disputed_amount == k2.disputed == rem.amount
    # s1 received order a's goods (the buyer paid the delivery) and paid its refund back.
    assert k1.received == 1_000_000 - refund == 500_000
    assert p1.owed == w.held_for(db, c1, s2[0])  # c1 still holds s2's cash only
    assert "1 livreurs" not in chiffres and "(2 livreurs)" in chiffres
    assert d.order_id in rem.order_ids


def ledger_remittances(db):  # type: ignore[no-untyped-def]
    from commerce.ledger.models import Remittance

    with db.session() as s:
        return list(s.scalars(select(Remittance)))
