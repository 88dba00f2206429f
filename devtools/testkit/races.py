"""Run the same action from many threads at once, each in its own transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session

from commerce.errors import CommerceError
from devtools.testkit.db import Db


def race(
    db: Db, calls: list[Callable[[Session], Any]], on_done: Callable[[], None] | None = None
) -> list[Any]:
    """Start every call together behind a barrier; return each result or CommerceError.
    `on_done` runs in each thread once its transaction has committed or rolled back (a
    benchmark times each attempt's resolution with it)."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[Session], Any]) -> Any:
        barrier.wait()
        try:
            with db.uow() as session:
                return call(session)
        except CommerceError as exc:
            return exc
        finally:
            if on_done is not None:
                on_done()

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
