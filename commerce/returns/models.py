"""Return requests, the items they cover, and the cash refunds they lead to."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import clock
from commerce.db import Base


class ReturnStatus(StrEnum):
    REQUESTED = "requested"
    APPROVED = "approved"
    REFUSED = "refused"
    RECEIVED = "received"  # the parcel is back with the seller; stock restored
    CLOSED = "closed"  # refund confirmed by the buyer


class RefundStatus(StrEnum):
    PENDING = "pending"
    PAID = "paid"


class Return(Base):
    __tablename__ = "returns"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    buyer_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    status: Mapped[ReturnStatus] = mapped_column(default=ReturnStatus.REQUESTED)
    reason: Mapped[str] = mapped_column(Text)
    photo_path: Mapped[str] = mapped_column(String(255), default="")
    refusal_reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    decided_at: Mapped[dt.datetime | None]

    items: Mapped[list[ReturnItem]] = relationship(
        cascade="all, delete-orphan", order_by="ReturnItem.id", lazy="selectin"
    )


class ReturnItem(Base):
    __tablename__ = "return_items"
    __table_args__ = (CheckConstraint("quantity > 0", name="quantity_positive"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), index=True)
    order_item_id: Mapped[int] = mapped_column(ForeignKey("order_items.id"))
    quantity: Mapped[int]


class Refund(Base):
    __tablename__ = "refunds"
    __table_args__ = (CheckConstraint("amount >= 0", name="amount_non_negative"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    return_id: Mapped[int] = mapped_column(ForeignKey("returns.id"), unique=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int]
    status: Mapped[RefundStatus] = mapped_column(default=RefundStatus.PENDING)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    paid_at: Mapped[dt.datetime | None]
