"""Offering an open job to couriers in waves: nearest first, then wider, then the seller.

A wave texts every eligible courier within its radius who was not asked yet in this round:
approved, available (ON), active, not opted out, below the active-job limit. The next wave
comes after the configured timeout, wider by one step; a wave that finds nobody new widens at
once. After the last wave, if the job is still open, the seller is told (`job_unclaimed`),
once per round. Raising the bonus starts a new round: older waves then stop by themselves.

The scheduling itself lives in `workers.offers` (RQ `enqueue_in`); this module only decides,
inside one transaction, who gets an offer now and what comes next — so the rule is tested
without a queue and a retried job cannot text anyone twice (UNIQUE job, courier, round).
"""

from __future__ import annotations

from dataclasses import dataclass, field

from sqlalchemy import select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce import rules
from commerce.catalog.models import Shop
from commerce.db import action
from commerce.delivery.actions import active_job_count, available_couriers_near
from commerce.delivery.models import DeliveryJob, JobKind, JobOffer, JobStatus
from commerce.messaging.outbox import notify
from commerce.users.models import User


@dataclass(frozen=True, kw_only=True)
class WavePlan:
    """[delivery] offer_radius_km, offer_radius_step_km, offer_waves from config."""

    radius_km: float
    step_km: float
    waves: int

    def radius(self, wave: int) -> float:
        return self.radius_km + (wave - 1) * self.step_km


@dataclass
class WaveOutcome:
    offered: list[int] = field(default_factory=list)  # courier user ids texted now
    wave: int = 0  # the wave that texted them (waves that found nobody are skipped)
    next_wave: int | None = None  # schedule this wave after the timeout; None: stop
    unclaimed: bool = False  # the seller was told nobody took it
    stopped: str = ""  # why nothing more happens: "taken", "stale", "missing"


def _eligible(session: Session, job: DeliveryJob, radius_km: float) -> list[tuple[int, float]]:
    if job.from_lat is None or job.from_lng is None:
        return []
    limit = rules.current().max_active_jobs
    asked = set(
        session.scalars(
            select(JobOffer.courier_id).where(
                JobOffer.job_id == job.id, JobOffer.offer_round == job.offer_round
            )
        )
    )
    shop = session.get(Shop, job.shop_id)
    found = []
    for courier, km in available_couriers_near(
        session, point=(job.from_lat, job.from_lng), radius_km=radius_km
    ):
        if courier.user_id in asked or (shop is not None and courier.user_id == shop.owner_id):
            continue
        user = session.get(User, courier.user_id)
        if user is None or user.opted_out:
            continue
        if active_job_count(session, courier.user_id) >= limit:
            continue
        found.append((courier.user_id, km))
    return found


def _offer(session: Session, job: DeliveryJob, courier_id: int, km: float, wave: int) -> bool:
    """One offer row and its SMS, or False when this round already asked that courier."""
    savepoint = session.begin_nested()
    try:
        session.add(
            JobOffer(
                job_id=job.id,
                courier_id=courier_id,
                offer_round=job.offer_round,
                wave=wave,
                distance_km=round(km, 2),
            )
        )
        session.flush()
    except IntegrityError:
        savepoint.rollback()
        return False
    savepoint.commit()
    notify(
        session,
        user_id=courier_id,
        kind="job_offer",
        params={"job_id": job.id, "order_id": job.order_id, "kind": job.kind.value},
        essential=True,  # operational, and only eligible (not opted-out) couriers get one
    )
    return True


@action
def offer_wave(
    session: Session, *, job_id: int, wave: int, offer_round: int, plan: WavePlan
) -> WaveOutcome:
    """Run wave `wave` of round `offer_round` for a job (see the module docstring)."""
    job = session.scalar(select(DeliveryJob).where(DeliveryJob.id == job_id).with_for_update())
    if job is None:
        return WaveOutcome(stopped="missing")
    if job.offer_round != offer_round:
        return WaveOutcome(stopped="stale")
    if job.status != JobStatus.OPEN:
        return WaveOutcome(stopped="taken")
    for current in range(max(1, wave), plan.waves + 1):
        offered = [
            courier_id
            for courier_id, km in _eligible(session, job, plan.radius(current))
            if _offer(session, job, courier_id, km, current)
        ]
        if offered:
            return WaveOutcome(offered=offered, wave=current, next_wave=current + 1)
    if wave <= plan.waves:
        # Nobody new anywhere: give those already asked (or coming ON) one timeout to answer.
        return WaveOutcome(wave=wave, next_wave=plan.waves + 1)
    _tell_seller(session, job)
    return WaveOutcome(unclaimed=True, stopped="unclaimed")


def _tell_seller(session: Session, job: DeliveryJob) -> None:
    shop = session.get(Shop, job.shop_id)
    assert shop is not None
    savepoint = session.begin_nested()  # a retried last wave finds the notice already there
    try:
        _notify_seller(session, job, shop.owner_id)
    except IntegrityError:
        savepoint.rollback()
        return
    savepoint.commit()


def _notify_seller(session: Session, job: DeliveryJob, owner_id: int) -> None:
    notify(
        session,
        user_id=owner_id,
        kind="job_unclaimed",
        params={
            "job_id": job.id,
            "order_id": job.order_id,
            "kind": job.kind.value,
            "bonus": job.bonus,
            "commission": job.commission,
            "can_raise": job.kind == JobKind.DELIVERY,
        },
        essential=True,
        dedupe_key=f"unclaimed:{job.id}:{job.offer_round}",
    )
