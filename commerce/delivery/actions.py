"""Delivery use cases: couriers, jobs (one winner, at most N active), pickups and returns.

The proof at the door, and what closes a delivery, live in `commerce.delivery.handover`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from commerce import clock, geo, rules
from commerce.catalog.models import Shop
from commerce.db import action, conditional_update
from commerce.delivery import pricing
from commerce.delivery.models import (
    ACTIVE_JOB_STATUSES,
    Courier,
    CourierStatus,
    DeliveryJob,
    JobKind,
    JobOffer,
    JobStatus,
    Vehicle,
)
from commerce.errors import (
    AlreadyExists,
    CourierUnavailable,
    IllegalTransition,
    InvalidInput,
    JobTaken,
    NotFound,
    PermissionDenied,
    ReasonRequired,
    TooManyJobs,
)
from commerce.ledger.actions import unpaid_commission
from commerce.messaging import events
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, notify_many
from commerce.orders.actions import seller_order
from commerce.orders.lifecycle import Actor, transition
from commerce.orders.models import DeliveryMode, Order, OrderStatus
from commerce.phones import normalize_phone
from commerce.returns.actions import receive_return
from commerce.returns.models import Refund
from commerce.users.actions import admins, require_actor, validate_place
from commerce.users.models import Role, User, UserRole

MAX_BONUS = pricing.MAX_BONUS  # the bot caps a typed bonus with it


# --- couriers -------------------------------------------------------------------------------


@action
def register_courier(
    session: Session, *, user_id: int, prefecture: str, vehicle: str, quartier: str = ""
) -> Courier:
    """A courier applies (INSCRIPTION); an admin approves before any offer is sent."""
    user = require_actor(session, user_id)
    courier = _new_courier(session, user, prefecture=prefecture, quartier=quartier, vehicle=vehicle)
    notify_many(
        session,
        users=admins(session),
        kind=Notice.COURIER_PENDING,
        params={"courier_id": courier.id},
    )
    return courier


def _new_courier(
    session: Session,
    user: User,
    *,
    prefecture: str,
    vehicle: str,
    quartier: str = "",
    status: CourierStatus = CourierStatus.PENDING,
) -> Courier:
    """The courier profile of `user`, validated as one who joins by SMS is (sign-up or admin)."""
    if session.scalar(select(Courier).where(Courier.user_id == user.id)) is not None:
        raise AlreadyExists("already registered", entity="courier")
    try:
        vehicle_kind = Vehicle(vehicle)
    except ValueError as exc:
        raise InvalidInput("unknown vehicle", vehicle=vehicle) from exc
    _region, pref_name, quartier_name = validate_place("", prefecture, quartier)
    point = geo.locate(prefecture=pref_name, quartier=quartier_name or None)
    courier = Courier(
        user_id=user.id,
        prefecture=pref_name,
        quartier=quartier_name,
        vehicle=vehicle_kind,
        status=status,
        lat=point[0] if point else None,
        lng=point[1] if point else None,
    )
    if not user.has_role(Role.COURIER):
        user.roles.append(UserRole(role=Role.COURIER))
    session.add(courier)
    session.flush()
    return courier


@action
def add_courier(
    session: Session,
    *,
    admin_id: int,
    phone: str,
    name: str,
    prefecture: str,
    vehicle: str,
    quartier: str = "",
) -> Courier:
    """An admin adds a courier (PRODUCT.md "or be added by an admin"): approved at once.

    The person behind `phone` is found or created (a buyer becomes a courier too: one person
    may hold several roles); one who is a courier already is refused with AlreadyExists. The
    courier is welcomed by SMS (who added him, ON to start, AIDE for help); he goes ON himself.
    """
    admin = require_actor(session, admin_id, Role.ADMIN)
    e164 = normalize_phone(phone)
    user = session.scalar(select(User).where(User.phone == e164))
    if user is None:
        user = User(phone=e164, name=" ".join(name.split())[:120])
        session.add(user)
        session.flush()
    elif name.strip() and not user.name:
        user.name = " ".join(name.split())[:120]
    courier = _new_courier(
        session,
        user,
        prefecture=prefecture,
        quartier=quartier,
        vehicle=vehicle,
        status=CourierStatus.APPROVED,
    )
    notify(
        session,
        user_id=user.id,
        kind=Notice.COURIER_ADDED,
        params={"courier_id": courier.id, "admin": admin.name or "Boutik"},
        essential=True,
    )
    return courier


def courier_profile(session: Session, user_id: int) -> Courier | None:
    """This user's courier profile, whatever its approval, or None before they sign up.

    No role check: the courier flow reads it to know where a newcomer stands (signing up,
    pending, approved). Every action on a job still goes through `courier_of`.
    """
    return session.scalar(select(Courier).where(Courier.user_id == user_id))


def courier_of(session: Session, user_id: int) -> Courier:
    require_actor(session, user_id, Role.COURIER)
    courier = courier_profile(session, user_id)
    if courier is None:
        raise NotFound("not a courier", entity="courier")
    return courier


@action
def decide_courier(
    session: Session, *, admin_id: int, courier_id: int, approve: bool, reason: str = ""
) -> Courier:
    require_actor(session, admin_id, Role.ADMIN)
    courier = session.get(Courier, courier_id)
    if courier is None:
        raise NotFound("unknown courier", entity="courier", id=courier_id)
    if not approve and not reason.strip():
        raise ReasonRequired("a reason is required")
    courier.status = CourierStatus.APPROVED if approve else CourierStatus.REFUSED
    notify(
        session,
        user_id=courier.user_id,
        kind=Notice.COURIER_APPROVED if approve else Notice.COURIER_REFUSED,
        params={"reason": reason.strip()},
        essential=True,
    )
    return courier


@action
def set_available(session: Session, *, user_id: int, available: bool) -> Courier:
    courier = courier_of(session, user_id)
    if courier.status != CourierStatus.APPROVED:
        raise CourierUnavailable("not approved yet", status=courier.status.value)
    courier.available = available
    if available:
        # The open jobs already within reach are offered after commit (workers.offers).
        events.record(session, "courier_available", user_id)
    return courier


def active_job_count(session: Session, user_id: int) -> int:
    return (
        session.scalar(
            select(func.count(DeliveryJob.id)).where(
                DeliveryJob.courier_id == user_id, DeliveryJob.status.in_(ACTIVE_JOB_STATUSES)
            )
        )
        or 0
    )


def _lock_courier(session: Session, user_id: int) -> Courier:
    """Serialise claims by one courier, so two at once cannot exceed the active-job limit."""
    courier = session.scalar(select(Courier).where(Courier.user_id == user_id).with_for_update())
    if courier is None:
        raise NotFound("not a courier", entity="courier")
    return courier


def _check_capacity(session: Session, user_id: int) -> None:
    limit = rules.of(session).max_active_jobs
    if active_job_count(session, user_id) >= limit:
        raise TooManyJobs("too many active jobs", max=limit)


# --- jobs -----------------------------------------------------------------------------------


def job_for_order(session: Session, order_id: int) -> DeliveryJob | None:
    return session.scalar(
        select(DeliveryJob).where(
            DeliveryJob.order_id == order_id, DeliveryJob.kind == JobKind.DELIVERY
        )
    )


def _new_delivery_job(session: Session, order: Order, *, bonus: int) -> DeliveryJob:
    bonus = pricing.check_bonus(bonus)
    if order.delivery_mode != DeliveryMode.HOME:
        raise IllegalTransition("pickup orders need no courier", order_id=order.id)
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    km, commission = pricing.quote(shop, order, bonus=bonus, rules=rules.of(session))
    start, end = pricing.point(shop), pricing.point(order)
    job = job_for_order(session, order.id)
    if job is not None and job.status not in (JobStatus.CANCELLED, JobStatus.OPEN):
        raise AlreadyExists("a courier already has this order", order_id=order.id)
    if job is None:
        job = DeliveryJob(kind=JobKind.DELIVERY, order_id=order.id, shop_id=shop.id)
        session.add(job)
    job.status = JobStatus.OPEN
    job.courier_id = None
    job.from_lat, job.from_lng = start if start else (None, None)
    job.to_lat, job.to_lng = end if end else (None, None)
    job.distance_km = km
    job.bonus = bonus
    job.commission = commission
    job.published_at = clock.now()
    session.flush()
    return job


@action
def publish_job(session: Session, *, seller_id: int, order_id: int, bonus: int = 0) -> DeliveryJob:
    """Offer an accepted order to the courier marketplace at the computed commission."""
    order = seller_order(session, seller_id, order_id)
    if order.status != OrderStatus.ACCEPTED:
        raise IllegalTransition(
            "accept the order first", order_id=order.id, from_status=order.status.value
        )
    job = _new_delivery_job(session, order, bonus=bonus)
    _start_offers(session, job)
    return job


def _start_offers(session: Session, job: DeliveryJob) -> None:
    """A new offer round: the courier waves start after commit (see commerce.messaging.events)."""
    job.offer_round += 1
    session.flush()
    events.record(session, "job_published", job.id, job.offer_round)


@action
def raise_bonus(session: Session, *, seller_id: int, job_id: int, bonus: int) -> DeliveryJob:
    job = session.get(DeliveryJob, job_id)
    if job is None:
        raise NotFound("unknown job", entity="job", id=job_id)
    order = seller_order(session, seller_id, job.order_id)
    if job.status != JobStatus.OPEN:
        raise JobTaken("job no longer open", job_id=job_id)
    if job.kind == JobKind.RETURN_PICKUP:
        # A return pickup is not the order's delivery: re-price this job where it stands.
        pricing.reprice(job, bonus=bonus, rules=rules.of(session))
        job.published_at = clock.now()
        session.flush()
    else:
        job = _new_delivery_job(session, order, bonus=bonus)
    _start_offers(session, job)
    return job


@action
def assign_courier(
    session: Session, *, seller_id: int, order_id: int, courier_user_id: int | None = None
) -> DeliveryJob:
    """The seller delivers personally (courier_user_id None) or hands it to a known courier."""
    order = seller_order(session, seller_id, order_id)
    if order.status != OrderStatus.ACCEPTED:
        raise IllegalTransition(
            "accept the order first", order_id=order.id, from_status=order.status.value
        )
    job = _new_delivery_job(session, order, bonus=0)
    deliverer = seller_id
    if courier_user_id is not None and courier_user_id != seller_id:
        courier = _lock_courier(session, courier_user_id)
        if courier.status != CourierStatus.APPROVED:
            raise CourierUnavailable("courier not approved", courier_id=courier.id)
        require_actor(session, courier_user_id, Role.COURIER)
        _check_capacity(session, courier_user_id)
        deliverer = courier_user_id
    else:
        job.commission = 0  # no commission when the seller rides it personally
    job.status = JobStatus.CLAIMED
    job.courier_id = deliverer
    job.claimed_at = clock.now()
    order.courier_id = deliverer
    transition(session, order, OrderStatus.COURIER_ASSIGNED, actor=Actor.SELLER, actor_id=seller_id)
    if deliverer != seller_id:
        notify(
            session,
            user_id=deliverer,
            kind=Notice.JOB_ASSIGNED,
            params={"job_id": job.id, "order_id": order.id},
            essential=True,
        )
    notify(
        session,
        user_id=order.buyer_id,
        kind=Notice.COURIER_ASSIGNED,
        params={"order_id": order.id},
        essential=True,
    )
    session.flush()
    return job


def _was_offered(session: Session, *, job_id: int, courier_user_id: int) -> bool:
    """Only a courier the job was offered to may take it: a job id is sequential and guessable,
    and the waves decide who is near enough (any round's offer counts)."""
    return (
        session.scalar(
            select(JobOffer.id)
            .where(JobOffer.job_id == job_id, JobOffer.courier_id == courier_user_id)
            .limit(1)
        )
        is not None
    )


@action
def claim_job(session: Session, *, courier_user_id: int, job_id: int) -> DeliveryJob:
    """First valid acceptance by a courier it was offered to wins: a conditional UPDATE."""
    courier = _lock_courier(session, courier_user_id)
    require_actor(session, courier_user_id, Role.COURIER)
    if courier.status != CourierStatus.APPROVED:
        raise CourierUnavailable("courier not approved", courier_id=courier.id)
    if not _was_offered(session, job_id=job_id, courier_user_id=courier_user_id):
        if session.get(DeliveryJob, job_id) is None:
            raise NotFound("unknown job", entity="job", id=job_id)
        raise PermissionDenied("job not offered to this courier", job_id=job_id)
    _check_capacity(session, courier_user_id)
    now = clock.now()
    won = conditional_update(
        session,
        update(DeliveryJob)
        .where(DeliveryJob.id == job_id, DeliveryJob.status == JobStatus.OPEN)
        .values(status=JobStatus.CLAIMED, courier_id=courier_user_id, claimed_at=now),
    )
    if won != 1:
        lost = session.get(DeliveryJob, job_id)
        if lost is None:
            raise NotFound("unknown job", entity="job", id=job_id)
        session.refresh(lost)
        raise JobTaken(
            "job already taken",
            job_id=job_id,
            order_id=lost.order_id,
            cancelled=lost.status == JobStatus.CANCELLED,
        )
    job = session.get(DeliveryJob, job_id)
    assert job is not None
    session.refresh(job)
    order = session.get(Order, job.order_id)
    assert order is not None
    if job.kind == JobKind.DELIVERY:
        order.courier_id = courier_user_id
        transition(
            session,
            order,
            OrderStatus.COURIER_ASSIGNED,
            actor=Actor.COURIER,
            actor_id=courier_user_id,
        )
        notify(
            session,
            user_id=order.buyer_id,
            kind=Notice.COURIER_ASSIGNED,
            params={"order_id": order.id},
            essential=True,
        )
    shop = session.get(Shop, job.shop_id)
    assert shop is not None
    notify(
        session,
        user_id=shop.owner_id,
        kind=Notice.JOB_CLAIMED,
        params={"job_id": job.id, "order_id": order.id},
        essential=True,
    )
    return job


def _courier_job(session: Session, user_id: int, job_id: int) -> DeliveryJob:
    require_actor(session, user_id)
    job = session.get(DeliveryJob, job_id)
    if job is None:
        raise NotFound("unknown job", entity="job", id=job_id)
    if job.courier_id != user_id:
        raise PermissionDenied("not your job", job_id=job_id)
    return job


def job_for_order_number(session: Session, *, user_id: int, order_id: int) -> DeliveryJob:
    """The courier's active job for an order number (what couriers type: P1042, D1042)."""
    job = session.scalar(
        select(DeliveryJob)
        .where(DeliveryJob.order_id == order_id, DeliveryJob.courier_id == user_id)
        .where(DeliveryJob.status.in_(ACTIVE_JOB_STATUSES))
    )
    if job is None:
        raise NotFound("no such job of yours", entity="job", order_id=order_id)
    return job


@action
def mark_picked_up(session: Session, *, user_id: int, job_id: int) -> DeliveryJob:
    job = _courier_job(session, user_id, job_id)
    if job.status != JobStatus.CLAIMED:
        raise IllegalTransition("not waiting for pickup", job_id=job_id)
    job.status = JobStatus.PICKED_UP
    job.picked_up_at = clock.now()
    order = session.get(Order, job.order_id)
    assert order is not None
    if job.kind == JobKind.DELIVERY:
        actor = Actor.SELLER if order.courier_id == shop_owner_id(session, order) else Actor.COURIER
        transition(session, order, OrderStatus.PICKED_UP, actor=actor, actor_id=user_id)
        notify(
            session,
            user_id=order.buyer_id,
            kind=Notice.ORDER_PICKED_UP,
            params={"order_id": order.id},
            essential=True,
        )
    elif job.return_id is not None:
        # The courier hands the refund over as the parcel is collected: the buyer confirms it.
        refund = session.scalar(select(Refund).where(Refund.return_id == job.return_id))
        notify(
            session,
            user_id=order.buyer_id,
            kind=Notice.CONFIRM_REFUND,
            params={
                "return_id": job.return_id,
                "order_id": order.id,
                "amount": refund.amount if refund is not None else 0,
            },
            essential=True,
        )
    session.flush()
    return job


def shop_owner_id(session: Session, order: Order) -> int:
    """The seller whose shop an order is from (who may also ride it personally)."""
    shop = session.get(Shop, order.shop_id)
    assert shop is not None
    return shop.owner_id


# --- returns pickups ------------------------------------------------------------------------


@action
def deliver_return(session: Session, *, user_id: int, job_id: int) -> DeliveryJob:
    """The courier hands the returned parcel back to the seller: stock comes back."""
    job = _courier_job(session, user_id, job_id)
    if job.kind != JobKind.RETURN_PICKUP or job.status != JobStatus.PICKED_UP:
        raise IllegalTransition("not a return on its way", job_id=job_id)
    job.status = JobStatus.DONE
    job.done_at = clock.now()
    assert job.return_id is not None
    receive_return(session, return_id=job.return_id)
    return job


# --- earnings -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Earnings:
    today: int
    week: int
    unpaid: int
    done_today: int


def earnings(session: Session, *, user_id: int, now: dt.datetime | None = None) -> Earnings:
    require_actor(session, user_id, Role.COURIER)
    now = now or clock.now()
    start_day = now.replace(hour=0, minute=0, second=0, microsecond=0)
    start_week = start_day - dt.timedelta(days=start_day.weekday())
    jobs = list(
        session.scalars(
            select(DeliveryJob).where(
                DeliveryJob.courier_id == user_id, DeliveryJob.status == JobStatus.DONE
            )
        )
    )
    done_at = [(j, j.done_at or now) for j in jobs]
    return Earnings(
        today=sum(j.commission for j, t in done_at if t >= start_day),
        week=sum(j.commission for j, t in done_at if t >= start_week),
        # Commission stays unpaid until the seller confirms the courier's hand-over (the ledger).
        unpaid=unpaid_commission(session, courier_id=user_id),
        done_today=sum(1 for _j, t in done_at if t >= start_day),
    )


def active_jobs(session: Session, *, user_id: int) -> list[DeliveryJob]:
    require_actor(session, user_id)
    return list(
        session.scalars(
            select(DeliveryJob)
            .where(DeliveryJob.courier_id == user_id, DeliveryJob.status.in_(ACTIVE_JOB_STATUSES))
            .order_by(DeliveryJob.id)
        )
    )


def available_couriers_near(
    session: Session, *, point: tuple[float, float], radius_km: float
) -> list[tuple[Courier, float]]:
    """Approved, available, active couriers within `radius_km` of `point`, nearest first."""
    rows = session.execute(
        select(Courier)
        .join(User, Courier.user_id == User.id)
        .where(
            Courier.status == CourierStatus.APPROVED,
            Courier.available.is_(True),
            User.is_active.is_(True),
        )
    ).scalars()
    found = []
    for c in rows:
        if c.lat is None or c.lng is None:
            continue
        km = geo.haversine_km(point, (c.lat, c.lng))
        if km <= radius_km:
            found.append((c, km))
    return sorted(found, key=lambda ck: ck[1])
