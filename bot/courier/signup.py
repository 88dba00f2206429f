"""A courier signs up: name, where they work (prefecture and quartier), vehicle; then waits.

Why apart from `bot.courier.handlers`: sign-up runs once per courier, before any job exists,
and needs nothing of the job commands; it asks the core to register a pending courier, whom an
admin approves.
"""

from __future__ import annotations

from bot.courier import wording
from bot.courier.commands import (
    VEHICLES,
    parse_join,
    parse_place,
)
from bot.courier.handlers import answer, courier_row, on_telegram, say, start
from bot.courier.states import CourierState as S
from bot.flow import Context, Result
from bot.messages import Choice, Choices, InboundMessage, Text
from commerce.delivery import actions as delivery
from commerce.errors import (
    AddressInvalid,
    AlreadyExists,
)
from commerce.text import fold

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
