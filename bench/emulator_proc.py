"""The provider emulators in a process of their own, for the outbound benchmarks.

Why a separate process: in the worker's process the emulator would take a share of that
process's GIL and make the worker look slower than it is; in the benchmark's process it would
do the same to the bare SDK loop. Both sides talk to this one server over loopback HTTP, as a
worker talks to Twilio.

Two read-only routes are added for the benchmarks (never part of the emulator itself):
``GET /_bench/count`` (messages Twilio accepted) and ``GET /_bench/bodies`` (their bodies, to
count duplicates).

    python -m bench.emulator_proc       # prints "PORT <n>" then serves until killed
"""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import requests
from flask import jsonify
from werkzeug.serving import make_server

from channels_adapters.emulators import create_emulator_app
from channels_adapters.emulators.store import EmulatorStore
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN

ROOT = Path(__file__).resolve().parent.parent


def serve() -> None:
    """Serve both emulators on a free port of 127.0.0.1 (threaded, like `serve_in_thread`)."""
    from channels_adapters.emulators import _QuietHandler

    store = EmulatorStore()
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )

    @app.get("/_bench/count")
    def count():  # type: ignore[no-untyped-def]
        return jsonify({"twilio": len(store.twilio_messages())})

    @app.get("/_bench/bodies")
    def bodies():  # type: ignore[no-untyped-def]
        return jsonify([m.body for m in store.twilio_messages()])

    server = make_server("127.0.0.1", 0, app, threaded=True, request_handler=_QuietHandler)
    print(f"PORT {server.server_port}", flush=True)
    server.serve_forever()


def start() -> tuple[subprocess.Popen[bytes], str]:
    """Start the emulator process; return it and its base URL once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", "bench.emulator_proc"],
        cwd=ROOT,
        stdout=subprocess.PIPE,
        start_new_session=True,
    )
    assert proc.stdout is not None
    line = proc.stdout.readline().decode().strip()
    if not line.startswith("PORT "):
        proc.kill()
        raise RuntimeError(f"emulator did not start: {line!r}")
    base_url = f"http://127.0.0.1:{int(line.split()[1])}"
    for _ in range(100):
        try:
            requests.get(f"{base_url}/_bench/count", timeout=2)
            return proc, base_url
        except requests.RequestException:
            time.sleep(0.05)
    proc.kill()
    raise RuntimeError("emulator does not answer")


def count(base_url: str, session: requests.Session | None = None) -> int:
    getter = session or requests
    return int(getter.get(f"{base_url}/_bench/count", timeout=10).json()["twilio"])


def bodies(base_url: str) -> list[str]:
    return list(requests.get(f"{base_url}/_bench/bodies", timeout=30).json())


if __name__ == "__main__":
    serve()
