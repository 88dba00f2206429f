"""The seller's orders: the order card and its buttons, accept, refuse with a reason, the list of
open orders.
"""

from __future__ import annotations

from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, InboundMessage, Reply, Text
from bot.seller.common import label, lost, main_menu, need_shop
from bot.seller.dispatch import delivery_choices, pin_choice
from bot.seller.states import SellerState as S
from commerce.delivery import handover
from commerce.orders import actions as orders
from commerce.orders.models import DeliveryMode, Order, OrderStatus

OPEN_STATUSES = [
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.COURIER_ASSIGNED,
    OrderStatus.PICKED_UP,
]


def order_text(ctx: Context, order: Order) -> str:
    lines = "\n".join(
        ctx.t("seller.order.line", qty=i.quantity, name=i.name, total_gnf=i.unit_price * i.quantity)
        for i in order.items
    )
    where = (
        ctx.t("seller.order.home", quartier=order.quartier or "—", prefecture=order.prefecture,
              landmark=order.landmark or "—")
        if order.delivery_mode == DeliveryMode.HOME
        else ctx.t("seller.order.pickup")
    )  # fmt: skip
    return ctx.t(
        "seller.order.card",
        number=order.number,
        status=ctx.t(f"status.{order.status.value}"),
        lines=lines,
        total_gnf=order.total,
        where=where,
        payment=ctx.t(f"seller.payment.{order.payment_method.value}"),
    )[:3500]


def order_actions(ctx: Context, order: Order) -> tuple[Choice, ...]:
    if order.status == OrderStatus.PLACED:
        return (
            Choice(f"o:a:{order.id}", ctx.t("seller.order.accept")),
            Choice(f"o:r:{order.id}", ctx.t("seller.order.refuse")),
        )
    if order.status == OrderStatus.ACCEPTED and order.delivery_mode == DeliveryMode.HOME:
        return delivery_choices(ctx, order.id)
    if handover.seller_hands_over(ctx.session, order):
        return (pin_choice(ctx, order.id),)
    return ()


def _order_reply(ctx: Context, order: Order, text: str = "") -> Reply:
    body = (text + "\n\n" if text else "") + order_text(ctx, order)
    actions = order_actions(ctx, order)
    return Choices(text=body, choices=actions) if actions else Text(body)


def order_view(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, payload_id(msg))
    return S.MENU, [_order_reply(ctx, order)]


def order_accept(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.accept_order(ctx.session, seller_id=ctx.user.id, order_id=payload_id(msg))
    if order.delivery_mode == DeliveryMode.PICKUP:
        return S.MENU, [
            Choices(
                text=ctx.t("seller.order.accepted_pickup", number=order.number),
                choices=(pin_choice(ctx, order.id),),
            )
        ]
    return S.MENU, [
        Choices(
            text=ctx.t("seller.order.accepted", number=order.number),
            choices=delivery_choices(ctx, order.id),
        )
    ]


def order_refuse(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, payload_id(msg))
    if order.status != OrderStatus.PLACED:
        status = ctx.t(f"status.{order.status.value}")
        return S.MENU, [Text(ctx.t("error.too_late", order_id=order.number, status=status))]
    ctx.data["refuse"] = order.id
    return S.REFUSE_REASON, [Text(ctx.t("seller.order.reason", number=order.number))]


def refuse_reason(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("refuse")
    if not isinstance(order_id, int):
        return lost(ctx)
    order = orders.refuse_order(
        ctx.session, seller_id=ctx.user.id, order_id=order_id, reason=msg.text.strip()[:500]
    )
    ctx.data.pop("refuse", None)
    return S.MENU, [Text(ctx.t("seller.order.refused", number=order.number)), main_menu(ctx)]


def _order_row(ctx: Context, order: Order) -> str:
    status = ctx.t(f"status.{order.status.value}")
    return ctx.t("seller.orders.row", number=order.number, status=status, total_gnf=order.total)


def orders_list(msg: InboundMessage, ctx: Context) -> Result:
    refused = need_shop(ctx)
    if refused:
        return refused
    open_orders = orders.orders_of_seller(
        ctx.session, seller_id=ctx.user.id, statuses=OPEN_STATUSES
    )
    if not open_orders:
        return S.MENU, [Text(ctx.t("seller.orders.none")), main_menu(ctx)]
    counts = {s: sum(1 for o in open_orders if o.status == s) for s in OPEN_STATUSES}
    summary = "\n".join(
        ctx.t("seller.orders.count", status=ctx.t(f"status.{s.value}"), n=n)
        for s, n in counts.items()
        if n
    )
    rank = {s: i for i, s in enumerate(OPEN_STATUSES)}
    shown = sorted(open_orders, key=lambda o: (rank[o.status], o.id))[:10]
    choices = tuple(Choice(f"o:v:{o.id}", label(_order_row(ctx, o))) for o in shown)
    total = len(open_orders)
    if len(shown) == total:
        text = ctx.t("seller.orders.header_all", summary=summary)
    else:
        text = ctx.t("seller.orders.header", summary=summary, count=len(shown), total=total)
    return S.MENU, [Choices(text=text, choices=choices)]
