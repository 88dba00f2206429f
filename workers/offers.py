"""Courier offer waves as scheduled jobs: module level, ids only, fresh state every run.

`offer_wave(job_id, wave, offer_round)` runs one wave (`commerce.delivery.offers`) in its own
transaction, hands the offer SMS to the outbox dispatcher after commit, and schedules the next
wave `[delivery] offer_timeout_s` later through `rt.dispatcher.enqueue(..., delay_s=...)`:
RQ's `enqueue_in` (the scheduler runs it on time, on any worker) with Redis, a timer
in-process without. Never a sleep in a request.
"""

from __future__ import annotations

import logging

from commerce.db import unit_of_work
from commerce.delivery import offers
from commerce.messaging.outbox import take_pending_ids
from workers.context import runtime

log = logging.getLogger(__name__)


def wave_plan() -> offers.WavePlan:
    cfg = runtime().config.delivery
    return offers.WavePlan(
        radius_km=cfg.offer_radius_km, step_km=cfg.offer_radius_step_km, waves=cfg.offer_waves
    )


def offer_wave(job_id: int, wave: int = 1, offer_round: int = 0) -> str:
    """Run one wave; schedule the next one. Idempotent: a rerun texts nobody twice."""
    rt = runtime()
    with unit_of_work(rt.session_factory) as session:
        outcome = offers.offer_wave(
            session, job_id=job_id, wave=wave, offer_round=offer_round, plan=wave_plan()
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
        "job %s round %s wave %s: %d offers, next %s %s",
        job_id,
        offer_round,
        outcome.wave or wave,
        len(outcome.offered),
        outcome.next_wave,
        outcome.stopped,
    )
    return outcome.stopped or f"wave {outcome.wave}: {len(outcome.offered)} offers"
