"""Buyers rate the courier who delivered their order, 1 to 5 (issue 19, PRODUCT.md).

The core enforces: one rating per delivered order, by its buyer, only when a courier (not the
seller himself) delivered it. The buyer flow asks it with one more tap after the order's stars.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.buyer import notifications as buyer_notices
from bot.buyer.states import BuyerState as S
from bot.messages import Text
from bot.seller import notifications as seller_notices
from commerce.catalog.models import Shop
from commerce.delivery import actions as delivery
from commerce.errors import AlreadyReviewed, InvalidRating, NotFound, ReviewNotAllowed
from commerce.messaging.sms_text import segments, to_gsm7
from commerce.reviews import actions as reviews
from commerce.reviews.models import CourierRating
from commerce.users.models import User
from tests.support import Db, make_buyer, make_seller
from tests.unit import flows
from tests.unit.buyer_chat import Chat
from tests.unit.seller_admin_turns import make_bot, texts
from tests.unit.test_courier_flow import Bot as CourierBot


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def _phone_of(db: Db, user_id: int) -> str:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def _delivered(db: Db) -> tuple[flows.Placed, int]:
    placed = flows.place(db)
    courier_id = flows.deliver(db, placed)
    return placed, courier_id


def test_the_buyer_rates_the_courier_once(db: Db) -> None:
    placed, courier_id = _delivered(db)
    with db.uow() as s:
        rated = reviews.rate_courier(
            s, buyer_id=placed.buyer_id, order_id=placed.order_id, rating=4
        )
        assert rated.courier_id == courier_id
    with db.uow() as s, pytest.raises(AlreadyReviewed):
        reviews.rate_courier(s, buyer_id=placed.buyer_id, order_id=placed.order_id, rating=5)
    with db.session() as s:
        assert reviews.courier_rating(s, courier_id) == (4.0, 1)
        assert (
            reviews.courier_to_rate(s, buyer_id=placed.buyer_id, order_id=placed.order_id) is None
        )


def test_rating_the_courier_is_refused_to_others_before_delivery_and_out_of_range(db: Db) -> None:
    placed, _courier = _delivered(db)
    stranger, _address = make_buyer(db)
    with db.uow() as s, pytest.raises(NotFound):
        reviews.rate_courier(s, buyer_id=stranger, order_id=placed.order_id, rating=5)
    with db.uow() as s, pytest.raises(InvalidRating):
        reviews.rate_courier(s, buyer_id=placed.buyer_id, order_id=placed.order_id, rating=6)
    not_yet = flows.place(db)
    flows.to_picked_up(db, not_yet)
    with db.uow() as s, pytest.raises(ReviewNotAllowed):
        reviews.rate_courier(s, buyer_id=not_yet.buyer_id, order_id=not_yet.order_id, rating=5)
    with db.session() as s:
        assert s.scalar(select(CourierRating.id)) is None


def test_no_courier_to_rate_when_the_seller_delivered_himself(db: Db) -> None:
    placed = flows.place(db)
    flows.accept(db, placed)
    with db.uow() as s:  # the seller delivers personally
        job_id = delivery.assign_courier(s, seller_id=placed.seller_id, order_id=placed.order_id).id
    flows.pick_up(db, placed.seller_id, job_id)
    flows.prove_pin(db, placed.seller_id, placed)
    flows.confirm_cash(db, placed)
    with db.uow() as s, pytest.raises(ReviewNotAllowed):
        reviews.rate_courier(s, buyer_id=placed.buyer_id, order_id=placed.order_id, rating=5)


def test_after_her_order_stars_one_more_tap_rates_the_courier(db: Db, media: Path) -> None:
    placed = flows.place(db)
    chat = Chat(db, media, number=_phone_of(db, placed.buyer_id))
    chat.say("bonjour")
    courier_id, _job = flows.to_picked_up(db, placed)
    flows.prove_pin(db, courier_id, placed)
    chat.press(f"cash:yes:{placed.order_id}")
    chat.press(f"rate:{placed.order_id}:5")
    assert chat.current == S.REVIEW_COMMENT
    chat.press("rv:skip")
    assert chat.current == S.COURIER_RATING
    assert "Et le livreur Ibrahima ?" in chat.texts()
    ids = [c.id for c in chat.menu().choices]  # type: ignore[union-attr]
    assert ids == [f"crate:{placed.order_id}:{n}" for n in range(1, 6)] + [
        f"crate:{placed.order_id}:skip"
    ]
    chat.say("4")  # the numbered answer is the fourth button
    assert "4/5 pour le livreur" in chat.texts()
    assert chat.current == S.MENU
    with db.session() as s:
        assert reviews.courier_rating(s, courier_id) == (4.0, 1)
    chat.press(f"crate:{placed.order_id}:2")  # an old button, pressed again: said, not counted
    assert "déjà noté" in chat.texts()
    with db.session() as s:
        assert reviews.courier_rating(s, courier_id) == (4.0, 1)


def test_the_courier_step_can_be_skipped(db: Db, media: Path) -> None:
    placed = flows.place(db)
    chat = Chat(db, media, number=_phone_of(db, placed.buyer_id))
    chat.say("bonjour")
    flows.deliver(db, placed)
    chat.press(f"rate:{placed.order_id}:3")
    chat.say("Bien emballé")
    assert chat.current == S.COURIER_RATING
    chat.say("passer")
    assert chat.current == S.MENU
    assert "pas de note pour le livreur" in chat.texts()
    with db.session() as s:
        assert s.scalar(select(CourierRating.id)) is None


def test_a_forged_courier_rating_button_is_refused_politely(db: Db, media: Path) -> None:
    placed, courier_id = _delivered(db)
    stranger = Chat(db, media)
    stranger.say("bonjour")
    stranger.press(f"crate:{placed.order_id}:1")  # another buyer's order
    assert "Je ne trouve pas" in stranger.texts()
    pending = flows.place(db)  # her own order, not delivered yet: a stale or forged button
    own = Chat(db, media, number=_phone_of(db, pending.buyer_id))
    own.say("bonjour")
    own.press(f"crate:{pending.order_id}:1")
    assert "pas de livreur à noter" in own.texts()
    with db.session() as s:
        assert reviews.courier_rating(s, courier_id) == (None, 0)
        assert s.scalar(select(CourierRating.id)) is None


# --- where the courier's stars show ----------------------------------------------------------


def _rated_courier(db: Db, seller: tuple[int, int], stars: int) -> tuple[int, str]:
    """A courier who delivered one of this seller's orders, rated `stars`: (id, phone)."""
    placed = flows.place(db, seller=seller)
    courier_id = flows.deliver(db, placed)
    with db.uow() as s:
        reviews.rate_courier(s, buyer_id=placed.buyer_id, order_id=placed.order_id, rating=stars)
    return courier_id, _phone_of(db, courier_id)


def _tg(db: Db, user_id: int) -> int:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.telegram_id is not None
        return user.telegram_id


def test_the_seller_sees_her_couriers_stars_when_she_picks_one(db: Db, tmp_path: Path) -> None:
    seller = make_seller(db)
    courier_id, courier_phone = _rated_courier(db, seller, 4)
    bot = make_bot(db, tmp_path)
    tg = _tg(db, seller[0])
    nxt = flows.place(db, seller=seller)
    bot.tap(tg, f"o:a:{nxt.order_id}")
    asked = texts(bot.tap(tg, f"d:k:{nxt.order_id}"))
    assert "Vos livreurs" in asked and courier_phone in asked and "4,0/5, 1 note" in asked
    assigned = texts(bot.send(tg, courier_phone))
    assert "confiée à Ibrahima (4,0/5, 1 note)" in assigned
    assert flows.order(db, nxt.order_id).courier_id == courier_id
    stats = texts(bot.send(tg, "/stats"))
    assert "Vos livreurs : Ibrahima 4,0/5, 1 note" in stats


def test_the_claimed_job_notice_names_the_courier_and_his_stars(db: Db) -> None:
    seller = make_seller(db)
    courier_id, courier_phone = _rated_courier(db, seller, 5)
    nxt = flows.place(db, seller=seller)
    flows.to_assigned(db, nxt, courier_id)
    [row] = [
        r
        for r in flows.outbox(db, user_id=seller[0], kind="job_claimed")
        if r.payload["params"]["order_id"] == nxt.order_id
    ]
    with db.session() as s:
        user = s.get(User, seller[0])
        assert user is not None
        text = seller_notices.job_claimed(s, user, row.payload["params"], "fr")
    assert isinstance(text, Text)
    assert f"Ibrahima ({courier_phone}, 5,0/5, 1 note) a accepté" in text.text


def test_the_courier_reads_his_own_stars_in_gains(db: Db, tmp_path: Path) -> None:
    seller = make_seller(db)
    courier_id, courier_phone = _rated_courier(db, seller, 3)
    second = flows.place(db, seller=seller)
    flows.to_picked_up(db, second, courier_id)
    flows.prove_pin(db, courier_id, second)
    flows.confirm_cash(db, second)
    with db.uow() as s:
        reviews.rate_courier(s, buyer_id=second.buyer_id, order_id=second.order_id, rating=4)
    bot = CourierBot(db, tmp_path)
    text = bot.sms(courier_phone, "GAINS")
    assert "Votre note: 3,5/5 (2 notes)" in text
    assert segments(to_gsm7(text)) == ("GSM-7", 1)


# --- a seller's reply reaches the buyer with its words (issue 19, item 3) ---------------------


def test_the_sellers_reply_reaches_the_buyer_with_its_text_and_the_shop(db: Db) -> None:
    placed = flows.place(db)
    flows.deliver(db, placed)
    with db.uow() as s:
        review = reviews.add_review(
            s, buyer_id=placed.buyer_id, order_item_id=placed.item_id, rating=2, comment="Abîmé"
        )
        reviews.reply_to_review(
            s,
            seller_id=placed.seller_id,
            review_id=review.id,
            text="Désolé ! Passez à la boutique, on vous l'échange. " * 20,
        )
    [row] = flows.outbox(db, user_id=placed.buyer_id, kind="review_replied")
    with db.session() as s:
        buyer = s.get(User, placed.buyer_id)
        assert buyer is not None
        shown = buyer_notices.review_replied(s, buyer, row.payload["params"], "fr")
    assert isinstance(shown, Text)
    assert "a répondu à votre avis" in shown.text
    assert "« Désolé ! Passez à la boutique" in shown.text
    assert len(shown.text) < buyer_notices.REPLY_SHOWN_MAX + 200  # bounded, cut with "…"
    assert "…" in shown.text
    with db.session() as s:
        shop = s.get(Shop, placed.shop_id)
        assert shop is not None and shown.text.startswith(shop.name)
