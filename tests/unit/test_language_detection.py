"""bot.language.detect on the short messages buyers write first (issue 17): English is
recognised, and no French message is ever taken for English (undecided is allowed: the default
stays French)."""

from __future__ import annotations

import pytest

from bot.language import detect

ENGLISH = [
    "hello",
    "hi",
    "Hi! I'd like to buy earrings",
    "hey there",
    "good morning",
    "good evening",
    "thanks",
    "thank you",
    "How long do I have to return something?",
    "do you deliver to Kaloum?",
    "do u deliver to kipe",
    "I want a phone",
    "where is my order",
    "can I pay with orange money",
    "how much is the samsung",
    "I'm looking for black shoes",
    "is delivery free",
    "my order has not arrived",
    "I didn't receive my package",
    "what time do you open",
    "can someone help me",
    "do you have iphone 13",
    "I want to return the shoes, they are too small",
    "what's the price of the bag",
    "is the iphone new or used",
    "price?",
    "any discount?",
]
FRENCH = [
    "bonjour",
    "salut",
    "merci",
    "bonsoir",
    "slt",
    "bjr",
    "coucou",
    "mrc",
    "je veux un téléphone",
    "où est ma commande",
    "est-ce que vous livrez à Kaloum ?",
    "je cherche des chaussures noires",
    "combien coûte le samsung",
    "je peux payer avec orange money ?",
    "la livraison est gratuite ?",
    "ma commande n'est pas arrivée",
    "je voudrais un frigo",
    "c'est combien",
    "vous êtes ouvert quand ?",
    "aidez moi svp",
    "j'ai un problème avec ma commande",
    "Combien de temps pour retourner un article ?",
    "ok merci",
    "Slt cv",
    "bonne nuit",
    "l'iphone est neuf ou occasion",
]


@pytest.mark.parametrize("text", ENGLISH)
def test_english_is_recognised(text: str) -> None:
    assert detect(text) == "en"


@pytest.mark.parametrize("text", FRENCH)
def test_french_is_french(text: str) -> None:
    assert detect(text) == "fr"


@pytest.mark.parametrize("text", ["samsung a15", "ok", "👍", "", "1", "iphone 13 pro max", "menu"])
def test_words_of_both_languages_or_none_decide_nothing(text: str) -> None:
    assert detect(text) is None
