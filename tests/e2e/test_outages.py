"""Outages: Redis down still answers and commits; PostgreSQL down answers 503, never 200."""

from __future__ import annotations

from pathlib import Path

import redis
from rq import Queue
from sqlalchemy import select

from boutik.runtime import Runtime
from channels_adapters.web import create_app
from commerce.messaging.models import InboundMessage, Outbox, OutboxStatus
from tests.e2e.conftest import boutik_config
from tests.services import Emulator
from tests.support import REDIS_URL, Db, phone
from tests.webhooks import post_twilio, whatsapp_form
from workers.dispatch import QUEUE
from workers.outbox import sweep
from workers.runner import RuntimeWorker

WA = "/webhooks/twilio/whatsapp"


def test_with_redis_down_webhooks_commit_and_the_outbox_drains_when_it_returns(
    pg: Db, redis_conn: redis.Redis, emulator: Emulator, tmp_path: Path
) -> None:
    emulator.store.reset()
    down = Runtime(boutik_config(emulator, tmp_path, queue__redis_url="redis://127.0.0.1:1/0"))
    client = create_app(down.config, runtime=down).test_client()
    number = phone()
    response = post_twilio(client, WA, whatsapp_form(number, "bonjour"))
    assert response.status_code == 200
    with pg.session() as s:
        assert s.scalar(select(InboundMessage.id)) is not None
        [row] = s.scalars(select(Outbox)).all()
        assert row.status == OutboxStatus.PENDING  # committed, waiting for a queue
    assert emulator.store.twilio_messages() == []

    # Redis is back: a worker's sweeper hands the row over and the worker sends it.
    up = Runtime(boutik_config(emulator, tmp_path, queue__redis_url=REDIS_URL))
    up.dispatcher.dispatch(sweep(up))
    worker = RuntimeWorker([Queue(QUEUE, connection=redis_conn)], connection=redis_conn, runtime=up)
    worker.work(burst=True)
    with pg.session() as s:
        assert s.scalar(select(Outbox.status)) == OutboxStatus.SENT
    assert len(emulator.store.twilio_messages(to=f"whatsapp:{number}")) == 1
    down.dispose()
    up.dispose()


def test_with_postgresql_down_webhooks_answer_503_so_the_provider_retries(
    emulator: Emulator, tmp_path: Path
) -> None:
    config = boutik_config(emulator, tmp_path).replace(
        database__url="postgresql+psycopg://postgres@127.0.0.1:1/test"
    )
    rt = Runtime(config)
    client = create_app(config, runtime=rt).test_client()
    response = post_twilio(client, WA, whatsapp_form(phone(), "bonjour"))
    assert response.status_code == 503
    assert client.get("/healthz").status_code == 503
    rt.dispose()
