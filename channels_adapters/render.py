"""One menu model, three renderings, inside each channel's real limits.

- WhatsApp: a Content API quick reply (1–3 buttons, ≤ 20 chars) or list picker (1–10 rows,
  ≤ 24 chars) whose shape matches the menu exactly (`menu_shape`), when one exists (synced by
  `boutik twilio templates sync`, or configured); otherwise a numbered text menu. Images go
  as MediaUrl (a signed /media link).
- Telegram: inline keyboards (callback_data ≤ 64 bytes), photos as bytes, reply keyboards to
  ask for a contact or a location.
- SMS: numbered menus in GSM-7 only, transliterated, long texts split on word boundaries.

Pure functions: no I/O, so every rule here is unit-tested.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping
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
    templates: Mapping[str, str],
    media_url: Callable[[str], str],
    stored: Mapping[str, str] | None = None,
) -> TwilioRequest:
    """`templates`: `[twilio] content_templates`; `stored`: shape → SID of the synced menus."""
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
    sid = menu_template(menu_shape(reply), templates, stored or {})
    if not sid:
        return TwilioRequest(body=_cut(numbered(reply, lang), WA_TEXT_MAX))
    return TwilioRequest(content_sid=sid, content_variables=menu_variables(reply, lang))


def menu_template(key: str | None, overrides: Mapping[str, str], stored: Mapping[str, str]) -> str:
    """The ContentSid for a menu of shape `key`, "" when none fits (numbered text then).

    `[twilio] content_templates` (`overrides`, its legacy keys included) wins over the
    templates `boutik twilio templates sync` made (`stored`): an operator's hand-made template
    is a deliberate choice.
    """
    if not key:
        return ""
    sid = overrides.get(key, "")
    if not sid and key in LEGACY_SHAPES:
        sid = overrides.get(LEGACY_SHAPES[key], "")
    return sid or stored.get(key, "")


def menu_shape(reply: Choices) -> str | None:
    """The template shape this menu needs exactly: "quick_reply_2", "list_picker_7_described"…

    Why exactly: Twilio fills variables a request leaves unset with the template's sample
    values (they do not vanish) and refuses empty ones (21656), so a 2-choice menu sent through
    a 3-button template would show a third, sample button. None: no WhatsApp shape fits (more
    than 10 choices), numbered text it is.
    """
    n = len(reply.choices)
    if 1 <= n <= WA_BUTTONS:
        return f"quick_reply_{n}"
    if n <= WA_ROWS:
        described = all(c.description for c in reply.choices)
        return f"list_picker_{n}_described" if described else f"list_picker_{n}"
    return None


# The two dynamic templates configured before shapes existed: a 3-button quick reply and a
# 10-row list picker with descriptions. They serve only menus of exactly their shape.
LEGACY_SHAPES = {"quick_reply_3": "quick_reply", "list_picker_10_described": "list_picker"}


def menu_variables(reply: Choices, lang: str) -> dict[str, str]:
    """Every variable of the menu's shape, each one filled (never '', never left to a sample).

    Quick reply: {{1}} body, then title/id pairs from {{2}}/{{3}}. List picker: {{1}} body,
    {{2}} button, then item/id (and description, in a described shape) from {{3}}.
    """
    body = _cut(reply.text, 1024) or "…"
    if len(reply.choices) <= WA_BUTTONS:
        variables = {"1": body}
        for i, choice in enumerate(reply.choices):
            variables[str(2 + 2 * i)] = _cut(choice.label, WA_BUTTON_LABEL) or choice.id
            variables[str(3 + 2 * i)] = choice.id
        return variables
    described = all(c.description for c in reply.choices)
    stride = 3 if described else 2
    variables = {
        "1": body,
        "2": _cut(reply.button or i18n.t(lang, "render.list_button"), WA_BUTTON_LABEL),
    }
    for i, choice in enumerate(reply.choices):
        variables[str(3 + stride * i)] = _cut(choice.label, WA_ROW_LABEL) or choice.id
        variables[str(4 + stride * i)] = choice.id
        if described:
            variables[str(5 + stride * i)] = _cut(choice.description, WA_ROW_DESCRIPTION)
    return variables


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
        remove = {"remove_keyboard": True} if reply.remove_keyboard else None
        return TelegramRequest(
            "send_message", text=_cut(reply.text, TG_TEXT_MAX), reply_markup=remove
        )
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
