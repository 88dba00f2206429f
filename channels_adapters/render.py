"""One menu model, three renderings, inside each channel's real limits.

- WhatsApp: Content API quick replies (≤ 3 buttons, ≤ 20 chars) or a list picker (≤ 10 rows,
  ≤ 24 chars) when their ContentSid is configured; otherwise a numbered text menu. Images go as
  MediaUrl (a signed /media link).
- Telegram: inline keyboards (callback_data ≤ 64 bytes), photos as bytes, reply keyboards to
  ask for a contact or a location.
- SMS: numbered menus in GSM-7 only, transliterated, long texts split on word boundaries.

Pure functions: no I/O, so every rule here is unit-tested.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from bot import i18n
from bot.messages import AskContact, AskLocation, Choices, Document, Image, Reply, Text
from commerce.messaging.sms_text import fits_one_segment, split_words, to_gsm7

WA_BUTTONS, WA_BUTTON_LABEL = 3, 20
WA_ROWS, WA_ROW_LABEL, WA_ROW_DESCRIPTION = 10, 24, 72
WA_TEXT_MAX = 4096
TG_TEXT_MAX, TG_CAPTION_MAX, TG_CALLBACK_MAX = 4096, 1024, 64
SMS_SINGLE, SMS_PART = 160, 153


def _cut(text: str, limit: int) -> str:
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def numbered(reply: Choices, lang: str) -> str:
    lines = [reply.text] + [f"{i}. {c.label}" for i, c in enumerate(reply.choices, 1)]
    lines.append(i18n.t(lang, "render.reply_number"))
    return "\n".join(lines)


@dataclass(frozen=True)
class TwilioRequest:
    body: str = ""
    media_urls: tuple[str, ...] = ()
    content_sid: str = ""
    content_variables: dict[str, str] = field(default_factory=dict)


def render_whatsapp(
    reply: Reply,
    *,
    lang: str,
    templates: dict[str, str],
    media_url: Callable[[str], str],
) -> TwilioRequest:
    if isinstance(reply, Text):
        return TwilioRequest(body=_cut(reply.text, WA_TEXT_MAX))
    if isinstance(reply, Image):
        return TwilioRequest(
            body=_cut(reply.caption, 1024), media_urls=(media_url(reply.media_path),)
        )
    if isinstance(reply, AskLocation):
        return TwilioRequest(body=reply.text + "\n" + i18n.t(lang, "render.share_location_wa"))
    if isinstance(reply, AskContact):
        return TwilioRequest(body=reply.text)
    if isinstance(reply, Document):
        return TwilioRequest(
            body=_cut(reply.caption, 1024), media_urls=(media_url(reply.media_path),)
        )
    assert isinstance(reply, Choices)
    fits_buttons = len(reply.choices) <= WA_BUTTONS
    if fits_buttons and templates.get("quick_reply"):
        variables = {"1": _cut(reply.text, 1024)}
        for i, choice in enumerate(reply.choices):
            variables[str(2 + 2 * i)] = _cut(choice.label, WA_BUTTON_LABEL)
            variables[str(3 + 2 * i)] = choice.id
        return TwilioRequest(content_sid=templates["quick_reply"], content_variables=variables)
    if len(reply.choices) <= WA_ROWS and templates.get("list_picker"):
        variables = {
            "1": _cut(reply.text, 1024),
            "2": _cut(reply.button or i18n.t(lang, "render.list_button"), WA_BUTTON_LABEL),
        }
        for i, choice in enumerate(reply.choices):
            variables[str(3 + 3 * i)] = _cut(choice.label, WA_ROW_LABEL)
            variables[str(4 + 3 * i)] = choice.id
            variables[str(5 + 3 * i)] = _cut(choice.description, WA_ROW_DESCRIPTION)
        return TwilioRequest(content_sid=templates["list_picker"], content_variables=variables)
    return TwilioRequest(body=_cut(numbered(reply, lang), WA_TEXT_MAX))


def render_sms(reply: Reply, *, lang: str) -> list[str]:
    """GSM-7 parts: one SMS when it fits 160 characters, else parts split between words."""
    if isinstance(reply, Choices):
        text = numbered(reply, lang)
    elif isinstance(reply, Image | Document):
        text = reply.caption
    elif isinstance(reply, AskLocation):
        text = reply.text + "\n" + i18n.t(lang, "render.share_location_sms")
    else:
        text = reply.text
    text = to_gsm7(text)
    if not text:
        return []
    if fits_one_segment(text):
        return [text]  # newlines kept: a menu reads as lines
    return split_words(text, SMS_PART)


@dataclass(frozen=True)
class TelegramRequest:
    method: str  # "send_message" | "send_photo" | "send_document"
    text: str = ""
    photo_path: str = ""  # relative to the media dir, or "telegram:<file_id>" (not yet fetched)
    reply_markup: dict[str, Any] | None = None
    filename: str = ""


def _callback(data: str) -> str:
    encoded = data.encode()
    if len(encoded) > TG_CALLBACK_MAX:
        raise ValueError(f"callback_data over {TG_CALLBACK_MAX} bytes: {data!r}")
    return data


def render_telegram(reply: Reply, *, lang: str) -> TelegramRequest:
    if isinstance(reply, Text):
        return TelegramRequest("send_message", text=_cut(reply.text, TG_TEXT_MAX))
    if isinstance(reply, Image):
        return TelegramRequest(
            "send_photo", text=_cut(reply.caption, TG_CAPTION_MAX), photo_path=reply.media_path
        )
    if isinstance(reply, Document):
        return TelegramRequest(
            "send_document",
            text=_cut(reply.caption, TG_CAPTION_MAX),
            photo_path=reply.media_path,
            filename=reply.filename,
        )
    if isinstance(reply, AskContact):
        return TelegramRequest(
            "send_message",
            text=reply.text,
            reply_markup={
                "keyboard": [
                    [
                        {
                            "text": reply.button or i18n.t(lang, "render.share_contact"),
                            "request_contact": True,
                        }
                    ]
                ],
                "one_time_keyboard": True,
                "resize_keyboard": True,
            },
        )
    if isinstance(reply, AskLocation):
        return TelegramRequest(
            "send_message",
            text=reply.text,
            reply_markup={
                "keyboard": [
                    [{"text": i18n.t(lang, "render.share_location"), "request_location": True}]
                ],
                "one_time_keyboard": True,
                "resize_keyboard": True,
            },
        )
    assert isinstance(reply, Choices)
    rows = [[{"text": _cut(c.label, 64), "callback_data": _callback(c.id)}] for c in reply.choices]
    return TelegramRequest(
        "send_message", text=_cut(reply.text, TG_TEXT_MAX), reply_markup={"inline_keyboard": rows}
    )


def content_variables_json(variables: dict[str, str]) -> str:
    return json.dumps(variables, ensure_ascii=False)
