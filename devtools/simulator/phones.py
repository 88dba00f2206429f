"""The simulated phones: who holds them, on which channel, and how they are named.

A phone id says the channel and the address the provider would use: ``wa:+224…`` (a WhatsApp
account), ``sms:+224…`` (a basic phone), ``tg:<user id>`` (a Telegram account, whose private
chat id is the user id). The page keeps the list of phones on screen; the server only needs to
parse an id and, for the menu, to list the demo people by role from the database — never from
the conversation flows, which other code owns and which keep changing.
"""

from __future__ import annotations

import secrets
from dataclasses import asdict, dataclass
from typing import Any, Literal

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.users.models import Role, User, UserRole

Kind = Literal["wa", "sms", "tg"]
CHANNEL_OF: dict[str, str] = {"wa": "whatsapp", "sms": "sms", "tg": "telegram"}


class PhoneError(ValueError):
    """A phone id the simulator cannot use (shown to the page as a 400)."""


@dataclass(frozen=True)
class Phone:
    kind: Kind
    address: str  # E.164 number for wa/sms, the Telegram user id (as text) for tg

    @property
    def id(self) -> str:
        return f"{self.kind}:{self.address}"

    @property
    def channel(self) -> str:
        return CHANNEL_OF[self.kind]

    @property
    def telegram_id(self) -> int:
        return int(self.address)

    @classmethod
    def parse(cls, phone_id: str) -> Phone:
        kind, _, address = (phone_id or "").partition(":")
        if kind in ("wa", "sms"):
            digits = address.removeprefix("+")
            if not address.startswith("+") or not digits.isdigit() or not 8 <= len(digits) <= 15:
                raise PhoneError(f"not an E.164 number: {address!r}")
            return cls(kind, address)  # type: ignore[arg-type]
        if kind == "tg":
            if not address.isdigit() or len(address) > 15:
                raise PhoneError(f"not a Telegram user id: {address!r}")
            return cls("tg", address)
        raise PhoneError(f"unknown phone id {phone_id!r} (wa:+…, sms:+…, tg:<id>)")


@dataclass(frozen=True)
class Persona:
    """A person the page can put a phone in the hands of."""

    phone: str  # phone id
    name: str
    role: str  # buyer | seller | courier | admin
    number: str = ""  # their E.164 number when known (Telegram contact sharing)

    def as_json(self) -> dict[str, Any]:
        return asdict(self)


# Which channel each role uses in Boutik.
ROLE_KIND: dict[str, Kind] = {"buyer": "wa", "seller": "tg", "courier": "sms", "admin": "tg"}


def _users_with(session: Session, role: Role) -> list[User]:
    return list(
        session.scalars(
            select(User)
            .join(UserRole, UserRole.user_id == User.id)
            .where(UserRole.role == role, User.is_active.is_(True))
            .order_by(User.id)
        )
    )


def personas(session: Session, admin_ids: tuple[int, ...]) -> list[Persona]:
    """Everyone with a role, in a fixed order: the first of each role is the default phone."""
    from devtools.seed.data import BUYERS, COURIERS

    found: list[Persona] = []
    demo_buyers = {b.phone for b in BUYERS}
    buyers = _users_with(session, Role.BUYER)
    buyers.sort(key=lambda u: (u.phone not in demo_buyers, u.id))
    for user in buyers:
        if user.phone:
            found.append(Persona(f"wa:{user.phone}", user.name or user.phone, "buyer", user.phone))
    for user in _users_with(session, Role.SELLER):
        if user.telegram_id:
            found.append(Persona(f"tg:{user.telegram_id}", user.name, "seller", user.phone or ""))
    demo_couriers = [c.phone for c in COURIERS]
    couriers = _users_with(session, Role.COURIER)
    couriers.sort(
        key=lambda u: demo_couriers.index(u.phone) if u.phone in demo_couriers else 99 + u.id
    )
    first_seller = next((p for p in found if p.role == "seller"), None)
    if first_seller is not None:
        couriers = _nearest_first(session, couriers, int(first_seller.phone[3:]))
    for user in couriers:
        if user.phone:
            found.append(Persona(f"sms:{user.phone}", user.name, "courier", user.phone))
    admins = {tid: "Admin" for tid in admin_ids}
    for user in _users_with(session, Role.ADMIN):
        if user.telegram_id:
            admins[user.telegram_id] = user.name or "Admin"
    for tid, name in admins.items():
        found.append(Persona(f"tg:{tid}", name, "admin"))
    return found


def _nearest_first(session: Session, couriers: list[User], seller_telegram_id: int) -> list[User]:
    """Couriers able to take a job now, nearest to that seller's shop first.

    Why: the default courier phone should be one that the first delivery offer reaches (offers
    go out in widening circles around the shop), so a newcomer sees the story continue.
    """
    from commerce.catalog.models import Shop
    from commerce.delivery.models import Courier, CourierStatus
    from commerce.geo import haversine_km

    shop = session.scalar(
        select(Shop)
        .join(User, Shop.owner_id == User.id)
        .where(User.telegram_id == seller_telegram_id)
    )
    if shop is None:
        return couriers
    point = (shop.lat, shop.lng)
    if point[0] is None or point[1] is None:
        from commerce.geo import guinea

        place = guinea().quartier(shop.quartier, prefecture=shop.prefecture) or guinea().prefecture(
            shop.prefecture
        )
        if place is None:
            return couriers
        point = (place.lat, place.lng)
    rows = {c.user_id: c for c in session.scalars(select(Courier))}

    def distance(user: User) -> tuple[int, float]:
        c = rows.get(user.id)
        if c is None or c.lat is None or c.lng is None:
            return (2, 0.0)
        ready = c.status == CourierStatus.APPROVED and c.available
        return (0 if ready else 1, haversine_km(point, (c.lat, c.lng)))  # type: ignore[arg-type]

    return sorted(couriers, key=distance)


def default_phones(people: list[Persona]) -> list[Persona]:
    """The three phones on screen at first: a buyer, a seller and a courier.

    Without demo data (an empty database) the demo numbers are used anyway: the bot then meets
    them as newcomers, which is a story worth playing too.
    """
    from devtools.seed.data import BUYERS, COURIERS, SELLER_TELEGRAM_BASE

    chosen: list[Persona] = []
    fallbacks = {
        "buyer": Persona(f"wa:{BUYERS[0].phone}", BUYERS[0].name, "buyer", BUYERS[0].phone),
        "seller": Persona(f"tg:{SELLER_TELEGRAM_BASE + 1}", "Vendeur", "seller"),
        "courier": Persona(
            f"sms:{COURIERS[0].phone}", COURIERS[0].name, "courier", COURIERS[0].phone
        ),
    }
    for role, fallback in fallbacks.items():
        chosen.append(next((p for p in people if p.role == role), fallback))
    return chosen


def new_number(session: Session) -> str:
    """A Guinean mobile number nobody in the database has (a newcomer's phone)."""
    while True:
        number = f"+22462{secrets.randbelow(10**7):07d}"
        if session.scalar(select(User.id).where(User.phone == number)) is None:
            return number


def new_telegram_id(session: Session) -> int:
    """A Telegram user id nobody in the database has."""
    while True:
        tid = 5_000_000_000 + secrets.randbelow(10**9)
        if session.scalar(select(User.id).where(User.telegram_id == tid)) is None:
            return tid
