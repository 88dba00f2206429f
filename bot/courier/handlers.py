"""Courier handlers: sign-up, availability, offers accepted, pickup, proof at the door, returns.

SMS first: every answer is one self-contained SMS (see wording.fit), because couriers carry
feature phones. On Telegram the same answers carry buttons (accept, parcel in hand, delivered),
and the PIN may be typed after the "Delivered" button. Refusals from the core become the
courier's own wording here (a wrong PIN says how many tries are left), not a generic error.
"""

from __future__ import annotations

from sqlalchemy import select

from bot.courier import wording
from bot.courier.commands import (
    VEHICLES,
    JobCommand,
    Verb,
    parse_job_command,
    parse_join,
    parse_pin,
    parse_place,
)
from bot.courier.states import CourierState as S
from bot.flow import Context, Result
from bot.messages import Choice, Choices, InboundKind, InboundMessage, Reply, Text
from commerce import rules
from commerce.catalog.models import Shop
from commerce.delivery import actions as delivery
from commerce.delivery.models import (
    Courier,
    CourierStatus,
    DeliveryJob,
    JobKind,
    JobStatus,
)
from commerce.errors import (
    AddressInvalid,
    AlreadyExists,
    CodeExpired,
    CodeLocked,
    CodeUsed,
    CourierUnavailable,
    IllegalTransition,
    JobTaken,
    NotFound,
    PermissionDenied,
    TooManyJobs,
    WrongPin,
)
from commerce.orders.models import Order
from commerce.returns.models import Refund
from commerce.text import fold
from commerce.users import actions as users
from commerce.users.models import Channel, User

SHRINK = ("landmark", "shop", "place", "name", "reason")


# --- small helpers ---------------------------------------------------------------------------


def on_telegram(ctx: Context) -> bool:
    return ctx.inbound.channel == Channel.TELEGRAM


def say(ctx: Context, key: str, **params: object) -> Text:
    return Text(wording.fit(ctx.lang, key, shrink=SHRINK, **params))


def menu_choices(ctx: Context) -> tuple[Choice, ...]:
    return (
        Choice("c:on", ctx.t("courier.menu.on")),
        Choice("c:off", ctx.t("courier.menu.off")),
        Choice("c:jobs", ctx.t("courier.menu.jobs")),
        Choice("c:earn", ctx.t("courier.menu.earnings")),
        Choice("c:help", ctx.t("courier.menu.help")),
    )


def answer(ctx: Context, text: Text, choices: tuple[Choice, ...] | None = None) -> Reply:
    """Plain SMS; on Telegram the same text with buttons (the main menu by default)."""
    if not on_telegram(ctx):
        return text
    return Choices(text=text.text, choices=choices if choices is not None else menu_choices(ctx))


def courier_row(ctx: Context) -> Courier | None:
    return ctx.session.scalar(select(Courier).where(Courier.user_id == ctx.user.id))


def _shop(ctx: Context, job: DeliveryJob) -> Shop:
    shop = ctx.session.get(Shop, job.shop_id)
    assert shop is not None
    return shop


def _order(ctx: Context, order_id: int) -> Order | None:
    return ctx.session.get(Order, order_id)


def _phone_of(ctx: Context, user_id: int) -> str:
    user = ctx.session.get(User, user_id)
    return (user.phone or "") if user is not None else ""


def _refund(ctx: Context, job: DeliveryJob) -> int:
    refund = ctx.session.scalar(select(Refund).where(Refund.return_id == job.return_id))
    return refund.amount if refund is not None else 0


# --- details texts (shared with notifications) ----------------------------------------------


def pickup_details(ctx: Context, job: DeliveryJob) -> list[Reply]:
    """What a courier needs once a job is theirs: where to collect, whom to call."""
    shop = _shop(ctx, job)
    order = _order(ctx, job.order_id)
    assert order is not None
    seller_phone = _phone_of(ctx, shop.owner_id)
    if job.kind == JobKind.RETURN_PICKUP:
        refund = _refund(ctx, job)
        first = say(
            ctx,
            "courier.job.return_accepted",
            order_id=order.id,
            refund_gnf=refund,
            shop=shop.name,
            place=wording.place(shop.quartier, shop.prefecture),
            phone=seller_phone,
        )
        second = say(
            ctx,
            "courier.job.return_client",
            order_id=order.id,
            place=wording.place(order.quartier, order.prefecture),
            landmark=order.landmark,
            phone=_phone_of(ctx, order.buyer_id),
            refund_gnf=refund,
        )
        return [first, answer(ctx, second, _job_buttons(ctx, job))]
    text = say(
        ctx,
        "courier.job.accepted",
        order_id=order.id,
        shop=shop.name,
        place=wording.place(shop.quartier, shop.prefecture),
        landmark=shop.landmark,
        phone=seller_phone,
    )
    return [answer(ctx, text, _job_buttons(ctx, job))]


def dropoff_details(ctx: Context, job: DeliveryJob) -> list[Reply]:
    """Once the parcel is in hand: the buyer's door (or the shop, for a return)."""
    order = _order(ctx, job.order_id)
    assert order is not None
    if job.kind == JobKind.RETURN_PICKUP:
        shop = _shop(ctx, job)
        text = say(
            ctx,
            "courier.job.return_picked_up",
            order_id=order.id,
            shop=shop.name,
            place=wording.place(shop.quartier, shop.prefecture),
            landmark=shop.landmark,
            phone=_phone_of(ctx, shop.owner_id),
        )
    else:
        text = say(
            ctx,
            "courier.job.picked_up",
            order_id=order.id,
            place=wording.place(order.quartier, order.prefecture),
            landmark=order.landmark,
            phone=_phone_of(ctx, order.buyer_id),
            total_gnf=order.total,
        )
    return [answer(ctx, text, _job_buttons(ctx, job))]


def _job_buttons(ctx: Context, job: DeliveryJob) -> tuple[Choice, ...]:
    if job.status == JobStatus.CLAIMED:
        return (Choice(f"c:pick:{job.id}", ctx.t("courier.job.picked_button")),)
    if job.kind == JobKind.RETURN_PICKUP:
        return (Choice(f"c:drop:{job.id}", ctx.t("courier.job.returned_button")),)
    return (Choice(f"c:pin:{job.id}", ctx.t("courier.job.delivered_button")),)


# --- entry, help, unknown, language ----------------------------------------------------------


def start(msg: InboundMessage, ctx: Context) -> Result:
    """First contact: the menu for couriers; a sign-up (guided on Telegram) for others."""
    courier = courier_row(ctx)
    if on_telegram(ctx):
        if courier is None:
            return S.JOIN_NAME, [Text(ctx.t("courier.menu.ask_name"))]
        return S.IDLE, [Choices(text=ctx.t("courier.menu.title"), choices=menu_choices(ctx))]
    if courier is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    return S.IDLE, [say(ctx, "courier.help")]


def show_help(msg: InboundMessage, ctx: Context) -> Result:
    return S.IDLE, [answer(ctx, say(ctx, "courier.help"))]


def unknown(msg: InboundMessage, ctx: Context) -> Result:
    key = "courier.unknown" if courier_row(ctx) is not None else "courier.not_courier"
    return S.IDLE, [answer(ctx, say(ctx, key))]


def switch_language(msg: InboundMessage, ctx: Context) -> Result:
    lang = "en" if fold(msg.text).startswith(("en", "anglais")) else "fr"
    users.set_language(ctx.session, user_id=ctx.user.id, language=lang)
    return S.IDLE, [answer(ctx, say(ctx, "courier.language"))]


# --- sign-up -----------------------------------------------------------------------------------


def _register(ctx: Context, name: str, prefecture: str, quartier: str, vehicle: str) -> Result:
    try:
        courier = delivery.register_courier(
            ctx.session,
            user_id=ctx.user.id,
            prefecture=prefecture,
            quartier=quartier,
            vehicle=vehicle,
        )
    except AlreadyExists:
        return S.IDLE, [answer(ctx, say(ctx, "courier.already_registered"))]
    except AddressInvalid:
        return S.IDLE, [say(ctx, "courier.join_place_unknown")]
    if name and not ctx.user.name:
        ctx.user.name = name[:120]  # the admin approving the sign-up reads it
    text = say(
        ctx,
        "courier.join_done",
        name=name.split()[0] if name else "",
        place=wording.place(courier.quartier, courier.prefecture),
        vehicle=ctx.t(f"courier.menu.{vehicle}"),
    )
    return S.IDLE, [answer(ctx, text)]


def join(msg: InboundMessage, ctx: Context) -> Result:
    """INSCRIPTION <nom> <commune> <véhicule> / JOIN …, in one SMS."""
    parsed = parse_join(msg.text)
    if parsed is None:
        if on_telegram(ctx) and courier_row(ctx) is None:
            return S.JOIN_NAME, [Text(ctx.t("courier.menu.ask_name"))]
        return S.IDLE, [say(ctx, "courier.join_usage")]
    if parsed.place is None:
        return S.IDLE, [say(ctx, "courier.join_place_unknown")]
    return _register(
        ctx, parsed.name, parsed.place.prefecture, parsed.place.quartier, parsed.vehicle
    )


def join_name(msg: InboundMessage, ctx: Context) -> Result:
    name = " ".join(msg.text.split())[:120]
    if not name:
        return S.JOIN_NAME, [Text(ctx.t("courier.menu.ask_name"))]
    ctx.data["join_name"] = name
    return S.JOIN_PLACE, [Text(ctx.t("courier.menu.ask_place"))]


def _ask_vehicle(ctx: Context) -> Result:
    vehicles = tuple(
        Choice(f"c:veh:{v}", ctx.t(f"courier.menu.{v}"))
        for v in ("moto", "voiture", "velo", "pied")
    )
    return S.JOIN_VEHICLE, [Choices(text=ctx.t("courier.menu.ask_vehicle"), choices=vehicles)]


def join_place(msg: InboundMessage, ctx: Context) -> Result:
    place = parse_place(msg.text)
    if place is None:
        return S.JOIN_PLACE, [
            Text(ctx.t("courier.join_place_unknown")),
            Text(ctx.t("courier.menu.ask_place")),
        ]
    ctx.data["join_place"] = [place.prefecture, place.quartier]
    return _ask_vehicle(ctx)


def join_vehicle(msg: InboundMessage, ctx: Context) -> Result:
    vehicle = msg.payload.removeprefix("c:veh:") if msg.payload else ""
    if not vehicle and msg.text:
        vehicle = VEHICLES.get(fold(msg.text).split(" ")[-1], "")
    place = ctx.data.get("join_place") or []
    if len(place) != 2:
        return start(msg, ctx)
    if vehicle not in ("moto", "voiture", "velo", "pied"):
        return _ask_vehicle(ctx)
    return _register(ctx, str(ctx.data.get("join_name", "")), place[0], place[1], vehicle)


# --- availability, earnings, jobs --------------------------------------------------------------


def _availability(ctx: Context, available: bool) -> Result:
    courier = courier_row(ctx)
    if courier is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    if courier.status == CourierStatus.REFUSED:
        return S.IDLE, [answer(ctx, say(ctx, "courier.refused"))]
    if courier.status != CourierStatus.APPROVED:
        return S.IDLE, [answer(ctx, say(ctx, "courier.pending"))]
    delivery.set_available(ctx.session, user_id=ctx.user.id, available=available)
    if not available:
        return S.IDLE, [answer(ctx, say(ctx, "courier.off"))]
    place = wording.place(courier.quartier, courier.prefecture)
    return S.IDLE, [answer(ctx, say(ctx, "courier.on", place=place))]


def go_on(msg: InboundMessage, ctx: Context) -> Result:
    return _availability(ctx, True)


def go_off(msg: InboundMessage, ctx: Context) -> Result:
    return _availability(ctx, False)


def show_earnings(msg: InboundMessage, ctx: Context) -> Result:
    if courier_row(ctx) is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    e = delivery.earnings(ctx.session, user_id=ctx.user.id)
    text = say(
        ctx,
        "courier.earnings",
        today_gnf=e.today,
        done_today=e.done_today,
        week_gnf=e.week,
        unpaid_gnf=e.unpaid,
    )
    return S.IDLE, [answer(ctx, text)]


def job_item(ctx: Context, job: DeliveryJob) -> str:
    picked = job.status == JobStatus.PICKED_UP
    if job.kind == JobKind.RETURN_PICKUP:
        key = "courier.return_to_drop" if picked else "courier.return_to_pick"
    else:
        key = "courier.job_to_deliver" if picked else "courier.job_to_pick"
    return ctx.t(key, order_id=job.order_id)


def show_jobs(msg: InboundMessage, ctx: Context) -> Result:
    if courier_row(ctx) is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    jobs = delivery.active_jobs(ctx.session, user_id=ctx.user.id)
    if not jobs:
        return S.IDLE, [answer(ctx, say(ctx, "courier.jobs_none"))]
    text = say(
        ctx,
        "courier.jobs",
        count=len(jobs),
        max=rules.current().max_active_jobs,
        items=", ".join(job_item(ctx, j) for j in jobs),
    )
    buttons = tuple(b for j in jobs for b in _job_buttons(ctx, j))[:10]
    return S.IDLE, [answer(ctx, text, buttons or None)]


# --- job commands: A / R / P / D ----------------------------------------------------------------


def job_command(msg: InboundMessage, ctx: Context) -> Result:
    command = parse_job_command(msg.text)
    if command is None:
        return unknown(msg, ctx)
    return run_command(ctx, command)


def run_command(ctx: Context, command: JobCommand, job: DeliveryJob | None = None) -> Result:
    if courier_row(ctx) is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    order_id = command.order_id
    if command.verb in (Verb.ACCEPT, Verb.RETURN):
        kind = JobKind.RETURN_PICKUP if command.verb == Verb.RETURN else JobKind.DELIVERY
        return _accept(ctx, order_id, kind, job)
    if job is None:
        try:
            job = delivery.job_for_order_number(ctx.session, user_id=ctx.user.id, order_id=order_id)
        except NotFound:
            return S.IDLE, [_not_mine(ctx, order_id)]
    if command.verb == Verb.PICKUP:
        return _pick_up(ctx, job)
    return _deliver(ctx, job, command.pin)


def _not_mine(ctx: Context, order_id: int) -> Reply:
    order = _order(ctx, order_id)
    if order is not None and order.courier_id not in (None, ctx.user.id):
        return answer(ctx, say(ctx, "courier.job.not_yours", order_id=order_id))
    return answer(ctx, say(ctx, "courier.job.not_found", order_id=order_id))


def _open_job(ctx: Context, order_id: int, kind: JobKind) -> DeliveryJob | None:
    """The job to claim for an order number: its delivery, or its oldest open return pickup."""
    stmt = select(DeliveryJob).where(DeliveryJob.order_id == order_id, DeliveryJob.kind == kind)
    if kind == JobKind.RETURN_PICKUP:
        open_job = ctx.session.scalar(
            stmt.where(DeliveryJob.status == JobStatus.OPEN).order_by(DeliveryJob.id)
        )
        if open_job is not None:
            return open_job
        stmt = stmt.order_by(DeliveryJob.id.desc())
    return ctx.session.scalar(stmt.limit(1))


def _accept(ctx: Context, order_id: int, kind: JobKind, job: DeliveryJob | None) -> Result:
    job = job or _open_job(ctx, order_id, kind)
    if job is None:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.not_found", order_id=order_id))]
    if job.courier_id == ctx.user.id and job.status in (JobStatus.CLAIMED, JobStatus.PICKED_UP):
        return S.IDLE, pickup_details(ctx, job)  # a repeated "A1042": the details again
    try:
        job = delivery.claim_job(ctx.session, courier_user_id=ctx.user.id, job_id=job.id)
    except JobTaken:
        ctx.session.refresh(job)
        key = "courier.job.not_open" if job.status == JobStatus.CANCELLED else "courier.job.taken"
        return S.IDLE, [answer(ctx, say(ctx, key, order_id=order_id))]
    except TooManyJobs as exc:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.too_many", max=exc.params["max"]))]
    except CourierUnavailable:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.not_approved"))]
    return S.IDLE, pickup_details(ctx, job)


def _pick_up(ctx: Context, job: DeliveryJob) -> Result:
    if job.status == JobStatus.CLAIMED:
        job = delivery.mark_picked_up(ctx.session, user_id=ctx.user.id, job_id=job.id)
    return S.IDLE, dropoff_details(ctx, job)


def _deliver(ctx: Context, job: DeliveryJob, pin: str) -> Result:
    order_id = job.order_id
    if job.status == JobStatus.CLAIMED:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.pick_first", order_id=order_id))]
    if job.kind == JobKind.RETURN_PICKUP:
        job = delivery.deliver_return(ctx.session, user_id=ctx.user.id, job_id=job.id)
        text = say(ctx, "courier.job.return_done", order_id=order_id, commission_gnf=job.commission)
        return S.IDLE, [answer(ctx, text)]
    if not pin:
        if on_telegram(ctx):
            return ask_pin_for(ctx, job)
        return S.IDLE, [say(ctx, "courier.job.need_pin", order_id=order_id)]
    try:
        proof = delivery.prove_with_pin(
            ctx.session, user_id=ctx.user.id, order_id=order_id, pin=pin
        )
    except WrongPin as exc:
        left = exc.params.get("attempts_left", 0)
        text = say(ctx, "courier.job.wrong_pin", order_id=order_id, attempts_left=left)
        return S.IDLE, [answer(ctx, text, _job_buttons(ctx, job))]
    except CodeLocked:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.locked", order_id=order_id))]
    except CodeExpired:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.expired", order_id=order_id))]
    except CodeUsed:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.used", order_id=order_id))]
    except (PermissionDenied, IllegalTransition):
        return S.IDLE, [_not_mine(ctx, order_id)]
    key = "courier.job.proof_done" if proof.delivered else "courier.job.proof_ok"
    return S.IDLE, [answer(ctx, say(ctx, key, order_id=order_id))]


# --- Telegram buttons ----------------------------------------------------------------------------


def _job_from_payload(ctx: Context, msg: InboundMessage) -> DeliveryJob | None:
    try:
        job_id = int(msg.payload.rsplit(":", 1)[-1])
    except ValueError:
        return None
    return ctx.session.get(DeliveryJob, job_id)


def _button(verb_of: dict[JobKind, Verb]):  # type: ignore[no-untyped-def]
    def handler(msg: InboundMessage, ctx: Context) -> Result:
        job = _job_from_payload(ctx, msg)
        if job is None:
            return unknown(msg, ctx)
        if job.courier_id not in (None, ctx.user.id) and verb_of[job.kind] not in (
            Verb.ACCEPT,
            Verb.RETURN,
        ):
            return S.IDLE, [_not_mine(ctx, job.order_id)]
        command = JobCommand(verb_of[job.kind], job.order_id)
        return run_command(ctx, command, job)

    return handler


take_button = _button({JobKind.DELIVERY: Verb.ACCEPT, JobKind.RETURN_PICKUP: Verb.RETURN})
pick_button = _button({JobKind.DELIVERY: Verb.PICKUP, JobKind.RETURN_PICKUP: Verb.PICKUP})
drop_button = _button({JobKind.DELIVERY: Verb.DELIVER, JobKind.RETURN_PICKUP: Verb.DELIVER})


def ask_pin_for(ctx: Context, job: DeliveryJob) -> Result:
    ctx.data["pin_job"] = job.id
    return S.WAIT_PIN, [Text(ctx.t("courier.job.ask_pin", order_id=job.order_id))]


def ask_pin(msg: InboundMessage, ctx: Context) -> Result:
    job = _job_from_payload(ctx, msg)
    if job is None or job.courier_id != ctx.user.id:
        return S.IDLE, [_not_mine(ctx, job.order_id if job else 0)]
    if job.status == JobStatus.CLAIMED:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.pick_first", order_id=job.order_id))]
    return ask_pin_for(ctx, job)


def pin_entered(msg: InboundMessage, ctx: Context) -> Result:
    job = ctx.session.get(DeliveryJob, int(ctx.data.pop("pin_job", 0) or 0))
    pin = parse_pin(msg.text)
    if job is None or pin is None:
        return unknown(msg, ctx)
    return run_command(ctx, JobCommand(Verb.DELIVER, job.order_id, pin), job)


def is_pin(msg: InboundMessage, ctx: Context) -> bool:
    return msg.kind == InboundKind.TEXT and parse_pin(msg.text) is not None


def is_job_command(msg: InboundMessage, ctx: Context) -> bool:
    return msg.kind == InboundKind.TEXT and parse_job_command(msg.text) is not None
