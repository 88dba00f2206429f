"""Writing to the outbox: how the core tells someone something without calling a provider.

The row is added in the caller's transaction, so a message exists if and only if the business
change it reports was committed. Workers pick it up after commit.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce import clock
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.notices import Notice
from commerce.users.models import Channel, User

# Ids of the rows this session added, kept in `session.info`: whoever commits the turn (the web
# app, a worker job) takes them with `take_pending_ids` after commit and hands them to its
# dispatcher. The core stays ignorant of RQ and providers.
_pending_key = "boutik_outbox_pending"


def notify(
    session: Session,
    *,
    user_id: int,
    kind: Notice,
    params: dict[str, Any] | None = None,
    essential: bool = False,
    channel: Channel | None = None,
    address: str = "",
    dedupe_key: str | None = None,
    not_before: dt.datetime | None = None,
) -> Outbox:
    """Queue a notification of `kind` for a user, rendered later in their language/channel.

    A string that is not a `Notice` member raises ValueError here, in the action's test, instead
    of becoming a row that no renderer knows. With `not_before`, the row waits until then (the
    sweeper sends it when due) unless `send_now` brings it forward.
    """
    row = Outbox(
        user_id=user_id,
        kind=Notice(kind).value,
        payload={"params": params or {}},
        essential=essential,
        channel=channel,
        address=address,
        dedupe_key=dedupe_key,
    )
    if not_before is not None:
        row.next_attempt_at = not_before
    session.add(row)
    session.flush()
    if not_before is None:
        session.info.setdefault(_pending_key, []).append(row.id)
    return row


def send_now(session: Session, *, dedupe_key: str) -> Outbox | None:
    """Bring a waiting row forward: it goes with this transaction's other messages.

    None when no row with this key is still waiting (it went out already, or never existed).
    """
    row = session.scalar(
        select(Outbox)
        .where(Outbox.dedupe_key == dedupe_key, Outbox.status == OutboxStatus.PENDING)
        .with_for_update()
    )
    if row is None:
        return None
    row.next_attempt_at = clock.now()
    session.flush()
    session.info.setdefault(_pending_key, []).append(row.id)
    return row


def notify_once(
    session: Session,
    *,
    user_id: int,
    kind: Notice,
    dedupe_key: str,
    params: dict[str, Any] | None = None,
    essential: bool = False,
) -> Outbox | None:
    """`notify`, unless a row with this `dedupe_key` exists already (then None, nothing written).

    Why a savepoint: the unique key is the guard (a retried job or a second tap races the first),
    and a refused insert must not abort the caller's transaction.
    """
    savepoint = session.begin_nested()
    try:
        row = notify(
            session,
            user_id=user_id,
            kind=kind,
            params=params,
            essential=essential,
            dedupe_key=dedupe_key,
        )
    except IntegrityError:
        savepoint.rollback()
        return None
    savepoint.commit()
    return row


def notify_many(
    session: Session, *, users: list[User], kind: Notice, params: dict[str, Any] | None = None
) -> list[Outbox]:
    return [notify(session, user_id=u.id, kind=kind, params=params) for u in users]


def take_pending_ids(session: Session) -> list[int]:
    """Outbox ids written by this session since the last call (read after commit)."""
    return session.info.pop(_pending_key, [])


def last_to(session: Session, *, user_id: int) -> Outbox | None:
    """The last message written for a user: what a bare "oui" from them can be answering."""
    return session.scalar(
        select(Outbox).where(Outbox.user_id == user_id).order_by(Outbox.id.desc()).limit(1)
    )
