"""Reports against users or products; enough open ones deactivate the account."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import ForeignKey, Index, Text
from sqlalchemy.orm import Mapped, mapped_column

from commerce import clock
from commerce.db import Base


class ReportStatus(StrEnum):
    OPEN = "open"
    RESOLVED = "resolved"
    DISMISSED = "dismissed"


class Report(Base):
    __tablename__ = "reports"
    __table_args__ = (Index("ix_reports_target_status", "target_user_id", "status"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    reporter_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    # A report on a product counts against the product's seller.
    target_user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    product_id: Mapped[int | None] = mapped_column(ForeignKey("products.id"))
    reason: Mapped[str] = mapped_column(Text)
    status: Mapped[ReportStatus] = mapped_column(default=ReportStatus.OPEN)
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    resolved_at: Mapped[dt.datetime | None]
