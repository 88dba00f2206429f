"""The development server's request log in simulator mode.

Why not the default log: the Telegram emulator's paths carry the bot token (`/bot<token>/…`),
which must never reach a log, and the page polls every phone every second, which would bury
the lines worth reading (webhooks, errors) under noise.
"""

from __future__ import annotations

import re
from typing import Any

from werkzeug.serving import WSGIRequestHandler

_TOKEN_IN_PATH = re.compile(r"/bot[^/\s]+")
_QUIET_PREFIXES = (
    "/emu/",
    "/webhooks/twilio/status",  # the simulator's own delivery ticks, two or three per message
    # Meta posts its statuses to the message webhook: over HTTP here only the Graph emulator's
    # ticks arrive (the page's own messages go in-process); a refusal is still logged.
    "/webhooks/meta/whatsapp",
    "/simulator/api/messages",
    "/simulator/api/state",
    "/simulator/api/clock",
    "/simulator/static/",
    "/media/",
)


class SimulatorRequestHandler(WSGIRequestHandler):
    """Logs webhooks and simulator actions; skips polling, emulator and asset requests."""

    def log_request(self, code: int | str = "-", size: int | str = "-") -> None:
        path = getattr(self, "path", "") or ""
        if path.startswith(_QUIET_PREFIXES) and str(code).startswith(("2", "3")):
            return
        super().log_request(code, size)

    def log(self, type: str, message: str, *args: Any) -> None:
        text = message % args if args else message
        super().log(type, "%s", _TOKEN_IN_PATH.sub("/bot***", text))
