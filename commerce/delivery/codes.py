"""Cash-on-delivery codes: issuing them and checking a PIN or a QR token at the door.

The token has 256 bits from `secrets` (≥ 128 required) and is the whole QR payload: no amount,
no name, no phone. PIN comparisons are constant-time; wrong tries are counted by a conditional
UPDATE, so twenty couriers guessing at once still get at most `pin_max_attempts` tries. Wrong
PINs are also counted per person across all their orders (`pin_guard`): past a limit their PIN
entry pauses, checked before any PIN is compared.

A locked code is not the end: the seller and every admin are told the moment it locks, and an
admin can reissue it (`lockouts.reissue_code`), which rotates token and PIN in place.
"""

from __future__ import annotations

import datetime as dt
import hmac
import secrets

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.catalog.models import Shop
from commerce.db import conditional_update
from commerce.delivery import pin_guard
from commerce.delivery.models import DeliveryCode
from commerce.errors import CodeExpired, CodeLocked, CodeUsed, CourierPinPaused, NotFound, WrongPin
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.orders.models import Order
from commerce.users.actions import admins

TOKEN_BYTES = 32  # 256 bits


def new_token() -> str:
    return secrets.token_urlsafe(TOKEN_BYTES)


def new_pin() -> str:
    return f"{secrets.randbelow(1_000_000):06d}"


def issue_code(session: Session, *, order_id: int) -> DeliveryCode:
    code = DeliveryCode(
        order_id=order_id,
        token=new_token(),
        pin=new_pin(),
        expires_at=clock.now() + dt.timedelta(days=rules.of(session).code_validity_days),
    )
    session.add(code)
    session.flush()
    return code


def find_code(session: Session, order_id: int) -> DeliveryCode | None:
    """The order's delivery code, or None (not yet checked out, or no such order)."""
    return session.scalar(select(DeliveryCode).where(DeliveryCode.order_id == order_id))


def code_for_order(session: Session, order_id: int) -> DeliveryCode:
    code = find_code(session, order_id)
    if code is None:
        raise NotFound("no delivery code", entity="delivery_code", order_id=order_id)
    return code


def code_for_token(session: Session, token: str) -> DeliveryCode:
    if not token or len(token) > 64:
        raise NotFound("unknown code", entity="delivery_code")
    code = session.scalar(select(DeliveryCode).where(DeliveryCode.token == token))
    # Constant-time re-check: the index lookup is exact, this guards against collation quirks.
    if code is None or not hmac.compare_digest(code.token.encode(), token.encode()):
        raise NotFound("unknown code", entity="delivery_code")
    return code


def is_locked(session: Session, code: DeliveryCode) -> bool:
    return code.locked_at is not None or code.failed_attempts >= rules.of(session).pin_max_attempts


def check_usable(session: Session, code: DeliveryCode) -> None:
    if code.used_at is not None:
        raise CodeUsed("code already used", order_id=code.order_id)
    if is_locked(session, code):
        raise CodeLocked("code locked", order_id=code.order_id)
    if clock.now() >= code.expires_at:
        raise CodeExpired("code expired", order_id=code.order_id)


def check_pin(session: Session, code: DeliveryCode, pin: str, *, by_user_id: int) -> None:
    """Raise unless `pin` is right; a wrong PIN is counted (and kept, see WrongPin).

    `by_user_id` is who typed it: while their PIN entry is paused nothing is compared
    (CourierPinPaused), and each wrong PIN counts against them as well as against the code.
    """
    guard = pin_guard.ensure_open(session, by_user_id)
    check_usable(session, code)
    max_attempts = rules.of(session).pin_max_attempts
    given = (pin or "").strip()
    if hmac.compare_digest(code.pin.encode(), given.encode()):
        return
    counted = session.execute(
        update(DeliveryCode)
        .where(
            DeliveryCode.id == code.id,
            DeliveryCode.failed_attempts < max_attempts,
            DeliveryCode.used_at.is_(None),
        )
        .values(failed_attempts=DeliveryCode.failed_attempts + 1)
        .returning(DeliveryCode.failed_attempts)
        .execution_options(synchronize_session=False)
    ).first()
    if counted is None:
        session.refresh(code)
        if code.used_at is not None:
            raise CodeUsed("code already used", order_id=code.order_id)
        raise CodeLocked("code locked", order_id=code.order_id)
    paused_until = pin_guard.count_failure(session, guard, order_id=code.order_id)
    attempts = int(counted[0])
    locked = False
    if attempts >= max_attempts:
        locked_now = conditional_update(
            session,
            update(DeliveryCode)
            .where(DeliveryCode.id == code.id, DeliveryCode.locked_at.is_(None))
            .values(locked_at=clock.now()),
        )
        if locked_now == 1:
            _announce_lock(session, code)
        locked = True
    session.refresh(code)
    if paused_until is not None:
        # This guess started the pause: say so (the code's own lock, if any, reached the
        # seller and the admins already).
        raise CourierPinPaused(
            "PIN entry paused",
            order_id=code.order_id,
            minutes=pin_guard.minutes_left(paused_until),
        )
    if locked:
        raise CodeLocked("code locked", order_id=code.order_id)
    raise WrongPin("wrong PIN", order_id=code.order_id, attempts_left=max_attempts - attempts)


def _announce_lock(session: Session, code: DeliveryCode) -> None:
    """The seller and every admin hear of a lock at once (no PIN, no token, no phone)."""
    order = session.get(Order, code.order_id)
    assert order is not None
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    params = {"order_id": order.id}
    notify(session, user_id=shop.owner_id, kind=Notice.CODE_LOCKED, params=params, essential=True)
    for admin in admins(session):
        notify(
            session, user_id=admin.id, kind=Notice.CODE_LOCKED_ADMIN, params=params, essential=True
        )


def mark_used(session: Session, code: DeliveryCode, *, by_user_id: int, proof: str) -> None:
    """Single use, enforced by the database: the first proof wins, a second gets CodeUsed."""
    done = conditional_update(
        session,
        update(DeliveryCode)
        .where(DeliveryCode.id == code.id, DeliveryCode.used_at.is_(None))
        .values(used_at=clock.now(), used_by=by_user_id, proof=proof),
    )
    if done != 1:
        raise CodeUsed("code already used", order_id=code.order_id)
    session.refresh(code)
