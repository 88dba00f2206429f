"""The cart: its lines and their quantities, the promo code, the loyalty points.

Why a module of its own: the product card adds to the cart and checkout starts from it, so
both import it; it needs nothing from them.
"""

from __future__ import annotations

from bot.buyer.common import arg, choices, cut, main_menu, to_menu
from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import Choice, InboundMessage, Reply, Text
from commerce.cart import actions as cart
from commerce.cart.actions import MAX_QUANTITY
from commerce.errors import (
    PromoDisabled,
    PromoExhausted,
    PromoExpired,
    PromoNotStarted,
    PromoUnknown,
)
from commerce.loyalty.actions import balance
from commerce.orders import queries

QUICK_QUANTITIES = 5  # choices "1".."5": a typed digit and the numbered menu agree


def quantity_menu(ctx: Context, text: str, *, edit: bool = False) -> Reply:
    """How many: 1–5 as choices, and the one rule (1 to 99; 0 removes a line being edited)
    stated once, in the same words every time the question is asked."""
    rows = [Choice(f"qty:{n}", str(n)) for n in range(1, QUICK_QUANTITIES + 1)]
    rule = ctx.t(
        "buyer.cart.type_number_edit" if edit else "buyer.cart.type_number", max=MAX_QUANTITY
    )
    return choices(text + "\n" + rule, rows)


# --- cart -----------------------------------------------------------------------------------


def show_cart(msg: InboundMessage, ctx: Context, *, note: str = "") -> Result:
    summary = cart.cart_summary(ctx.session, user_id=ctx.user.id)
    replies: list[Reply] = [Text(note)] if note else []
    if summary.unavailable:
        names = ", ".join(p.name for p in summary.unavailable)
        replies.append(Text(ctx.t("buyer.cart.unavailable", names=names)))
        for product in summary.unavailable:
            cart.remove_from_cart(ctx.session, user_id=ctx.user.id, product_id=product.id)
    if not summary.lines:
        return BuyerState.MENU, [*replies, Text(ctx.t("buyer.cart.empty")), main_menu(ctx)]
    lines = [
        ctx.t("buyer.cart.line", qty=line.quantity, name=line.product.name, total_gnf=line.total)
        for line in summary.lines
    ]
    text = ctx.t("buyer.cart.summary", lines="\n".join(lines), subtotal_gnf=summary.subtotal)
    if summary.promo_code:
        text += "\n" + ctx.t(
            "buyer.cart.promo_line", code=summary.promo_code, discount_gnf=summary.discount
        )
    text += "\n" + ctx.t(
        "buyer.cart.total",
        total_gnf=summary.total,
        points=balance(ctx.session, user_id=ctx.user.id),
    )
    rows = [Choice("co:start", ctx.t("buyer.cart.checkout"))]
    for line in summary.lines[:5]:
        rows.append(
            Choice(
                f"line:{line.product.id}",
                ctx.t("buyer.cart.edit_line", name=cut(line.product.name, 14)),
            )
        )
    if summary.promo_code:
        rows.append(Choice("promo:drop", ctx.t("buyer.cart.promo_drop")))
    else:
        rows.append(Choice("promo:ask", ctx.t("buyer.cart.promo")))
    rows.append(Choice("cart:clear", ctx.t("buyer.cart.clear")))
    rows.append(Choice("menu:catalog", ctx.t("buyer.cart.continue")))
    replies.append(choices(text, rows, button=ctx.t("buyer.cart.button")))
    return BuyerState.CART, replies


def edit_line(msg: InboundMessage, ctx: Context) -> Result:
    product_id = arg(msg, 1)
    summary = cart.cart_summary(ctx.session, user_id=ctx.user.id)
    line = next((ln for ln in summary.lines if ln.product.id == product_id), None)
    if line is None:
        return show_cart(msg, ctx, note=ctx.t("buyer.stale"))
    ctx.data["qty"] = {"product": line.product.id, "edit": True}
    text = ctx.t("buyer.cart.edit_ask", name=line.product.name, qty=line.quantity)
    return BuyerState.QUANTITY, [quantity_menu(ctx, text, edit=True)]


def clear_cart(msg: InboundMessage, ctx: Context) -> Result:
    cart.clear_cart(ctx.session, user_id=ctx.user.id)
    return to_menu(ctx, "buyer.cart.cleared")


def ask_promo(msg: InboundMessage, ctx: Context) -> Result:
    return BuyerState.PROMO, [Text(ctx.t("buyer.promo.ask"))]


def typed_promo(msg: InboundMessage, ctx: Context) -> Result:
    """ "promo BIENVENUE" / "code BIENVENUE" typed anywhere."""
    words = msg.text.split()
    if len(words) < 2:
        return ask_promo(msg, ctx)
    return _apply_promo(ctx, words[-1])


def got_promo(msg: InboundMessage, ctx: Context) -> Result:
    words = msg.text.split()
    return _apply_promo(ctx, words[-1] if words else "")


PROMO_ERRORS = (PromoUnknown, PromoExpired, PromoNotStarted, PromoExhausted, PromoDisabled)


def _apply_promo(ctx: Context, code: str) -> Result:
    try:
        cart.apply_promo(ctx.session, user_id=ctx.user.id, code=code)
    except PROMO_ERRORS as exc:
        return BuyerState.PROMO, [
            choices(
                ctx.t(f"error.{exc.code.value}") + "\n" + ctx.t("buyer.promo.again"),
                [Choice("menu:cart", ctx.t("buyer.cart.view"))],
            )
        ]
    summary = cart.cart_summary(ctx.session, user_id=ctx.user.id)
    note = ctx.t("buyer.promo.applied", code=code.strip().upper(), discount_gnf=summary.discount)
    if summary.lines and summary.discount == 0:
        note = ctx.t("buyer.promo.applied_later", code=code.strip().upper())
        shop = queries.shop(ctx.session, summary.promo_shop_id or 0)
        if shop is not None and all(ln.product.shop_id != shop.id for ln in summary.lines):
            # A shop's code: say whose items it discounts rather than "later".
            note = ctx.t("buyer.promo.shop_only", code=code.strip().upper(), shop=shop.name)
    return show_cart(ctx.inbound, ctx, note=note)


def drop_promo(msg: InboundMessage, ctx: Context) -> Result:
    cart.remove_promo(ctx.session, user_id=ctx.user.id)
    return show_cart(msg, ctx, note=ctx.t("buyer.promo.removed"))


def show_points(msg: InboundMessage, ctx: Context) -> Result:
    return to_menu(ctx, "buyer.points", points=balance(ctx.session, user_id=ctx.user.id))
