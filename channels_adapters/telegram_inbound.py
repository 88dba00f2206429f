"""Telegram webhook: secret-token check, update parsing, hand-over to the engine.

Telegram echoes the `secret_token` given to setWebhook in X-Telegram-Bot-Api-Secret-Token;
it is compared in constant time. Without a configured secret every request is refused.
"""

from __future__ import annotations

import hmac
import logging
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


def _name(user: dict[str, Any]) -> str:
    return " ".join(p for p in (user.get("first_name"), user.get("last_name")) if p)[:120]


def parse_update(update: dict[str, Any]) -> InboundMessage | None:
    """A Telegram update as a channel-neutral message; None for updates we do not act on."""
    update_id = update.get("update_id")
    if not isinstance(update_id, int):
        return None
    base: dict[str, Any] = {"provider": "telegram", "external_id": str(update_id)}
    callback = update.get("callback_query")
    if isinstance(callback, dict):
        sender = callback.get("from") or {}
        chat = ((callback.get("message") or {}).get("chat") or {}).get("id", sender.get("id"))
        return InboundMessage(
            **base,
            channel=Channel.TELEGRAM,
            address=str(chat),
            kind=InboundKind.BUTTON,
            payload=str(callback.get("data") or "")[:64],
            text="",
            telegram_user_id=sender.get("id"),
            profile_name=_name(sender),
            callback_query_id=str(callback.get("id") or ""),
        )
    message = update.get("message")
    if not isinstance(message, dict):
        return None  # edited messages, channel posts, member updates: nothing to answer
    sender = message.get("from") or {}
    chat_id = (message.get("chat") or {}).get("id")
    if chat_id is None or sender.get("id") is None:
        return None
    common: dict[str, Any] = {
        **base,
        "channel": Channel.TELEGRAM,
        "address": str(chat_id),
        "telegram_user_id": sender.get("id"),
        "profile_name": _name(sender),
    }
    text = message.get("text") or message.get("caption") or ""
    if "contact" in message:
        contact = message["contact"] or {}
        return InboundMessage(
            **common,
            kind=InboundKind.CONTACT,
            contact_phone=str(contact.get("phone_number") or ""),
            contact_user_id=contact.get("user_id"),
        )
    if "location" in message:
        loc = message["location"] or {}
        return InboundMessage(
            **common,
            kind=InboundKind.LOCATION,
            latitude=loc.get("latitude"),
            longitude=loc.get("longitude"),
        )
    if message.get("photo"):
        largest = max(message["photo"], key=lambda p: p.get("file_size") or p.get("width", 0))
        return InboundMessage(
            **common,
            kind=InboundKind.MEDIA,
            text=text,
            media=(Media(file_id=str(largest.get("file_id")), content_type="image/jpeg"),),
        )
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
