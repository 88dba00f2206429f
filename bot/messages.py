"""Channel-neutral messages: what came in, and the replies the flows produce.

Adapters translate provider payloads into `InboundMessage`; flows answer with `Reply` values;
workers render those per channel. Replies serialise to JSON so they can wait in the outbox.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Any

from commerce.users.models import Channel


class InboundKind(StrEnum):
    TEXT = "text"
    BUTTON = "button"  # a tap on a button or list row: `payload` carries its id
    LOCATION = "location"
    MEDIA = "media"
    CONTACT = "contact"
    COMMAND = "command"  # Telegram /commands


@dataclass(frozen=True)
class Media:
    url: str = ""  # Twilio MediaUrlN (fetch with the account credentials)
    content_type: str = ""
    file_id: str = ""  # Telegram file id (getFile)
    # Where a job can fetch it, prefixed by who holds it ("twilio:<url>", "telegram:<file id>",
    # "meta:<media id>"): set by the adapter, stored as is, so no flow needs to know providers.
    ref: str = ""

    @property
    def reference(self) -> str:
        if self.ref:
            return self.ref
        return f"telegram:{self.file_id}" if self.file_id else f"twilio:{self.url}"


@dataclass(frozen=True)
class InboundMessage:
    provider: str  # "twilio" | "meta" | "telegram": with external_id, the de-duplication key
    external_id: str  # MessageSid / update_id: the de-duplication key
    channel: Channel
    address: str  # E.164 phone (WhatsApp, SMS) or Telegram chat id
    kind: InboundKind = InboundKind.TEXT
    text: str = ""
    payload: str = ""
    profile_name: str = ""
    telegram_user_id: int | None = None
    latitude: float | None = None
    longitude: float | None = None
    location_label: str = ""
    media: tuple[Media, ...] = ()
    contact_phone: str = ""
    contact_user_id: int | None = None
    callback_query_id: str = ""
    # The bot's message whose button was tapped (Telegram's callback_query.message.message_id).
    source_message_id: int | None = None


# --- replies ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class Text:
    text: str
    # Put away the reply keyboard a contact or location request left open (Telegram's
    # ReplyKeyboardRemove); channels without one ignore it.
    remove_keyboard: bool = False


@dataclass(frozen=True)
class Choice:
    id: str  # the payload that comes back when chosen (≤ 64 bytes for Telegram)
    label: str
    description: str = ""


@dataclass(frozen=True)
class Choices:
    """A question with options: WhatsApp buttons/list, Telegram keyboard, numbered SMS."""

    text: str
    choices: tuple[Choice, ...]
    button: str = ""  # the list-opening button's label on WhatsApp


@dataclass(frozen=True)
class Image:
    media_path: str  # relative to the media directory; served by a signed /media link
    caption: str = ""


@dataclass(frozen=True)
class AskLocation:
    text: str


@dataclass(frozen=True)
class AskContact:
    text: str
    button: str = ""


@dataclass(frozen=True)
class Document:
    """A file to download (a CSV export): a Telegram document, a media link elsewhere."""

    media_path: str  # relative to the media directory
    filename: str
    caption: str = ""


Reply = Text | Choices | Image | AskLocation | AskContact | Document
_TYPES: dict[str, type] = {
    cls.__name__: cls for cls in (Text, Choices, Image, AskLocation, AskContact, Document)
}


def reply_to_json(reply: Reply) -> dict[str, Any]:
    data = dataclasses.asdict(reply)
    data["type"] = type(reply).__name__
    return data


def reply_from_json(data: dict[str, Any]) -> Reply:
    data = dict(data)
    cls = _TYPES[data.pop("type")]
    if cls is Choices:
        data["choices"] = tuple(Choice(**c) for c in data["choices"])
    return cls(**data)


@dataclass
class Turn:
    """What one inbound message produced."""

    replies: list[Reply] = field(default_factory=list)
    duplicate: bool = False
    outbox_ids: list[int] = field(default_factory=list)
