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
import os
import signal
import subprocess
import sys
import threading
from collections.abc import Sequence
from typing import Any

from redis import Redis
from rq import Queue, SimpleWorker
from rq.executions import Execution
from rq.job import Job

from workers.dispatch import QUEUE, SLOW_QUEUE
from workers.ports import Runtime

log = logging.getLogger(__name__)
QUEUE_NAMES = (QUEUE, SLOW_QUEUE)
# `boutik worker --queue …`: which queues one process serves.
QUEUE_CHOICES = {"all": QUEUE_NAMES, "fast": (QUEUE,), "slow": (SLOW_QUEUE,)}
# Set in the slow-queue child's environment: the pid it serves, so it stops when that one dies.
PARENT_ENV = "BOUTIK_WORKER_PARENT"


def redis_connection(url: str) -> Redis:
    return Redis.from_url(url)


def queues(conn: Redis, names: Sequence[str] = QUEUE_NAMES) -> list[Queue]:
    return [Queue(name, connection=conn) for name in names]


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


class SlowQueueChild:
    """The `boutik worker --queue slow` process a default `boutik worker` runs beside itself.

    Why a process and not a thread: an RQ worker installs signal handlers, which only the main
    thread may do, and a model call of 30 s must not share a process's one job slot with the
    outbox sends (issue 18). The child is restarted if it dies, and it stops by itself if
    this process dies first (PARENT_ENV), so a SIGKILLed worker leaves no orphan behind.
    """

    def __init__(self) -> None:
        self.process: subprocess.Popen[bytes] | None = None
        self.stopping = threading.Event()
        self.thread = threading.Thread(target=self._supervise, name="slow-queue", daemon=True)

    def start(self) -> None:
        self._spawn()
        self.thread.start()

    def _spawn(self) -> None:
        env = {**os.environ, PARENT_ENV: str(os.getpid())}
        command = [sys.executable, "-m", "boutik.cli", "worker", "--queue", "slow"]
        self.process = subprocess.Popen(command, env=env)

    def _supervise(self) -> None:
        while not self.stopping.is_set():
            process = self.process
            if process is None or process.poll() is None:
                self.stopping.wait(1.0)
                continue
            log.warning("slow-queue worker exited (%s): starting another", process.returncode)
            if not self.stopping.wait(2.0):
                self._spawn()

    def stop(self, timeout_s: float = 30.0) -> None:
        self.stopping.set()
        process = self.process
        if process is None or process.poll() is not None:
            return
        process.terminate()  # RQ's warm shutdown: the job in hand finishes
        try:
            process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout_s)


def _stop_with_parent() -> None:
    """In the slow-queue child: a warm shutdown once the worker that started it is gone."""
    parent = int(os.environ.get(PARENT_ENV, "0") or 0)
    if not parent:
        return

    def watch() -> None:
        while os.getppid() == parent:
            threading.Event().wait(2.0)
        log.warning("the worker that started this slow-queue worker is gone: stopping")
        os.kill(os.getpid(), signal.SIGTERM)

    threading.Thread(target=watch, name="parent-watch", daemon=True).start()


def run_worker(rt: Runtime, *, burst: bool = False, queue: str = "all") -> bool:
    """Serve `queue`: "all" (both, the slow one by a child process unless bursting), "fast"
    (the outbox and the short jobs) or "slow" (model calls, charts, exports)."""
    from workers.outbox import sweep
    from workers.sweeper import Sweeper

    # The Twilio SDK logs every request and response at INFO (eight lines with headers): in a
    # worker sending hundreds a second that is most of its log and a measurable share of its
    # CPU. Errors still surface as SendError, logged by workers.outbox.
    logging.getLogger("twilio.http_client").setLevel(logging.WARNING)
    names = QUEUE_CHOICES[queue]
    if SLOW_QUEUE in names:
        from workers.assistant import warm_up

        warm_up(rt)  # the first support question must not pay the model's cold start
    conn = redis_connection(rt.config.queue.redis_url)
    child: SlowQueueChild | None = None
    if queue == "slow":
        _stop_with_parent()
    elif burst:
        rt.dispatcher.dispatch(sweep(rt))  # pick up what a lost queue forgot, then drain
    else:
        Sweeper(rt).start()
        if queue == "all":
            child = SlowQueueChild()
            child.start()
            names = (QUEUE,)
    worker = RuntimeWorker(queues(conn, names), connection=conn, runtime=rt)
    try:
        return worker.work(burst=burst, with_scheduler=True)
    finally:
        if child is not None:
            child.stop()
