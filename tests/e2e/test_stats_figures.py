"""Issue 17, /stats: the figures in the text are the chart's figures ("Commandes (30 j)" counted
over the same 30 days the chart draws, not over the year)."""

from __future__ import annotations

import datetime as dt

import pytest
from sqlalchemy import update

from commerce import clock
from commerce.orders.models import Order
from commerce.stats import seller_stats
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.timing import WAIT_S
from tests.unit import flows
from tests.webhooks import post_telegram, telegram_message


@pytest.fixture(autouse=True)
def _fast_chats(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(telegram__rate_per_chat_per_s=1000.0)


def test_the_30_day_order_count_is_the_one_the_chart_draws(boutik: Boutik) -> None:
    p = flows.place(boutik.db)
    seller = (p.seller_id, p.shop_id)
    old = flows.place(boutik.db, seller=seller)
    with boutik.db.uow() as s:  # an order of two months ago: in the year, not in the 30 days
        s.execute(
            update(Order)
            .where(Order.id == old.order_id)
            .values(created_at=clock.now() - dt.timedelta(days=60))
        )
    with boutik.db.session() as s:
        tg = s.get(User, p.seller_id).telegram_id  # type: ignore[union-attr]
        drawn = sum(n for _d, n in seller_stats(s, seller_id=p.seller_id).orders_by_day)
    assert drawn == 1

    assert post_telegram(boutik.client, telegram_message(tg, "/stats")).status_code == 200

    [said] = boutik.store.wait_for(
        lambda: [
            str(c.params.get("text", ""))
            for c in boutik.store.telegram_calls(method="sendMessage", chat_id=tg)
            if "Commandes (30 j)" in str(c.params.get("text", ""))
        ],
        timeout=WAIT_S,
    )
    assert f"Commandes (30 j) : {drawn}." in said, said
