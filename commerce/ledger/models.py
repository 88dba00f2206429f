"""The cash ledger's tables: entries, their lines, courier remittances and cash alerts."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum
from typing import Any

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from commerce import clock
from commerce.db import Base
from commerce.orders.models import PaymentMethod


class AccountKind(StrEnum):
    """Whose hands cash is in, and under which label (see the package docstring)."""

    BUYER = "buyer"
    COURIER_CASH = "courier_cash"
    COURIER_COMMISSION = "courier_commission"
    COURIER_EARNED = "courier_earned"
    SELLER = "seller"
    PLATFORM = "platform"


class EntryKind(StrEnum):
    DOOR_PAYMENT = "door_payment"
    REMITTANCE = "remittance"
    REFUND = "refund"
    CORRECTION = "correction"


class RemittanceStatus(StrEnum):
    DECLARED = "declared"  # the courier says he handed the cash over; the seller has not answered
    CONFIRMED = "confirmed"  # the seller (or an admin settling a dispute) says it was received
    DISPUTED = "disputed"  # the seller says "not received": an admin decides
    REJECTED = "rejected"  # an admin found it was not received: the courier still holds it


OPEN_REMITTANCE_STATUSES = (RemittanceStatus.DECLARED, RemittanceStatus.DISPUTED)


class AlertKind(StrEnum):
    AMOUNT = "amount"  # a courier holds more than [ledger] max_cash_held_gnf
    AGE = "age"  # a courier has held cash longer than [ledger] max_cash_age_hours


class LedgerEntry(Base):
    """One movement of cash. Immutable: a correction is a new entry, never an edit."""

    __tablename__ = "ledger_entries"

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[EntryKind]
    # One key per movement ("door_payment:1042", "remittance:7", "refund:3"): the unique
    # constraint is what makes a double tap or a second worker unable to record it twice.
    key: Mapped[str] = mapped_column(String(80), unique=True)
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    job_id: Mapped[int | None] = mapped_column(ForeignKey("delivery_jobs.id"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    remittance_id: Mapped[int | None] = mapped_column(ForeignKey("remittances.id"))
    method: Mapped[PaymentMethod | None]
    reference: Mapped[str] = mapped_column(String(64), default="")
    recorded_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=clock.now, index=True)
    reason: Mapped[str] = mapped_column(Text, default="")

    lines: Mapped[list[LedgerLine]] = relationship(
        order_by="LedgerLine.id", lazy="selectin", cascade="save-update, merge"
    )


class LedgerLine(Base):
    """One account's share of an entry: positive, cash came into that account; negative, left it."""

    __tablename__ = "ledger_lines"
    __table_args__ = (
        CheckConstraint("amount <> 0", name="amount_non_zero"),
        Index("ix_ledger_lines_account_owner", "account", "owner_id"),
        Index("ix_ledger_lines_account_party", "account", "party_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    entry_id: Mapped[int] = mapped_column(ForeignKey("ledger_entries.id"), index=True)
    account: Mapped[AccountKind]
    # The account holder (None for the platform) and, for a courier's custody accounts, the
    # seller the cash is held for.
    owner_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    party_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    # The order the cash belongs to: per-order balances say what is settled and since when.
    order_id: Mapped[int | None] = mapped_column(ForeignKey("orders.id"), index=True)
    amount: Mapped[int]


class Remittance(Base):
    """A courier's hand-over of a seller's cash: declared by him, confirmed or disputed by her.

    Not itself a movement: the ledger entry is written when it is confirmed. It keeps both
    sides' word for an admin (what the courier declared, what the seller answered).
    """

    __tablename__ = "remittances"
    __table_args__ = (
        # One open declaration per courier and seller: a double "REMIS" declares once.
        Index(
            "uq_remittances_one_declared_per_pair",
            "courier_id",
            "seller_id",
            unique=True,
            sqlite_where=text("status = 'declared'"),
            postgresql_where=text("status = 'declared'"),
        ),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    seller_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    amount: Mapped[int]
    order_ids: Mapped[list[Any]] = mapped_column(default=list)
    status: Mapped[RemittanceStatus] = mapped_column(default=RemittanceStatus.DECLARED, index=True)
    declared_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    declared_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    answered_at: Mapped[dt.datetime | None]
    seller_note: Mapped[str] = mapped_column(Text, default="")
    resolved_at: Mapped[dt.datetime | None]
    resolved_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    resolution: Mapped[str] = mapped_column(Text, default="")


class CashAlert(Base):
    """A courier is over a cash threshold and was told: one row per crossing.

    The unique constraint makes the sweeper's warning once-only (two sweepers race to insert
    it); the row is deleted when the courier is back under, which re-arms the alert.
    """

    __tablename__ = "cash_alerts"
    __table_args__ = (UniqueConstraint("courier_id", "kind"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    kind: Mapped[AlertKind]
    raised_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    amount: Mapped[int] = mapped_column(default=0)
