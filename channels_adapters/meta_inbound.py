"""WhatsApp Cloud API (Meta) webhook: subscription check, signature, parsing, hand-over.

Meta calls one URL for everything (`/webhooks/meta/whatsapp`):

- ``GET`` once, when the webhook is subscribed: echo ``hub.challenge`` if ``hub.verify_token``
  is ours (META_VERIFY_TOKEN, compared in constant time). No token configured → 403.
- ``POST`` for every event, JSON signed in ``X-Hub-Signature-256`` = "sha256=" + the hex
  HMAC-SHA256 of the raw body under the app secret (META_APP_SECRET). The HMAC is computed on
  the bytes as they arrived, before any parsing: a re-serialised body would not match. Anything
  but an exact, well-formed signature is a 403 — never a 500 — and nothing is stored.

A signed body is then judged like Telegram's (``channels_adapters.payloads``): not UTF-8, not
JSON, absurdly deep, or an envelope of the wrong shape (``entry``, ``changes``, ``value``,
``metadata``, the ``messages``/``statuses``/``contacts`` lists) is a 400 with nothing stored.
Inside a sound envelope each message and each status is checked on its own: one that breaks
Meta's types is skipped (and logged, by field name only) and the others of the same webhook
still go through. Everything is checked before the first turn runs, so a 400 never follows a
half-handled webhook.

Events for another business number (``metadata.phone_number_id`` not ours) are acknowledged and
ignored: one Meta app can hold several numbers. Reactions and system messages (the user changed
numbers) need no answer. Every other message becomes one channel-neutral ``InboundMessage``
handed to the engine, which de-duplicates on ("meta", wamid): Meta redelivers until it gets a
200, and a redelivery is a no-op. ``statuses`` move the outbox row as Twilio's callbacks do.
"""

from __future__ import annotations

import functools
import hashlib
import hmac
import logging
import math
import string
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from flask import Blueprint, Response, abort, current_app, request

from bot.messages import InboundKind, InboundMessage, Media
from channels_adapters import payloads
from channels_adapters.payloads import MalformedPayload
from channels_adapters.turns import run_turn, update_delivery_status
from commerce.phones import mask_phone
from commerce.users.models import Channel

log = logging.getLogger(__name__)
bp = Blueprint("meta", __name__)
PATH = "/webhooks/meta/whatsapp"

SIGNATURE_HEADER = "X-Hub-Signature-256"
SIGNATURE_PREFIX = "sha256="
_HEX = frozenset(string.hexdigits)
# Meta's challenge is a number of ~10 digits; it is reflected, so only a short printable token.
MAX_CHALLENGE = 128

# Sizes of what is used as an identifier (printable ASCII, at most this long). A wamid is
# ~60-90 characters (the column holds 128); phone-number and media ids are numeric strings.
MAX_WAMID = 128
MAX_GRAPH_ID = 64
MAX_PHONE_DIGITS = 20
MAX_PAYLOAD = 256  # a button or row id we sent (Meta allows 256)
MAX_MIME = 128
MAX_STATUS = 32
MAX_CODE = 16

MEDIA_TYPES = ("image", "audio", "document", "video", "sticker")
NO_TURN_TYPES = ("reaction", "system")  # acknowledged, nothing to answer


# --- the subscription check -----------------------------------------------------------------


def _sane_challenge(challenge: str) -> bool:
    return 0 < len(challenge) <= MAX_CHALLENGE and all("!" <= c <= "~" for c in challenge)


@bp.get(PATH)
def verify() -> Response:
    """Meta's subscription handshake: the challenge back as plain text, or 403."""
    expected = current_app.extensions["boutik"].config.secrets.meta_verify_token
    mode = request.args.get("hub.mode", "")
    given = request.args.get("hub.verify_token", "")
    challenge = request.args.get("hub.challenge", "")
    if (
        not expected
        or mode != "subscribe"
        or not hmac.compare_digest(expected.encode(), given.encode())
        or not _sane_challenge(challenge)
    ):
        log.warning("meta webhook verification refused")
        abort(403)
    response = Response(challenge, status=200, mimetype="text/plain")
    response.headers["X-Content-Type-Options"] = "nosniff"
    return response


# --- the signature --------------------------------------------------------------------------


def signature_ok(raw: bytes, header: str, secret: str) -> bool:
    """True only for "sha256=" + 64 hex digits equal (constant time) to HMAC-SHA256(raw)."""
    if not secret or not header.startswith(SIGNATURE_PREFIX):
        return False
    given = header[len(SIGNATURE_PREFIX) :]
    if len(given) != 64 or not _HEX.issuperset(given):
        return False
    expected = hmac.new(secret.encode(), raw, hashlib.sha256).digest()
    return hmac.compare_digest(expected, bytes.fromhex(given))


def authenticate(raw: bytes) -> None:
    secret = current_app.extensions["boutik"].config.secrets.meta_app_secret
    if not signature_ok(raw, request.headers.get(SIGNATURE_HEADER, ""), secret):
        log.warning("meta signature refused for %s", request.path)
        abort(403)


# --- what a webhook carries -----------------------------------------------------------------


@dataclass(frozen=True)
class OrderItem:
    product_retailer_id: str
    quantity: int
    item_price: float
    currency: str


@dataclass(frozen=True)
class MetaOrder:
    """A cart sent from a WhatsApp catalog (type ``order``).

    Boutik publishes no Meta catalog yet, so no flow can act on one: the turn gets the order's
    note as text (an empty note: the engine's "I did not understand" and the menu), and the cart
    is kept here for the log and for the day a catalog is published.
    """

    catalog_id: str
    text: str
    items: tuple[OrderItem, ...]


@dataclass(frozen=True)
class StatusUpdate:
    wamid: str
    status: str
    error_code: str = ""
    reason: str = ""


@dataclass
class Webhook:
    """Everything one POST carries for our number, checked and translated."""

    messages: list[InboundMessage] = field(default_factory=list)
    statuses: list[StatusUpdate] = field(default_factory=list)
    orders: dict[str, MetaOrder] = field(default_factory=dict)  # by wamid
    skipped: int = 0  # messages or statuses that broke Meta's types
    ignored: int = 0  # reactions, system messages, other numbers' events


# --- field readers: a wrong type is MalformedPayload, an absent field "" or None ----------


def _object(value: Any, where: str, *, required: bool = False) -> dict[str, Any]:
    if value is None and not required:
        return {}
    if not isinstance(value, dict):
        raise MalformedPayload(f"{where} is not an object")
    return value


def _list(value: Any, where: str) -> list[Any]:
    if value is None:
        return []
    if not isinstance(value, list):
        raise MalformedPayload(f"{where} is not a list")
    return value


def _digits(value: Any, where: str) -> str:
    """A WhatsApp number as Meta writes it (digits only, no "+"); "" when absent."""
    number = payloads.token(value, where, max_len=MAX_PHONE_DIGITS, ascii_only=True)
    if number and not number.isdecimal():
        raise MalformedPayload(f"{where} is not a WhatsApp number")
    return number


def _coordinate(value: Any, bound: float) -> float | None:
    """A coordinate within ±bound, as twilio_inbound._float judges one: Meta sends numbers
    (its schema says strings); NaN, infinities, booleans and words are no coordinate."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        try:
            value = float(value) if value.strip() else None
        except ValueError:
            return None
    if not isinstance(value, int | float):
        return None
    number = float(value)
    if not math.isfinite(number) or abs(number) > bound:
        return None
    return number


# --- one message ----------------------------------------------------------------------------


def _media(message: dict[str, Any], kind: str) -> tuple[tuple[Media, ...], str]:
    """(media, caption) of an image/audio/document/video/sticker; no media without an id (a
    sticker may come as a link only, which we cannot fetch with the token)."""
    body = _object(message.get(kind), kind)
    media_id = payloads.token(body.get("id"), f"{kind}.id", max_len=MAX_GRAPH_ID, ascii_only=True)
    mime = payloads.token(
        body.get("mime_type"), f"{kind}.mime_type", max_len=MAX_MIME, ascii_only=True
    )
    caption = payloads.text(body.get("caption"), f"{kind}.caption")
    if not media_id:
        return (), caption
    return (Media(content_type=mime, ref=f"meta:{media_id}"),), caption


def _contact_phone(message: dict[str, Any]) -> str:
    """The first shared card's first phone: its wa_id as +E.164, else the number as written."""
    for card in _list(message.get("contacts"), "contacts"):
        card = _object(card, "contacts[]", required=True)
        for phone in _list(card.get("phones"), "contacts[].phones"):
            phone = _object(phone, "contacts[].phones[]", required=True)
            wa_id = _digits(phone.get("wa_id"), "contacts[].phones[].wa_id")
            written = payloads.token(phone.get("phone"), "contacts[].phones[].phone", max_len=40)
            return f"+{wa_id}" if wa_id else written
        return ""  # a card without phones: nothing to take
    return ""


def _order(message: dict[str, Any]) -> MetaOrder:
    body = _object(message.get("order"), "order", required=True)
    items = []
    for item in _list(body.get("product_items"), "order.product_items"):
        item = _object(item, "order.product_items[]", required=True)
        quantity, price = item.get("quantity"), item.get("item_price")
        if type(quantity) is not int or not 0 < quantity < 1_000_000:
            raise MalformedPayload("order.product_items[].quantity is not a quantity")
        if (
            isinstance(price, bool)
            or not isinstance(price, int | float)
            or not math.isfinite(price)
            or price < 0
        ):
            raise MalformedPayload("order.product_items[].item_price is not a price")
        items.append(
            OrderItem(
                product_retailer_id=payloads.token(
                    item.get("product_retailer_id"),
                    "order.product_items[].product_retailer_id",
                    max_len=100,
                ),
                quantity=quantity,
                item_price=float(price),
                currency=payloads.token(
                    item.get("currency"), "order.product_items[].currency", max_len=8
                ),
            )
        )
    return MetaOrder(
        catalog_id=payloads.token(
            body.get("catalog_id"), "order.catalog_id", max_len=MAX_GRAPH_ID, ascii_only=True
        ),
        text=payloads.text(body.get("text"), "order.text"),
        items=tuple(items),
    )


def parse_message(
    message: Any, names: dict[str, str], webhook: Webhook | None = None
) -> InboundMessage | None:
    """One ``value.messages[]`` item as a channel-neutral message; None when it needs no turn.

    MalformedPayload when a field we read breaks Meta's types (the caller skips that message
    only). ``names`` maps the senders' wa_id to their profile name (``value.contacts[]``).
    """
    message = _object(message, "messages[]", required=True)
    wamid = payloads.token(message.get("id"), "messages[].id", max_len=MAX_WAMID, ascii_only=True)
    sender = _digits(message.get("from"), "messages[].from")
    kind = payloads.token(message.get("type"), "messages[].type", max_len=32, ascii_only=True)
    if not wamid or not sender:
        raise MalformedPayload("messages[] without its id or sender")
    if kind in NO_TURN_TYPES:
        return None
    common: dict[str, Any] = {
        "provider": "meta",
        "external_id": wamid,
        "channel": Channel.WHATSAPP,
        "address": f"+{sender}",
        "profile_name": names.get(sender) or names.get("", ""),
    }
    if kind == "text":
        body = _object(message.get("text"), "text")
        return InboundMessage(**common, text=payloads.text(body.get("body"), "text.body"))
    if kind == "interactive":
        body = _object(message.get("interactive"), "interactive", required=True)
        reply_type = payloads.token(body.get("type"), "interactive.type", max_len=32)
        if reply_type in ("button_reply", "list_reply"):
            reply = _object(body.get(reply_type), f"interactive.{reply_type}", required=True)
            return InboundMessage(
                **common,
                kind=InboundKind.BUTTON,
                payload=payloads.token(reply.get("id"), f"{reply_type}.id", max_len=MAX_PAYLOAD),
                text=payloads.text(reply.get("title"), f"{reply_type}.title"),
            )
        return InboundMessage(**common)  # a reply kind we never ask for: "not understood"
    if kind == "button":
        body = _object(message.get("button"), "button", required=True)
        return InboundMessage(
            **common,
            kind=InboundKind.BUTTON,
            payload=payloads.token(body.get("payload"), "button.payload", max_len=MAX_PAYLOAD),
            text=payloads.text(body.get("text"), "button.text"),
        )
    if kind == "location":
        body = _object(message.get("location"), "location", required=True)
        name = payloads.text(body.get("name"), "location.name")
        address = payloads.text(body.get("address"), "location.address")
        lat = _coordinate(body.get("latitude"), 90.0)
        lng = _coordinate(body.get("longitude"), 180.0)
        if lat is None or lng is None:
            return InboundMessage(**common)  # half a pin is no pin: "not understood"
        return InboundMessage(
            **common,
            kind=InboundKind.LOCATION,
            latitude=lat,
            longitude=lng,
            location_label=name or address,
        )
    if kind in MEDIA_TYPES:
        media, caption = _media(message, kind)
        return InboundMessage(**common, kind=InboundKind.MEDIA, text=caption, media=media)
    if kind == "contacts":
        return InboundMessage(
            **common, kind=InboundKind.CONTACT, contact_phone=_contact_phone(message)
        )
    if kind == "order":
        order = _order(message)
        if webhook is not None:
            webhook.orders[wamid] = order
        return InboundMessage(**common, text=order.text)
    # "unsupported", "unknown" and any type added later: an empty text, so the buyer gets the
    # engine's "I did not understand" and the menu rather than silence.
    return InboundMessage(**common)


def parse_status(status: Any) -> StatusUpdate:
    status = _object(status, "statuses[]", required=True)
    wamid = payloads.token(status.get("id"), "statuses[].id", max_len=MAX_WAMID, ascii_only=True)
    state = payloads.token(
        status.get("status"), "statuses[].status", max_len=MAX_STATUS, ascii_only=True
    )
    if not wamid or not state:
        raise MalformedPayload("statuses[] without its id or status")
    code = reason = ""
    errors = _list(status.get("errors"), "statuses[].errors")
    if errors:
        error = _object(errors[0], "statuses[].errors[]", required=True)
        raw_code = error.get("code")
        if type(raw_code) is int:
            code = str(raw_code)
        else:
            code = payloads.token(raw_code, "errors[].code", max_len=MAX_CODE, ascii_only=True)
        reason = payloads.text(error.get("title"), "errors[].title") or payloads.text(
            error.get("message"), "errors[].message"
        )
    return StatusUpdate(wamid=wamid, status=state, error_code=code, reason=reason[:500])


def _names(contacts: list[Any]) -> dict[str, str]:
    """wa_id → profile name; "" → the only contact's name when it has no wa_id."""
    names: dict[str, str] = {}
    for contact in contacts:
        contact = _object(contact, "contacts[]", required=True)
        wa_id = _digits(contact.get("wa_id"), "contacts[].wa_id")
        profile = _object(contact.get("profile"), "contacts[].profile")
        names[wa_id] = payloads.text(profile.get("name"), "contacts[].profile.name")[:120]
    return names


def _each(items: list[Any], parse: Callable[[Any], Any], what: str, webhook: Webhook) -> list[Any]:
    """Every item ``parse`` accepts; one that breaks the types is skipped, the rest kept."""
    kept = []
    for item in items:
        try:
            kept.append(parse(item))
        except MalformedPayload as exc:
            webhook.skipped += 1
            log.warning("meta %s skipped: %s", what, exc.reason)
    return kept


def parse_webhook(payload: dict[str, Any], phone_number_id: str) -> Webhook:
    """The messages and statuses for ``phone_number_id`` in one webhook body.

    MalformedPayload when the envelope breaks Meta's shape; a single message or status that
    does is skipped instead (``Webhook.skipped``).
    """
    webhook = Webhook()
    if payload.get("object") != "whatsapp_business_account":
        webhook.ignored += 1
        return webhook
    for entry in _list(payload.get("entry"), "entry"):
        entry = _object(entry, "entry[]", required=True)
        for change in _list(entry.get("changes"), "entry[].changes"):
            change = _object(change, "changes[]", required=True)
            if change.get("field") != "messages":
                webhook.ignored += 1  # group updates and the like: nothing for us
                continue
            value = _object(change.get("value"), "changes[].value", required=True)
            metadata = _object(value.get("metadata"), "value.metadata", required=True)
            ours = payloads.token(
                metadata.get("phone_number_id"),
                "metadata.phone_number_id",
                max_len=MAX_GRAPH_ID,
                ascii_only=True,
            )
            messages = _list(value.get("messages"), "value.messages")
            statuses = _list(value.get("statuses"), "value.statuses")
            names = _names(_list(value.get("contacts"), "value.contacts"))
            if not phone_number_id or ours != phone_number_id:
                webhook.ignored += len(messages) + len(statuses) or 1
                continue
            read = functools.partial(parse_message, names=names, webhook=webhook)
            for msg in _each(messages, read, "message", webhook):
                if msg is None:
                    webhook.ignored += 1
                else:
                    webhook.messages.append(msg)
            webhook.statuses += _each(statuses, parse_status, "status", webhook)
    return webhook


# --- the route ------------------------------------------------------------------------------


@bp.post(PATH)
def webhook() -> Response:
    raw = request.get_data(cache=False)
    authenticate(raw)
    rt = current_app.extensions["boutik"]
    hook = parse_webhook(payloads.load_json_object(raw), rt.config.meta.phone_number_id)
    for msg in hook.messages:
        turn = run_turn(msg)
        order = hook.orders.get(msg.external_id)
        if order is not None and not turn.duplicate:
            log.info(
                "meta catalog order with %d item(s) from %s: no Meta catalog is published",
                len(order.items),
                mask_phone(msg.address),
            )
        log.info(
            "meta %s from %s %s",
            msg.kind,
            mask_phone(msg.address),
            "duplicate" if turn.duplicate else "acknowledged",
        )
    for status in hook.statuses:
        update_delivery_status(status.wamid, status.status, status.error_code, status.reason)
    if hook.skipped or hook.ignored:
        log.info("meta webhook: %d skipped, %d ignored", hook.skipped, hook.ignored)
    return Response("", status=200)
