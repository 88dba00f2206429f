"""/stats: the figures at once, the chart later from a worker."""

from __future__ import annotations

from bot.flow import Context, Result
from bot.messages import InboundMessage, Text
from bot.seller.charts import CHART_PENDING_KEY, chart_pending, stats_text
from bot.seller.common import need_shop
from bot.seller.states import SellerState as S
from commerce import clock
from commerce.messaging import events
from commerce.reviews.actions import sellers_couriers
from commerce.stats import seller_stats


def stats(msg: InboundMessage, ctx: Context) -> Result:
    """The figures at once; the PNG chart follows from a worker job after this turn commits.

    Why split: the figures are a few indexed queries over one shop's last year (milliseconds),
    while drawing takes seconds of matplotlib, which must not hold a webhook thread and its
    database connection (`workers.seller_charts`). While a chart is pending, /stats says so and
    queues nothing: a seller tapping twice gets one chart, not a pile.
    """
    refused = need_shop(ctx)
    if refused:
        return refused
    now_ms = int(clock.now().timestamp() * 1000)
    if chart_pending(ctx.data.get(CHART_PENDING_KEY), now_ms):
        return S.MENU, [Text(ctx.t("seller.stats.pending"))]
    figures = seller_stats(ctx.session, seller_id=ctx.user.id)
    ctx.data[CHART_PENDING_KEY] = now_ms
    events.record(ctx.session, "stats_requested", ctx.user.id, ctx.conv.id, now_ms)
    text = stats_text(figures, ctx.lang) + _couriers_line(ctx) + "\n\n"
    text += ctx.t("seller.stats.preparing")
    return S.MENU, [Text(text)]


def _couriers_line(ctx: Context) -> str:
    """ "Vos livreurs : Ibrahima 4,5/5, 12 notes · Sekou pas encore noté" (issue 19)."""
    found = sellers_couriers(ctx.session, seller_id=ctx.user.id)
    if not found:
        return ""
    parts = [
        ctx.t(
            "seller.courier.stats_line",
            name=(user.name or "—").split(" ")[0],
            stars=ctx.t("seller.courier.stars", avg=avg, count=count)
            if avg is not None
            else ctx.t("seller.courier.unrated"),
        )
        for user, avg, count in found
    ]
    return "\n" + ctx.t("seller.courier.stats", lines=" · ".join(parts))
