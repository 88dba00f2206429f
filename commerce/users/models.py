"""People and how to reach them: users, roles, channel identities, saved addresses."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import BigInteger, ForeignKey, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import clock
from commerce.db import Base


class Role(StrEnum):
    BUYER = "buyer"
    SELLER = "seller"
    COURIER = "courier"
    ADMIN = "admin"


class Channel(StrEnum):
    WHATSAPP = "whatsapp"
    SMS = "sms"
    TELEGRAM = "telegram"


class Language(StrEnum):
    FR = "fr"
    EN = "en"


class User(Base):
    __tablename__ = "users"

    id: Mapped[int] = mapped_column(primary_key=True)
    name: Mapped[str] = mapped_column(String(120), default="")
    # E.164 (+224…), the identity shared by WhatsApp, SMS and a Telegram contact share.
    phone: Mapped[str | None] = mapped_column(String(20), unique=True)
    telegram_id: Mapped[int | None] = mapped_column(BigInteger, unique=True)
    language: Mapped[Language] = mapped_column(default=Language.FR)
    is_active: Mapped[bool] = mapped_column(default=True)
    # Opted out of non-essential messages (STOP); order and delivery messages still go.
    opted_out: Mapped[bool] = mapped_column(default=False)
    loyalty_points: Mapped[int] = mapped_column(default=0)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    roles: Mapped[list[UserRole]] = relationship(
        back_populates="user", cascade="all, delete-orphan", lazy="selectin"
    )
    addresses: Mapped[list[Address]] = relationship(
        back_populates="user", cascade="all, delete-orphan", order_by="Address.id"
    )

    def has_role(self, role: Role) -> bool:
        return any(r.role == role for r in self.roles)


class UserRole(Base):
    __tablename__ = "user_roles"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    role: Mapped[Role] = mapped_column(primary_key=True)

    user: Mapped[User] = relationship(back_populates="roles")


class ChannelIdentity(Base):
    """How a user is reached on one channel; the WhatsApp 24 h window is tracked here."""

    __tablename__ = "channel_identities"
    __table_args__ = (UniqueConstraint("channel", "address"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    channel: Mapped[Channel]
    # whatsapp/sms: E.164 phone; telegram: the chat id as text.
    address: Mapped[str] = mapped_column(String(64))
    last_inbound_at: Mapped[dt.datetime | None]
    # Telegram 403 / WhatsApp 63014: the user blocked us on this channel.
    blocked: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class Address(Base):
    """A landmark-based Guinean address, optionally pinned with GPS."""

    __tablename__ = "addresses"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    label: Mapped[str] = mapped_column(String(60), default="")
    region: Mapped[str] = mapped_column(String(60))
    prefecture: Mapped[str] = mapped_column(String(60))
    quartier: Mapped[str] = mapped_column(String(80), default="")
    landmark: Mapped[str] = mapped_column(Text, default="")
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)

    user: Mapped[User] = relationship(back_populates="addresses")
