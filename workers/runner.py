"""Running the RQ workers.

Why SimpleWorker: RQ's forking Worker pays a fork per job (measured here: ~42 no-op jobs/s, 23 ms
a fork), far below the providers' 80 msg/s; SimpleWorker runs jobs in its own process (~105/s)
and scales out by running more `boutik worker` processes. Jobs are idempotent by outbox id, so a
worker that dies mid-job loses nothing: the job is retried.

How a job gets its Runtime: explicitly, from this bootstrap. RQ stores only the job's ids in
Redis; `RuntimeWorker` is built here with the process's Runtime and hands it to each job it runs
as the first argument (`fn(rt, *ids)`), the same call `InProcessDispatcher` makes. No global, no
thread-local: a job cannot run with a runtime nobody gave it.
"""

from __future__ import annotations

import logging
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.job import Job

from workers.ports import Runtime

QUEUE_NAMES = ("boutik",)


def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def queues(conn: Redis) -> list[Queue]:
    return [Queue(name, connection=conn) for name in QUEUE_NAMES]


class RuntimeJob(Job):
    """An RQ job whose function is called as `fn(runtime, *args, **kwargs)`.

    The runtime is set on the job object by the worker that runs it, never saved to Redis.
    (`_execute` is the one place RQ calls the function; the RQ integration tests fail loudly if
    a new RQ moves it, since every job would then miss its first argument.)
    """

    runtime: Runtime | None = None

    def _execute(self) -> Any:
        if self.runtime is None:
            raise RuntimeError(f"job {self.id} was not given a runtime (run it with RuntimeWorker)")
        if self.func is None:
            raise ValueError("Cannot execute job: function is None")
        return self.func(self.runtime, *self.args, **self.kwargs)


class RuntimeWorker(SimpleWorker):
    """SimpleWorker that runs every job with the Runtime it was built with."""

    def __init__(self, queues: list[Queue], *, runtime: Runtime, **kwargs: Any) -> None:
        super().__init__(queues, job_class=RuntimeJob, **kwargs)
        self.runtime = runtime

    def perform_job(self, job: Job, queue: Queue, execution: Execution) -> bool:
        job.runtime = self.runtime  # type: ignore[attr-defined]  # a RuntimeJob (job_class)
        return super().perform_job(job, queue, execution)


def run_worker(rt: Runtime, *, burst: bool = False) -> bool:
    from workers.outbox import sweep
    from workers.sweeper import Sweeper

    # The Twilio SDK logs every request and response at INFO (eight lines with headers): in a
    # worker sending hundreds a second that is most of its log and a measurable share of its
    # CPU. Errors still surface as SendError, logged by workers.outbox.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    from workers.assistant import warm_up

    warm_up(rt)  # the first support question must not pay the model's cold start
    conn = redis_connection(rt.config.queue.redis_url)
    if burst:
        rt.dispatcher.dispatch(sweep(rt))  # pick up what a lost queue forgot, then drain
    else:
        Sweeper(rt).start()
    worker = RuntimeWorker(queues(conn), connection=conn, runtime=rt)
    return worker.work(burst=burst, with_scheduler=True)
