"""Courier offer waves as scheduled jobs: module level, ids only, fresh state every run.

`offer_wave(job_id, wave, offer_round)` runs one wave (`commerce.delivery.offers`) in its own
transaction, hands the offer SMS to the outbox dispatcher after commit, and schedules the next
wave `[delivery] offer_timeout_s` later through `rt.dispatcher.enqueue(..., delay_s=...)`:
RQ's `enqueue_in` (the scheduler runs it on time, on any worker) with Redis, a timer
in-process without. Never a sleep in a request.

The queue is not the truth: `sweep_offers` (a sweeper step) reruns, in this process, the waves
the database shows as never started or lost, and `offer_open_jobs` offers a courier who just
switched ON the open jobs already within reach.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from commerce import clock
from commerce.db import unit_of_work
from commerce.delivery import offers
from commerce.messaging.outbox import take_pending_ids

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)


def wave_plan(rt: Runtime) -> offers.WavePlan:
    cfg = rt.config.delivery
    return offers.WavePlan(
        radius_km=cfg.offer_radius_km,
        step_km=cfg.offer_radius_step_km,
        waves=cfg.offer_waves,
        timeout_s=float(cfg.offer_timeout_s),
    )


def offer_wave(
    rt: Runtime, job_id: int, wave: int = 1, offer_round: int = 0, recover: bool = False
) -> str:
    """Run one wave; schedule the next one. Idempotent: a rerun texts nobody twice."""
    with unit_of_work(rt.session_factory) as session:
        outcome = offers.offer_wave(
            session,
            job_id=job_id,
            wave=wave,
            offer_round=offer_round,
            plan=wave_plan(rt),
            recover=recover,
        )
        ids = take_pending_ids(session)
    rt.dispatcher.dispatch(ids)
    if outcome.next_wave is not None:
        rt.dispatcher.enqueue(
            offer_wave,
            job_id,
            outcome.next_wave,
            offer_round,
            delay_s=float(rt.config.delivery.offer_timeout_s),
        )
    log.info(
        "job %s round %s wave %s%s: %d offers, next %s %s",
        job_id,
        offer_round,
        outcome.wave or wave,
        " (recovery)" if recover else "",
        len(outcome.offered),
        outcome.next_wave,
        outcome.stopped,
    )
    return outcome.stopped or f"wave {outcome.wave}: {len(outcome.offered)} offers"


def offer_open_jobs(rt: Runtime, courier_user_id: int) -> str:
    """A courier switched ON: the open jobs within their current wave radius, offered now."""
    with unit_of_work(rt.session_factory) as session:
        job_ids = offers.offer_open_jobs(
            session, courier_user_id=courier_user_id, plan=wave_plan(rt)
        )
        ids = take_pending_ids(session)
    rt.dispatcher.dispatch(ids)
    log.info("courier %s ON: offered jobs %s", courier_user_id, job_ids)
    return f"{len(job_ids)} offers"


def sweep_offers(rt: Runtime) -> list[str]:
    """Rerun, here and now, the waves the database shows as never started or lost."""
    with unit_of_work(rt.session_factory) as session:
        overdue = offers.overdue_waves(session, plan=wave_plan(rt), now=clock.now())
    done = []
    for item in overdue:
        try:
            done.append(offer_wave(rt, item.job_id, item.wave, item.offer_round, recover=True))
        except Exception:  # one job's failure must not stop the others' recovery
            log.exception("recovering the offers of job %s failed", item.job_id)
    return done
