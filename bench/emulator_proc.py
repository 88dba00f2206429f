"""The provider emulators in a process of their own, for every benchmark that needs them.

Why a separate process: in the worker's (or web) process the emulator would take a share of that
process's GIL and memory and make it look slower or bigger than it is; in the benchmark's process
it would do the same to the load generator or the bare SDK loop. Every side talks to this one
server over loopback HTTP, as a worker talks to Twilio and Telegram.

The emulators are the unmodified `create_emulator_app`; this module only adds routes for the
benchmarks (never part of the emulator itself), and indexes the store by recipient because the
store's own lookups scan every message, which grows quadratic over a 30-minute soak:

- ``GET /_bench/count``: ``{"twilio": messages Twilio accepted, "telegram_calls": Bot API calls}``
  (cheap, polled while draining; `bench.outbound_drain`, `bench.scale_out`);
- ``GET /_bench/bodies``: the accepted Twilio bodies, to count duplicates
  (`bench.outbound_drain`, `bench.chaos_notifications`);
- ``GET /_bench/sent``: what was accepted, to match against the outbox one to one: Twilio
  ``[sid, to]`` and Telegram ``[chat, message_id, method]`` (`bench.scale_out`);
- ``POST /_bench/reset``: forget everything between configurations (`bench.scale_out`);
- ``GET /_soak/twilio?to=&after=``, ``/_soak/telegram?chat=&after=``, ``/_soak/summary``: what the
  bot sent one user since their message `after` (a buyer's PIN, a seller's inline buttons, a
  courier's offer) and counts per channel (`bench.soak`).

    python -m bench.emulator_proc       # prints "PORT <n>" then serves until SIGTERM/SIGINT
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import threading
import time
from collections import defaultdict
from pathlib import Path
from typing import IO, Any

import requests
from flask import Blueprint, Flask, jsonify, request

from devtools.emulators import create_emulator_app, serve_in_thread
from devtools.emulators.store import EmulatorStore, TelegramCall, TwilioMessage
from devtools.testkit import processes
from devtools.testkit.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN

ROOT = Path(__file__).resolve().parent.parent
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

    def reset(self) -> None:
        super().reset()
        with self._index_lock:
            self._by_to.clear()
            self._by_chat.clear()
            self.counts.clear()

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


def bench_blueprint(store: IndexedStore) -> Blueprint:
    """The /_bench routes (see the module docstring)."""
    bp = Blueprint("bench_inspect", __name__, url_prefix="/_bench")

    @bp.get("/count")
    def count() -> Any:
        return jsonify(
            {"twilio": len(store.twilio_messages()), "telegram_calls": len(store.telegram_calls())}
        )

    @bp.get("/bodies")
    def bodies() -> Any:
        return jsonify([m.body for m in store.twilio_messages()])

    @bp.get("/sent")
    def sent() -> Any:
        twilio = [[m.sid, m.to] for m in store.twilio_messages()]
        telegram = [
            [str(c.chat_id), str(c.result.get("message_id")), c.method]
            for c in store.telegram_calls()
            if c.ok and c.method.lower().startswith("send") and isinstance(c.result, dict)
        ]
        return jsonify(twilio=twilio, telegram=telegram)

    @bp.post("/reset")
    def reset() -> Any:
        store.reset()
        return jsonify(ok=True)

    return bp


def soak_blueprint(store: IndexedStore) -> Blueprint:
    """The /_soak routes: what the bot sent one simulated user, and counts per channel."""
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
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )
    app.register_blueprint(bench_blueprint(store))
    app.register_blueprint(soak_blueprint(store))
    return app


def serve() -> None:
    """Serve both emulators on a free port of 127.0.0.1 (threaded); print "PORT n"; stop on
    SIGTERM or SIGINT."""
    stop = threading.Event()
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stop.set())
    base_url, shutdown = serve_in_thread(create_app(IndexedStore()))
    print(f"PORT {base_url.rsplit(':', 1)[1]}", flush=True)
    stop.wait()
    shutdown()


def start(stderr: int | IO[Any] | None = None) -> tuple[subprocess.Popen[bytes], str]:
    """Start the emulator process (its own session); return it and its base URL once it answers.
    Stop it with `devtools.testkit.processes.stop` (or `bench.loadgen.stop_process`)."""
    proc = processes.start(
        [sys.executable, "-m", "bench.emulator_proc"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=stderr,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("PORT "):
        processes.stop(proc)
        raise RuntimeError(f"emulator did not start: {line!r}")
    base_url = f"http://127.0.0.1:{int(line.split()[1])}"
    for _ in range(100):
        try:
            requests.get(f"{base_url}/_bench/count", timeout=2)
            return proc, base_url
        except requests.RequestException:
            time.sleep(0.05)
    processes.stop(proc)
    raise RuntimeError("emulator does not answer")


def counts(base_url: str, session: requests.Session | None = None) -> dict[str, int]:
    getter = session or requests
    return dict(getter.get(f"{base_url}/_bench/count", timeout=10).json())


def count(base_url: str, session: requests.Session | None = None) -> int:
    """Messages Twilio accepted."""
    return int(counts(base_url, session)["twilio"])


def bodies(base_url: str) -> list[str]:
    return list(requests.get(f"{base_url}/_bench/bodies", timeout=30).json())


def sent(base_url: str) -> tuple[list[list[str]], list[list[str]]]:
    """(Twilio [sid, to], Telegram [chat, message_id, method]) of every accepted message."""
    data = requests.get(f"{base_url}/_bench/sent", timeout=30).json()
    return data["twilio"], data["telegram"]


def reset(base_url: str) -> None:
    requests.post(f"{base_url}/_bench/reset", timeout=10)


if __name__ == "__main__":
    serve()
