"""The real `ChatOpenAI` HTTP path against a local OpenAI-compatible server, and the worker job
that answers a parked question and writes the reply to the outbox (or hands off)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import pytest

from bot.support.agent import answer
from bot.support.handlers import ask
from bot.support.scoped import ScopedReader
from commerce.messaging.events import take_events
from commerce.messaging.models import ConversationState, Outbox
from devtools.testkit import scripted_openai as scripted
from devtools.testkit.scripted_openai import ScriptedOpenAI
from settings.config import load_config
from tests.support import Db
from tests.unit import flows
from tests.unit.test_support_agent import turn_context


def order_status_script(order_id: int) -> scripted.Script:
    """A tool call for `order_status`, then "Votre commande N est : status." from its result."""
    return scripted.tool_then_answer(
        "order_status",
        {"order_id": order_id},
        lambda fact: f"Votre commande {fact['order_id']} est : {fact['status']}.",
    )


@pytest.fixture
def placed(db: Db) -> flows.Placed:
    return flows.place(db)


@pytest.fixture
def server(placed: flows.Placed) -> Iterator[tuple[str, ScriptedOpenAI]]:
    fake = ScriptedOpenAI(default=order_status_script(placed.order_id))
    base_url, shutdown = fake.serve()
    yield base_url, fake
    shutdown()


def _config(base_url: str) -> Any:
    return load_config(environ={"OPENAI_API_KEY": "sk-test"}).replace(
        llm__base_url=base_url, llm__model="test-model"
    )


def test_chatopenai_calls_the_tool_over_http_and_composes_the_answer(
    db: Db, placed: flows.Placed, server: tuple[str, ScriptedOpenAI]
) -> None:
    base_url, fake = server
    with db.session() as session:
        reader = ScopedReader(session, placed.buyer_id)
        reply = answer(
            session,
            user_id=placed.buyer_id,
            text="où est ma commande ?",
            lang="fr",
            config=_config(base_url),
            reader=reader,
        )
    assert reply.source == "model"
    assert reply.text == f"Votre commande {placed.order_id} est : placed."
    assert [t["function"]["name"] for t in fake.requests[0]["tools"]] == [
        "my_orders",
        "order_status",
        "return_eligibility",
        "search_products",
        "faq_lookup",
    ]
    assert "user_id" not in json.dumps(fake.requests[0]["tools"])
    assert fake.requests[0]["messages"][0]["role"] == "system"
    assert reader.audit.entries[0].order_owner_ids == (placed.buyer_id,)


def test_unreachable_or_slow_model_falls_back_to_offline(db: Db, placed: flows.Placed) -> None:
    fake = ScriptedOpenAI(default=scripted.delay(2.0, order_status_script(placed.order_id)))
    base_url, shutdown = fake.serve()
    try:
        with db.session() as session:
            slow = answer(
                session,
                user_id=placed.buyer_id,
                text="je peux payer avec orange money ?",
                lang="fr",
                config=_config(base_url),
                timeout_s=0.5,
            )
            down = answer(
                session,
                user_id=placed.buyer_id,
                text="je peux payer avec orange money ?",
                lang="fr",
                config=_config("http://127.0.0.1:9"),
            )
    finally:
        shutdown()
    for reply in (slow, down):
        assert reply.source == "offline" and "Orange Money" in reply.text


def test_worker_job_answers_the_parked_question_into_the_outbox(
    db: Db,
    placed: flows.Placed,
    server: tuple[str, ScriptedOpenAI],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from boutik.runtime import Runtime
    from workers import assistant
    from workers.events import _jobs

    base_url, _fake = server
    config = _config(base_url).replace(database__url=str(db.engine.url))
    rt = Runtime(config)
    monkeypatch.setattr(Runtime, "session_factory", db.factory)
    sent: list[list[int]] = []

    class Dispatcher:
        def dispatch(self, ids: list[int]) -> None:
            sent.append(ids)

    monkeypatch.setattr(Runtime, "dispatcher", Dispatcher())
    with db.uow() as session:
        ctx = turn_context(session, placed.buyer_id, "où est ma commande ?")
        _state, replies = ask(ctx.inbound, ctx, config=config)
        ctx.conv.data = ctx.data
        [event] = take_events(session)
    assert replies[0].text == "Je regarde…"  # type: ignore[union-attr]
    fn, *args = _jobs()[event.name](*event.args)
    assert fn is assistant.answer_support_question
    assert fn(rt, *args).startswith("answered (model")  # as a worker runs it: runtime first
    assert fn(rt, *args) == "nothing to do"  # idempotent: the question is answered once
    with db.session() as session:
        row = session.query(Outbox).filter_by(user_id=placed.buyer_id, kind="reply").one()
        assert row.payload["params"]["reply"]["text"].startswith(
            f"Votre commande {placed.order_id}"
        )
        conv = session.get(ConversationState, args[1])
        assert conv is not None and "pending" not in conv.data["support"]
        assert conv.data["support"]["history"][-1]["role"] == "assistant"
    assert sent and sent[0] == [row.id]


def test_worker_job_hands_off_to_a_human(
    db: Db, placed: flows.Placed, monkeypatch: pytest.MonkeyPatch
) -> None:
    from boutik.runtime import Runtime
    from workers.events import _jobs

    config = load_config(environ={}).replace(llm__base_url="", llm__model="")
    rt = Runtime(config)
    monkeypatch.setattr(Runtime, "session_factory", db.factory)

    class Dispatcher:
        def dispatch(self, ids: list[int]) -> None:
            pass

    monkeypatch.setattr(Runtime, "dispatcher", Dispatcher())
    with db.uow() as session:
        ctx = turn_context(session, placed.buyer_id, "je veux parler à un humain")
        _state, _replies = ask(ctx.inbound, ctx, config=config)
        ctx.conv.data = ctx.data
        [event] = take_events(session)
    fn, *args = _jobs()[event.name](*event.args)
    fn(rt, *args)
    with db.session() as session:
        conv = session.get(ConversationState, args[1])
        assert conv is not None and conv.human_mode is True
