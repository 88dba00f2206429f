"""Wrong PINs counted per person across all their orders, and the pause that follows.

Why: a delivery code locks after `pin_max_attempts` wrong PINs, but a courier holding
`max_active_jobs` jobs would still get 25 guesses. So every PIN check by a person first locks
their `PinGuard` row (`SELECT … FOR UPDATE`; SQLite's BEGIN IMMEDIATE serialises writers
anyway), refuses at once while they are paused, and each wrong PIN adds a `PinFailure` row.
When `courier_pin_max_failures` wrong PINs fall within `courier_pin_window_s` (a sliding
window), PIN entry pauses for one window, and every admin is told once. The pause lifts by
itself when that window has passed, or sooner when an admin lifts it (which also forgives the
wrong PINs given before). QR scans are not guesses and are never paused.

Everything here runs inside the PIN check's action: the wrong PIN, its `PinFailure` and the
pause are kept because the errors raised after them (`WrongPin`, `CodeLocked`,
`CourierPinPaused`) all have `keeps_changes`.
"""

from __future__ import annotations

import datetime as dt
import math
from dataclasses import dataclass

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.db import on_conflict_insert
from commerce.delivery.models import PinFailure, PinGuard
from commerce.errors import CourierPinPaused
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify
from commerce.users.actions import admins


def window(session: Session) -> dt.timedelta:
    return dt.timedelta(seconds=rules.of(session).courier_pin_window_s)


def paused_until(
    session: Session, guard: PinGuard, now: dt.datetime | None = None
) -> dt.datetime | None:
    """When the guard's pause ends, or None when it is not paused (now)."""
    if guard.paused_at is None:
        return None
    until = guard.paused_at + window(session)
    return until if (now or clock.now()) < until else None


def minutes_left(until: dt.datetime, now: dt.datetime | None = None) -> int:
    return max(1, math.ceil((until - (now or clock.now())).total_seconds() / 60))


def lock_guard(session: Session, user_id: int) -> PinGuard:
    """The person's guard row, created if need be, locked for this transaction."""
    insert = on_conflict_insert(session.get_bind().dialect.name)
    if insert is not None:
        session.execute(insert(PinGuard.__table__).values(user_id=user_id).on_conflict_do_nothing())
    elif session.get(PinGuard, user_id) is None:  # pragma: no cover - both dialects have it
        savepoint = session.begin_nested()
        try:
            session.add(PinGuard(user_id=user_id))
            session.flush()
        except IntegrityError:
            savepoint.rollback()
        else:
            savepoint.commit()
    return session.scalars(
        select(PinGuard)
        .where(PinGuard.user_id == user_id)
        .with_for_update()
        .execution_options(populate_existing=True)
    ).one()


def ensure_open(session: Session, user_id: int) -> PinGuard:
    """Lock the guard and refuse while the person's PIN entry is paused."""
    guard = lock_guard(session, user_id)
    until = paused_until(session, guard)
    if until is not None:
        raise CourierPinPaused("PIN entry paused", minutes=minutes_left(until))
    return guard


def recent_failures(session: Session, guard: PinGuard, now: dt.datetime | None = None) -> int:
    now = now or clock.now()
    since = now - window(session)
    if guard.counts_from is not None and guard.counts_from > since:
        since = guard.counts_from
    return (
        session.scalar(
            select(func.count(PinFailure.id)).where(
                PinFailure.user_id == guard.user_id, PinFailure.at > since
            )
        )
        or 0
    )


def count_failure(session: Session, guard: PinGuard, *, order_id: int) -> dt.datetime | None:
    """Record one wrong PIN on the (locked) guard; the pause's end when this one starts it."""
    now = clock.now()
    session.add(PinFailure(user_id=guard.user_id, order_id=order_id, at=now))
    session.flush()
    failures = recent_failures(session, guard, now)
    if failures < rules.of(session).courier_pin_max_failures or paused_until(session, guard, now):
        return None
    guard.paused_at = now
    session.flush()
    until = now + window(session)
    for admin in admins(session):
        notify(
            session,
            user_id=admin.id,
            kind=Notice.PIN_PAUSED_ADMIN,
            params={
                "user_id": guard.user_id,
                "failures": failures,
                "minutes": minutes_left(until, now),
            },
            essential=True,
        )
    return until


@dataclass(frozen=True)
class Pause:
    user_id: int
    failures: int
    paused_at: dt.datetime
    until: dt.datetime


def active_pauses(session: Session, limit: int = 10) -> list[Pause]:
    """People whose PIN entry is paused now, the most recent pause first (no role check)."""
    now = clock.now()
    guards = session.scalars(
        select(PinGuard)
        .where(PinGuard.paused_at.is_not(None), PinGuard.paused_at > now - window(session))
        .order_by(PinGuard.paused_at.desc())
        .limit(limit)
    )
    shown = []
    for guard in guards:
        assert guard.paused_at is not None
        # The wrong PINs that led to the pause: those of the window before it began.
        failures = recent_failures(session, guard, guard.paused_at)
        shown.append(
            Pause(guard.user_id, failures, guard.paused_at, guard.paused_at + window(session))
        )
    return shown
