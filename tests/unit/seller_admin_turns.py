"""Driving the engine with Telegram-shaped messages, as sellers and admins send them.

One `Bot` per test: the real engine and router, a media dir of the test's own, one transaction
per message (like a webhook turn), and the replies returned for asserting. The after-commit
events a turn records (`commerce.messaging.events`) are kept in `Bot.events`, so a test can
start their jobs as `run_turn` would.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from sqlalchemy import select

from bot.engine import Engine
from bot.messages import Choices, InboundKind, InboundMessage, Media, Reply, Text
from bot.notifications import render_notification
from bot.router import flow_named, pick_flow
from commerce.messaging.events import Event, take_events
from commerce.messaging.models import ConversationState, Outbox
from commerce.users.models import Channel, User
from tests.support import Db

_ids = itertools.count(1)


@dataclass
class Bot:
    db: Db
    engine: Engine
    media_dir: Path
    events: list[Event] = field(default_factory=list)

    def send(
        self,
        tg_id: int,
        text: str = "",
        *,
        payload: str = "",
        photo: str = "",
        contact: tuple[str, int | None] | None = None,
    ) -> list[Reply]:
        fields: dict[str, Any] = {}
        if payload:
            fields.update(kind=InboundKind.BUTTON, payload=payload, callback_query_id="cb")
        elif photo:
            fields.update(kind=InboundKind.MEDIA, media=(Media(file_id=photo),), text=text)
        elif contact is not None:
            fields.update(
                kind=InboundKind.CONTACT, contact_phone=contact[0], contact_user_id=contact[1]
            )
        elif text.startswith("/"):
            fields.update(kind=InboundKind.COMMAND, text=text)
        else:
            fields.update(kind=InboundKind.TEXT, text=text)
        msg = InboundMessage(
            provider="telegram",
            external_id=f"u{next(_ids)}",
            channel=Channel.TELEGRAM,
            address=str(tg_id),
            telegram_user_id=tg_id,
            profile_name="Aissatou Bah",
            **fields,
        )
        with self.db.uow() as s:
            replies = self.engine.handle(s, msg).replies
            self.events.extend(take_events(s))
            return replies

    def tap(self, tg_id: int, payload: str) -> list[Reply]:
        return self.send(tg_id, payload=payload)

    def state(self, tg_id: int) -> tuple[str, str]:
        with self.db.session() as s:
            conv = s.scalar(
                select(ConversationState).where(ConversationState.address == str(tg_id))
            )
            assert conv is not None
            return conv.flow, conv.state

    def user_id(self, tg_id: int) -> int:
        with self.db.session() as s:
            uid = s.scalar(select(User.id).where(User.telegram_id == tg_id))
            assert uid is not None
            return uid

    def notification(self, user_id: int, kind: str) -> Reply:
        """The last `kind` notification for `user_id`, rendered as it will be sent."""
        with self.db.session() as s:
            row = s.scalar(
                select(Outbox)
                .where(Outbox.user_id == user_id, Outbox.kind == kind)
                .order_by(Outbox.id.desc())
                .limit(1)
            )
            assert row is not None, f"no {kind} for user {user_id}"
            user = s.get(User, user_id)
            lang = user.language.value if user else "fr"
            return render_notification(s, user, kind, dict(row.payload["params"]), lang)


def make_bot(db: Db, tmp_path: Path, admin_ids: tuple[int, ...] = ()) -> Bot:
    engine = Engine(
        pick_flow, flow_named=flow_named, media_dir=tmp_path, admin_telegram_ids=admin_ids
    )
    return Bot(db=db, engine=engine, media_dir=tmp_path)


def texts(replies: list[Reply]) -> str:
    """Every sentence of the replies, joined: what the user reads."""
    out = []
    for r in replies:
        if isinstance(r, Text | Choices):
            out.append(r.text)
        elif hasattr(r, "caption"):
            out.append(r.caption)
        elif hasattr(r, "text"):
            out.append(r.text)
    return "\n".join(out)


def choice_ids(replies: list[Reply]) -> list[str]:
    return [c.id for r in replies if isinstance(r, Choices) for c in r.choices]
