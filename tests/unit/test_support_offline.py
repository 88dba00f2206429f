"""Offline support: FAQ retrieval accuracy, recognised intents on the user's own orders, the
question detector, phone masking, and the handler answering within the turn."""

from __future__ import annotations

import pytest

from bench.support_eval import is_correct, load_eval_set
from bot.support.handlers import ask, looks_like_support_question
from bot.support.retrieval import IntentKind, detect_intent, offline_answer
from bot.support.scoped import ScopedReader, mask_phones
from settings.config import load_config
from tests.support import Db
from tests.unit import flows

OFFLINE = load_config(environ={}).replace(llm__base_url="", llm__model="")


def test_eval_set_is_big_enough_and_bilingual() -> None:
    questions = load_eval_set()
    assert len(questions) >= 40
    assert {q.lang for q in questions} == {"fr", "en"}
    assert sum(q.kind == "faq" for q in questions) >= 30


def test_offline_answers_at_least_80_percent_of_faq_questions(db: Db) -> None:
    mine = flows.place(db)
    faq = [q for q in load_eval_set() if q.kind == "faq"]
    with db.session() as session:
        reader = ScopedReader(session, mine.buyer_id)
        correct = [q for q in faq if is_correct(offline_answer(reader, q.q, q.lang).text, q)]
    assert len(correct) / len(faq) >= 0.8, [q.q for q in faq if q not in correct]


def test_offline_answers_questions_about_own_orders(db: Db) -> None:
    mine = flows.place(db)
    flows.deliver(db, mine)
    other = flows.place(db)
    ids = {"order_id": mine.order_id, "other_order_id": other.order_id}
    with db.session() as session:
        reader = ScopedReader(session, mine.buyer_id)
        for raw in (q for q in load_eval_set() if q.kind == "data"):
            q = raw.filled(ids)
            assert is_correct(offline_answer(reader, q.q, q.lang).text, q), q.q
        assert reader.audit.cross_user_reads() == []
        assert other.order_id not in reader.audit.order_ids_read()


@pytest.mark.parametrize(
    ("text", "kind", "number"),
    [
        ("où est ma commande 1042 ?", IntentKind.ORDER_STATUS, 1042),
        ("pourquoi ma commande n'est pas arrivée", IntentKind.ORDER_STATUS, None),
        ("puis-je retourner ma commande 12", IntentKind.RETURN_ELIGIBILITY, 12),
        ("c'est quoi votre politique de retour ?", IntentKind.FAQ, None),
        ("je veux parler à un humain", IntentKind.HUMAN, None),
        ("mes commandes", IntentKind.MY_ORDERS, None),
        ("my order 55 has not arrived", IntentKind.ORDER_STATUS, 55),
    ],
)
def test_intents(text: str, kind: IntentKind, number: int | None) -> None:
    intent = detect_intent(text)
    assert (intent.kind, intent.order_id) == (kind, number)


@pytest.mark.parametrize(
    "text",
    [
        "pourquoi ma commande n'est pas arrivée ?",
        "je peux payer avec Orange Money",
        "c'est quoi votre politique de retour ?",
        "comment devenir vendeur",
        "livraison à Kankan",
        "remboursement svp",
        "how do I return an item",
        "can I pay with MTN MoMo",
        "je veux parler à un humain",
    ],
)
def test_support_questions_are_recognised(text: str) -> None:
    assert looks_like_support_question(text)


@pytest.mark.parametrize(
    "text", ["chaussures noires", "telefone samsng", "robe rouge taille M", "iphone 12", ""]
)
def test_product_searches_are_not_support_questions(text: str) -> None:
    assert not looks_like_support_question(text)


def test_phones_masked_except_last_four_digits() -> None:
    masked = mask_phones("appelez le +224 622 12 34 56 ou 622123457 svp")
    assert "3456" in masked and "3457" in masked
    assert "622" not in masked and "+224" not in masked


def test_handler_answers_offline_within_the_turn(db: Db) -> None:
    from tests.unit.test_support_agent import turn_context

    mine = flows.place(db)
    with db.uow() as session:
        ctx = turn_context(session, mine.buyer_id, "je peux payer avec Orange Money ?")
        state, replies = ask(ctx.inbound, ctx, config=OFFLINE)
        assert state == ctx.conv.state
        assert "Orange Money" in replies[0].text  # type: ignore[union-attr]
        assert ctx.data["support"]["misses"] == 0
        assert session.info.get("boutik_after_commit_events") is None


def test_two_misses_in_a_row_offer_then_make_a_hand_off(db: Db) -> None:
    from commerce.messaging.events import take_events
    from tests.unit.test_support_agent import turn_context

    mine = flows.place(db)
    with db.uow() as session:
        ctx = turn_context(session, mine.buyer_id, "xylophone quantique ?")
        _state, first = ask(ctx.inbound, ctx, config=OFFLINE)
        assert "HUMAIN" in first[0].text  # type: ignore[union-attr]
        assert take_events(session) == []
        _state, second = ask(ctx.inbound, ctx, config=OFFLINE)
        [event] = take_events(session)
        assert event.name == "support_question"
        assert event.args == (mine.buyer_id, ctx.conv.id, 1)
        assert ctx.data["support"]["pending"]["handoff"] is True
        assert "personne" in second[0].text  # type: ignore[union-attr]


def test_both_faq_files_have_the_same_entries_keys_and_placeholders() -> None:
    """Every entry exists in French and English with the same id (an answer found in one
    language is given in the other by id) and quotes the same figures from config."""
    import string

    from bot.support.retrieval import load_faq

    def shape(lang: str) -> dict[str, set[str]]:
        fields = string.Formatter().parse
        return {
            e.id: {name for _text, name, _spec, _conv in fields(e.answer) if name}
            for e in load_faq(lang)
        }

    assert shape("fr") == shape("en")
    for lang in ("fr", "en"):
        assert all(e.keys for e in load_faq(lang)), "an entry without keys is never served"
