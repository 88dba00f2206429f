"""Promotions: pick a product, a percentage, a start and an end (a date or a number of days)."""

from __future__ import annotations

import datetime as dt
import re

from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, InboundMessage, Text
from bot.seller.common import amount, copied, label, lost, main_menu, need_shop
from bot.seller.states import SellerState as S
from commerce import backoffice, clock
from commerce.catalog import actions as catalog
from commerce.text import fold

NOW_WORDS = {"maintenant", "now", "aujourdhui", "today", "immediatement"}


def promo(msg: InboundMessage, ctx: Context) -> Result:
    refused = need_shop(ctx)
    if refused:
        return refused
    page, total = backoffice.seller_products(ctx.session, seller_id=ctx.user.id, limit=10)
    if not page:
        return S.MENU, [Text(ctx.t("seller.products.none")), main_menu(ctx)]
    return S.MENU, [
        Choices(
            text=ctx.t("seller.promo.pick", total=total),
            choices=tuple(Choice(f"pm:{p.id}", label(p.name)) for p in page),
        )
    ]


def promo_pick(msg: InboundMessage, ctx: Context) -> Result:
    product = backoffice.seller_product(
        ctx.session, seller_id=ctx.user.id, product_id=payload_id(msg)
    )
    ctx.data["promo"] = {"id": product.id}
    return S.PROMO_PERCENT, [Text(ctx.t("seller.promo.percent", name=product.name))]


def promo_percent(msg: InboundMessage, ctx: Context) -> Result:
    draft = copied(ctx, "promo")
    if draft is None:
        return lost(ctx)
    percent = amount(msg.text.replace("%", ""))
    if percent is None or not 0 < percent < 100:
        return S.PROMO_PERCENT, [Text(ctx.t("seller.promo.percent_invalid"))]
    draft["percent"] = percent
    return S.PROMO_START, [Text(ctx.t("seller.promo.start"))]


def _date(text: str, now: dt.datetime) -> dt.datetime | None:
    """ "maintenant" → now; "25/12" or "25/12/2025" → that day at 00:00 (Conakry is UTC)."""
    folded = fold(text).replace("'", "").replace(" ", "")
    if folded in NOW_WORDS:
        return now
    match = re.fullmatch(r"(\d{1,2})[/.-](\d{1,2})(?:[/.-](\d{2,4}))?", folded)
    if not match:
        return None
    day, month = int(match[1]), int(match[2])
    year = int(match[3]) if match[3] else now.year
    year = year + 2000 if year < 100 else year
    try:
        return dt.datetime(year, month, day, tzinfo=dt.UTC)
    except ValueError:
        return None


def start_step(msg: InboundMessage, ctx: Context, *, draft_key: str, here: S, then: S) -> Result:
    """The start date of a promotion or a promo code ("maintenant", "15/12"): one rule for both
    dialogues, stored in the draft `draft_key`, then the end is asked."""
    draft = copied(ctx, draft_key)
    if draft is None or "percent" not in draft:
        return lost(ctx)
    start = _date(msg.text, clock.now())
    if start is None:
        return here, [Text(ctx.t("seller.promo.date_invalid"))]
    draft["start"] = start.isoformat()
    return then, [Text(ctx.t("seller.promo.end"))]


def promo_start(msg: InboundMessage, ctx: Context) -> Result:
    return start_step(msg, ctx, draft_key="promo", here=S.PROMO_START, then=S.PROMO_END)


def promo_end(msg: InboundMessage, ctx: Context) -> Result:
    draft = copied(ctx, "promo")
    if draft is None or "start" not in draft:
        return lost(ctx)
    start = dt.datetime.fromisoformat(draft["start"])
    days = re.fullmatch(r"(\d{1,3})\s*(j|jours?|d|days?)?", fold(msg.text).strip())
    if days and int(days[1]) > 0:
        end: dt.datetime | None = start + dt.timedelta(days=int(days[1]))
    else:
        end = _date(msg.text, clock.now())
        end = end + dt.timedelta(days=1) if end is not None else None  # the whole last day
    if end is None or end <= start:
        return S.PROMO_END, [Text(ctx.t("seller.promo.date_invalid"))]
    promotion = catalog.add_promotion(
        ctx.session,
        seller_id=ctx.user.id,
        product_id=draft["id"],
        percent=draft["percent"],
        starts_at=start,
        ends_at=end,
    )
    ctx.data.pop("promo", None)
    text = ctx.t(
        "seller.promo.done",
        percent=promotion.percent,
        start=f"{start:%d/%m/%Y %H:%M}",
        end=f"{end:%d/%m/%Y %H:%M}",
    )
    return S.MENU, [Text(text), main_menu(ctx)]
