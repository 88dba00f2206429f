"""`boutik doctor` against the provider emulators (through the real SDKs), the real PostgreSQL
and Redis: a healthy deployment passes; each fault alone fails and names itself."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from alembic import command
from alembic.script import ScriptDirectory
from click.testing import CliRunner, Result
from sqlalchemy import text

from boutik.cli import main
from settings import config as config_module
from tests.e2e.conftest import provider_env
from tests.services import Emulator
from tests.support import PG_URL, REDIS_URL, Db, alembic_config
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_SECRET, TELEGRAM_TOKEN

PUBLIC = "https://boutik.example.gn"
SMS_FROM = "+12025550100"  # config.toml's [twilio] sms_from
WHATSAPP_FROM = "+14155238886"  # config.toml's [twilio] whatsapp_from: Twilio's sandbox
CLOSED_PORT = "127.0.0.1:9"  # nothing listens there: a service that is down


def _overlay(tmp_path: Path, emulator: Emulator, public: str, more: str = "") -> str:
    """The deployment's config.toml: the emulators' URLs, then `more` sections."""
    path = tmp_path / f"boutik-{len(list(tmp_path.iterdir()))}.toml"
    path.write_text(
        f"""
[web]
public_base_url = "{public}"
[twilio]
api_base_url = "{emulator.base_url}"
[telegram]
api_base_url = "{emulator.base_url}/telegram/bot"
admin_ids = [5001]
"""
        + more
    )
    return str(path)


def _invoke(args: list[str], env: dict[str, str]) -> Result:
    config_module.get_config.cache_clear()
    try:
        return CliRunner().invoke(main, args, env=env)
    finally:
        config_module.get_config.cache_clear()


def _deploy(
    emulator: Emulator, overlay: str, public: str = PUBLIC, *, meta: bool = False, sync: bool = True
) -> dict[str, str]:
    """A deployment set up as the README says: the SMS number's webhook set in the Twilio
    Console, then `boutik telegram set-webhook` and `set-commands`, `boutik twilio templates
    sync` (`boutik meta templates sync` when `meta` carries WhatsApp), and WhatsApp's (Meta's)
    approval of every notice template."""
    emulator.store.reset()
    emulator.store.set_incoming_number(SMS_FROM, sms_url=f"{public}/webhooks/twilio/sms")
    env = {
        "BOUTIK_CONFIG": overlay,
        "DATABASE_URL": PG_URL,
        "REDIS_URL": REDIS_URL,
        **provider_env(meta=meta),
    }
    steps = [["telegram", "set-webhook"], ["telegram", "set-commands"]]
    if sync:
        steps.append(["meta" if meta else "twilio", "templates", "sync"])
    for args in steps:
        done = _invoke(args, env)
        assert done.exit_code == 0, done.output
    if meta:
        emulator.store.approve_all_meta_templates()
    for content in emulator.store.contents():
        if content.approval is not None:
            emulator.store.decide_approval(content.sid, "approved")
    return env


def _healthy(emulator: Emulator, tmp_path: Path, public: str = PUBLIC) -> dict[str, str]:
    return _deploy(emulator, _overlay(tmp_path, emulator, public), public)


@pytest.fixture
def healthy(
    pg: Db, redis_conn: object, emulator: Emulator, tmp_path: Path
) -> Iterator[dict[str, str]]:
    yield _healthy(emulator, tmp_path)
    emulator.store.reset()


def _lines(result: Result) -> list[str]:
    return [line for line in result.output.splitlines() if line.strip()]


def _line(result: Result, subject: str) -> str:
    found = [line for line in _lines(result) if subject in line]
    assert found, f"no line about {subject!r} in:\n{result.output}"
    return found[0]


def _problems(result: Result) -> list[str]:
    return [line for line in _lines(result) if line.startswith("PROBLEM")]


def _assert_no_secret(output: str) -> None:
    for secret in (AUTH_TOKEN, TELEGRAM_TOKEN, TELEGRAM_SECRET, ACCOUNT_SID, "TEST-telegram"):
        assert secret not in output
    for number in (SMS_FROM, WHATSAPP_FROM, SMS_FROM[1:], WHATSAPP_FROM[1:]):
        assert number not in output


def _assert_only_problem(
    result: Result, subject: str, no_secret: Callable[[str], None] = _assert_no_secret
) -> str:
    assert result.exit_code == 1, result.output
    line = _line(result, subject)
    assert line.startswith("PROBLEM"), result.output
    assert "Fix:" in line
    assert _problems(result) == [line], result.output
    no_secret(result.output)
    return line


def test_a_healthy_deployment_passes_every_check(healthy: dict[str, str]) -> None:
    result = _invoke(["doctor"], healthy)
    assert result.exit_code == 0, result.output
    checks = [line for line in _lines(result) if not line.startswith("doctor:")]
    statuses = {line.split(" ", 1)[0] for line in checks}
    assert statuses <= {"ok", "info"}, result.output
    for subject in (
        "Public URL",
        "Database",
        "Migrations",
        "Redis",
        "Twilio credentials",
        "SMS number",
        "Telegram bot",
        "Telegram webhook",
        "Telegram command menu",
        "WhatsApp templates",
        "WhatsApp template approvals",
    ):
        assert _line(result, subject).startswith("ok "), result.output
    # What cannot be read is said so, not passed off as ok.
    assert _line(result, "WhatsApp sender").startswith("info ")
    assert "sandbox" in _line(result, "WhatsApp sender")
    assert _line(result, "Telegram secret token").startswith("info ")
    _assert_no_secret(result.output)


def test_bad_twilio_credentials(healthy: dict[str, str]) -> None:
    result = _invoke(["doctor"], {**healthy, "TWILIO_AUTH_TOKEN": "not-the-token-0123456789"})
    line = _assert_only_problem(result, "Twilio credentials")
    assert "refused" in line
    assert "not-the-token" not in result.output


def test_sender_number_not_on_the_account(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.remove_incoming_number(SMS_FROM)
    # A longer number that Twilio's partial PhoneNumber filter also matches is not ours.
    emulator.store.set_incoming_number(SMS_FROM + "9", sms_url=f"{PUBLIC}/webhooks/twilio/sms")
    line = _assert_only_problem(_invoke(["doctor"], healthy), "SMS number")
    assert "not a number of this Twilio account" in line


def test_wrong_webhook_url_on_the_number(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.set_incoming_number(
        SMS_FROM, sms_url="https://old.example.gn/sms?key=abc", sms_method="GET"
    )
    line = _assert_only_problem(_invoke(["doctor"], healthy), "SMS number")
    assert "https://old.example.gn/sms?…" in line and "key=abc" not in line
    assert f"{PUBLIC}/webhooks/twilio/sms" in line
    assert "not POST" in line


def test_telegram_bad_token(healthy: dict[str, str]) -> None:
    result = _invoke(
        ["doctor"], {**healthy, "TELEGRAM_BOT_TOKEN": "123456:WRONG-token-abcdefghijkl"}
    )
    line = _assert_only_problem(result, "Telegram bot")
    assert "refused TELEGRAM_BOT_TOKEN" in line
    assert "WRONG-token" not in result.output


def test_telegram_webhook_on_another_url(healthy: dict[str, str], emulator: Emulator) -> None:
    hook = emulator.store.telegram_webhook
    assert hook is not None
    emulator.store.set_telegram_webhook({**hook, "url": "https://old.example.gn/webhooks/telegram"})
    line = _assert_only_problem(_invoke(["doctor"], healthy), "Telegram webhook")
    assert "old.example.gn" in line and "boutik telegram set-webhook" in line


def test_telegram_webhook_not_set(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.set_telegram_webhook(None)
    line = _assert_only_problem(_invoke(["doctor"], healthy), "Telegram webhook")
    assert "no webhook is set" in line


def test_telegram_last_delivery_error(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.set_telegram_webhook_status(
        pending_update_count=3, last_error_message="Wrong response from the webhook: 403 Forbidden"
    )
    line = _assert_only_problem(_invoke(["doctor"], healthy), "Telegram deliveries")
    assert "403 Forbidden" in line and "TELEGRAM_WEBHOOK_SECRET" in line


def test_a_large_telegram_backlog_is_a_warning(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.set_telegram_webhook_status(pending_update_count=5000)
    result = _invoke(["doctor"], healthy)
    assert result.exit_code == 0, result.output
    assert _line(result, "Telegram backlog").startswith("warn ")


def test_telegram_command_menu_differs(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.set_telegram_commands(
        "default", "en", [{"command": "start", "description": "Go"}]
    )
    line = _assert_only_problem(_invoke(["doctor"], healthy), "Telegram command menu")
    assert "for en" in line and "boutik telegram set-commands" in line


def test_public_url_over_http(
    pg: Db, redis_conn: object, emulator: Emulator, tmp_path: Path
) -> None:
    env = _healthy(emulator, tmp_path, public="http://boutik.example.gn")
    line = _assert_only_problem(_invoke(["doctor"], env), "Public URL")
    assert "not https" in line


def test_public_url_on_localhost(
    pg: Db, redis_conn: object, emulator: Emulator, tmp_path: Path
) -> None:
    env = _healthy(emulator, tmp_path, public="https://127.0.0.1")
    line = _assert_only_problem(_invoke(["doctor"], env), "Public URL")
    assert "local or private" in line


def test_database_unreachable(healthy: dict[str, str]) -> None:
    env = {**healthy, "DATABASE_URL": f"postgresql+psycopg://postgres:pw-secret@{CLOSED_PORT}/x"}
    result = _invoke(["doctor"], env)
    line = _assert_only_problem(result, "Database")
    assert "does not answer" in line
    assert _line(result, "Migrations").startswith("info ")
    assert "pw-secret" not in result.output


def test_migrations_behind(healthy: dict[str, str]) -> None:
    cfg = alembic_config(PG_URL)
    script = ScriptDirectory.from_config(cfg)
    (head,) = script.get_heads()
    previous = script.get_revision(head).down_revision
    assert isinstance(previous, str)
    command.stamp(cfg, previous)
    try:
        line = _assert_only_problem(_invoke(["doctor"], healthy), "Migrations")
    finally:
        command.stamp(cfg, head)
    assert "behind" in line and "boutik db upgrade" in line


def test_redis_unreachable(healthy: dict[str, str]) -> None:
    line = _assert_only_problem(
        _invoke(["doctor"], {**healthy, "REDIS_URL": f"redis://{CLOSED_PORT}/0"}), "Redis"
    )
    assert "does not answer" in line


def test_no_redis_is_embedded_mode(healthy: dict[str, str]) -> None:
    result = _invoke(["doctor"], {**healthy, "REDIS_URL": ""})
    assert result.exit_code == 0, result.output
    assert "embedded mode" in _line(result, "Redis")


def test_providers_down_are_problems_not_tracebacks(
    healthy: dict[str, str], tmp_path: Path
) -> None:
    down = tmp_path / "down.toml"
    down.write_text(
        f"""
[web]
public_base_url = "{PUBLIC}"
[twilio]
api_base_url = "http://{CLOSED_PORT}"
[telegram]
api_base_url = "http://{CLOSED_PORT}/telegram/bot"
"""
    )
    result = _invoke(["doctor"], {**healthy, "BOUTIK_CONFIG": str(down)})
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    assert "Twilio did not answer" in _line(result, "Twilio credentials")
    assert "Telegram did not answer" in _line(result, "Telegram bot")
    _assert_no_secret(result.output)


def test_doctor_has_help() -> None:
    result = CliRunner().invoke(main, ["doctor", "--help"])
    assert result.exit_code == 0 and "Usage:" in result.output


def test_templates_never_synced(
    pg: Db, redis_conn: object, emulator: Emulator, tmp_path: Path
) -> None:
    env = _healthy(emulator, tmp_path)
    for content in emulator.store.contents():  # a new Twilio account: nothing there…
        emulator.store.delete_content(content.sid)
    with pg.uow() as session:
        session.execute(text("DELETE FROM content_templates"))  # …and nothing recorded
    result = _invoke(["doctor"], env)
    line = _assert_only_problem(result, "WhatsApp templates")
    assert "ever synced" in line and "templates sync" in line
    emulator.store.reset()


def test_a_template_deleted_at_twilio(healthy: dict[str, str], emulator: Emulator) -> None:
    [gone] = [c for c in emulator.store.contents() if c.friendly_name.endswith("quick_reply_2")]
    emulator.store.delete_content(gone.sid)
    line = _assert_only_problem(_invoke(["doctor"], healthy), "WhatsApp templates")
    assert "deleted at Twilio" in line and "boutik_menu_quick_reply_2" in line


def test_a_notice_refused_by_whatsapp(healthy: dict[str, str], emulator: Emulator) -> None:
    [refused] = [
        c for c in emulator.store.contents() if c.friendly_name == "boutik_order_refused_fr"
    ]
    emulator.store.decide_approval(refused.sid, "rejected", "INVALID_FORMAT")
    line = _assert_only_problem(_invoke(["doctor"], healthy), "WhatsApp template approvals")
    assert "boutik_order_refused_fr" in line and "INVALID_FORMAT" in line


def test_notices_still_pending_are_a_warning(healthy: dict[str, str], emulator: Emulator) -> None:
    for content in emulator.store.contents():
        if content.approval is not None:
            emulator.store.decide_approval(content.sid, "pending")
    result = _invoke(["doctor"], healthy)
    assert result.exit_code == 0, result.output
    line = _line(result, "WhatsApp template approvals")
    assert line.startswith("warn ") and "get SMS" in line
