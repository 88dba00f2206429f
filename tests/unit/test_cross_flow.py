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
