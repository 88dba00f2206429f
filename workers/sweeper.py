"""A background thread that periodically re-dispatches due and abandoned outbox rows."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from rq import Queue

    from workers.ports import Runtime

log = logging.getLogger(__name__)

# Jobs of the outbox queue read to learn which rows are still waiting in it (`still_queued`):
# 2 000 jobs are 100 000 rows in batches of 50. Rows behind them are queued again, as before.
QUEUED_JOBS_READ = 2000


def still_queued(queue: Queue, *, max_jobs: int = QUEUED_JOBS_READ) -> set[int]:
    """The outbox ids named by the delivery jobs waiting in `queue` (its first `max_jobs`).

    Why: a pending row is due as soon as it is written, and the web queues its job at once; under
    a backlog that job may still be waiting when the sweeper runs, and queuing the row again
    gives the worker a second job that only finds it claimed or sent. A row is left out only
    when a job waiting in the queue names it: a job that is lost (Redis restarted without its
    data), deleted or already running is not there, and its rows are queued again.
    """
    from rq.job import Job

    from workers.jobs import deliver_outbox, deliver_outbox_batch

    batch_name = f"{deliver_outbox_batch.__module__}.{deliver_outbox_batch.__name__}"
    single_name = f"{deliver_outbox.__module__}.{deliver_outbox.__name__}"
    ids: set[int] = set()
    job_ids = queue.get_job_ids(0, max_jobs)
    for job in Job.fetch_many(job_ids, connection=queue.connection, serializer=queue.serializer):
        if job is None:
            continue
        try:
            if job.func_name == batch_name:
                ids.update(int(i) for i in job.args[0])
            elif job.func_name == single_name:
                ids.add(int(job.args[0]))
        except Exception:  # a job RQ cannot read back: its rows are simply queued again
            log.debug("could not read job %s", job.id, exc_info=True)
    return ids


def not_queued(rt: Runtime, ids: list[int]) -> list[int]:
    """`ids` without the rows a waiting job already names (RQ only; in-process, all of them)."""
    from workers.dispatch import RQDispatcher

    if not ids or not isinstance(rt.dispatcher, RQDispatcher):
        return ids
    queued = still_queued(rt.dispatcher.queue)
    return [i for i in ids if i not in queued]


def sweep_once(rt: Runtime) -> None:
    """One pass of every periodic step; a failing step never stops the others."""
    from workers.cash_alerts import sweep_cash
    from workers.media_fetch import sweep_return_photos
    from workers.offers import sweep_offers
    from workers.outbox import sweep
    from workers.seller_media import sweep_photos

    def outbox() -> None:
        ids = not_queued(rt, sweep(rt))  # due retries, rows left "sending", lost jobs' rows
        if ids:
            rt.dispatcher.dispatch(ids)

    steps = (
        ("outbox", outbox),  # due retries and rows a dead worker left "sending"
        ("product photos", lambda: sweep_photos(rt)),  # sellers' Telegram photos to download
        ("return photos", lambda: sweep_return_photos(rt)),  # buyers' return photos
        ("courier offers", lambda: sweep_offers(rt)),  # waves never started or lost
        ("cash alerts", lambda: sweep_cash(rt)),  # couriers over a [ledger] threshold, once
    )
    for name, step in steps:
        try:
            step()
        except Exception:  # keep sweeping through a database or Redis hiccup
            log.exception("%s sweep failed", name)


class Sweeper(threading.Thread):
    def __init__(self, rt: Runtime, *, every_s: float | None = None) -> None:
        super().__init__(name="outbox-sweeper", daemon=True)
        self.rt = rt
        self.every_s = every_s if every_s is not None else rt.config.queue.sweep_every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            sweep_once(self.rt)
            if self.stopped.wait(self.every_s):
                return

    def stop(self) -> None:
        self.stopped.set()
