"""/livreur (/courier): an admin adds a courier in a guided dialogue — name, phone, place, vehicle.

Each answer is checked as a courier joining by SMS has his checked (bot/courier/commands.py: the
same place parser and vehicle words); the core (`commerce.delivery.actions.add_courier`) checks
the admin role and validates again, creates him approved and texts him a welcome. /annuler
leaves the dialogue from any step (the admin flow's global /annuler).
"""

from __future__ import annotations

from sqlalchemy import select

from bot.admin.states import AdminState as S
from bot.courier import wording
from bot.courier.commands import VEHICLES, parse_place
from bot.flow import Context, Result
from bot.messages import Choice, Choices, InboundMessage, Reply, Text
from commerce import backoffice
from commerce.delivery import actions as delivery
from commerce.delivery.models import Vehicle
from commerce.errors import AlreadyExists, InvalidPhone
from commerce.phones import normalize_phone
from commerce.text import fold
from commerce.users.models import Role, User

KEY = "add_courier"  # ctx.data: the answers so far


def start(msg: InboundMessage, ctx: Context) -> Result:
    backoffice.find_users(ctx.session, admin_id=ctx.user.id, query="")  # checks the role
    ctx.data[KEY] = {}
    return S.COURIER_NAME, [Text(ctx.t("admin.courier.ask_name"))]


def _answers(ctx: Context) -> dict[str, str]:
    value = ctx.data.get(KEY)
    return dict(value) if isinstance(value, dict) else {}


def name(msg: InboundMessage, ctx: Context) -> Result:
    text = " ".join(msg.text.split())[:120]
    if len(text) < 2:
        return S.COURIER_NAME, [Text(ctx.t("admin.courier.ask_name"))]
    ctx.data[KEY] = {"name": text}
    return S.COURIER_PHONE, [Text(ctx.t("admin.courier.ask_phone", name=text))]


def phone(msg: InboundMessage, ctx: Context) -> Result:
    answers = _answers(ctx)
    try:
        e164 = normalize_phone(msg.text)
    except InvalidPhone:
        return S.COURIER_PHONE, [Text(ctx.t("error.invalid_phone"))]
    user = ctx.session.scalar(select(User).where(User.phone == e164))
    replies: list[Reply] = []
    if user is not None:
        who = user.name or e164
        if delivery.courier_profile(ctx.session, user.id) is not None:
            ctx.data.pop(KEY, None)
            return S.MENU, [Text(ctx.t("admin.courier.already", name=who, phone=e164))]
        roles = ", ".join(ctx.t(f"admin.courier.role.{r.role.value}") for r in user.roles)
        replies.append(Text(ctx.t("admin.courier.known", name=who, roles=roles or "—")))
    ctx.data[KEY] = {**answers, "phone": e164}
    replies.append(Text(ctx.t("admin.courier.ask_place")))
    return S.COURIER_PLACE, replies


def place(msg: InboundMessage, ctx: Context) -> Result:
    found = parse_place(msg.text)
    if found is None:
        return S.COURIER_PLACE, [Text(ctx.t("admin.courier.place_unknown"))]
    ctx.data[KEY] = {**_answers(ctx), "prefecture": found.prefecture, "quartier": found.quartier}
    return _ask_vehicle(ctx)


def _ask_vehicle(ctx: Context) -> Result:
    choices = tuple(Choice(f"ac:veh:{v.value}", ctx.t(f"courier.menu.{v.value}")) for v in Vehicle)
    return S.COURIER_VEHICLE, [Choices(text=ctx.t("admin.courier.ask_vehicle"), choices=choices)]


def vehicle(msg: InboundMessage, ctx: Context) -> Result:
    answers = _answers(ctx)
    if not all(answers.get(k) for k in ("name", "phone", "prefecture")):
        ctx.data.pop(KEY, None)  # a vehicle button from an old dialogue
        return S.MENU, [Text(ctx.t("admin.courier.expired"))]
    chosen = msg.payload.removeprefix("ac:veh:") if msg.payload else VEHICLES.get(fold(msg.text))
    if chosen not in {v.value for v in Vehicle}:
        return _ask_vehicle(ctx)
    try:
        courier = delivery.add_courier(
            ctx.session,
            admin_id=ctx.user.id,
            phone=answers["phone"],
            name=answers["name"],
            prefecture=answers["prefecture"],
            quartier=answers.get("quartier", ""),
            vehicle=str(chosen),
        )
    except AlreadyExists:  # made a courier meanwhile (he joined by SMS, another admin)
        ctx.data.pop(KEY, None)
        return S.MENU, [
            Text(ctx.t("admin.courier.already", name=answers["name"], phone=answers["phone"]))
        ]
    ctx.data.pop(KEY, None)
    user = ctx.session.get(User, courier.user_id)
    assert user is not None and user.has_role(Role.COURIER)
    done = ctx.t(
        "admin.courier.done",
        name=user.name or answers["name"],
        phone=user.phone or answers["phone"],
        place=wording.place(courier.quartier, courier.prefecture),
        vehicle=ctx.t(f"courier.menu.{courier.vehicle.value}"),
    )
    return S.MENU, [Text(done)]
