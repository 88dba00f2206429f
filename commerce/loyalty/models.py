"""Loyalty ledger: every point earned or spent, so the balance can always be explained."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import ForeignKey, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from commerce import clock
from commerce.db import Base


class LoyaltyEntry(Base):
    __tablename__ = "loyalty_entries"
    # One credit per delivered order, however often delivery is confirmed.
    __table_args__ = (UniqueConstraint("order_id", "reason"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"))
    points: Mapped[int]
    reason: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
