"""The provider emulators driven through the real SDK senders.

Why: the senders are the only code that talks to Twilio and Telegram; these tests prove that the
official SDKs, pointed at the local emulators by base URL, send what we think, and that every
refusal a provider makes arrives as the right SendError (retry or not, and why).
"""

from __future__ import annotations

import io
import threading
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests
from flask import Flask, request
from PIL import Image
from twilio.request_validator import RequestValidator

from channels_adapters.senders import SendError, SendResult, TelegramSender, TwilioSender
from devtools.emulators import EmulatorStore, create_emulator_app, serve_in_thread
from devtools.emulators.twilio_api import sms_segments
from tests.timing import WAIT_S

ACCOUNT_SID = "AC" + "1f" * 16
AUTH_TOKEN = "emulator-auth-token"
BOT_TOKEN = "123456789:EMULATOR-token_abc"
WA_FROM = "whatsapp:+14155238886"
SMS_FROM = "+12025550100"
BUYER = "+224620000001"
QUICK_REPLY_SID = "HX" + "a" * 32

# PTB 22.2+ reads its own deprecated int `retry_after` inside RetryAfter.__init__; the sender
# never uses the int (it reads the timedelta), so this warning says nothing about our code.
pytestmark = pytest.mark.filterwarnings(
    "ignore:.*attribute `retry_after`:telegram.warnings.PTBDeprecationWarning"
)


@pytest.fixture(scope="module")
def store() -> EmulatorStore:
    return EmulatorStore()


@pytest.fixture(scope="module")
def root(store: EmulatorStore) -> Iterator[str]:
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=BOT_TOKEN,
    )
    base_url, shutdown = serve_in_thread(app)
    yield base_url
    shutdown()


@pytest.fixture(autouse=True)
def _clean(store: EmulatorStore) -> None:
    store.reset()


@pytest.fixture(scope="module")
def twilio(root: str) -> TwilioSender:
    return TwilioSender(ACCOUNT_SID, AUTH_TOKEN, root)


@pytest.fixture(scope="module")
def telegram(root: str) -> Iterator[TelegramSender]:
    sender = TelegramSender(BOT_TOKEN, f"{root}/telegram/bot")
    yield sender
    sender.close()


def _png(color: str = "red") -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", (4, 3), color).save(buffer, format="PNG")
    return buffer.getvalue()


def _quick_reply(n_buttons: int = 2, title_len: int = 5) -> dict[str, Any]:
    return {
        "body": "Bonjour {{1}}, que voulez-vous ?",
        "actions": [{"title": "x" * title_len, "id": f"b{i}"} for i in range(n_buttons)],
    }


# ---------------------------------------------------------------------- Twilio: accepted


def test_sms_is_recorded_with_carrier_segments(twilio: TwilioSender, store: EmulatorStore) -> None:
    result = twilio.send(to=BUYER, from_=SMS_FROM, body="a" * 161)

    assert isinstance(result, SendResult)
    assert result.provider_id.startswith("SM") and len(result.provider_id) == 34
    assert result.segments == 2
    [message] = store.twilio_messages(to=BUYER)
    assert message.channel == "sms"
    assert (message.sid, message.from_, message.body) == (result.provider_id, SMS_FROM, "a" * 161)
    assert message.status == "queued"
    assert message.num_segments == 2


def test_whatsapp_text_and_media_are_recorded(twilio: TwilioSender, store: EmulatorStore) -> None:
    to = f"whatsapp:{BUYER}"
    text = twilio.send(to=to, from_=WA_FROM, body="Votre commande est prête ✅")
    media = twilio.send(
        to=to, from_=WA_FROM, body="Photo", media_urls=["https://example.org/p/1.jpg"]
    )

    messages = store.twilio_messages(to=to)
    assert [m.sid for m in messages] == [text.provider_id, media.provider_id]
    assert all(m.channel == "whatsapp" for m in messages)
    assert messages[0].body == "Votre commande est prête ✅"
    assert messages[1].media_urls == ("https://example.org/p/1.jpg",)
    assert text.segments == 1


def test_whatsapp_quick_reply_content_is_recorded(
    twilio: TwilioSender, store: EmulatorStore
) -> None:
    store.register_content(QUICK_REPLY_SID, "twilio/quick-reply", _quick_reply())
    to = f"whatsapp:{BUYER}"

    result = twilio.send(
        to=to, from_=WA_FROM, content_sid=QUICK_REPLY_SID, content_variables={"1": "Awa"}
    )

    message = store.twilio_message(result.provider_id)
    assert message is not None
    assert message.content_sid == QUICK_REPLY_SID
    assert message.content_variables == {"1": "Awa"}
    assert message.body == "Bonjour Awa, que voulez-vous ?"


def test_message_resource_can_be_fetched(twilio: TwilioSender, root: str) -> None:
    sid = twilio.send(to=BUYER, from_=SMS_FROM, body="hi").provider_id
    url = f"{root}/2010-04-01/Accounts/{ACCOUNT_SID}/Messages/{sid}.json"

    fetched = requests.get(url, auth=(ACCOUNT_SID, AUTH_TOKEN), timeout=WAIT_S)
    anonymous = requests.get(url, timeout=WAIT_S)

    assert fetched.status_code == 200
    assert fetched.json()["sid"] == sid and fetched.json()["status"] == "queued"
    assert anonymous.status_code == 401 and anonymous.json()["code"] == 20003


# ---------------------------------------------------------------------- Twilio: refused


def test_wrong_credentials_are_terminal(root: str, store: EmulatorStore) -> None:
    sender = TwilioSender(ACCOUNT_SID, "not-the-token", root)

    with pytest.raises(SendError) as caught:
        sender.send(to=BUYER, from_=SMS_FROM, body="hi")

    assert caught.value.retryable is False
    assert caught.value.code == "20003"
    assert store.twilio_messages() == []


def test_throttling_is_retryable_with_retry_after(
    twilio: TwilioSender, store: EmulatorStore
) -> None:
    store.fail_next(1, status=429, code=20429, retry_after=7)

    with pytest.raises(SendError) as caught:
        twilio.send(to=BUYER, from_=SMS_FROM, body="hi")

    assert caught.value.retryable is True
    assert caught.value.code == "20429"
    assert caught.value.retry_after == 7.0
    twilio.send(to=BUYER, from_=SMS_FROM, body="hi")  # only the next request failed
    assert len(store.twilio_messages()) == 1


@pytest.mark.parametrize(("status", "code"), [(503, None), (500, None), (429, 63018)])
def test_server_errors_and_rate_limits_are_retryable(
    twilio: TwilioSender, store: EmulatorStore, status: int, code: int | None
) -> None:
    store.fail_next(1, status=status, code=code, provider="twilio")

    with pytest.raises(SendError) as caught:
        twilio.send(to=BUYER, from_=SMS_FROM, body="hi")

    assert caught.value.retryable is True
    assert caught.value.retry_after is None


def test_opted_out_recipient_is_terminal(twilio: TwilioSender, store: EmulatorStore) -> None:
    store.opted_out.add(BUYER)

    with pytest.raises(SendError) as caught:
        twilio.send(to=BUYER, from_=SMS_FROM, body="hi")

    error = caught.value
    assert (error.code, error.retryable, error.opted_out) == ("21610", False, True)
    assert store.twilio_rejections()[-1].code == 21610


@pytest.mark.parametrize("to", ["0620000001", "+0620000001", "whatsapp:620000001", "+22462abc"])
def test_non_e164_number_is_terminal(twilio: TwilioSender, to: str) -> None:
    from_ = WA_FROM if to.startswith("whatsapp:") else SMS_FROM

    with pytest.raises(SendError) as caught:
        twilio.send(to=to, from_=from_, body="hi")

    assert (caught.value.code, caught.value.retryable) == ("21211", False)


def test_closed_window_refuses_free_form_but_not_approved_template(
    twilio: TwilioSender, store: EmulatorStore
) -> None:
    to = f"whatsapp:{BUYER}"
    store.closed_windows.add(BUYER)
    store.register_content(QUICK_REPLY_SID, "quick-reply", _quick_reply())
    template_sid = "HX" + "b" * 32
    store.register_content(
        template_sid, "twilio/text", {"body": "Commande {{1}} livrée"}, approved_template=True
    )

    for attempt in ({"body": "hi"}, {"content_sid": QUICK_REPLY_SID}):
        with pytest.raises(SendError) as caught:
            twilio.send(to=to, from_=WA_FROM, **attempt)
        error = caught.value
        assert (error.code, error.retryable, error.outside_window) == ("63016", False, True)

    result = twilio.send(
        to=to, from_=WA_FROM, content_sid=template_sid, content_variables={"1": "B-17"}
    )
    assert store.twilio_message(result.provider_id).body == "Commande B-17 livrée"  # type: ignore[union-attr]
    twilio.send(to=BUYER, from_=SMS_FROM, body="SMS has no such window")


def test_unknown_content_sid_is_terminal(twilio: TwilioSender) -> None:
    with pytest.raises(SendError) as caught:
        twilio.send(to=f"whatsapp:{BUYER}", from_=WA_FROM, content_sid="HX" + "0" * 32)

    assert (caught.value.code, caught.value.retryable) == ("21655", False)


@pytest.mark.parametrize(
    ("to", "from_", "length", "accepted"),
    [
        (BUYER, SMS_FROM, 1600, True),
        (BUYER, SMS_FROM, 1601, False),
        (f"whatsapp:{BUYER}", WA_FROM, 4096, True),
        (f"whatsapp:{BUYER}", WA_FROM, 4097, False),
    ],
)
def test_body_length_limits(
    twilio: TwilioSender, to: str, from_: str, length: int, accepted: bool
) -> None:
    if accepted:
        twilio.send(to=to, from_=from_, body="a" * length)
        return
    with pytest.raises(SendError) as caught:
        twilio.send(to=to, from_=from_, body="a" * length)
    assert (caught.value.code, caught.value.retryable) == ("21617", False)


def test_register_content_enforces_whatsapp_limits(store: EmulatorStore) -> None:
    store.register_content("HX1", "twilio/quick-reply", _quick_reply(3, 20))
    rows = [{"item": "r" * 24, "id": f"r{i}"} for i in range(10)]
    store.register_content(
        "HX2", "twilio/list-picker", {"body": "Choisissez", "button": "Voir", "items": rows}
    )

    with pytest.raises(ValueError, match="at most 3"):
        store.register_content("HX3", "twilio/quick-reply", _quick_reply(4))
    with pytest.raises(ValueError, match="at most 20"):
        store.register_content("HX4", "twilio/quick-reply", _quick_reply(2, 21))
    too_long_row = [{"item": "r" * 25, "id": "r0"}]
    with pytest.raises(ValueError, match="at most 24"):
        store.register_content(
            "HX5", "list-picker", {"body": "b", "button": "Voir", "items": too_long_row}
        )
    eleven = [{"item": "r", "id": f"r{i}"} for i in range(11)]
    with pytest.raises(ValueError, match="at most 10"):
        store.register_content(
            "HX6", "list-picker", {"body": "b", "button": "Voir", "items": eleven}
        )
    assert store.content("HX3") is None


# ---------------------------------------------------------------------- Twilio: callbacks, media


@pytest.fixture
def receiver() -> Iterator[tuple[str, list[dict[str, str]]]]:
    """A tiny app that validates X-Twilio-Signature the way Boutik's webhook must."""
    received: list[dict[str, str]] = []
    app = Flask("status_receiver")

    @app.post("/twilio/status")
    def status() -> tuple[str, int]:
        signature = request.headers.get("X-Twilio-Signature", "")
        if not RequestValidator(AUTH_TOKEN).validate(request.url, request.form, signature):
            return "", 403
        received.append(request.form.to_dict())
        return "", 204

    base_url, shutdown = serve_in_thread(app)
    yield base_url, received
    shutdown()


def test_status_callback_is_signed_like_twilio(
    twilio: TwilioSender, store: EmulatorStore, receiver: tuple[str, list[dict[str, str]]]
) -> None:
    base_url, received = receiver
    callback = f"{base_url}/twilio/status?attempt=1"
    sid = twilio.send(
        to=f"whatsapp:{BUYER}", from_=WA_FROM, body="hi", status_callback=callback
    ).provider_id

    assert store.post_status_callback(sid, "delivered", auth_token=AUTH_TOKEN) == 204
    assert store.post_status_callback(sid, "failed", auth_token=AUTH_TOKEN, error_code=63016) == 204
    assert store.post_status_callback(sid, "read", auth_token="wrong-token") == 403

    assert [r["MessageStatus"] for r in received] == ["delivered", "failed"]
    assert received[0]["MessageSid"] == sid
    assert received[0]["AccountSid"] == ACCOUNT_SID
    assert (received[0]["From"], received[0]["To"]) == (WA_FROM, f"whatsapp:{BUYER}")
    assert "ErrorCode" not in received[0] and received[1]["ErrorCode"] == "63016"
    message = store.twilio_message(sid)
    assert message is not None and message.status_history[-1] == "read"


def test_advance_status_returns_the_callback_and_refuses_read_on_sms(
    twilio: TwilioSender, store: EmulatorStore
) -> None:
    sid = twilio.send(
        to=BUYER, from_=SMS_FROM, body="hi", status_callback="https://boutik.example/s"
    ).provider_id

    url, params = store.advance_status(sid, "sent")

    assert url == "https://boutik.example/s"
    assert params["MessageStatus"] == "sent" and params["MessageSid"] == sid
    with pytest.raises(ValueError):
        store.advance_status(sid, "read")


def test_fetch_media_uses_account_auth_and_rewrites_twilio_urls(
    twilio: TwilioSender, store: EmulatorStore, root: str
) -> None:
    path = store.add_media(b"\xff\xd8jpeg", "image/jpeg", account_sid=ACCOUNT_SID)

    assert twilio.fetch_media(f"https://api.twilio.com{path}") == (b"\xff\xd8jpeg", "image/jpeg")
    assert twilio.fetch_media(f"{root}{path}")[0] == b"\xff\xd8jpeg"
    assert requests.get(f"{root}{path}", timeout=WAIT_S).status_code == 401
    with pytest.raises(SendError) as missing:
        twilio.fetch_media(f"https://api.twilio.com{path[:-4]}beef")
    assert missing.value.retryable is True  # Twilio media can lag behind the webhook
    with pytest.raises(SendError) as foreign:
        twilio.fetch_media("https://evil.example/steal")
    assert (foreign.value.code, foreign.value.retryable) == ("untrusted_url", False)


@pytest.mark.parametrize(
    ("text", "segments"),
    [
        ("a" * 160, 1),
        ("a" * 161, 2),
        ("a" * 306, 2),
        ("a" * 307, 3),
        ("é è à ù Ç Ä Ñ ü" * 10, 1),
        ("ê" * 70, 1),
        ("ê" * 71, 2),
        ("€" * 80, 1),
        ("€" * 81, 2),
        ("😀" * 35, 1),
        ("😀" * 36, 2),
    ],
)
def test_sms_segments_count_like_a_carrier(text: str, segments: int) -> None:
    assert sms_segments(text) == segments


# ---------------------------------------------------------------------- Telegram


def test_send_message_with_inline_keyboard(telegram: TelegramSender, store: EmulatorStore) -> None:
    keyboard = {"inline_keyboard": [[{"text": "Accepter", "callback_data": "order:17:accept"}]]}

    first = telegram.send_message(4242, "Nouvelle commande", reply_markup=keyboard)
    second = telegram.send_message(4242, "Encore une")

    assert (first.provider_id, second.provider_id) == ("1", "2")
    [call, _] = store.telegram_calls("sendMessage", chat_id=4242)
    assert call.ok and call.params["reply_markup"] == keyboard
    assert store.telegram_messages(4242)[0]["reply_markup"] == keyboard


def test_reply_keyboard_requesting_contact(telegram: TelegramSender, store: EmulatorStore) -> None:
    keyboard = {
        "keyboard": [[{"text": "Partager mon numéro", "request_contact": True}]],
        "one_time_keyboard": True,
        "resize_keyboard": True,
    }

    telegram.send_message(77, "Votre numéro ?", reply_markup=keyboard)

    [call] = store.telegram_calls("sendMessage")
    assert call.params["reply_markup"]["keyboard"][0][0]["request_contact"] is True
    with pytest.raises(SendError) as caught:
        telegram.send_message(-100123, "Votre numéro ?", reply_markup=keyboard)
    assert (caught.value.code, caught.value.retryable) == ("400", False)


def test_send_photo_bytes_then_get_file_returns_them(
    telegram: TelegramSender, store: EmulatorStore
) -> None:
    png = _png()

    result = telegram.send_photo(9, png, caption="Robe wax, 150 000 GNF")

    [call] = store.telegram_calls("sendPhoto", chat_id=9)
    assert call.files["photo"].data == png
    message = store.telegram_messages(9)[0]
    assert message["message_id"] == int(result.provider_id)
    assert message["caption"] == "Robe wax, 150 000 GNF"
    assert telegram.get_file_bytes(message["photo"][0]["file_id"]) == png


def test_send_photo_refuses_non_images_and_long_captions(telegram: TelegramSender) -> None:
    with pytest.raises(SendError, match=r"(?i)IMAGE_PROCESS_FAILED"):
        telegram.send_photo(9, b"not an image")
    with pytest.raises(SendError, match=r"(?i)caption is too long"):
        telegram.send_photo(9, _png(), caption="c" * 1025)


def test_get_file_and_download(telegram: TelegramSender, store: EmulatorStore, root: str) -> None:
    store.add_file("FILE-1", b"seller photo", file_path="photos/file_1.jpg")

    assert telegram.get_file_bytes("FILE-1") == b"seller photo"
    with pytest.raises(SendError) as caught:
        telegram.get_file_bytes("nope")
    assert (caught.value.code, caught.value.retryable) == ("400", False)
    wrong = requests.get(f"{root}/telegram/file/bot1:bad/photos/file_1.jpg", timeout=WAIT_S)
    assert wrong.status_code == 401


def test_callback_data_over_64_bytes_is_terminal(telegram: TelegramSender) -> None:
    fits = {"inline_keyboard": [[{"text": "ok", "callback_data": "é" * 32}]]}  # 64 bytes
    too_long = {"inline_keyboard": [[{"text": "ok", "callback_data": "é" * 32 + "x"}]]}

    telegram.send_message(5, "fits", reply_markup=fits)
    with pytest.raises(SendError) as caught:
        telegram.send_message(5, "too long", reply_markup=too_long)

    assert (caught.value.code, caught.value.retryable) == ("400", False)
    assert "BUTTON_DATA_INVALID" in caught.value.reason.upper()  # PTB recases it


def test_text_limits_and_markdown_escapes(telegram: TelegramSender) -> None:
    telegram.send_message(5, "x" * 4096)
    with pytest.raises(SendError, match=r"(?i)message is too long"):
        telegram.send_message(5, "x" * 4097)
    telegram.send_message(5, r"Total : 150 000 GNF\.", parse_mode="MarkdownV2")
    with pytest.raises(SendError, match=r"(?i)reserved"):
        telegram.send_message(5, "Total : 150 000 GNF.", parse_mode="MarkdownV2")
    with pytest.raises(SendError, match=r"(?i)end tag"):
        telegram.send_message(5, "<b>gras", parse_mode="HTML")


def test_blocked_chat_is_terminal_and_flagged(
    telegram: TelegramSender, store: EmulatorStore
) -> None:
    store.blocked_chats.add(666)

    with pytest.raises(SendError) as caught:
        telegram.send_message(666, "hello")

    error = caught.value
    assert (error.code, error.retryable, error.blocked) == ("403", False, True)


def test_flood_control_carries_retry_after(telegram: TelegramSender, store: EmulatorStore) -> None:
    telegram.send_message(1, "warm-up")  # the bot is initialized: the failure hits sendMessage
    store.fail_next(1, status=429, retry_after=3, provider="telegram")

    with pytest.raises(SendError) as caught:
        telegram.send_message(1, "hello")

    error = caught.value
    assert (error.code, error.retryable, error.retry_after) == ("429", True, 3.0)
    telegram.send_message(1, "after the wait")


def test_server_error_is_retryable(telegram: TelegramSender, store: EmulatorStore) -> None:
    telegram.send_message(1, "warm-up")
    store.fail_next(1, status=502, provider="telegram")

    with pytest.raises(SendError) as caught:
        telegram.send_message(1, "hello")

    assert caught.value.retryable is True


def test_set_webhook_records_url_and_secret(telegram: TelegramSender, store: EmulatorStore) -> None:
    telegram.set_webhook("https://boutik.example/telegram/webhook", "s3cret_-TOKEN")

    webhook = store.telegram_webhook
    assert webhook is not None
    assert webhook["url"] == "https://boutik.example/telegram/webhook"
    assert webhook["secret_token"] == "s3cret_-TOKEN"
    with pytest.raises(SendError, match=r"(?i)unallowed characters"):
        telegram.set_webhook("https://boutik.example/telegram/webhook", "not allowed!")


def test_commands_callback_answers_and_edits(
    telegram: TelegramSender, store: EmulatorStore
) -> None:
    telegram.set_my_commands([("start", "Démarrer"), ("stock", "Mon stock")], language_code="fr")
    telegram.answer_callback_query("cbq-1", text="Commande acceptée")
    keyboard = {"inline_keyboard": [[{"text": "Accepter", "callback_data": "a"}]]}
    message_id = int(telegram.send_message(8, "Commande B-17", reply_markup=keyboard).provider_id)
    telegram.edit_message_text(8, message_id, "Commande B-17 : acceptée")

    assert store.telegram_commands(language_code="fr") == [
        {"command": "start", "description": "Démarrer"},
        {"command": "stock", "description": "Mon stock"},
    ]
    [answer] = store.telegram_calls("answerCallbackQuery")
    assert answer.params["callback_query_id"] == "cbq-1"
    [edited] = store.telegram_messages(8)
    assert edited["text"] == "Commande B-17 : acceptée" and "reply_markup" not in edited
    with pytest.raises(SendError, match=r"(?i)not modified"):
        telegram.edit_message_text(8, message_id, "Commande B-17 : acceptée")
    with pytest.raises(SendError, match=r"(?i)BOT_COMMAND_INVALID"):
        telegram.set_my_commands([("Bad-Command", "x")])


def test_wrong_bot_token_is_terminal_and_not_leaked(root: str) -> None:
    secret = "987654:SECRET-should-never-appear"
    with (
        TelegramSender(secret, f"{root}/telegram/bot") as sender,
        pytest.raises(SendError) as caught,
    ):
        sender.send_message(1, "hi")

    assert (caught.value.code, caught.value.retryable) == ("401", False)
    assert secret not in str(caught.value) and secret not in repr(caught.value)


def test_raw_bot_api_errors_are_shaped_like_telegram(root: str, store: EmulatorStore) -> None:
    unauthorized = requests.post(f"{root}/telegram/bot1:bad/getMe", timeout=WAIT_S)
    store.fail_next(1, status=429, retry_after=3)
    throttled = requests.post(
        f"{root}/telegram/bot{BOT_TOKEN}/sendMessage",
        json={"chat_id": 1, "text": "x"},
        timeout=WAIT_S,
    )

    assert unauthorized.status_code == 401
    assert unauthorized.json() == {"ok": False, "error_code": 401, "description": "Unauthorized"}
    assert throttled.status_code == 429
    assert throttled.json() == {
        "ok": False,
        "error_code": 429,
        "description": "Too Many Requests: retry after 3",
        "parameters": {"retry_after": 3},
    }


def test_many_sends_reuse_one_loop_and_one_bot(root: str, store: EmulatorStore) -> None:
    with TelegramSender(BOT_TOKEN, f"{root}/telegram/bot") as sender:
        # CPU time of this process (the sender, its loop and the emulator's threads): what the
        # sends cost, which other jobs on a busy machine do not inflate as they do wall time.
        started = time.process_time()
        for i in range(200):
            sender.send_message(31, f"message {i}")
        cpu = time.process_time() - started
        loop_threads = [t for t in threading.enumerate() if t.name == "telegram-sender"]

    assert cpu < 5.0, f"200 sends took {cpu:.2f} s of CPU"
    assert len(store.telegram_calls("getMe")) == 1
    assert len(store.telegram_calls("sendMessage", chat_id=31)) == 200
    assert store.telegram_messages(31)[-1]["message_id"] == 200
    # The module-wide sender may own one loop thread as well; this one added exactly one.
    assert 1 <= len(loop_threads) <= 2


def test_sender_can_be_used_from_many_threads(
    telegram: TelegramSender, store: EmulatorStore
) -> None:
    errors: list[BaseException] = []

    def worker(chat: int) -> None:
        try:
            for _ in range(10):
                telegram.send_message(chat, "parallel")
        except BaseException as exc:  # surfaced by the assertion below
            errors.append(exc)

    threads = [threading.Thread(target=worker, args=(100 + i,)) for i in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert errors == []
    assert len(store.telegram_calls("sendMessage")) == 80
    assert {m["message_id"] for m in store.telegram_messages(103)} == set(range(1, 11))


def test_twilio_sender_reads_proxies_once_unless_one_is_configured(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    """No proxy at start: requests stops re-reading the environment per send. A proxy: kept."""
    for var in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "http_proxy", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(var, raising=False)
    plain = TwilioSender(ACCOUNT_SID, AUTH_TOKEN, "http://127.0.0.1:9")
    assert plain._http.session is not None and plain._http.session.trust_env is False
    monkeypatch.setenv("HTTPS_PROXY", "http://proxy.example:3128")
    proxied = TwilioSender(ACCOUNT_SID, AUTH_TOKEN)
    assert proxied._http.session is not None and proxied._http.session.trust_env is True
