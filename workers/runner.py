"""Running the RQ workers.

Why SimpleWorker: RQ's forking Worker pays a fork per job (measured here: ~42 no-op jobs/s, 23 ms
a fork), far below the providers' 80 msg/s; SimpleWorker runs jobs in its own process (~105/s)
and scales out by running more `boutik worker` processes. Jobs are idempotent by outbox id, so a
worker that dies mid-job loses nothing: the job is retried.
"""

from __future__ import annotations

import logging

from redis import Redis
from rq import Queue, SimpleWorker

from boutik.runtime import Runtime

QUEUE_NAMES = ("boutik",)


def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def queues(conn: Redis) -> list[Queue]:
    return [Queue(name, connection=conn) for name in QUEUE_NAMES]


def run_worker(rt: Runtime, *, burst: bool = False) -> bool:
    from workers import context
    from workers.outbox import sweep
    from workers.sweeper import Sweeper

    context.install(rt)
    # The Twilio SDK logs every request and response at INFO (eight lines with headers): in a
    # worker sending hundreds a second that is most of its log and a measurable share of its
    # CPU. Errors still surface as SendError, logged by workers.outbox.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    conn = redis_connection(rt.config.queue.redis_url)
    if burst:
        rt.dispatcher.dispatch(sweep(rt))  # pick up what a lost queue forgot, then drain
    else:
        Sweeper(rt).start()
    worker = SimpleWorker(queues(conn), connection=conn)
    return worker.work(burst=burst, with_scheduler=True)
