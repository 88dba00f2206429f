"""When something went wrong after the order: a return (items, reason, photo, refund), a report.

Why apart from `bot.buyer.orders`: a return is a flow of its own (four steps and a refund
confirmation); it starts from the order view and shares only its lookups.
"""

from __future__ import annotations

import dataclasses

from bot.buyer.common import arg, choices, is_sms, to_menu
from bot.buyer.orders import can_return, find_order, order_view
from bot.buyer.states import BuyerState
from bot.flow import Context, Result
from bot.messages import Choice, InboundKind, InboundMessage, Text
from commerce.errors import (
    AlreadyExists,
    CommerceError,
    NotFound,
    PermissionDenied,
    RefundState,
    ReturnNotAllowed,
    ReturnWindowClosed,
)
from commerce.moderation.actions import report
from commerce.orders import queries
from commerce.orders.models import Order, OrderStatus
from commerce.returns.actions import confirm_refund, request_return
from commerce.text import fold

# --- return ---------------------------------------------------------------------------------


def start_return(msg: InboundMessage, ctx: Context) -> Result:
    order = find_order(ctx, arg(msg, 1))
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    if not can_return(ctx, order):
        key = (
            "error.return_window_closed"
            if order.status in (OrderStatus.DELIVERED, OrderStatus.COMPLETED)
            else "error.return_not_allowed"
        )
        return order_view(ctx, order, ctx.t(key))
    items = queries.returnable_items(order)
    if not items:
        return order_view(ctx, order, ctx.t("buyer.ret.nothing_left"))
    if len(items) == 1:
        return _ask_reason(ctx, order, [items[0].id])
    rows = [Choice(f"ri:{order.id}:{i.id}", i.name) for i in items[:8]]
    rows.append(Choice(f"ri:{order.id}:0", ctx.t("buyer.ret.all")))
    ctx.data["ret"] = {"order": order.id}  # which order's items are asked about
    return BuyerState.RETURN_ITEMS, [choices(ctx.t("buyer.ret.which"), rows)]


def ask_items_again(msg: InboundMessage, ctx: Context) -> Result:
    """ "Quel article voulez-vous retourner ?" once more, for the same order."""
    order_id = (ctx.data.get("ret") or {}).get("order")
    if not isinstance(order_id, int):
        return to_menu(ctx, "buyer.stale")
    return start_return(
        dataclasses.replace(msg, kind=InboundKind.BUTTON, payload=f"ret:{order_id}"), ctx
    )


def pick_return_item(msg: InboundMessage, ctx: Context) -> Result:
    order = find_order(ctx, arg(msg, 1))
    item_id = arg(msg, 2)
    if order is None or item_id is None:
        return to_menu(ctx, "buyer.stale")
    items = queries.returnable_items(order)
    chosen = [i.id for i in items] if item_id == 0 else [i.id for i in items if i.id == item_id]
    if not chosen:
        return order_view(ctx, order, ctx.t("buyer.stale"))
    return _ask_reason(ctx, order, chosen)


REASONS = ("broken", "not_as_shown", "wrong_size", "other")


def _ask_reason(ctx: Context, order: Order, item_ids: list[int]) -> Result:
    ctx.data["ret"] = {"order": order.id, "items": item_ids}
    rows = [Choice(f"rr:{r}", ctx.t(f"buyer.ret.reason_{r}")) for r in REASONS]
    return BuyerState.RETURN_REASON, [choices(ctx.t("buyer.ret.why"), rows)]


def got_reason(msg: InboundMessage, ctx: Context) -> Result:
    pending = dict(ctx.data.get("ret") or {})
    if not pending:
        return to_menu(ctx, "buyer.stale")
    if msg.kind == InboundKind.BUTTON:
        key = msg.payload.removeprefix("rr:")
        if key == "other":
            return BuyerState.RETURN_REASON, [Text(ctx.t("buyer.ret.type_reason"))]
        if key not in REASONS:
            return to_menu(ctx, "buyer.stale")
        reason = ctx.t(f"buyer.ret.reason_{key}")
    else:
        reason = " ".join(msg.text.split())[:500]
        if len(reason) < 3:
            return BuyerState.RETURN_REASON, [Text(ctx.t("buyer.ret.type_reason"))]
    ctx.data["ret"] = {**pending, "reason": reason}
    text = ctx.t("buyer.ret.photo_sms" if is_sms(ctx) else "buyer.ret.photo")
    return BuyerState.RETURN_PHOTO, [
        choices(text, [Choice("rp:skip", ctx.t("buyer.ret.no_photo"))])
    ]


def got_photo(msg: InboundMessage, ctx: Context) -> Result:
    """A photo (kept as a reference the worker can fetch), or none: the request is sent."""
    pending = ctx.data.pop("ret", None)
    if not pending or "reason" not in pending:
        return to_menu(ctx, "buyer.stale")
    photo = ""
    if msg.kind == InboundKind.MEDIA and msg.media:
        media = msg.media[0]
        photo = media.reference
        photo = photo[:255]
    elif msg.payload != "rp:skip" and fold(msg.text) not in ("passer", "skip", "non", "no"):
        ctx.data["ret"] = pending
        return BuyerState.RETURN_PHOTO, [
            choices(
                ctx.t("buyer.ret.photo_again"), [Choice("rp:skip", ctx.t("buyer.ret.no_photo"))]
            )
        ]
    order = find_order(ctx, pending["order"])
    if order is None:
        return to_menu(ctx, "buyer.orders.unknown")
    wanted = {i: i for i in pending["items"]}
    items = [
        (i.id, i.quantity - i.returned_quantity)
        for i in queries.returnable_items(order)
        if i.id in wanted
    ]
    try:
        ret = request_return(
            ctx.session,
            buyer_id=ctx.user.id,
            order_id=order.id,
            items=items,
            reason=pending["reason"],
            photo_path=photo,
        )
    except (ReturnNotAllowed, ReturnWindowClosed) as exc:
        return order_view(ctx, order, ctx.t(f"error.{exc.code.value}"))
    except CommerceError:
        return order_view(ctx, order, ctx.t("buyer.ret.nothing_left"))
    return to_menu(ctx, "buyer.ret.sent", number=ret.id, order=order.number)


def refund_received(msg: InboundMessage, ctx: Context) -> Result:
    try:
        confirm_refund(ctx.session, buyer_id=ctx.user.id, return_id=arg(msg, 1) or 0)
    except (RefundState, NotFound):
        return to_menu(ctx, "buyer.ret.refund_not_yet")
    return to_menu(ctx, "buyer.ret.refund_thanks")


# --- report ---------------------------------------------------------------------------------

REPORT_REASONS = ("scam", "fake", "offensive", "other")


def ask_report(msg: InboundMessage, ctx: Context) -> Result:
    """rep:p:<product> or rep:s:<order> (the order's seller)."""
    parts = msg.payload.split(":")
    target = arg(msg, 2)
    if len(parts) != 3 or parts[1] not in ("p", "s") or target is None:
        return to_menu(ctx, "buyer.stale")
    ctx.data["report"] = {"kind": parts[1], "id": target}
    rows = [Choice(f"rpr:{r}", ctx.t(f"buyer.report.reason_{r}")) for r in REPORT_REASONS]
    key = "buyer.report.ask_product" if parts[1] == "p" else "buyer.report.ask_seller"
    return BuyerState.REPORT, [choices(ctx.t(key), rows)]


def got_report(msg: InboundMessage, ctx: Context) -> Result:
    pending = ctx.data.get("report")
    if not pending:
        return to_menu(ctx, "buyer.stale")
    if msg.kind == InboundKind.BUTTON:
        key = msg.payload.removeprefix("rpr:")
        if key == "other":
            return BuyerState.REPORT, [Text(ctx.t("buyer.report.type_reason"))]
        if key not in REPORT_REASONS:
            return to_menu(ctx, "buyer.stale")
        reason = ctx.t(f"buyer.report.reason_{key}")
    else:
        reason = " ".join(msg.text.split())[:500]
        if len(reason) < 3:
            return BuyerState.REPORT, [Text(ctx.t("buyer.report.type_reason"))]
    ctx.data.pop("report", None)
    try:
        if pending["kind"] == "p":
            report(ctx.session, reporter_id=ctx.user.id, reason=reason, product_id=pending["id"])
        else:
            order = find_order(ctx, pending["id"])
            shop = queries.shop(ctx.session, order.shop_id) if order else None
            if shop is None:
                return to_menu(ctx, "buyer.orders.unknown")
            report(
                ctx.session, reporter_id=ctx.user.id, reason=reason, target_user_id=shop.owner_id
            )
    except AlreadyExists:
        return to_menu(ctx, "buyer.report.already")
    except (NotFound, PermissionDenied):
        return to_menu(ctx, "buyer.stale")
    return to_menu(ctx, "buyer.report.thanks")
