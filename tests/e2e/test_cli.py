"""The `boutik` command against real PostgreSQL and the provider emulators."""

from __future__ import annotations

from pathlib import Path

import click
import pytest
from click.testing import CliRunner
from sqlalchemy import select

from boutik.cli import main
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.outbox import notify
from commerce.users import actions as users
from settings import config as config_module
from tests.services import Emulator
from tests.support import PG_URL, Db, phone
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_SECRET, TELEGRAM_TOKEN


@pytest.fixture
def env(emulator: Emulator, tmp_path: Path) -> dict[str, str]:
    emulator.store.reset()
    overlay = tmp_path / "boutik.toml"
    overlay.write_text(
        f"""
[web]
public_base_url = "https://boutik.example.gn"
[twilio]
api_base_url = "{emulator.base_url}"
[telegram]
api_base_url = "{emulator.base_url}/telegram/bot"
"""
    )
    config_module.get_config.cache_clear()
    yield {
        "BOUTIK_CONFIG": str(overlay),
        "DATABASE_URL": PG_URL,
        "REDIS_URL": "",
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
    }
    config_module.get_config.cache_clear()


def _command_paths(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    paths = [prefix]
    for name, command in group.commands.items():
        if isinstance(command, click.Group):
            paths += _command_paths(command, (*prefix, name))
        else:
            paths.append((*prefix, name))
    return paths


def test_every_command_has_help() -> None:
    """Walked from the group tree, so a command added later cannot be forgotten here."""
    runner = CliRunner()
    paths = _command_paths(main)
    for expected in (
        ("doctor",),
        ("twilio", "templates", "sync"),
        ("twilio", "templates", "status"),
    ):
        assert expected in paths
    for args in paths:
        result = runner.invoke(main, [*args, "--help"])
        assert result.exit_code == 0, (args, result.output)
        assert "Usage:" in result.output


def test_telegram_set_webhook_registers_url_and_secret(
    env: dict[str, str], emulator: Emulator
) -> None:
    result = CliRunner().invoke(main, ["telegram", "set-webhook"], env=env)
    assert result.exit_code == 0, result.output
    hook = emulator.store.telegram_webhook
    assert hook is not None
    assert hook["url"] == "https://boutik.example.gn/webhooks/telegram"
    assert hook["secret_token"] == TELEGRAM_SECRET


def test_outbox_failed_lists_and_replay_sends_again(
    pg: Db, env: dict[str, str], emulator: Emulator
) -> None:
    number = phone()
    with pg.uow() as s:
        user = users.get_or_create_by_phone(s, phone=number, name="Awa")
        row = notify(
            s, user_id=user.id, kind="order_accepted", params={"order_id": 3}, essential=True
        )
        row.status = OutboxStatus.FAILED
        row.error_code = "20429"
        row.last_error = "too many requests"
        row.address = number
        failed_id = row.id
    runner = CliRunner()
    listed = runner.invoke(main, ["outbox", "failed"], env=env)
    assert listed.exit_code == 0 and f"{failed_id}\t" in listed.output
    assert number not in listed.output  # phone numbers are masked
    replayed = runner.invoke(main, ["outbox", "replay", str(failed_id)], env=env)
    assert replayed.exit_code == 0, replayed.output
    assert "sent" in replayed.output
    with pg.session() as s:
        assert s.scalar(select(Outbox.status).where(Outbox.id == failed_id)) == OutboxStatus.SENT
    assert emulator.store.twilio_messages(to=number)
    again = runner.invoke(main, ["outbox", "replay", str(failed_id)], env=env)
    assert again.exit_code != 0 and "not a failed message" in again.output
