"""A background thread that periodically re-dispatches due and abandoned outbox rows."""

from __future__ import annotations

import logging
import threading
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from boutik.runtime import Runtime

log = logging.getLogger(__name__)


class Sweeper(threading.Thread):
    def __init__(self, rt: Runtime, *, every_s: float | None = None) -> None:
        super().__init__(name="outbox-sweeper", daemon=True)
        self.rt = rt
        self.every_s = every_s if every_s is not None else rt.config.queue.sweep_every_s
        self.stopped = threading.Event()

    def run(self) -> None:
        from workers.outbox import sweep

        while True:
            try:
                ids = sweep(self.rt)
                if ids:
                    self.rt.dispatcher.dispatch(ids)
            except Exception:  # keep sweeping through a database or Redis hiccup
                log.exception("outbox sweep failed")
            try:
                from workers.seller_media import sweep_photos

                sweep_photos(self.rt)  # sellers' Telegram photos still to download
            except Exception:
                log.exception("photo sweep failed")
            if self.stopped.wait(self.every_s):
                return

    def stop(self) -> None:
        self.stopped.set()
