"""After the order: status, cancellation, cash at the door, review.

Returns and reports are `bot.buyer.returns`.

Order numbers are what people type ("où est ma commande 1042", "oui 1042", "annuler 1042"),
and the buttons carry the same number, so a tap and a typed answer take the same path.
"""

from __future__ import annotations

import dataclasses
import re

from bot.buyer.checkout import confirmation
from bot.buyer.common import arg, choices, cut, first_name, main_menu, to_menu
from bot.buyer.states import BuyerState
from bot.flow import Context, Intent, Result
from bot.messages import Choice, InboundKind, InboundMessage, Reply, Text
from bot.numbers import number_of, order_number
from commerce import clock, rules
from commerce.delivery.handover import at_the_door, confirm_cash
from commerce.errors import (
    AlreadyReviewed,
    IllegalTransition,
    NotFound,
    ReviewNotAllowed,
)
from commerce.messaging import outbox
from commerce.messaging.notices import Notice
from commerce.orders import queries
from commerce.orders.actions import buyer_order, cancel_order, orders_of_buyer
from commerce.orders.models import DeliveryMode, Order, OrderStatus, PaymentMethod
from commerce.reviews.actions import (
    add_review,
    add_review_comment,
    courier_to_rate,
    rate_courier,
    skip_review_comment,
)
from commerce.text import fold

_NUMBER = re.compile(r"\b(\d{1,9})\b")


def number_in(text: str) -> int | None:
    m = _NUMBER.search(fold(text))
    return int(m.group(1)) if m else None


def _mentions_order(msg: InboundMessage, _ctx: Context) -> bool:
    """ "où est ma commande 1042", "order 1042?", "suivi 1042", "#1042", "n° 1042" — not the 5 of
    "ça fait 5 jours que j'attends ma commande" (`bot.numbers.order_number`)."""
    return msg.kind == InboundKind.TEXT and order_number(msg.text) is not None


def _first_word(*accepted: str) -> Intent:
    folded = {fold(w) for w in accepted}

    def test(m: InboundMessage, _c: Context) -> bool:
        words = fold(m.text).split()
        return m.kind == InboundKind.TEXT and bool(words) and words[0] in folded

    return Intent(f"first:{'|'.join(sorted(folded))}", test)


MENTIONS_ORDER = Intent("mentions_order", _mentions_order)
SAYS_YES = _first_word("oui", "yes", "ok")
SAYS_NO = _first_word("non", "no")
SAYS_CANCEL = _first_word("annuler", "annule", "annulez")


def find_order(ctx: Context, order_id: int | None) -> Order | None:
    if order_id is None:
        return None
    try:
        return buyer_order(ctx.session, ctx.user.id, order_id)
    except NotFound:
        return None


# --- list and status ------------------------------------------------------------------------


def _status(ctx: Context, order: Order) -> str:
    return ctx.t(f"status.{order.status.value}")


def show_orders(msg: InboundMessage, ctx: Context) -> Result:
    orders = orders_of_buyer(ctx.session, buyer_id=ctx.user.id, limit=8)
    if not orders:
        return to_menu(ctx, "buyer.orders.none")
    rows = [
        Choice(
            f"order:{o.id}",
            ctx.t(
                "buyer.orders.row", number=o.number, status=ctx.t(f"buyer.short.{o.status.value}")
            ),
            description=ctx.t("buyer.product.row", price_gnf=o.total),
        )
        for o in orders
    ]
    rows.append(Choice("menu:main", ctx.t("buyer.list.menu")))
    return BuyerState.ORDERS, [
        choices(ctx.t("buyer.orders.pick"), rows, button=ctx.t("buyer.orders.button"))
    ]


def show_order(msg: InboundMessage, ctx: Context) -> Result:
    order = find_order(ctx, arg(msg, 1))
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    return order_view(ctx, order)


def order_by_text(msg: InboundMessage, ctx: Context) -> Result:
    order_id = order_number(msg.text)
    order = find_order(ctx, order_id)
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown_number", number=order_id or "")
    return order_view(ctx, order)


def order_view(ctx: Context, order: Order, note: str = "") -> Result:
    ctx.data["order"] = order.id  # the order in context: a hand-off goes to its seller
    lines = [
        ctx.t("buyer.orders.head", number=order.number, status=_status(ctx, order)),
    ]
    for item in order.items:
        lines.append(
            ctx.t(
                "buyer.cart.line",
                qty=item.quantity,
                name=cut(item.name, 40),
                total_gnf=item.unit_price * item.quantity,
            )
        )
    lines.append(
        ctx.t(
            "buyer.orders.total",
            total_gnf=order.total,
            method=ctx.t(f"buyer.pay.{_pay_key(order)}"),
        )
    )
    courier = first_name(queries.courier_name(ctx.session, order))
    if courier and order.status in (OrderStatus.COURIER_ASSIGNED, OrderStatus.PICKED_UP):
        key = (
            "buyer.orders.courier_coming"
            if order.status == OrderStatus.PICKED_UP
            else "buyer.orders.courier"
        )
        lines.append(ctx.t(key, name=courier))
    if order.status == OrderStatus.REFUSED and order.refusal_reason:
        lines.append(ctx.t("buyer.orders.refused_reason", reason=order.refusal_reason))
    rows: list[Choice] = []
    if (
        order.status in (OrderStatus.PICKED_UP, OrderStatus.ACCEPTED)
        and order.cash_confirmed_at is None
        and (order.status == OrderStatus.PICKED_UP or order.delivery_mode == DeliveryMode.PICKUP)
    ):
        rows.append(Choice(f"cash:yes:{order.id}", ctx.t("buyer.orders.paid")))
    if order.status in queries.CANCELLABLE or order.status == OrderStatus.PICKED_UP:
        rows.append(Choice(f"qr:{order.id}", ctx.t("buyer.orders.show_code")))
    if order.status in queries.CANCELLABLE:
        rows.append(Choice(f"cancel:{order.id}", ctx.t("buyer.orders.cancel")))
    if queries.reviewable_items(ctx.session, order):
        rows.append(Choice(f"rate:{order.id}", ctx.t("buyer.orders.rate")))
    if can_return(ctx, order) and queries.returnable_items(order):
        rows.append(Choice(f"ret:{order.id}", ctx.t("buyer.orders.return")))
    rows.append(Choice(f"rep:s:{order.id}", ctx.t("buyer.orders.report")))
    rows.append(Choice("menu:orders", ctx.t("buyer.orders.all")))
    replies: list[Reply] = [Text(note)] if note else []
    replies.append(choices("\n".join(lines), rows, button=ctx.t("buyer.orders.actions")))
    return BuyerState.ORDER, replies


def _pay_key(order: Order) -> str:
    from bot.buyer.checkout import PAYMENT_KEYS

    return PAYMENT_KEYS[order.payment_method]


def can_return(ctx: Context, order: Order) -> bool:
    if order.status != OrderStatus.DELIVERED or order.delivered_at is None:
        return False
    import datetime as dt

    return clock.now() <= order.delivered_at + dt.timedelta(
        days=rules.of(ctx.session).return_window_days
    )


def resend_code(msg: InboundMessage, ctx: Context) -> Result:
    """The QR and PIN again (lost the message, new phone): only while the code can serve."""
    order = find_order(ctx, arg(msg, 1))
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    code = queries.code_of(ctx.session, order)
    usable = (
        code is not None
        and code.used_at is None
        and code.locked_at is None
        and clock.now() < code.expires_at
    )
    if not usable or order.status not in (*queries.CANCELLABLE, OrderStatus.PICKED_UP):
        return order_view(ctx, order, ctx.t("buyer.orders.code_unusable"))

    class _P:  # the shape confirmation() reads: .order and .code
        def __init__(self) -> None:
            self.order, self.code = order, code

    replies = confirmation(ctx, [_P()], pickup=order.delivery_mode == DeliveryMode.PICKUP)
    return BuyerState.MENU, [*replies[:-1], main_menu(ctx)]


# --- cancel ---------------------------------------------------------------------------------


def ask_cancel(msg: InboundMessage, ctx: Context) -> Result:
    order_id = arg(msg, 1) if msg.kind == InboundKind.BUTTON else number_in(msg.text)
    order = find_order(ctx, order_id)
    if order is None:
        if order_id is None:
            return show_orders(msg, ctx)
        return to_menu(ctx, "buyer.orders.unknown_number", number=order_id)
    if order.status not in queries.CANCELLABLE:
        return order_view(ctx, order, ctx.t("buyer.cancel.too_late"))
    ctx.data["cancel"] = order.id
    return BuyerState.CANCEL, [
        choices(
            ctx.t("buyer.cancel.ask", number=order.number, total_gnf=order.total),
            [
                Choice(f"cx:yes:{order.id}", ctx.t("buyer.cancel.yes")),
                Choice(f"cx:no:{order.id}", ctx.t("buyer.cancel.no")),
            ],
        )
    ]


def do_cancel(msg: InboundMessage, ctx: Context) -> Result:
    ctx.data.pop("cancel", None)
    order = find_order(ctx, arg(msg, 2))
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    if msg.payload.startswith("cx:no"):
        return order_view(ctx, order, ctx.t("buyer.cancel.kept"))
    try:
        cancel_order(ctx.session, buyer_id=ctx.user.id, order_id=order.id)
    except IllegalTransition:
        return order_view(ctx, order, ctx.t("buyer.cancel.too_late"))
    return to_menu(ctx, "buyer.cancel.done", number=order.number)


def cancel_typed(msg: InboundMessage, ctx: Context, *, yes: bool) -> Result:
    order_id = ctx.data.pop("cancel", None)
    if order_id is None:
        return to_menu(ctx, "buyer.stale")
    fake = InboundMessage(
        provider=msg.provider,
        external_id=msg.external_id,
        channel=msg.channel,
        address=msg.address,
        kind=InboundKind.BUTTON,
        payload=f"cx:{'yes' if yes else 'no'}:{order_id}",
    )
    return do_cancel(fake, ctx)


def ask_cancel_again(msg: InboundMessage, ctx: Context) -> Result:
    """ "Annuler la commande …?" once more, for the order it was asked about."""
    order_id = ctx.data.get("cancel")
    if not isinstance(order_id, int):
        return to_menu(ctx, "buyer.stale")
    return ask_cancel(
        dataclasses.replace(msg, kind=InboundKind.BUTTON, payload=f"cancel:{order_id}"), ctx
    )


def cancel_yes(msg: InboundMessage, ctx: Context) -> Result:
    return cancel_typed(msg, ctx, yes=True)


def cancel_no(msg: InboundMessage, ctx: Context) -> Result:
    return cancel_typed(msg, ctx, yes=False)


# --- cash at the door -----------------------------------------------------------------------


def cash_button(msg: InboundMessage, ctx: Context) -> Result:
    answer = msg.payload.split(":")[1] if msg.payload.count(":") >= 2 else ""
    return _cash(ctx, arg(msg, 2), yes=answer == "yes")


def asked_cash_for(ctx: Context) -> int | None:
    """The order whose payment the last message to this buyer asked her to confirm, if any.

    A bare "oui" answers the question just asked, and nothing older: after "annuler 16" (not
    hers) a "oui" must not confirm the cash of order 15 that happens to be at her door.
    """
    last = outbox.last_to(ctx.session, user_id=ctx.user.id)
    if last is None:
        return None
    if last.kind == Notice.CONFIRM_CASH:
        order_id = (last.payload.get("params") or {}).get("order_id")
        return int(order_id) if isinstance(order_id, int) else None
    if last.kind != Notice.REPLY:
        return None
    wanted = [c for c in _choice_ids(last.payload.get("reply")) if c.startswith("cash:yes:")]
    tail = wanted[0].rsplit(":", 1)[-1] if len(wanted) == 1 else ""
    return int(tail) if tail.isdigit() else None


def _choice_ids(reply: object) -> list[str]:
    if not isinstance(reply, dict):
        return []
    found = reply.get("choices") or []
    return [str(c.get("id", "")) for c in found if isinstance(c, dict)]


def cash_typed(msg: InboundMessage, ctx: Context, *, yes: bool) -> Result:
    """ "oui 1042" names its order; a bare "oui"/"non" answers only the cash question just
    asked. With none pending, the buyer is asked what she confirms."""
    order_id = number_in(msg.text) or asked_cash_for(ctx)
    if order_id is not None:
        return _cash(ctx, order_id, yes=yes)
    waiting = queries.awaiting_cash(ctx.session, buyer_id=ctx.user.id)
    if not waiting or not yes:
        return to_menu(ctx, "buyer.cash.nothing_asked")
    rows = [
        Choice(f"cash:yes:{o.id}", ctx.t("buyer.cash.paid_for", number=o.number)) for o in waiting
    ]
    return BuyerState.MENU, [choices(ctx.t("buyer.cash.which"), rows)]


def says_yes(msg: InboundMessage, ctx: Context) -> Result:
    return cash_typed(msg, ctx, yes=True)


def says_no(msg: InboundMessage, ctx: Context) -> Result:
    return cash_typed(msg, ctx, yes=False)


def _cash(ctx: Context, order_id: int | None, *, yes: bool) -> Result:
    order = find_order(ctx, order_id)
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    if order.cash_confirmed_at is not None:
        return order_view(ctx, order, ctx.t("buyer.cash.already"))
    if not yes:
        return order_view(ctx, order, ctx.t("buyer.cash.denied"))
    if order.payment_method in MOBILE_MONEY:
        if not at_the_door(order):  # checked again by confirm_cash
            return order_view(ctx, order, ctx.t("buyer.cash.not_yet"))
        return ask_reference(ctx, order)
    return _confirm_paid(ctx, order)


# --- the mobile-money reference (one optional step, never for cash) --------------------------

MOBILE_MONEY = (PaymentMethod.ORANGE_MONEY, PaymentMethod.MTN_MOMO)
MAX_REFERENCE = 64


def ask_reference(ctx: Context, order: Order) -> Result:
    ctx.data["cash_ref"] = order.id
    text = ctx.t(
        "buyer.cash.ask_reference",
        method=ctx.t(f"buyer.cash.method_{order.payment_method.value}"),
        number=order.number,
    )
    rows = [Choice(f"cashref:skip:{order.id}", ctx.t("buyer.cash.skip_reference"))]
    return BuyerState.CASH_REFERENCE, [choices(text, rows)]


def _looks_like_reference(msg: InboundMessage, _ctx: Context) -> bool:
    """A transaction id ("MP231210.1234.A56789", "CI231210123456"): has a digit, few words."""
    text = msg.text.strip() if msg.kind == InboundKind.TEXT else ""
    return (
        0 < len(text) <= MAX_REFERENCE
        and any(ch.isdigit() for ch in text)
        and len(text.split()) <= 3
        and order_number(text) is None  # "commande 1042" is a question about an order
    )


REFERENCE_TYPED = Intent("reference_typed", _looks_like_reference)


def _reference_order(ctx: Context) -> Order | None:
    order_id = ctx.data.get("cash_ref")
    return find_order(ctx, order_id) if isinstance(order_id, int) else None


def got_reference(msg: InboundMessage, ctx: Context) -> Result:
    order = _reference_order(ctx)
    if order is None:
        return to_menu(ctx, "buyer.cash.nothing_asked")
    return _confirm_paid(ctx, order, reference=" ".join(msg.text.split())[:MAX_REFERENCE])


def skip_reference(msg: InboundMessage, ctx: Context) -> Result:
    """ "Passer" (typed, or the button cashref:skip:<order>): confirmed without a reference."""
    order = find_order(ctx, arg(msg, 2)) if msg.payload else _reference_order(ctx)
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    if order.cash_confirmed_at is not None:
        return order_view(ctx, order, ctx.t("buyer.cash.already"))
    return _confirm_paid(ctx, order)


def ask_reference_again(_msg: InboundMessage, ctx: Context) -> Result:
    order = _reference_order(ctx)
    if order is None or order.cash_confirmed_at is not None:
        return to_menu(ctx, "buyer.cash.nothing_asked")
    return ask_reference(ctx, order)


def _confirm_paid(ctx: Context, order: Order, reference: str = "") -> Result:
    ctx.data.pop("cash_ref", None)
    try:
        result = confirm_cash(
            ctx.session, buyer_id=ctx.user.id, order_id=order.id, reference=reference
        )
    except IllegalTransition:
        return order_view(ctx, order, ctx.t("buyer.cash.not_yet"))
    if result.delivered:
        # Her own word closed it: the core queues no rating prompt, this answer is the one.
        return _rating_menu(ctx, order, ctx.t("buyer.cash.closed", number=order.number))
    return to_menu(ctx, "buyer.cash.noted", number=order.number)


# --- review ---------------------------------------------------------------------------------


def _rating_menu(ctx: Context, order: Order, intro: str = "") -> Result:
    """The stars asked in this turn: a step of its own (RATING), the order kept in the data,
    so words typed there are a detour and the stars are asked again (bot/buyer/flow.py)."""
    text = (intro + "\n" if intro else "") + ctx.t("buyer.review.ask", number=order.number)
    rows = [Choice(f"rate:{order.id}:{n}", ctx.t(f"buyer.review.r{n}")) for n in range(1, 6)]
    ctx.data["rating"] = order.id
    return BuyerState.RATING, [choices(text, rows)]


def _stars_typed(msg: InboundMessage, _ctx: Context) -> bool:
    """The whole message is a number of stars: "5", "cinq", "five"."""
    said = number_of(msg.text) if msg.kind == InboundKind.TEXT else None
    return said is not None and 1 <= said <= 5


STARS_TYPED = Intent("stars_typed", _stars_typed)


def _rating_for(ctx: Context) -> int | None:
    order_id = ctx.data.get("rating")
    return order_id if isinstance(order_id, int) else None


def rate(msg: InboundMessage, ctx: Context) -> Result:
    """rate:<order> asks for the stars; rate:<order>:<n> records them and asks a comment."""
    return _rate(ctx, arg(msg, 1), arg(msg, 2))


def typed_stars(msg: InboundMessage, ctx: Context) -> Result:
    """At the RATING step, "4" or "quatre" are the stars of the order it asks about."""
    return _rate(ctx, _rating_for(ctx), number_of(msg.text))


def ask_stars_again(_msg: InboundMessage, ctx: Context) -> Result:
    """The RATING step's question again, after a detour (or where it stands now)."""
    return _rate(ctx, _rating_for(ctx), None)


def _rate(ctx: Context, order_id: int | None, stars: int | None) -> Result:
    order = find_order(ctx, order_id)
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    if not queries.reviewable_items(ctx.session, order):
        key = (
            "error.already_reviewed"
            if order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
            else "error.review_not_allowed"
        )
        return order_view(ctx, order, ctx.t(key))
    if stars is None or not 1 <= stars <= 5:
        return _rating_menu(ctx, order)
    ctx.data.pop("rating", None)
    # The stars count as soon as they are tapped; the comment is a bonus the buyer may skip.
    saved: list[int] = []
    for item in queries.reviewable_items(ctx.session, order):
        try:
            add_review(ctx.session, buyer_id=ctx.user.id, order_item_id=item.id, rating=stars)
            saved.append(item.id)
        except (AlreadyReviewed, ReviewNotAllowed):
            continue
    if not saved:
        return to_menu(ctx, "error.already_reviewed")
    ctx.data["review"] = {"order": order.id, "stars": stars, "items": saved}
    return BuyerState.REVIEW_COMMENT, [
        choices(
            ctx.t("buyer.review.comment", stars=stars), [Choice("rv:skip", ctx.t("buyer.co.skip"))]
        )
    ]


def got_comment(msg: InboundMessage, ctx: Context) -> Result:
    pending = ctx.data.pop("review", None)
    if not pending:
        return to_menu(ctx, "buyer.stale")
    skipping = msg.payload == "rv:skip" or fold(msg.text) in ("passer", "skip", "non", "no")
    comment = "" if skipping else " ".join(msg.text.split())[:1000]
    # The stars were saved at the tap: the comment joins them, or the skip closes the review;
    # either way the seller's one alert about it goes now.
    for item_id in pending.get("items") or []:
        try:
            if comment:
                add_review_comment(
                    ctx.session, buyer_id=ctx.user.id, order_item_id=int(item_id), comment=comment
                )
            else:
                skip_review_comment(ctx.session, buyer_id=ctx.user.id, order_item_id=int(item_id))
        except (AlreadyReviewed, NotFound):
            continue
    order = find_order(ctx, pending.get("order") if isinstance(pending.get("order"), int) else None)
    if order is not None and courier_to_rate(ctx.session, buyer_id=ctx.user.id, order_id=order.id):
        return _courier_menu(ctx, order, ctx.t("buyer.review.thanks"))
    return to_menu(ctx, "buyer.review.thanks")


# --- the courier's stars (one more tap after the order's) ----------------------------------


def _courier_menu(ctx: Context, order: Order, intro: str = "") -> Result:
    """ "Et le livreur Ibrahima ? 1 à 5": one tap, or Passer; the order kept in the data."""
    courier = courier_to_rate(ctx.session, buyer_id=ctx.user.id, order_id=order.id)
    if courier is None:
        return to_menu(ctx, "buyer.review.courier_done")
    name = first_name(courier.name)
    ask = (
        ctx.t("buyer.review.courier_ask", name=name)
        if name
        else ctx.t("buyer.review.courier_ask_anon")
    )
    text = (intro + "\n" if intro else "") + ask
    rows = [Choice(f"crate:{order.id}:{n}", ctx.t(f"buyer.review.r{n}")) for n in range(1, 6)]
    rows.append(Choice(f"crate:{order.id}:skip", ctx.t("buyer.co.skip")))
    ctx.data["crating"] = order.id
    return BuyerState.COURIER_RATING, [choices(text, rows)]


def _courier_rating_for(ctx: Context) -> int | None:
    order_id = ctx.data.get("crating")
    return order_id if isinstance(order_id, int) else None


def rate_courier_tap(msg: InboundMessage, ctx: Context) -> Result:
    """crate:<order>:<n> records the courier's stars; crate:<order>:skip passes."""
    if msg.payload.endswith(":skip"):
        return skip_courier(msg, ctx)
    return _rate_courier(ctx, arg(msg, 1), arg(msg, 2))


def typed_courier_stars(msg: InboundMessage, ctx: Context) -> Result:
    """At the COURIER_RATING step, "4" or "quatre" are the courier's stars."""
    return _rate_courier(ctx, _courier_rating_for(ctx), number_of(msg.text))


def ask_courier_again(_msg: InboundMessage, ctx: Context) -> Result:
    order = find_order(ctx, _courier_rating_for(ctx))
    if order is None:
        return to_menu(ctx, "buyer.stale")
    return _courier_menu(ctx, order)


def skip_courier(_msg: InboundMessage, ctx: Context) -> Result:
    ctx.data.pop("crating", None)
    return to_menu(ctx, "buyer.review.courier_skipped")


def _rate_courier(ctx: Context, order_id: int | None, stars: int | None) -> Result:
    order = find_order(ctx, order_id)
    if order is None:
        ctx.data.pop("crating", None)
        return to_menu(ctx, "buyer.orders.unknown")
    if stars is None or not 1 <= stars <= 5:
        return _courier_menu(ctx, order)
    ctx.data.pop("crating", None)
    try:
        rate_courier(ctx.session, buyer_id=ctx.user.id, order_id=order.id, rating=stars)
    except AlreadyReviewed:
        return to_menu(ctx, "buyer.review.courier_done")
    except (ReviewNotAllowed, NotFound):
        return to_menu(ctx, "buyer.review.courier_none")
    return to_menu(ctx, "buyer.review.courier_thanks", stars=stars)
