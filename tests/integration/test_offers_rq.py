"""Courier offer waves through RQ on real Redis and PostgreSQL, driven by RQ's own scheduler.

- publish_job's after-commit event queues wave 1; a RuntimeWorker burst runs it and the offer
  SMS reach the couriers within the radius through the Twilio emulator;
- the next wave sits in RQ's ScheduledJobRegistry (`enqueue_in`) with the configured delay;
  the test moves it due, and commerce.clock with it, and RQScheduler.enqueue_scheduled_jobs()
  hands it to the queue: the wave widens to farther couriers; after the last wave the seller
  gets `job_unclaimed` on Telegram;
- a job published outside a turn (no events) is started by the sweeper from the database;
- the issue's "done when" on SQLite + Redis: `boutik serve` and `boutik worker` processes, the
  courier answering by SMS over HTTP, from the offer to the delivery closed.
"""

from __future__ import annotations

import datetime as dt
import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest
import redis
import requests
from rq import Queue
from rq.job import Job
from rq.registry import ScheduledJobRegistry
from rq.scheduler import RQScheduler
from sqlalchemy import select

from boutik.runtime import Runtime
from commerce import clock
from commerce.delivery import actions as delivery
from commerce.messaging.events import take_events
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.outbox import take_pending_ids
from commerce.orders.models import OrderStatus
from commerce.users.models import User
from tests import processes
from tests.e2e.conftest import boutik_config
from tests.services import Emulator
from tests.support import REDIS_URL, Db, make_courier, migrate, open_db
from tests.timing import START_S, WAIT_S, http_ready
from tests.unit import flows
from tests.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    sms_form,
    twilio_signature,
)
from workers.dispatch import QUEUE, RQDispatcher
from workers.events import start
from workers.runner import RuntimeWorker
from workers.sweeper import sweep_once

TIMEOUT_S = 300


@pytest.fixture
def rq_runtime(
    pg: Db, redis_conn: redis.Redis, emulator: Emulator, tmp_path: Path
) -> Iterator[Runtime]:
    emulator.store.reset()
    config = boutik_config(
        emulator,
        tmp_path / "media",
        queue__redis_url=REDIS_URL,
        twilio__sms_segments_per_s=500.0,
        twilio__whatsapp_rate_per_s=500.0,
        # From Kaloum's Boulbinet: Kaloum 1.1 km (wave 1), Dixinn 6.0 (wave 2), Matam 7.0 (3).
        delivery__offer_radius_km=3.0,
        delivery__offer_radius_step_km=3.5,
        delivery__offer_waves=3,
        delivery__offer_timeout_s=TIMEOUT_S,
    )
    rt = Runtime(config)
    yield rt
    rt.dispose()


def phone_of(db: Db, user_id: int) -> str:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def telegram_of(db: Db, user_id: int) -> int:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.telegram_id
        return user.telegram_id


def sms_to(emulator: Emulator, db: Db, user_id: int) -> list[str]:
    return [m.body for m in emulator.store.twilio_messages(to=phone_of(db, user_id))]


def burst(conn: redis.Redis, rt: Runtime) -> None:
    RuntimeWorker([Queue(QUEUE, connection=conn)], connection=conn, runtime=rt).work(burst=True)


def scheduled(conn: redis.Redis) -> list[tuple[Job, dt.datetime]]:
    registry = ScheduledJobRegistry(QUEUE, connection=conn)
    return [
        (Job.fetch(job_id, connection=conn), registry.get_scheduled_time(job_id))
        for job_id in registry.get_job_ids()
    ]


def run_scheduler_after_timeout(conn: redis.Redis) -> int:
    """Jump to the end of the timeout: the clock, and RQ's scheduled jobs made due now."""
    clock.advance(dt.timedelta(seconds=TIMEOUT_S))
    registry = ScheduledJobRegistry(QUEUE, connection=conn)
    now = dt.datetime.now(dt.UTC)
    for job_id in registry.get_job_ids():
        registry.schedule(Job.fetch(job_id, connection=conn), now - dt.timedelta(seconds=1))
    scheduler = RQScheduler([QUEUE], connection=conn)
    scheduler.prepare_registries([QUEUE])
    scheduler.enqueue_scheduled_jobs()
    return Queue(QUEUE, connection=conn).count


def test_waves_run_in_rq_widen_on_the_scheduler_and_the_seller_is_told(
    pg: Db, redis_conn: redis.Redis, rq_runtime: Runtime, emulator: Emulator
) -> None:
    near = make_courier(pg, prefecture="Kaloum")
    middle = make_courier(pg, prefecture="Dixinn")
    far = make_courier(pg, prefecture="Matam")
    too_far = make_courier(pg, prefecture="Ratoma")
    p = flows.place(pg)
    flows.accept(pg, p)

    with pg.uow() as s:  # what run_turn does for the seller's publish
        job_id = delivery.publish_job(s, seller_id=p.seller_id, order_id=p.order_id).id
        ids, events = take_pending_ids(s), take_events(s)
    rq_runtime.dispatcher.dispatch(ids)
    start(rq_runtime, events)
    queue = Queue(QUEUE, connection=redis_conn)
    [first] = queue.get_jobs()
    assert first.func_name == "workers.offers.offer_wave"
    assert first.args == (job_id, 1, 1)

    before = dt.datetime.now(dt.UTC)
    burst(redis_conn, rq_runtime)
    after = dt.datetime.now(dt.UTC)

    [offer] = sms_to(emulator, pg, near)
    assert offer.startswith(f"Course {p.order_id}: Kaloum > ")
    assert f"A{p.order_id}" in offer
    assert not sms_to(emulator, pg, middle)
    [(wave2, due)] = scheduled(redis_conn)
    assert wave2.func_name == "workers.offers.offer_wave"
    assert wave2.args == (job_id, 2, 1)
    delay = dt.timedelta(seconds=TIMEOUT_S)
    assert (
        before + delay - dt.timedelta(seconds=1) <= due <= after + delay + dt.timedelta(seconds=1)
    )

    assert run_scheduler_after_timeout(redis_conn) == 1
    burst(redis_conn, rq_runtime)
    assert len(sms_to(emulator, pg, middle)) == 1
    [(wave3, _due)] = scheduled(redis_conn)
    assert wave3.args == (job_id, 3, 1)

    run_scheduler_after_timeout(redis_conn)
    burst(redis_conn, rq_runtime)
    assert len(sms_to(emulator, pg, far)) == 1
    assert not flows.outbox(pg, kind="job_unclaimed")

    run_scheduler_after_timeout(redis_conn)
    burst(redis_conn, rq_runtime)

    assert scheduled(redis_conn) == [] and queue.count == 0  # the chain ended
    assert not sms_to(emulator, pg, too_far)
    for courier in (near, middle, far):
        assert len(sms_to(emulator, pg, courier)) == 1  # nobody texted twice
    [notice] = flows.outbox(pg, user_id=p.seller_id, kind="job_unclaimed")
    assert notice.status == OutboxStatus.SENT
    calls = emulator.store.telegram_calls("sendMessage", chat_id=telegram_of(pg, p.seller_id))
    assert any(str(p.order_id) in str(c.params.get("text", "")) for c in calls)


def test_a_job_published_without_events_is_started_by_the_sweeper(
    pg: Db, redis_conn: redis.Redis, rq_runtime: Runtime, emulator: Emulator
) -> None:
    near = make_courier(pg, prefecture="Kaloum")
    p = flows.place(pg)
    flows.accept(pg, p)
    job_id = flows.publish(pg, p)  # e.g. the CLI or a turn whose enqueue found Redis down
    clock.advance(dt.timedelta(seconds=15))

    sweep_once(rq_runtime)
    sweep_once(rq_runtime)  # a second sweep starts no second chain
    burst(redis_conn, rq_runtime)

    # The outbox sweep sent the courier's earlier notices too (approval): only one offer here.
    [offer] = [b for b in sms_to(emulator, pg, near) if b.startswith(f"Course {p.order_id}:")]
    assert f"A{p.order_id}" in offer
    [(wave2, _due)] = scheduled(redis_conn)
    assert wave2.args == (job_id, 2, 1)
    with pg.session() as s:
        offers = s.scalars(select(Outbox).where(Outbox.kind == "job_offer")).all()
    assert [o.status for o in offers] == [OutboxStatus.SENT]


# --- the courier journey on SQLite + Redis, with real server and worker processes --------------

ROOT = Path(__file__).resolve().parents[2]
SMS_PATH = "/webhooks/twilio/sms"


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture
def sqlite_stack(
    redis_conn: redis.Redis, emulator: Emulator, tmp_path: Path
) -> Iterator[tuple[str, Db]]:
    """`boutik serve` and `boutik worker` on one SQLite file and Redis; (base URL, database)."""
    emulator.store.reset()
    url = f"sqlite:///{tmp_path / 'boutik.db'}"
    migrate(url)
    db = open_db(url)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    overlay = emulator.overlay(
        tmp_path / "boutik.toml",
        public=base,
        twilio={"sms_segments_per_s": 50.0, "whatsapp_rate_per_s": 50.0},
        media={"dir": tmp_path / "media"},
        queue={"sweep_every_s": 1.0},
        delivery={
            "offer_radius_km": 3.0,
            "offer_radius_step_km": 3.5,
            "offer_waves": 3,
            "offer_timeout_s": TIMEOUT_S,
        },
    )
    env = {
        **os.environ,
        "BOUTIK_CONFIG": str(overlay),
        "DATABASE_URL": url,
        "REDIS_URL": REDIS_URL,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
    }
    logs = [tmp_path / "serve.log", tmp_path / "worker.log"]
    procs = [
        processes.start(
            [sys.executable, "-m", "boutik.cli", *command],
            cwd=ROOT,
            env=env,
            stdout=subprocess.DEVNULL,
            stderr=log.open("wb"),
        )
        for command, log in zip((["serve", "--port", str(port)], ["worker"]), logs, strict=True)
    ]
    try:
        ready = http_ready(f"{base}/healthz", procs[0])
        if ready is None or ready.status_code != 200:
            pytest.fail(f"boutik serve did not start: {logs[0].read_text()[-2000:]}")
        yield base, db
    finally:
        for proc in procs:
            processes.stop(proc)
        db.engine.dispose()


def test_the_courier_journey_on_sqlite_with_redis_workers(
    sqlite_stack: tuple[str, Db], emulator: Emulator
) -> None:
    base, db = sqlite_stack
    courier = make_courier(db, prefecture="Kaloum")
    number = phone_of(db, courier)
    p = flows.place(db)
    flows.accept(db, p)
    store = emulator.store

    def bodies() -> list[str]:
        return [m.body for m in store.twilio_messages(to=number)]

    def text(body: str) -> str:
        before = len(bodies())
        form = sms_form(number, body)
        signature = twilio_signature(base + SMS_PATH, form, AUTH_TOKEN)
        response = requests.post(
            base + SMS_PATH, data=form, headers={"X-Twilio-Signature": signature}, timeout=WAIT_S
        )
        assert response.status_code == 200
        return store.wait_for(lambda: len(bodies()) > before and bodies()[-1], timeout=WAIT_S)

    def settled() -> bool:  # the worker's sweeper has sent the earlier notices (approval…)
        with db.session() as s:
            statuses = s.scalars(select(Outbox.status)).all()
        return all(x not in (OutboxStatus.PENDING, OutboxStatus.SENDING) for x in statuses)

    store.wait_for(settled, timeout=START_S)  # the worker process has started, too
    with db.uow() as s:  # the seller's publish, its events started on the same Redis
        delivery.publish_job(s, seller_id=p.seller_id, order_id=p.order_id)
        events = take_events(s)
    start(SimpleNamespace(dispatcher=RQDispatcher(REDIS_URL)), events)  # type: ignore[arg-type]

    offer = store.wait_for(
        lambda: next((b for b in bodies() if b.startswith(f"Course {p.order_id}:")), None),
        timeout=WAIT_S,
    )
    assert f"A{p.order_id}" in offer
    assert phone_of(db, p.seller_id) in text(f"a {p.order_id}")
    assert phone_of(db, p.buyer_id) in text(f"P{p.order_id}")
    assert "Code bon" in text(f"D{p.order_id} {p.pin}")
    assert flows.confirm_cash(db, p) is True  # the buyer's cash confirmation

    assert flows.order(db, p.order_id).status == OrderStatus.DELIVERED
    seller_chat = telegram_of(db, p.seller_id)
    # The worker's sweeper sends what the confirmation wrote: the seller hears of it.
    store.wait_for(
        lambda: len(store.telegram_calls("sendMessage", chat_id=seller_chat)) >= 2,
        timeout=WAIT_S,
    )
    buyer = phone_of(db, p.buyer_id)
    store.wait_for(
        lambda: any("en route" in m.body for m in store.twilio_messages(to=buyer)), WAIT_S
    )
