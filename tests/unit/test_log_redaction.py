"""The log redaction: every form a number, a secret or a live link takes, masked in any record."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from settings import log_redaction
from settings.config import Secrets
from settings.log_redaction import add_config_secrets, add_secret, install, redact


class _Keep(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.DEBUG)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)

    def lines(self) -> list[str]:
        return [logging.Formatter("%(name)s %(message)s").format(r) for r in self.records]


@pytest.fixture
def kept() -> Iterator[_Keep]:
    install()
    handler = _Keep()
    root = logging.getLogger()
    level = root.level
    root.addHandler(handler)
    root.setLevel(logging.DEBUG)
    try:
        yield handler
    finally:
        root.removeHandler(handler)
        root.setLevel(level)


@pytest.mark.parametrize(
    ("text", "masked"),
    [
        ("from +224621000065 ok", "from +224******065 ok"),
        ("whatsapp:+224621000065", "whatsapp:+224******065"),
        ("To=whatsapp%3A%2B224621000065&PageSize=50", "To=whatsapp%3A%2B224******065&PageSize=50"),
        ("WaId=224621000065", "WaId=224******065"),
        ("00224621000065", "224******065"),
        ("+224 621 00 00 65.", "+224******065."),
        ("appelez le 621 00 00 65 ou 621000066", "appelez le ******065 ou ******066"),
        ("{'b_address': '+224620888009'}", "{'b_address': '+224******009'}"),
        ("+14155238886", "+141*****886"),
    ],
)
def test_phone_numbers_in_every_form_keep_only_their_last_three_digits(
    text: str, masked: str
) -> None:
    assert redact(text) == masked


@pytest.mark.parametrize(
    "text",
    [
        "1 500 000 GNF, order 4217, 24920",
        "expires 1796193734 at 2026-12-02 06:32:14,123 [02/Dec/2026:06:32:14 +0000]",
        "connection at 0x7f4d621000065 returned to pool",
        "[generated in 0.00020s] [SQL parameters hidden due to hide_parameters=True]",
        "/webhooks/twilio/whatsapp 200 outbox 12 sent SM0000000000000000000000000000000a",
    ],
)
def test_ordinary_numbers_and_paths_are_left_alone(text: str) -> None:
    assert redact(text) == text


def test_live_links_lose_their_token_mac_and_signature() -> None:
    assert redact('"GET /q/SeipZuOBtWw55We46G1DreZdNMZuUljBar7xlmyd3LE HTTP/1.1" 200 -') == (
        '"GET /q/*** HTTP/1.1" 200 -'
    )
    assert redact("https://b.gn/q/c/12.3.1796194031.G3plowKHBF57POTc-_USMQ") == (
        "https://b.gn/q/c/***"
    )
    assert redact("GET /media/qr/12.png?e=1796193734&s=0622260d6920b0b917fb56e30203f61e x") == (
        "GET /media/qr/12.png?*** x"
    )
    assert redact("query=e=1796193734&s=0622260d6920b0b917fb56e30203f61e") == (
        "query=e=1796193734&s=***"
    )
    encoded = "MediaUrl=https%3A%2F%2Fb.gn%2Fmedia%2Fqr%2F1.png%3Fe%3D1%26s%3Dabc&To=x"
    assert redact(encoded) == "MediaUrl=https%3A%2F%2Fb.gn%2Fmedia%2Fqr%2F1.png%3F***&To=x"
    assert redact("u=https%3A%2F%2Fb.gn%2Fq%2FSeipZuOB_tWw-55") == "u=https%3A%2F%2Fb.gn%2Fq%2F***"


def test_registered_secrets_raw_and_url_encoded_and_credentials_by_their_shape() -> None:
    add_config_secrets(
        Secrets(
            twilio_auth_token="unit-auth-token-5f3a9c",
            telegram_bot_token="424242:unit-bot-token",
            telegram_webhook_secret="unit_webhook_secret",
            secret_key="unit-secret-key-0123",
        ),
    )
    add_secret("short")  # too short to mask: it would hide ordinary words
    text = (
        "auth unit-auth-token-5f3a9c /bot424242:unit-bot-token/getMe 424242%3Aunit-bot-token "
        "secret=unit_webhook_secret key unit-secret-key-0123 short"
    )
    assert redact(text) == (
        "auth <twilio-auth-token> /bot<bot-token>/getMe <bot-token> "
        "secret=<webhook-secret> key <secret-key> short"
    )
    shapes = (
        "/Accounts/AC0123456789abcdef0123456789abcdef/Messages.json "
        "/bot7012345678:AAHk3dPq-xYz0123456789abcdefghijklmn/sendMessage sk-proj-abcdefghijklmnop "
        "redis://:hunter2@redis:6379/0 Authorization : Basic QUM6dG9rZW4="
    )
    assert redact(shapes) == (
        "/Accounts/<twilio-account-sid>/Messages.json /bot<bot-token>/sendMessage <openai-key> "
        "redis://:***@redis:6379/0 Authorization : ***"
    )


def test_every_logger_is_covered_children_and_those_that_do_not_propagate(kept: _Keep) -> None:
    # A filter on a logger would miss its children; one on the root's handlers would miss a
    # logger with its own handler that does not propagate (gunicorn's access and error logs).
    sdk = logging.getLogger("twilio.http_client")
    quiet = sdk.level  # the worker and the simulator set it to WARNING when they start
    sdk.setLevel(logging.INFO)
    try:
        sdk.info("Query Params: %s", {"To": "+224621000065"})
    finally:
        sdk.setLevel(quiet)
    own = logging.getLogger("unit.gunicorn.access")
    own_handler = _Keep()
    own.addHandler(own_handler)
    own.propagate = False
    try:
        own.info(
            "%(r)s %(s)s", {"r": "GET /q/SeipZuOBtWw55We46G1DreZdNMZuUljBar7xlmyd3LE", "s": 200}
        )
    finally:
        own.removeHandler(own_handler)
    assert kept.lines() == ["twilio.http_client Query Params: {'To': '+224******065'}"]
    assert own_handler.lines() == ["unit.gunicorn.access GET /q/*** 200"]
    assert kept.records[0].args == ()  # nothing left that could be formatted again


def test_tracebacks_are_redacted_and_kept_as_text(kept: _Keep) -> None:
    try:
        raise ValueError("Key (phone)=(+224621000065) already exists")
    except ValueError:
        logging.getLogger("unit.errors").exception("write of %s failed", "224621000065")
    [record] = kept.records
    assert record.exc_info is None and record.exc_text
    assert "+224******065" in record.exc_text and "621000065" not in record.exc_text
    line = logging.Formatter().format(record)
    assert line.startswith("write of 224******065 failed\nTraceback")
    assert "621000065" not in line


def test_sqlalchemy_result_rows_are_hidden_like_its_parameters(kept: _Keep) -> None:
    row = (1, "SeipZuOBtWw55We46G1DreZdNMZuUljBar7xlmyd3LE", "597711")
    engine_log = logging.getLogger("sqlalchemy.engine.Engine")
    level = engine_log.level
    engine_log.setLevel(logging.DEBUG)  # what echo="debug" does
    try:
        engine_log.debug("Row %r", row)
        engine_log.debug("Col %r", ("id", "token", "pin"))
    finally:
        engine_log.setLevel(level)
    assert kept.lines() == [
        "sqlalchemy.engine.Engine Row [hidden]",
        "sqlalchemy.engine.Engine Col ('id', 'token', 'pin')",
    ]


def test_install_wraps_the_record_factory_once() -> None:
    install()
    factory = logging.getLogRecordFactory()
    install()
    assert logging.getLogRecordFactory() is factory
    assert log_redaction._installed
