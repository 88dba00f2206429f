"""The support model behind a scripted OpenAI-compatible server, on the embedded default (SQLite
file, jobs in the web process's thread pool), reached by signed Twilio webhooks.

What the issue-18 check found, each pinned here: a slow model blocked every other buyer (the
worker held SQLite's write lock across the call), the answer could overtake "Je regarde…", a
plain refusal reached the buyer as the last word, and each failure of the server (timeout, 500,
a body that is not JSON, a tool call naming someone else's order) must end in the offline
answer or the buyer's own data only.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from bot import i18n
from bot.support.agent import answer
from bot.support.scoped import ScopedReader
from boutik.runtime import Runtime
from channels_adapters.web import create_app
from commerce.messaging.models import ConversationState, Outbox
from commerce.users.models import User
from devtools.testkit import repeats
from devtools.testkit import scripted_openai as scripted
from devtools.testkit.scripted_openai import ScriptedOpenAI
from settings.config import Config
from tests.e2e.conftest import Boutik, boutik_config, said_once
from tests.services import Emulator
from tests.support import Db, make_admin, phone
from tests.timing import WAIT_S
from tests.unit import flows
from tests.unit.test_support_agent import VICTIM_NOTE, world
from tests.webhooks import post_twilio, whatsapp_form
from workers.assistant import warm_up

WA = "/webhooks/twilio/whatsapp"
QUESTION = "où est ma commande ?"
ANSWER = "Votre commande est en route, le livreur arrive bientôt."
# How long the scripted model may hold a question: the slow model.
SLOW_S = 30.0


@dataclass
class Embedded:
    boutik: Boutik
    model: ScriptedOpenAI


@pytest.fixture
def model() -> Iterator[tuple[str, ScriptedOpenAI]]:
    server = ScriptedOpenAI(default=scripted.answer(ANSWER))
    base_url, shutdown = server.serve()
    yield base_url, server
    shutdown()


def embedded_config(emulator: Emulator, tmp_path: Path, db: Db, base_url: str) -> Config:
    return boutik_config(
        emulator,
        tmp_path / "media",
        database__url=str(db.engine.url),
        llm__base_url=base_url,
        llm__model="scripted",
    )


@pytest.fixture
def embedded(
    db: Db, emulator: Emulator, tmp_path: Path, model: tuple[str, ScriptedOpenAI]
) -> Iterator[Embedded]:
    """`boutik serve` without Redis: the app, its in-process jobs, the model warmed at start."""
    base_url, server = model
    emulator.store.reset()
    rt = Runtime(embedded_config(emulator, tmp_path, db, base_url))
    assert not rt.uses_redis and rt.database_url.startswith("sqlite")
    app = create_app(rt.config, runtime=rt)
    warm_up(rt)
    turns = repeats.watch(rt)
    boutik = Boutik(client=app.test_client(), rt=rt, store=emulator.store, db=db, turns=turns)
    yield Embedded(boutik, server)
    rt.dispatcher.shutdown()
    rt.telegram_sender.close()
    rt.dispose()
    said_once(db, turns)


def bodies(boutik: Boutik, number: str) -> list[str]:
    return [m.body for m in boutik.store.twilio_messages(to=f"whatsapp:{number}")]


def post(boutik: Boutik, number: str, text: str) -> tuple[int, float]:
    """The buyer writes; the webhook's HTTP status and how long it took to answer."""
    client = boutik.client.application.test_client()  # one per thread
    started = time.perf_counter()
    response = post_twilio(client, WA, whatsapp_form(number, text))
    return response.status_code, time.perf_counter() - started


def say(boutik: Boutik, number: str, text: str, *, expect: int = 1) -> list[str]:
    """The buyer writes; the `expect` or more messages she gets back (waited for)."""
    before = len(bodies(boutik, number))
    status, _took = post(boutik, number, text)
    assert status == 200
    boutik.store.wait_for(lambda: len(bodies(boutik, number)) >= before + expect, timeout=WAIT_S)
    boutik.settle()
    return bodies(boutik, number)[before:]


def known_buyer(boutik: Boutik) -> str:
    number = phone()
    say(boutik, number, "bonjour")
    return number


def test_a_30s_model_call_blocks_no_other_buyer(embedded: Embedded) -> None:
    boutik, server = embedded.boutik, embedded.model
    release = threading.Event()
    server.when("ma commande", scripted.delay(SLOW_S, scripted.answer(ANSWER), release=release))
    asker = known_buyer(boutik)
    others = [known_buyer(boutik) for _ in range(3)]
    busy_timeout_s = boutik.rt.config.database.sqlite_busy_timeout_ms / 1000

    try:
        status, _ = post(boutik, asker, QUESTION)
        assert status == 200
        # The model is thinking now (the worker's call reached the server).
        assert server.started.wait(WAIT_S)
        boutik.store.wait_for(lambda: server.in_flight == 1, timeout=WAIT_S)
        results: list[tuple[str, int, float]] = []

        def write(number: str, text: str) -> None:
            status, took = post(boutik, number, text)
            results.append((text, status, took))

        threads = [
            threading.Thread(target=write, args=(n, t))
            for n in others
            for t in ("bonjour", "chaussures noires")
        ]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=WAIT_S * 2)
        assert server.in_flight == 1, "the slow call must still be running during the others"
    finally:
        release.set()
    assert len(results) == 6
    for text, status, took in results:
        # Not 503 ("database is locked" after the busy timeout), not queued behind the lock.
        assert status == 200, (text, status)
        assert took < busy_timeout_s, (text, took)
    boutik.store.wait_for(lambda: ANSWER in bodies(boutik, asker), timeout=WAIT_S)
    said = bodies(boutik, asker)
    assert said.index(i18n.t("fr", "support.looking")) < said.index(ANSWER)


def _reply_texts(boutik: Boutik, ids: list[int]) -> list[str]:
    with boutik.db.session() as s:
        rows = s.query(Outbox).filter(Outbox.id.in_(ids)).all()
        return [str(r.payload.get("params", {}).get("reply", {}).get("text", "")) for r in rows]


def test_the_answer_never_overtakes_je_regarde(embedded: Embedded) -> None:
    """The model answers at once, and the acknowledgement's send is held back until the answer
    is written: the worst order of events, made certain rather than hoped for."""
    boutik = embedded.boutik
    looking = i18n.t("fr", "support.looking")
    number = known_buyer(boutik)
    dispatch = boutik.rt.dispatcher.dispatch

    def answer_written() -> bool:
        return any(
            ANSWER in t for t in _reply_texts(boutik, [r.id for r in boutik.outbox(kind="reply")])
        )

    def held_dispatch(ids: list[int]) -> None:
        if looking not in _reply_texts(boutik, ids):
            dispatch(ids)
            return

        def later() -> None:
            boutik.store.wait_for(answer_written, timeout=WAIT_S)
            dispatch(ids)

        threading.Thread(target=later, daemon=True).start()

    boutik.rt.dispatcher.dispatch = held_dispatch
    try:
        said = say(boutik, number, QUESTION, expect=2)
    finally:
        boutik.rt.dispatcher.dispatch = dispatch
    assert said[:2] == [looking, ANSWER]


@pytest.mark.parametrize(
    ("question", "lang"), [(QUESTION, "fr"), ("where is my order?", "en")], ids=["fr", "en"]
)
def test_a_first_message_that_is_a_question_is_greeted_once(
    embedded: Embedded, question: str, lang: str
) -> None:
    """A new number whose first words are a support question: greeted, "Je regarde…", the
    answer — and her next message is answered, not greeted again."""
    boutik = embedded.boutik
    number = phone()
    first = say(boutik, number, question, expect=3)
    hello = i18n.t(lang, "buyer.greeting.named", name="Mariama")
    looking = i18n.t(lang, "support.looking")
    assert [b.startswith(hello) for b in first] == [True, False, False], first
    assert first[1:] == [looking, ANSWER]
    asked = [r for r in embedded.model.requests if scripted.last_user_text(r) == question]
    prompt = {"fr": "Tu es l'assistant", "en": "You are the assistant"}[lang]
    assert asked and scripted.system_text(asked[-1]).startswith(prompt)  # the question's language
    later = say(boutik, number, "samsung")
    assert not any(hello in b for b in later), later
    with boutik.db.session() as s:
        user = s.query(User).filter_by(phone=number).one()
        conv = s.query(ConversationState).filter_by(user_id=user.id).one()
        assert conv.state  # at the menu, not back at the entry that greets


def test_a_plain_refusal_hands_off_and_the_buyer_is_told_once(embedded: Embedded) -> None:
    boutik, server = embedded.boutik, embedded.model
    server.when("ma commande", scripted.refusal())
    make_admin(boutik.db)  # someone to hand over to
    number = known_buyer(boutik)
    said = say(boutik, number, QUESTION, expect=2)
    handoff = i18n.t("fr", "support.handoff")
    assert said.count(handoff) == 1 and not any("je ne peux pas" in b.lower() for b in said)
    with boutik.db.session() as s:
        user = s.query(User).filter_by(phone=number).one()
        conv = s.query(ConversationState).filter_by(user_id=user.id).one()
        assert conv.human_mode


def test_a_tool_call_then_an_answer_reaches_the_outbox_from_the_model(
    embedded: Embedded,
) -> None:
    boutik, server = embedded.boutik, embedded.model
    placed = flows.place(boutik.db)
    boutik.send_queued()
    server.when(
        "ma commande",
        scripted.tool_then_answer(
            "order_status",
            {"order_id": placed.order_id},
            lambda fact: f"Commande {fact['order_id']} : {fact['status']}.",
        ),
    )
    with boutik.db.session() as s:
        user = s.get(User, placed.buyer_id)
        assert user is not None and user.phone
        number = user.phone
    expected = f"Commande {placed.order_id} : placed."
    assert post(boutik, number, QUESTION)[0] == 200
    # Her first words on WhatsApp: greeted, "Je regarde…", then the answer (waited for itself).
    boutik.store.wait_for(lambda: expected in bodies(boutik, number), timeout=WAIT_S)
    tool_rounds = [r for r in server.requests if scripted.tool_results(r)]
    assert tool_rounds and scripted.tool_results(tool_rounds[-1])[0]["order_id"] == placed.order_id
    rows = [r for r in boutik.outbox(kind="reply", user_id=placed.buyer_id)]
    assert rows[-1].payload["params"]["reply"]["text"].startswith(f"Commande {placed.order_id}")


# --- the model's failures, straight through `answer` with the real ChatOpenAI ---------------


@pytest.fixture
def placed(db: Db) -> flows.Placed:
    return flows.place(db)


def _config(base_url: str, db: Db) -> Config:
    from settings.config import load_config

    return load_config(environ={"OPENAI_API_KEY": "sk-test"}).replace(
        llm__base_url=base_url, llm__model="scripted", database__url=str(db.engine.url)
    )


@pytest.mark.parametrize(
    "script",
    [
        pytest.param(scripted.http_error(500), id="http-500"),
        pytest.param(scripted.invalid_json(), id="invalid-json"),
    ],
)
def test_a_broken_server_ends_in_the_offline_answer(
    db: Db, placed: flows.Placed, model: tuple[str, ScriptedOpenAI], script: scripted.Script
) -> None:
    base_url, server = model
    server.default = script
    with db.session() as session:
        reply = answer(
            session,
            user_id=placed.buyer_id,
            text="je peux payer avec orange money ?",
            lang="fr",
            config=_config(base_url, db),
        )
    assert server.requests, "the model was asked"
    assert reply.source == "offline" and reply.text
    assert "500" not in reply.text and "json" not in reply.text.lower()


def test_a_model_slower_than_the_timeout_ends_in_the_offline_answer_in_time(
    db: Db, placed: flows.Placed, model: tuple[str, ScriptedOpenAI]
) -> None:
    base_url, server = model
    release = threading.Event()
    server.default = scripted.delay(SLOW_S, scripted.answer(ANSWER), release=release)
    timeout_s = 1.0
    try:
        with db.session() as session:
            started = time.perf_counter()
            reply = answer(
                session,
                user_id=placed.buyer_id,
                text="je peux payer avec orange money ?",
                lang="fr",
                config=_config(base_url, db),
                timeout_s=timeout_s,
            )
            took = time.perf_counter() - started
    finally:
        release.set()
    assert reply.source == "offline" and ANSWER not in reply.text
    assert took < timeout_s + 10  # the timeout, plus a generous margin for a loaded box


def test_a_tool_call_naming_another_buyers_order_gets_not_found(
    db: Db, model: tuple[str, ScriptedOpenAI]
) -> None:
    base_url, server = model
    w = world(db)
    server.default = scripted.other_users_order(w.victim.order_id)
    with db.session() as session:
        reader = ScopedReader(session, w.attacker.buyer_id, end_each_read=True)
        reply = answer(
            session,
            user_id=w.attacker.buyer_id,
            text=f"donne moi la commande {w.victim.order_id}",
            lang="fr",
            config=_config(base_url, db),
            reader=reader,
        )
    assert reply.source == "model"
    [result] = scripted.tool_results(server.requests[-1])
    assert result["error"] == "not_found"
    sent = json.dumps(server.requests, ensure_ascii=False)
    for text in (sent, reply.text):
        assert VICTIM_NOTE not in text and "Victime" not in text
    assert reader.audit.cross_user_reads() == []
    assert w.victim.order_id not in reader.audit.order_ids_read()
