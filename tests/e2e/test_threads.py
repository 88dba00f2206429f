"""Buyer ↔ seller threads over the real webhooks: a WhatsApp buyer, a Telegram seller, the
provider emulators in between. Questions about a product, the hand-off to a human and back,
the seller typing the buyer's PIN, and a rating kept without a comment."""

from __future__ import annotations

from sqlalchemy import select

from commerce.messaging.models import ConversationState
from commerce.orders.models import DeliveryMode, OrderStatus
from commerce.reviews.models import Review
from commerce.threads import SupportThread, ThreadKind, ThreadMessage, ThreadStatus
from commerce.users.models import Role, User
from tests.e2e.conftest import Boutik, telegram_say, telegram_tap
from tests.e2e.test_buyer_journeys import Phone, _fast_senders, _phone
from tests.e2e.test_seller_telegram import _buttons, _last_text
from tests.support import Db, make_admin, make_buyer, make_product, make_seller
from tests.unit import flows
from tests.webhooks import post_twilio, whatsapp_form

__all__ = ["_fast_senders"]  # the autouse fixture: fast pacing for these conversations too


def _tg(db: Db, user_id: int) -> int:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.telegram_id is not None
        return user.telegram_id


def _thread(db: Db, buyer_id: int) -> SupportThread:
    with db.session() as s:
        thread = s.scalar(
            select(SupportThread)
            .where(SupportThread.buyer_id == buyer_id)
            .order_by(SupportThread.id.desc())
        )
        assert thread is not None
        return thread


def _conv(db: Db, number: str) -> ConversationState:
    with db.session() as s:
        conv = s.scalar(
            select(ConversationState).where(
                ConversationState.channel == "whatsapp", ConversationState.address == number
            )
        )
        assert conv is not None
        return conv


def _log(db: Db, thread_id: int) -> list[str]:
    with db.session() as s:
        return list(
            s.scalars(
                select(ThreadMessage.text)
                .where(ThreadMessage.thread_id == thread_id)
                .order_by(ThreadMessage.id)
            )
        )


def test_question_thread_both_ways_then_the_seller_closes(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller, name="Téléphone Samsung Galaxy A15")
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    tg = _tg(db, seller)

    wa.text("Bonjour")
    ask = wa.text("", ButtonPayload=f"ask:{product_id}", ButtonText="Poser une question")
    assert "Écrivez votre question" in ask
    sent = wa.text("Il est garanti combien de temps ?")
    assert "transmise au vendeur" in sent
    boutik.send_queued()
    # The seller reads it on Telegram, with the product and a Reply button.
    alert = _last_text(boutik, tg)
    assert "Téléphone Samsung Galaxy A15" in alert and "garanti combien" in alert
    thread = _thread(db, buyer_id)
    assert thread.kind == ThreadKind.QUESTION and thread.staff_id == seller
    assert _buttons(boutik, tg) == [f"th:r:{thread.id}", f"th:c:{thread.id}"]

    telegram_tap(boutik, tg, f"th:r:{thread.id}")
    assert "Écrivez votre réponse" in _last_text(boutik, tg)
    before = len(wa.messages())
    telegram_say(boutik, tg, "Un an, pièces et main-d'œuvre.")
    assert "Réponse envoyée" in _last_text(boutik, tg)
    answer = wa.messages()[before:]
    assert len(answer) == 1 and "Un an, pièces et main-d'œuvre." in answer[0].body
    assert "Répondez ici" in answer[0].body

    # The buyer answers in free words: they reach the seller, not the search.
    ack = wa.text("Et la livraison à Kipé ?")
    assert "transmis" in ack and "Résultats" not in ack
    boutik.send_queued()
    relayed = _last_text(boutik, tg)
    assert "Et la livraison à Kipé ?" in relayed
    assert _buttons(boutik, tg) == [f"th:r:{thread.id}", f"th:c:{thread.id}"]

    # The seller closes; the buyer is told and their words are a search again.
    before = len(wa.messages())
    telegram_tap(boutik, tg, f"th:c:{thread.id}")
    assert "close" in _last_text(boutik, tg)
    told = wa.messages()[before:]
    assert len(told) == 1 and "terminé la conversation" in told[0].body
    assert _thread(db, buyer_id).status == ThreadStatus.CLOSED
    assert _log(db, thread.id) == [
        "Il est garanti combien de temps ?",
        "Un an, pièces et main-d'œuvre.",
        "Et la livraison à Kipé ?",
    ]
    search = wa.text("telefone samsng")
    assert "Samsung Galaxy" in search  # the brand first
    # A stale Reply button on a closed thread gets an answer, not a crash.
    telegram_tap(boutik, tg, f"th:r:{thread.id}")
    assert "déjà close" in _last_text(boutik, tg)


def test_the_buyer_closes_and_a_stranger_cannot_use_the_thread(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    other, _ = make_seller(db)
    product_id = make_product(db, seller_id=seller)
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")
    wa.text("", ButtonPayload=f"ask:{product_id}", ButtonText="Poser une question")
    wa.text("Existe en bleu ?")
    thread = _thread(db, buyer_id)
    stranger = _tg(db, other)
    # Another seller forges the buttons: refused, nothing posted, nothing closed.
    telegram_tap(boutik, stranger, f"th:r:{thread.id}")
    assert "Reply" not in _last_text(boutik, stranger)
    assert "Écrivez votre réponse" not in _last_text(boutik, stranger)
    telegram_tap(boutik, stranger, f"th:c:{thread.id}")
    assert _thread(db, buyer_id).status == ThreadStatus.OPEN
    assert _log(db, thread.id) == ["Existe en bleu ?"]

    bye = wa.text("FIN")
    assert "Conversation terminée" in bye
    boutik.send_queued()
    assert "L'acheteur a terminé" in _last_text(boutik, _tg(db, seller))
    assert _thread(db, buyer_id).status == ThreadStatus.CLOSED


def test_hand_off_to_the_seller_and_release(boutik: Boutik) -> None:
    db = boutik.db
    placed = flows.place(db)
    seller, buyer_id = placed.seller_id, placed.buyer_id
    wa = Phone(boutik, _phone(db, buyer_id))
    tg = _tg(db, seller)

    wa.text("Bonjour")
    handed = wa.text("humain")
    assert "Je vous passe à une personne" in handed
    conv = _conv(db, wa.number)
    assert conv.human_mode and conv.data.get("human") == seller
    thread = _thread(db, buyer_id)
    assert thread.kind == ThreadKind.HANDOFF and thread.order_id == placed.order_id
    boutik.send_queued()
    alert = _last_text(boutik, tg)
    assert "parler à une personne" in alert and f"commande {placed.order_id}" in alert
    assert _buttons(boutik, tg) == [f"th:r:{thread.id}", f"th:x:{thread.id}"]

    # While a person holds it the bot is silent; the buyer's words reach the seller.
    before = len(wa.messages())
    form = whatsapp_form(wa.number, "Ma commande est où ?")
    assert post_twilio(boutik.client, "/webhooks/twilio/whatsapp", form).status_code == 200
    boutik.send_queued()
    assert len(wa.messages()) == before  # silence
    assert "Ma commande est où ?" in _last_text(boutik, tg)

    telegram_tap(boutik, tg, f"th:r:{thread.id}")
    telegram_say(boutik, tg, "Elle part cet après-midi.")
    answer = wa.messages()[before:]
    assert len(answer) == 1 and "Elle part cet après-midi." in answer[0].body

    telegram_tap(boutik, tg, f"th:x:{thread.id}")
    assert "rendue au bot" in _last_text(boutik, tg)
    released = wa.messages()[before + 1 :]
    assert len(released) == 1 and "le bot reprend" in released[0].body
    assert not _conv(db, wa.number).human_mode
    assert _thread(db, buyer_id).status == ThreadStatus.CLOSED
    menu = wa.text("menu")
    assert "1. Catalogue" in menu


def test_hand_off_goes_to_an_admin_without_an_open_order(boutik: Boutik) -> None:
    db = boutik.db
    admin = make_admin(db)
    buyer_id, _ = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))
    wa.text("Bonjour")
    handed = wa.text("parler à quelqu'un")
    assert "l'équipe Boutik" in handed
    thread = _thread(db, buyer_id)
    with db.session() as s:
        staff = s.get(User, thread.staff_id)
        assert staff is not None and staff.has_role(Role.ADMIN) and staff.id == admin
    boutik.send_queued()
    admin_tg = _tg(db, thread.staff_id)
    assert "parler à une personne" in _last_text(boutik, admin_tg)
    telegram_tap(boutik, admin_tg, f"th:r:{thread.id}")
    before = len(wa.messages())
    telegram_say(boutik, admin_tg, "Bonjour, je suis Fatou du support.")
    assert "Fatou du support" in wa.messages()[before].body
    bye = wa.text("fin")  # the buyer ends it: the bot answers again
    assert "Conversation terminée" in bye
    assert not _conv(db, wa.number).human_mode


def test_seller_delivering_personally_types_a_wrong_then_the_right_pin(boutik: Boutik) -> None:
    db = boutik.db
    placed = flows.place(db)
    flows.accept(db, placed)
    tg = _tg(db, placed.seller_id)
    telegram_tap(boutik, tg, f"d:m:{placed.order_id}")
    assert f"d:c:{placed.order_id}" in _buttons(boutik, tg)
    telegram_tap(boutik, tg, f"d:c:{placed.order_id}")
    assert "PIN" in _last_text(boutik, tg)
    wrong = "000000" if placed.pin != "000000" else "111111"
    telegram_say(boutik, tg, wrong)
    assert "Essais restants : 4" in _last_text(boutik, tg)
    assert flows.order(db, placed.order_id).status == OrderStatus.PICKED_UP
    telegram_say(boutik, tg, placed.pin)
    assert "PIN correct" in _last_text(boutik, tg)
    code = flows.code(db, placed.order_id)
    assert code.used_at is not None and code.failed_attempts == 1
    assert flows.confirm_cash(db, placed) is True
    assert flows.order(db, placed.order_id).status == OrderStatus.DELIVERED


def test_pickup_at_the_shop_the_seller_types_the_pin(boutik: Boutik) -> None:
    db = boutik.db
    placed = flows.place(db, mode=DeliveryMode.PICKUP)
    tg = _tg(db, placed.seller_id)
    telegram_tap(boutik, tg, f"o:a:{placed.order_id}")
    assert _buttons(boutik, tg) == [f"d:c:{placed.order_id}"]
    telegram_tap(boutik, tg, f"d:c:{placed.order_id}")
    telegram_say(boutik, tg, placed.pin)
    assert "PIN correct" in _last_text(boutik, tg)
    assert flows.code(db, placed.order_id).used_at is not None


def test_the_rating_is_kept_when_the_buyer_never_comments(boutik: Boutik) -> None:
    db = boutik.db
    placed = flows.place(db)
    flows.deliver(db, placed)
    wa = Phone(boutik, _phone(db, placed.buyer_id))
    wa.text("Bonjour")
    wa.text("", ButtonPayload=f"rate:{placed.order_id}:4", ButtonText="4")
    with db.session() as s:
        review = s.scalar(select(Review).where(Review.order_item_id == placed.item_id))
        assert review is not None and review.rating == 4 and review.comment == ""
    menu = wa.text("menu")  # walks away without a comment: the stars stay
    assert "1. Catalogue" in menu
    with db.session() as s:
        review = s.scalar(select(Review).where(Review.order_item_id == placed.item_id))
        assert review is not None and review.rating == 4
