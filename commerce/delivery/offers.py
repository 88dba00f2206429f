"""Offering an open job to couriers in waves: nearest first, then wider, then the seller.

A wave texts every eligible courier within its radius who was not asked yet in this round:
approved, available (ON), active, not opted out, below the active-job limit. The next wave
comes after the configured timeout, wider by one step; a wave that finds nobody new widens at
once. After the last wave, if the job is still open, the seller is told (`job_unclaimed`),
once per round. Raising the bonus starts a new round: older waves then stop by themselves.

The scheduling itself lives in `workers.offers` (RQ `enqueue_in`); this module only decides,
inside one transaction, who gets an offer now and what comes next — so the rule is tested
without a queue and a retried job cannot text anyone twice (UNIQUE job, courier, round).

The database is the truth, not the queue: a round's progress is read back from its offer rows
(the highest wave that texted someone, and when) and the seller's `job_unclaimed` notice (the
round is over). `overdue_waves` finds the open jobs whose chain of waves never started or was
lost (a publish outside a turn, Redis down at enqueue, a worker killed between commit and
scheduling); the sweeper reruns them in `recover` mode, which schedules nothing when it finds
nobody, so sweeping again and again adds no duplicate chain. A courier who switches ON gets the
open jobs already within their current wave radius (`offer_open_jobs`), as wave 0 rows: they
do not move the waves' own progress.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session

from commerce import clock, rules
from commerce.catalog.models import Shop
from commerce.db import action
from commerce.delivery.actions import active_job_count, available_couriers_near
from commerce.delivery.models import DeliveryJob, JobKind, JobOffer, JobStatus
from commerce.messaging.models import Outbox
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, notify_once
from commerce.users.models import User


@dataclass(frozen=True, kw_only=True)
class WavePlan:
    """[delivery] offer_radius_km, offer_radius_step_km, offer_waves from config."""

    radius_km: float
    step_km: float
    waves: int
    timeout_s: float = 0.0  # [delivery] offer_timeout_s: between two waves

    @property
    def timeout(self) -> dt.timedelta:
        return dt.timedelta(seconds=self.timeout_s)

    def radius(self, wave: int) -> float:
        return self.radius_km + (wave - 1) * self.step_km


@dataclass
class WaveOutcome:
    offered: list[int] = field(default_factory=list)  # courier user ids texted now
    wave: int = 0  # the wave that texted them (waves that found nobody are skipped)
    next_wave: int | None = None  # schedule this wave after the timeout; None: stop
    unclaimed: bool = False  # the seller was told nobody took it
    stopped: str = ""  # why nothing more happens: "taken", "stale", "missing", "done",
    # "duplicate" (another run of the chain got there first), "waiting" (recovery found nobody)


# Waves started by a turn's after-commit event run within a second or two; a chain that has not
# moved this long after its due time was lost (see `overdue_waves`).
START_GRACE = dt.timedelta(seconds=10)
LATE_GRACE = dt.timedelta(seconds=30)
OFFERED_ON = 0  # JobOffer.wave of an offer made when the courier switched ON


@dataclass(frozen=True)
class Progress:
    """Where a round stands, from its rows: the highest wave that texted someone, and when."""

    wave: int  # 0: no wave texted anyone yet
    last: dt.datetime  # that wave's time; the publication time when none
    finished: bool  # the seller was told nobody took it (the round is over)

    def next_due(self, plan: WavePlan) -> dt.datetime:
        """When the next wave should have run."""
        return self.last if self.wave == 0 else self.last + plan.timeout

    def final_due(self, plan: WavePlan) -> dt.datetime:
        """When the seller is told at the latest if nobody new is found from now on."""
        if self.wave == 0 or self.wave >= plan.waves:
            return self.last + plan.timeout
        return self.last + 2 * plan.timeout  # the next wave finds nobody, then one timeout

    def current_wave(self, plan: WavePlan, now: dt.datetime) -> int:
        """The wave whose radius applies now (a wave that found nobody new widened at once)."""
        if self.finished:
            return plan.waves
        if self.wave == 0:
            return 1 if now < self.last + START_GRACE else plan.waves
        return self.wave if now < self.next_due(plan) else plan.waves


def _unclaimed_key(job_id: int, offer_round: int) -> str:
    return f"unclaimed:{job_id}:{offer_round}"


def progress(session: Session, job: DeliveryJob) -> Progress:
    wave, last = session.execute(
        select(func.max(JobOffer.wave), func.max(JobOffer.offered_at)).where(
            JobOffer.job_id == job.id,
            JobOffer.offer_round == job.offer_round,
            JobOffer.wave > OFFERED_ON,
        )
    ).one()
    finished = session.scalar(
        select(Outbox.id).where(Outbox.dedupe_key == _unclaimed_key(job.id, job.offer_round))
    )
    return Progress(
        wave=wave or 0,
        last=last if last is not None else job.published_at,
        finished=finished is not None,
    )


def _eligible(session: Session, job: DeliveryJob, radius_km: float) -> list[tuple[int, float]]:
    if job.from_lat is None or job.from_lng is None:
        return []
    limit = rules.of(session).max_active_jobs
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
        kind=Notice.JOB_OFFER,
        params={"job_id": job.id, "order_id": job.order_id, "kind": job.kind.value},
        essential=True,  # operational, and only eligible (not opted-out) couriers get one
    )
    return True


@action
def offer_wave(
    session: Session,
    *,
    job_id: int,
    wave: int,
    offer_round: int,
    plan: WavePlan,
    recover: bool = False,
) -> WaveOutcome:
    """Run wave `wave` of round `offer_round` for a job (see the module docstring).

    `recover`: the sweeper's rerun of a lost chain. It offers like any wave, but when nobody new
    is found it schedules nothing: it tells the seller if the round's last timeout is over, and
    otherwise leaves the job to the next sweep.
    """
    job = session.scalar(select(DeliveryJob).where(DeliveryJob.id == job_id).with_for_update())
    if job is None:
        return WaveOutcome(stopped="missing")
    if job.offer_round != offer_round:
        return WaveOutcome(stopped="stale")
    if job.status != JobStatus.OPEN:
        return WaveOutcome(stopped="taken")
    now = clock.now()
    state = progress(session, job)
    if state.finished:
        return WaveOutcome(stopped="done")
    if recover:
        wave = max(wave, state.wave + 1)
    elif state.wave >= wave:
        return WaveOutcome(stopped="duplicate")  # a rerun, or the sweeper got there first
    if not recover and wave > plan.waves and plan.timeout_s and state.last > now - plan.timeout:
        return WaveOutcome(stopped="duplicate")  # a fresher run of the chain offered since
    for current in range(max(1, wave), plan.waves + 1):
        offered = [
            courier_id
            for courier_id, km in _eligible(session, job, plan.radius(current))
            if _offer(session, job, courier_id, km, current)
        ]
        if offered:
            return WaveOutcome(offered=offered, wave=current, next_wave=current + 1)
    if recover and now < state.final_due(plan):
        return WaveOutcome(wave=wave, stopped="waiting")
    if not recover and wave <= plan.waves:
        # Nobody new anywhere: give those already asked (or coming ON) one timeout to answer.
        return WaveOutcome(wave=wave, next_wave=plan.waves + 1)
    _tell_seller(session, job)
    return WaveOutcome(unclaimed=True, stopped="unclaimed")


@dataclass(frozen=True)
class Overdue:
    job_id: int
    wave: int
    offer_round: int


def overdue_waves(session: Session, *, plan: WavePlan, now: dt.datetime) -> list[Overdue]:
    """Open jobs whose next wave is past due with no sign of it: the waves to (re)run.

    No wave texted anyone yet and the job was published more than START_GRACE ago (its first
    wave may never have been queued); or the next wave is LATE_GRACE past its due time. The
    rerun is idempotent (UNIQUE job, courier, round), so a chain that was only slow is harmless.
    """
    found = []
    for job in session.scalars(
        select(DeliveryJob).where(DeliveryJob.status == JobStatus.OPEN).order_by(DeliveryJob.id)
    ):
        state = progress(session, job)
        if state.finished:
            continue
        grace = START_GRACE if state.wave == 0 else LATE_GRACE
        if now >= state.next_due(plan) + grace:
            found.append(Overdue(job.id, state.wave + 1, job.offer_round))
    return found


@action
def offer_open_jobs(session: Session, *, courier_user_id: int, plan: WavePlan) -> list[int]:
    """A courier switched ON: offer the open jobs whose current wave radius reaches them.

    Returns the job ids offered. Jobs already offered to them in the round are skipped (UNIQUE
    job, courier, round), so switching ON twice texts nothing twice.
    """
    now = clock.now()
    offered = []
    for job in session.scalars(
        select(DeliveryJob).where(DeliveryJob.status == JobStatus.OPEN).order_by(DeliveryJob.id)
    ):
        radius = plan.radius(progress(session, job).current_wave(plan, now))
        for courier_id, km in _eligible(session, job, radius):
            if courier_id == courier_user_id and _offer(session, job, courier_id, km, OFFERED_ON):
                offered.append(job.id)
    return offered


def _tell_seller(session: Session, job: DeliveryJob) -> None:
    """The seller learns nobody took the job; a retried last wave finds the notice there."""
    shop = session.get(Shop, job.shop_id)
    assert shop is not None
    notify_once(
        session,
        user_id=shop.owner_id,
        kind=Notice.JOB_UNCLAIMED,
        params={
            "job_id": job.id,
            "order_id": job.order_id,
            "kind": job.kind.value,
            "bonus": job.bonus,
            "commission": job.commission,
            "can_raise": job.kind == JobKind.DELIVERY,
        },
        essential=True,
        dedupe_key=_unclaimed_key(job.id, job.offer_round),
    )
