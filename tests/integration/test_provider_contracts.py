"""Every call our senders make fits the providers' own API descriptions, not just our emulators.

The real SDK senders make each kind of call Boutik makes, against the emulators; every request the
emulators received is then checked against the facts derived from Twilio's OpenAPI and the Bot
API description (`devtools/contracts/provider_facts.json`, written by
`scripts/derive_contract_facts.py`). The checker is shown to catch what it must: an unknown
parameter, a missing required one, a wrong type, a value past a documented limit.
"""

from __future__ import annotations

import datetime as dt
import io

import pytest
from PIL import Image

from channels_adapters.senders import TelegramSender, TwilioSender
from devtools import contracts
from devtools.contracts import RawRequest
from devtools.emulators import EmulatorStore
from tests.services import Emulator
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN

BOT_TOKEN = TELEGRAM_TOKEN
WA_FROM = "whatsapp:+14155238886"
SMS_FROM = "+12025550100"
BUYER = "+224620000002"
MESSAGES = f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json"


@pytest.fixture
def store(emulator: Emulator) -> EmulatorStore:
    """The suite's shared emulators (tests/services.py), emptied for this test."""
    emulator.store.reset()
    return emulator.store


@pytest.fixture
def root(emulator: Emulator) -> str:
    return emulator.base_url


def _png() -> bytes:
    out = io.BytesIO()
    Image.new("RGB", (4, 4), (200, 30, 30)).save(out, format="PNG")
    return out.getvalue()


def test_every_twilio_call_we_make_fits_the_spec(root: str, store: EmulatorStore) -> None:
    twilio = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, root)
    sid = "HX" + "c" * 32
    store.register_content(
        sid,
        "twilio/quick-reply",
        {"body": "{{1}}", "actions": [{"title": "Oui", "id": "y"}, {"title": "Non", "id": "n"}]},
    )
    since = dt.datetime.now(dt.UTC) - dt.timedelta(minutes=1)
    twilio.send(to=BUYER, from_=SMS_FROM, body="Course 12: Kaloum > Ratoma", status_callback=None)
    twilio.send(
        to=f"whatsapp:{BUYER}",
        from_=WA_FROM,
        body="Votre QR",
        media_urls=["https://boutik.example.gn/media/qr/12.png?e=1&s=x"],
        status_callback="https://boutik.example.gn/webhooks/twilio/status",
    )
    twilio.send(
        to=f"whatsapp:{BUYER}", from_=WA_FROM, content_sid=sid, content_variables={"1": "?"}
    )
    twilio.send(to=BUYER, from_="MG" + "d" * 32, body="via a messaging service")
    assert twilio.find_sent(to=BUYER, body="Course 12: Kaloum > Ratoma", since=since)
    media_path = store.add_media(_png(), "image/png", account_sid=ACCOUNT_SID)
    twilio.fetch_media(f"https://api.twilio.com{media_path}")

    raw = store.raw_requests()
    calls = {contracts.twilio_call(r.method, r.path) for r in raw}
    assert {
        "POST /2010-04-01/Accounts/{AccountSid}/Messages.json",
        "GET /2010-04-01/Accounts/{AccountSid}/Messages.json",
        "GET /2010-04-01/Accounts/{AccountSid}/Messages/{MessageSid}/Media/{Sid}.json",
    } <= calls
    assert contracts.violations(raw) == []


def test_every_telegram_method_we_call_fits_the_description(
    root: str, store: EmulatorStore
) -> None:
    telegram = TelegramSender(BOT_TOKEN, f"{root}/telegram/bot")
    try:
        chat = 5_550_001
        keyboard = {"inline_keyboard": [[{"text": "Accepter", "callback_data": "o:a:12"}]]}
        sent = telegram.send_message(chat, "Nouvelle commande 12", reply_markup=keyboard)
        contact = {
            "keyboard": [[{"text": "Partager mon numéro", "request_contact": True}]],
            "one_time_keyboard": True,
            "resize_keyboard": True,
        }
        telegram.send_message(chat, "Votre numéro ?", reply_markup=contact)
        telegram.send_message(chat, "Le prix ?", reply_markup={"force_reply": True})
        telegram.send_message(chat, "Merci", reply_markup={"remove_keyboard": True})
        message_id = int(sent.provider_id)
        telegram.edit_message_text(chat, message_id, "Commande 12 acceptée", reply_markup=keyboard)
        telegram.edit_message_reply_markup(chat, message_id, None)
        telegram.answer_callback_query("cbq-7", text="Commande acceptée")
        telegram.send_photo(chat, _png(), caption="Produit", reply_markup=keyboard)
        telegram.send_document(chat, b"id;total\n1;1000\n", filename="export.csv", caption="CSV")
        telegram.set_webhook("https://boutik.example.gn/webhooks/telegram", secret_token="s3cret")
        telegram.set_my_commands([("menu", "Menu"), ("stats", "Chiffres")], chat_id=chat)
        telegram.set_my_commands([("menu", "Menu")], language_code="fr")
        photo = next(m for m in store.telegram_messages(chat) if "photo" in m)
        telegram.get_file_bytes(photo["photo"][-1]["file_id"])
    finally:
        telegram.close()

    raw = store.raw_requests()
    methods = {contracts.telegram_method(r.path) for r in raw} - {None}
    assert {
        "sendMessage",
        "editMessageText",
        "editMessageReplyMarkup",
        "sendPhoto",
        "sendDocument",
        "setWebhook",
        "setMyCommands",
        "getFile",
        "answerCallbackQuery",
    } <= methods
    assert contracts.violations(raw) == []


# --- the checker is not blind ------------------------------------------------------------------


def _twilio(**form: str | list[str]) -> RawRequest:
    return RawRequest(
        "POST", MESSAGES, {k: v if isinstance(v, list) else [v] for k, v in form.items()}
    )


def test_an_unknown_or_missing_twilio_parameter_is_a_violation() -> None:
    assert contracts.twilio_violations(_twilio(To=BUYER, From=SMS_FROM, Body="ok")) == []
    [unknown] = contracts.twilio_violations(_twilio(To=BUYER, From=SMS_FROM, Bodyy="typo"))
    assert "unknown parameter 'Bodyy'" in unknown
    [missing] = contracts.twilio_violations(_twilio(From=SMS_FROM, Body="no recipient"))
    assert "required parameter 'To' missing" in missing
    [twice] = contracts.twilio_violations(_twilio(To=BUYER, Body=["a", "b"]))
    assert "Body given 2 times" in twice
    [enum] = contracts.twilio_violations(_twilio(To=BUYER, Body="x", ContentRetention="maybe"))
    assert "ContentRetention" in enum
    assert contracts.twilio_violations(RawRequest("PUT", MESSAGES, {})) != []


def test_a_wrong_telegram_type_field_or_limit_is_a_violation() -> None:
    path = f"/telegram/bot{BOT_TOKEN}/sendMessage"

    def call(method: str = "sendMessage", **params: object) -> list[str]:
        return contracts.telegram_violations(
            RawRequest("POST", path.replace("sendMessage", method), {}, json_body=params)
        )

    assert call(chat_id=1, text="Bonjour") == []
    assert any("required field 'text'" in v for v in call(chat_id=1))
    assert any("unknown field 'txt'" in v for v in call(chat_id=1, text="a", txt="b"))
    assert any("4097 characters" in v for v in call(chat_id=1, text="x" * 4097))
    assert any(
        "expected Integer" in v
        for v in call("editMessageText", chat_id=1, message_id="x", text="a")
    )
    button = {"text": "Oui", "callback_data": "c" * 65}
    markup = {"inline_keyboard": [[button]]}
    assert any("65 bytes" in v for v in call(chat_id=1, text="a", reply_markup=markup))
    assert any(
        "unknown field 'colour'" in v
        for v in call(
            chat_id=1, text="a", reply_markup={"inline_keyboard": [[{"text": "a", "colour": 1}]]}
        )
    )
    assert call("sendNothing", chat_id=1) != []


def test_an_empty_content_variable_is_refused_as_twilio_does(
    root: str, store: EmulatorStore
) -> None:
    from channels_adapters.senders import SendError

    sid = "HX" + "e" * 32
    store.register_content(
        sid, "twilio/quick-reply", {"body": "{{1}}", "actions": [{"title": "{{2}}", "id": "{{3}}"}]}
    )
    twilio = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, root)
    with pytest.raises(SendError) as refused:
        twilio.send(
            to=f"whatsapp:{BUYER}",
            from_=WA_FROM,
            content_sid=sid,
            content_variables={"1": "Choisissez", "2": "", "3": "a"},
        )
    assert (refused.value.code, refused.value.retryable) == ("21656", False)
