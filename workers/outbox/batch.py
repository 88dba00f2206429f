"""Delivering a batch of outbox rows: claim them, send each recipient's rows in order, record.

Why it exists: it is the job's body, the one place that strings the other parts together —
claim and plan (rows, routing), send (providers), hold and record (lease), retry or fail
(rows) — and sends to several recipients at once while keeping each one's messages in order.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from concurrent.futures import ThreadPoolExecutor, wait
from typing import TYPE_CHECKING

from channels_adapters.senders import SendError
from commerce import clock
from commerce.phones import mask_phone
from commerce.users.models import Channel
from workers.outbox import providers
from workers.outbox.lease import Lease, LeaseLost, db_retry
from workers.outbox.plan import Plan
from workers.outbox.rows import claim_batch, fail

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger("workers.outbox")


def deliver(rt: Runtime, outbox_id: int) -> str:
    """Send one outbox row. Returns what happened: sent, retry, failed, or skipped."""
    return deliver_batch(rt, [outbox_id])[0]


# Conversations one worker process sends to at the same time. A send is mostly waiting for
# the provider (a loopback emulator answers in ~2 ms, api.twilio.com in 100–300 ms), so one
# process sending one message at a time stays far below a WhatsApp sender's 80 msg/s; the
# shared Redis limiter, not this number, is what keeps the rate under the provider's limit.
# Rows for one recipient are never split across threads: they go in order, one after another.
SEND_THREADS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _send_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="outbox-send")
        return _pool


def _conversations(outbox_ids: list[int], plans: dict[int, Plan]) -> list[list[Plan]]:
    """The claimed rows grouped by recipient, each group in the order given."""
    groups: dict[tuple[str, str], list[Plan]] = {}
    for outbox_id in outbox_ids:
        plan = plans.get(outbox_id)
        if plan is not None:
            groups.setdefault((str(plan.channel), plan.address), []).append(plan)
    return list(groups.values())


def deliver_batch(rt: Runtime, outbox_ids: list[int]) -> list[str]:
    """Send a batch of rows; one outcome per row (sent, retry, failed or skipped).

    The rows are claimed together and their sends recorded together (every FLUSH_ROWS rows or
    FLUSH_S seconds, and before any wait for a send slot), so a batch costs a few database
    round trips instead of several per row. Rows to one recipient go one after the other in
    the order given — a turn's replies arrive in the order they were written — while up to
    SEND_THREADS recipients are sent to at the same time.
    """
    plans = db_retry(lambda: claim_batch(rt, outbox_ids))
    job = Lease(rt, {i: plans[i].attempt for i in outbox_ids if i in plans})
    outcomes: dict[int, str] = {}
    groups = _conversations(outbox_ids, plans)
    try:
        if SEND_THREADS <= 1 or len(groups) <= 1:
            for group in groups:
                outcomes.update(_send_group(rt, job, group))
        else:
            futures = [_send_pool().submit(_send_group, rt, job, group) for group in groups]
            try:
                for future in futures:
                    outcomes.update(future.result())
            except BaseException:
                job.stopping = True  # the other threads finish the send they are in, then stop
                wait(futures)
                raise
        job.flush()
    except BaseException:
        job.abandon()
        raise
    return [outcomes.get(i, "skipped") for i in outbox_ids]


def _send_group(rt: Runtime, job: Lease, group: list[Plan]) -> dict[int, str]:
    """Send one recipient's rows in order (runs on a pool thread, or inline)."""
    outcomes: dict[int, str] = {}
    for index, plan in enumerate(group):
        if job.stopping:
            break
        job.keep_alive()
        if not job.owns(plan.outbox_id):
            outcomes[plan.outbox_id] = "skipped"  # taken back while we waited: not ours now
            continue
        try:
            result = providers.send(rt, plan, job)
        except LeaseLost:
            outcomes[plan.outbox_id] = "skipped"
            continue
        except SendError as err:
            job.forget(plan.outbox_id)
            job.flush()
            later = [p.outbox_id for p in group[index + 1 :]]
            outcome, deferred = _failed(rt, job, plan, err, later)
            outcomes[plan.outbox_id] = outcome
            if deferred:
                # Her later messages wait behind the one that failed and go with its retry, in
                # order: a turn's replies never arrive out of the order they were written.
                outcomes.update(dict.fromkeys(deferred, "retry"))
                break
            continue
        job.sent(plan, result)
        outcomes[plan.outbox_id] = "sent"
    return outcomes


def _failed(
    rt: Runtime, job: Lease, plan: Plan, err: SendError, later: list[int]
) -> tuple[str, list[int]]:
    """Record a failed send; on a retry, the recipient's `later` rows of this batch are given
    back behind it and the retry sends them all, in order, as one job. Returns the outcome
    and the rows deferred with it."""
    delay = db_retry(lambda: fail(rt, plan, err))
    where = mask_phone(plan.address) if plan.channel != Channel.TELEGRAM else "tg"
    if delay is None:
        log.warning("outbox %s to %s failed for good: %s", plan.outbox_id, where, err.code)
        return "failed", []  # it will never arrive: the ones after it need not wait
    log.info("outbox %s to %s retry in %.0fs: %s", plan.outbox_id, where, delay, err.code)
    until = clock.now() + dt.timedelta(seconds=delay)
    deferred = db_retry(lambda: job.defer(later, until)) if later else []
    if deferred:
        rt.dispatcher.schedule_batch([plan.outbox_id, *deferred], delay)
    else:
        rt.dispatcher.schedule(plan.outbox_id, delay)
    return "retry", deferred
