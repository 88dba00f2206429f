"""Where flows meet: buttons reach the flow that made them; a seller raises an unclaimed bonus."""

from __future__ import annotations

from pathlib import Path

from sqlalchemy import select

from commerce.cart.actions import add_to_cart
from commerce.delivery import actions as delivery
from commerce.delivery.models import DeliveryJob
from commerce.orders.actions import accept_order, place_order
from commerce.users.models import User
from tests.support import Db, make_buyer, make_product, make_seller
from tests.unit.seller_admin_turns import make_bot, texts


def _published_order(db: Db) -> tuple[int, int, int]:
    seller_id, _shop = make_seller(db)
    pid = make_product(db, seller_id=seller_id, stock=3)
    buyer_id, address_id = make_buyer(db)
    with db.uow() as s:
        add_to_cart(s, user_id=buyer_id, product_id=pid, quantity=1)
        order = place_order(
            s,
            buyer_id=buyer_id,
            address_id=address_id,
            delivery_mode="home",
            commission_payer="buyer",
            payment_method="cash",
        )[0].order
        accept_order(s, seller_id=seller_id, order_id=order.id)
        job = delivery.publish_job(s, seller_id=seller_id, order_id=order.id)
        return seller_id, order.id, job.id


def test_a_seller_mid_purchase_can_still_raise_the_bonus(db: Db, tmp_path: Path) -> None:
    seller_id, order_id, job_id = _published_order(db)
    with db.session() as s:
        tg = s.scalar(select(User.telegram_id).where(User.id == seller_id))
    assert tg is not None
    bot = make_bot(db, tmp_path)
    bot.send(tg, "/start")
    bot.send(tg, payload="w:buy")  # the seller is now shopping in the buyer flow
    replies = bot.send(tg, payload=f"bonus:{job_id}:5000")
    assert f"{order_id}" in texts(replies)
    with db.session() as s:
        job = s.get(DeliveryJob, job_id)
        assert job is not None and job.bonus == 5000
        assert job.offer_round == 2  # a new round of offers


def test_raising_the_bonus_of_someone_elses_job_is_refused(db: Db, tmp_path: Path) -> None:
    _seller, _order, job_id = _published_order(db)
    other, _ = make_seller(db)
    with db.session() as s:
        tg = s.scalar(select(User.telegram_id).where(User.id == other))
    bot = make_bot(db, tmp_path)
    bot.send(tg, "/start")
    replies = bot.send(tg, payload=f"bonus:{job_id}:5000")
    assert "droit" in texts(replies)
    with db.session() as s:
        job = s.get(DeliveryJob, job_id)
        assert job is not None and job.bonus == 0


def test_a_command_without_its_slash_is_text_not_a_crash(db: Db, tmp_path: Path) -> None:
    """Regression (fuzz): a COMMAND whose text cleaned to nothing ("\\x00") made the router's
    and the flows' `text.split()[0]` raise IndexError: the user got "an error occurred"."""
    from bot.messages import InboundKind, InboundMessage
    from commerce.users.models import Channel

    bot = make_bot(db, tmp_path)
    msg = InboundMessage(
        provider="telegram",
        external_id="cmd-empty",
        channel=Channel.TELEGRAM,
        address="4242",
        telegram_user_id=4242,
        kind=InboundKind.COMMAND,
        text="\x00 ",
    )
    with db.uow() as s:
        replies = bot.engine.handle(s, msg).replies
    assert replies and "souci de notre côté" not in texts(replies)


def test_circled_and_superscript_digits_answer_a_menu_without_a_crash(
    db: Db, tmp_path: Path
) -> None:
    """Regression (fuzz): "①" and "²" pass `str.isdigit()` but not `int()`: answering a menu
    with one was a 500 from the engine, on every channel."""
    bot = make_bot(db, tmp_path)
    bot.send(4343, "/start")
    for odd in ("①", "²", "٣"):
        assert "souci de notre côté" not in texts(bot.send(4343, odd))


def test_provider_fields_are_cleaned_like_the_text(db: Db, tmp_path: Path) -> None:
    """Regression (fuzz on PostgreSQL): a NUL in a WhatsApp ProfileName or a Telegram
    first_name reached the users table, which PostgreSQL refuses (a 500 and a redelivery
    loop); a From longer than the address column did the same. SQLite stores both silently,
    so the promise is checked on what the engine keeps."""
    from bot.messages import InboundKind, InboundMessage
    from commerce.messaging.models import InboundMessage as InboundRecord
    from commerce.users.models import Channel

    bot = make_bot(db, tmp_path)

    def send(**fields: object) -> list:  # type: ignore[type-arg]
        msg = InboundMessage(
            provider="twilio",
            external_id=f"clean-{len(fields)}-{fields.get('address')}",
            channel=Channel.WHATSAPP,
            kind=InboundKind.TEXT,
            text="bonjour",
            **fields,  # type: ignore[arg-type]
        )
        with db.uow() as s:
            return bot.engine.handle(s, msg).replies

    assert send(address="+224620009911", profile_name="Ma\x00riama\x07 ")
    with db.session() as s:
        user = s.scalar(select(User).where(User.phone == "+224620009911"))
        assert user is not None and user.name == "Mariama"
    assert send(address="+224" + "9" * 80) == []  # nobody to answer, nothing stored
    with db.session() as s:
        assert (
            s.scalar(select(InboundRecord).where(InboundRecord.address.like("+2249999%"))) is None
        )
