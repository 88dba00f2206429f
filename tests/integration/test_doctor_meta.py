"""`boutik doctor` on `[whatsapp] provider = "meta"`: against the Graph API emulator (through the
real MetaSender), the Twilio and Telegram emulators, the real PostgreSQL and Redis. A healthy
deployment passes; each fault alone fails (or warns) and names itself."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import Result

from boutik.doctor.meta import check_meta
from boutik.runtime import Runtime
from settings.config import load_config
from tests.integration import test_doctor as doctor
from tests.integration.test_doctor import PUBLIC, SMS_FROM, _invoke, _line, _lines
from tests.services import Emulator
from tests.support import Db
from tests.webhooks import (
    AUTH_TOKEN,
    META_APP_SECRET,
    META_DISPLAY_NUMBER,
    META_PHONE_NUMBER_ID,
    META_TOKEN,
    META_VERIFY_TOKEN,
    META_WABA_ID,
    TELEGRAM_TOKEN,
)

SECRETS = (META_TOKEN, META_APP_SECRET, META_VERIFY_TOKEN, AUTH_TOKEN, TELEGRAM_TOKEN)
NUMBERS = (SMS_FROM, SMS_FROM[1:], META_DISPLAY_NUMBER, "555-078-3881")


def _overlay(tmp_path: Path, emulator: Emulator, phone_number_id: str) -> str:
    meta = f"""[whatsapp]
provider = "meta"
[meta]
phone_number_id = "{phone_number_id}"
waba_id = "{META_WABA_ID}"
api_base_url = "{emulator.base_url}/meta"
"""
    return doctor._overlay(tmp_path, emulator, PUBLIC, meta)


def _deployment(emulator: Emulator, tmp_path: Path, *, sync: bool = True) -> dict[str, str]:
    overlay = _overlay(tmp_path, emulator, META_PHONE_NUMBER_ID)
    return doctor._deploy(emulator, overlay, meta=True, sync=sync)


@pytest.fixture
def healthy(
    pg: Db, redis_conn: object, emulator: Emulator, tmp_path: Path
) -> Iterator[dict[str, str]]:
    yield _deployment(emulator, tmp_path)
    emulator.store.reset()


def _assert_no_secret(output: str) -> None:
    for secret in SECRETS:
        assert secret not in output
    for number in NUMBERS:
        assert number not in output


def _assert_only_problem(result: Result, subject: str) -> str:
    return doctor._assert_only_problem(result, subject, _assert_no_secret)


def test_a_healthy_meta_deployment_passes_every_check(healthy: dict[str, str]) -> None:
    result = _invoke(["doctor"], healthy)

    assert result.exit_code == 0, result.output
    checks = [line for line in _lines(result) if not line.startswith("doctor:")]
    assert {line.split(" ", 1)[0] for line in checks} <= {"ok", "info"}, result.output
    for subject in (
        "Public URL",
        "Twilio credentials",
        "SMS number",  # SMS stays with Twilio
        "Meta settings",
        "Meta webhook secrets",
        "Meta webhook URL",
        "Meta phone number",
        "Meta templates",
        "Meta template approvals",
        "Telegram webhook",
    ):
        assert _line(result, subject).startswith("ok "), result.output
    number = _line(result, "Meta phone number")
    assert "+155*****881" in number and "Boutik" in number
    assert f"{PUBLIC}/webhooks/meta/whatsapp" in _line(result, "Meta webhook URL")
    assert "all 22 notices approved" in _line(result, "Meta template approvals")
    # Twilio's WhatsApp side is not Boutik's WhatsApp here: said, not checked.
    skipped = _line(result, "Twilio WhatsApp sender and templates")
    assert skipped.startswith("info ") and 'provider = "meta"' in skipped
    assert not any(line.split(":", 1)[0].endswith("WhatsApp templates") for line in checks)
    assert _line(result, "Meta webhook subscription").startswith("info ")
    _assert_no_secret(result.output)


def test_bad_meta_token(healthy: dict[str, str]) -> None:
    result = _invoke(["doctor"], {**healthy, "META_WHATSAPP_TOKEN": "EAAG-not-the-token-0123"})
    line = _assert_only_problem(result, "Meta token")
    assert "META_WHATSAPP_TOKEN is invalid or expired" in line
    assert "not-the-token" not in result.output
    assert _line(result, "Meta templates").startswith("info ")


def test_unknown_phone_number_id(
    healthy: dict[str, str], emulator: Emulator, tmp_path: Path
) -> None:
    env = {**healthy, "BOUTIK_CONFIG": _overlay(tmp_path, emulator, "999999999999999")}
    line = _assert_only_problem(_invoke(["doctor"], env), "Meta phone number")
    assert "999999999999999" in line and "Phone number ID" in line


def test_missing_app_secret(healthy: dict[str, str]) -> None:
    env = {key: value for key, value in healthy.items() if key != "META_APP_SECRET"}
    line = _assert_only_problem(_invoke(["doctor"], env), "Meta webhook secrets")
    assert "META_APP_SECRET is not set" in line and "META_VERIFY_TOKEN" not in line.split(".")[0]


def test_a_template_still_in_review_warns(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.decide_meta_template("boutik_confirm_cash_en", "en", "PENDING")
    result = _invoke(["doctor"], healthy)
    assert result.exit_code == 0, result.output
    line = _line(result, "Meta template approvals")
    assert line.startswith("warn ") and "boutik_confirm_cash_en" in line
    assert "1 of 22" in line


def test_a_rejected_template_is_a_problem(healthy: dict[str, str], emulator: Emulator) -> None:
    emulator.store.decide_meta_template(
        "boutik_order_refused_fr", "fr", "REJECTED", reason="INVALID_FORMAT"
    )
    line = _assert_only_problem(_invoke(["doctor"], healthy), "Meta template approvals")
    assert "boutik_order_refused_fr: rejected: INVALID_FORMAT" in line and "bot/locales" in line


def test_templates_never_synced(
    pg: Db, redis_conn: object, emulator: Emulator, tmp_path: Path
) -> None:
    env = _deployment(emulator, tmp_path, sync=False)
    try:
        line = _assert_only_problem(_invoke(["doctor"], env), "Meta templates")
        assert "none was ever synced" in line and "boutik meta templates sync" in line
    finally:
        emulator.store.reset()


def test_meta_is_not_checked_when_twilio_carries_whatsapp() -> None:
    rt = Runtime(load_config(environ={}).replace(web__public_base_url=PUBLIC))
    try:
        [line] = check_meta(rt)
    finally:
        rt.dispose()
    assert line.status == "info" and 'provider = "twilio"' in line.text
