"""Seller statistics and the next-month forecast: a range always, a method named."""

from __future__ import annotations

import datetime as dt

from commerce import clock
from commerce.stats import forecast_next_month, seller_stats
from tests.support import Db
from tests.unit import flows


def test_no_sales_no_forecast() -> None:
    f = forecast_next_month([0, 0, 0])
    assert (f.method, f.low, f.high, f.expected) == ("none", 0, 0, None)


def test_short_history_gives_a_range_not_a_number() -> None:
    f = forecast_next_month([0, 0, 100_000, 300_000])
    assert f.method == "average" and f.months_used == 2 and f.expected is None
    assert (f.low, f.high) == (100_000, 300_000)


def test_trend_with_enough_history() -> None:
    f = forecast_next_month([100_000, 200_000, 300_000, 400_000])
    assert f.method == "trend" and f.expected == 500_000
    assert f.low < 500_000 < f.high


def test_seller_stats_count_delivered_revenue_and_low_stock(db: Db) -> None:
    p = flows.place(db, price=100_000, quantity=2, stock=4)
    flows.deliver(db, p)
    with db.session() as s:
        stats = seller_stats(s, seller_id=p.seller_id, now=clock.now())
    assert stats.revenue_by_month[-1][1] == 200_000
    assert stats.top_products[0][1] == 2
    assert stats.low_stock and stats.low_stock[0][1] == 2
    assert stats.orders_by_day[-1] == (clock.now().date(), 1)
    assert len(stats.orders_by_day) == 30
    assert stats.forecast.method == "none"  # the current month is not complete yet
    with db.session() as s:
        later = seller_stats(s, seller_id=p.seller_id, now=clock.now() + dt.timedelta(days=40))
    assert later.forecast.method == "average"
