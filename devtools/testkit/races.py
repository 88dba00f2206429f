"""Run the same action from many threads at once, each in its own transaction."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from sqlalchemy.orm import Session

from commerce.errors import CommerceError
from devtools.testkit.db import Db


def race(db: Db, calls: list[Callable[[Session], Any]]) -> list[Any]:
    """Start every call together behind a barrier; return each result or CommerceError."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[Session], Any]) -> Any:
        barrier.wait()
        try:
            with db.uow() as session:
                return call(session)
        except CommerceError as exc:
            return exc

    with ThreadPoolExecutor(max_workers=len(calls)) as pool:
        return list(pool.map(run, calls))
