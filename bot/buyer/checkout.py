"""Checkout: where to deliver, then one summary with sensible defaults, then one confirmation.

Why defaults rather than a question per choice: each question is a message on a slow network.
A returning buyer taps a saved address and lands on the summary — home delivery, the delivery
fee paid as last time (the buyer by default), payment as last time (cash by default) — and
changes any of it behind "Modifier". "Acheter" on one product skips even the address: it goes
to her usual saved address, named on the summary. So the choices that differ from the usual
cost a message or two each, and the usual order costs two from the cart ("Commander", the
address, the confirmation) and one from a product card (the confirmation).

The summary carries a nonce in its confirm button: an old summary's button, or a second tap
after the order was placed, can never place a second order or one at a stale price.
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.buyer.common import arg, choices, cut, is_sms, to_menu
from bot.buyer.detour import aside_then
from bot.buyer.qr import write_qr
from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import Choice, Image, InboundKind, InboundMessage, Reply, Text
from commerce.cart import actions as cart
from commerce.errors import (
    AddressInvalid,
    CartEmpty,
    NotEnoughPoints,
    NotFound,
    OutOfStock,
    ProductUnavailable,
    PromoDisabled,
    PromoExhausted,
    PromoExpired,
    PromoNotStarted,
    PromoUnknown,
)
from commerce.orders import queries
from commerce.orders.actions import CheckoutQuote, place_order, quote_checkout
from commerce.orders.models import CommissionPayer, DeliveryMode, PaymentMethod
from commerce.text import fold

PAYMENTS = {
    "cash": PaymentMethod.CASH,
    "om": PaymentMethod.ORANGE_MONEY,
    "momo": PaymentMethod.MTN_MOMO,
}
PAYMENT_KEYS = {v: k for k, v in PAYMENTS.items()}


def draft_of(ctx: Context) -> dict[str, Any]:
    return dict(ctx.data.get("co") or {})


def save_draft(ctx: Context, co: dict[str, Any]) -> None:
    ctx.data["co"] = co  # replaced, never mutated in place: the JSON column sees the change


# --- start and the address step -------------------------------------------------------------


def start(msg: InboundMessage, ctx: Context, *, only: list[int] | None = None) -> Result:
    """The cart's checkout ("Commander": where to deliver, then the summary), or with `only`
    the express checkout of those products alone ("Acheter"): a buyer with a saved address
    lands on the summary at once, delivered to her usual address (the summary names it,
    "Modifier" changes it); a new buyer is asked where.
    """
    in_cart = cart.cart_summary(ctx.session, user_id=ctx.user.id, product_ids=only)
    if in_cart.unavailable:
        from bot.buyer.cart import show_cart

        return show_cart(msg, ctx)
    if not in_cart.lines:
        return to_menu(ctx, "buyer.cart.empty")
    last = queries.last_order(ctx.session, buyer_id=ctx.user.id)
    save_draft(
        ctx,
        {
            "mode": None,
            "addr": None,
            "payer": last.commission_payer.value if last else CommissionPayer.BUYER.value,
            "pay": PAYMENT_KEYS[last.payment_method] if last else "cash",
            "only": only,
        },
    )
    usual = queries.usual_address(ctx.session, user_id=ctx.user.id) if only else None
    if usual is None:
        return address_menu(ctx)
    co = draft_of(ctx)
    co.update(mode=DeliveryMode.HOME.value, addr=usual.id)
    save_draft(ctx, co)
    return summary(ctx)


def address_menu(ctx: Context, note: str = "") -> Result:
    ctx.data.pop("na", None)  # no new address under way at this step
    rows = [
        Choice(f"addr:{a.id}", a.label or a.quartier or a.prefecture, description=a.landmark[:72])
        for a in queries.saved_addresses(ctx.session, user_id=ctx.user.id)
    ]
    rows.append(Choice("addr:new", ctx.t("buyer.co.new_address")))
    if not is_sms(ctx):
        rows.append(Choice("addr:pin", ctx.t("buyer.co.pin")))
    rows.append(Choice("addr:pickup", ctx.t("buyer.co.pickup")))
    text = ctx.t("buyer.co.where")
    replies: list[Reply] = [Text(note)] if note else []
    replies.append(choices(text, rows, button=ctx.t("buyer.co.where_button")))
    return BuyerState.ADDRESS, replies


def pick_address(msg: InboundMessage, ctx: Context) -> Result:
    address_id = arg(msg, 1)
    if not ctx.data.get("co"):
        return start(msg, ctx)
    if (
        address_id is None
        or queries.address_of(ctx.session, user_id=ctx.user.id, address_id=address_id) is None
    ):
        return address_menu(ctx, ctx.t("buyer.stale"))
    co = draft_of(ctx)
    co.update(mode=DeliveryMode.HOME.value, addr=address_id)
    save_draft(ctx, co)
    return summary(ctx)


def pick_pickup(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    co = draft_of(ctx)
    co.update(mode=DeliveryMode.PICKUP.value, addr=None)
    save_draft(ctx, co)
    return summary(ctx)


def change_address(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    return address_menu(ctx)


# --- the summary and its options ------------------------------------------------------------


def _quote(ctx: Context, co: dict[str, Any]) -> CheckoutQuote:
    return quote_checkout(
        ctx.session,
        buyer_id=ctx.user.id,
        address_id=co.get("addr"),
        delivery_mode=DeliveryMode(co["mode"]),
        commission_payer=CommissionPayer(co["payer"]),
        product_ids=co.get("only"),
        use_points=bool(co.get("pts")),
    )


def summary(ctx: Context, note: str = "") -> Result:
    co = draft_of(ctx)
    if not co.get("mode"):
        return address_menu(ctx, note)
    try:
        quote = _quote(ctx, co)
    except CartEmpty:
        ctx.data.pop("co", None)
        return to_menu(ctx, "buyer.cart.empty")
    except (AddressInvalid, NotFound):
        return address_menu(ctx, ctx.t("error.address_invalid"))
    cart_lines = cart.cart_summary(
        ctx.session, user_id=ctx.user.id, product_ids=co.get("only")
    ).lines
    lines: list[str] = []
    for oq in quote.orders:
        lines.append(ctx.t("buyer.co.shop_line", shop=oq.shop.name))
        for line in cart_lines:
            if line.product.shop_id == oq.shop.id:
                lines.append(
                    ctx.t(
                        "buyer.cart.line",
                        qty=line.quantity,
                        name=cut(line.product.name, 40),
                        total_gnf=line.total,
                    )
                )
        if co["mode"] == DeliveryMode.HOME.value:
            key = "buyer.co.fee_buyer" if oq.buyer_pays_fee else "buyer.co.fee_seller"
            lines.append(ctx.t(key, fee_gnf=oq.delivery_fee))
        else:
            where = ", ".join(p for p in (oq.shop.quartier, oq.shop.prefecture) if p)
            lines.append(ctx.t("buyer.co.pickup_at", place=where, landmark=oq.shop.landmark))
    discount = sum(o.discount for o in quote.orders)
    if discount:
        lines.append(ctx.t("buyer.co.discount", code=quote.promo_code or "", discount_gnf=discount))
    if quote.points_used:
        lines.append(
            ctx.t("buyer.co.points_used", points=quote.points_used, value_gnf=quote.points_discount)
        )
    elif quote.points_offer:
        lines.append(ctx.t("buyer.co.points_offer", points=quote.points_offer))
    if co["mode"] == DeliveryMode.HOME.value:
        address = queries.address_of(ctx.session, user_id=ctx.user.id, address_id=co["addr"])
        assert address is not None
        place = ", ".join(p for p in (address.quartier, address.prefecture) if p)
        lines.append(ctx.t("buyer.co.to", place=place, landmark=address.landmark or "-"))
    lines.append(ctx.t("buyer.co.payment", method=ctx.t(f"buyer.pay.{co['pay']}")))
    if len(quote.orders) > 1:
        lines.append(ctx.t("buyer.co.several", n=len(quote.orders)))
    lines.append(ctx.t("buyer.co.total", total_gnf=quote.total))
    nonce = secrets.token_hex(3)
    offer = bool(quote.points_offer and not quote.points_used)
    co.update(nonce=nonce, total=quote.total, step="summary", pts_offer=offer)
    save_draft(ctx, co)
    # Three quick-reply buttons, the same for every buyer: the one confirmation a tap away,
    # every change (spending her points included) behind "Modifier", and "Annuler".
    rows = [
        Choice(f"co:ok:{nonce}", ctx.t("buyer.co.confirm")),
        Choice("co:edit", ctx.t("buyer.co.change")),
        Choice("co:stop", ctx.t("buyer.co.stop")),
    ]
    text = ctx.t("buyer.co.summary_title") + "\n" + "\n".join(lines)
    replies: list[Reply] = [Text(note)] if note else []
    replies.append(choices(text, rows))
    return BuyerState.SUMMARY, replies


def use_points(msg: InboundMessage, ctx: Context) -> Result:
    """ "Utiliser mes points" (co:pts:on) or "Sans mes points" (co:pts:off), under "Modifier". The
    core decides how many she may spend; a stale or forged tap with none to spend says so."""
    co = draft_of(ctx)
    if not co.get("mode"):
        return stale_summary(msg, ctx)
    on = msg.payload.endswith(":on")
    co["pts"] = on
    save_draft(ctx, co)
    if on:
        quote = _quote(ctx, co)
        if not quote.points_used:
            co["pts"] = False
            save_draft(ctx, co)
            return summary(ctx, ctx.t("buyer.co.points_none"))
    return summary(ctx)


def edit(msg: InboundMessage, ctx: Context) -> Result:
    """ "Modifier" on the summary: what can change — the address, the payment, who pays the
    delivery — and the way back to the summary."""
    co = draft_of(ctx)
    if not co.get("mode"):
        return start(msg, ctx) if not co else address_menu(ctx)
    rows = [
        Choice("co:addr", ctx.t("buyer.co.change_address")),
        Choice("co:pay", ctx.t("buyer.co.change_payment")),
    ]
    if co["mode"] == DeliveryMode.HOME.value:
        rows.append(Choice("co:payer", ctx.t("buyer.co.change_payer")))
    if co.get("pts"):
        rows.append(Choice("co:pts:off", ctx.t("buyer.co.points_drop")))
    elif co.get("pts_offer"):
        rows.append(Choice("co:pts:on", ctx.t("buyer.co.points_use")))
    rows.append(Choice("co:back", ctx.t("buyer.co.back")))
    rows.append(Choice("co:stop", ctx.t("buyer.co.stop")))
    save_draft(ctx, {**co, "step": "edit"})  # "retour" from here is the summary
    return BuyerState.SUMMARY, [
        choices(ctx.t("buyer.co.change_what"), rows, button=ctx.t("buyer.co.summary_button"))
    ]


def back_to_summary(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    return summary(ctx)


def ask_payment(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    rows = [Choice(f"pay:{k}", ctx.t(f"buyer.pay.{k}")) for k in PAYMENTS]
    return BuyerState.PAYMENT, [choices(ctx.t("buyer.co.payment_ask"), rows)]


def pick_payment(msg: InboundMessage, ctx: Context) -> Result:
    key = msg.payload.split(":", 1)[1] if ":" in msg.payload else ""
    if not ctx.data.get("co") or key not in PAYMENTS:
        return stale_summary(msg, ctx)
    co = draft_of(ctx)
    co["pay"] = key
    save_draft(ctx, co)
    return summary(ctx)


def ask_payer(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    rows = [
        Choice("payer:buyer", ctx.t("buyer.co.payer_buyer")),
        Choice("payer:seller", ctx.t("buyer.co.payer_seller")),
    ]
    return BuyerState.PAYER, [choices(ctx.t("buyer.co.payer_ask"), rows)]


def pick_payer(msg: InboundMessage, ctx: Context) -> Result:
    key = msg.payload.split(":", 1)[1] if ":" in msg.payload else ""
    if not ctx.data.get("co") or key not in ("buyer", "seller"):
        return stale_summary(msg, ctx)
    co = draft_of(ctx)
    co["payer"] = key
    save_draft(ctx, co)
    return summary(ctx)


def stop(msg: InboundMessage, ctx: Context) -> Result:
    ctx.data.pop("co", None)
    ctx.data.pop("na", None)
    return to_menu(ctx, "buyer.co.stopped")


def stale_summary(msg: InboundMessage, ctx: Context) -> Result:
    if ctx.data.get("co", {}).get("mode"):
        return summary(ctx, ctx.t("buyer.stale"))
    return to_menu(ctx, "buyer.stale")


def reprompt(msg: InboundMessage, ctx: Context) -> Result:
    """Typed words at the summary, "Modifier", the payment or who pays: "oui" confirms; other
    words are a search or a support question (bot.buyer.detour), then the same question again
    with its choices."""
    if msg.kind == InboundKind.TEXT and fold(msg.text) in (
        "oui",
        "yes",
        "ok",
        "confirmer",
        "confirm",
    ):
        nonce = draft_of(ctx).get("nonce", "")
        return confirm(msg, ctx, nonce=nonce)
    return aside_then(msg, ctx, _ask_again(msg, ctx))


def _ask_again(msg: InboundMessage, ctx: Context) -> Result:
    """The question of the checkout step she is at, asked again."""
    state = ctx.conv.state
    if state == BuyerState.PAYMENT:
        return ask_payment(msg, ctx)
    if state == BuyerState.PAYER:
        return ask_payer(msg, ctx)
    if draft_of(ctx).get("step") == "edit":
        return edit(msg, ctx)
    return summary(ctx)


# --- the one confirmation -------------------------------------------------------------------

PROMO_ERRORS = (PromoExpired, PromoExhausted, PromoNotStarted, PromoUnknown, PromoDisabled)


def confirm(msg: InboundMessage, ctx: Context, *, nonce: str | None = None) -> Result:
    co = draft_of(ctx)
    given = nonce if nonce is not None else msg.payload.removeprefix("co:ok:")
    if not co.get("nonce") or given != co["nonce"]:
        if not co:
            return to_menu(ctx, "buyer.co.already")  # a second tap after the order was placed
        return summary(ctx, ctx.t("buyer.co.outdated"))
    try:
        quote = _quote(ctx, co)
    except CartEmpty:
        ctx.data.pop("co", None)
        return to_menu(ctx, "buyer.cart.empty")
    except (AddressInvalid, NotFound):
        return address_menu(ctx, ctx.t("error.address_invalid"))
    if quote.total != co.get("total"):
        return summary(ctx, ctx.t("buyer.co.changed"))
    try:
        placed = place_order(
            ctx.session,
            buyer_id=ctx.user.id,
            address_id=co.get("addr"),
            delivery_mode=DeliveryMode(co["mode"]),
            commission_payer=CommissionPayer(co["payer"]),
            payment_method=PAYMENTS[co["pay"]],
            product_ids=co.get("only"),
            use_points=bool(co.get("pts")),
        )
    except NotEnoughPoints as exc:
        save_draft(ctx, {**co, "pts": False})
        return summary(ctx, ctx.t(f"error.{exc.code.value}"))
    except PROMO_ERRORS as exc:
        return BuyerState.SUMMARY, [
            choices(
                ctx.t(f"error.{exc.code.value}") + "\n" + ctx.t("buyer.co.promo_problem"),
                [
                    Choice("promo:drop:co", ctx.t("buyer.co.promo_drop")),
                    Choice("co:stop", ctx.t("buyer.co.stop")),
                ],
            )
        ]
    except (OutOfStock, ProductUnavailable):
        ctx.data.pop("co", None)
        from bot.buyer.cart import show_cart

        return show_cart(msg, ctx, note=ctx.t("buyer.co.stock_changed"))
    ctx.data.pop("co", None)
    return BuyerState.MENU, confirmation(ctx, placed, pickup=co["mode"] == "pickup")


def confirmation(ctx: Context, placed: list[Any], *, pickup: bool) -> list[Reply]:
    """Per order: the QR image with the number, amount, PIN and one line on using them."""
    replies: list[Reply] = []
    how = ctx.t("buyer.confirm.how_pickup" if pickup else "buyer.confirm.how_home")
    for p in placed:
        path = write_qr(
            ctx.media_dir,
            order_id=p.order.id,
            token=p.code.token,
            public_base_url=ctx.public_base_url,
        )
        shop = queries.shop(ctx.session, p.order.shop_id)
        caption = ctx.t(
            "buyer.confirm.order",
            number=p.order.number,
            shop=shop.name if shop else "",
            total_gnf=p.order.total,
            pin=p.code.pin,
            how=how,
        )
        replies.append(Image(media_path=path, caption=caption))
    key = "buyer.confirm.done_many" if len(placed) > 1 else "buyer.confirm.done"
    replies.append(
        choices(
            ctx.t(key, n=len(placed)),
            [
                Choice("menu:orders", ctx.t("buyer.menu.orders")),
                Choice("menu:main", ctx.t("buyer.list.menu")),
            ],
        )
    )
    return replies


def drop_promo_and_summarise(msg: InboundMessage, ctx: Context) -> Result:
    cart.remove_promo(ctx.session, user_id=ctx.user.id)
    if not ctx.data.get("co", {}).get("mode"):
        return to_menu(ctx, "buyer.promo.removed")
    return summary(ctx, ctx.t("buyer.promo.removed"))
