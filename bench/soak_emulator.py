"""The provider emulators in a process of their own, for the soak (`bench/soak.py`).

Why a separate process: the soak measures the web and queue processes as production runs them,
so the fake Twilio and Telegram must not share their memory or their GIL with the load
generator. The emulators are the unmodified `create_emulator_app`; this module only adds a
read-only `/_soak/…` view so the simulated users can read what the bot sent them (a buyer's
PIN, a seller's inline buttons, a courier's offer), and indexes the store by recipient because
the store's own lookups scan every message, which grows quadratic over 30 minutes of traffic.

Secrets come from the environment, like the processes that call it (TWILIO_ACCOUNT_SID,
TWILIO_AUTH_TOKEN, TELEGRAM_BOT_TOKEN). The first line printed is the base URL.

    .venv/bin/python -m bench.soak_emulator
"""

from __future__ import annotations

import json
import os
import signal
import threading
from collections import defaultdict
from typing import Any

from flask import Blueprint, Flask, jsonify, request

from channels_adapters.emulators import create_emulator_app, serve_in_thread
from channels_adapters.emulators.store import EmulatorStore, TelegramCall, TwilioMessage

TELEGRAM_SENDS = frozenset({"sendmessage", "sendphoto", "senddocument"})


def callbacks_of(params: dict[str, Any]) -> list[str]:
    """The callback_data of every inline button of one Bot API call."""
    markup = params.get("reply_markup") or {}
    if isinstance(markup, str):
        try:
            markup = json.loads(markup)
        except json.JSONDecodeError:
            return []
    rows = markup.get("inline_keyboard", []) if isinstance(markup, dict) else []
    return [str(b.get("callback_data", "")) for row in rows for b in row if b.get("callback_data")]


class IndexedStore(EmulatorStore):
    """The emulator store, plus per-recipient lists appended as messages are recorded."""

    def __init__(self) -> None:
        super().__init__()
        self._by_to: dict[str, list[TwilioMessage]] = defaultdict(list)
        self._by_chat: dict[str, list[TelegramCall]] = defaultdict(list)
        self.counts: dict[str, int] = defaultdict(int)
        self._index_lock = threading.Lock()

    def record_twilio(self, message: TwilioMessage) -> None:
        super().record_twilio(message)
        with self._index_lock:
            self._by_to[message.to].append(message)
            self.counts[message.channel] += 1
            self.counts[f"{message.channel}_segments"] += message.num_segments

    def record_twilio_rejection(self, to: str | None, status: int, code: int, message: str) -> None:
        super().record_twilio_rejection(to, status, code, message)
        with self._index_lock:
            self.counts["twilio_rejected"] += 1

    def record_telegram_call(self, call: TelegramCall) -> None:
        super().record_telegram_call(call)
        if call.method.lower() not in TELEGRAM_SENDS:
            return
        with self._index_lock:
            if call.ok:
                self._by_chat[str(call.chat_id)].append(call)
                self.counts["telegram"] += 1
            else:
                self.counts["telegram_rejected"] += 1

    def twilio_to(self, to: str, after: int) -> list[TwilioMessage]:
        with self._index_lock:
            return list(self._by_to.get(to, [])[after:])

    def telegram_to(self, chat: str, after: int) -> list[TelegramCall]:
        with self._index_lock:
            return list(self._by_chat.get(chat, [])[after:])

    def snapshot(self) -> dict[str, int]:
        with self._index_lock:
            return dict(self.counts)


def inspect_blueprint(store: IndexedStore) -> Blueprint:
    """Read-only JSON views for the load generator; never part of any production app."""
    bp = Blueprint("soak_inspect", __name__, url_prefix="/_soak")

    @bp.get("/twilio")
    def twilio() -> Any:
        found = store.twilio_to(request.args["to"], int(request.args.get("after", 0)))
        return jsonify([{"body": m.body, "media": bool(m.media_urls)} for m in found])

    @bp.get("/telegram")
    def telegram() -> Any:
        found = store.telegram_to(request.args["chat"], int(request.args.get("after", 0)))
        return jsonify(
            [
                {
                    "body": str(c.params.get("text") or c.params.get("caption") or ""),
                    "media": c.method.lower() != "sendmessage",
                    "callbacks": callbacks_of(c.params),
                }
                for c in found
            ]
        )

    @bp.get("/summary")
    def summary() -> Any:
        return jsonify(store.snapshot())

    return bp


def create_app(store: IndexedStore) -> Flask:
    app = create_emulator_app(
        store,
        twilio_account_sid=os.environ["TWILIO_ACCOUNT_SID"],
        twilio_auth_token=os.environ["TWILIO_AUTH_TOKEN"],
        telegram_token=os.environ["TELEGRAM_BOT_TOKEN"],
    )
    app.register_blueprint(inspect_blueprint(store))
    return app


def main() -> None:
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    base_url, shutdown = serve_in_thread(create_app(IndexedStore()))
    print(base_url, flush=True)
    stop.wait()
    shutdown()


if __name__ == "__main__":
    main()
