"""Words that never clash (issue 17): END/FIN inside a hand-off or a thread end it and opt no
one out, while END elsewhere keeps Twilio's opt-out meaning; natural opt-outs and natural
hand-off requests are understood; a hand-off reaches the seller of the order just discussed.
Signed Twilio WhatsApp posts throughout.
"""

from __future__ import annotations

from sqlalchemy import select

from commerce.messaging.models import ConversationState
from commerce.threads import ThreadKind, ThreadStatus
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.test_buyer_journeys import Phone, _fast_senders, _phone
from tests.e2e.test_threads import _thread
from tests.support import Db, make_admin, make_buyer, make_product, make_seller
from tests.unit import flows

__all__ = ["_fast_senders"]  # the autouse fixture: fast pacing for these conversations too

OPTED_OUT = "vous ne recevrez plus de messages non essentiels"
HANDED = "Je vous passe à une personne"


def _opted_out(db: Db, user_id: int) -> bool:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user.opted_out


def _human_mode(db: Db, number: str) -> bool:
    with db.session() as s:
        conv = s.scalar(
            select(ConversationState).where(
                ConversationState.channel == "whatsapp", ConversationState.address == number
            )
        )
        return bool(conv and conv.human_mode)


def test_end_inside_a_hand_off_ends_it_and_opts_no_one_out(boutik: Boutik) -> None:
    db = boutik.db
    placed = flows.place(db)
    wa = Phone(boutik, _phone(db, placed.buyer_id))
    wa.text("Bonjour")
    assert HANDED in wa.text("humain")
    assert _human_mode(db, wa.number)

    bye = wa.text("END")
    assert "Conversation terminée" in bye and OPTED_OUT not in bye
    assert not _human_mode(db, wa.number)
    assert not _opted_out(db, placed.buyer_id)
    assert _thread(db, placed.buyer_id).status == ThreadStatus.CLOSED

    # Outside any thread END keeps Twilio's meaning: it opts out.
    assert OPTED_OUT in wa.text("END")
    assert _opted_out(db, placed.buyer_id)
    wa.text("START")
    assert not _opted_out(db, placed.buyer_id)


def test_end_inside_a_question_thread_closes_it(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller)
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")
    wa.text("", ButtonPayload=f"ask:{product_id}", ButtonText="Poser une question")
    wa.text("Il est garanti combien de temps ?")
    assert _thread(db, buyer_id).status == ThreadStatus.OPEN

    bye = wa.text("end")
    assert "Conversation terminée" in bye and OPTED_OUT not in bye
    assert _thread(db, buyer_id).status == ThreadStatus.CLOSED
    assert not _opted_out(db, buyer_id)


def test_natural_opt_outs_are_understood_and_confirmed(boutik: Boutik) -> None:
    db = boutik.db
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")
    for said in (
        "je ne veux plus recevoir de messages",
        "arrêtez de m'écrire",
        "stop merci",
        "Please stop sending me messages",
    ):
        assert OPTED_OUT in wa.text(said), said
        assert _opted_out(db, buyer_id), said
        wa.text("START")
        assert not _opted_out(db, buyer_id)
    # A sentence about an order is not an opt-out.
    wa.text("je ne veux plus cette commande")
    assert not _opted_out(db, buyer_id)


def test_natural_hand_off_phrases(boutik: Boutik) -> None:
    db = boutik.db
    make_admin(db)
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")
    for said in ("je veux parler à quelqu'un", "un conseiller", "I want to talk to someone"):
        handed = wa.text(said)
        assert HANDED in handed, said
        assert _human_mode(db, wa.number), said
        thread = _thread(db, buyer_id)
        assert thread.kind == ThreadKind.HANDOFF and thread.status == ThreadStatus.OPEN
        assert "Conversation terminée" in wa.text("FIN")
        assert not _human_mode(db, wa.number)


def test_first_message_asking_for_a_person_is_handed_off(boutik: Boutik) -> None:
    db = boutik.db
    make_admin(db)
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    assert HANDED in wa.text("je veux parler à quelqu'un")
    assert _human_mode(db, wa.number)


def test_the_hand_off_goes_to_the_seller_of_the_order_just_discussed(boutik: Boutik) -> None:
    db = boutik.db
    bah = flows.place(db)  # her older order, from one shop
    kaloum = flows.place(db, buyer=(bah.buyer_id, bah.address_id or 0))  # newer, another shop
    assert bah.seller_id != kaloum.seller_id
    wa = Phone(boutik, _phone(db, bah.buyer_id))
    wa.text("Bonjour")
    assert f"Commande {bah.order_id}" in wa.text(f"où est ma commande {bah.order_id}")
    assert HANDED in wa.text("parler à quelqu'un")
    thread = _thread(db, bah.buyer_id)
    assert thread.staff_id == bah.seller_id and thread.order_id == bah.order_id
