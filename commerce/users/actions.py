"""Users: identification by phone or Telegram id, roles, languages, addresses, activation."""

from __future__ import annotations

import functools

from sqlalchemy import Select, bindparam, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, joinedload
from sqlalchemy.sql.dml import Insert

from commerce import clock, geo
from commerce.db import action, on_conflict_insert
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


def _insert_or_existing(session: Session, user: User) -> User:
    """Insert a new person, or return the one a concurrent turn inserted a moment earlier.

    A new number's first two messages ("bonjour", then the question) can arrive together:
    both turns find no user, and the second INSERT waits on the unique index, then fails once
    the first commits. Without this the second webhook answered 500 and Twilio, which does not
    retry messaging webhooks, dropped that message. The savepoint keeps the turn usable.
    """
    try:
        with session.begin_nested():
            session.add(user)
            session.flush()
    except IntegrityError:
        key = User.phone == user.phone if user.phone else User.telegram_id == user.telegram_id
        existing = session.scalar(select(User).where(key))
        if existing is None:
            raise
        return existing
    return user


# A user with their roles in one query (roles are otherwise a second, selectin, query); built
# once with a bound parameter, since every inbound turn runs one (bench/turn_cpu.py).
_BY_PHONE = select(User).where(User.phone == bindparam("b_key")).options(joinedload(User.roles))
_BY_TELEGRAM = (
    select(User).where(User.telegram_id == bindparam("b_key")).options(joinedload(User.roles))
)


def _known(session: Session, stmt: Select[User], key: object) -> User | None:
    return session.execute(stmt, {"b_key": key}).unique().scalar_one_or_none()


def get_or_create_by_phone(
    session: Session, *, phone: str, name: str = "", role: Role = Role.BUYER
) -> User:
    """The person behind a phone number, created on first contact, holding `role`.

    Why a read-only fast path: every inbound turn identifies its sender, and almost always the
    person already exists with that role and a name. Then nothing is written, so the SAVEPOINT
    of an action and the second query for the roles are pure cost (bench/turn_cpu.py).
    """
    e164 = normalize_phone(phone)
    user = _known(session, _BY_PHONE, e164)
    if user is not None and user.has_role(role) and (user.name or not name):
        return user
    return _get_or_create_by_phone(session, e164=e164, user=user, name=name, role=role)


@action
def _get_or_create_by_phone(
    session: Session, *, e164: str, user: User | None, name: str, role: Role
) -> User:
    if user is None:
        user = _insert_or_existing(session, User(phone=e164, name=name.strip()[:120]))
    elif name and not user.name:
        user.name = name.strip()[:120]
    _grant(user, role)
    session.flush()
    return user


def get_or_create_by_telegram(
    session: Session, *, telegram_id: int, name: str = "", role: Role = Role.BUYER
) -> User:
    """The person behind a Telegram account, created on first contact, holding `role`.

    Read-only when they already hold the role, for the reason given in get_or_create_by_phone.
    """
    user = _known(session, _BY_TELEGRAM, telegram_id)
    if user is not None and user.has_role(role):
        return user
    return _get_or_create_by_telegram(
        session, telegram_id=telegram_id, user=user, name=name, role=role
    )


@action
def _get_or_create_by_telegram(
    session: Session, *, telegram_id: int, user: User | None, name: str, role: Role
) -> User:
    if user is None:
        user = _insert_or_existing(session, User(telegram_id=telegram_id, name=name.strip()[:120]))
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


def touch_identity(session: Session, *, user_id: int, channel: Channel, address: str) -> None:
    """Record an inbound message on a channel (the WhatsApp 24 h window starts here).

    Why an upsert on PostgreSQL and SQLite: this runs on every inbound turn, and one
    `INSERT … ON CONFLICT (channel, address) DO UPDATE` replaces a SAVEPOINT, a SELECT, an
    UPDATE and a RELEASE (bench/turn_cpu.py). It is atomic on its own, so it needs no
    savepoint: when it fails the whole statement has done nothing. A copy of the row already
    loaded in the session is expired, so it is read again with the new values.
    """
    stmt = _touch_statement(session.get_bind().dialect.name)
    if stmt is None:
        _touch_identity(session, user_id=user_id, channel=channel, address=address)
        return
    now = clock.now()
    session.execute(
        stmt, {"b_user_id": user_id, "b_channel": channel, "b_address": address, "b_now": now}
    )
    for obj in list(session.identity_map.values()):
        if isinstance(obj, ChannelIdentity) and (obj.channel, obj.address) == (channel, address):
            session.expire(obj)


@functools.cache
def _touch_statement(dialect: str) -> Insert | None:
    """touch_identity's upsert for `dialect`, built once; None where there is no upsert."""
    upsert = on_conflict_insert(dialect)
    if upsert is None:
        return None
    table = ChannelIdentity.__table__
    stmt = upsert(table).values(
        user_id=bindparam("b_user_id"),
        channel=bindparam("b_channel"),
        address=bindparam("b_address"),
        last_inbound_at=bindparam("b_now"),
        blocked=False,
        created_at=bindparam("b_now"),
    )
    return stmt.on_conflict_do_update(
        index_elements=[table.c.channel, table.c.address],
        set_={
            "user_id": stmt.excluded.user_id,
            "last_inbound_at": stmt.excluded.last_inbound_at,
            "blocked": False,
        },
    )


@action
def _touch_identity(session: Session, *, user_id: int, channel: Channel, address: str) -> None:
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
