"""A job's hold on the rows it claimed: heartbeat, pacing, batched records, release on error.

Why it exists: between its claim and its send a row may wait a long time for a shared send
slot (an SMS sender at 1 segment/s), and a stalled worker must not look alive, nor a patient
one dead. The lease renews the rows it still waits to send, drops the ones the sweeper took
back (never sending them: another worker may be), records finished sends in batches, and
puts what never left back to pending when the job dies of an exception. Database writes that
record a send already made survive a database restart (`db_retry`).
"""

from __future__ import annotations

import datetime as dt
import logging
import math
import threading
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, TypeVar

from sqlalchemy import tuple_, update
from sqlalchemy.exc import DBAPIError

from channels_adapters.senders import SendResult
from commerce import clock
from commerce.db import unit_of_work
from commerce.messaging.models import Outbox, OutboxStatus
from workers.outbox.plan import Plan
from workers.outbox.rows import finish_many
from workers.rate_limit import MAX_LATE_S, REBOOK_MAX, with_headroom

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger("workers.outbox")

HEARTBEAT_S = 10.0  # a row waiting for its send slot longer than this says it is alive

# A job records what it sent at most this late (and after at most FLUSH_ROWS sends): one
# transaction for several rows instead of one per row, while a Twilio status callback — which
# looks the row up by its provider id — still finds it recorded.
FLUSH_ROWS = 20
FLUSH_S = 0.5
# After a PostgreSQL restart the first statements fail on dead pooled connections; writes that
# record a send already made are retried for this long rather than left to the sweeper.
DB_RETRY_S = 20.0

T = TypeVar("T")


def heartbeat_s(rt: Runtime) -> float:
    """Touch claimed rows well inside `stale_sending_s`, so the sweeper never takes them."""
    return max(0.05, min(HEARTBEAT_S, rt.config.queue.stale_sending_s / 4))


def db_retry(fn: Callable[[], T], *, budget_s: float | None = None) -> T:
    """Run a short transaction again while the database is unreachable (restart, failover).

    Only connection-level errors are retried (a statement the database refused is a bug and
    is raised at once). pool_pre_ping replaces dead connections at checkout, but a connection
    that dies during a transaction fails that transaction: the whole `fn` is run again.
    """
    deadline = time.monotonic() + (DB_RETRY_S if budget_s is None else budget_s)
    pause = 0.1
    while True:
        try:
            return fn()
        except DBAPIError as exc:
            if not exc.connection_invalidated and not _is_disconnect(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise
            log.info("database unreachable (%s): retrying in %.1fs", type(exc.orig).__name__, pause)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def _is_disconnect(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


class LeaseLost(Exception):
    """A claimed row was taken back by the sweeper (or claimed anew) before it was sent."""


class Lease:
    """The rows of one job between their claim and the record of their sends.

    `waiting` are claimed and not yet handed to the provider. Every heartbeat interval they
    are renewed: touched, and checked to be still ours (status sending, with the attempt
    number our claim gave them). A row the sweeper took back while we waited (a stall longer
    than `stale_sending_s`) is dropped, never sent, because another worker may be sending it.
    Renewals and `started` exclude each other (the lock), so a row is never touched after its
    send began: its updated_at must stay at or before the send, because the crash lookup asks
    Twilio for messages since then. A job that dies of an exception puts its waiting rows back
    to pending.
    `done` are sent and not yet recorded; until `flush` they stay "sending", and a crash leaves
    them to the sweeper, whose retry asks Twilio first (INTERRUPTED), so a late record costs a
    lookup, never a duplicate.
    """

    def __init__(self, rt: Runtime, claimed: dict[int, int]) -> None:
        self.rt = rt
        self.attempts = dict(claimed)  # outbox id -> the attempt number our claim gave it
        self.waiting: list[int] = list(claimed)
        self.lost: set[int] = set()
        self.done: list[tuple[Plan, SendResult, dt.datetime]] = []
        self.oldest = 0.0
        self.touched = time.monotonic()
        self.stopping = False  # set when the job is failing: no new send may start
        # The sending threads of one job share it; the lock is held across a flush so that
        # two threads never record the same rows twice, and across a renewal (see above).
        self.lock = threading.RLock()

    def started(self, outbox_id: int) -> None:
        """`outbox_id` goes to the provider now: from here only the sweeper may take it back."""
        with self.lock:
            if outbox_id in self.lost:
                raise LeaseLost(outbox_id)
            if outbox_id in self.waiting:
                self.waiting.remove(outbox_id)

    def forget(self, outbox_id: int) -> None:
        """`outbox_id` was handed to the provider (or found there): no longer waiting."""
        with self.lock:
            if outbox_id in self.waiting:
                self.waiting.remove(outbox_id)

    def is_waiting(self, outbox_id: int) -> bool:
        with self.lock:
            return outbox_id in self.waiting

    def owns(self, outbox_id: int) -> bool:
        with self.lock:
            return outbox_id not in self.lost

    def keep_alive(self) -> None:
        """Renew the waiting rows once a heartbeat interval has passed since the last time."""
        with self.lock:
            if time.monotonic() - self.touched >= heartbeat_s(self.rt):
                self.renew()

    def renew(self) -> None:
        """Touch the waiting rows that are still ours; forget the ones that are not."""
        with self.lock:
            if self.waiting:
                held = db_retry(lambda: _renew(self.rt, self.waiting))
                for outbox_id in list(self.waiting):
                    if held.get(outbox_id) != self.attempts[outbox_id]:
                        log.warning("outbox %s was taken back before its send", outbox_id)
                        self.waiting.remove(outbox_id)
                        self.lost.add(outbox_id)
            self.touched = time.monotonic()

    def sent(self, plan: Plan, result: SendResult) -> None:
        with self.lock:
            self.forget(plan.outbox_id)
            if not self.done:
                self.oldest = time.monotonic()
            self.done.append((plan, result, clock.now()))
            if len(self.done) >= FLUSH_ROWS or time.monotonic() - self.oldest >= FLUSH_S:
                self.flush()

    def flush(self) -> None:
        with self.lock:
            if self.done:
                done = self.done
                db_retry(lambda: finish_many(self.rt, done))
                self.done = []

    def defer(self, outbox_ids: list[int], until: dt.datetime) -> list[int]:
        """Give back rows of ours that never left, due at `until`, their attempt not counted;
        returns those given back (a row taken back meanwhile is not ours to move)."""
        with self.lock:
            mine = [i for i in outbox_ids if i in self.waiting and i not in self.lost]
            for outbox_id in mine:
                self.waiting.remove(outbox_id)
            held = [(i, self.attempts[i]) for i in mine]
        if not held:
            return []
        with unit_of_work(self.rt.session_factory) as session:
            moved = session.execute(
                update(Outbox)
                .where(tuple_(Outbox.id, Outbox.attempts).in_(held))
                .where(Outbox.status == OutboxStatus.SENDING)
                .values(
                    status=OutboxStatus.PENDING,
                    attempts=Outbox.attempts - 1,
                    next_attempt_at=until,
                    updated_at=clock.now(),
                )
                .returning(Outbox.id)
                .execution_options(synchronize_session=False)
            )
            back = set(moved.scalars())
        return [i for i in mine if i in back]

    def abandon(self) -> None:
        """After an unexpected error: record what went out, release what never left."""
        try:
            self.flush()
        except Exception:
            log.exception("could not record %d sent rows: the sweeper will", len(self.done))
        with self.lock:
            waiting = [(outbox_id, self.attempts[outbox_id]) for outbox_id in self.waiting]
        if not waiting:
            return
        try:
            with unit_of_work(self.rt.session_factory) as session:
                session.execute(
                    update(Outbox)
                    .where(
                        # only rows still held by this claim (id and attempt number)
                        tuple_(Outbox.id, Outbox.attempts).in_(waiting),
                        Outbox.status == OutboxStatus.SENDING,
                    )
                    .values(status=OutboxStatus.PENDING, updated_at=clock.now())
                    .execution_options(synchronize_session=False)
                )
        except Exception:
            log.exception("could not release rows %s: the sweeper will", waiting)


def touch(rt: Runtime, outbox_ids: list[int]) -> None:
    if not outbox_ids:
        return
    with unit_of_work(rt.session_factory) as session:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(outbox_ids), Outbox.status == OutboxStatus.SENDING)
            .values(updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )


def _renew(rt: Runtime, outbox_ids: list[int]) -> dict[int, int]:
    """Touch the rows still sending; return their attempt numbers by id."""
    with unit_of_work(rt.session_factory) as session:
        return {
            outbox_id: attempts
            for outbox_id, attempts in session.execute(
                update(Outbox)
                .where(Outbox.id.in_(outbox_ids), Outbox.status == OutboxStatus.SENDING)
                .values(updated_at=clock.now())
                .returning(Outbox.id, Outbox.attempts)
                .execution_options(synchronize_session=False)
            ).all()
        }


def pace(
    rt: Runtime,
    outbox_id: int,
    keys_rates: list[tuple[str, float, int]],
    job: Lease | None = None,
) -> None:
    """Wait for the shared send slot, keeping the claimed rows visibly alive meanwhile.

    Under a backlog (an SMS sender at 1 segment/s) the wait can outlast `stale_sending_s`; the
    rows' updated_at is touched every few seconds so the sweeper never mistakes a patient
    worker for a dead one and sends the message a second time. Sends already made are recorded
    before a wait, not after it.

    A single-key limit (WhatsApp, SMS, Meta) takes its slot from the ones this process booked in
    a block (`reserve_pooled`: one Redis round trip for several sends when the rate allows);
    Telegram's pair (overall and per chat) is booked per message, both keys at one instant. A
    slot reached more than MAX_LATE_S late is given up and another booked (REBOOK_MAX times).
    """
    limits = with_headroom(keys_rates)
    for attempt in range(REBOOK_MAX + 1):
        booked_at = time.time()
        if len(limits) == 1:
            key, rate, burst = limits[0]
            delay = rt.limiter.reserve_pooled(key, rate, burst, now=booked_at)
        else:
            delay = rt.limiter.reserve_all(limits, cost=1, now=booked_at)
        deadline = time.monotonic() + delay
        if delay > 0 and job is not None:
            job.flush()
        while (remaining := deadline - time.monotonic()) > 0:
            time.sleep(min(remaining, heartbeat_s(rt)))
            if deadline - time.monotonic() > 0:
                if job is None or not job.is_waiting(outbox_id):
                    # A later part of a long SMS, or a slot booked again: nothing of this part
                    # is sent yet, so touching the row cannot hide a send.
                    touch(rt, [outbox_id])
                if job is not None:
                    job.keep_alive()
        if job is not None:
            job.keep_alive()
            job.started(outbox_id)  # raises LeaseLost if the row is no longer ours
        if time.monotonic() - deadline <= MAX_LATE_S or attempt == REBOOK_MAX:
            return
        log.debug("outbox %s reached its send slot late: booking another", outbox_id)
        if len(limits) > 1:  # a Telegram chat's slot, if nobody booked after it
            rt.limiter.give_back(limits, _slot_us(booked_at, delay))


def _slot_us(booked_at: float, delay: float) -> int:
    """The booked slot's instant in µs, as the limiter computed it from `booked_at` (a wrong
    one would only leave the slot booked: `give_back` undoes nothing it does not recognise)."""
    return math.floor(booked_at * 1_000_000) + round(delay * 1_000_000)
