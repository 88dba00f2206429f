"""Embedded mode (issue 20, item 4): one slow job never makes a webhook wait for SQLite's lock.

`boutik serve` as `make run` starts it — a SQLite file, no Redis, jobs on thread pools inside
the web process — run as a child process and reached over HTTP with signed provider payloads.
On SQLite every transaction takes the write lock (BEGIN IMMEDIATE, `commerce.db`), so a job
that held one across a slow call would make every other webhook wait, then answer 503
"database is locked" once the busy timeout (5 s) ran out. Three slow jobs, each held while
other buyers keep writing:

- a seller's /stats chart whose drawing hangs: `MATPLOTLIBRC` (matplotlib's own variable) names
  a FIFO, so the chart job's first import of matplotlib blocks reading it until the test writes
  — no patch of our code, and the test knows the job is inside the drawing when it opens the
  FIFO's other end;
- a support question to the scripted OpenAI-compatible server, thinking 12 s before each of
  its two steps (a tool call, then the answer): 24 s in all, each step within the client's
  own 20 s timeout;
- a reply whose send to Twilio hangs until the sender's own timeout (`stall_next`, the
  emulator's knob for a provider that stops answering).

Each webhook must answer 200 within a bound a loaded 2-core machine keeps (not a tight
timing: a lock wait would show as a 503 after the busy timeout), and its replies must arrive,
all while the slow job is still in progress.
"""

from __future__ import annotations

import errno
import functools
import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO

import pytest
import requests

from channels_adapters.senders.twilio_sender import TWILIO_TIMEOUT_S
from commerce.users.models import User
from devtools.emulators.store import EmulatorStore
from devtools.testkit import scripted_openai as scripted
from devtools.testkit.scripted_openai import ScriptedOpenAI
from tests import processes
from tests.e2e.conftest import provider_env
from tests.services import Emulator
from tests.support import ROOT, Db, make_seller, phone
from tests.timing import START_S, WAIT_S, http_ready, wait_until
from tests.webhooks import TELEGRAM_SECRET, telegram_message, twilio_signature, whatsapp_form

WA = "/webhooks/twilio/whatsapp"
# Each webhook answers well within this, on a loaded 2-core machine too; one that waited for
# the lock would answer 503 after the 5 s busy timeout instead.
WEBHOOK_BOUND_S = 5.0
# How long the chart and the model are kept busy while the others write (the slow job).
HOLD_S = 20.0
ROUND_GAP_S = 2.0  # between rounds of the others' messages, spread over the hold
OTHERS = 3
TEXTS = ("bonjour", "chaussures noires")
# The model's two steps: each below the client's own timeout (bot.support.agent.MODEL_TIMEOUT_S,
# 20 s), together longer than HOLD_S.
STEP_S = 12.0
QUESTION = "où est ma commande ?"
ANSWER = "Votre commande est en route, le livreur arrive bientôt."


@dataclass
class Serve:
    """A running `boutik serve` on the embedded default, and what the test reads back."""

    base: str
    store: EmulatorStore
    # (what was said, HTTP status, seconds the webhook took), every webhook the others sent.
    timings: list[tuple[str, int, float]] = field(default_factory=list)

    def post_whatsapp(self, number: str, text: str) -> tuple[int, float]:
        """A buyer writes on WhatsApp (Twilio's signed form): status and seconds taken."""
        form = whatsapp_form(number, text)
        headers = {"X-Twilio-Signature": twilio_signature(self.base + WA, form)}
        started = time.perf_counter()
        response = requests.post(self.base + WA, data=form, headers=headers, timeout=WAIT_S)
        return response.status_code, time.perf_counter() - started

    def post_telegram(self, chat_id: int, text: str) -> int:
        response = requests.post(
            f"{self.base}/webhooks/telegram",
            json=telegram_message(chat_id, text),
            headers={"X-Telegram-Bot-Api-Secret-Token": TELEGRAM_SECRET},
            timeout=WAIT_S,
        )
        return response.status_code

    def bodies(self, number: str) -> list[str]:
        return [m.body for m in self.store.twilio_messages(to=f"whatsapp:{number}")]

    def say(self, number: str, text: str) -> None:
        """The buyer writes and her reply arrives (outside the measured window)."""
        before = len(self.bodies(number))
        assert self.post_whatsapp(number, text)[0] == 200
        self.store.wait_for(lambda: len(self.bodies(number)) > before, timeout=WAIT_S)

    def greeted_buyers(self, n: int) -> list[str]:
        numbers = [phone() for _ in range(n)]
        for number in numbers:
            self.say(number, "bonjour")
        return numbers

    def others_write(
        self, others: list[str], still_slow: Callable[[], bool], *, over_s: float
    ) -> None:
        """While the slow job runs, the others write in rounds spread over `over_s` (one round
        when 0): every webhook answers 200 in time, with the job still running, and every
        reply arrives."""
        started = time.monotonic()
        round_no = 0
        while round_no == 0 or time.monotonic() - started < over_s:
            text = TEXTS[round_no % len(TEXTS)]
            before = {n: len(self.bodies(n)) for n in others}
            with ThreadPoolExecutor(max_workers=len(others)) as pool:
                results = list(pool.map(self.post_whatsapp, others, [text] * len(others)))
            assert still_slow(), "the slow job ended before the others' webhooks answered"
            self.timings += [(text, status, took) for status, took in results]
            for status, took in results:
                assert status == 200, f"{text!r} answered {status} while the slow job ran"
                assert took < WEBHOOK_BOUND_S, f"{text!r} took {took:.1f} s (waiting for a lock?)"
            self.store.wait_for(functools.partial(self._answered, before), timeout=WAIT_S)
            round_no += 1
            time.sleep(ROUND_GAP_S if time.monotonic() - started < over_s else 0)

    def _answered(self, before: dict[str, int]) -> bool:
        return all(len(self.bodies(number)) > count for number, count in before.items())

    def report(self, case: str) -> str:
        took = [t for _text, _status, t in self.timings]
        return (
            f"{case}: {len(took)} webhooks during the slow job, max {max(took):.2f} s, "
            f"mean {sum(took) / len(took):.2f} s"
        )


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture
def serve(db: Db, emulator: Emulator, tmp_path: Path) -> Iterator[Callable[..., Serve]]:
    """Start `boutik serve` on this test's SQLite file (migrated, seeded by the test first),
    without Redis; `llm_url` points the support assistant at a model, `env` adds variables."""
    emulator.store.reset()
    started: list[subprocess.Popen[bytes]] = []
    logs: list[BinaryIO] = []

    def start(*, llm_url: str = "", env: dict[str, str] | None = None) -> Serve:
        port = _free_port()
        base = f"http://127.0.0.1:{port}"
        overlay = emulator.overlay(
            tmp_path / "boutik.toml",
            public=base,
            media={"dir": tmp_path / "media"},
            llm={"base_url": llm_url, "model": "scripted" if llm_url else ""},
        )
        log = tmp_path / "serve.log"
        logs.append(log.open("wb"))
        proc = processes.start(
            [sys.executable, "-m", "boutik.cli", "serve", "--port", str(port)],
            cwd=ROOT,
            env={
                **os.environ,
                "BOUTIK_CONFIG": str(overlay),
                "DATABASE_URL": str(db.engine.url),
                "REDIS_URL": "",  # the embedded default: jobs in this process
                **provider_env(),
                **(env or {}),
            },
            stdout=subprocess.DEVNULL,
            stderr=logs[-1],
        )
        started.append(proc)
        ready = http_ready(f"{base}/healthz", proc)
        if ready is None or ready.json().get("database") != "sqlite":
            pytest.fail(f"boutik serve did not start on SQLite: {log.read_text()[-3000:]}")
        return Serve(base=base, store=emulator.store)

    yield start
    for proc in started:
        processes.stop(proc)
    for out in logs:
        out.close()


def test_a_hanging_chart_holds_up_no_webhook(
    serve: Callable[..., Serve], db: Db, tmp_path: Path
) -> None:
    seller_id, _shop = make_seller(db)
    with db.session() as s:
        seller = s.get(User, seller_id)
        assert seller is not None and seller.telegram_id
        tg = seller.telegram_id
    rc = tmp_path / "matplotlibrc"
    os.mkfifo(rc)
    app = serve(env={"MATPLOTLIBRC": str(rc)})
    others = app.greeted_buyers(OTHERS)

    assert app.post_telegram(tg, "/stats") == 200
    # The chart job is drawing: its import of matplotlib is reading the FIFO. Opening the
    # writing end succeeds only once a reader has it open; held open, the reader waits.
    writer = wait_until(lambda: _open_writer(rc), WAIT_S)
    assert writer is not None
    try:
        app.others_write(others, lambda: not _photos(app.store, tg), over_s=HOLD_S)
        assert not _photos(app.store, tg)
    finally:
        os.close(writer)  # an empty matplotlibrc: the defaults, and the drawing goes on
    app.store.wait_for(lambda: _photos(app.store, tg), timeout=START_S)
    print(app.report("chart"))


def _open_writer(fifo: Path) -> int | None:
    try:
        return os.open(fifo, os.O_WRONLY | os.O_NONBLOCK)
    except OSError as exc:
        if exc.errno == errno.ENXIO:  # nobody reads it yet
            return None
        raise


def _photos(store: EmulatorStore, chat_id: int) -> list[object]:
    return list(store.telegram_calls(method="sendPhoto", chat_id=chat_id))


@dataclass
class SlowModel:
    """The scripted model, thinking STEP_S before each of its two answers: a tool call
    (order_status), then the answer made from the tool's result."""

    base_url: str
    server: ScriptedOpenAI
    release: threading.Event  # ends the thinking at once (a failing test)
    answered: threading.Event  # the second step has answered: the job is ending


@pytest.fixture
def model() -> Iterator[SlowModel]:
    release, answered = threading.Event(), threading.Event()
    steps = scripted.tool_then_answer("order_status", {"order_id": 1}, lambda _fact: ANSWER)

    def think(body: scripted.Body) -> scripted.Reply:
        release.wait(STEP_S)
        reply = steps(body)
        if scripted.tool_results(body):
            answered.set()
        return reply

    server = ScriptedOpenAI(default=scripted.answer(ANSWER)).when("ma commande", think)
    base_url, shutdown = server.serve()
    yield SlowModel(base_url, server, release, answered)
    release.set()
    shutdown()


def test_a_slow_model_call_holds_up_no_webhook(
    serve: Callable[..., Serve], model: SlowModel
) -> None:
    app = serve(llm_url=model.base_url)
    asker, *others = app.greeted_buyers(OTHERS + 1)

    def asked() -> bool:
        return any(scripted.last_user_text(r) == QUESTION for r in model.server.requests)

    try:
        assert app.post_whatsapp(asker, QUESTION)[0] == 200
        wait_until(asked, WAIT_S)  # the question reached the model, which thinks
        app.others_write(others, lambda: not model.answered.is_set(), over_s=HOLD_S)
        assert ANSWER not in app.bodies(asker)
    finally:
        model.release.set()
    app.store.wait_for(lambda: ANSWER in app.bodies(asker), timeout=WAIT_S)
    tool_rounds = [r for r in model.server.requests if scripted.tool_results(r)]
    assert len(tool_rounds) == 1, "the job went through its tool round"
    print(app.report("model"))


def test_a_send_hanging_until_its_timeout_holds_up_no_webhook(
    serve: Callable[..., Serve],
) -> None:
    app = serve()
    slow, *others = app.greeted_buyers(OTHERS + 1)
    # Twilio stops answering this buyer's next send: the sender waits for its own timeout.
    stall = app.store.stall_next(provider="twilio", to=f"whatsapp:{slow}", seconds=HOLD_S * 3)
    before = len(app.bodies(slow))
    asked = time.monotonic()  # the send starts after this and hangs until TWILIO_TIMEOUT_S

    def hanging() -> bool:
        return time.monotonic() - asked < TWILIO_TIMEOUT_S and len(app.bodies(slow)) == before

    try:
        assert app.post_whatsapp(slow, "bonjour")[0] == 200
        assert stall.arrived.wait(WAIT_S), "the reply's send never reached the emulator"
        app.others_write(others, hanging, over_s=TWILIO_TIMEOUT_S / 2)
        # The sender gives up at its timeout; the row is retried and reaches her.
        app.store.wait_for(lambda: len(app.bodies(slow)) > before, timeout=START_S)
    finally:
        stall.release()
    print(app.report("send"))
