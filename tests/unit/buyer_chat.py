"""A buyer's chat driven through the real engine, one transaction per message (no sockets).

Used by tests/unit/test_buyer_*.py: `chat.say("bonjour")`, `chat.tap("Acheter")` (by label),
then assertions on the replies, the conversation state and the database.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.buyer.flow import FLOW
from bot.engine import Engine
from bot.messages import Choices, Image, InboundKind, InboundMessage, Media, Reply, Text
from commerce.messaging.models import ConversationState
from commerce.users.models import Channel, User
from tests.support import Db, phone

_ids = itertools.count(1)
PUBLIC = "https://boutik.example.gn"


def text_of(reply: Reply) -> str:
    if isinstance(reply, Image):
        return reply.caption
    return getattr(reply, "text", "")


class Chat:
    def __init__(
        self,
        db: Db,
        media_dir: Path,
        *,
        channel: Channel = Channel.WHATSAPP,
        number: str | None = None,
        name: str = "Mariama Diallo",
        telegram_id: int | None = None,
        assistant_model: bool = False,
    ) -> None:
        self.db = db
        self.channel = channel
        self.number = number or phone()
        self.telegram_id = telegram_id
        self.name = name
        self.engine = Engine(
            lambda _u, _m, _c: FLOW,
            public_base_url=PUBLIC,
            media_dir=media_dir,
            flow_named=lambda _n: FLOW,
            assistant_model=assistant_model,
        )
        self.replies: list[Reply] = []
        self.inbound = 0

    @property
    def address(self) -> str:
        return str(self.telegram_id) if self.channel == Channel.TELEGRAM else self.number

    def _send(self, **fields: Any) -> list[Reply]:
        msg = InboundMessage(
            provider="telegram" if self.channel == Channel.TELEGRAM else "twilio",
            external_id=f"T{next(_ids)}",
            channel=self.channel,
            address=self.address,
            profile_name=self.name,
            telegram_user_id=self.telegram_id,
            **fields,
        )
        with self.db.uow() as s:
            turn = self.engine.handle(s, msg)
        self.inbound += 1
        self.replies = turn.replies
        return turn.replies

    def say(self, text: str) -> list[Reply]:
        return self._send(kind=InboundKind.TEXT, text=text)

    def press(self, payload: str) -> list[Reply]:
        return self._send(kind=InboundKind.BUTTON, payload=payload)

    def tap(self, label: str) -> list[Reply]:
        """Tap the choice of the last menu whose label contains `label`."""
        return self.press(self.choice(label))

    def choice(self, label: str) -> str:
        menu = self.menu()
        assert menu is not None, f"no menu in {self.texts()}"
        for c in menu.choices:
            if label.lower() in c.label.lower():
                return c.id
        raise AssertionError(f"no choice {label!r} in {[c.label for c in menu.choices]}")

    def pin(self, lat: float, lng: float, label: str = "") -> list[Reply]:
        return self._send(
            kind=InboundKind.LOCATION, latitude=lat, longitude=lng, location_label=label
        )

    def photo(self, *, url: str = "", file_id: str = "") -> list[Reply]:
        return self._send(
            kind=InboundKind.MEDIA,
            media=(Media(url=url, file_id=file_id, content_type="image/jpeg"),),
        )

    def menu(self) -> Choices | None:
        menus = [r for r in self.replies if isinstance(r, Choices)]
        return menus[-1] if menus else None

    def texts(self) -> str:
        return "\n".join(text_of(r) for r in self.replies)

    def images(self) -> list[Image]:
        return [r for r in self.replies if isinstance(r, Image)]

    def state(self) -> tuple[str, str, dict[str, Any]]:
        with self.db.session() as s:
            conv = s.scalar(
                select(ConversationState).where(
                    ConversationState.channel == self.channel,
                    ConversationState.address == self.address,
                )
            )
            assert conv is not None
            return conv.flow, conv.state, dict(conv.data)

    @property
    def current(self) -> str:
        return self.state()[1]

    def user_id(self) -> int:
        with self.db.session() as s:
            if self.channel == Channel.TELEGRAM:
                uid = s.scalar(select(User.id).where(User.telegram_id == self.telegram_id))
            else:
                uid = s.scalar(select(User.id).where(User.phone == self.number))
            assert uid is not None
            return uid


__all__ = ["Chat", "Text", "text_of"]
