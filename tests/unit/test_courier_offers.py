"""Offer waves with a simulated scheduler and clock: nearest first, wider after each timeout,
the seller told after the last wave, no courier ever texted twice in a round."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from bot.courier import notifications as courier_notes
from bot.messages import Choices
from commerce import clock
from commerce.delivery import actions as delivery
from commerce.delivery import offers
from commerce.messaging.events import take_events
from commerce.users import actions as users
from commerce.users.models import User
from tests.support import Db, ensure_admin, make_courier
from tests.unit import flows
from workers.offers import offer_wave

TIMEOUT_S = 300


@dataclass(frozen=True)
class DeliveryCfg:
    # Kaloum's Boulbinet to: Kaloum 1.1 km (wave 1), Dixinn 6.0 (wave 2), Matam 7.0 (wave 3).
    offer_radius_km: float = 3.0
    offer_radius_step_km: float = 3.5
    offer_waves: int = 3
    offer_timeout_s: int = TIMEOUT_S


@dataclass(frozen=True)
class Cfg:
    delivery: DeliveryCfg = field(default_factory=DeliveryCfg)


@dataclass
class SimScheduler:
    """RQ's enqueue_in on commerce.clock: jobs run when the simulated clock reaches them."""

    jobs: list[tuple[dt.datetime, Callable[..., Any], tuple[Any, ...]]] = field(
        default_factory=list
    )
    sent: list[int] = field(default_factory=list)
    rt: Any = None  # the runtime it belongs to, handed to each job first (as RQ's worker does)

    def dispatch(self, ids: list[int]) -> None:
        self.sent.extend(ids)

    def enqueue(self, fn: Callable[..., Any], *args: Any, delay_s: float = 0.0) -> None:
        self.jobs.append((clock.now() + dt.timedelta(seconds=delay_s), fn, args))

    def run_due(self) -> int:
        ran = 0
        while True:
            due = [j for j in self.jobs if j[0] <= clock.now()]
            if not due:
                return ran
            job = min(due, key=lambda j: j[0])
            self.jobs.remove(job)
            job[1](self.rt, *job[2])
            ran += 1


@dataclass
class FakeRuntime:
    session_factory: Any
    dispatcher: SimScheduler
    config: Cfg = field(default_factory=Cfg)


@pytest.fixture
def sim(db: Db) -> Iterator[SimScheduler]:
    scheduler = SimScheduler()
    scheduler.rt = FakeRuntime(db.factory, scheduler)
    yield scheduler


def publish(db: Db, sim: SimScheduler, p: flows.Placed, bonus: int = 0) -> int:
    """What run_turn does for the seller's publish: commit, then start the events' jobs."""
    from workers.events import start

    with db.uow() as s:
        job = delivery.publish_job(s, seller_id=p.seller_id, order_id=p.order_id, bonus=bonus)
        events = take_events(s)
        job_id = job.id
    start(sim.rt, events)
    return job_id


def offered_to(db: Db, job_id: int) -> set[int]:
    return {
        r.user_id
        for r in flows.outbox(db, kind="job_offer")
        if r.payload["params"]["job_id"] == job_id and r.user_id is not None
    }


def later(seconds: float) -> None:
    clock.advance(dt.timedelta(seconds=seconds))


def test_waves_widen_after_each_timeout_then_the_seller_is_told(
    db: Db, sim: SimScheduler, tmp_path: Path
) -> None:
    near = make_courier(db, prefecture="Kaloum")
    middle = make_courier(db, prefecture="Dixinn")
    far = make_courier(db, prefecture="Matam")
    too_far = make_courier(db, prefecture="Ratoma")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)

    sim.run_due()
    assert offered_to(db, job_id) == {near}
    later(TIMEOUT_S - 1)
    assert sim.run_due() == 0  # not before the timeout
    later(1)
    sim.run_due()
    assert offered_to(db, job_id) == {near, middle}
    later(TIMEOUT_S)
    sim.run_due()
    assert offered_to(db, job_id) == {near, middle, far}
    assert not flows.outbox(db, kind="job_unclaimed")
    later(TIMEOUT_S)
    sim.run_due()

    assert too_far not in offered_to(db, job_id)
    [notice] = flows.outbox(db, user_id=p.seller_id, kind="job_unclaimed")
    assert sim.jobs == []  # the chain ended
    with db.session() as s:
        seller = s.get(User, p.seller_id)
        reply = courier_notes.job_unclaimed(s, seller, notice.payload["params"], "fr")
    assert isinstance(reply, Choices)
    assert [c.id for c in reply.choices] == [
        f"bonus:{job_id}:2000",
        f"bonus:{job_id}:5000",
        f"bonus:{job_id}:10000",
    ]


def test_an_accepted_job_stops_the_waves(db: Db, sim: SimScheduler) -> None:
    near = make_courier(db, prefecture="Kaloum")
    make_courier(db, prefecture="Dixinn")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)
    sim.run_due()
    flows.claim(db, near, job_id)

    later(10 * TIMEOUT_S)
    sim.run_due()

    assert offered_to(db, job_id) == {near}
    assert not flows.outbox(db, kind="job_unclaimed")


def test_off_opted_out_deactivated_and_busy_couriers_get_no_offer(
    db: Db, sim: SimScheduler
) -> None:
    admin_id = ensure_admin(db)
    ok = make_courier(db, prefecture="Kaloum")
    off = make_courier(db, prefecture="Kaloum", available=False)
    opted_out = make_courier(db, prefecture="Kaloum")
    inactive = make_courier(db, prefecture="Kaloum")
    busy = make_courier(db, prefecture="Kaloum")
    with db.uow() as s:
        users.set_opt_out(s, user_id=opted_out, opted_out=True)
        users.set_user_active(s, admin_id=admin_id, user_id=inactive, active=False)
    for _ in range(5):
        q = flows.place(db)
        flows.accept(db, q)
        flows.claim(db, busy, flows.publish(db, q))
    p = flows.place(db)
    flows.accept(db, p)

    job_id = publish(db, sim, p)
    sim.run_due()

    assert offered_to(db, job_id) == {ok}
    assert not {off, opted_out, inactive, busy} & offered_to(db, job_id)


def test_a_wave_that_finds_nobody_new_widens_at_once(db: Db, sim: SimScheduler) -> None:
    middle = make_courier(db, prefecture="Dixinn")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)

    sim.run_due()

    assert offered_to(db, job_id) == {middle}  # wave 1 was empty: wave 2 ran right away


def test_a_rerun_wave_texts_nobody_twice(db: Db, sim: SimScheduler) -> None:
    near = make_courier(db, prefecture="Kaloum")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)
    sim.run_due()
    round_ = flows.job(db, job_id).offer_round

    offer_wave(sim.rt, job_id, 1, round_)  # an RQ retry of the same wave
    with db.uow() as s:
        again = offers.offer_wave(
            s,
            job_id=job_id,
            wave=1,
            offer_round=round_,
            plan=offers.WavePlan(radius_km=3, step_km=3.5, waves=3),
        )

    assert again.offered == []
    assert [r.user_id for r in flows.outbox(db, kind="job_offer")] == [near]


def test_raising_the_bonus_starts_a_new_round_and_stops_the_old_one(
    db: Db, sim: SimScheduler
) -> None:
    near = make_courier(db, prefecture="Kaloum")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)
    sim.run_due()
    for _ in range(4):
        later(TIMEOUT_S)
        sim.run_due()
    assert flows.outbox(db, kind="job_unclaimed")

    from workers.events import start

    with db.uow() as s:
        delivery.raise_bonus(s, seller_id=p.seller_id, job_id=job_id, bonus=5000)
        events = take_events(s)
    start(sim.rt, events)
    sim.run_due()

    offers_rows = [r for r in flows.outbox(db, kind="job_offer") if r.user_id == near]
    assert len(offers_rows) == 2  # asked again, with the bonus
    assert flows.job(db, job_id).offer_round == 2
    assert flows.job(db, job_id).bonus == 5000
    # A wave of the first round arriving late does nothing.
    assert offer_wave(sim.rt, job_id, 2, 1) == "stale"


def test_the_offer_sms_reads_like_the_spec(db: Db, sim: SimScheduler) -> None:
    near = make_courier(db, prefecture="Kaloum")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)
    sim.run_due()
    [row] = flows.outbox(db, kind="job_offer")
    with db.session() as s:
        courier = s.get(User, near)
        reply = courier_notes.job_offer(s, courier, row.payload["params"], "fr")
    job = flows.job(db, job_id)
    km = f"{job.distance_km:.1f}".replace(".", ",")
    commission = f"{job.commission:,}".replace(",", " ")
    assert reply.text == (  # type: ignore[union-attr]
        f"Course {p.order_id}: Kaloum > Ratoma {km} km, {commission} GNF. "
        f"Répondez A{p.order_id} pour accepter"
    )


# --- the database is the truth: lost chains, never-started waves, couriers switching ON --------


def sweep(sim: SimScheduler) -> list[str]:
    from workers.offers import sweep_offers

    return sweep_offers(sim.rt)


def switch_on(db: Db, sim: SimScheduler, courier_id: int) -> None:
    """What run_turn does for the courier's ON: commit, then start the events' jobs."""
    from workers.events import start

    with db.uow() as s:
        delivery.set_available(s, user_id=courier_id, available=True)
        events = take_events(s)
    start(sim.rt, events)


def test_a_job_published_outside_a_turn_is_started_by_the_sweeper_once(
    db: Db, sim: SimScheduler
) -> None:
    near = make_courier(db, prefecture="Kaloum")
    middle = make_courier(db, prefecture="Dixinn")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = flows.publish(db, p)  # no after-commit events: a CLI, a seed, Redis down

    assert sweep(sim) == []  # a turn's own first wave gets a few seconds
    later(offers.START_GRACE.total_seconds())
    sweep(sim)
    sweep(sim)  # sweeping again starts no second chain

    assert offered_to(db, job_id) == {near}
    assert len(sim.jobs) == 1  # wave 2, after the timeout
    later(TIMEOUT_S)
    sim.run_due()
    assert offered_to(db, job_id) == {near, middle}
    assert [r.user_id for r in flows.outbox(db, kind="job_offer")].count(near) == 1


def test_a_lost_chain_is_continued_and_the_seller_told_once(db: Db, sim: SimScheduler) -> None:
    near = make_courier(db, prefecture="Kaloum")
    middle = make_courier(db, prefecture="Dixinn")
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)
    sim.run_due()
    assert offered_to(db, job_id) == {near}
    sim.jobs.clear()  # the scheduled wave 2 is lost (Redis flushed, enqueue failed)

    later(TIMEOUT_S + offers.LATE_GRACE.total_seconds() - 1)
    assert sweep(sim) == []  # not yet: the chain may only be slow
    later(1)
    sweep(sim)
    assert offered_to(db, job_id) == {near, middle}
    [(_due, _fn, args)] = sim.jobs  # the recovered chain goes on by itself
    assert args == (job_id, 3, 1)
    sim.jobs.clear()  # and is lost again

    later(TIMEOUT_S + offers.LATE_GRACE.total_seconds())
    assert sweep(sim) == ["waiting"]  # wave 3 finds nobody new: one more timeout to answer
    assert sweep(sim) == ["waiting"] and sim.jobs == []  # no chain piles up
    assert not flows.outbox(db, kind="job_unclaimed")
    later(TIMEOUT_S)
    sweep(sim)
    sweep(sim)

    assert len(flows.outbox(db, user_id=p.seller_id, kind="job_unclaimed")) == 1
    assert sweep(sim) == []  # the round is over
    assert [r.user_id for r in flows.outbox(db, kind="job_offer")] == [near, middle]


def test_a_slow_wave_after_the_sweeper_recovered_it_does_nothing(db: Db, sim: SimScheduler) -> None:
    make_courier(db, prefecture="Kaloum")
    make_courier(db, prefecture="Dixinn")
    p = flows.place(db)
    flows.accept(db, p)
    publish(db, sim, p)
    sim.run_due()
    [(_due, fn, args)] = sim.jobs
    sim.jobs.clear()
    later(TIMEOUT_S + offers.LATE_GRACE.total_seconds())
    sweep(sim)

    assert fn(sim.rt, *args) == "duplicate"  # the original wave 2, out of a long queue
    assert len(sim.jobs) == 1  # only the recovered chain's wave 3
    assert len(flows.outbox(db, kind="job_offer")) == 2


def test_a_courier_switching_on_gets_the_open_jobs_within_the_current_radius(
    db: Db, sim: SimScheduler
) -> None:
    middle = make_courier(db, prefecture="Dixinn")
    near = make_courier(db, prefecture="Kaloum", available=False)
    far = make_courier(db, prefecture="Matam", available=False)
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)
    sim.run_due()
    assert offered_to(db, job_id) == {middle}  # wave 2 (wave 1 found nobody)

    switch_on(db, sim, near)
    switch_on(db, sim, far)
    sim.run_due()
    assert offered_to(db, job_id) == {middle, near}  # Matam is beyond wave 2's radius
    switch_on(db, sim, near)
    sim.run_due()
    assert [r.user_id for r in flows.outbox(db, kind="job_offer")].count(near) == 1

    later(TIMEOUT_S)
    sim.run_due()  # the ON offer did not move the waves: wave 3 comes on time
    assert offered_to(db, job_id) == {middle, near, far}


def test_a_courier_switching_on_after_the_last_wave_gets_the_job_still_open(
    db: Db, sim: SimScheduler
) -> None:
    far = make_courier(db, prefecture="Matam", available=False)
    p = flows.place(db)
    flows.accept(db, p)
    job_id = publish(db, sim, p)
    sim.run_due()
    later(TIMEOUT_S)
    sim.run_due()
    assert flows.outbox(db, kind="job_unclaimed")

    switch_on(db, sim, far)
    sim.run_due()

    assert offered_to(db, job_id) == {far}  # the widest radius: every wave has run
    flows.claim(db, far, job_id)
