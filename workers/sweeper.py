"""A background thread that periodically re-dispatches due and abandoned outbox rows."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)


def sweep_once(rt: Runtime) -> None:
    """One pass of every periodic step; a failing step never stops the others."""
    from workers.cash_alerts import sweep_cash
    from workers.media_fetch import sweep_return_photos
    from workers.offers import sweep_offers
    from workers.outbox import sweep
    from workers.seller_media import sweep_photos

    def outbox() -> None:
        ids = sweep(rt)
        if ids:
            rt.dispatcher.dispatch(ids)

    steps = (
        ("outbox", outbox),  # due retries and rows a dead worker left "sending"
        ("product photos", lambda: sweep_photos(rt)),  # sellers' Telegram photos to download
        ("return photos", lambda: sweep_return_photos(rt)),  # buyers' return photos
        ("courier offers", lambda: sweep_offers(rt)),  # waves never started or lost
        ("cash alerts", lambda: sweep_cash(rt)),  # couriers over a [ledger] threshold, once
    )
    for name, step in steps:
        try:
            step()
        except Exception:  # keep sweeping through a database or Redis hiccup
            log.exception("%s sweep failed", name)


class Sweeper(threading.Thread):
    def __init__(self, rt: Runtime, *, every_s: float | None = None) -> None:
        super().__init__(name="outbox-sweeper", daemon=True)
        self.rt = rt
        self.every_s = every_s if every_s is not None else rt.config.queue.sweep_every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        while True:
            sweep_once(self.rt)
            if self.stopped.wait(self.every_s):
                return

    def stop(self) -> None:
        self.stopped.set()
