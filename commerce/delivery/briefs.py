"""What a courier may be told about a job, handed out only after the core has checked who asks.

A courier's replies carry a seller's phone, a buyer's landmark and phone, and the cash to
collect. A button id or a typed order number is only a request: `job_brief` answers it for the
job's own courier (approved, active, assigned, the job still active), and reveals the buyer's
door only once the parcel is in hand (for a return pickup, the buyer's door is where the job
starts). Bot handlers compose courier texts from a `JobBrief` and from nothing else, so a forged
button can at most be refused.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.catalog.models import Shop
from commerce.delivery.models import (
    ACTIVE_JOB_STATUSES,
    Courier,
    CourierStatus,
    DeliveryJob,
    JobKind,
    JobStatus,
)
from commerce.errors import CourierUnavailable, NotFound, PermissionDenied
from commerce.orders.models import Order
from commerce.returns.models import Refund
from commerce.users.actions import require_actor
from commerce.users.models import User


@dataclass(frozen=True)
class Stop:
    """One end of a trip: the place, its landmark, and whom to call there."""

    name: str
    quartier: str
    prefecture: str
    landmark: str
    phone: str
    # The GPS pin shared for this place (the buyer's WhatsApp location), when there is one.
    lat: float | None = None
    lng: float | None = None


@dataclass(frozen=True)
class JobBrief:
    job_id: int
    order_id: int
    kind: JobKind
    status: JobStatus
    commission: int
    shop: Stop
    # The buyer's door and the cash: for a delivery only once picked up; always for a return.
    buyer: Stop | None
    collect_gnf: int  # cash the courier collects at the buyer's door (0 for a return)
    refund_gnf: int  # cash the courier hands the buyer back (returns)


def _phone(session: Session, user_id: int) -> str:
    user = session.get(User, user_id)
    return (user.phone or "") if user is not None else ""


def _check_deliverer(session: Session, job: DeliveryJob, user_id: int, shop: Shop) -> None:
    """The job's own courier, approved; or the seller riding his own order personally."""
    if job.courier_id != user_id or job.status not in ACTIVE_JOB_STATUSES:
        raise PermissionDenied("not your job", job_id=job.id)
    if shop.owner_id == user_id:
        return
    courier = session.scalar(select(Courier).where(Courier.user_id == user_id))
    if courier is None or courier.status != CourierStatus.APPROVED:
        raise CourierUnavailable("courier not approved")


def job_brief(session: Session, *, user_id: int, job_id: int) -> JobBrief:
    """The job as its courier may see it now; PermissionDenied/NotFound for anyone else."""
    require_actor(session, user_id)
    job = session.get(DeliveryJob, job_id)
    if job is None:
        raise NotFound("unknown job", entity="job", id=job_id)
    shop = session.get(Shop, job.shop_id)
    order = session.get(Order, job.order_id)
    if shop is None or order is None:
        raise NotFound("unknown job", entity="job", id=job_id)
    _check_deliverer(session, job, user_id, shop)
    refund = 0
    if job.kind == JobKind.RETURN_PICKUP and job.return_id is not None:
        row = session.scalar(select(Refund).where(Refund.return_id == job.return_id))
        refund = row.amount if row is not None else 0
    at_door = job.kind == JobKind.RETURN_PICKUP or job.status == JobStatus.PICKED_UP
    buyer = (
        Stop(
            name="",
            quartier=order.quartier,
            prefecture=order.prefecture,
            landmark=order.landmark,
            phone=_phone(session, order.buyer_id),
            lat=order.lat,
            lng=order.lng,
        )
        if at_door
        else None
    )
    return JobBrief(
        job_id=job.id,
        order_id=order.id,
        kind=job.kind,
        status=job.status,
        commission=job.commission,
        shop=Stop(
            name=shop.name,
            quartier=shop.quartier,
            prefecture=shop.prefecture,
            landmark=shop.landmark,
            phone=_phone(session, shop.owner_id),
            lat=shop.lat,
            lng=shop.lng,
        ),
        buyer=buyer,
        collect_gnf=order.total if job.kind == JobKind.DELIVERY and buyer is not None else 0,
        refund_gnf=refund,
    )


def brief_for_order_number(session: Session, *, user_id: int, order_id: int) -> JobBrief:
    """The courier's active job for an order number (what couriers type: P1042, D1042)."""
    job_id = session.scalar(
        select(DeliveryJob.id)
        .where(DeliveryJob.order_id == order_id, DeliveryJob.courier_id == user_id)
        .where(DeliveryJob.status.in_(ACTIVE_JOB_STATUSES))
        .order_by(DeliveryJob.id.desc())
    )
    if job_id is None:
        taken = session.scalar(
            select(DeliveryJob.id).where(
                DeliveryJob.order_id == order_id,
                DeliveryJob.courier_id.is_not(None),
                DeliveryJob.courier_id != user_id,
                DeliveryJob.status.in_(ACTIVE_JOB_STATUSES),
            )
        )
        if taken is not None:  # told as such, so a courier knows not to go on asking
            raise PermissionDenied("another courier's job", order_id=order_id)
        raise NotFound("no such job of yours", entity="job", order_id=order_id)
    return job_brief(session, user_id=user_id, job_id=job_id)


def open_job_for_order(session: Session, *, order_id: int, kind: JobKind) -> int | None:
    """The job to claim for an order number: its delivery, or its oldest open return pickup.

    An id only: claiming it (`actions.claim_job`) is what checks who asks.
    """
    stmt = select(DeliveryJob.id).where(DeliveryJob.order_id == order_id, DeliveryJob.kind == kind)
    if kind == JobKind.RETURN_PICKUP:
        open_job = session.scalar(
            stmt.where(DeliveryJob.status == JobStatus.OPEN).order_by(DeliveryJob.id)
        )
        if open_job is not None:
            return open_job
        stmt = stmt.order_by(DeliveryJob.id.desc())
    return session.scalar(stmt.limit(1))
