"""Handing outbox ids to whatever runs the jobs: RQ with Redis, or threads in-process.

The same `workers.outbox.deliver` runs either way. With `[queue] redis_url` empty (the
embedded default), a small thread pool in the web process sends after commit — `make run`
needs no Redis. Dispatch never fails a webhook: if Redis is unreachable the row stays pending
and the sweeper hands it over later.
"""

from __future__ import annotations

import datetime as dt
import logging
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import TYPE_CHECKING, Any, Protocol, TypeVar

from redis import Redis
from redis.exceptions import RedisError
from rq import Queue, Retry

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)
QUEUE = "boutik"
# Jobs that may take seconds (a model call, a chart, an export) wait on a queue of their own, so
# a worker busy with one never holds up the outbox sends queued behind it (issue 18: one
# `boutik worker` answering a 10 s model question left the other buyers' replies waiting).
SLOW_QUEUE = "boutik-slow"
_SLOW_MARK = "_boutik_slow_job"
F = TypeVar("F", bound=Callable[..., Any])


def slow_job(fn: F) -> F:
    """Mark a job function as slow: RQ runs it from SLOW_QUEUE (`workers.runner`)."""
    setattr(fn, _SLOW_MARK, True)
    return fn


def is_slow(fn: Callable[..., Any]) -> bool:
    return bool(getattr(fn, _SLOW_MARK, False))


# One job sends up to this many rows, a recipient's rows in order (a turn's replies arrive in
# the order written). Each job claims its rows in one transaction and records them in a few, so
# a backlog drains faster in larger batches (bench/outbound_drain.py: 50 rather than 20).
BATCH = 50


def batches(ids: list[int]) -> list[list[int]]:
    return [ids[i : i + BATCH] for i in range(0, len(ids), BATCH)]


class Dispatcher(Protocol):
    def dispatch(self, ids: list[int]) -> None: ...
    def schedule(self, outbox_id: int, delay_s: float) -> None: ...
    def schedule_batch(self, ids: list[int], delay_s: float) -> None:
        """Send `ids` after `delay_s`, one after the other in this order (one job)."""
        ...

    def enqueue(self, fn: Callable[..., Any], *args: Any, delay_s: float = 0.0) -> None:
        """Run `fn(rt, *args)` later: `fn` a module-level job function, `args` ids only.

        Whoever runs it passes its own Runtime first (`InProcessDispatcher` its `rt`, RQ's
        `workers.runner.RuntimeWorker` the worker's), so a job never looks one up.
        """
        ...


class InProcessDispatcher:
    def __init__(self, rt: Runtime, *, threads: int = 4, slow_threads: int = 2) -> None:
        self.rt = rt
        self.pool = ThreadPoolExecutor(max_workers=threads, thread_name_prefix="outbox")
        # Slow jobs get their own threads, as they get their own queue under RQ: four buyers'
        # questions to a slow model must not take every thread the outbox sends with.
        self.slow_pool = ThreadPoolExecutor(max_workers=slow_threads, thread_name_prefix="slow")

    def _run(self, outbox_id: int) -> None:
        from workers.outbox import deliver

        try:
            deliver(self.rt, outbox_id)
        except Exception:  # the sweeper retries; one bad row must not kill the pool
            log.exception("in-process delivery of outbox %s failed", outbox_id)

    def _run_batch(self, ids: list[int]) -> None:
        for outbox_id in ids:
            self._run(outbox_id)

    def dispatch(self, ids: list[int]) -> None:
        for batch in batches(ids):
            self.pool.submit(self._run_batch, batch)

    def _dispatch_quietly(self, ids: list[int]) -> None:
        try:
            self.dispatch(ids)
        except RuntimeError:  # shut down meanwhile: the row stays pending for the sweeper
            log.info("in-process retry dropped at shutdown")

    def schedule(self, outbox_id: int, delay_s: float) -> None:
        self.schedule_batch([outbox_id], delay_s)

    def schedule_batch(self, ids: list[int], delay_s: float) -> None:
        timer = threading.Timer(max(0.0, delay_s), self._dispatch_quietly, args=(list(ids),))
        timer.daemon = True
        timer.start()

    def enqueue(self, fn: Callable[..., Any], *args: Any, delay_s: float = 0.0) -> None:
        """Run `fn(self.rt, *args)` here, now or after `delay_s`."""

        def run() -> None:
            try:
                fn(self.rt, *args)
            except Exception:
                log.exception("in-process job %s%r failed", fn.__name__, args)

        pool = self.slow_pool if is_slow(fn) else self.pool
        if delay_s > 0:
            timer = threading.Timer(delay_s, self._submit, args=(pool, run))
            timer.daemon = True
            timer.start()
        else:
            self._submit(pool, run)

    def _submit(self, pool: ThreadPoolExecutor, run: Callable[[], None]) -> None:
        try:
            pool.submit(run)
        except RuntimeError:  # shut down meanwhile: the sweeper or the next start picks it up
            log.info("in-process job dropped at shutdown")

    def shutdown(self) -> None:
        self.slow_pool.shutdown(wait=True)
        self.pool.shutdown(wait=True)


class RQDispatcher:
    def __init__(self, redis_url: str) -> None:
        self.conn = Redis.from_url(redis_url, socket_timeout=5, socket_connect_timeout=2)
        self.queue = Queue(QUEUE, connection=self.conn)
        self.slow_queue = Queue(SLOW_QUEUE, connection=self.conn)

    def dispatch(self, ids: list[int]) -> None:
        """Queue the rows' jobs in one Redis round trip.

        Why a pipeline: left to itself RQ sends two (the queue-set SADD, then the job and its
        push), and a web turn waits for both (bench/turn_cpu.py). All or nothing is as before:
        a job that did not reach Redis leaves its rows pending for the sweeper.
        """
        from workers.jobs import deliver_outbox_batch

        if not ids:
            return
        pipe = self.conn.pipeline()
        chunks = batches(ids)
        try:
            # RQ talks to Redis while it builds the pipeline too, so an unreachable Redis can
            # raise here as well as at execute(): neither may fail the turn.
            for batch in chunks:
                self.queue.enqueue(
                    deliver_outbox_batch,
                    batch,
                    retry=Retry(max=3, interval=[5, 30, 120]),
                    result_ttl=0,
                    failure_ttl=7 * 24 * 3600,
                    description=f"outbox {batch[0]}..{batch[-1]}",
                    pipeline=pipe,
                )
            pipe.execute()
        except RedisError as exc:
            log.warning("enqueue of outbox %s failed (%s): the sweeper will retry", chunks, exc)
        finally:
            pipe.reset()

    def enqueue(self, fn: Callable[..., Any], *args: Any, delay_s: float = 0.0) -> None:
        """Queue a module-level job function (ids only), now or after `delay_s` (RQ scheduler).

        A `slow_job` goes to SLOW_QUEUE, everything else beside the outbox sends.
        """
        queue = self.slow_queue if is_slow(fn) else self.queue
        try:
            if delay_s > 0:
                queue.enqueue_in(dt.timedelta(seconds=delay_s), fn, *args, result_ttl=0)
            else:
                queue.enqueue(fn, *args, result_ttl=0)
        except RedisError as exc:
            log.warning("enqueue of %s%r failed: %s", fn.__name__, args, exc)
            raise

    def schedule(self, outbox_id: int, delay_s: float) -> None:
        from workers.jobs import deliver_outbox

        try:
            self.queue.enqueue_in(
                dt.timedelta(seconds=max(1.0, delay_s)), deliver_outbox, outbox_id
            )
        except RedisError as exc:
            log.warning("scheduling outbox %s failed (%s): the sweeper will retry", outbox_id, exc)

    def schedule_batch(self, ids: list[int], delay_s: float) -> None:
        from workers.jobs import deliver_outbox_batch

        try:
            self.queue.enqueue_in(
                dt.timedelta(seconds=max(1.0, delay_s)),
                deliver_outbox_batch,
                list(ids),
                result_ttl=0,
                description=f"outbox {ids[0]}..{ids[-1]} (in order, after a failed send)",
            )
        except RedisError as exc:
            log.warning("scheduling outbox %s failed (%s): the sweeper will retry", ids, exc)
