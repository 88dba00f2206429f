"""What the support model's words become before a buyer reads them: phone numbers hidden (and
nothing else), a plain refusal treated as the hand-off it is, the question's own language."""

from __future__ import annotations

import pytest

from bot.support.agent import is_refusal
from bot.support.scoped import mask_phones
from workers.assistant import question_lang

# (text, what the buyer or the model may read) — phones hidden, everything else intact.
MASKED = [
    ("+224622123456", "+********3456"),
    ("+224 622 12 34 56", "+********3456"),
    ("+224-622-12-34-56", "+********3456"),
    ("00224 622 12 34 56", "**********3456"),
    ("00224622123456", "**********3456"),
    ("224622123456", "********3456"),
    ("224 622 12 34 56", "********3456"),
    ("622 12 34 56", "*****3456"),
    ("622123456", "*****3456"),
    ("622.12.34.56", "*****3456"),
    ("appelez le 664-00-11-22 svp", "appelez le *****1122 svp"),
    ("mon numéro: 655 123 456.", "mon numéro: *****3456."),
    ("+33 6 12 34 56 78", "+*******5678"),
    ("+1 (555) 123-4567", "+*******4567"),
    ("+44 20 7946 0958", "+********0958"),
    ("portail bleu, tel 622123456 ou 664 00 11 22", "portail bleu, tel *****3456 ou *****1122"),
    ("Le 2026-11-20 (+224622123456)", "Le 2026-11-20 (+********3456)"),
]
KEPT = [
    "livrée le 2026-11-20 ; total 12 500 000 GNF",
    "livrée le 2026-11-20T10:15:00",
    "le 20/11/2026 à 14h30",
    "20261120",
    "total 12 500 000 GNF",
    "total 12500000 GNF",
    "622 500 000 GNF",
    "650000 GNF",
    "1 000 000 000 GNF",
    "commande n°1042",
    "commande 1042",
    "#1042",
    "order 1042 total 650000 GNF",
    "votre PIN est 4821",
    "code 482193",
    "1 622 500 000",
    "taille 42, 3 articles, 2 jours",
    "",
]


@pytest.mark.parametrize(("text", "masked"), MASKED)
def test_phone_numbers_are_hidden_but_their_last_four_digits(text: str, masked: str) -> None:
    assert mask_phones(text) == masked


@pytest.mark.parametrize("text", KEPT)
def test_dates_amounts_order_numbers_and_pins_are_never_masked(text: str) -> None:
    assert mask_phones(text) == text


def test_the_table_covers_both_ways() -> None:
    assert len(MASKED) + len(KEPT) >= 25


REFUSALS = [
    "Désolé, je ne peux pas vous aider avec cela.",
    "Je ne suis pas en mesure de répondre à cette question.",
    "Désolé, je ne sais pas.",
    "JE NE PEUX PAS répondre.",
    "Je n'ai pas accès à cette information.",
    "Merci de contactez le support.",
    "I can't help with that.",
    "Sorry, I cannot help with this request.",
    "I'm unable to answer that.",
    "I am unable to look this up.",
    "I don't know.",
    "Please contact support.",
]
ANSWERS = [
    "Votre commande n'est pas encore livrée : elle est en route.",
    "Ce n'est pas possible de payer par carte ; le paiement se fait à la livraison.",
    "Il n'y a pas de frais de retour pendant 7 jours.",
    "Je ne peux pas annuler pour vous, mais vous pouvez taper ANNULER 1042.",
    "Your order is not delivered yet: it is on its way.",
    "I can't cancel it for you, but you can type CANCEL 1042.",
    "Livrée le 2026-11-20 ; total 12 500 000 GNF.",
    "Bien sûr ! Vous pouvez payer avec Orange Money.",
]


@pytest.mark.parametrize("reply", REFUSALS)
def test_a_refusal_in_plain_words_is_a_refusal(reply: str) -> None:
    assert is_refusal(reply)


@pytest.mark.parametrize("reply", ANSWERS)
def test_an_answer_with_pas_or_a_limit_and_a_way_out_is_an_answer(reply: str) -> None:
    assert not is_refusal(reply)


@pytest.mark.parametrize(
    ("pending", "stored", "lang"),
    [
        ({"text": "How long do I have to return it?", "lang": "en"}, "fr", "en"),
        ({"text": "How long do I have to return it?"}, "fr", "en"),  # detected
        ({"text": "Où est ma commande ?"}, "en", "fr"),
        ({"text": "samsung a15"}, "en", "en"),  # undecided: the stored language
        ({"text": "where is my order", "lang": "fr"}, "en", "fr"),  # the turn's word counts
    ],
)
def test_the_question_language_wins_over_the_stored_one(
    pending: dict[str, str], stored: str, lang: str
) -> None:
    assert question_lang(pending, stored) == lang
