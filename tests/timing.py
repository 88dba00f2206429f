"""How long the tests are willing to wait, and waiting on a condition instead of a clock.

Why: the suite runs on developer laptops, on 2-core CI runners and next to other jobs; a test
that sleeps a fixed time or gives a process one second to answer passes on a quiet machine and
fails on a busy one. Tests wait for the thing they need (a reply at the emulator, a row sent, a
server answering /healthz) and these deadlines only bound how long a broken test takes to fail,
so they are generous: a wait that succeeds early costs nothing.

- ``WAIT_S`` (env ``BOUTIK_TEST_WAIT_S``, default 30 s): a message, a row, a job, a thread;
- ``START_S`` (env ``BOUTIK_TEST_START_S``, default 120 s): a child process (`boutik serve`,
  gunicorn, `boutik worker`) to import the app and answer, or a drain that includes one.
"""

from __future__ import annotations

import os
import subprocess
import time
from collections.abc import Callable
from typing import TypeVar

import requests

T = TypeVar("T")

WAIT_S = float(os.environ.get("BOUTIK_TEST_WAIT_S", "30"))
START_S = float(os.environ.get("BOUTIK_TEST_START_S", "120"))


def wait_until(predicate: Callable[[], T], timeout: float = WAIT_S, *, interval: float = 0.05) -> T:
    """Poll ``predicate()`` until it is truthy and return its value; TimeoutError otherwise."""
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() >= deadline:
            raise TimeoutError(f"condition not met within {timeout} s")
        time.sleep(interval)


def http_ready(
    url: str, proc: subprocess.Popen[bytes] | None = None, timeout: float = START_S
) -> requests.Response | None:
    """GET ``url`` until the server answers; its response (whatever the status, which the
    caller checks), or None when ``proc`` has exited or the time ran out (the caller then fails
    with the process's log).

    Every requests exception means "not yet": before the port is bound the connection is
    refused; once it is bound (gunicorn binds before its worker has imported the app) the
    request waits in the backlog and may time out on its read.
    """
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            return None
        remaining = deadline - time.monotonic()
        if remaining <= 0:
            return None
        try:
            return requests.get(url, timeout=min(remaining, 10.0))
        except requests.RequestException:
            pass
        time.sleep(0.1)
