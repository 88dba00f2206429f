"""A model thinking for 30 s holds up nobody's messages under RQ (PostgreSQL + Redis + workers).

Issue 18's PostgreSQL run of bench/support_ack.py found that one `boutik worker` ran one job at
a time: while it waited on a slow model for one buyer's question, the replies of every other
buyer queued behind that job. Slow jobs now have a queue of their own, served by a child
process that a default `boutik worker` starts beside itself; this plays it for real: the web
app in this process (signed Twilio webhooks), one `boutik worker` process, the scripted
OpenAI-compatible server holding the question until the test lets it go.
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from pathlib import Path

import pytest
import redis
from flask.testing import FlaskClient

from boutik.runtime import Runtime
from channels_adapters.web import create_app
from devtools.testkit import scripted_openai as scripted
from devtools.testkit.scripted_openai import ScriptedOpenAI
from tests import processes
from tests.e2e.conftest import boutik_config
from tests.integration.workers import start_boutik_worker
from tests.services import Emulator
from tests.support import REDIS_URL, Db, phone
from tests.timing import START_S, WAIT_S, wait_until
from tests.webhooks import post_twilio, whatsapp_form

WA = "/webhooks/twilio/whatsapp"
QUESTION = "où est ma commande ?"
ANSWER = "Réponse du modèle : votre commande arrive."
HOLD_S = 30.0  # the slow model


@pytest.fixture
def model() -> Iterator[tuple[str, ScriptedOpenAI, threading.Event]]:
    release = threading.Event()
    server = ScriptedOpenAI(default=scripted.answer("OK"))
    server.when(
        "ou est ma commande", scripted.delay(HOLD_S, scripted.answer(ANSWER), release=release)
    )
    server.when(
        "où est ma commande", scripted.delay(HOLD_S, scripted.answer(ANSWER), release=release)
    )
    base_url, shutdown = server.serve()
    yield base_url, server, release
    release.set()
    shutdown()


def _worker(tmp_path: Path, emulator: Emulator, model_url: str) -> subprocess.Popen[bytes]:
    overlay = tmp_path / "worker.toml"
    overlay.write_text(
        f"""
[web]
public_base_url = "https://boutik.example.gn"
[twilio]
api_base_url = "{emulator.base_url}"
[telegram]
api_base_url = "{emulator.base_url}/telegram/bot"
[llm]
base_url = "{model_url}"
model = "scripted"
"""
    )
    return start_boutik_worker(overlay, tmp_path / "worker.log")


def test_a_slow_model_question_holds_up_no_other_buyers_reply(
    pg: Db,
    redis_conn: redis.Redis,
    emulator: Emulator,
    tmp_path: Path,
    model: tuple[str, ScriptedOpenAI, threading.Event],
) -> None:
    model_url, server, release = model
    emulator.store.reset()
    config = boutik_config(
        emulator,
        tmp_path / "media",
        queue__redis_url=REDIS_URL,
        llm__base_url=model_url,
        llm__model="scripted",
    )
    rt = Runtime(config)
    client: FlaskClient = create_app(config, runtime=rt).test_client()
    store = emulator.store
    asker, other = phone(), phone()

    def bodies(number: str) -> list[str]:
        return [m.body for m in store.twilio_messages(to=f"whatsapp:{number}")]

    def say(number: str, text: str, *, timeout: float = WAIT_S) -> list[str]:
        before = len(bodies(number))
        assert post_twilio(client, WA, whatsapp_form(number, text)).status_code == 200
        store.wait_for(lambda: len(bodies(number)) > before, timeout=timeout)
        return bodies(number)[before:]

    worker = _worker(tmp_path, emulator, model_url)
    try:
        say(asker, "bonjour", timeout=START_S)  # the worker process has started and sends
        say(other, "bonjour")
        say(asker, QUESTION)  # "Je regarde…", sent by the fast queue
        # The question has reached the model (the slow-queue child has started and took it).
        # (`started` is no proof: the workers' warm-up pings the model at start.)
        wait_until(lambda: server.in_flight == 1, START_S)
        # Meanwhile the other buyer is answered: her reply is not queued behind the question.
        replies = say(other, "samsung")
        assert replies and not release.is_set()
        assert server.in_flight == 1, "the model answered before the other buyer's reply"
        assert not any(ANSWER in b for b in bodies(asker))
        release.set()
        store.wait_for(lambda: any(ANSWER in b for b in bodies(asker)), timeout=WAIT_S)
    finally:
        release.set()
        processes.stop(worker)
        rt.dispose()
