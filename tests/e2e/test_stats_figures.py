"""Issue 17, /stats: the figures in the text are the chart's figures ("Commandes (30 j)" counted
over the same 30 days the chart draws, not over the year), next month's forecast is for next
month, and the chart is drawn for a phone."""

from __future__ import annotations

import datetime as dt

import pytest
from PIL import Image as PILImage
from sqlalchemy import update

from commerce import clock
from commerce.orders.models import Order
from commerce.stats import seller_stats
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.timing import START_S, WAIT_S
from tests.unit import flows
from tests.webhooks import post_telegram, telegram_message

pytestmark = pytest.mark.usefixtures("fast_chats")


def _stats_line(boutik: Boutik, tg: int, containing: str) -> str:
    """The seller of chat `tg` sends /stats: the one message of the answer with `containing`."""
    assert post_telegram(boutik.client, telegram_message(tg, "/stats")).status_code == 200
    [said] = boutik.store.wait_for(
        lambda: [
            str(c.params.get("text", ""))
            for c in boutik.store.telegram_calls(method="sendMessage", chat_id=tg)
            if containing in str(c.params.get("text", ""))
        ],
        timeout=WAIT_S,
    )
    return said


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

    said = _stats_line(boutik, tg, "Commandes (30 j)")
    assert f"Commandes (30 j) : {drawn}." in said, said


def test_next_months_forecast_is_for_next_month_and_the_chart_fits_a_phone(
    boutik: Boutik,
) -> None:
    """Sales of 100 000, 200 000 and 300 000 GNF in the last three complete months: the trend
    gives 400 000 for the current month and 500 000 for next month, which /stats announces (it
    said 400 000); the chart that follows is drawn for a phone's width."""
    now = clock.now()
    seller = None
    for back, amount in ((3, 100_000), (2, 200_000), (1, 300_000)):
        p = flows.place(boutik.db, seller=seller)
        seller = (p.seller_id, p.shop_id)
        flows.deliver(boutik.db, p)
        when = now.replace(day=15)
        for _ in range(back):
            when = (when.replace(day=1) - dt.timedelta(days=1)).replace(day=15)
        with boutik.db.uow() as s:
            s.execute(
                update(Order)
                .where(Order.id == p.order_id)
                .values(created_at=when, delivered_at=when, subtotal=amount, discount=0)
            )
    assert seller is not None
    with boutik.db.session() as s:
        tg = s.get(User, seller[0]).telegram_id  # type: ignore[union-attr]

    said = _stats_line(boutik, tg, "Prévision du mois prochain")
    assert "environ 500 000 GNF" in said, said
    boutik.store.wait_for(
        lambda: boutik.store.telegram_calls(method="sendPhoto", chat_id=tg), timeout=START_S
    )
    [png] = (boutik.rt.config.media_dir / "charts").glob("*.png")
    with PILImage.open(png) as picture:
        (width, height), (dpi, _dpi) = picture.size, picture.info["dpi"]
    assert width / dpi <= 5 and height <= 2.4 * width
