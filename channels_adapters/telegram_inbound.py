"""Telegram webhook: secret-token check, update parsing, hand-over to the engine.

Telegram echoes the `secret_token` given to setWebhook in X-Telegram-Bot-Api-Secret-Token;
it is compared in constant time. Without a configured secret every request is refused.
"""

from __future__ import annotations

import hmac
import logging
import math
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from bot.messages import InboundKind, InboundMessage, Media
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
        chat = _id(_dict(_dict(callback.get("message")).get("chat")).get("id"))
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
    update = request.get_json(silent=True)
    if not isinstance(update, dict):
        return Response("", status=200)  # not JSON: nothing Telegram should redeliver
    msg = parse_update(update)
    if msg is not None:
        run_turn(msg)
    return Response("", status=200)
