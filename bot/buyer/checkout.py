"""Checkout: where to deliver, then one summary with sensible defaults, then one confirmation.

Why defaults rather than a question per choice: each question is a message on a slow network.
A returning buyer taps a saved address and lands on the summary — home delivery, the delivery
fee paid as last time (the buyer by default), payment as last time (cash by default) — and
changes any of it from there. So the choices that differ from the usual cost one message each,
and the usual order costs two: the address and the confirmation.

The summary carries a nonce in its confirm button: an old summary's button, or a second tap
after the order was placed, can never place a second order or one at a stale price.
"""

from __future__ import annotations

import secrets
from typing import Any

from bot.buyer.common import arg, choices, cut, is_sms, to_menu
from bot.buyer.qr import write_qr
from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import AskLocation, Choice, Image, InboundKind, InboundMessage, Reply, Text
from commerce import geo
from commerce.cart import actions as cart
from commerce.errors import (
    AddressInvalid,
    CartEmpty,
    NotFound,
    OutOfStock,
    ProductUnavailable,
    PromoExhausted,
    PromoExpired,
    PromoNotStarted,
    PromoUnknown,
)
from commerce.orders import queries
from commerce.orders.actions import CheckoutQuote, place_order, quote_checkout
from commerce.orders.models import CommissionPayer, DeliveryMode, PaymentMethod
from commerce.text import fold
from commerce.users import actions as users

QUARTIERS_PAGE = 8
# Guinea's bounding box, with a margin: a pin outside it is a mistake, not an address.
LAT_RANGE, LNG_RANGE = (7.0, 12.9), (-15.3, -7.5)
PAYMENTS = {
    "cash": PaymentMethod.CASH,
    "om": PaymentMethod.ORANGE_MONEY,
    "momo": PaymentMethod.MTN_MOMO,
}
PAYMENT_KEYS = {v: k for k, v in PAYMENTS.items()}


def _co(ctx: Context) -> dict[str, Any]:
    return dict(ctx.data.get("co") or {})


def _save(ctx: Context, co: dict[str, Any]) -> None:
    ctx.data["co"] = co  # replaced, never mutated in place: the JSON column sees the change


# --- start and the address step -------------------------------------------------------------


def start(msg: InboundMessage, ctx: Context) -> Result:
    summary = cart.cart_summary(ctx.session, user_id=ctx.user.id)
    if summary.unavailable:
        from bot.buyer.handlers import show_cart

        return show_cart(msg, ctx)
    if not summary.lines:
        return to_menu(ctx, "buyer.cart.empty")
    last = queries.last_order(ctx.session, buyer_id=ctx.user.id)
    _save(
        ctx,
        {
            "mode": None,
            "addr": None,
            "payer": last.commission_payer.value if last else CommissionPayer.BUYER.value,
            "pay": PAYMENT_KEYS[last.payment_method] if last else "cash",
        },
    )
    return address_menu(ctx)


def address_menu(ctx: Context, note: str = "") -> Result:
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
    co = _co(ctx)
    co.update(mode=DeliveryMode.HOME.value, addr=address_id)
    _save(ctx, co)
    return summary(ctx)


def pick_pickup(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    co = _co(ctx)
    co.update(mode=DeliveryMode.PICKUP.value, addr=None)
    _save(ctx, co)
    return summary(ctx)


def change_address(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    return address_menu(ctx)


# --- a new address: region → prefecture → quartier → landmark --------------------------------


def new_address(msg: InboundMessage, ctx: Context, note: str = "") -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    ctx.data["na"] = {}
    rows = [Choice(f"reg:{i}", r.name) for i, r in enumerate(geo.guinea().regions)]
    text = ctx.t("buyer.co.region")
    replies: list[Reply] = [Text(note)] if note else []
    replies.append(choices(text, rows, button=ctx.t("buyer.co.region_button")))
    return BuyerState.REGION, replies


def _prefecture_menu(ctx: Context, ri: int) -> Result:
    region = geo.guinea().regions[ri]
    ctx.data["na"] = {"r": ri}
    rows = [Choice(f"pref:{ri}:{pi}", p.name) for pi, p in enumerate(region.prefectures)]
    key = "buyer.co.commune" if region.name == "Conakry" else "buyer.co.prefecture"
    return BuyerState.PREFECTURE, [choices(ctx.t(key, region=region.name), rows)]


def _quartier_menu(ctx: Context, ri: int, pi: int, page: int = 0) -> Result:
    pref = geo.guinea().regions[ri].prefectures[pi]
    ctx.data["na"] = {"r": ri, "p": pi, "page": page}
    start_at = page * QUARTIERS_PAGE
    shown = pref.quartiers[start_at : start_at + QUARTIERS_PAGE]
    rows = [Choice(f"qtr:{ri}:{pi}:{start_at + qi}", q.name) for qi, q in enumerate(shown)]
    if start_at + QUARTIERS_PAGE < len(pref.quartiers):
        rows.append(Choice("qtr:more", ctx.t("buyer.list.more")))
    rows.append(Choice("qtr:other", ctx.t("buyer.co.other_quartier")))
    return BuyerState.QUARTIER, [
        choices(
            ctx.t("buyer.co.quartier", prefecture=pref.name),
            rows,
            button=ctx.t("buyer.co.quartier_button"),
        )
    ]


def _index(msg: InboundMessage, i: int, size: int) -> int | None:
    value = arg(msg, i)
    return value if value is not None and value < size else None


def pick_region(msg: InboundMessage, ctx: Context) -> Result:
    ri = _index(msg, 1, len(geo.guinea().regions))
    if ri is None:
        return new_address(msg, ctx, ctx.t("buyer.stale"))
    return _prefecture_menu(ctx, ri)


def pick_prefecture(msg: InboundMessage, ctx: Context) -> Result:
    regions = geo.guinea().regions
    ri = _index(msg, 1, len(regions))
    pi = _index(msg, 2, len(regions[ri].prefectures)) if ri is not None else None
    if ri is None or pi is None:
        return new_address(msg, ctx, ctx.t("buyer.stale"))
    return _quartier_menu(ctx, ri, pi)


def pick_quartier(msg: InboundMessage, ctx: Context) -> Result:
    na = dict(ctx.data.get("na") or {})
    if msg.payload == "qtr:more" and "p" in na:
        return _quartier_menu(ctx, na["r"], na["p"], int(na.get("page", 0)) + 1)
    if msg.payload == "qtr:other" and "p" in na:
        pref = geo.guinea().regions[na["r"]].prefectures[na["p"]]
        ctx.data["na"] = {**na, "typing": True}
        return BuyerState.QUARTIER, [Text(ctx.t("buyer.co.type_quartier", prefecture=pref.name))]
    regions = geo.guinea().regions
    ri = _index(msg, 1, len(regions))
    pi = _index(msg, 2, len(regions[ri].prefectures)) if ri is not None else None
    prefs = regions[ri].prefectures if ri is not None else ()
    qi = _index(msg, 3, len(prefs[pi].quartiers)) if pi is not None else None
    if ri is None or pi is None or qi is None:
        return new_address(msg, ctx, ctx.t("buyer.stale"))
    region = regions[ri]
    pref = region.prefectures[pi]
    return _ask_landmark(ctx, region.name, pref.name, pref.quartiers[qi].name)


def typed_place(msg: InboundMessage, ctx: Context) -> Result:
    """A place typed instead of tapped, at any step of the address: the best match wins."""
    g = geo.guinea()
    text = msg.text.strip()
    na = dict(ctx.data.get("na") or {})
    if "p" in na:  # at the quartier step: a listed quartier, else the buyer's own words
        region = g.regions[na["r"]]
        pref = region.prefectures[na["p"]]
        found = pref.quartier(text)
        if found is None and not fold(text):
            return _quartier_menu(ctx, na["r"], na["p"])
        return _ask_landmark(ctx, region.name, pref.name, found.name if found else text[:80])
    for ri, region in enumerate(g.regions):
        if "r" in na and ri != na["r"]:
            continue
        for pi, pref in enumerate(region.prefectures):
            if fold(pref.name) == fold(text):
                return _quartier_menu(ctx, ri, pi)
    if "r" not in na:
        for ri, region in enumerate(g.regions):
            if fold(region.name) == fold(text):
                return _prefecture_menu(ctx, ri)
    found_q = next(((pref, q) for pref, q in g.all_quartiers() if fold(q.name) == fold(text)), None)
    if found_q is not None:
        pref, q = found_q
        return _ask_landmark(ctx, g.region_of(pref).name, pref.name, q.name)
    if "r" in na:
        state, replies = _prefecture_menu(ctx, na["r"])
        return state, [Text(ctx.t("buyer.co.place_unknown", place=text[:40])), *replies]
    return new_address(msg, ctx, ctx.t("buyer.co.place_unknown", place=text[:40]))


def _ask_landmark(
    ctx: Context,
    region: str,
    prefecture: str,
    quartier: str,
    *,
    lat: float | None = None,
    lng: float | None = None,
) -> Result:
    ctx.data["na"] = {"region": region, "pref": prefecture, "q": quartier, "lat": lat, "lng": lng}
    place = f"{quartier}, {prefecture}" if quartier else prefecture
    text = ctx.t("buyer.co.landmark", place=place)
    if lat is not None:
        return BuyerState.LANDMARK, [choices(text, [Choice("lm:skip", ctx.t("buyer.co.skip"))])]
    return BuyerState.LANDMARK, [Text(text)]


def got_landmark(msg: InboundMessage, ctx: Context) -> Result:
    na = dict(ctx.data.get("na") or {})
    if "pref" not in na:
        return new_address(msg, ctx)
    skipping = msg.payload == "lm:skip" or fold(msg.text) in ("passer", "skip")
    landmark = "" if skipping else " ".join(msg.text.split())
    if not skipping and len(landmark) < 3:
        return BuyerState.LANDMARK, [Text(ctx.t("buyer.co.landmark_short"))]
    if skipping and na.get("lat") is None:
        return BuyerState.LANDMARK, [Text(ctx.t("buyer.co.landmark_short"))]
    return _save_address(ctx, na, landmark)


def _save_address(ctx: Context, na: dict[str, Any], landmark: str) -> Result:
    try:
        address = users.add_address(
            ctx.session,
            user_id=ctx.user.id,
            region=na["region"],
            prefecture=na["pref"],
            quartier=na.get("q") or "",
            landmark=landmark[:300],
            lat=na.get("lat"),
            lng=na.get("lng"),
        )
    except AddressInvalid:
        return new_address(ctx.inbound, ctx, ctx.t("error.address_invalid"))
    ctx.data.pop("na", None)
    co = _co(ctx)
    if not co:
        return start(ctx.inbound, ctx)
    co.update(mode=DeliveryMode.HOME.value, addr=address.id)
    _save(ctx, co)
    return summary(ctx)


# --- a location pin -------------------------------------------------------------------------


def ask_pin(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    return BuyerState.PIN, [AskLocation(ctx.t("buyer.co.send_pin"))]


def got_pin(msg: InboundMessage, ctx: Context) -> Result:
    """A WhatsApp/Telegram location: the nearest listed quartier names it for people."""
    if not ctx.data.get("co"):
        return start(msg, ctx)
    lat, lng = msg.latitude, msg.longitude
    if lat is None or lng is None:
        return ask_pin(msg, ctx)
    if not (LAT_RANGE[0] <= lat <= LAT_RANGE[1] and LNG_RANGE[0] <= lng <= LNG_RANGE[1]):
        state, replies = address_menu(ctx, ctx.t("buyer.co.pin_outside"))
        return state, replies
    pref, quartier = geo.nearest_quartier(lat, lng)
    region = geo.guinea().region_of(pref).name
    label = " ".join(msg.location_label.split())
    if label:
        ctx.data["na"] = {
            "region": region, "pref": pref.name, "q": quartier.name, "lat": lat, "lng": lng,
        }  # fmt: skip
        return _save_address(ctx, ctx.data["na"], label)
    return _ask_landmark(ctx, region, pref.name, quartier.name, lat=lat, lng=lng)


# --- the summary and its options ------------------------------------------------------------


def _quote(ctx: Context, co: dict[str, Any]) -> CheckoutQuote:
    return quote_checkout(
        ctx.session,
        buyer_id=ctx.user.id,
        address_id=co.get("addr"),
        delivery_mode=DeliveryMode(co["mode"]),
        commission_payer=CommissionPayer(co["payer"]),
    )


def summary(ctx: Context, note: str = "") -> Result:
    co = _co(ctx)
    if not co.get("mode"):
        return address_menu(ctx, note)
    try:
        quote = _quote(ctx, co)
    except CartEmpty:
        ctx.data.pop("co", None)
        return to_menu(ctx, "buyer.cart.empty")
    except (AddressInvalid, NotFound):
        return address_menu(ctx, ctx.t("error.address_invalid"))
    cart_lines = cart.cart_summary(ctx.session, user_id=ctx.user.id).lines
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
    co.update(nonce=nonce, total=quote.total)
    _save(ctx, co)
    rows = [
        Choice(f"co:ok:{nonce}", ctx.t("buyer.co.confirm")),
        Choice("co:pay", ctx.t("buyer.co.change_payment")),
    ]
    if co["mode"] == DeliveryMode.HOME.value:
        rows.append(Choice("co:payer", ctx.t("buyer.co.change_payer")))
    rows += [
        Choice("co:addr", ctx.t("buyer.co.change_address")),
        Choice("co:stop", ctx.t("buyer.co.stop")),
    ]
    text = ctx.t("buyer.co.summary_title") + "\n" + "\n".join(lines)
    replies: list[Reply] = [Text(note)] if note else []
    replies.append(choices(text, rows, button=ctx.t("buyer.co.summary_button")))
    return BuyerState.SUMMARY, replies


def ask_payment(msg: InboundMessage, ctx: Context) -> Result:
    if not ctx.data.get("co"):
        return start(msg, ctx)
    rows = [Choice(f"pay:{k}", ctx.t(f"buyer.pay.{k}")) for k in PAYMENTS]
    return BuyerState.PAYMENT, [choices(ctx.t("buyer.co.payment_ask"), rows)]


def pick_payment(msg: InboundMessage, ctx: Context) -> Result:
    key = msg.payload.split(":", 1)[1] if ":" in msg.payload else ""
    if not ctx.data.get("co") or key not in PAYMENTS:
        return stale_summary(msg, ctx)
    co = _co(ctx)
    co["pay"] = key
    _save(ctx, co)
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
    co = _co(ctx)
    co["payer"] = key
    _save(ctx, co)
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
    """Typed words at a step that wants a tap: say so, and ask the same question again."""
    if msg.kind == InboundKind.TEXT and fold(msg.text) in (
        "oui",
        "yes",
        "ok",
        "confirmer",
        "confirm",
    ):
        nonce = _co(ctx).get("nonce", "")
        return confirm(msg, ctx, nonce=nonce)
    if ctx.data.get("co", {}).get("mode"):
        return summary(ctx, ctx.t("buyer.not_understood"))
    return address_menu(ctx, ctx.t("buyer.not_understood"))


# --- the one confirmation -------------------------------------------------------------------

PROMO_ERRORS = (PromoExpired, PromoExhausted, PromoNotStarted, PromoUnknown)


def confirm(msg: InboundMessage, ctx: Context, *, nonce: str | None = None) -> Result:
    co = _co(ctx)
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
        )
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
        from bot.buyer.handlers import show_cart

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
