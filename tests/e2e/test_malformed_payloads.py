"""Authenticated but malformed payloads: a 400 (or the text cleaned and a 200), never a 5xx.

Why on PostgreSQL: it refuses what SQLite stores without a word — NUL in text and jsonb,
strings longer than their column — and each refusal used to surface as a 500, which Twilio and
Telegram redeliver again and again. Every request here passes authentication (signed as Twilio
signs, or with the Telegram secret), so only the payload itself is at fault. A 400 must leave
no trace: no inbound record, no outbox row, no user, no conversation.
"""

from __future__ import annotations

import contextlib
import json
import logging
from collections.abc import Iterator
from typing import Any

import pytest
from sqlalchemy import func, select

from commerce.messaging.models import ConversationState, InboundMessage, Outbox
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.support import phone
from tests.unit import flows
from tests.webhooks import (
    ACCOUNT_SID,
    PUBLIC,
    TELEGRAM_SECRET,
    message_sid,
    post_telegram,
    post_twilio,
    sms_form,
    telegram_callback,
    telegram_message,
    twilio_signature,
    whatsapp_form,
)

WA, SMS, STATUS, TG = (
    "/webhooks/twilio/whatsapp",
    "/webhooks/twilio/sms",
    "/webhooks/twilio/status",
    "/webhooks/telegram",
)
MEDIA = f"https://api.twilio.com/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/MM1/Media/ME1"


def state(boutik: Boutik) -> tuple[int, int, int, int]:
    """(inbound records, outbox rows, users, conversations): a 400 changes none of them."""
    with boutik.db.session() as s:
        return tuple(  # type: ignore[return-value]
            s.scalar(select(func.count()).select_from(model)) or 0
            for model in (InboundMessage, Outbox, User, ConversationState)
        )


def assert_refused(boutik: Boutik, response: Any, before: tuple[int, int, int, int]) -> None:
    assert response.status_code == 400, (response.status_code, response.get_data()[:200])
    assert state(boutik) == before


# --- Twilio: WhatsApp and SMS --------------------------------------------------------------------

# (field, value): one field of a genuine form bent; the form is then signed as Twilio signs.
TWILIO_REFUSED = [
    ("MessageSid", "SM\x00" + "0" * 31),  # the reported one
    ("MessageSid", "SM" + "0" * 31 + "\x00"),
    ("MessageSid", "SM" + "a" * 10_000),
    ("MessageSid", "SM\u202e" + "0" * 31),
    ("MessageSid", "SMé" + "0" * 31),
    ("SmsMessageSid", "SM\x00"),
    ("From", "whatsapp:+224\x00620000001"),  # the reported one
    ("From", "whatsapp:+224620000001\x00"),
    ("From", "whatsapp:+224" + "9" * 200),
    ("From", "whatsapp:+224\n620000001"),
    ("From", "whatsapp:+224\x7f620000001"),
    ("NumMedia", "1\x00"),
    ("NumMedia", "9" * 10_000),
    ("ButtonPayload", "menu:catalog\x00"),
    ("ButtonPayload", "x" * 5_000),
    ("ListId", "cat:\x003"),
    ("Latitude", "9.64\x00"),
    ("Longitude", "-13.57" + "0" * 5_000),
    ("MediaUrl0", MEDIA + "\x00"),
    ("MediaUrl0", MEDIA + "/" + "a" * 3_000),
    ("MediaContentType0", "image/jpeg\x00"),
]


@pytest.mark.parametrize(("field", "value"), TWILIO_REFUSED)
def test_a_signed_whatsapp_form_with_a_bad_identifier_is_refused(
    boutik: Boutik, field: str, value: str
) -> None:
    form = whatsapp_form(
        phone(), "Bonjour", NumMedia="1", MediaUrl0=MEDIA, MediaContentType0="image/jpeg"
    )
    form[field] = value
    before = state(boutik)

    assert_refused(boutik, post_twilio(boutik.client, WA, form), before)


@pytest.mark.parametrize(
    ("field", "value"),
    [TWILIO_REFUSED[0], ("From", "+224\x00620000001"), ("From", "\x00")],  # the last: a fuzzer's
)
def test_a_signed_sms_form_with_a_bad_identifier_is_refused(
    boutik: Boutik, field: str, value: str
) -> None:
    form = sms_form(phone(), "COURSES")
    form[field] = value
    before = state(boutik)

    assert_refused(boutik, post_twilio(boutik.client, SMS, form), before)


@pytest.mark.parametrize(
    ("field", "value", "stored"),
    [
        ("Body", "bon\x00jour", None),  # the reported one
        ("Body", "\x00" * 40_000, None),
        ("ProfileName", "Mari\x00ama", "Mariama"),
        ("ProfileName", "\x00", ""),
        ("ButtonText", "Cata\x00logue", None),
        ("Address", "Kip\x00é", None),
        ("Label", "\x00Chez moi", None),
    ],
)
def test_nul_in_what_a_person_typed_is_dropped_and_the_turn_goes_on(
    boutik: Boutik, field: str, value: str, stored: str | None
) -> None:
    number = phone()
    form = whatsapp_form(number, "Bonjour")
    form[field] = value

    response = post_twilio(boutik.client, WA, form)

    assert response.status_code == 200
    with boutik.db.session() as s:
        record = s.scalar(
            select(InboundMessage).where(InboundMessage.external_id == form["MessageSid"])
        )
        assert record is not None  # the turn ran and was recorded
        user = s.scalar(select(User).where(User.phone == number))
        assert user is not None
        if stored is not None:
            assert user.name == stored
        replies = s.scalar(select(func.count(Outbox.id)).where(Outbox.user_id == user.id))
        assert replies  # and the person got an answer


def test_a_signed_form_that_is_not_utf8_is_answered_not_crashed(boutik: Boutik) -> None:
    """Werkzeug leaves percent-escapes that are not UTF-8 as they were ("%FF%FE"); signed over
    what the app reads, the form is an ordinary one."""
    number = phone()
    sid = message_sid()
    raw = f"MessageSid={sid}&From=whatsapp%3A%2B{number[1:]}&Body=%FF%FEbon&NumMedia=0"
    as_read = {
        "MessageSid": sid,
        "From": f"whatsapp:{number}",
        "Body": "%FF%FEbon",
        "NumMedia": "0",
    }
    response = boutik.client.post(
        WA,
        data=raw,
        content_type="application/x-www-form-urlencoded",
        headers={"X-Twilio-Signature": twilio_signature(PUBLIC + WA, as_read)},
    )
    assert response.status_code == 200


def test_a_huge_signed_body_is_refused_before_it_is_read(boutik: Boutik) -> None:
    form = whatsapp_form(phone(), "x" * (3 * 1024 * 1024))
    before = state(boutik)

    response = post_twilio(boutik.client, WA, form)

    assert response.status_code == 413
    assert state(boutik) == before


@pytest.mark.parametrize(
    "form",
    [
        {"MessageSid": "SM\x00" + "0" * 31, "MessageStatus": "delivered"},
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered\x00"},
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": "630\x0016"},
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "failed", "ErrorCode": "6" * 5_000},
        {"MessageSid": "SM" + "a" * 10_000, "MessageStatus": "delivered"},
        {"SmsSid": "SM\x00", "SmsStatus": "sent"},
    ],
)
def test_a_signed_status_callback_with_garbage_is_refused(
    boutik: Boutik, form: dict[str, str]
) -> None:
    before = state(boutik)

    response = post_twilio(boutik.client, STATUS, {**form, "AccountSid": ACCOUNT_SID})

    assert_refused(boutik, response, before)


def test_a_status_callback_for_a_real_message_still_applies(boutik: Boutik) -> None:
    response = post_twilio(
        boutik.client,
        STATUS,
        {"MessageSid": "SM" + "0" * 32, "MessageStatus": "delivered", "AccountSid": ACCOUNT_SID},
    )
    assert response.status_code == 204


# --- Telegram ------------------------------------------------------------------------------------


def post_raw(boutik: Boutik, body: bytes) -> Any:
    return boutik.client.post(
        TG,
        data=body,
        content_type="application/json",
        headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
    )


TELEGRAM_REFUSED_RAW = {
    "50 000 nested arrays": b'{"update_id":1,"message":' + b"[" * 50_000 + b"]" * 50_000 + b"}",
    "50 000 nested objects": b'{"update_id":1,"message":'
    + b'{"a":' * 50_000
    + b"1"
    + b"}" * 50_000
    + b"}",
    "unbalanced nesting": b'{"update_id":1,"message":' + b"[" * 50_000,
    "not JSON": b"update_id=1&message=hi",
    "empty body": b"",
    "invalid UTF-8": b'{"update_id":1,"message":{"text":"\xff\xfe"}}',
    "JSON list": b"[1, 2, 3]",
    "JSON string": b'"update"',
    "an int of 5 000 digits": b'{"update_id":' + b"9" * 5_000 + b"}",
}


@pytest.mark.parametrize("body", TELEGRAM_REFUSED_RAW.values(), ids=TELEGRAM_REFUSED_RAW.keys())
def test_a_telegram_body_that_is_no_update_is_refused(boutik: Boutik, body: bytes) -> None:
    before = state(boutik)

    assert_refused(boutik, post_raw(boutik, body), before)


def _message(**changes: Any) -> dict[str, Any]:
    update = telegram_message(700_000_001, "bonjour")
    for key, value in changes.items():
        if value is _DROP:
            del update["message"][key]
        else:
            update["message"][key] = value
    return update


_DROP = object()


def _bent(path: tuple[str, ...], value: Any, base: dict[str, Any] | None = None) -> dict[str, Any]:
    update = json.loads(json.dumps(base or telegram_message(700_000_002, "bonjour")))
    target = update
    for key in path[:-1]:
        target = target[key]
    if value is _DROP:
        del target[path[-1]]
    else:
        target[path[-1]] = value
    return update


TELEGRAM_REFUSED = {
    "update_id a string": _bent(("update_id",), "7"),
    "update_id true": _bent(("update_id",), True),
    "update_id negative": _bent(("update_id",), -1),
    "update_id past 2**63": _bent(("update_id",), 2**63),
    "update_id missing": _bent(("update_id",), _DROP),
    "message a list": _bent(("message",), [[["hi"]]]),
    "message a string": _bent(("message",), "hi"),
    "chat missing": _bent(("message", "chat"), _DROP),
    "chat a list": _bent(("message", "chat"), [1]),
    "chat id a string": _bent(("message", "chat", "id"), "700000002"),
    "chat id past 2**63": _bent(("message", "chat", "id"), 2**64),
    "from a string": _bent(("message", "from"), "me"),
    "from id a float": _bent(("message", "from", "id"), 1.5),
    "text a number": _bent(("message", "text"), 12),
    "first_name a list": _bent(("message", "from", "first_name"), ["A"]),
    "photo a dict": _bent(("message", "photo"), {"file_id": "x"}),
    "photo file_id with NUL": _bent(("message", "photo"), [{"file_id": "AgAC\x00", "width": 1}]),
    "photo file_id of 5 000": _bent(("message", "photo"), [{"file_id": "A" * 5_000, "width": 1}]),
    "location not numbers": _bent(("message", "location"), {"latitude": "9", "longitude": "x"}),
    "contact a list": _bent(("message", "contact"), []),
    "contact phone with NUL": _bent(("message", "contact"), {"phone_number": "+224\x0062"}),
    "callback a list": {"update_id": 90_000_001, "callback_query": []},
    "callback without from": _bent(
        ("callback_query", "from"), _DROP, telegram_callback(700_000_003, "menu:catalog")
    ),
    "callback data with NUL": _bent(
        ("callback_query", "data"), "menu:\x00", telegram_callback(700_000_003, "menu:catalog")
    ),
    "callback id with NUL": _bent(
        ("callback_query", "id"), "1\x00", telegram_callback(700_000_003, "menu:catalog")
    ),
}


@pytest.mark.parametrize("update", TELEGRAM_REFUSED.values(), ids=TELEGRAM_REFUSED.keys())
def test_a_telegram_update_with_wrong_types_is_refused(
    boutik: Boutik, update: dict[str, Any]
) -> None:
    before = state(boutik)

    assert_refused(boutik, post_telegram(boutik.client, update, off_spec=True), before)


@pytest.mark.parametrize(
    "update",
    [
        _bent(("message", "from"), _DROP),  # messages in channels have no sender
        {"update_id": 90_000_002, "edited_message": [[["not ours to read"]]]},
        {"update_id": 90_000_003, "my_chat_member": {"x": "\x00"}},
        {"update_id": 90_000_004},
    ],
    ids=["from missing", "an edited message", "a member update", "nothing at all"],
)
def test_a_valid_update_we_do_not_act_on_is_acknowledged_and_changes_nothing(
    boutik: Boutik, update: dict[str, Any]
) -> None:
    before = state(boutik)

    response = post_telegram(boutik.client, update, off_spec=True)  # some are not Updates at all

    assert response.status_code == 200
    assert state(boutik) == before


@pytest.mark.parametrize(
    ("changes", "name"),
    [
        ({"text": "bon\x00jour"}, "Aissatou"),
        ({"text": "\x00" * 10_000}, "Aissatou"),
        ({"text": "bon\ud800jour"}, "Aissatou"),
        ({"caption": "robe\x00", "text": _DROP}, "Aissatou"),
        ({"from": {"id": 700_000_001, "is_bot": False, "first_name": "Ais\x00satou"}}, "Aissatou"),
    ],
)
def test_nul_in_telegram_text_is_dropped_and_the_turn_goes_on(
    boutik: Boutik, changes: dict[str, Any], name: str
) -> None:
    update = _message(**changes)

    response = post_telegram(boutik.client, update)

    assert response.status_code == 200
    with boutik.db.session() as s:
        record = s.scalar(
            select(InboundMessage).where(InboundMessage.external_id == str(update["update_id"]))
        )
        assert record is not None and record.user_id is not None
        user = s.get(User, record.user_id)
        assert user is not None and user.name == name
        assert s.scalar(select(func.count(Outbox.id)).where(Outbox.user_id == user.id))


def test_a_huge_telegram_body_is_refused_before_it_is_read(boutik: Boutik) -> None:
    before = state(boutik)
    body = json.dumps(telegram_message(700_000_004, "x" * (3 * 1024 * 1024))).encode()

    response = post_raw(boutik, body)

    assert response.status_code == 413
    assert state(boutik) == before


# --- the QR page ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "token",
    ["%00", "abc%00def", "%FF%FE", "x" * 5_000, "%E2%80%AE", "%0A", "..%2F..%2Fetc"],
)
def test_the_qr_page_with_a_garbage_token_is_a_plain_not_found(boutik: Boutik, token: str) -> None:
    before = state(boutik)

    for response in (boutik.client.get(f"/q/{token}"), boutik.client.post(f"/q/{token}")):
        assert response.status_code == 404

    assert state(boutik) == before


@pytest.mark.parametrize("mac", ["%00", "A%00A", "%C3%A9t%C3%A9", "%FF", "A" * 5_000])
def test_a_confirmation_link_with_a_garbage_mac_is_refused(boutik: Boutik, mac: str) -> None:
    p = flows.place(boutik.db)
    link = f"/q/c/{p.order_id}.{p.buyer_id}.9999999999.{mac}"
    before = state(boutik)

    for response in (boutik.client.get(link), boutik.client.post(link)):
        assert response.status_code == 403

    assert state(boutik) == before


@pytest.mark.parametrize("signed", ["%00", "1.1.1.%00", "1%00.1.1.x", "..", "1.2.3.4.5"])
def test_a_garbage_confirmation_link_is_refused(boutik: Boutik, signed: str) -> None:
    for response in (boutik.client.get(f"/q/c/{signed}"), boutik.client.post(f"/q/c/{signed}")):
        assert response.status_code == 403


# Found by the PostgreSQL fuzzer: numbers beyond a 32-bit column reached a query.
@pytest.mark.parametrize(
    "body",
    [
        "moins de 99999999999999999999999",
        "telephone plus de 99999999999 gnf",
        "entre 3000000000 et 99999999999",
        "99999999999999999999999",
    ],
)
def test_a_huge_number_typed_by_sms_is_a_search_not_a_crash(boutik: Boutik, body: str) -> None:
    flows.place(boutik.db)  # a catalogue to search
    number = phone()
    assert post_twilio(boutik.client, SMS, sms_form(number, "bonjour")).status_code == 200
    with _no_logged_errors():
        assert post_twilio(boutik.client, SMS, sms_form(number, body)).status_code == 200


@pytest.mark.parametrize("data", ["c:pick:2147483648", "c:pin:99999999999", "c:take:999999999999"])
def test_a_courier_button_with_a_huge_id_is_stale_not_a_crash(boutik: Boutik, data: str) -> None:
    tg = 4_700_000 + int(phone()[-6:])
    assert post_telegram(boutik.client, telegram_message(tg, "/start")).status_code == 200
    with _no_logged_errors():
        assert post_telegram(boutik.client, telegram_callback(tg, data)).status_code == 200


class _Errors(logging.Handler):
    def __init__(self) -> None:
        super().__init__(level=logging.ERROR)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@contextlib.contextmanager
def _no_logged_errors() -> Iterator[None]:
    """A handler that fails is caught and logged by the engine: the log is where it shows."""
    handler = _Errors()
    logging.getLogger().addHandler(handler)
    try:
        yield
    finally:
        logging.getLogger().removeHandler(handler)
    assert [r.getMessage() for r in handler.records] == []
