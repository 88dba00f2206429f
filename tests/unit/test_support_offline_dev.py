"""The offline assistant on its development questions (issue 18): right, or honest.

The questions (support_dev_questions.json) were written as buyers write — typos, no accents,
WhatsApp shorthand — by the engineer tuning the assistant, and are run through
`offline_answer` for a buyer with orders in several states and for a buyer with none. What is
measured: no answer from the wrong FAQ entry or intent (a confidently wrong answer), at least
90 % right, the answer in the question's language, and order questions that read her own
orders — or say plainly that she has none. The held-out measurement lives elsewhere
(bench/support/) and is deliberately not read here.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

from bot import i18n
from bot.messages import Choices, Image, Text
from bot.support.handlers import answer_language, ask
from bot.support.retrieval import ORDER_INTENTS, IntentKind, SupportAnswer, offline_answer
from bot.support.scoped import ScopedReader
from commerce.returns import actions as returns
from commerce.threads import ThreadKind, open_thread_of_buyer
from settings.config import load_config
from tests.support import Db, make_admin, make_buyer
from tests.unit import flows

DEV = json.loads(Path(__file__).with_name("support_dev_questions.json").read_text("utf-8"))
QUESTIONS: list[dict[str, Any]] = DEV["questions"]
HONEST = ("not_found", "handoff")
OFFLINE = load_config(environ={}).replace(llm__base_url="", llm__model="")
MODEL = load_config(environ={}).replace(llm__base_url="http://127.0.0.1:9/v1", llm__model="m")


@dataclass
class DevWorld:
    buyer_id: int  # orders placed, picked up (with a courier), delivered with a return approved
    placed: flows.Placed
    picked: flows.Placed
    delivered: flows.Placed
    newcomer_id: int  # no order at all

    @property
    def order_ids(self) -> set[int]:
        return {self.placed.order_id, self.picked.order_id, self.delivered.order_id}


def build_world(db: Db) -> DevWorld:
    placed = flows.place(db)
    buyer = (placed.buyer_id, placed.address_id or 0)
    picked = flows.place(db, buyer=buyer)
    flows.to_picked_up(db, picked)
    delivered = flows.place(db, buyer=buyer)
    flows.deliver(db, delivered)
    with db.uow() as s:
        ret = returns.request_return(
            s,
            buyer_id=placed.buyer_id,
            order_id=delivered.order_id,
            items=[(delivered.item_id, 1)],
            reason="pointure trop petite",
        )
        return_id = ret.id
    with db.uow() as s:
        returns.approve_return(s, seller_id=delivered.seller_id, return_id=return_id)
    newcomer_id, _ = make_buyer(db)
    return DevWorld(placed.buyer_id, placed, picked, delivered, newcomer_id)


def _text(q: dict[str, Any], world: DevWorld) -> str:
    return q["q"].format(picked=world.picked.order_id, placed=world.placed.order_id)


def verdict(answer: SupportAnswer, expect: list[str]) -> str:
    """ "right", "honest" (no sure answer where one was expected) or "wrong"."""
    topic = "honest" if answer.topic in HONEST else answer.topic
    if topic in expect:
        return "right"
    return "honest" if topic == "honest" else "wrong"


def run(db: Db, world: DevWorld, user_id: int) -> list[tuple[dict[str, Any], SupportAnswer]]:
    out = []
    with db.session() as session:
        for q in QUESTIONS:
            text = _text(q, world)
            reader = ScopedReader(session, user_id)
            out.append((q, offline_answer(reader, text, answer_language(text, "fr"))))
            assert reader.audit.cross_user_reads() == []
    return out


def test_the_dev_set_is_big_bilingual_and_has_the_three_reported_examples() -> None:
    assert len(QUESTIONS) >= 60
    assert {q["lang"] for q in QUESTIONS} == {"fr", "en"}
    asked = {q["q"] for q in QUESTIONS}
    assert "Le vendeur ne répond pas à mes messages depuis hier" in asked
    assert "Je me suis trompée de pointure, je peux échanger ?" in asked
    assert "Is it safe to give my PIN to the courier before I open the parcel?" in asked


def test_never_confidently_wrong_and_at_least_90_percent_right(db: Db) -> None:
    world = build_world(db)
    for user_id in (world.buyer_id, world.newcomer_id):
        results = run(db, world, user_id)
        wrong = [(q["q"], a.topic) for q, a in results if verdict(a, q["expect"]) == "wrong"]
        assert wrong == [], "\n".join(map(str, wrong))
        right = [q for q, a in results if verdict(a, q["expect"]) == "right"]
        for lang in ("fr", "en"):
            mine = [q for q in QUESTIONS if q["lang"] == lang]
            share = sum(q["lang"] == lang for q in right) / len(mine)
            assert share >= 0.9, (lang, [q["q"] for q in mine if q not in right])


@pytest.mark.parametrize("stored", ["fr", "en"])
def test_every_dev_question_is_answered_in_its_own_language(stored: str) -> None:
    clear = [q for q in QUESTIONS if not q.get("unclear")]
    wrong = [q["q"] for q in clear if answer_language(q["q"], stored) != q["lang"]]
    assert wrong == []


def _orders_named(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"(?:n°|#)(\d+)", text)}


def test_order_questions_read_her_orders_or_say_she_has_none(db: Db) -> None:
    world = build_world(db)
    hers = dict((q["q"], a) for q, a in run(db, world, world.buyer_id))
    none = dict((q["q"], a) for q, a in run(db, world, world.newcomer_id))
    kinds = {k.value for k in ORDER_INTENTS}
    asked = [q for q in QUESTIONS if hers[q["q"]].topic in kinds]
    assert {IntentKind(hers[q["q"]].topic) for q in asked} == ORDER_INTENTS
    for q in asked:
        mine, nothing = hers[q["q"]], none[q["q"]]
        named = _orders_named(mine.text)
        assert named and named <= world.order_ids, (q["q"], mine.text)
        assert _orders_named(nothing.text) <= {world.picked.order_id, world.placed.order_id}
        assert nothing.text != mine.text and not nothing.resend_codes, q["q"]
        assert nothing.topic == mine.topic


def _answer(db: Db, user_id: int, text: str) -> SupportAnswer:
    with db.session() as session:
        return offline_answer(ScopedReader(session, user_id), text, answer_language(text, "fr"))


def test_the_three_reported_questions_get_the_right_answer(db: Db) -> None:
    world = build_world(db)
    silent = _answer(db, world.buyer_id, "Le vendeur ne répond pas à mes messages depuis hier")
    assert silent.handoff and silent.to_admin
    assert "administrateur" in silent.text and "Telegram" not in silent.text
    size = _answer(db, world.buyer_id, "Je me suis trompée de pointure, je peux échanger ?")
    assert "retour" in size.text and "anglais" not in size.text
    assert f"n°{world.delivered.order_id}" in size.text  # her delivered order, still returnable
    pin = _answer(
        db, world.buyer_id, "Is it safe to give my PIN to the courier before I open the parcel?"
    )
    assert "parcel is in your hands" in pin.text and "24/7" not in pin.text


def test_each_order_situation_names_her_order_and_its_state(db: Db) -> None:
    world = build_world(db)
    delay = _answer(db, world.buyer_id, "ça fait 5 jours toujours rien")
    assert f"n°{world.picked.order_id}" in delay.text and f"n°{world.placed.order_id}" in delay.text
    refund = _answer(db, world.buyer_id, "où en est mon remboursement")
    assert f"n°{world.delivered.order_id}" in refund.text and "accepté" in refund.text
    missed = _answer(db, world.buyer_id, "le livreur est passé quand j'étais absente")
    assert f"n°{world.picked.order_id}" in missed.text and "valables jusqu" in missed.text
    moved = _answer(db, world.buyer_id, "je veux changer l'adresse de livraison")
    assert f"n°{world.placed.order_id}" in moved.text and "Annuler" in moved.text
    assert moved.handoff and moved.order_id == world.picked.order_id  # that one is on its way
    overcharge = _answer(db, world.buyer_id, "the courier wants 20000 more than the summary")
    assert overcharge.to_admin and "Never pay more" in overcharge.text


def test_a_lost_code_is_sent_again_through_the_my_orders_path(db: Db) -> None:
    from tests.unit.test_support_agent import turn_context

    mine = flows.place(db)
    with db.uow() as session:
        ctx = turn_context(session, mine.buyer_id, "j'ai supprimé le message avec le PIN")
        _state, replies = ask(ctx.inbound, ctx, config=OFFLINE)
    first, *rest = replies
    assert isinstance(first, Text) and f"n°{mine.order_id}" in first.text
    [image] = rest
    assert isinstance(image, Image) and mine.pin in image.caption


def test_two_lost_codes_offer_the_my_orders_button_of_each(db: Db) -> None:
    from tests.unit.test_support_agent import turn_context

    world = build_world(db)
    with db.uow() as session:
        ctx = turn_context(session, world.buyer_id, "I lost my code")
        _state, [reply] = ask(ctx.inbound, ctx, config=OFFLINE)
    assert isinstance(reply, Choices)
    assert [c.id for c in reply.choices] == [
        f"qr:{world.picked.order_id}",
        f"qr:{world.placed.order_id}",
    ]


def test_a_silent_seller_goes_to_an_admin_at_once(db: Db) -> None:
    from tests.unit.test_support_agent import turn_context

    world = build_world(db)
    admin_id = make_admin(db)
    with db.uow() as session:
        ctx = turn_context(session, world.buyer_id, "le vendeur répond pas depuis 3 jours")
        _state, [reply] = ask(ctx.inbound, ctx, config=OFFLINE)
        thread = open_thread_of_buyer(session, world.buyer_id, ThreadKind.HANDOFF)
        assert thread is not None and thread.staff_id == ctx.data["human"]
        assert ctx.conv.human_mode
    assert isinstance(reply, Text) and "administrateur" in reply.text
    assert admin_id is not None


def test_the_answer_follows_the_question_language_and_the_stored_one_stays(db: Db) -> None:
    from tests.unit.test_support_agent import turn_context

    mine = flows.place(db)
    with db.uow() as session:
        ctx = turn_context(session, mine.buyer_id, "where is my refund?")
        _state, [reply] = ask(ctx.inbound, ctx, config=OFFLINE)
        assert ctx.user.language.value == "fr"
    assert isinstance(reply, Text)
    assert reply.text == i18n.t("en", "support.none.refund", days=30)


def test_a_parked_question_carries_its_answer_language(db: Db) -> None:
    from tests.unit.test_support_agent import turn_context

    mine = flows.place(db)
    with db.uow() as session:
        ctx = turn_context(session, mine.buyer_id, "how long do I have to return something?")
        _state, [reply] = ask(ctx.inbound, ctx, config=MODEL)
        assert ctx.data["support"]["pending"]["lang"] == "en"
    assert isinstance(reply, Text) and reply.text == i18n.t("en", "support.looking")
