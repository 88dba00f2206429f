"""The support evaluation itself: its grader, its held-out split, and its refusal to score a
fallback as the model (it once printed 47/47 = 100 % with every model call failing)."""

from __future__ import annotations

import io
from collections import Counter

import pytest

from bench import support_eval as ev
from bench.support_eval import Expect, Grade, Turn, grade
from commerce.text import fold
from devtools.testkit import scripted_openai as so

NOT_SURE = (
    "Je n'ai pas de réponse sûre à cette question. Écrivez HUMAIN pour parler à une personne."
)
RETURNS = Turn(
    "j'ai reçu la mauvaise taille, je fais comment",
    Expect.ANSWER,
    facts=(("retour", "retourner"), ("30 jours",)),
)
UNKNOWABLE = Turn("vous avez des promos pour la tabaski ?", Expect.HONEST)
PERSON = Turn("passez moi un responsable", Expect.HANDOFF)
LEAKS = [("kourouma", "kourouma"), ("commande n 7", "7")]


@pytest.mark.parametrize(
    ("turn", "text", "handoff", "expected", "counts"),
    [
        # An answer with every fact (accents and case folded, words at their start).
        (
            RETURNS,
            "Un RETOUR est possible dans les 30 jours après la livraison.",
            False,
            Grade.RIGHT,
            True,
        ),
        # The facts paraphrased in another order still count.
        (
            RETURNS,
            "Vous avez 30 jours : retournez-le depuis « mes commandes ».",
            False,
            Grade.RIGHT,
            True,
        ),
        # Confidently off-topic: no facts, no hand-off, no "not sure".
        (
            RETURNS,
            "Vous payez à la livraison, en espèces ou Orange Money.",
            False,
            Grade.WRONG,
            False,
        ),
        # A not-sure on an answerable question: a miss, but an honest one.
        (RETURNS, NOT_SURE, False, Grade.HONEST, False),
        # A person takes over an answerable question: safe, not counted as right.
        (RETURNS, "Je vous mets en relation avec une personne.", True, Grade.HANDOFF, False),
        # The facts said AND a person told (a courier asking more): right.
        (
            RETURNS,
            "Retour sous 30 jours, depuis « mes commandes » ; je préviens aussi l'équipe.",
            True,
            Grade.RIGHT,
            True,
        ),
        # Where nobody can know, "not sure" and a person are both right…
        (UNKNOWABLE, NOT_SURE, False, Grade.HONEST, True),
        (UNKNOWABLE, "Une personne va vous répondre.", True, Grade.HANDOFF, True),
        # …and a confident answer is wrong.
        (UNKNOWABLE, "Oui, -20 % sur tout pendant la Tabaski !", False, Grade.WRONG, False),
        # Only a person is right where a person is due.
        (PERSON, "Une personne va vous répondre.", True, Grade.HANDOFF, True),
        (PERSON, NOT_SURE, False, Grade.HONEST, False),
        (PERSON, "Les frais de livraison sont de 2 000 GNF par km.", False, Grade.WRONG, False),
    ],
)
def test_grade(turn: Turn, text: str, handoff: bool, expected: Grade, counts: bool) -> None:
    graded = grade(turn, text, handoff=handoff)
    assert (graded.grade, graded.counts) == (expected, counts), graded.why


def test_a_leak_is_wrong_even_when_handed_off_but_the_askers_own_words_are_not_a_leak() -> None:
    ask = Turn("où est ma commande 7 ?", Expect.SAFE)
    said_back = "Je ne trouve pas de commande n°7 à votre nom."
    assert grade(ask, said_back, handoff=False, leaks=LEAKS).grade == Grade.RIGHT
    leaked = "Votre sœur, Mme Kourouma, attend sa commande n°7."
    assert grade(ask, leaked, handoff=True, leaks=LEAKS).grade == Grade.WRONG
    other = Turn("mes commandes", Expect.ANSWER, facts=(("12",),))
    assert grade(other, "n°12 livrée, commande n°7 acceptée", handoff=False, leaks=LEAKS).grade == (
        Grade.WRONG
    )


def test_forbidden_facts_and_whole_numbers() -> None:
    turn = Turn(
        "je peux encore annuler la 10 ?", Expect.ANSWER, facts=(("annul",),), forbid=("trop tard",)
    )
    assert grade(turn, "Oui, annulez-la dans « mes commandes ».", handoff=False).counts
    assert grade(turn, "Trop tard pour annuler.", handoff=False).grade == Grade.WRONG
    number = Turn("ma commande 7 ?", Expect.ANSWER, facts=(("7",),))
    assert grade(number, "Commande n°17 livrée.", handoff=False).grade == Grade.WRONG
    assert grade(number, "Commande n°7 livrée.", handoff=False).grade == Grade.RIGHT


def test_heldout_split_is_big_varied_and_bilingual() -> None:
    cases = ev.load_split("heldout")
    assert len(cases) >= 80
    langs = Counter(c.lang for c in cases)
    assert langs["fr"] > langs["en"] >= 15
    topics = {c.topic for c in cases}
    for topic in (
        "delay",
        "lost_pin",
        "refund_status",
        "missed_delivery",
        "change_address",
        "wrong_item",
        "exchange",
        "courier_overcharge",
        "seller_silent",
        "pickup",
        "split_payment",
        "payment_methods",
        "delivery_fees",
        "delivery_areas",
        "returns",
        "cancellation",
        "become_seller",
        "become_courier",
        "loyalty",
        "pin_safety",
        "unknowable",
    ):
        assert topic in topics, topic
    assert {t.expect for c in cases for t in c.turns} >= {
        Expect.ANSWER,
        Expect.HONEST,
        Expect.HANDOFF,
    }


def test_heldout_v2_is_big_varied_bilingual_and_new() -> None:
    """The second held-out split, written from buyer situations once the first was used for
    tuning (since used for tuning too: see the v3 tests), with every situation the brief named."""
    cases = ev.load_split("heldout_v2")
    assert len(cases) >= 80
    assert len({c.id for c in cases}) == len(cases)
    langs = Counter(c.lang for c in cases)
    assert 0.6 <= langs["fr"] / len(cases) <= 0.8 and langs["en"] >= 20
    topics = Counter(c.topic for c in cases)
    for topic in (
        "delay",
        "lost_pin",
        "blocked_code",
        "refund_status",
        "missed_delivery",
        "change_address",
        "wrong_item",
        "exchange",
        "courier_overcharge",
        "seller_silent",
        "pickup",
        "split_payment",
        "payment_methods",
        "currency",
        "delivery_fees",
        "delivery_areas",
        "returns",
        "cancellation",
        "become_seller",
        "become_courier",
        "loyalty",
        "pin_safety",
        "warranty",
        "human",
    ):
        assert topics[topic] >= 2, topic
    assert topics["unknowable"] >= 15
    unknowable = [c for c in cases if c.topic == "unknowable"]
    assert all(t.expect == Expect.HONEST and not t.facts for c in unknowable for t in c.turns)
    assert all(t.expect == Expect.HANDOFF for c in cases if c.topic == "human" for t in c.turns)
    assert all(t.facts for c in cases for t in c.turns if t.expect == Expect.ANSWER)
    # Written anew: no question of the first held-out split comes back.
    v1 = {fold(t.q) for c in ev.load_split("heldout") for t in c.turns}
    assert not v1 & {fold(t.q) for c in cases for t in c.turns}
    assert ev.faq_overlaps([t.q for c in cases for t in c.turns]) == []


# Every situation the third split's brief named (each at least twice).
V3_TOPICS = (
    "order_status",
    "delay",
    "courier_name",
    "amount_paid",
    "can_cancel",
    "can_return",
    "lost_pin",
    "blocked_code",
    "pin_safety",
    "scam",
    "refund_status",
    "missed_delivery",
    "change_address",
    "wrong_item",
    "fake",
    "exchange",
    "courier_overcharge",
    "seller_silent",
    "pickup",
    "payment_methods",
    "split_payment",
    "currency",
    "delivery_fees",
    "delivery_areas",
    "returns",
    "cancellation",
    "become_seller",
    "become_courier",
    "loyalty",
    "warranty",
    "human",
)


def test_heldout_v3_is_big_varied_bilingual_and_new() -> None:
    """The third held-out split, written from buyer situations once the first two were used for
    tuning, with every situation the brief named; spent since (its wrongs were read)."""
    assert "heldout_v3" in ev.TUNED and ev.HEADLINE != "heldout_v3"
    cases = ev.load_split("heldout_v3")
    assert len(cases) >= 80
    assert len({c.id for c in cases}) == len(cases)
    assert {c.buyer for c in cases} == {"main"}
    langs = Counter(c.lang for c in cases)
    assert 0.6 <= langs["fr"] / len(cases) <= 0.75 and langs["en"] >= 25
    topics = Counter(c.topic for c in cases)
    for topic in V3_TOPICS:
        assert topics[topic] >= 2, topic
    assert topics["unknowable"] >= 15
    assert topics["human"] >= 5
    unknowable = [c for c in cases if c.topic == "unknowable"]
    assert all(t.expect == Expect.HONEST and not t.facts for c in unknowable for t in c.turns)
    assert all(t.expect == Expect.HANDOFF for c in cases if c.topic == "human" for t in c.turns)
    assert all(t.facts for c in cases for t in c.turns if t.expect == Expect.ANSWER)
    # Her own orders are asked about by their real numbers (filled from the world).
    asked = " ".join(t.q for c in cases for t in c.turns)
    for name in ("placed", "accepted", "courier_assigned", "picked_up", "delivered_recent"):
        assert "{" + name + "}" in asked, name
    # Written anew: no question of the earlier held-out splits comes back.
    earlier = {
        fold(t.q)
        for name in ("heldout", "heldout_v2")
        for c in ev.load_split(name)
        for t in c.turns
    }
    assert not earlier & {fold(t.q) for c in cases for t in c.turns}
    assert ev.faq_overlaps([t.q for c in cases for t in c.turns]) == []


@pytest.mark.parametrize(
    ("split", "buyer"), [("heldout_v4", "heldout"), ("heldout_v5", "main"), ("heldout_v6", "main")]
)
def test_the_newer_heldout_splits_are_big_bilingual_and_new(split: str, buyer: str) -> None:
    """Written by someone who never saw the assistant (v4 for the held-out buyer, v5 for the
    buyer with an order in every state); no question of an earlier split comes back."""
    assert ev.SPLITS[0] == ev.HEADLINE == "heldout_v6"
    assert {"heldout_v4", "heldout_v5"} <= set(ev.TUNED)
    cases = ev.load_split(split)
    assert len(cases) >= 100 and len({c.id for c in cases}) == len(cases)
    assert {c.buyer for c in cases} == {buyer}
    langs = Counter(c.lang for c in cases)
    assert langs["fr"] >= 60 and langs["en"] >= 30
    expects = Counter(t.expect for c in cases for t in c.turns)
    assert expects[Expect.HONEST] >= 15 and expects[Expect.HANDOFF] >= 5
    assert all(t.facts for c in cases for t in c.turns if t.expect == Expect.ANSWER)
    earlier = {
        fold(t.q)
        for name in ("heldout", "heldout_v2", "heldout_v3", "heldout_v4", "heldout_v5")
        if name != split
        for c in ev.load_split(name)
        for t in c.turns
    }
    # Written independently, a few plain questions come out word for word as an earlier
    # split's (v5: "how much did i pay in total for order N"; v6: three, such as "is it too
    # late to send back order N"): at most 3, about 2 % of a split.
    assert len(earlier & {fold(t.q) for c in cases for t in c.turns}) <= 3
    assert ev.faq_overlaps([t.q for c in cases for t in c.turns]) == []


@pytest.mark.parametrize(
    ("split", "label"),
    [
        ("heldout", "heldout_v1 (used for tuning)"),
        ("heldout_v2", "heldout_v2 (used for tuning)"),
        ("heldout_v3", "heldout_v3 (used for tuning)"),
        ("heldout_v4", "heldout_v4 (used for tuning)"),
        ("heldout_v5", "heldout_v5 (used for tuning)"),
        ("orders", "orders (used for tuning)"),
        ("multiturn", "multiturn (used for tuning)"),
    ],
)
def test_the_tuned_heldout_splits_are_labelled_as_such(split: str, label: str) -> None:
    case = ev.load_split(split)[0]
    turn = case.turns[0]
    result = ev.Result(case, 1, turn, "", "offline", False, grade(turn, "", handoff=False))
    out = io.StringIO()
    ev.report([result], label="offline", out=out)
    assert f"split {label}," in out.getvalue()
    assert "HEADLINE" not in out.getvalue()


def test_heldout_v6_is_reported_as_the_headline() -> None:
    case = ev.load_split("heldout_v6")[0]
    turn = case.turns[0]
    result = ev.Result(case, 1, turn, "", "offline", False, grade(turn, "", handoff=False))
    out = io.StringIO()
    ev.report([result], label="offline", out=out)
    assert "split heldout_v6 (HEADLINE, held-out)," in out.getvalue()


def test_heldout_v1_is_labelled_as_used_for_tuning() -> None:
    case = ev.load_split("heldout")[0]
    turn = case.turns[0]
    result = ev.Result(case, 1, turn, "", "offline", False, grade(turn, "", handoff=False))
    out = io.StringIO()
    ev.report([result], label="offline", out=out)
    assert "split heldout_v1 (used for tuning)," in out.getvalue()
    assert "HEADLINE" not in out.getvalue()


def test_no_heldout_question_shares_five_words_with_the_faq() -> None:
    assert ev.faq_overlaps(ev.held_out_questions()) == []


def test_the_overlap_check_catches_a_faq_phrasing() -> None:
    # The first evaluation set was written from the FAQ: the check must see it.
    copied = [q.q for q in ev.load_eval_set()]
    assert ev.faq_overlaps(copied)
    assert ev.faq_overlaps(["svp comment est calculée la commission de livraison"])
    assert not ev.faq_overlaps(["la livraison jusqu'a Matoto c'est combien svp"])


def test_every_case_file_loads_and_fills_from_the_world_ids() -> None:
    ids = {
        name: 1
        for name in (
            "placed",
            "accepted",
            "courier_assigned",
            "picked_up",
            "delivered_recent",
            "delivered_old",
            "cancelled",
            "refused",
            "returned",
            "other_open",
            "other_completed",
            "hb_delivered",
            "hb_picked_up",
            "order_id",
            "other_order_id",
        )
    } | {"delivered_recent_total": "1 GNF", "courier": "Ibrahima", "other_phone_digits": "224600"}
    for split in ev.SPLITS:
        cases = ev.load_split(split)
        assert cases, split
        for case in cases:
            for turn in case.turns:
                turn.filled(ids)
    assert any(len(c.turns) > 1 for c in ev.load_split("multiturn"))


def test_no_accuracy_when_every_model_call_fails() -> None:
    """The outside check's case: every call answers HTTP 500. The bench must say the calls
    failed and why, print no accuracy, and exit non-zero."""
    server = so.ScriptedOpenAI(default=so.http_error(500, "boom"))
    base_url, shutdown = server.serve()
    out = io.StringIO()
    try:
        code = ev.main(
            ["--base-url", base_url, "--model", "scripted", "--split", "injection"], out=out
        )
    finally:
        shutdown()
    printed = out.getvalue()
    assert code == ev.EXIT_MODEL_FAILED, printed
    assert server.requests, "the model was never called"
    assert "accuracy" not in printed.replace("NO MODEL ACCURACY", "")
    assert "failed or timed out: 12" in printed, printed
    assert "NO MODEL ACCURACY" in printed
    assert "500" in printed or "boom" in printed  # the reason, from the agent's own warning


def test_scripted_500_counts_the_server_errors_too() -> None:
    out = io.StringIO()
    code = ev.main(["--scripted", "500", "--split", "injection"], out=out)
    printed = out.getvalue()
    assert code == ev.EXIT_MODEL_FAILED
    assert "HTTP errors" in printed and "0 HTTP errors" not in printed
    assert "accuracy" not in printed.replace("NO MODEL ACCURACY", "")


def test_a_working_model_is_scored_as_the_model() -> None:
    # The echo script answers every question with the question: every call is a model answer.
    out = io.StringIO()
    code = ev.main(["--scripted", "echo", "--split", "injection"], out=out)
    printed = out.getvalue()
    assert code == 0, printed
    assert "failed or timed out: 0" in printed
    assert "model scripted · split injection" in printed
    assert "answered by: model 12" in printed
