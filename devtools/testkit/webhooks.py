"""Building provider requests exactly as the providers do: signed Twilio forms, Telegram JSON.

A Telegram update posted here is held to the Bot API description (`post_telegram` checks it):
a builder that invents a field or leaves out a required one would teach our webhook to accept
what Telegram never sends. Tests that post a broken update on purpose say `off_spec=True`.
"""

from __future__ import annotations

import itertools
from typing import Any

from flask.testing import FlaskClient
from twilio.request_validator import RequestValidator

from devtools.contracts import telegram_update_violations

AUTH_TOKEN = "test-twilio-auth-token-0123456789ab"
ACCOUNT_SID = "AC" + "0" * 32
TELEGRAM_TOKEN = "123456:TEST-telegram-token"
TELEGRAM_SECRET = "test_webhook_secret-42"
PUBLIC = "https://boutik.example.gn"
# The bot as getMe describes it (the emulator answers the same for TELEGRAM_TOKEN).
BOT_USER = {"id": 123456, "is_bot": True, "first_name": "Boutik", "username": "boutik_bot"}

_sids = itertools.count(1)
_updates = itertools.count(10_000)


def message_sid() -> str:
    return f"SM{next(_sids):032x}"


def twilio_signature(url: str, params: dict[str, str], token: str = AUTH_TOKEN) -> str:
    return RequestValidator(token).compute_signature(url, params)


def whatsapp_form(phone: str, body: str = "", **extra: str) -> dict[str, str]:
    form = {
        "MessageSid": message_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": f"whatsapp:{phone}",
        "To": "whatsapp:+14155238886",
        "Body": body,
        "NumMedia": "0",
        "WaId": phone.lstrip("+"),
        "ProfileName": "Mariama Diallo",
        "MessageType": "text",
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def sms_form(phone: str, body: str, **extra: str) -> dict[str, str]:
    form = {
        "MessageSid": message_sid(),
        "AccountSid": ACCOUNT_SID,
        "From": phone,
        "To": "+12025550100",
        "Body": body,
        "NumMedia": "0",
        "FromCountry": "GN",
        "ApiVersion": "2010-04-01",
    }
    form.update(extra)
    return form


def post_twilio(
    client: FlaskClient,
    path: str,
    form: dict[str, str],
    *,
    public: str = PUBLIC,
    token: str = AUTH_TOKEN,
    signature: str | None = None,
) -> Any:
    sig = signature if signature is not None else twilio_signature(public + path, form, token)
    headers = {"X-Twilio-Signature": sig} if sig else {}
    return client.post(path, data=form, headers=headers)


def telegram_message(user_id: int, text: str, **extra: Any) -> dict[str, Any]:
    """A private-chat message; `text` "" gives none (a contact, a location, a photo…)."""
    update: dict[str, Any] = {
        "update_id": next(_updates),
        "message": {
            "message_id": next(_updates),
            "date": 1_763_000_000,
            "chat": {"id": user_id, "type": "private", "first_name": "Aissatou"},
            "from": {
                "id": user_id,
                "is_bot": False,
                "first_name": "Aissatou",
                "language_code": "fr",
            },
        },
    }
    if text:  # Telegram sends no empty text: a message without text has no `text` field
        update["message"]["text"] = text
    if text.startswith("/"):
        update["message"]["entities"] = [
            {"type": "bot_command", "offset": 0, "length": len(text.split()[0])}
        ]
    update["message"].update(extra)
    return update


def telegram_callback(user_id: int, data: str, *, message_id: int = 1) -> dict[str, Any]:
    """A tap on an inline button of the bot's message `message_id` in the user's private chat."""
    return {
        "update_id": next(_updates),
        "callback_query": {
            "id": str(next(_updates)),
            "from": {"id": user_id, "is_bot": False, "first_name": "Aissatou"},
            "chat_instance": "1",
            "data": data,
            # The bot's own message the button was on, as Telegram gives it back.
            "message": {
                "message_id": message_id,
                "from": BOT_USER,
                "date": 1_763_000_000,
                "chat": {"id": user_id, "type": "private", "first_name": "Aissatou"},
                "text": "Boutik",
            },
        },
    }


class OffSpecUpdate(AssertionError):
    """An update Telegram could not send, posted by a test that did not say it meant to."""


def post_telegram(
    client: FlaskClient,
    update: Any,
    *,
    secret: str = TELEGRAM_SECRET,
    off_spec: bool = False,
) -> Any:
    """POST `update` to our webhook as Telegram does; off-spec only when the test says so."""
    if not off_spec and (found := telegram_update_violations(update)):
        raise OffSpecUpdate("not an Update Telegram could send:\n" + "\n".join(found[:10]))
    headers = {"X-Telegram-Bot-Api-Secret-Token": secret} if secret else {}
    return client.post("/webhooks/telegram", json=update, headers=headers)
