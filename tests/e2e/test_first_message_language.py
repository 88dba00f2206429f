"""A new number's first message chooses the language (issue 17): written in English, it is
answered in English, with one line offering French; written in French, or later, it changes
nothing.

Signed Twilio forms in, what the emulator received read back, the user's language read in the
database after each message.
"""

from __future__ import annotations

from sqlalchemy import select

from commerce.users.models import Language, User
from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import say
from tests.support import phone

OFFER_EN = "Reply EN for English."


def _language(boutik: Boutik, number: str) -> Language:
    with boutik.db.session() as s:
        found = s.scalar(select(User.language).where(User.phone == number))
    assert found is not None
    return found


def test_an_english_first_message_gets_an_english_answer_and_a_line_offering_french(
    boutik: Boutik,
) -> None:
    number = phone()
    replies = say(boutik, number, "How long do I have to return something?")
    said = "\n".join(replies)
    assert "pas de réponse sûre" not in said and "Bonjour" not in said
    assert replies[0].startswith("Hello Mariama! Welcome to Boutik")
    assert "return" in replies[-1].lower() and "days" in replies[-1].lower(), replies[-1]
    # One line offers to keep English (and says how to get French), no "Reply EN" to a reader
    # of English.
    assert [line for line in said.splitlines() if "keep to English" in line] == [
        "You wrote in English, so I will keep to English. Répondez FR pour le français."
    ]
    assert OFFER_EN not in said
    assert _language(boutik, number) == Language.EN
    # English stays until they say FR.
    assert "What would you like to do?" in "\n".join(say(boutik, number, "menu"))
    assert _language(boutik, number) == Language.EN
    assert "en français" in "\n".join(say(boutik, number, "FR"))
    assert _language(boutik, number) == Language.FR


def test_short_english_greetings_from_new_numbers_are_answered_in_english(
    boutik: Boutik,
) -> None:
    for first in ("hello", "hi", "do you deliver to Kaloum?"):
        number = phone()
        said = "\n".join(say(boutik, number, first))
        assert said.startswith("Hello Mariama!"), (first, said)
        assert _language(boutik, number) == Language.EN, first


def test_a_french_first_message_stays_french_and_later_english_never_flips_it(
    boutik: Boutik,
) -> None:
    for first in ("bonjour", "salut", "merci", "je veux un téléphone"):
        number = phone()
        replies = say(boutik, number, first)
        assert replies[0].startswith("Bonjour Mariama"), (first, replies)
        assert _language(boutik, number) == Language.FR, first
    # Only the first message chooses: the last number's English question now is answered in
    # French, and her language does not change.
    later = "\n".join(say(boutik, number, "How long do I have to return something?"))
    assert "Hello" not in later and OFFER_EN not in later
    assert _language(boutik, number) == Language.FR
