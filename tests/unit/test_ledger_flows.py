"""Where people see the ledger: SOLDE/REMIS by SMS, /caisse on Telegram (one-tap confirm, a
forged button refused, the dispute reaching the admins, the CSV), /chiffres, and cash alerts."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from bot.courier.flow import FLOW as COURIER
from bot.engine import Engine
from bot.messages import Choices, Document, InboundKind, InboundMessage, Text
from commerce import clock, rules
from commerce.ledger import actions as ledger
from commerce.messaging.sms_text import segments, to_gsm7
from commerce.users.models import Channel, User
from tests.support import Db, make_admin, make_courier, make_seller
from tests.unit import flows
from tests.unit import ledger_world as w
from tests.unit.seller_admin_turns import choice_ids, make_bot, texts


def _phone(db: Db, user_id: int) -> str:
    with db.session() as s:
        u = s.get(User, user_id)
        assert u is not None and u.phone
        return u.phone


def _tg(db: Db, user_id: int) -> int:
    with db.session() as s:
        u = s.get(User, user_id)
        assert u is not None and u.telegram_id
        return u.telegram_id


def sms(db: Db, tmp_path: Path, address: str, text: str) -> str:
    engine = Engine(lambda _u, _m, _c: COURIER, flow_named=lambda _n: COURIER, media_dir=tmp_path)
    msg = InboundMessage(
        provider="twilio", external_id=f"SM{address}{text}{clock.now().timestamp()}",
        channel=Channel.SMS, address=address, kind=InboundKind.TEXT, text=text,
    )  # fmt: skip
    with db.uow() as s:
        replies = engine.handle(s, msg).replies
    return "\n".join(r.text for r in replies if isinstance(r, Text | Choices))


def test_solde_is_one_sms_with_what_he_holds_and_owes(db, tmp_path):
    seller = make_seller(db)
    courier = make_courier(db)
    phone = _phone(db, courier)
    assert "ne détenez rien" in sms(db, tmp_path, phone, "SOLDE")
    p = w.delivered_by(db, courier, seller=seller, price=1_000_000)
    c = w.commission_of(db, p.order_id)
    text = sms(db, tmp_path, phone, "solde")
    assert "1 000 000 GNF" in text and f"{c:,}".replace(",", " ") in text
    assert segments(to_gsm7(text)) == ("GSM-7", 1)
    assert "GAINS" not in text
    gains = sms(db, tmp_path, phone, "GAINS")
    assert "non payé " + f"{c:,}".replace(",", " ") in gains.replace("\u202f", " ")


def test_remis_then_the_sellers_one_tap_confirm(db, tmp_path):
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=1_000_000)
    assert "Remise déclarée" in sms(db, tmp_path, _phone(db, courier), "REMIS")
    assert "Rien de nouveau" in sms(db, tmp_path, _phone(db, courier), "REMIS")
    bot = make_bot(db, tmp_path)
    note = bot.notification(seller[0], "remittance_declared")
    assert isinstance(note, Choices)
    assert f"k:ok:{courier}:1000000" in [c.id for c in note.choices]
    assert "Reçu 1 000 000 GNF de Ibrahima" in [c.label for c in note.choices]
    tg = _tg(db, seller[0])
    shown = bot.send(tg, "/caisse")
    assert "1 000 000 GNF" in texts(shown) and f"k:ok:{courier}:1000000" in choice_ids(shown)
    done = bot.tap(tg, f"k:ok:{courier}:1000000")
    assert "1 000 000 GNF reçus de Ibrahima" in texts(done)
    assert w.held_for(db, courier, seller[0]) == 0
    again = bot.tap(tg, f"k:ok:{courier}:1000000")  # the double tap
    assert "Rien à remettre" in texts(again)


def test_a_forged_or_other_sellers_button_is_refused(db, tmp_path):
    seller, other = make_seller(db), make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=500_000)
    [rem] = w.declare(db, courier)
    bot = make_bot(db, tmp_path)
    intruder = _tg(db, other[0])
    assert "Rien à remettre" in texts(bot.tap(intruder, f"k:ok:{courier}:500000"))
    assert "pas le droit" in texts(bot.tap(intruder, f"k:no:{rem.id}"))
    assert "pas compris" in texts(bot.tap(intruder, "k:ok:abc")).lower()
    tg = _tg(db, seller[0])
    assert "montant a changé" in texts(bot.tap(tg, f"k:ok:{courier}:900000"))
    assert w.held_for(db, courier, seller[0]) == 500_000


def test_not_received_reaches_the_admins_with_both_sides_and_shows_in_chiffres(db, tmp_path):
    admin_tg = 990_001
    admin = make_admin(db, telegram_id=admin_tg)
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=500_000)
    [rem] = w.declare(db, courier)
    bot = make_bot(db, tmp_path, admin_ids=(admin_tg,))
    said = bot.tap(_tg(db, seller[0]), f"k:no:{rem.id}")
    assert "contestée" in texts(said)
    alert = bot.notification(admin, "remittance_disputed")
    assert "Ibrahima" in texts([alert]) and "500 000 GNF" in texts([alert])
    assert "pas reçu" in texts([alert]).lower()
    assert flows.outbox(db, kind="remittance_disputed_courier")
    figures = texts(bot.send(admin_tg, "/chiffres"))
    assert "Litiges ouverts: 1 (500 000 GNF)" in figures
    assert f"Litige n°{rem.id}" in figures


def test_chiffres_shows_cash_with_couriers_and_the_ledger_exports(db, tmp_path):
    admin_tg = 990_002
    make_admin(db, telegram_id=admin_tg)
    seller = make_seller(db)
    courier = make_courier(db)
    p = w.delivered_by(db, courier, seller=seller, price=200_000)
    bot = make_bot(db, tmp_path, admin_ids=(admin_tg,))
    figures = texts(bot.send(admin_tg, "/chiffres"))
    held = p.total
    assert f"Chez les livreurs: {held:,} GNF (1 livreur)".replace(",", " ") in figures.replace(
        "\u202f", " "
    )
    assert "x:ledger" in choice_ids(bot.send(admin_tg, "/export"))
    [doc] = bot.tap(admin_tg, "x:ledger")
    assert isinstance(doc, Document)
    body = (tmp_path / doc.media_path).read_text(encoding="utf-8-sig")
    assert "door_payment" in body and "courier_cash" in body


def test_the_sellers_statement_csv(db, tmp_path):
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=200_000)
    bot = make_bot(db, tmp_path)
    [doc] = bot.tap(_tg(db, seller[0]), "k:csv:30")
    assert isinstance(doc, Document)
    body = (tmp_path / doc.media_path).read_text(encoding="utf-8-sig")
    assert body.splitlines()[0].startswith("date,entry,kind") and "door_payment" in body


def test_cash_alerts_once_per_crossing(db):
    admin = make_admin(db)
    seller = make_seller(db)
    courier = make_courier(db)
    rules.bind(db.factory, rules.Rules(max_cash_held_gnf=300_000, max_cash_age_hours=0))
    w.delivered_by(db, courier, seller=seller, price=200_000)
    with db.uow() as s:
        assert ledger.sweep_cash_alerts(s) == []  # under the threshold
    w.delivered_by(db, courier, seller=seller, price=200_000)
    with db.uow() as s:
        [told] = ledger.sweep_cash_alerts(s)
    assert told.courier_id == courier
    with db.uow() as s:
        assert ledger.sweep_cash_alerts(s) == []  # still over: not told again
    assert [o.user_id for o in flows.outbox(db, kind="cash_alert")] == [courier]
    assert admin in {o.user_id for o in flows.outbox(db, kind="cash_alert_admin")}
    held = w.held_for(db, courier, seller[0])
    w.confirm(db, seller[0], courier, held)  # back under: re-armed
    with db.uow() as s:
        assert ledger.sweep_cash_alerts(s) == []
    w.delivered_by(db, courier, seller=seller, price=200_000)
    w.delivered_by(db, courier, seller=seller, price=200_000)
    with db.uow() as s:
        assert len(ledger.sweep_cash_alerts(s)) == 1
    assert len(flows.outbox(db, kind="cash_alert")) == 2
    with db.session() as s:
        assert s.scalar(select(User.id).where(User.id == courier)) == courier
