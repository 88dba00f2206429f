"""What a provider would POST when the person holding a simulated phone does something.

Why build the providers' own payloads and sign them as they do: the webhooks must be exercised
exactly as in production — Twilio's form fields with `X-Twilio-Signature` computed by the SDK's
`RequestValidator` over `[web] public_base_url` + path, Meta's webhook JSON with
`X-Hub-Signature-256` over the exact bytes posted, Telegram's update JSON with
`X-Telegram-Bot-Api-Secret-Token` — so a page click takes the same path, signature check
included, as a message from a real phone. Nothing here talks to the bot directly.
"""

from __future__ import annotations

import itertools
import json
import secrets
import time
from dataclasses import dataclass, field
from typing import Any

from twilio.request_validator import RequestValidator

from commerce.messaging.sms_text import segments
from devtools.contracts import meta_webhook_violations, telegram_update_violations
from devtools.testkit import meta_webhooks
from settings.config import Config

WHATSAPP_PATH = "/webhooks/twilio/whatsapp"
META_PATH = meta_webhooks.META_WEBHOOK_PATH
SMS_PATH = "/webhooks/twilio/sms"
TELEGRAM_PATH = "/webhooks/telegram"

_update_ids = itertools.count(secrets.randbelow(10**8) + 10**8)


def message_sid() -> str:
    return "SM" + secrets.token_hex(16)


@dataclass(frozen=True)
class Webhook:
    """One signed request ready to be posted to the application."""

    path: str
    headers: dict[str, str]
    form: dict[str, str] | None = None
    json: dict[str, Any] | None = None
    data: bytes | None = None  # a raw body, posted as is (Meta signs these exact bytes)
    summary: dict[str, Any] = field(default_factory=dict)


def sign_twilio(config: Config, path: str, form: dict[str, str]) -> dict[str, str]:
    url = config.web.public_base_url.rstrip("/") + path
    signature = RequestValidator(config.secrets.twilio_auth_token).compute_signature(url, form)
    return {
        "X-Twilio-Signature": signature,
        "User-Agent": "TwilioProxy/1.1",
        "I-Twilio-Idempotency-Token": secrets.token_hex(16),
    }


def twilio_form(
    config: Config,
    *,
    whatsapp: bool,
    number: str,
    body: str = "",
    profile_name: str = "",
    **extra: str,
) -> dict[str, str]:
    """The fields Twilio sends for an inbound message, only names Twilio documents.

    Real requests may carry more (Twilio adds parameters without notice, and the signature
    check covers whatever arrives), but a simulated one invents none: the contract test holds
    these forms to the documented names (`devtools.contracts.twilio_webhook_violations`).
    """
    sid = message_sid()
    form = {
        "MessageSid": sid,
        "SmsMessageSid": sid,
        "SmsSid": sid,
        "AccountSid": config.secrets.twilio_account_sid,
        "Body": body,
        "NumMedia": "0",
        "NumSegments": "1",
        "SmsStatus": "received",
        "ApiVersion": "2010-04-01",
    }
    if whatsapp:
        form |= {
            "From": f"whatsapp:{number}",
            "To": config.twilio.whatsapp_from,
            "WaId": number.removeprefix("+"),
            "ProfileName": profile_name or number,
            "MessageType": "text",
        }
    else:
        form |= {
            "From": number,
            "To": config.twilio.sms_from,
            "FromCountry": "GN",
            "ToCountry": "US",
            "NumSegments": str(segments(body)[1]),
        }
    form.update(extra)
    return form


def whatsapp(config: Config, number: str, profile_name: str, action: dict[str, Any]) -> Webhook:
    """A WhatsApp text, button or list tap, location pin or photo, as Twilio posts it."""
    if "button" in action:
        button = action["button"]
        title, payload = str(button.get("title", "")), str(button.get("id", ""))
        if button.get("list"):
            extra = {"ListId": payload, "ListTitle": title, "MessageType": "interactive"}
        else:
            extra = {"ButtonPayload": payload, "ButtonText": title, "MessageType": "button"}
        form = twilio_form(
            config, whatsapp=True, number=number, body=title, profile_name=profile_name, **extra
        )
        summary = {"kind": "button", "text": title}
    elif "location" in action:
        loc = action["location"]
        extra = {
            "Latitude": f"{float(loc['lat']):.6f}",
            "Longitude": f"{float(loc['lng']):.6f}",
            "MessageType": "location",
        }
        if loc.get("label"):
            extra["Label"] = str(loc["label"])
            extra["Address"] = str(loc.get("address") or loc["label"])
        form = twilio_form(config, whatsapp=True, number=number, profile_name=profile_name, **extra)
        summary = {"kind": "location", **_location_summary(loc)}
    elif "media_url" in action:
        form = twilio_form(
            config,
            whatsapp=True,
            number=number,
            body=str(action.get("text") or ""),
            profile_name=profile_name,
            NumMedia="1",
            MediaUrl0=action["media_url"],
            MediaContentType0=action.get("content_type", "image/jpeg"),
            MessageType="image",
        )
        summary = {"kind": "photo", "photo": action["preview"], "text": action.get("text", "")}
    else:
        text = str(action.get("text", ""))
        form = twilio_form(
            config, whatsapp=True, number=number, body=text, profile_name=profile_name
        )
        summary = {"kind": "text", "text": text}
    return Webhook(
        WHATSAPP_PATH, sign_twilio(config, WHATSAPP_PATH, form), form=form, summary=summary
    )


def meta_whatsapp(
    config: Config,
    number: str,
    profile_name: str,
    action: dict[str, Any],
    *,
    display_number: str,
) -> Webhook:
    """The same phone actions as `whatsapp`, as Meta's Cloud API posts them.

    Built by the testkit's builders (each one of Meta's documented message shapes), then
    addressed to this deployment's business number: ``metadata.phone_number_id`` is what our
    webhook checks, and ``entry[].id`` is the WhatsApp Business Account. A photo is a media id
    the caller has put in the Graph emulator (``action["media_id"]``), as Meta stores the
    buyer's photo and sends only its id.
    """
    name = profile_name or number
    if "button" in action:
        button = action["button"]
        title, payload = str(button.get("title", "")), str(button.get("id", ""))
        # The message tapped, when it is one of Meta's (a Twilio one has no wamid to name).
        tapped = str(button.get("message_id") or "")
        replied_to = tapped if tapped.startswith("wamid.") else None
        if button.get("list"):
            hook = meta_webhooks.meta_list_reply(number, payload, title, replied_to=replied_to)
        else:
            hook = meta_webhooks.meta_button_reply(number, payload, title, replied_to=replied_to)
        summary = {"kind": "button", "text": title}
    elif "location" in action:
        loc = action["location"]
        label = str(loc.get("label") or "")
        hook = meta_webhooks.meta_location(
            number,
            round(float(loc["lat"]), 6),
            round(float(loc["lng"]), 6),
            name=label or None,
            address=str(loc.get("address") or label) or None,
        )
        summary = {"kind": "location", **_location_summary(loc)}
    elif "media_id" in action:
        caption = str(action.get("text") or "")
        hook = meta_webhooks.meta_image(
            number,
            str(action["media_id"]),
            mime_type=str(action.get("content_type", "image/jpeg")),
            caption=caption or None,
            sha256=str(action.get("sha256") or ""),
        )
        summary = {"kind": "photo", "photo": action["preview"], "text": action.get("text", "")}
    else:
        text = str(action.get("text", ""))
        hook = meta_webhooks.meta_text(number, text, name=name)
        summary = {"kind": "text", "text": text}
    for entry in hook["entry"]:
        entry["id"] = config.meta.waba_id
        for change in entry["changes"]:
            value = change["value"]
            value["metadata"] = {
                "display_phone_number": display_number,
                "phone_number_id": config.meta.phone_number_id,
            }
            for contact in value.get("contacts", []):
                contact["profile"] = {"name": name}
            for message in value.get("messages", []):
                context = message.get("context")
                if context is not None:
                    context["from"] = display_number
    if found := meta_webhook_violations(hook):  # the page must show Meta's behaviour
        raise ValueError("the simulator built a webhook Meta could not send: " + "; ".join(found))
    body = json.dumps(hook, separators=(",", ":"), ensure_ascii=False).encode()
    headers = {
        "Content-Type": "application/json",
        "X-Hub-Signature-256": meta_webhooks.meta_signature(body, config.secrets.meta_app_secret),
        "User-Agent": "facebookexternalua",
    }
    return Webhook(META_PATH, headers, data=body, summary=summary)


def sms(config: Config, number: str, text: str) -> Webhook:
    form = twilio_form(config, whatsapp=False, number=number, body=text)
    kind, count = segments(text)
    summary = {"kind": "text", "text": text, "segments": count, "encoding": kind}
    return Webhook(SMS_PATH, sign_twilio(config, SMS_PATH, form), form=form, summary=summary)


def _location_summary(loc: dict[str, Any]) -> dict[str, Any]:
    return {
        "lat": float(loc["lat"]),
        "lng": float(loc["lng"]),
        "label": str(loc.get("label") or ""),
    }


def _telegram_user(user_id: int, name: str) -> dict[str, Any]:
    first, _, last = (name or "Utilisateur").partition(" ")
    user: dict[str, Any] = {
        "id": user_id,
        "is_bot": False,
        "first_name": first,
        "language_code": "fr",
    }
    if last:
        user["last_name"] = last
    return user


def _bot_user(config: Config) -> dict[str, Any]:
    """The bot as the emulator's getMe describes it (its id is the token's prefix)."""
    prefix = config.secrets.telegram_bot_token.split(":", 1)[0]
    return {"id": int(prefix) if prefix.isdigit() else 1, "is_bot": True, "first_name": "Boutik"}


def telegram(
    config: Config,
    user_id: int,
    name: str,
    action: dict[str, Any],
    *,
    message_id: int,
    callback_message: dict[str, Any] | None = None,
) -> Webhook:
    """A Telegram update: message (text, /command, contact, location, photo) or button tap.

    ``message_id`` comes from the emulator's per-chat counter, shared with the bot's own
    messages as in a real chat; ``callback_message`` is the bot message whose inline button
    was tapped, as the emulator holds it.
    """
    sender = _telegram_user(user_id, name)
    chat = {"id": user_id, "type": "private", "first_name": sender["first_name"]}
    update: dict[str, Any] = {"update_id": next(_update_ids)}
    if "callback" in action:
        data = str(action["callback"].get("data", ""))
        update["callback_query"] = {
            "id": str(secrets.randbelow(10**18) + 10**18),
            "from": sender,
            "chat_instance": str(-(user_id * 7 + 3)),
            "data": data,
            # The bot's message the button was on; a stand-in when the emulator lost it.
            "message": callback_message
            or {
                "message_id": message_id,
                "from": _bot_user(config),
                "date": int(time.time()),
                "chat": chat,
                "text": "…",
            },
        }
        summary = {"kind": "button", "text": str(action["callback"].get("text") or data)}
    else:
        message: dict[str, Any] = {
            "message_id": message_id,
            "from": sender,
            "chat": chat,
            "date": int(time.time()),
        }
        if "contact" in action:
            contact = action["contact"]
            number = str(contact.get("phone_number", ""))
            message["contact"] = {
                # Telegram gives the user's own number without the "+".
                "phone_number": number.removeprefix("+"),
                "first_name": sender["first_name"],
                "user_id": user_id,
            }
            if "last_name" in sender:
                message["contact"]["last_name"] = sender["last_name"]
            summary = {"kind": "contact", "text": number}
        elif "location" in action:
            loc = action["location"]
            message["location"] = {
                "latitude": float(loc["lat"]),
                "longitude": float(loc["lng"]),
            }
            summary = {"kind": "location", **_location_summary(loc)}
        elif "file_id" in action:
            message["photo"] = action["sizes"]
            if action.get("text"):
                message["caption"] = str(action["text"])
            summary = {"kind": "photo", "photo": action["preview"], "text": action.get("text", "")}
        else:
            text = str(action.get("text", ""))
            message["text"] = text
            if text.startswith("/"):
                command = text.split()[0]
                message["entities"] = [{"type": "bot_command", "offset": 0, "length": len(command)}]
            summary = {"kind": "text", "text": text}
        update["message"] = message
    if found := telegram_update_violations(update):  # the page must show Telegram's behaviour
        raise ValueError(
            "the simulator built an Update Telegram could not send: " + "; ".join(found)
        )
    headers = {"X-Telegram-Bot-Api-Secret-Token": config.secrets.telegram_webhook_secret}
    return Webhook(TELEGRAM_PATH, headers, json=update, summary=summary)
