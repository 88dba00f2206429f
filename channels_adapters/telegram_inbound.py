"""Telegram webhook: secret-token check, update parsing, hand-over to the engine.

Telegram echoes the `secret_token` given to setWebhook in X-Telegram-Bot-Api-Secret-Token;
it is compared in constant time. Without a configured secret every request is refused.

With the right secret, a body that is not an update as the Bot API describes it (not UTF-8,
not JSON, nested absurdly deep, or a field we read of the wrong type: `checked_update`) is a
400 and nothing is stored; an update of a kind we do not act on is a 200, also storing nothing.
"""

from __future__ import annotations

import hmac
import logging
import math
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from bot.messages import InboundKind, InboundMessage, Media
from channels_adapters import payloads
from channels_adapters.payloads import MalformedPayload
from channels_adapters.turns import run_turn
from commerce.users.models import Channel

log = logging.getLogger(__name__)
bp = Blueprint("telegram", __name__)


def authenticate() -> None:
    secret = current_app.extensions["boutik"].config.secrets.telegram_webhook_secret
    given = request.headers.get("X-Telegram-Bot-Api-Secret-Token", "")
    if not secret or not hmac.compare_digest(secret.encode(), given.encode()):
        abort(403)


# Telegram's user and chat ids have at most 52 significant bits (Bot API docs); anything
# wider, or not an int at all, is not from Telegram and would not fit the BigInteger column.
MAX_ID = 2**53


def _id(value: Any) -> int | None:
    """A Telegram id, or None: JSON `true` is an int to Python, and never an id."""
    if type(value) is not int or not -MAX_ID < value < MAX_ID:
        return None
    return value


# Telegram's file_id is ~80 characters of base64url; it is stored as "telegram:<file_id>".
MAX_FILE_ID = 200


def _required_id(value: Any, field: str) -> int:
    if _id(value) is None:
        raise MalformedPayload(f"{field} is not a Telegram id")
    return value


def _object(value: Any, field: str, *, required: bool = False) -> dict[str, Any] | None:
    if value is None and not required:
        return None
    if not isinstance(value, dict):
        raise MalformedPayload(f"{field} is not an object")
    return value


def _checked_user(value: Any, field: str, *, required: bool) -> dict[str, Any] | None:
    user = _object(value, field, required=required)
    if user is None:
        return None
    _required_id(user.get("id"), f"{field}.id")
    cleaned = dict(user)
    for name in ("first_name", "last_name"):
        if name in user:
            cleaned[name] = payloads.text(user[name], f"{field}.{name}")
    return cleaned


def _checked_chat(value: Any, field: str, *, required: bool) -> None:
    chat = _object(value, field, required=required)
    if chat is not None:
        _required_id(chat.get("id"), f"{field}.id")


def _checked_message(value: Any) -> dict[str, Any]:
    message = _object(value, "message", required=True)
    assert message is not None
    cleaned = dict(message)
    _checked_chat(message.get("chat"), "message.chat", required=True)
    if "from" in message:  # absent in channels: a valid message we have no one to answer
        cleaned["from"] = _checked_user(message["from"], "message.from", required=False)
    for name in ("text", "caption"):
        if name in message:
            cleaned[name] = payloads.text(message[name], f"message.{name}")
    contact = _object(message.get("contact"), "message.contact")
    if contact is not None:
        payloads.token(contact.get("phone_number"), "contact.phone_number", max_len=40)
        if contact.get("user_id") is not None:
            _required_id(contact["user_id"], "contact.user_id")
    location = _object(message.get("location"), "message.location")
    if location is not None:
        for name in ("latitude", "longitude"):
            if type(location.get(name)) not in (int, float):
                raise MalformedPayload(f"location.{name} is not a number")
    photo = message.get("photo")
    if photo is not None:
        if not isinstance(photo, list):
            raise MalformedPayload("message.photo is not a list")
        for size in photo:
            size = _object(size, "message.photo[]", required=True)
            assert size is not None
            payloads.token(
                size.get("file_id"), "photo.file_id", max_len=MAX_FILE_ID, ascii_only=True
            )
    return cleaned


def _checked_callback(value: Any) -> dict[str, Any]:
    callback = _object(value, "callback_query", required=True)
    assert callback is not None
    cleaned = dict(callback)
    payloads.token(callback.get("id"), "callback_query.id", max_len=64, ascii_only=True)
    cleaned["from"] = _checked_user(callback.get("from"), "callback_query.from", required=True)
    payloads.token(callback.get("data"), "callback_query.data", max_len=64)
    message = _object(callback.get("message"), "callback_query.message")
    if message is not None:
        _checked_chat(message.get("chat"), "callback_query.message.chat", required=False)
    return cleaned


def checked_update(update: dict[str, Any]) -> dict[str, Any]:
    """The update with NUL dropped from what people typed; MalformedPayload if a field we read
    breaks the Bot API's types (update_id not an id, a message or a callback that is no object,
    a message without its chat, a sender without an id, a text that is no string…).

    Only the fields `parse_update` reads are judged: update kinds we ignore stay ignored.
    """
    update_id = update.get("update_id")
    if type(update_id) is not int or not 0 <= update_id < MAX_ID:
        raise MalformedPayload("update_id is not an update id")
    cleaned = dict(update)
    if update.get("callback_query") is not None:
        cleaned["callback_query"] = _checked_callback(update["callback_query"])
    if update.get("message") is not None:
        cleaned["message"] = _checked_message(update["message"])
    return cleaned


def _dict(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _str(value: Any) -> str:
    return value if isinstance(value, str) else ""


def _coordinate(value: Any, bound: float) -> float | None:
    if type(value) not in (int, float) or not math.isfinite(value) or abs(value) > bound:
        return None
    return float(value)


def _name(user: dict[str, Any]) -> str:
    return " ".join(p for p in (_str(user.get("first_name")), _str(user.get("last_name"))) if p)[
        :120
    ]


def _largest_photo(sizes: Any) -> Media | None:
    """The biggest size of a photo; None unless at least one size has a file id."""
    usable = [
        p
        for p in (sizes if isinstance(sizes, list) else [])
        if isinstance(p, dict) and _str(p.get("file_id"))
    ]
    if not usable:
        return None

    def size(p: dict[str, Any]) -> int:
        return next((v for v in (p.get("file_size"), p.get("width")) if type(v) is int), 0)

    return Media(file_id=_str(max(usable, key=size)["file_id"]), content_type="image/jpeg")


def parse_update(update: dict[str, Any]) -> InboundMessage | None:
    """A Telegram update as a channel-neutral message; None for updates we do not act on.

    Every field is type-checked: the body is JSON from the network, and a field of the wrong
    type (a number for a text, a list for a chat) must become "nothing to act on", not a 500.
    """
    update_id = update.get("update_id")
    if type(update_id) is not int:
        return None
    base: dict[str, Any] = {"provider": "telegram", "external_id": str(update_id)}
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        sender = _dict(callback.get("from"))
        sender_id = _id(sender.get("id"))
        if sender_id is None:
            return None  # a tap from nobody: no one to answer
        tapped = _dict(callback.get("message"))
        chat = _id(_dict(tapped.get("chat")).get("id"))
        return InboundMessage(
            **base,
            channel=Channel.TELEGRAM,
            address=str(chat if chat is not None else sender_id),
            kind=InboundKind.BUTTON,
            payload=_str(callback.get("data"))[:64],
            text="",
            telegram_user_id=sender_id,
            profile_name=_name(sender),
            callback_query_id=_str(callback.get("id"))[:64],
            source_message_id=_id(tapped.get("message_id")),
        )
    message = update.get("message")
    if not isinstance(message, dict):
        return None  # edited messages, channel posts, member updates: nothing to answer
    sender = _dict(message.get("from"))
    chat_id, sender_id = _id(_dict(message.get("chat")).get("id")), _id(sender.get("id"))
    if chat_id is None or sender_id is None:
        return None
    common: dict[str, Any] = {
        **base,
        "channel": Channel.TELEGRAM,
        "address": str(chat_id),
        "telegram_user_id": sender_id,
        "profile_name": _name(sender),
    }
    text = _str(message.get("text")) or _str(message.get("caption"))
    if "contact" in message:
        contact = _dict(message["contact"])
        return InboundMessage(
            **common,
            kind=InboundKind.CONTACT,
            contact_phone=_str(contact.get("phone_number"))[:40],
            contact_user_id=_id(contact.get("user_id")),
        )
    loc = _dict(message.get("location"))
    lat, lng = _coordinate(loc.get("latitude"), 90), _coordinate(loc.get("longitude"), 180)
    if lat is not None and lng is not None:
        return InboundMessage(**common, kind=InboundKind.LOCATION, latitude=lat, longitude=lng)
    photo = _largest_photo(message.get("photo"))
    if photo is not None:
        return InboundMessage(**common, kind=InboundKind.MEDIA, text=text, media=(photo,))
    if text.startswith("/"):
        return InboundMessage(**common, kind=InboundKind.COMMAND, text=text)
    return InboundMessage(**common, kind=InboundKind.TEXT, text=text)


@bp.post("/webhooks/telegram")
def webhook() -> Response:
    authenticate()
    update = checked_update(payloads.load_json_object(request.get_data(cache=False)))
    msg = parse_update(update)
    if msg is not None:
        run_turn(msg)
    return Response("", status=200)
