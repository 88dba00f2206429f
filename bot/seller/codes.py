"""Promo codes of a seller's shop (/codepromo, /mescodes): a guided dialogue — the code, the
discount (a percentage or an amount), the start, the end, the maximum number of uses — then the
list with a "Désactiver" button per live code.

Beside /promo, which stays the time-boxed discount on one product: a code is typed by the buyer
and discounts the shop's items in her cart (commerce.cart.actions.create_shop_promo_code).
The parsers are shared with the admins' one-line /codepromo (bot/admin/handlers.py).
"""

from __future__ import annotations

import datetime as dt
import re

from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, InboundMessage, Reply, Text
from bot.seller.common import amount, copied, lost, main_menu, need_shop, reset, skipped
from bot.seller.promotions import _date, start_step
from bot.seller.states import SellerState as S
from commerce import clock
from commerce.cart import actions as cart
from commerce.cart.models import PromoCode
from commerce.errors import AlreadyExists, InvalidInput
from commerce.text import fold

CODE_RE = re.compile(r"[A-Z0-9]{3,30}")
MAX_USES = 100_000


def parse_code(text: str) -> str | None:
    code = (text or "").strip().upper()
    return code if CODE_RE.fullmatch(code) else None


def parse_discount(text: str) -> tuple[int | None, int | None] | None:
    """ "10%" / "10 %" → (10, None); "5000", "5 000 GNF" → (None, 5000); else None."""
    raw = (text or "").strip()
    if "%" in raw:
        percent = amount(raw.replace("%", ""))
        return (percent, None) if percent is not None and 0 < percent <= 100 else None
    value = amount(raw)
    return (None, value) if value is not None and value > 0 else None


def parse_end(text: str, start: dt.datetime) -> dt.datetime | None:
    """A number of days after the start, or a date (the whole of that day)."""
    days = re.fullmatch(r"(\d{1,3})\s*(j|jours?|d|days?)?", fold(text).strip())
    if days and int(days[1]) > 0:
        return start + dt.timedelta(days=int(days[1]))
    end = _date(text, clock.now())
    return end + dt.timedelta(days=1) if end is not None else None


def parse_uses(text: str) -> int | bool | None:
    """A positive count; "-" / "illimité" / "aucune" → None (no limit); else False (invalid)."""
    if skipped(text) or fold(text).strip() in {"illimite", "unlimited", "sans limite"}:
        return None
    value = amount(text)
    return value if value is not None and 0 < value <= MAX_USES else False


def discount_text(ctx: Context, promo: PromoCode) -> str:
    if promo.percent_off is not None:
        return ctx.t("seller.codes.percent", percent=promo.percent_off)
    return ctx.t("seller.codes.amount", amount_gnf=promo.amount_off or 0)


def code_row(ctx: Context, promo: PromoCode) -> str:
    key = "seller.codes.row" if promo.is_active else "seller.codes.row_off"
    return ctx.t(
        key,
        code=promo.code,
        discount=discount_text(ctx, promo),
        start=f"{promo.starts_at:%d/%m/%Y}",
        end=f"{promo.ends_at:%d/%m/%Y}",
        uses=promo.uses,
        max=promo.max_uses if promo.max_uses is not None else "∞",
    )


# --- the dialogue ---------------------------------------------------------------------------


def new_code(msg: InboundMessage, ctx: Context) -> Result:
    refused = need_shop(ctx)
    if refused:
        return refused
    reset(ctx)
    ctx.data["code"] = {}
    return S.CODE_NAME, [Text(ctx.t("seller.codes.ask_code"))]


def code_name(msg: InboundMessage, ctx: Context) -> Result:
    draft = copied(ctx, "code")
    if draft is None:
        return lost(ctx)
    code = parse_code(msg.text)
    if code is None:
        return S.CODE_NAME, [Text(ctx.t("seller.codes.code_invalid"))]
    draft["code"] = code
    return S.CODE_DISCOUNT, [Text(ctx.t("seller.codes.ask_discount", code=code))]


def code_discount(msg: InboundMessage, ctx: Context) -> Result:
    draft = copied(ctx, "code")
    if draft is None or "code" not in draft:
        return lost(ctx)
    parsed = parse_discount(msg.text)
    if parsed is None:
        return S.CODE_DISCOUNT, [Text(ctx.t("seller.codes.discount_invalid"))]
    draft["percent"], draft["amount"] = parsed
    return S.CODE_START, [Text(ctx.t("seller.promo.start"))]


def code_start(msg: InboundMessage, ctx: Context) -> Result:
    return start_step(msg, ctx, draft_key="code", here=S.CODE_START, then=S.CODE_END)


def code_end(msg: InboundMessage, ctx: Context) -> Result:
    draft = copied(ctx, "code")
    if draft is None or "start" not in draft:
        return lost(ctx)
    start = dt.datetime.fromisoformat(draft["start"])
    end = parse_end(msg.text, start)
    if end is None or end <= start or end <= clock.now():
        return S.CODE_END, [Text(ctx.t("seller.promo.date_invalid"))]
    draft["end"] = end.isoformat()
    return S.CODE_USES, [Text(ctx.t("seller.codes.ask_uses"))]


def code_uses(msg: InboundMessage, ctx: Context) -> Result:
    draft = copied(ctx, "code")
    if draft is None or "end" not in draft:
        return lost(ctx)
    uses = parse_uses(msg.text)
    if uses is False:
        return S.CODE_USES, [Text(ctx.t("seller.codes.uses_invalid", max=MAX_USES))]
    try:
        promo = cart.create_shop_promo_code(
            ctx.session,
            seller_id=ctx.user.id,
            code=draft["code"],
            starts_at=dt.datetime.fromisoformat(draft["start"]),
            ends_at=dt.datetime.fromisoformat(draft["end"]),
            percent_off=draft["percent"],
            amount_off=draft["amount"],
            max_uses=uses if isinstance(uses, int) else None,
        )
    except AlreadyExists:
        draft.pop("percent", None)
        draft.pop("start", None)
        draft.pop("end", None)
        draft.pop("code", None)
        return S.CODE_NAME, [Text(ctx.t("seller.codes.taken"))]
    except InvalidInput:
        ctx.data.pop("code", None)
        return S.MENU, [Text(ctx.t("seller.codes.invalid")), main_menu(ctx)]
    ctx.data.pop("code", None)
    done = ctx.t("seller.codes.done", row=code_row(ctx, promo))
    return S.MENU, [Text(done), main_menu(ctx)]


# --- the list and switching a code off ------------------------------------------------------


def list_codes(msg: InboundMessage, ctx: Context, note: str = "") -> Result:
    refused = need_shop(ctx)
    if refused:
        return refused
    codes = cart.shop_promo_codes(ctx.session, seller_id=ctx.user.id)
    replies: list[Reply] = [Text(note)] if note else []
    if not codes:
        replies.append(Text(ctx.t("seller.codes.none")))
        return S.MENU, replies
    text = ctx.t("seller.codes.title") + "\n" + "\n".join(code_row(ctx, p) for p in codes)
    live = [p for p in codes if p.is_active]
    if not live:
        replies.append(Text(text))
        return S.MENU, replies
    replies.append(
        Choices(
            text=text,
            choices=tuple(
                Choice(f"cd:off:{p.id}", ctx.t("seller.codes.disable", code=p.code)) for p in live
            ),
        )
    )
    return S.MENU, replies


def disable_code(msg: InboundMessage, ctx: Context) -> Result:
    """ "Désactiver CODE": the core checks the code is this seller's (a forged id is refused)."""
    try:
        promo = cart.disable_promo_code(ctx.session, user_id=ctx.user.id, promo_id=payload_id(msg))
    except AlreadyExists:
        return list_codes(msg, ctx, note=ctx.t("seller.codes.already_off"))
    return list_codes(msg, ctx, note=ctx.t("seller.codes.disabled", code=promo.code))
