"""Messaging records the core writes in the same transaction as business changes.

The outbox is how an action tells someone without calling a provider; the inbound log's
UNIQUE (provider, external_id) is what makes a redelivered webhook a no-op; the conversation
state row is saved with both, so a retried webhook can neither place a second order nor lose
the first.
"""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import ForeignKey, Index, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce import clock
from commerce.db import Base
from commerce.users.models import Channel


class OutboxStatus(StrEnum):
    PENDING = "pending"  # written, not yet handed to a provider
    SENDING = "sending"  # a worker holds it
    SENT = "sent"  # accepted by the provider (queued/sent there)
    DELIVERED = "delivered"
    READ = "read"
    FAILED = "failed"  # terminal: see error_code / last_error
    UNDELIVERED = "undelivered"
    SKIPPED = "skipped"  # not sent on purpose: opted out of non-essential messages, no channel


class Outbox(Base):
    __tablename__ = "outbox"
    __table_args__ = (
        Index("ix_outbox_status_due", "status", "next_attempt_at"),
        UniqueConstraint("dedupe_key"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    # None: deliver on the user's preferred channel, chosen when the message is sent.
    channel: Mapped[Channel | None]
    address: Mapped[str] = mapped_column(String(64), default="")
    # What happened ("order_placed", "reply", …): picks the template and the WhatsApp ContentSid.
    kind: Mapped[str] = mapped_column(String(40))
    # Order and delivery messages the user asked for go even after STOP.
    essential: Mapped[bool] = mapped_column(default=False)
    payload: Mapped[dict[str, Any]] = mapped_column(default=dict)
    status: Mapped[OutboxStatus] = mapped_column(default=OutboxStatus.PENDING)
    attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    # Twilio's SID (34), Telegram's message id, or Meta's "wamid.…" (longer than 64).
    provider_message_id: Mapped[str | None] = mapped_column(String(128), index=True)
    error_code: Mapped[str] = mapped_column(String(20), default="")
    last_error: Mapped[str] = mapped_column(Text, default="")
    dedupe_key: Mapped[str | None] = mapped_column(String(120))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    sent_at: Mapped[dt.datetime | None]
    # The channel and address it actually went out on (a WhatsApp row may fall back to SMS).
    sent_channel: Mapped[Channel | None]
    sent_address: Mapped[str] = mapped_column(String(64), default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)


class InboundMessage(Base):
    __tablename__ = "inbound_messages"
    __table_args__ = (UniqueConstraint("provider", "external_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    provider: Mapped[str] = mapped_column(String(20))
    external_id: Mapped[str] = mapped_column(String(128))  # a Meta "wamid.…" can pass 64
    channel: Mapped[Channel]
    address: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[str] = mapped_column(String(20), default="text")
    received_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class ConversationState(Base):
    __tablename__ = "conversation_states"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    channel: Mapped[Channel]
    address: Mapped[str] = mapped_column(String(64))
    user_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"), index=True)
    flow: Mapped[str] = mapped_column(String(20), default="buyer")
    state: Mapped[str] = mapped_column(String(40), default="start")
    data: Mapped[dict[str, Any]] = mapped_column(default=dict)
    # Handed to a person: the bot stays silent until released.
    human_mode: Mapped[bool] = mapped_column(default=False)
    updated_at: Mapped[dt.datetime] = mapped_column(default=clock.now, onupdate=clock.now)
