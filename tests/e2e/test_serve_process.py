"""From outside: signed provider payloads posted over HTTP to a running `boutik serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests

from tests import processes
from tests.services import Emulator
from tests.support import PG_URL, Db, phone
from tests.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    message_sid,
    telegram_message,
    twilio_signature,
    whatsapp_form,
)

ROOT = Path(__file__).resolve().parents[2]


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def server(pg: Db, emulator: Emulator, tmp_path: Path) -> Iterator[str]:
    emulator.store.reset()
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    overlay = tmp_path / "boutik.toml"
    overlay.write_text(
        f"""
[web]
public_base_url = "{base}"
[twilio]
api_base_url = "{emulator.base_url}"
[telegram]
api_base_url = "{emulator.base_url}/telegram/bot"
[media]
dir = "{tmp_path / "media"}"
"""
    )
    env = {
        **os.environ,
        "BOUTIK_CONFIG": str(overlay),
        "DATABASE_URL": PG_URL,
        "REDIS_URL": "",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
    }
    proc = processes.start(
        [sys.executable, "-m", "boutik.cli", "serve", "--port", str(port)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    try:
        for _ in range(100):
            try:
                if requests.get(f"{base}/healthz", timeout=1).status_code == 200:
                    break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            proc.kill()
            pytest.fail(f"boutik serve did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        yield base
    finally:
        processes.stop(proc)


def _post_wa(base: str, form: dict[str, str], *, token: str = AUTH_TOKEN) -> requests.Response:
    path = "/webhooks/twilio/whatsapp"
    signature = twilio_signature(base + path, form, token)
    return requests.post(
        base + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=10
    )


def test_a_running_server_greets_refuses_forgeries_and_answers_once(
    server: str,
    emulator: Emulator,
) -> None:
    health = requests.get(f"{server}/healthz", timeout=5).json()
    assert health == {"status": "ok", "database": "postgresql"}

    number = phone()
    greeting = whatsapp_form(number, "bonjour")
    assert _post_wa(server, greeting).status_code == 200
    bodies = emulator.store.wait_for(
        lambda: [m.body for m in emulator.store.twilio_messages(to=f"whatsapp:{number}")], 10
    )
    assert "Bienvenue chez Boutik" in bodies[0]

    assert _post_wa(server, whatsapp_form(number, "1"), token="forged").status_code == 403

    # The same MessageSid redelivered: answered once.
    again = whatsapp_form(number, "panier")
    for _ in range(3):
        assert _post_wa(server, again).status_code == 200
    emulator.store.wait_for(
        lambda: len(emulator.store.twilio_messages(to=f"whatsapp:{number}")) >= 2, 10
    )
    time.sleep(0.5)
    later = [m.body for m in emulator.store.twilio_messages(to=f"whatsapp:{number}")][1:]
    assert sum("panier est vide" in b for b in later) == 1

    for odd in ["", "🤔", "y" * 5000, "<b>gras</b>", "\x01\x02"]:
        count = len(emulator.store.twilio_messages(to=f"whatsapp:{number}"))
        form = whatsapp_form(number, odd)
        form["MessageSid"] = message_sid()
        assert _post_wa(server, form).status_code == 200
        emulator.store.wait_for(
            lambda c=count: len(emulator.store.twilio_messages(to=f"whatsapp:{number}")) > c, 10
        )

    update = telegram_message(880001, "bonjour")
    forged = requests.post(
        f"{server}/webhooks/telegram", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}, timeout=5,
    )  # fmt: skip
    assert forged.status_code == 403
    ok = requests.post(
        f"{server}/webhooks/telegram", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, timeout=5,
    )  # fmt: skip
    assert ok.status_code == 200
    emulator.store.wait_for(lambda: emulator.store.telegram_calls(method="sendMessage"), 10)


def test_gunicorn_serves_the_wsgi_entry_point(pg: Db, tmp_path: Path) -> None:
    """The production command of the README: gunicorn on channels_adapters.wsgi:app."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": PG_URL, "REDIS_URL": "", "BOUTIK_CONFIG": ""}
    proc = processes.start(
        [
            sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4",
            "-b", f"127.0.0.1:{port}", "channels_adapters.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        for _ in range(150):
            try:
                response = requests.get(f"http://127.0.0.1:{port}/healthz", timeout=1)
                break
            except requests.ConnectionError:
                time.sleep(0.1)
        else:
            proc.kill()
            pytest.fail(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        assert response.json() == {"status": "ok", "database": "postgresql"}
        unsigned = requests.post(
            f"http://127.0.0.1:{port}/webhooks/twilio/sms", data={"Body": "x"}, timeout=5
        )
        assert unsigned.status_code == 403
    finally:
        processes.stop(proc)
