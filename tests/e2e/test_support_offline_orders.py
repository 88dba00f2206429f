"""The offline assistant on WhatsApp, about the buyer's own orders (issue 18): a lost code sent
again as "mes commandes" sends it, a silent seller handed to an admin, an English question
answered in English without changing her language, and the reported wrong answers gone.
Signed Twilio WhatsApp posts throughout.
"""

from __future__ import annotations

from commerce.threads import ThreadKind, open_thread_of_buyer
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.test_buyer_journeys import Phone, _fast_senders, _phone
from tests.support import make_admin
from tests.unit import flows

__all__ = ["_fast_senders"]  # the autouse fixture: fast pacing for these conversations too


def test_a_lost_code_comes_again_with_its_qr_and_pin(boutik: Boutik) -> None:
    placed = flows.place(boutik.db)
    wa = Phone(boutik, _phone(boutik.db, placed.buyer_id))
    wa.text("Bonjour")
    answers = wa.send("j'ai supprimé le message avec le PIN 😭")
    said = "\n".join(m.body for m in answers)
    assert f"n°{placed.order_id}" in said and placed.pin in said
    assert any(m.media_urls for m in answers)  # the QR picture, as at checkout


def test_the_reported_questions_are_answered_right_or_handed_to_an_admin(
    boutik: Boutik,
) -> None:
    db = boutik.db
    admin_id = make_admin(db)
    placed = flows.place(db)
    flows.deliver(db, placed)
    wa = Phone(boutik, _phone(db, placed.buyer_id))
    wa.text("Bonjour")

    size = wa.text("Je me suis trompée de pointure, je peux échanger ?")
    assert "retour" in size and "anglais" not in size
    assert f"n°{placed.order_id}" in size  # her delivered order, with its deadline

    pin = wa.text("Is it safe to give my PIN to the courier before I open the parcel?")
    assert "parcel is in your hands" in pin and "24/7" not in pin
    with db.session() as s:
        user = s.get(User, placed.buyer_id)
        assert user is not None and user.language.value == "fr"  # one message flips nothing

    silent = wa.text("Le vendeur ne répond pas à mes messages depuis hier")
    assert "administrateur" in silent and "Telegram" not in silent
    with db.session() as s:
        thread = open_thread_of_buyer(s, placed.buyer_id, ThreadKind.HANDOFF)
        assert thread is not None and thread.staff_id == admin_id
