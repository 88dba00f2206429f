"""From outside: signed provider payloads posted over HTTP to a running `boutik serve`."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import requests
from sqlalchemy import select

from commerce.messaging.models import Outbox, OutboxStatus
from tests import processes
from tests.services import Emulator
from tests.support import PG_URL, Db, phone
from tests.timing import WAIT_S, http_ready
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
    overlay = emulator.overlay(
        tmp_path / "boutik.toml", public=base, media={"dir": tmp_path / "media"}
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
        ready = http_ready(f"{base}/healthz", proc)
        if ready is None or ready.status_code != 200:
            proc.kill()
            pytest.fail(f"boutik serve did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        yield base
    finally:
        processes.stop(proc)


def _post_wa(base: str, form: dict[str, str], *, token: str = AUTH_TOKEN) -> requests.Response:
    path = "/webhooks/twilio/whatsapp"
    signature = twilio_signature(base + path, form, token)
    return requests.post(
        base + path, data=form, headers={"X-Twilio-Signature": signature}, timeout=WAIT_S
    )


def _nothing_left_to_send(db: Db) -> bool:
    """Every outbox row the server wrote (in the webhook's own transaction) has been sent."""
    with db.session() as s:
        statuses = s.scalars(select(Outbox.status)).all()
    return bool(statuses) and all(
        x not in (OutboxStatus.PENDING, OutboxStatus.SENDING) for x in statuses
    )


def test_a_running_server_greets_refuses_forgeries_and_answers_once(
    server: str,
    emulator: Emulator,
    pg: Db,
) -> None:
    health = requests.get(f"{server}/healthz", timeout=WAIT_S).json()
    assert health == {"status": "ok", "database": "postgresql"}

    number = phone()
    greeting = whatsapp_form(number, "bonjour")
    assert _post_wa(server, greeting).status_code == 200
    bodies = emulator.store.wait_for(
        lambda: [m.body for m in emulator.store.twilio_messages(to=f"whatsapp:{number}")], WAIT_S
    )
    assert "Bienvenue chez Boutik" in bodies[0]

    assert _post_wa(server, whatsapp_form(number, "1"), token="forged").status_code == 403

    # The same MessageSid redelivered: answered once.
    again = whatsapp_form(number, "panier")
    for _ in range(3):
        assert _post_wa(server, again).status_code == 200
    emulator.store.wait_for(
        lambda: len(emulator.store.twilio_messages(to=f"whatsapp:{number}")) >= 2, WAIT_S
    )
    # The three 200s came after their turns committed: once nothing is left to send, a second
    # answer would be at the emulator already.
    emulator.store.wait_for(lambda: _nothing_left_to_send(pg), WAIT_S)
    later = [m.body for m in emulator.store.twilio_messages(to=f"whatsapp:{number}")][1:]
    assert sum("panier est vide" in b for b in later) == 1

    for odd in ["", "🤔", "y" * 5000, "<b>gras</b>", "\x01\x02"]:
        count = len(emulator.store.twilio_messages(to=f"whatsapp:{number}"))
        form = whatsapp_form(number, odd)
        form["MessageSid"] = message_sid()
        assert _post_wa(server, form).status_code == 200
        emulator.store.wait_for(
            lambda c=count: len(emulator.store.twilio_messages(to=f"whatsapp:{number}")) > c,
            WAIT_S,
        )

    update = telegram_message(880001, "bonjour")
    forged = requests.post(
        f"{server}/webhooks/telegram", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": "nope"}, timeout=WAIT_S,
    )  # fmt: skip
    assert forged.status_code == 403
    ok = requests.post(
        f"{server}/webhooks/telegram", json=update,
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET}, timeout=WAIT_S,
    )  # fmt: skip
    assert ok.status_code == 200
    emulator.store.wait_for(lambda: emulator.store.telegram_calls(method="sendMessage"), WAIT_S)


def test_gunicorn_serves_the_wsgi_entry_point(pg: Db, tmp_path: Path) -> None:
    """The production command of the README: gunicorn on boutik.wsgi:app."""
    port = _free_port()
    env = {**os.environ, "DATABASE_URL": PG_URL, "REDIS_URL": "", "BOUTIK_CONFIG": ""}
    proc = processes.start(
        [
            sys.executable, "-m", "gunicorn", "-w", "1", "--threads", "4",
            "-b", f"127.0.0.1:{port}", "boutik.wsgi:app",
        ],
        cwd=ROOT,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )  # fmt: skip
    try:
        response = http_ready(f"http://127.0.0.1:{port}/healthz", proc)
        if response is None:
            proc.kill()
            pytest.fail(f"gunicorn did not start: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        assert response.json() == {"status": "ok", "database": "postgresql"}
        unsigned = requests.post(
            f"http://127.0.0.1:{port}/webhooks/twilio/sms", data={"Body": "x"}, timeout=WAIT_S
        )
        assert unsigned.status_code == 403
    finally:
        processes.stop(proc)
