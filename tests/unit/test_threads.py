"""Support threads in the core and in the flows: who may post, who is told, and how the buyer's
free words, the hand-off and the staff buttons move a conversation."""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.handoff_flow import hand_off_to_human
from bot.messages import Choices, Text
from commerce.catalog.questions import ask_question
from commerce.errors import IllegalTransition, PermissionDenied
from commerce.messaging.models import ConversationState
from commerce.reviews.models import Review
from commerce.threads import (
    ThreadKind,
    ThreadStatus,
    close_thread,
    messages,
    open_thread,
    post_message,
    staff_for_buyer,
)
from commerce.users.models import Channel, User
from tests.support import Db, make_admin, make_buyer, make_product, make_seller
from tests.unit import flows
from tests.unit.buyer_chat import Chat
from tests.unit.seller_admin_turns import choice_ids, make_bot, texts


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def _tg(db: Db, user_id: int) -> int:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.telegram_id is not None
        return user.telegram_id


def _question(db: Db) -> tuple[int, int, int, int]:
    """(seller, product, buyer, thread) for an open question thread asked on WhatsApp."""
    seller, _shop = make_seller(db)
    product = make_product(db, seller_id=seller)
    buyer, _ = make_buyer(db)
    with db.uow() as s:
        thread = ask_question(
            s,
            buyer_id=buyer,
            product_id=product,
            text="Garantie ?",
            buyer_channel=Channel.WHATSAPP,
            buyer_address="+224620000001",
        )
        return seller, product, buyer, thread.id


# --- the core -------------------------------------------------------------------------------


def test_a_question_opens_a_thread_and_messages_go_both_ways(db: Db) -> None:
    seller, _product, buyer, thread_id = _question(db)
    [opened] = flows.outbox(db, user_id=seller, kind="thread_opened")
    assert opened.payload["params"] == {
        "thread_id": thread_id,
        "thread_kind": "question",
        "text": "Garantie ?",
    }
    assert opened.channel is None  # sellers are reached on Telegram by the worker
    with db.uow() as s:
        post_message(s, thread_id=thread_id, author_id=seller, text="  Un an.  ")
        post_message(s, thread_id=thread_id, author_id=buyer, text="Merci")
    [to_buyer] = flows.outbox(db, user_id=buyer, kind="thread_message")
    assert to_buyer.payload["params"]["text"] == "Un an."
    # The answer goes back where the buyer asked.
    assert to_buyer.channel == Channel.WHATSAPP and to_buyer.address == "+224620000001"
    [to_seller] = flows.outbox(db, user_id=seller, kind="thread_message")
    assert to_seller.payload["params"]["text"] == "Merci"
    with db.session() as s:
        assert [m.text for m in messages(s, thread_id)] == ["Garantie ?", "Un an.", "Merci"]


def test_a_stranger_can_neither_post_nor_close(db: Db) -> None:
    _seller, _product, _buyer, thread_id = _question(db)
    other_seller, _ = make_seller(db)
    other_buyer, _ = make_buyer(db)
    for stranger in (other_seller, other_buyer):
        with pytest.raises(PermissionDenied), db.uow() as s:
            post_message(s, thread_id=thread_id, author_id=stranger, text="Coucou")
        with pytest.raises(PermissionDenied), db.uow() as s:
            close_thread(s, thread_id=thread_id, actor_id=stranger)
    with db.session() as s:
        assert len(messages(s, thread_id)) == 1


def test_a_seller_cannot_answer_for_another_shops_product(db: Db) -> None:
    seller, _ = make_seller(db)
    product = make_product(db, seller_id=seller)
    other, _ = make_seller(db)
    buyer, _ = make_buyer(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        open_thread(
            s, buyer_id=buyer, staff_id=other, kind="question", text="?!", product_id=product
        )


def test_closing_tells_the_other_side_and_ends_posting(db: Db) -> None:
    seller, _product, buyer, thread_id = _question(db)
    with db.uow() as s:
        thread = close_thread(s, thread_id=thread_id, actor_id=buyer)
        assert thread.status == ThreadStatus.CLOSED and thread.closed_by == buyer
    assert len(flows.outbox(db, user_id=seller, kind="thread_closed")) == 1
    assert flows.outbox(db, user_id=buyer, kind="thread_closed") == []
    with pytest.raises(IllegalTransition), db.uow() as s:
        post_message(s, thread_id=thread_id, author_id=seller, text="Encore ?")
    with db.uow() as s:  # closing twice is harmless and tells nobody again
        close_thread(s, thread_id=thread_id, actor_id=seller)
    assert len(flows.outbox(db, user_id=seller, kind="thread_closed")) == 1


def test_hand_off_goes_to_the_seller_of_the_open_order_else_an_admin(db: Db) -> None:
    placed = flows.place(db)
    loner, _ = make_buyer(db)
    admin = make_admin(db)
    with db.session() as s:
        assert staff_for_buyer(s, placed.buyer_id) == (placed.seller_id, placed.order_id)
        staff, order = staff_for_buyer(s, loner)
        assert order is None and s.get(User, staff) is not None
        assert staff <= admin  # the first admin


# --- the flows ------------------------------------------------------------------------------


def test_question_thread_in_the_chats(db: Db, media: Path, tmp_path: Path) -> None:
    seller, _shop = make_seller(db)
    product = make_product(db, seller_id=seller)
    chat = Chat(db, media)
    bot = make_bot(db, tmp_path)
    tg = _tg(db, seller)
    chat.say("bonjour")
    chat.press(f"ask:{product}")
    chat.say("Il existe en rouge ?")
    buyer = chat.user_id()
    [row] = flows.outbox(db, user_id=seller, kind="thread_opened")
    thread_id = row.payload["params"]["thread_id"]
    alert = bot.notification(seller, "thread_opened")
    assert isinstance(alert, Choices) and "Il existe en rouge ?" in alert.text
    assert [c.id for c in alert.choices] == [f"th:r:{thread_id}", f"th:c:{thread_id}"]

    assert "Écrivez votre réponse" in texts(bot.tap(tg, f"th:r:{thread_id}"))
    assert bot.state(tg) == ("seller", "thread_reply")
    sent = bot.send(tg, "Oui, et en bleu.")
    assert "Réponse envoyée" in texts(sent) and bot.state(tg) == ("seller", "menu")
    answer = bot.notification(buyer, "thread_message")
    assert isinstance(answer, Text) and "Oui, et en bleu." in answer.text
    assert "Répondez ici" in answer.text

    chat.say("Parfait, je prends le rouge")  # free words: to the seller, not a search
    assert "transmis" in chat.texts()
    assert "Parfait, je prends le rouge" in texts([bot.notification(seller, "thread_message")])
    chat.say("fin")
    assert "Conversation terminée" in chat.texts()
    with db.session() as s:
        assert [m.text for m in messages(s, thread_id)][-1] == "Parfait, je prends le rouge"
    chat.say("samsung")  # a search again
    assert "transmis" not in chat.texts()


def test_forged_thread_buttons_are_refused(db: Db, media: Path, tmp_path: Path) -> None:
    _seller, _product, _buyer, thread_id = _question(db)
    other, _ = make_seller(db)
    bot = make_bot(db, tmp_path)
    tg = _tg(db, other)
    for data in (f"th:r:{thread_id}", f"th:c:{thread_id}", f"th:x:{thread_id}", "th:r:abc"):
        replies = bot.tap(tg, data)
        assert replies and "Écrivez votre réponse" not in texts(replies)
    with db.session() as s:
        assert len(messages(s, thread_id)) == 1


def test_hand_off_and_release_in_the_chats(db: Db, media: Path, tmp_path: Path) -> None:
    placed = flows.place(db)
    chat = Chat(db, media, number=_phone(db, placed.buyer_id))
    bot = make_bot(db, tmp_path)
    tg = _tg(db, placed.seller_id)
    chat.say("bonjour")
    chat.say("Agent")
    assert "Je vous passe à une personne" in chat.texts()
    assert _human_mode(db, chat) is True
    assert chat.say("Où est mon colis ?") == []  # the bot is silent
    assert chat.say("samsung") == []
    relayed = bot.notification(placed.seller_id, "thread_message")
    assert "samsung" in texts([relayed])
    thread_id = flows.outbox(db, user_id=placed.seller_id, kind="thread_opened")[0].payload[
        "params"
    ]["thread_id"]
    assert choice_ids([relayed]) == [f"th:r:{thread_id}", f"th:x:{thread_id}"]
    bot.tap(tg, f"th:r:{thread_id}")
    bot.send(tg, "Il arrive demain matin.")
    assert "Il arrive demain matin." in texts([bot.notification(placed.buyer_id, "thread_message")])
    released = bot.tap(tg, f"th:x:{thread_id}")
    assert "rendue au bot" in texts(released)
    assert _human_mode(db, chat) is False
    assert "le bot reprend" in texts([bot.notification(placed.buyer_id, "thread_closed")])
    chat.say("menu")
    assert chat.choice("Catalogue") == "menu:catalog"


def test_hand_off_to_human_called_from_outside_a_turn(db: Db) -> None:
    """The assistant's entry point: works without a conversation row and is idempotent."""
    placed = flows.place(db)
    with db.uow() as s:
        first = hand_off_to_human(
            s,
            buyer_id=placed.buyer_id,
            channel=Channel.WHATSAPP,
            address="+224621112233",
            reason="Le modèle ne sait pas",
        )
        again = hand_off_to_human(
            s,
            buyer_id=placed.buyer_id,
            channel=Channel.WHATSAPP,
            address="+224621112233",
            reason="Toujours là ?",
        )
        assert first.id == again.id and first.kind == ThreadKind.HANDOFF
        assert first.staff_id == placed.seller_id and first.order_id == placed.order_id
        conv = s.scalar(
            select(ConversationState).where(ConversationState.address == "+224621112233")
        )
        assert conv is not None and conv.human_mode
    [told] = flows.outbox(db, user_id=placed.buyer_id, kind="thread_handoff")
    assert told.channel == Channel.WHATSAPP
    with db.session() as s:
        assert [m.text for m in messages(s, first.id)] == ["Le modèle ne sait pas", "Toujours là ?"]


def test_seller_types_the_pin_wrong_then_right(db: Db, tmp_path: Path) -> None:
    placed = flows.place(db)
    flows.accept(db, placed)
    bot = make_bot(db, tmp_path)
    tg = _tg(db, placed.seller_id)
    mine = bot.tap(tg, f"d:m:{placed.order_id}")
    assert choice_ids(mine) == [f"d:c:{placed.order_id}"]
    assert "PIN" in texts(bot.tap(tg, f"d:c:{placed.order_id}"))
    assert "6 chiffres" in texts(bot.send(tg, "abc"))
    wrong = "000000" if placed.pin != "000000" else "111111"
    assert "Essais restants : 4" in texts(bot.send(tg, wrong))
    assert bot.state(tg) == ("seller", "pin")
    assert "PIN correct" in texts(bot.send(tg, placed.pin))
    assert flows.code(db, placed.order_id).used_at is not None
    assert flows.order(db, placed.order_id).status.value == "picked_up"


def test_rating_is_saved_at_the_tap(db: Db, media: Path) -> None:
    placed = flows.place(db)
    flows.deliver(db, placed)
    chat = Chat(db, media, number=_phone(db, placed.buyer_id))
    chat.say("bonjour")
    chat.press(f"rate:{placed.order_id}:2")
    with db.session() as s:
        review = s.scalar(select(Review).where(Review.order_item_id == placed.item_id))
        assert review is not None and review.rating == 2 and review.comment == ""
    chat.say("Emballage abîmé")
    with db.session() as s:
        review = s.scalar(select(Review).where(Review.order_item_id == placed.item_id))
        assert review is not None and review.rating == 2 and review.comment == "Emballage abîmé"
    # One alert per review: held at the tap, sent when the words come, and carrying them.
    assert len(flows.outbox(db, user_id=placed.seller_id, kind="negative_review")) == 1


def _phone(db: Db, user_id: int) -> str:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def _human_mode(db: Db, chat: Chat) -> bool:
    with db.session() as s:
        conv = s.scalar(
            select(ConversationState).where(
                ConversationState.channel == chat.channel,
                ConversationState.address == chat.address,
            )
        )
        assert conv is not None
        return conv.human_mode
