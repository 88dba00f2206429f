"""Admins on Telegram (issue 19): adding a courier (/livreur), settling a cash dispute with
"Reçu" / "Non reçu" and a reason, and a ledger correction (/correction) — every button
forged, stale or tapped by someone else is answered politely and changes nothing."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import func, select

from bot.messages import Choices
from commerce.delivery import actions as delivery
from commerce.delivery.models import Courier, CourierStatus
from commerce.errors import PermissionDenied
from commerce.ledger.models import EntryKind, LedgerEntry, Remittance, RemittanceStatus
from commerce.messaging.sms_text import segments, to_gsm7
from commerce.users.models import Role, User
from tests.support import Db, make_admin, make_buyer, make_courier, make_seller, phone
from tests.unit import flows
from tests.unit import ledger_world as w
from tests.unit.seller_admin_turns import Bot, choice_ids, make_bot, texts

ADMIN_TG = 990_301


@pytest.fixture
def bot(db: Db, tmp_path: Path) -> Bot:
    make_admin(db, telegram_id=ADMIN_TG)
    b = make_bot(db, tmp_path, admin_ids=(ADMIN_TG,))
    b.send(ADMIN_TG, "/start")
    return b


def _tg(db: Db, user_id: int) -> int:
    with db.session() as s:
        u = s.get(User, user_id)
        assert u is not None and u.telegram_id
        return u.telegram_id


def _courier_of(db: Db, number: str) -> Courier | None:
    with db.session() as s:
        user = s.scalar(select(User).where(User.phone == number))
        if user is None:
            return None
        return s.scalar(select(Courier).where(Courier.user_id == user.id))


# --- /livreur -------------------------------------------------------------------------------


def test_an_admin_adds_a_courier_step_by_step_and_he_is_welcomed_by_sms(bot: Bot, db: Db):
    number = phone()
    assert "nom" in texts(bot.send(ADMIN_TG, "/livreur")).lower()
    assert "téléphone" in texts(bot.send(ADMIN_TG, "Mamadou Camara")).lower()
    assert "pas valide" in texts(bot.send(ADMIN_TG, "12345"))
    assert "préfecture" in texts(bot.send(ADMIN_TG, number[4:]))  # "62…" without +224
    assert "ne connais pas" in texts(bot.send(ADMIN_TG, "Paris"))
    asked = bot.send(ADMIN_TG, "Ratoma")
    assert {"ac:veh:moto", "ac:veh:voiture", "ac:veh:velo", "ac:veh:pied"} <= set(choice_ids(asked))
    done = texts(bot.tap(ADMIN_TG, "ac:veh:moto"))
    assert "Livreur ajouté" in done and "Mamadou Camara" in done and "Ratoma" in done
    courier = _courier_of(db, number)
    assert courier is not None and courier.status == CourierStatus.APPROVED
    assert courier.available is False  # he goes ON himself
    welcome = texts([bot.notification(courier.user_id, "courier_added")])
    assert "Admin" in welcome and "ON" in welcome and "AIDE" in welcome
    assert segments(to_gsm7(welcome)) == ("GSM-7", 1)
    with db.uow() as s:  # ON works at once: approved through the same core as a sign-up
        assert delivery.set_available(s, user_id=courier.user_id, available=True).available


def test_a_buyer_becomes_a_courier_too_and_a_courier_is_told_so(bot: Bot, db: Db):
    buyer_id, _address = make_buyer(db)
    number = _phone_of(db, buyer_id)
    bot.send(ADMIN_TG, "/livreur")
    bot.send(ADMIN_TG, "Fatou")
    assert "deviendra aussi livreur" in texts(bot.send(ADMIN_TG, number))
    bot.send(ADMIN_TG, "Kindia")
    assert "Livreur ajouté" in texts(bot.send(ADMIN_TG, "velo"))  # typed, not tapped
    with db.session() as s:
        user = s.get(User, buyer_id)
        assert user is not None and user.has_role(Role.BUYER) and user.has_role(Role.COURIER)
    bot.send(ADMIN_TG, "/livreur")
    bot.send(ADMIN_TG, "Fatou")
    assert "déjà livreur" in texts(bot.send(ADMIN_TG, number))
    assert bot.state(ADMIN_TG)[1] == "menu"


def test_annuler_leaves_the_dialogue_and_a_stale_vehicle_button_adds_nobody(bot: Bot, db: Db):
    number = phone()
    bot.send(ADMIN_TG, "/livreur")
    bot.send(ADMIN_TG, "Sekou")
    bot.send(ADMIN_TG, number)
    bot.send(ADMIN_TG, "Dixinn")
    bot.send(ADMIN_TG, "/annuler")
    assert bot.state(ADMIN_TG)[1] == "menu"
    assert "plus en cours" in texts(bot.tap(ADMIN_TG, "ac:veh:moto"))
    assert _courier_of(db, number) is None


def test_only_an_admin_adds_a_courier(db: Db, tmp_path: Path):
    seller_id, _shop = make_seller(db)
    number = phone()
    with db.uow() as s, pytest.raises(PermissionDenied):
        delivery.add_courier(
            s, admin_id=seller_id, phone=number, name="X", prefecture="Dixinn", vehicle="moto"
        )
    b = make_bot(db, tmp_path)
    b.tap(_tg(db, seller_id), "ac:veh:moto")  # a seller's forged tap reaches no admin handler
    b.send(_tg(db, seller_id), "/livreur")
    assert _courier_of(db, number) is None


# --- disputes -------------------------------------------------------------------------------


def _dispute(db: Db) -> tuple[tuple[int, int], int, Remittance]:
    seller = make_seller(db)
    courier = make_courier(db)
    w.delivered_by(db, courier, seller=seller, price=500_000)
    [rem] = w.declare(db, courier)
    w.dispute(db, seller[0], rem.id, note="rien vu")
    return seller, courier, rem


def _status(db: Db, remittance_id: int) -> RemittanceStatus:
    with db.session() as s:
        rem = s.get(Remittance, remittance_id)
        assert rem is not None
        return rem.status


def test_not_received_settled_from_the_alert_with_a_reason(bot: Bot, db: Db):
    admin = bot.user_id(ADMIN_TG)
    seller, courier, rem = _dispute(db)
    alert = bot.notification(admin, "remittance_disputed")
    assert isinstance(alert, Choices)
    assert {f"ld:ok:{rem.id}", f"ld:no:{rem.id}"} <= set(choice_ids([alert]))
    assert f"ld:no:{rem.id}" in choice_ids(bot.send(ADMIN_TG, "/chiffres"))
    asked = texts(bot.tap(ADMIN_TG, f"ld:no:{rem.id}"))
    assert "raison" in asked.lower() and "500 000 GNF" in asked
    said = texts(bot.send(ADMIN_TG, "Le vendeur a montré son carnet"))
    assert "non reçu" in said.lower()
    assert _status(db, rem.id) == RemittanceStatus.REJECTED
    assert w.held_for(db, courier, seller[0]) == 500_000
    # The same button again, or its twin: settled already, said politely, nothing changes.
    assert "déjà été traitée" in texts(bot.tap(ADMIN_TG, f"ld:ok:{rem.id}"))
    assert _status(db, rem.id) == RemittanceStatus.REJECTED
    assert "ld:" not in " ".join(choice_ids(bot.send(ADMIN_TG, "/chiffres")))


def test_received_settles_the_cash_into_the_sellers_hands(bot: Bot, db: Db):
    seller, courier, rem = _dispute(db)
    bot.tap(ADMIN_TG, f"ld:ok:{rem.id}")
    assert "reçus par" in texts(bot.send(ADMIN_TG, "Reçu signé retrouvé"))
    assert _status(db, rem.id) == RemittanceStatus.CONFIRMED
    assert w.held_for(db, courier, seller[0]) == 0


def test_forged_dispute_buttons_are_refused_politely(bot: Bot, db: Db):
    seller, _courier, rem = _dispute(db)
    assert "déjà été traitée" in texts(bot.tap(ADMIN_TG, "ld:ok:999999"))
    assert "pas compris" in texts(bot.tap(ADMIN_TG, "ld:ok:abc")).lower()
    seller_tg = _tg(db, seller[0])
    said = bot.tap(seller_tg, f"ld:ok:{rem.id}")  # a seller forging the admin's button
    assert texts(said)  # answered, not silent
    bot.send(seller_tg, "c'est reçu")
    assert _status(db, rem.id) == RemittanceStatus.DISPUTED
    # A reason typed after the dispute was settled by another admin: refused, not recorded.
    bot.tap(ADMIN_TG, f"ld:ok:{rem.id}")
    with db.uow() as s:
        other = make_admin(db)
        from commerce.ledger import actions as ledger

        ledger.resolve_dispute(s, admin_id=other, remittance_id=rem.id, received=False, reason="x")
    assert "déjà été traitée" in texts(bot.send(ADMIN_TG, "reçu"))
    assert _status(db, rem.id) == RemittanceStatus.REJECTED


# --- corrections ----------------------------------------------------------------------------


def _corrections(db: Db) -> int:
    with db.session() as s:
        return int(
            s.scalar(
                select(func.count(LedgerEntry.id)).where(LedgerEntry.kind == EntryKind.CORRECTION)
            )
            or 0
        )


def _phone_of(db: Db, user_id: int) -> str:
    with db.session() as s:
        u = s.get(User, user_id)
        assert u is not None and u.phone
        return u.phone


def test_a_correction_on_the_cash_a_courier_holds(bot: Bot, db: Db):
    seller = make_seller(db)
    courier = make_courier(db)
    p = w.delivered_by(db, courier, seller=seller, price=100_000)
    bot.send(ADMIN_TG, "/correction")
    accounts = bot.send(ADMIN_TG, _phone_of(db, courier))
    labels = [c.label for r in accounts if isinstance(r, Choices) for c in r.choices]
    assert any(f"cmd {p.order_id}" in label for label in labels)
    index = next(i for i, label in enumerate(labels) if f"cmd {p.order_id}" in label)
    assert "signe" in texts(bot.tap(ADMIN_TG, f"lc:a:{index}"))
    assert "signe" in texts(bot.send(ADMIN_TG, "10000"))  # no sign: asked again
    assert "raison" in texts(bot.send(ADMIN_TG, "-10 000")).lower()
    summary = bot.send(ADMIN_TG, "Billet faux")
    assert "-10 000 GNF" in texts(summary) and "lc:ok" in choice_ids(summary)
    assert "inscrite" in texts(bot.tap(ADMIN_TG, "lc:ok"))
    assert w.held_for(db, courier, seller[0]) == 90_000
    assert "plus en cours" in texts(bot.tap(ADMIN_TG, "lc:ok"))  # the double tap
    assert _corrections(db) == 1


def test_a_correction_can_be_cancelled_and_forged_taps_record_nothing(
    bot: Bot, db: Db, tmp_path: Path
):
    seller = make_seller(db)
    bot.send(ADMIN_TG, "/correction")
    bot.send(ADMIN_TG, _phone_of(db, seller[0]))
    assert "plus en cours" in texts(bot.tap(ADMIN_TG, "lc:a:99"))
    bot.send(ADMIN_TG, "/correction")
    bot.send(ADMIN_TG, _phone_of(db, seller[0]))
    bot.tap(ADMIN_TG, "lc:a:0")
    bot.send(ADMIN_TG, "+5000")
    bot.send(ADMIN_TG, "Espèces trouvées")
    assert "annulée" in texts(bot.tap(ADMIN_TG, "lc:no"))
    seller_tg = _tg(db, seller[0])
    assert texts(bot.tap(seller_tg, "lc:ok"))  # a seller forging it: answered, nothing written
    assert _corrections(db) == 0
    assert flows.outbox(db, kind="courier_added") == []


def test_the_sellers_caisse_marks_a_disputed_row(db: Db, tmp_path: Path):
    seller, _courier, _rem = _dispute(db)
    shown = texts(make_bot(db, tmp_path).send(_tg(db, seller[0]), "/caisse"))
    assert "EN LITIGE: 500 000 GNF" in shown.replace("\u202f", " ")
