"""Couriers, delivery jobs (deliveries and return pickups) and cash-on-delivery codes."""

from __future__ import annotations

import datetime as dt
from enum import StrEnum

from sqlalchemy import CheckConstraint, ForeignKey, Index, String, Text, UniqueConstraint, text
from sqlalchemy.orm import Mapped, mapped_column

from commerce import clock
from commerce.db import Base


class Vehicle(StrEnum):
    MOTO = "moto"
    VOITURE = "voiture"
    VELO = "velo"
    PIED = "pied"


class CourierStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REFUSED = "refused"


class JobKind(StrEnum):
    DELIVERY = "delivery"
    RETURN_PICKUP = "return_pickup"


class JobStatus(StrEnum):
    OPEN = "open"
    CLAIMED = "claimed"
    PICKED_UP = "picked_up"
    DONE = "done"
    CANCELLED = "cancelled"


ACTIVE_JOB_STATUSES = (JobStatus.CLAIMED, JobStatus.PICKED_UP)


class Courier(Base):
    __tablename__ = "couriers"

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), unique=True)
    prefecture: Mapped[str] = mapped_column(String(60))
    quartier: Mapped[str] = mapped_column(String(80), default="")
    vehicle: Mapped[Vehicle]
    status: Mapped[CourierStatus] = mapped_column(default=CourierStatus.PENDING)
    available: Mapped[bool] = mapped_column(default=False)
    lat: Mapped[float | None]
    lng: Mapped[float | None]
    created_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class DeliveryJob(Base):
    """One trip: an order to a buyer, or a returned parcel back to its seller."""

    __tablename__ = "delivery_jobs"
    __table_args__ = (
        # At most one delivery per order and one pickup per return, enforced by the database
        # (a partial index: an order may have several return pickups, one per return).
        Index(
            "uq_delivery_jobs_one_delivery_per_order",
            "order_id",
            unique=True,
            sqlite_where=text("kind = 'delivery'"),
            postgresql_where=text("kind = 'delivery'"),
        ),
        UniqueConstraint("return_id"),
        CheckConstraint("commission >= 0", name="commission_non_negative"),
        Index("ix_delivery_jobs_courier_status", "courier_id", "status"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    kind: Mapped[JobKind]
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    return_id: Mapped[int | None] = mapped_column(ForeignKey("returns.id"))
    shop_id: Mapped[int] = mapped_column(ForeignKey("shops.id"))
    status: Mapped[JobStatus] = mapped_column(default=JobStatus.OPEN, index=True)
    # Set when the seller hands the job to someone directly (themselves or a known courier).
    courier_id: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    from_lat: Mapped[float | None]
    from_lng: Mapped[float | None]
    to_lat: Mapped[float | None]
    to_lng: Mapped[float | None]
    distance_km: Mapped[float] = mapped_column(default=0.0)
    commission: Mapped[int] = mapped_column(default=0)
    bonus: Mapped[int] = mapped_column(default=0)
    published_at: Mapped[dt.datetime] = mapped_column(default=clock.now)
    claimed_at: Mapped[dt.datetime | None]
    picked_up_at: Mapped[dt.datetime | None]
    done_at: Mapped[dt.datetime | None]
    # Bumped at each publication (and bonus raise): offer waves of an older round stop.
    offer_round: Mapped[int] = mapped_column(default=0)


class JobOffer(Base):
    """One offer of one job to one courier, per publication round.

    Why a row: the waves must never text a courier twice for the same round (a retried job
    stays idempotent through the unique constraint), and the wave that finds nobody new can
    tell who was already asked.
    """

    __tablename__ = "job_offers"
    __table_args__ = (UniqueConstraint("job_id", "courier_id", "offer_round"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    job_id: Mapped[int] = mapped_column(ForeignKey("delivery_jobs.id"), index=True)
    courier_id: Mapped[int] = mapped_column(ForeignKey("users.id"), index=True)
    offer_round: Mapped[int] = mapped_column(default=0)
    wave: Mapped[int] = mapped_column(default=1)
    distance_km: Mapped[float] = mapped_column(default=0.0)
    offered_at: Mapped[dt.datetime] = mapped_column(default=clock.now)


class DeliveryCode(Base):
    """The QR token and PIN that prove a delivery. No amount, no personal data.

    The token is 256 bits from `secrets`; the PIN is 6 digits. Both are single use, bound to
    one order, expire, and the PIN locks after a number of wrong tries counted atomically.
    """

    __tablename__ = "delivery_codes"

    id: Mapped[int] = mapped_column(primary_key=True)
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"), unique=True)
    token: Mapped[str] = mapped_column(String(64), unique=True)
    pin: Mapped[str] = mapped_column(String(6))
    expires_at: Mapped[dt.datetime]
    failed_attempts: Mapped[int] = mapped_column(default=0)
    locked_at: Mapped[dt.datetime | None]
    # Courier proof (PIN or QR scan) and buyer's cash confirmation: both close the order.
    used_at: Mapped[dt.datetime | None]
    used_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    proof: Mapped[str] = mapped_column(Text, default="")
    # An admin's reissue of a locked code rotates token and PIN in place (the order keeps one
    # code row): who did the last one, when, and how many there were.
    reissued_at: Mapped[dt.datetime | None]
    reissued_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))
    reissues: Mapped[int] = mapped_column(default=0)


class PinGuard(Base):
    """One row per person who enters delivery PINs: the row PIN checks lock, and the pause.

    Why: a code locks after 5 wrong tries, but a courier holding 5 jobs would get 25 guesses.
    Every PIN check by a person locks this row first (`SELECT … FOR UPDATE`), so the count of
    their recent wrong PINs (`PinFailure`) and the pause decided from it cannot race.
    """

    __tablename__ = "pin_guards"

    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"), primary_key=True)
    # Set when the person's wrong PINs reached the limit; the pause ends one window later.
    paused_at: Mapped[dt.datetime | None]
    # Wrong PINs before this are forgiven (an admin lifted the pause).
    counts_from: Mapped[dt.datetime | None]
    lifted_at: Mapped[dt.datetime | None]
    lifted_by: Mapped[int | None] = mapped_column(ForeignKey("users.id"))


class PinFailure(Base):
    """One wrong PIN given by one person for one order (a sliding window counts them)."""

    __tablename__ = "pin_failures"
    __table_args__ = (Index("ix_pin_failures_user_at", "user_id", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    user_id: Mapped[int] = mapped_column(ForeignKey("users.id"))
    order_id: Mapped[int] = mapped_column(ForeignKey("orders.id"))
    at: Mapped[dt.datetime] = mapped_column(default=clock.now)
