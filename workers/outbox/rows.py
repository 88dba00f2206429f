"""The outbox row's lifecycle in the database: claim, record the outcome, retry, sweep, replay.

Why it exists: the database, not Redis, is the truth about every message. A row goes
pending → sending (a conditional UPDATE, so a job run twice, or by two workers, sends once) →
sent, or back to pending with a backoff for what can succeed later, or failed for good with
its reason. The sweeper puts back in line what a dead worker left "sending"; replay puts a
failed row back by hand. Each step is one short transaction; no provider is called here.
"""

from __future__ import annotations

import datetime as dt
import logging
from typing import TYPE_CHECKING

from sqlalchemy import bindparam, case, func, or_, select, update
from sqlalchemy.exc import SQLAlchemyError

from channels_adapters.senders import SendError, SendResult
from commerce import clock
from commerce.db import unit_of_work
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.users.models import Channel, ChannelIdentity, User
from workers.outbox.plan import INTERRUPTED, Plan
from workers.outbox.routing import IDENTITIES, identity, plan_for, reroute_window_closed

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger("workers.outbox")

BACKOFF_S = (2, 5, 15, 30, 60, 120, 300, 600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1


def claim(rt: Runtime, outbox_id: int) -> Plan | None:
    return claim_batch(rt, [outbox_id]).get(outbox_id)


def claim_batch(rt: Runtime, outbox_ids: list[int]) -> dict[int, Plan]:
    """Claim the due rows among `outbox_ids` and plan each one, in one transaction.

    One conditional UPDATE … RETURNING claims them all (pending → sending: a row claimed by
    another worker, or already sent, is simply not returned), and the rows, their users and
    the users' channel identities are read with one query each, instead of five round trips
    per row. A row that cannot be planned (a payload the renderer rejects) fails alone, with
    its reason, instead of failing its whole batch forever.
    """
    now = clock.now()
    plans: dict[int, Plan] = {}
    with unit_of_work(rt.session_factory) as session:
        claimed_rows = list(
            session.execute(
                update(Outbox)
                .where(
                    Outbox.id.in_(outbox_ids),
                    Outbox.status == OutboxStatus.PENDING,
                    Outbox.next_attempt_at <= now,
                )
                .values(status=OutboxStatus.SENDING, attempts=Outbox.attempts + 1, updated_at=now)
                .returning(Outbox.id, Outbox.attempts)
                .execution_options(synchronize_session=False)
            ).all()
        )
        if not claimed_rows:
            return plans
        attempts = dict(claimed_rows)
        claimed = list(attempts)
        rows = {r.id: r for r in session.scalars(select(Outbox).where(Outbox.id.in_(claimed)))}
        user_ids = {r.user_id for r in rows.values() if r.user_id}
        users: list[User] = []
        if user_ids:
            # Held in a local: the session's identity map keeps only weak references, and
            # plan_for's session.get(User, …) must find them there, not query again.
            users = list(session.scalars(select(User).where(User.id.in_(user_ids))))
            known: dict[int, dict[Channel, ChannelIdentity]] = {uid: {} for uid in user_ids}
            for ident in session.scalars(
                select(ChannelIdentity).where(ChannelIdentity.user_id.in_(user_ids))
            ):
                known[ident.user_id][ident.channel] = ident
            session.info[IDENTITIES] = known
        for outbox_id in outbox_ids:
            row = rows.get(outbox_id)
            if row is None:
                continue
            try:
                plan = plan_for(session, rt, row)
            except SQLAlchemyError:
                raise
            except Exception as exc:  # one bad payload must not hold back the rows after it
                log.exception("outbox %s cannot be rendered", outbox_id)
                row.status = OutboxStatus.FAILED
                row.error_code = "render"
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                continue
            if plan.skip_reason:
                row.status = OutboxStatus.SKIPPED
                row.last_error = plan.skip_reason
                continue
            plan.attempt = attempts[outbox_id]
            plans[outbox_id] = plan
        session.info.pop(IDENTITIES, None)
        log.debug("planned %d rows for %d users", len(plans), len(users))
    return plans


def finish(rt: Runtime, plan: Plan, result: SendResult) -> None:
    finish_many(rt, [(plan, result, clock.now())])


_OUTBOX = Outbox.__table__
# What a send changes on its row, for many rows in one executemany. A row the sweeper put back
# to pending meanwhile is marked sent too: it went out, and its retry must not send it again.
_FINISH = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        status=case(
            (
                # two comparisons, not IN: executemany cannot expand a list parameter
                or_(
                    _OUTBOX.c.status == OutboxStatus.PENDING,
                    _OUTBOX.c.status == OutboxStatus.SENDING,
                ),
                bindparam("b_sent", OutboxStatus.SENT, type_=_OUTBOX.c.status.type),
            ),
            else_=_OUTBOX.c.status,
        ),
        provider_message_id=func.coalesce(
            bindparam("b_pid", type_=_OUTBOX.c.provider_message_id.type),
            _OUTBOX.c.provider_message_id,
        ),
        sent_at=bindparam("b_at", type_=_OUTBOX.c.sent_at.type),
        sent_channel=bindparam("b_channel", type_=_OUTBOX.c.sent_channel.type),
        sent_address=bindparam("b_address", type_=_OUTBOX.c.sent_address.type),
        error_code="",
        last_error="",
        updated_at=bindparam("b_now", type_=_OUTBOX.c.updated_at.type),
    )
)


def finish_many(rt: Runtime, done: list[tuple[Plan, SendResult, dt.datetime]]) -> None:
    """Record several sends in one transaction (one executemany round trip)."""
    now = clock.now()
    params = [
        {
            "b_id": plan.outbox_id,
            "b_sent": OutboxStatus.SENT,
            "b_pid": result.provider_id or None,
            "b_at": at,
            "b_channel": plan.channel,
            "b_address": plan.address,
            "b_now": now,
        }
        for plan, result, at in done
    ]
    with unit_of_work(rt.session_factory) as session:
        session.connection().execute(_FINISH, params)


def fail(rt: Runtime, plan: Plan, err: SendError) -> float | None:
    """Record a failed attempt; return the delay before the next try, or None if final."""
    with unit_of_work(rt.session_factory) as session:
        row = session.get(Outbox, plan.outbox_id)
        assert row is not None
        row.error_code = (err.code or "")[:20]
        row.last_error = err.reason[:500]
        user = session.get(User, row.user_id) if row.user_id else None
        if (
            err.outside_window
            and plan.channel == Channel.WHATSAPP
            and reroute_window_closed(row, user)  # the window closed: template, else SMS
        ):
            return 0.0
        if err.retryable and row.attempts < MAX_ATTEMPTS:
            delay = max(float(err.retry_after or 0), BACKOFF_S[min(row.attempts, MAX_ATTEMPTS) - 1])
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = clock.now() + dt.timedelta(seconds=delay)
            return delay
        row.status = OutboxStatus.FAILED
        if user is not None and err.opted_out:
            user.opted_out = True
        if user is not None and err.blocked and plan.channel is not None:
            ident = identity(session, user.id, plan.channel)
            if ident is not None:
                ident.blocked = True
        return None


def sweep(rt: Runtime, *, limit: int = 500, stale_after: dt.timedelta | None = None) -> list[int]:
    """Find rows that need a (new) job: due pending rows, and rows a dead worker left sending.

    Redis can lose its queue (restart without persistence) and workers can die between claim
    and send; the database is the truth, and this puts every such row back in line.
    """
    now = clock.now()
    stale = stale_after or dt.timedelta(seconds=rt.config.queue.stale_sending_s)
    with unit_of_work(rt.session_factory) as session:
        session.execute(
            update(Outbox)
            .where(Outbox.status == OutboxStatus.SENDING, Outbox.updated_at < now - stale)
            .values(
                status=OutboxStatus.PENDING,
                next_attempt_at=now,
                error_code=INTERRUPTED,
                # The attempt began at updated_at: the provider is asked from then on. A row
                # interrupted again (claimed by a job that died before reaching it) keeps the
                # first attempt's instant: that attempt may have sent it, and asking only from
                # the later claim would miss that message and send it a second time.
                sent_at=case(
                    (
                        Outbox.error_code == INTERRUPTED,
                        func.coalesce(Outbox.sent_at, Outbox.updated_at),
                    ),
                    else_=Outbox.updated_at,
                ),
            )
            .execution_options(synchronize_session=False)
        )
        ids = list(
            session.scalars(
                select(Outbox.id)
                .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
                .order_by(Outbox.id)
                .limit(limit)
            )
        )
    return ids


def replay(rt: Runtime, outbox_id: int, *, dispatch: bool = True) -> bool:
    """Put a failed row back in line (boutik outbox replay ID)."""
    with unit_of_work(rt.session_factory) as session:
        done = session.execute(
            update(Outbox)
            .where(
                Outbox.id == outbox_id,
                Outbox.status.in_(
                    [OutboxStatus.FAILED, OutboxStatus.UNDELIVERED, OutboxStatus.SKIPPED]
                ),
            )
            .values(
                status=OutboxStatus.PENDING, next_attempt_at=clock.now(), attempts=0, error_code=""
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    if done and dispatch:
        rt.dispatcher.dispatch([outbox_id])
    return bool(done)
