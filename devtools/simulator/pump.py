"""Delivery ticks: Twilio's status callbacks and Meta's status webhooks, played back to the
real status routes.

Why a pump: Twilio reports what became of each message later, by POSTing `sent`, then
`delivered` (then `read` on WhatsApp) to the message's StatusCallback — and the outbox records
those states. Here every message the emulator accepted gets them, signed with the account's
auth token by the emulator store (`post_status_callback`), so the production status route and
its signature check are what move the ticks on the page. `read` is sent only once the phone
showing the message has been looked at.

Meta's Graph emulator makes the first status itself, as Meta does (``sent``, or ``failed``
131047 outside the window); the pump then advances ``delivered`` and ``read`` with
`advance_meta_status`, which the emulator signs with the app secret (``X-Hub-Signature-256``)
and posts to ``/webhooks/meta/whatsapp`` — the production route moves the outbox row.
"""

from __future__ import annotations

import logging
import threading
import time
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devtools.simulator.routes import Simulator

log = logging.getLogger(__name__)

SENT_AFTER_S = 0.4
DELIVERED_AFTER_S = 0.8
TICK_S = 0.25


class StatusPump(threading.Thread):
    def __init__(self, sim: Simulator, *, tick_s: float = TICK_S) -> None:
        super().__init__(name="simulator-status-pump", daemon=True)
        self.sim = sim
        self.tick_s = tick_s
        self.stopped = threading.Event()
        self._first_seen: dict[str, float] = {}
        self._status_at: dict[str, float] = {}
        self._to_read: set[str] = set()
        self._lock = threading.Lock()

    def mark_read(self, sids: list[str]) -> None:
        """The page displayed these WhatsApp messages: tick them blue on the next round."""
        with self._lock:
            self._to_read.update(sids)

    def _post(self, sid: str, status: str) -> None:
        token = self.sim.rt.config.secrets.twilio_auth_token
        try:
            code = self.sim.store.post_status_callback(sid, status, auth_token=token)
        except Exception as exc:  # the server may be shutting down; the next round retries
            log.info("status callback %s for %s not delivered: %s", status, sid, exc)
            return
        if code >= 300:
            log.warning("status callback %s for %s answered %s", status, sid, code)
        self._status_at[sid] = time.monotonic()

    def _post_meta(self, wamid: str, status: str) -> None:
        try:
            # Queued on the emulator's one delivery thread, in order; it keeps the answers
            # (store.meta_deliveries), so this round does not wait for the route.
            self.sim.store.advance_meta_status(wamid, status, wait=False)
        except (KeyError, ValueError) as exc:
            log.info("status %s for %s not made: %s", status, wamid, exc)
            return
        self._status_at[wamid] = time.monotonic()

    def _meta_round(self, now: float, to_read: set[str]) -> None:
        for message in self.sim.store.meta_messages():
            wamid = message.id
            first = self._first_seen.setdefault(wamid, now)
            since = now - self._status_at.get(wamid, first)
            if message.status == "sent" and since >= DELIVERED_AFTER_S:
                self._post_meta(wamid, "delivered")
            elif message.status == "delivered" and wamid in to_read:
                self._post_meta(wamid, "read")

    def run_once(self) -> None:
        now = time.monotonic()
        with self._lock:
            to_read, self._to_read = self._to_read, set()
        self._meta_round(now, to_read)
        for message in self.sim.store.twilio_messages():
            if not message.status_callback:
                continue
            sid = message.sid
            first = self._first_seen.setdefault(sid, now)
            since = now - self._status_at.get(sid, first)
            if message.status in ("queued", "accepted") and now - first >= SENT_AFTER_S:
                self._post(sid, "sent")
            elif message.status == "sent" and since >= DELIVERED_AFTER_S:
                self._post(sid, "delivered")
            elif message.status == "delivered" and sid in to_read and message.channel == "whatsapp":
                self._post(sid, "read")
        self.sim.journal.sync_all()

    def run(self) -> None:
        while not self.stopped.wait(self.tick_s):
            try:
                self.run_once()
            except Exception:  # one bad round must not stop the ticks for good
                log.exception("simulator status pump round failed")

    def stop(self) -> None:
        self.stopped.set()
