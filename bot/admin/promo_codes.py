"""Platform-wide promo codes, made by an admin in one line (they discount the whole cart).

`/codepromo BIENVENUE 10% 01/12 31/12 500` — the code, a percentage or an amount in GNF, the
start ("maintenant" or a date), the end (a date or a number of days), and optionally the
maximum number of uses. `/codespromo` lists them, each live one with a "Désactiver" button.
Same parsers as the sellers' guided dialogue (bot/seller/codes.py); the core
(commerce.cart.actions.create_promo_code) checks the admin role and validates again.
"""

from __future__ import annotations

from bot.admin.states import AdminState as S
from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, InboundMessage, Reply, Text
from bot.seller.codes import code_row, parse_code, parse_discount, parse_end, parse_uses
from bot.seller.promotions import _date
from commerce import clock
from commerce.cart import actions as cart
from commerce.errors import AlreadyExists, InvalidInput


def create(msg: InboundMessage, ctx: Context) -> Result:
    words = msg.text.split()[1:]
    if len(words) not in (4, 5):
        return S.MENU, [Text(ctx.t("admin.promo.usage"))]
    code = parse_code(words[0])
    discount = parse_discount(words[1])
    start = _date(words[2], clock.now())
    end = parse_end(words[3], start) if start is not None else None
    uses = parse_uses(words[4]) if len(words) == 5 else None
    if code is None or discount is None or start is None or end is None or uses is False:
        return S.MENU, [Text(ctx.t("admin.promo.usage"))]
    if end <= start or end <= clock.now():
        return S.MENU, [Text(ctx.t("seller.promo.date_invalid"))]
    try:
        promo = cart.create_promo_code(
            ctx.session,
            admin_id=ctx.user.id,
            code=code,
            starts_at=start,
            ends_at=end,
            percent_off=discount[0],
            amount_off=discount[1],
            max_uses=uses if isinstance(uses, int) else None,
        )
    except AlreadyExists:
        return S.MENU, [Text(ctx.t("seller.codes.taken"))]
    except InvalidInput:
        return S.MENU, [Text(ctx.t("admin.promo.usage"))]
    return S.MENU, [Text(ctx.t("admin.promo.done", row=code_row(ctx, promo)))]


def list_codes(msg: InboundMessage, ctx: Context, note: str = "") -> Result:
    codes = cart.platform_promo_codes(ctx.session, admin_id=ctx.user.id)
    replies: list[Reply] = [Text(note)] if note else []
    if not codes:
        replies.append(Text(ctx.t("admin.promo.none")))
        return S.MENU, replies
    text = ctx.t("admin.promo.title") + "\n" + "\n".join(code_row(ctx, p) for p in codes)
    live = tuple(
        Choice(f"pc:off:{p.id}", ctx.t("seller.codes.disable", code=p.code))
        for p in codes
        if p.is_active
    )
    replies.append(Choices(text=text, choices=live) if live else Text(text))
    return S.MENU, replies


def disable(msg: InboundMessage, ctx: Context) -> Result:
    try:
        promo = cart.disable_promo_code(ctx.session, user_id=ctx.user.id, promo_id=payload_id(msg))
    except AlreadyExists:
        return list_codes(msg, ctx, note=ctx.t("seller.codes.already_off"))
    return list_codes(msg, ctx, note=ctx.t("seller.codes.disabled", code=promo.code))
