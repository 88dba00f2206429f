"""Recovering from locked delivery codes and paused PIN entry: the admins' tools.

Why: after `pin_max_attempts` wrong PINs a code locks for good, and until now nothing could
reset it — the order stayed picked up, the job kept counting against the courier's active
jobs, and the buyer could not get a code again. Here an admin sees the locked codes and
reissues one: token and PIN are rotated in place (the order keeps its single code row, the
old token and PIN, and any QR confirmation link signed over the old token, die with them),
the buyer gets the new QR and PIN as at checkout, and the courier is told a new code exists
(never the PIN). The same screen lifts a person's PIN pause (`pin_guard`).

Every function checks the admin role itself. Reissue is one conditional UPDATE on "still
locked, still unused": two admins tapping at once reissue once, the other gets CodeNotLocked.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, func, or_, select, update
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.catalog.models import Shop
from commerce.db import action, conditional_update
from commerce.delivery import codes, pin_guard
from commerce.delivery.actions import shop_owner_id
from commerce.delivery.models import DeliveryCode, PinGuard
from commerce.errors import CodeNotLocked, CodeUsed, IllegalTransition, PinNotPaused
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.orders.models import Order, OrderStatus
from commerce.users.actions import require_actor
from commerce.users.models import Role, User

SHOWN = 10
# A code can be reissued while its order still waits for the hand-over.
AWAITING_DELIVERY = (
    OrderStatus.PLACED,
    OrderStatus.ACCEPTED,
    OrderStatus.COURIER_ASSIGNED,
    OrderStatus.PICKED_UP,
)


def _locked(r: rules.Rules) -> ColumnElement[bool]:
    return or_(
        DeliveryCode.locked_at.is_not(None),
        DeliveryCode.failed_attempts >= r.pin_max_attempts,
    )


@dataclass(frozen=True)
class LockedCode:
    """One row of the admin's list: nothing that would let anyone use or guess the code."""

    order_id: int
    shop: str
    courier: str  # the deliverer's name ("" when none is assigned)
    locked_at: dt.datetime | None
    failed_attempts: int


def locked_codes(
    session: Session, *, admin_id: int, limit: int = SHOWN
) -> tuple[list[LockedCode], int]:
    """Locked, unused codes of orders still awaiting delivery (oldest lock first), and the total."""
    require_actor(session, admin_id, Role.ADMIN)
    where = (
        _locked(rules.of(session)),
        DeliveryCode.used_at.is_(None),
        Order.status.in_(AWAITING_DELIVERY),
    )
    base = select(DeliveryCode).join(Order, Order.id == DeliveryCode.order_id).where(*where)
    total = session.scalar(select(func.count()).select_from(base.subquery())) or 0
    rows = session.execute(
        select(DeliveryCode, Order, Shop, User)
        .join(Order, Order.id == DeliveryCode.order_id)
        .join(Shop, Shop.id == Order.shop_id)
        .outerjoin(User, User.id == Order.courier_id)
        .where(*where)
        .order_by(DeliveryCode.locked_at.is_(None), DeliveryCode.locked_at, DeliveryCode.id)
        .limit(limit)
    )
    shown = [
        LockedCode(
            order_id=order.id,
            shop=shop.name,
            courier=(courier.name if courier is not None else "") or "",
            locked_at=code.locked_at,
            failed_attempts=code.failed_attempts,
        )
        for code, order, shop, courier in rows
    ]
    return shown, total


@action
def reissue_code(session: Session, *, admin_id: int, order_id: int) -> DeliveryCode:
    """A fresh token and PIN for a locked code; the buyer gets them, the courier is told."""
    admin = require_actor(session, admin_id, Role.ADMIN)
    code = codes.code_for_order(session, order_id)
    order = session.get(Order, order_id)
    assert order is not None
    if code.used_at is not None:
        raise CodeUsed("code already used", order_id=order_id)
    if order.status not in AWAITING_DELIVERY:
        raise IllegalTransition(
            "order no longer awaiting delivery", order_id=order_id, from_status=order.status.value
        )
    now = clock.now()
    rotated = conditional_update(
        session,
        update(DeliveryCode)
        .where(
            DeliveryCode.id == code.id, DeliveryCode.used_at.is_(None), _locked(rules.of(session))
        )
        .values(
            token=codes.new_token(),
            pin=codes.new_pin(),
            failed_attempts=0,
            locked_at=None,
            expires_at=now + dt.timedelta(days=rules.of(session).code_validity_days),
            reissued_at=now,
            reissued_by=admin.id,
            reissues=DeliveryCode.reissues + 1,
        ),
    )
    session.refresh(code)
    if rotated != 1:
        if code.used_at is not None:
            raise CodeUsed("code already used", order_id=order_id)
        raise CodeNotLocked("code not locked", order_id=order_id)
    # Read at send time from the code row: the PIN never sits in the outbox.
    notify(
        session,
        user_id=order.buyer_id,
        kind=Notice.CODE_REISSUED,
        params={"order_id": order.id},
        essential=True,
    )
    if order.courier_id is not None and order.courier_id != shop_owner_id(session, order):
        notify(
            session,
            user_id=order.courier_id,
            kind=Notice.CODE_REISSUED_COURIER,
            params={"order_id": order.id},
            essential=True,
        )
    return code


@dataclass(frozen=True)
class PausedPerson:
    user_id: int
    name: str
    failures: int
    paused_at: dt.datetime
    until: dt.datetime


def paused_people(session: Session, *, admin_id: int) -> list[PausedPerson]:
    """Whose PIN entry is paused now (couriers, or sellers delivering), latest first."""
    require_actor(session, admin_id, Role.ADMIN)
    found = []
    for pause in pin_guard.active_pauses(session, limit=SHOWN):
        user = session.get(User, pause.user_id)
        found.append(
            PausedPerson(
                user_id=pause.user_id,
                name=(user.name if user is not None else "") or "",
                failures=pause.failures,
                paused_at=pause.paused_at,
                until=pause.until,
            )
        )
    return found


@action
def lift_pin_pause(session: Session, *, admin_id: int, user_id: int) -> User:
    """End a person's PIN pause now and forgive their earlier wrong PINs; they are told."""
    admin = require_actor(session, admin_id, Role.ADMIN)
    guard = session.scalars(
        select(PinGuard)
        .where(PinGuard.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one_or_none()
    if guard is None or pin_guard.paused_until(session, guard) is None:
        raise PinNotPaused("PIN entry not paused", user_id=user_id)
    now = clock.now()
    guard.paused_at = None
    guard.counts_from = now
    guard.lifted_at = now
    guard.lifted_by = admin.id
    session.flush()
    notify(session, user_id=user_id, kind=Notice.PIN_PAUSE_LIFTED, essential=True)
    person = session.get(User, user_id)
    assert person is not None
    return person
