"""WhatsApp Cloud API (Meta) webhooks as Meta builds them: JSON, signed with the app secret.

Every builder returns the whole payload (object / entry / changes / value / metadata / contacts
/ messages or statuses) for one message, with a fresh ``wamid.`` id. Senders are given in E.164
(``+224620000001``) and written as Meta writes them: digits only, in ``messages[].from`` and
``contacts[].wa_id``. `post_meta` holds each payload to the facts derived from Meta's own
webhook examples (`devtools.contracts.meta_webhook_violations`): a builder that invented a key
would teach our webhook to read what Meta never sends. Tests that post a broken payload on
purpose say ``off_spec=True``.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import itertools
import json
import time
import uuid
from typing import Any

from flask.testing import FlaskClient

META_TOKEN = "test-meta-token-EAAG0123456789"
META_APP_SECRET = "test-meta-app-secret-0123456789abcdef"
META_VERIFY_TOKEN = "test-meta-verify-token"
META_PHONE_NUMBER_ID = "106540352242922"
META_WABA_ID = "419561257915477"
META_DISPLAY_NUMBER = "15550783881"
META_VERSION = "v23.0"
META_WEBHOOK_PATH = "/webhooks/meta/whatsapp"

_PROFILE_NAME = "Mariama Diallo"
_media_ids = itertools.count(1_003_383_421_387_256)

__all__ = [
    "META_APP_SECRET",
    "META_DISPLAY_NUMBER",
    "META_PHONE_NUMBER_ID",
    "META_TOKEN",
    "META_VERIFY_TOKEN",
    "META_VERSION",
    "META_WABA_ID",
    "META_WEBHOOK_PATH",
    "OffSpecMetaPayload",
    "meta_audio",
    "meta_button",
    "meta_button_reply",
    "meta_contacts",
    "meta_document",
    "meta_image",
    "meta_list_reply",
    "meta_location",
    "meta_media_id",
    "meta_order",
    "meta_signature",
    "meta_status",
    "meta_text",
    "meta_unsupported",
    "meta_video",
    "new_wamid",
    "post_meta",
    "wa_digits",
]


def new_wamid() -> str:
    """A message id shaped like Meta's: ``wamid.`` + base64 of an opaque, unique value."""
    raw = b"\x15\x02\x00\x12\x18\x14" + uuid.uuid4().hex.upper().encode()[:20] + b"\x00"
    return "wamid." + base64.b64encode(raw).decode()


def meta_media_id() -> str:
    """A media id as Meta gives one: a numeric string."""
    return str(next(_media_ids))


def wa_digits(e164: str) -> str:
    """``+224 620-00-00-01`` → ``224620000001`` (Meta's wa_id, ``from`` and recipient_id)."""
    return "".join(ch for ch in e164 if ch.isdigit())


def meta_signature(body: bytes, secret: str = META_APP_SECRET) -> str:
    """``X-Hub-Signature-256`` for ``body``: "sha256=" + hex HMAC-SHA256 under the app secret."""
    return "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()


def _envelope(value: dict[str, Any], *, waba_id: str = META_WABA_ID) -> dict[str, Any]:
    return {
        "object": "whatsapp_business_account",
        "entry": [{"id": waba_id, "changes": [{"value": value, "field": "messages"}]}],
    }


def _metadata(display_number: str, phone_number_id: str) -> dict[str, str]:
    return {"display_phone_number": display_number, "phone_number_id": phone_number_id}


def _inbound(
    from_: str,
    kind: str,
    content: dict[str, Any] | None,
    *,
    name: str = _PROFILE_NAME,
    context: dict[str, Any] | None = None,
    extra: dict[str, Any] | None = None,
) -> dict[str, Any]:
    digits = wa_digits(from_)
    message: dict[str, Any] = {
        "from": digits,
        "id": new_wamid(),
        "timestamp": str(int(time.time())),
        "type": kind,
    }
    if context is not None:
        message["context"] = context
    if content is not None:
        message[kind] = content
    message.update(extra or {})
    return _envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": _metadata(META_DISPLAY_NUMBER, META_PHONE_NUMBER_ID),
            "contacts": [{"profile": {"name": name}, "wa_id": digits}],
            "messages": [message],
        }
    )


def _reply_context(replied_to: str | None) -> dict[str, Any] | None:
    """What a reply to one of our messages carries: our number and that message's id."""
    if replied_to is None:
        return None
    return {"from": META_DISPLAY_NUMBER, "id": replied_to}


def meta_text(from_: str, body: str, *, name: str = _PROFILE_NAME) -> dict[str, Any]:
    return _inbound(from_, "text", {"body": body}, name=name)


def meta_button_reply(
    from_: str, button_id: str, title: str, *, replied_to: str | None = None
) -> dict[str, Any]:
    """A tap on one of our interactive reply buttons."""
    return _inbound(
        from_,
        "interactive",
        {"type": "button_reply", "button_reply": {"id": button_id, "title": title}},
        context=_reply_context(replied_to or new_wamid()),
    )


def meta_list_reply(
    from_: str,
    row_id: str,
    title: str,
    description: str | None = None,
    *,
    replied_to: str | None = None,
) -> dict[str, Any]:
    """A row picked in one of our interactive lists."""
    reply = {"id": row_id, "title": title}
    if description is not None:
        reply["description"] = description
    return _inbound(
        from_,
        "interactive",
        {"type": "list_reply", "list_reply": reply},
        context=_reply_context(replied_to or new_wamid()),
    )


def meta_button(
    from_: str, payload: str, text: str, *, replied_to: str | None = None
) -> dict[str, Any]:
    """A tap on a template's quick-reply button (type ``button``, not ``interactive``)."""
    return _inbound(
        from_,
        "button",
        {"payload": payload, "text": text},
        context=_reply_context(replied_to or new_wamid()),
    )


def meta_location(
    from_: str,
    latitude: float,
    longitude: float,
    *,
    name: str | None = None,
    address: str | None = None,
) -> dict[str, Any]:
    """A shared pin (also the answer to a location request)."""
    location: dict[str, Any] = {"latitude": latitude, "longitude": longitude}
    if name is not None:
        location["name"] = name
    if address is not None:
        location["address"] = address
    return _inbound(from_, "location", location)


def _media(
    kind: str,
    from_: str,
    media_id: str | None,
    mime_type: str,
    sha256: str,
    **fields: Any,
) -> dict[str, Any]:
    content: dict[str, Any] = {
        "mime_type": mime_type,
        "sha256": sha256 or base64.b64encode(hashlib.sha256(b"").digest()).decode(),
        "id": media_id or meta_media_id(),
    }
    content.update({k: v for k, v in fields.items() if v is not None})
    return _inbound(from_, kind, content)


def meta_image(
    from_: str,
    media_id: str | None = None,
    *,
    mime_type: str = "image/jpeg",
    caption: str | None = None,
    sha256: str = "",
) -> dict[str, Any]:
    """A photo, by media id (fetch it through ``GET /{version}/{media_id}`` with the token)."""
    return _media("image", from_, media_id, mime_type, sha256, caption=caption)


def meta_audio(
    from_: str,
    media_id: str | None = None,
    *,
    mime_type: str = "audio/ogg; codecs=opus",
    voice: bool = True,
    sha256: str = "",
) -> dict[str, Any]:
    return _media("audio", from_, media_id, mime_type, sha256, voice=voice)


def meta_document(
    from_: str,
    media_id: str | None = None,
    *,
    mime_type: str = "application/pdf",
    filename: str | None = "document.pdf",
    caption: str | None = None,
    sha256: str = "",
) -> dict[str, Any]:
    return _media(
        "document", from_, media_id, mime_type, sha256, filename=filename, caption=caption
    )


def meta_video(
    from_: str,
    media_id: str | None = None,
    *,
    mime_type: str = "video/mp4",
    caption: str | None = None,
    sha256: str = "",
) -> dict[str, Any]:
    return _media("video", from_, media_id, mime_type, sha256, caption=caption)


def meta_contacts(
    from_: str, contact_phone: str, *, first_name: str = "Aissatou", last_name: str = "Bah"
) -> dict[str, Any]:
    """A shared contact card (``contact_phone`` E.164; its wa_id is set, as when on WhatsApp)."""
    card = {
        "name": {
            "first_name": first_name,
            "last_name": last_name,
            "formatted_name": f"{first_name} {last_name}",
        },
        "phones": [{"phone": contact_phone, "type": "CELL", "wa_id": wa_digits(contact_phone)}],
    }
    return _inbound(from_, "contacts", None, extra={"contacts": [card]})


def meta_order(
    from_: str,
    items: list[tuple[str, int, float]],
    *,
    catalog_id: str = "194836987003835",
    currency: str = "GNF",
    text: str = "",
) -> dict[str, Any]:
    """A catalog cart: ``items`` as (product_retailer_id, quantity, item_price)."""
    return _inbound(
        from_,
        "order",
        {
            "catalog_id": catalog_id,
            "text": text,
            "product_items": [
                {
                    "product_retailer_id": retailer_id,
                    "quantity": quantity,
                    "item_price": price,
                    "currency": currency,
                }
                for retailer_id, quantity, price in items
            ],
        },
    )


def meta_unsupported(from_: str) -> dict[str, Any]:
    """What Meta sends for a message type the Cloud API does not support (e.g. a poll)."""
    error = {
        "code": 131051,
        "title": "Message type unknown",
        "message": "Message type unknown",
        "error_data": {"details": "Message type is currently not supported."},
    }
    return _inbound(from_, "unsupported", None, extra={"errors": [error]})


_ERROR_TITLES = {
    131026: "Message undeliverable",
    131047: "Re-engagement message",
    131051: "Unsupported message type",
    130429: "Rate limit hit",
    131056: "(Business Account, Consumer Account) pair rate limit hit",
    131049: "This message was not delivered to maintain healthy ecosystem engagement.",
    131000: "Something went wrong",
}
_ERROR_DETAILS = {
    131047: "Message failed to send because more than 24 hours have passed since the customer "
    "last replied to this number.",
    131026: "Message Undeliverable.",
}


def meta_status(
    wamid: str,
    status: str,
    to: str,
    *,
    error_code: int | None = None,
    timestamp: int | None = None,
    category: str = "service",
    phone_number_id: str = META_PHONE_NUMBER_ID,
    display_number: str = META_DISPLAY_NUMBER,
    waba_id: str = META_WABA_ID,
) -> dict[str, Any]:
    """A status webhook for one of our messages: sent, delivered, read, or failed (+ errors).

    ``to`` is the recipient (E.164 or digits). Sent, delivered and read carry the
    conversation and pricing objects; failed carries ``errors`` (``error_code`` defaults to
    131026, undeliverable).
    """
    recipient = wa_digits(to)
    stamp = str(timestamp if timestamp is not None else int(time.time()))
    entry: dict[str, Any] = {
        "id": wamid,
        "status": status,
        "timestamp": stamp,
        "recipient_id": recipient,
    }
    if status == "failed":
        code = error_code if error_code is not None else 131026
        title = _ERROR_TITLES.get(code, "Message failed to send")
        entry["errors"] = [
            {
                "code": code,
                "title": title,
                "message": title,
                "error_data": {"details": _ERROR_DETAILS.get(code, title)},
                "href": "https://developers.facebook.com/docs/whatsapp/cloud-api/support/"
                "error-codes/",
            }
        ]
    else:
        conversation: dict[str, Any] = {
            "id": hashlib.sha256(recipient.encode()).hexdigest()[:32],
            "origin": {"type": category},
        }
        if status == "sent":
            conversation["expiration_timestamp"] = str(int(stamp) + 24 * 3600)
        entry["conversation"] = conversation
        entry["pricing"] = {"billable": True, "pricing_model": "PMP", "category": category}
    return _envelope(
        {
            "messaging_product": "whatsapp",
            "metadata": _metadata(display_number, phone_number_id),
            "statuses": [entry],
        },
        waba_id=waba_id,
    )


class OffSpecMetaPayload(AssertionError):
    """A webhook Meta could not send, posted by a test that did not say it meant to."""


def post_meta(
    client: FlaskClient,
    payload: dict[str, Any],
    *,
    secret: str | None = META_APP_SECRET,
    path: str = META_WEBHOOK_PATH,
    off_spec: bool = False,
    signature: str | None = None,
) -> Any:
    """POST ``payload`` to our webhook as Meta does: serialised once, those exact bytes signed.

    ``secret=None`` sends no signature header; ``signature`` overrides the computed one (to
    test a forged or mutated one).
    """
    if not off_spec:
        from devtools.contracts.meta import meta_webhook_violations

        if found := meta_webhook_violations(payload):
            raise OffSpecMetaPayload("not a webhook Meta could send:\n" + "\n".join(found[:10]))
    body = json.dumps(payload, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if signature is not None:
        headers["X-Hub-Signature-256"] = signature
    elif secret is not None:
        headers["X-Hub-Signature-256"] = meta_signature(body, secret)
    return client.post(path, data=body, headers=headers)
