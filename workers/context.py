"""The Runtime a job runs with.

RQ jobs take ids only and find their runtime here: the worker process installs its own
(`install`), or one is built from config on first use. Jobs run in-process (no Redis) or by a
test run inside `using(rt)`, so a job always talks to the database of the server that queued it,
even when one process holds several runtimes (tests).
"""

from __future__ import annotations

import contextlib
import threading
from collections.abc import Iterator
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boutik.runtime import Runtime

_runtime: Runtime | None = None
_local = threading.local()


def install(rt: Runtime | None) -> None:
    global _runtime
    _runtime = rt


@contextlib.contextmanager
def using(rt: Runtime) -> Iterator[Runtime]:
    """Within this block (this thread), jobs use `rt`."""
    previous = getattr(_local, "runtime", None)
    _local.runtime = rt
    try:
        yield rt
    finally:
        _local.runtime = previous


def runtime() -> Runtime:
    global _runtime
    local = getattr(_local, "runtime", None)
    if local is not None:
        return local
    if _runtime is None:
        from boutik.config import get_config
        from boutik.runtime import Runtime

        _runtime = Runtime(get_config())
    return _runtime
