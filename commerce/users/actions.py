"""Users: identification by phone or Telegram id, roles, languages, addresses, activation."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce import clock, geo
from commerce.db import action
from commerce.errors import (
    AccountInactive,
    AddressInvalid,
    InvalidInput,
    NotFound,
    PermissionDenied,
)
from commerce.phones import normalize_phone
from commerce.users.models import Address, Channel, ChannelIdentity, Language, Role, User, UserRole

MAX_LANDMARK = 300


def require_actor(session: Session, actor_id: int, *roles: Role) -> User:
    """Load the acting user and check they are active and hold one of `roles` (if given).

    Every action calls this first: the core is the last line of defence, whatever the bot or
    an adapter believed about the user.
    """
    user = session.get(User, actor_id)
    if user is None:
        raise NotFound("unknown user", entity="user", id=actor_id)
    if not user.is_active:
        raise AccountInactive("account deactivated", user_id=actor_id)
    if roles and not any(user.has_role(r) for r in roles):
        raise PermissionDenied("role required", roles=[r.value for r in roles])
    return user


def _grant(user: User, role: Role) -> None:
    if not user.has_role(role):
        user.roles.append(UserRole(role=role))


@action
def get_or_create_by_phone(
    session: Session, *, phone: str, name: str = "", role: Role = Role.BUYER
) -> User:
    e164 = normalize_phone(phone)
    user = session.scalar(select(User).where(User.phone == e164))
    if user is None:
        user = User(phone=e164, name=name.strip()[:120])
        session.add(user)
    elif name and not user.name:
        user.name = name.strip()[:120]
    _grant(user, role)
    session.flush()
    return user


@action
def get_or_create_by_telegram(
    session: Session, *, telegram_id: int, name: str = "", role: Role = Role.BUYER
) -> User:
    user = session.scalar(select(User).where(User.telegram_id == telegram_id))
    if user is None:
        user = User(telegram_id=telegram_id, name=name.strip()[:120])
        session.add(user)
    _grant(user, role)
    session.flush()
    return user


@action
def link_phone(session: Session, *, user_id: int, phone: str) -> User:
    """Attach a phone (shared with Telegram's contact button) to a Telegram user.

    If a phone-only account already exists (the seller bought on WhatsApp before), the
    Telegram identity joins that account rather than creating a second person.
    """
    user = require_actor(session, user_id)
    e164 = normalize_phone(phone)
    if user.phone == e164:
        return user
    other = session.scalar(select(User).where(User.phone == e164))
    if other is not None and other.id != user.id:
        if other.telegram_id is not None:
            raise PermissionDenied("phone belongs to another Telegram account")
        telegram_id = user.telegram_id
        user.telegram_id = None
        session.flush()
        other.telegram_id = telegram_id
        for role in user.roles:
            _grant(other, role.role)
        session.flush()
        return other
    user.phone = e164
    session.flush()
    return user


@action
def grant_role(session: Session, *, user_id: int, role: Role) -> User:
    user = require_actor(session, user_id)
    _grant(user, role)
    session.flush()
    return user


@action
def set_language(session: Session, *, user_id: int, language: str) -> User:
    user = require_actor(session, user_id)
    try:
        user.language = Language(language)
    except ValueError as exc:
        raise InvalidInput("unknown language", language=language) from exc
    return user


@action
def set_opt_out(session: Session, *, user_id: int, opted_out: bool) -> User:
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("unknown user", entity="user", id=user_id)
    user.opted_out = opted_out
    return user


@action
def touch_identity(session: Session, *, user_id: int, channel: Channel, address: str) -> None:
    """Record an inbound message on a channel (the WhatsApp 24 h window starts here)."""
    ident = session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.channel == channel, ChannelIdentity.address == address
        )
    )
    if ident is None:
        ident = ChannelIdentity(user_id=user_id, channel=channel, address=address)
        session.add(ident)
    ident.user_id = user_id
    ident.last_inbound_at = clock.now()
    ident.blocked = False
    session.flush()


def validate_place(region: str, prefecture: str, quartier: str) -> tuple[str, str, str]:
    """Canonical names for a region/prefecture/quartier triple, or AddressInvalid."""
    g = geo.guinea()
    reg = g.region(region) if region else None
    pref = g.prefecture(prefecture, region=reg.name if reg else None) if prefecture else None
    if pref is None:
        raise AddressInvalid("unknown prefecture", prefecture=prefecture)
    owner = g.region_of(pref.name)
    if reg is not None and owner.name != reg.name:
        raise AddressInvalid("prefecture not in region", prefecture=prefecture, region=region)
    quartier_name = ""
    if quartier:
        q = g.quartier(quartier, prefecture=pref.name)
        # A quartier we do not list is still a real place: keep the buyer's words.
        quartier_name = q.name if q is not None else quartier.strip()[:80]
    return owner.name, pref.name, quartier_name


@action
def add_address(
    session: Session,
    *,
    user_id: int,
    region: str = "",
    prefecture: str,
    quartier: str = "",
    landmark: str = "",
    lat: float | None = None,
    lng: float | None = None,
    label: str = "",
) -> Address:
    user = require_actor(session, user_id)
    landmark = (landmark or "").strip()
    if len(landmark) > MAX_LANDMARK:
        raise AddressInvalid("landmark too long", max=MAX_LANDMARK)
    if (lat is None) != (lng is None):
        raise AddressInvalid("latitude and longitude go together")
    if lat is not None and lng is not None and not (-90 <= lat <= 90 and -180 <= lng <= 180):
        raise AddressInvalid("coordinates out of range")
    region_name, pref_name, quartier_name = validate_place(region, prefecture, quartier)
    address = Address(
        user_id=user.id,
        region=region_name,
        prefecture=pref_name,
        quartier=quartier_name,
        landmark=landmark,
        lat=lat,
        lng=lng,
        label=(label or quartier_name or pref_name)[:60],
    )
    session.add(address)
    session.flush()
    return address


@action
def set_user_active(session: Session, *, admin_id: int, user_id: int, active: bool) -> User:
    require_actor(session, admin_id, Role.ADMIN)
    user = session.get(User, user_id)
    if user is None:
        raise NotFound("unknown user", entity="user", id=user_id)
    user.is_active = active
    return user


def admins(session: Session) -> list[User]:
    return list(
        session.scalars(
            select(User).join(UserRole).where(UserRole.role == Role.ADMIN, User.is_active)
        )
    )
