"""Child processes for tests (`boutik serve`, `boutik worker`, gunicorn), killed as a group.

An RQ worker started with the scheduler runs it in a child process; killing only the worker
(SIGKILL, as the crash tests do) would leave that child running against Redis and the database
after the test. Each process gets its own session, and every signal goes to the whole group.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from typing import Any


def start(args: list[str], **kwargs: Any) -> subprocess.Popen[bytes]:
    return subprocess.Popen(args, start_new_session=True, **kwargs)


def kill_group(proc: subprocess.Popen[bytes], sig: int = signal.SIGKILL) -> None:
    with contextlib.suppress(ProcessLookupError):
        os.killpg(proc.pid, sig)


def stop(proc: subprocess.Popen[bytes], *, timeout: float = 10.0) -> None:
    """SIGTERM the group, wait, then SIGKILL whatever is left of it."""
    kill_group(proc, signal.SIGTERM)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
    kill_group(proc, signal.SIGKILL)
    with contextlib.suppress(subprocess.TimeoutExpired):
        proc.wait(timeout=timeout)
