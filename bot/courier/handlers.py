"""Courier handlers: sign-up, availability, offers accepted, pickup, proof at the door, returns.

SMS first: every answer is one self-contained SMS (see wording.fit), because couriers carry
feature phones. On Telegram the same answers carry buttons (accept, parcel in hand, delivered),
and the PIN may be typed after the "Delivered" button. Refusals from the core become the
courier's own wording here (a wrong PIN says how many tries are left), not a generic error.
"""

from __future__ import annotations

from bot.courier import wording
from bot.courier.commands import (
    JobCommand,
    Verb,
    parse_job_command,
    parse_pin,
)
from bot.courier.states import CourierState as S
from bot.flow import Context, Handler, Result
from bot.messages import Choice, Choices, InboundKind, InboundMessage, Reply, Text
from commerce import clock, rules
from commerce.delivery import actions as delivery
from commerce.delivery import briefs, handover
from commerce.delivery.briefs import JobBrief, Stop
from commerce.delivery.models import (
    Courier,
    CourierStatus,
    DeliveryJob,
    JobKind,
    JobStatus,
)
from commerce.errors import (
    AccountInactive,
    CodeExpired,
    CodeLocked,
    CodeUsed,
    CourierPinPaused,
    CourierUnavailable,
    IllegalTransition,
    JobTaken,
    NotFound,
    PermissionDenied,
    TooManyJobs,
    WrongPin,
)
from commerce.ledger import actions as ledger
from commerce.ledger.errors import NothingToRemit
from commerce.reviews.actions import courier_rating
from commerce.text import fold
from commerce.users import actions as users
from commerce.users.models import Channel

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


def door(ctx: Context, key: str, stop: Stop, **params: object) -> list[Text]:
    """The texts that lead to `stop`: its whole landmark, and a maps link to its pin if any."""
    texts = wording.door(
        ctx.lang,
        key,
        shrink=SHRINK,
        landmark=stop.landmark,
        lat=stop.lat,
        lng=stop.lng,
        **params,
    )
    return [Text(t) for t in texts]


def answer_last(ctx: Context, texts: list[Text], choices: tuple[Choice, ...]) -> list[Reply]:
    """Several texts in a row; on Telegram the buttons go with the last one."""
    return [*texts[:-1], answer(ctx, texts[-1], choices)]


def courier_row(ctx: Context) -> Courier | None:
    return delivery.courier_profile(ctx.session, ctx.user.id)


# --- details texts -------------------------------------------------------------------------
# Composed from a JobBrief only: the core hands one out to the job's own courier, and reveals
# the buyer's door once the parcel is in hand (see commerce.delivery.briefs).


def pickup_details(ctx: Context, brief: JobBrief) -> list[Reply]:
    """What a courier needs once a job is theirs: where to collect, whom to call."""
    shop = brief.shop
    buttons = _job_buttons(ctx, brief.job_id, brief.kind, brief.status)
    if brief.kind == JobKind.RETURN_PICKUP and brief.buyer is not None:
        first = say(
            ctx,
            "courier.job.return_accepted",
            order_id=brief.order_id,
            refund_gnf=brief.refund_gnf,
            shop=shop.name,
            place=wording.place(shop.quartier, shop.prefecture),
            phone=shop.phone,
        )
        client = door(
            ctx,
            "courier.job.return_client",
            brief.buyer,
            order_id=brief.order_id,
            place=wording.place(brief.buyer.quartier, brief.buyer.prefecture),
            phone=brief.buyer.phone,
            refund_gnf=brief.refund_gnf,
        )
        return [first, *answer_last(ctx, client, buttons)]
    texts = door(
        ctx,
        "courier.job.accepted",
        shop,
        order_id=brief.order_id,
        shop=shop.name,
        place=wording.place(shop.quartier, shop.prefecture),
        phone=shop.phone,
    )
    return answer_last(ctx, texts, buttons)


def dropoff_details(ctx: Context, brief: JobBrief) -> list[Reply]:
    """Once the parcel is in hand: the buyer's door (or the shop, for a return)."""
    buyer = brief.buyer
    if brief.status != JobStatus.PICKED_UP or buyer is None:
        return pickup_details(ctx, brief)
    buttons = _job_buttons(ctx, brief.job_id, brief.kind, brief.status)
    if brief.kind == JobKind.RETURN_PICKUP:
        shop = brief.shop
        texts = door(
            ctx,
            "courier.job.return_picked_up",
            shop,
            order_id=brief.order_id,
            shop=shop.name,
            place=wording.place(shop.quartier, shop.prefecture),
            phone=shop.phone,
        )
    else:
        texts = door(
            ctx,
            "courier.job.picked_up",
            buyer,
            order_id=brief.order_id,
            place=wording.place(buyer.quartier, buyer.prefecture),
            phone=buyer.phone,
            total_gnf=brief.collect_gnf,
        )
    return answer_last(ctx, texts, buttons)


def _job_buttons(ctx: Context, job_id: int, kind: JobKind, status: JobStatus) -> tuple[Choice, ...]:
    if status == JobStatus.CLAIMED:
        return (Choice(f"c:pick:{job_id}", ctx.t("courier.job.picked_button")),)
    if kind == JobKind.RETURN_PICKUP:
        return (Choice(f"c:drop:{job_id}", ctx.t("courier.job.returned_button")),)
    return (Choice(f"c:pin:{job_id}", ctx.t("courier.job.delivered_button")),)


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
    avg, count = courier_rating(ctx.session, ctx.user.id)
    text = say(
        ctx,
        "courier.earnings_rated" if avg is not None else "courier.earnings",
        today_gnf=e.today,
        done_today=e.done_today,
        week_gnf=e.week,
        unpaid_gnf=e.unpaid,
        avg=avg if avg is not None else 0.0,
        count=count,
    )
    return S.IDLE, [answer(ctx, text)]


def show_balance(msg: InboundMessage, ctx: Context) -> Result:
    """SOLDE: what he holds and owes, in one SMS (the ledger's custody accounts)."""
    if courier_row(ctx) is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    pos = ledger.courier_position(ctx.session, courier_id=ctx.user.id)
    if not pos.held and not pos.by_seller:
        return S.IDLE, [answer(ctx, say(ctx, "courier.balance_none", earned_gnf=pos.earned))]
    hours = int((clock.now() - pos.since).total_seconds() // 3600) if pos.since else 0
    text = say(
        ctx,
        "courier.balance",
        held_gnf=pos.held,
        owed_gnf=pos.owed,
        sellers=len(pos.by_seller),
        count=len(pos.by_seller),
        commission_gnf=pos.commission,
        hours=hours,
    )
    return S.IDLE, [answer(ctx, text)]


def declare_remitted(msg: InboundMessage, ctx: Context) -> Result:
    """REMIS: he handed each seller her cash; each is asked to confirm with one tap."""
    if courier_row(ctx) is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    try:
        made = ledger.declare_remittance(ctx.session, courier_user_id=ctx.user.id)
    except NothingToRemit:
        return S.IDLE, [answer(ctx, say(ctx, "courier.remitted_none"))]
    text = say(
        ctx,
        "courier.remitted",
        amount_gnf=sum(r.amount for r in made),
        sellers=len(made),
        count=len(made),
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
        max=rules.of(ctx.session).max_active_jobs,
        items=", ".join(job_item(ctx, j) for j in jobs),
    )
    buttons = tuple(b for j in jobs for b in _job_buttons(ctx, j.id, j.kind, j.status))[:10]
    return S.IDLE, [answer(ctx, text, buttons or None)]


# --- job commands: A / R / P / D ----------------------------------------------------------------

# What the core answers when someone asks about a job that is not theirs (or no longer active).
REFUSED = (NotFound, PermissionDenied, CourierUnavailable, AccountInactive)


def job_command(msg: InboundMessage, ctx: Context) -> Result:
    command = parse_job_command(msg.text)
    if command is None:
        return unknown(msg, ctx)
    return run_command(ctx, command)


def run_command(ctx: Context, command: JobCommand, job_id: int | None = None) -> Result:
    """A typed command (by order number) or a button (by job id), checked by the core first."""
    if courier_row(ctx) is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    order_id = command.order_id
    if command.verb in (Verb.ACCEPT, Verb.RETURN):
        kind = JobKind.RETURN_PICKUP if command.verb == Verb.RETURN else JobKind.DELIVERY
        return _accept(ctx, order_id, kind)
    try:
        if job_id is None:
            brief = briefs.brief_for_order_number(
                ctx.session, user_id=ctx.user.id, order_id=order_id
            )
        else:
            brief = briefs.job_brief(ctx.session, user_id=ctx.user.id, job_id=job_id)
    except PermissionDenied:
        return S.IDLE, [_stale(ctx) if job_id else _not_mine(ctx, order_id, someone_else=True)]
    except REFUSED:
        return S.IDLE, [_not_mine(ctx, order_id) if job_id is None else _stale(ctx)]
    if command.verb == Verb.PICKUP:
        return _pick_up(ctx, brief)
    return _deliver(ctx, brief, command.pin)


def _stale(ctx: Context) -> Reply:
    """A button whose job is not (or no longer) the presser's: nothing about the job is told."""
    return answer(ctx, say(ctx, "courier.job.button_stale"))


def _not_mine(ctx: Context, order_id: int, *, someone_else: bool = False) -> Reply:
    key = "courier.job.not_yours" if someone_else else "courier.job.not_found"
    return answer(ctx, say(ctx, key, order_id=order_id))


def _accept(ctx: Context, order_id: int, kind: JobKind) -> Result:
    job_id = briefs.open_job_for_order(ctx.session, order_id=order_id, kind=kind)
    if job_id is None:
        return S.IDLE, [_not_mine(ctx, order_id)]
    return _take(ctx, job_id, order_id)


def _take(ctx: Context, job_id: int, order_id: int | None) -> Result:
    """Claim a job; a repeated "A1042" (or tap) by its own courier shows the details again."""
    brief = _checked_brief(ctx, job_id)
    if brief is not None:
        return S.IDLE, pickup_details(ctx, brief)
    try:
        job = delivery.claim_job(ctx.session, courier_user_id=ctx.user.id, job_id=job_id)
    except JobTaken as exc:
        gone = exc.params.get("cancelled")
        key = "courier.job.not_open" if gone else "courier.job.taken"
        shown = order_id if order_id is not None else exc.params.get("order_id", "")
        return S.IDLE, [answer(ctx, say(ctx, key, order_id=shown))]
    except TooManyJobs as exc:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.too_many", max=exc.params["max"]))]
    except (CourierUnavailable, AccountInactive):
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.not_approved"))]
    except (NotFound, PermissionDenied):
        return S.IDLE, [_stale(ctx) if order_id is None else _not_mine(ctx, order_id)]
    brief = briefs.job_brief(ctx.session, user_id=ctx.user.id, job_id=job.id)
    return S.IDLE, pickup_details(ctx, brief)


def _pick_up(ctx: Context, brief: JobBrief) -> Result:
    if brief.status == JobStatus.CLAIMED:
        delivery.mark_picked_up(ctx.session, user_id=ctx.user.id, job_id=brief.job_id)
        brief = briefs.job_brief(ctx.session, user_id=ctx.user.id, job_id=brief.job_id)
    return S.IDLE, dropoff_details(ctx, brief)


def _deliver(ctx: Context, brief: JobBrief, pin: str) -> Result:
    order_id = brief.order_id
    if brief.status == JobStatus.CLAIMED:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.pick_first", order_id=order_id))]
    if brief.kind == JobKind.RETURN_PICKUP:
        delivery.deliver_return(ctx.session, user_id=ctx.user.id, job_id=brief.job_id)
        text = say(
            ctx, "courier.job.return_done", order_id=order_id, commission_gnf=brief.commission
        )
        return S.IDLE, [answer(ctx, text)]
    if not pin:
        if on_telegram(ctx):
            return ask_pin_for(ctx, brief)
        return S.IDLE, [say(ctx, "courier.job.need_pin", order_id=order_id)]
    try:
        proof = handover.prove_with_pin(
            ctx.session, user_id=ctx.user.id, order_id=order_id, pin=pin
        )
    except CourierPinPaused as exc:
        minutes = exc.params.get("minutes", 0)
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.pin_paused", minutes=minutes))]
    except WrongPin as exc:
        left = exc.params.get("attempts_left", 0)
        text = say(ctx, "courier.job.wrong_pin", order_id=order_id, attempts_left=left)
        buttons = _job_buttons(ctx, brief.job_id, brief.kind, brief.status)
        return S.IDLE, [answer(ctx, text, buttons)]
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
# A button is an untrusted request: its job id goes to the core, which decides what, if
# anything, the presser may see or do (commerce.delivery.briefs, commerce.delivery.actions).


def _job_id(msg: InboundMessage) -> int | None:
    tail = msg.payload.rsplit(":", 1)[-1]
    return int(tail) if tail.isdecimal() and 0 < int(tail) < 2**31 else None  # ids are 32-bit


def _checked_brief(ctx: Context, job_id: int | None) -> JobBrief | None:
    """The job behind a button as the core lets this presser see it; None when it refuses."""
    if job_id is None:
        return None
    try:
        return briefs.job_brief(ctx.session, user_id=ctx.user.id, job_id=job_id)
    except REFUSED:
        return None


def take_button(msg: InboundMessage, ctx: Context) -> Result:
    job_id = _job_id(msg)
    if job_id is None:
        return unknown(msg, ctx)
    if courier_row(ctx) is None:
        return S.IDLE, [say(ctx, "courier.not_courier")]
    return _take(ctx, job_id, None)


def _button(verb: Verb) -> Handler:
    def handler(msg: InboundMessage, ctx: Context) -> Result:
        if courier_row(ctx) is None:
            return S.IDLE, [say(ctx, "courier.not_courier")]
        brief = _checked_brief(ctx, _job_id(msg))
        if brief is None:
            return S.IDLE, [_stale(ctx)]
        return run_command(ctx, JobCommand(verb, brief.order_id), brief.job_id)

    return handler


pick_button = _button(Verb.PICKUP)
drop_button = _button(Verb.DELIVER)


def ask_pin_for(ctx: Context, brief: JobBrief) -> Result:
    ctx.data["pin_job"] = brief.job_id
    return S.WAIT_PIN, [Text(ctx.t("courier.job.ask_pin", order_id=brief.order_id))]


def ask_pin(msg: InboundMessage, ctx: Context) -> Result:
    brief = _checked_brief(ctx, _job_id(msg))
    if brief is None:
        return S.IDLE, [_stale(ctx)]
    if brief.status == JobStatus.CLAIMED:
        return S.IDLE, [answer(ctx, say(ctx, "courier.job.pick_first", order_id=brief.order_id))]
    return ask_pin_for(ctx, brief)


def pin_entered(msg: InboundMessage, ctx: Context) -> Result:
    raw = ctx.data.pop("pin_job", 0)
    pin = parse_pin(msg.text)
    if pin is None:
        return unknown(msg, ctx)
    brief = _checked_brief(ctx, raw if isinstance(raw, int) and raw > 0 else None)
    if brief is None:
        return S.IDLE, [_stale(ctx)]
    return run_command(ctx, JobCommand(Verb.DELIVER, brief.order_id, pin), brief.job_id)


def is_pin(msg: InboundMessage, ctx: Context) -> bool:
    return msg.kind == InboundKind.TEXT and parse_pin(msg.text) is not None


def is_job_command(msg: InboundMessage, ctx: Context) -> bool:
    return msg.kind == InboundKind.TEXT and parse_job_command(msg.text) is not None
