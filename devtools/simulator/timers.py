"""Delayed jobs that follow the simulated clock as well as the wall clock.

Why: the in-process dispatcher runs a delayed job (the next wave of courier offers, an offer
timing out…) on a wall-clock timer. In the simulator, "+1 h" must make those happen now, as an
hour of waiting would. This wrapper keeps every delayed job with its due time on the core's
clock (`commerce.clock`); a clock jump runs the ones now due, and the wall-clock timer still
runs them otherwise. Each job runs at most once, whichever comes first. Production never uses
it.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from commerce import clock

log = logging.getLogger(__name__)


@dataclass
class _Pending:
    due: dt.datetime
    fn: Callable[..., Any]
    args: tuple[Any, ...]
    timer: threading.Timer | None = None


class ClockAwareDispatcher:
    """The in-process dispatcher, with delayed jobs that a clock jump can bring forward."""

    def __init__(self, inner: Any) -> None:
        self.inner = inner
        self._lock = threading.Lock()
        self._ids = itertools.count(1)
        self._pending: dict[int, _Pending] = {}

    def dispatch(self, ids: list[int]) -> None:
        self.inner.dispatch(ids)

    def schedule(self, outbox_id: int, delay_s: float) -> None:
        # Outbox retries carry their due time in the row (`next_attempt_at`, core clock):
        # the sweep after a clock jump finds them; the wall-clock timer stays as it was.
        self.inner.schedule(outbox_id, delay_s)

    def schedule_batch(self, ids: list[int], delay_s: float) -> None:
        self.inner.schedule_batch(ids, delay_s)

    def enqueue(self, fn: Callable[..., Any], *args: Any, delay_s: float = 0.0) -> None:
        if delay_s <= 0:
            self.inner.enqueue(fn, *args)
            return
        key = next(self._ids)
        job = _Pending(clock.now() + dt.timedelta(seconds=delay_s), fn, args)
        job.timer = threading.Timer(delay_s, self._fire, args=(key,))
        job.timer.daemon = True
        with self._lock:
            self._pending[key] = job
        job.timer.start()

    def _fire(self, key: int) -> None:
        with self._lock:
            job = self._pending.pop(key, None)
        if job is not None:
            self.inner.enqueue(job.fn, *job.args)

    def next_due(self) -> dt.datetime | None:
        with self._lock:
            return min((j.due for j in self._pending.values()), default=None)

    def run_due(self) -> int:
        """Run now every delayed job whose time has come on the core's clock."""
        now = clock.now()
        with self._lock:
            due = sorted(
                ((k, j) for k, j in self._pending.items() if j.due <= now), key=lambda kj: kj[1].due
            )
            for key, _ in due:
                del self._pending[key]
        for _, job in due:
            if job.timer is not None:
                job.timer.cancel()
            self._run_now(job)
        return len(due)

    def _run_now(self, job: _Pending) -> None:
        """Synchronously, so a job it schedules for later is seen by the same clock jump."""
        try:
            job.fn(self.inner.rt, *job.args)  # as the in-process dispatcher calls it
        except Exception:
            log.exception("delayed job %s%r failed", getattr(job.fn, "__name__", job.fn), job.args)

    def pending(self) -> int:
        with self._lock:
            return len(self._pending)

    def shutdown(self) -> None:
        with self._lock:
            jobs, self._pending = list(self._pending.values()), {}
        for job in jobs:
            if job.timer is not None:
                job.timer.cancel()
        self.inner.shutdown()
