"""One menu model rendered for Meta's WhatsApp Cloud API, inside the limits its API sets.

Why a module of its own: the Cloud API sends reply buttons, lists and location requests in
session as they are, with no pre-made template (Twilio needs a content template per menu
shape, `render.render_whatsapp`), so its rendering has other rules and other limits. What is
built here is the message part of the body of ``POST /{version}/{phone-number-id}/messages``
(``{"type": …, <type>: {…}}``); the sender (`senders.meta_sender.MetaSender.send_message`)
adds ``messaging_product``, ``recipient_type`` and ``to``.

- Text: one text message, cut at 4 096 characters with "…".
- Image, Document: by link (our signed /media URL), caption ≤ 1 024; a document keeps its name.
- Choices: 1–3 → interactive reply buttons (titles ≤ 20 and unique: Meta refuses two equal
  titles, so titles equal after cutting are told apart with a number); 4–10 → an interactive
  list of one section (rows ≤ 24, descriptions ≤ 72, ids ≤ 200, its button ≤ 20); more → the
  numbered text menu every channel understands (`render.numbered`). An id longer than Meta
  allows, empty, or given twice cannot come back as it was sent: that menu goes as numbered
  text too, rather than being refused by Meta.
- AskLocation: an interactive ``location_request_message`` (one tap shares a pin).
- AskContact: text (the Cloud API has no button that shares a contact).

Every limit below is the Graph API description's own
(``../shared/specs/meta/business-messaging-api_v23.0.yaml``: `BodyObject`, `ActionObject`,
`SectionObject`, `MediaObject`); the text limit, which the description leaves out, is Meta's
documented one. Pure functions: no I/O, so every rule is unit-tested.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

from bot import i18n
from bot.messages import AskContact, AskLocation, Choice, Choices, Document, Image, Reply, Text
from channels_adapters.render import numbered

TEXT_MAX = 4096  # text.body (Meta's documentation; the spec sets none)
CAPTION_MAX = 1024  # MediaObject caption maxLength
BODY_MAX = 1024  # BodyObject.text maxLength (interactive messages)
BUTTONS_MAX = 3  # ActionObject.buttons maxItems
BUTTON_TITLE_MAX = 20  # ActionObject.buttons[].reply.title maxLength
BUTTON_ID_MAX = 256  # ActionObject.buttons[].reply.id maxLength
LIST_BUTTON_MAX = 20  # ActionObject.button maxLength (the list-opening button)
ROWS_MAX = 10  # SectionObject.rows maxItems (and 10 rows in all, across sections)
ROW_TITLE_MAX = 24  # SectionObject.rows[].title maxLength
ROW_DESCRIPTION_MAX = 72  # SectionObject.rows[].description maxLength
ROW_ID_MAX = 200  # SectionObject.rows[].id maxLength
EMPTY = "…"  # what an interactive body says when the reply has no words: Meta refuses ""
# A template's text parameter may hold no newline nor tab, nor more than 4 spaces in a row
# (Meta refuses the send, 132018), and may not be empty.
_PARAMETER_BLANKS = re.compile(r"[\r\n\t]+| {4,}")

Message = dict[str, Any]


def cut(text: str, limit: int) -> str:
    """`text` within `limit` characters, ended by "…" when it was longer."""
    return text if len(text) <= limit else text[: limit - 1].rstrip() + "…"


def render_meta(reply: Reply, *, lang: str, media_url: Callable[[str], str]) -> Message:
    """The message part of a Graph API send for `reply` (see the module docstring)."""
    if isinstance(reply, Text):
        return text_message(reply.text)
    if isinstance(reply, Image):
        return _media("image", {"link": media_url(reply.media_path)}, reply.caption)
    if isinstance(reply, Document):
        media = {"link": media_url(reply.media_path)}
        if reply.filename.strip():
            media["filename"] = reply.filename
        return _media("document", media, reply.caption)
    if isinstance(reply, AskLocation):
        return _interactive("location_request_message", reply.text, {"name": "send_location"})
    if isinstance(reply, AskContact):
        return text_message(reply.text)
    assert isinstance(reply, Choices)
    return render_choices(reply, lang=lang)


def text_message(text: str) -> Message:
    return {"type": "text", "text": {"body": cut(text, TEXT_MAX) if text.strip() else EMPTY}}


def _media(kind: str, media: dict[str, str], caption: str) -> Message:
    if caption.strip():  # Meta refuses an empty caption: none at all then
        media["caption"] = cut(caption, CAPTION_MAX)
    return {"type": kind, kind: media}


def _interactive(kind: str, body: str, action: dict[str, Any]) -> Message:
    text = cut(body, BODY_MAX) if body.strip() else EMPTY
    return {
        "type": "interactive",
        "interactive": {"type": kind, "body": {"text": text}, "action": action},
    }


def render_choices(reply: Choices, *, lang: str) -> Message:
    """Reply buttons (1–3), a list (4–10), else numbered text."""
    n = len(reply.choices)
    if 1 <= n <= BUTTONS_MAX and _ids_fit(reply.choices, BUTTON_ID_MAX):
        titles = unique_titles(reply.choices, BUTTON_TITLE_MAX)
        buttons = [
            {"type": "reply", "reply": {"id": c.id, "title": title}}
            for c, title in zip(reply.choices, titles, strict=True)
        ]
        return _interactive("button", reply.text, {"buttons": buttons})
    if BUTTONS_MAX < n <= ROWS_MAX and _ids_fit(reply.choices, ROW_ID_MAX):
        titles = unique_titles(reply.choices, ROW_TITLE_MAX)
        rows = []
        for choice, title in zip(reply.choices, titles, strict=True):
            row = {"id": choice.id, "title": title}
            if choice.description.strip():
                row["description"] = cut(choice.description, ROW_DESCRIPTION_MAX)
            rows.append(row)
        label = (reply.button.strip() or i18n.t(lang, "render.list_button")).strip()
        action = {"button": cut(label, LIST_BUTTON_MAX), "sections": [{"rows": rows}]}
        return _interactive("list", reply.text, action)
    return text_message(numbered(reply, lang))


def _ids_fit(choices: tuple[Choice, ...], limit: int) -> bool:
    """Every id comes back exactly as sent: non-empty, no edge spaces, within `limit`, unique."""
    ids = [c.id for c in choices]
    return len(set(ids)) == len(ids) and all(i and i == i.strip() and len(i) <= limit for i in ids)


def unique_titles(choices: tuple[Choice, ...], limit: int) -> list[str]:
    """Each choice's title within `limit`, no two alike (Meta refuses equal button titles).

    A title equal to an earlier one (two labels that differ only past the cut, or the same
    label twice) gets " 2", " 3"… after its cut label; an empty label shows its id.
    """
    titles: list[str] = []
    for choice in choices:
        label = choice.label.strip() or choice.id
        title = cut(label, limit)
        number = 2
        while title in titles:
            suffix = f" {number}"
            title = cut(label, limit - len(suffix)) + suffix
            number += 1
        titles.append(title)
    return titles


def template_message(name: str, language: str, params: list[str]) -> Message:
    """An approved template by name and language code, its body's {{1}}, {{2}}… filled in order.

    Without parameters no ``components`` at all: a template whose body has none takes none.
    A parameter's newlines, tabs and runs of spaces become one space, an empty one "-" (Meta
    refuses both).
    """
    template: dict[str, Any] = {
        "name": name,
        "language": {"policy": "deterministic", "code": language},
    }
    if params:
        texts = [_PARAMETER_BLANKS.sub(" ", p).strip() or "-" for p in params]
        parameters = [{"type": "text", "text": t} for t in texts]
        template["components"] = [{"type": "body", "parameters": parameters}]
    return {"type": "template", "template": template}
