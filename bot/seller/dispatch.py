"""Dispatch of an accepted order: deliver myself, a courier I know (by phone), or publish to
couriers with an optional bonus; raising the bonus when nobody took it; the PIN at the hand-over.
"""

from __future__ import annotations

from bot import i18n
from bot.flow import Context, Result, payload_id
from bot.messages import Choice, Choices, InboundMessage, Text
from bot.seller.common import amount, lost, skipped
from bot.seller.states import SellerState as S
from commerce import backoffice
from commerce.delivery import actions as delivery
from commerce.delivery import handover
from commerce.errors import CodeLocked, InvalidInput, InvalidPhone, NotFound, WrongPin
from commerce.orders import actions as orders
from commerce.orders.models import DeliveryMode, OrderStatus
from commerce.reviews import actions as reviews
from commerce.users.models import Role

# The bonus steps (GNF) a seller is offered, after "no bonus" when publishing, and on top of the
# bonus already offered when nobody took the job (bot.courier.notifications.job_unclaimed).
BONUS_STEPS = (2_000, 5_000, 10_000)


def pin_choice(ctx: Context, order_id: int) -> Choice:
    return Choice(f"d:c:{order_id}", ctx.t("seller.pin.button"))


def delivery_choices(ctx: Context, order_id: int) -> tuple[Choice, ...]:
    return (
        Choice(f"d:m:{order_id}", ctx.t("seller.delivery.myself")),
        Choice(f"d:k:{order_id}", ctx.t("seller.delivery.known")),
        Choice(f"d:p:{order_id}", ctx.t("seller.delivery.publish")),
    )


def deliver_myself(msg: InboundMessage, ctx: Context) -> Result:
    job = delivery.assign_courier(ctx.session, seller_id=ctx.user.id, order_id=payload_id(msg))
    return S.MENU, [
        Choices(
            text=ctx.t("seller.delivery.myself_done", number=job.order_id),
            choices=(pin_choice(ctx, job.order_id),),
        )
    ]


def pin_ask(msg: InboundMessage, ctx: Context) -> Result:
    """d:c:<order>: the seller is with the buyer (at the door or in the shop) and types the PIN."""
    order = orders.seller_order(ctx.session, ctx.user.id, payload_id(msg))
    if not handover.seller_hands_over(ctx.session, order):
        return S.MENU, [Text(ctx.t("seller.pin.not_now", number=order.number))]
    ctx.data["pin"] = order.id
    return S.PIN, [Text(ctx.t("seller.pin.ask", number=order.number))]


def pin_typed(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("pin")
    if not isinstance(order_id, int):
        return lost(ctx)
    pin = "".join(msg.text.split())
    if not pin.isdigit():
        return S.PIN, [Text(ctx.t("seller.pin.digits"))]
    order = orders.seller_order(ctx.session, ctx.user.id, order_id)
    if not handover.seller_hands_over(ctx.session, order):
        ctx.data.pop("pin", None)
        return S.MENU, [Text(ctx.t("seller.pin.not_now", number=order.number))]
    try:
        proof = handover.prove_as_seller(
            ctx.session, seller_id=ctx.user.id, order_id=order.id, pin=pin
        )
    except WrongPin as exc:
        left = exc.params.get("attempts_left", 0)
        return S.PIN, [Text(ctx.t("seller.pin.wrong", attempts_left=left))]
    except CodeLocked:
        ctx.data.pop("pin", None)
        return S.MENU, [Text(ctx.t("error.code_locked"))]
    ctx.data.pop("pin", None)
    key = "seller.pin.delivered" if proof.delivered else "seller.pin.ok"
    return S.MENU, [Text(ctx.t(key, number=order.number))]


def deliver_known(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, payload_id(msg))
    if order.status != OrderStatus.ACCEPTED:
        return S.MENU, [Text(ctx.t("error.illegal_transition"))]
    ctx.data["assign"] = order.id
    known = known_couriers_text(ctx)
    text = ctx.t("seller.delivery.phone") + ("\n\n" + known if known else "")
    return S.COURIER_PHONE, [Text(text)]


def courier_stars(ctx: Context, courier_id: int) -> str:
    """ "4,5/5 (12 avis)" or "pas encore noté": what buyers said of this courier."""
    avg, count = reviews.courier_rating(ctx.session, courier_id)
    return _stars(ctx.lang, avg, count)


def _stars(lang: str, avg: float | None, count: int) -> str:
    if avg is None:
        return i18n.t(lang, "seller.courier.unrated")
    return i18n.t(lang, "seller.courier.stars", avg=avg, count=count)


def known_couriers_text(ctx: Context) -> str:
    """Her couriers (those who delivered for her), each with phone and stars; "" if none."""
    lines = [
        ctx.t(
            "seller.courier.line",
            name=u.name or "—",
            phone=u.phone or "",
            stars=_stars(ctx.lang, avg, n),
        )
        for u, avg, n in reviews.sellers_couriers(ctx.session, seller_id=ctx.user.id)
    ]
    return ctx.t("seller.courier.known", lines="\n".join(lines)) if lines else ""


def courier_phone(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("assign")
    if not isinstance(order_id, int):
        return lost(ctx)
    try:
        courier = backoffice.user_by_phone(ctx.session, msg.text)
    except InvalidPhone:
        return S.COURIER_PHONE, [Text(ctx.t("error.invalid_phone"))]
    if courier is None or not courier.has_role(Role.COURIER):
        return S.COURIER_PHONE, [Text(ctx.t("seller.delivery.no_courier"))]
    try:
        delivery.assign_courier(
            ctx.session, seller_id=ctx.user.id, order_id=order_id, courier_user_id=courier.id
        )
    except NotFound:
        return S.COURIER_PHONE, [Text(ctx.t("seller.delivery.no_courier"))]
    ctx.data.pop("assign", None)
    return S.MENU, [
        Text(
            ctx.t(
                "seller.delivery.assigned",
                number=order_id,
                name=courier.name or "—",
                stars=courier_stars(ctx, courier.id),
            )
        )
    ]


def _bonus_choices(ctx: Context, order_id: int) -> tuple[Choice, ...]:
    none = Choice(f"d:b:{order_id}:0", ctx.t("seller.delivery.bonus_none"))
    steps = (
        Choice(f"d:b:{order_id}:{b}", ctx.t("seller.delivery.bonus", bonus_gnf=b))
        for b in BONUS_STEPS
    )
    return (none, *steps)


def deliver_publish(msg: InboundMessage, ctx: Context) -> Result:
    order = orders.seller_order(ctx.session, ctx.user.id, payload_id(msg))
    if order.status != OrderStatus.ACCEPTED or order.delivery_mode != DeliveryMode.HOME:
        return S.MENU, [Text(ctx.t("error.illegal_transition"))]
    km, commission = backoffice.publish_quote(ctx.session, seller_id=ctx.user.id, order_id=order.id)
    ctx.data["publish"] = order.id
    return S.BONUS, [
        Choices(
            text=ctx.t("seller.delivery.quote", km=float(km), commission_gnf=commission),
            choices=_bonus_choices(ctx, order.id),
        )
    ]


def _publish(ctx: Context, order_id: int, bonus: int) -> Result:
    job = delivery.publish_job(ctx.session, seller_id=ctx.user.id, order_id=order_id, bonus=bonus)
    ctx.data.pop("publish", None)
    return S.MENU, [
        Text(ctx.t("seller.delivery.published", number=order_id, commission_gnf=job.commission))
    ]


def publish_bonus(msg: InboundMessage, ctx: Context) -> Result:
    parts = msg.payload.split(":")
    if len(parts) != 4 or not parts[3].isdecimal() or len(parts[3]) > 9:
        raise InvalidInput("bad button", payload=msg.payload[:64])
    return _publish(ctx, payload_id(msg, 2), int(parts[3]))


def raise_bonus(msg: InboundMessage, ctx: Context) -> Result:
    """The "raise the bonus" buttons sent after the last offer wave: bonus:<job>:<total bonus>."""
    parts = msg.payload.split(":")
    if len(parts) != 3 or not all(p.isdecimal() and len(p) <= 9 for p in parts[1:]):
        raise InvalidInput("bad button", payload=msg.payload[:64])
    job = delivery.raise_bonus(
        ctx.session, seller_id=ctx.user.id, job_id=int(parts[1]), bonus=int(parts[2])
    )
    return S.MENU, [
        Text(
            ctx.t(
                "seller.delivery.bonus_raised", number=job.order_id, commission_gnf=job.commission
            )
        )
    ]


def bonus_text(msg: InboundMessage, ctx: Context) -> Result:
    order_id = ctx.data.get("publish")
    if not isinstance(order_id, int):
        return lost(ctx)
    bonus = 0 if skipped(msg.text) else amount(msg.text)
    if bonus is None or bonus > delivery.MAX_BONUS:
        return S.BONUS, [
            Choices(
                text=ctx.t("seller.delivery.bonus_invalid"), choices=_bonus_choices(ctx, order_id)
            )
        ]
    return _publish(ctx, order_id, bonus)
