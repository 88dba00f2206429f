""" "Reply EN for English." only where it helps (issue 17): to a newcomer who did not write in
English, as the greeting's own last line set apart from the French, never inside an answer,
and not to someone Boutik already knows.

Signed Twilio forms in, what the emulator received read back.
"""

from __future__ import annotations

from sqlalchemy import select

from commerce.users.models import Language, User
from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import say
from tests.support import phone
from tests.webhooks import post_twilio, sms_form

SMS = "/webhooks/twilio/sms"
OFFER_EN = "Reply EN for English."


def test_reply_en_is_the_newcomers_greetings_own_last_line_and_never_inside_an_answer(
    boutik: Boutik,
) -> None:
    number = phone()
    replies = say(boutik, number, "Est-ce que je peux payer avec Orange Money ?")
    greeting, *answers = replies
    assert answers, replies
    assert greeting.startswith("Bonjour Mariama")
    assert greeting.splitlines()[-1] == OFFER_EN
    assert greeting.splitlines()[-2] == ""  # set apart from the French greeting
    assert all(OFFER_EN not in answer for answer in answers)
    # Said once: later greetings and menus no longer carry it.
    assert all(OFFER_EN not in body for body in say(boutik, number, "bonjour"))


def test_someone_already_known_is_greeted_without_reply_en(boutik: Boutik) -> None:
    """A buyer who has talked to Boutik by SMS opens WhatsApp: the buyer flow greets her there,
    but she is no newcomer, so neither the English offer nor a language change."""
    number = phone()
    response = post_twilio(boutik.client, SMS, sms_form(number, "bonjour"))
    assert response.status_code == 200
    boutik.settle()
    with boutik.db.session() as s:
        user = s.scalar(select(User).where(User.phone == number))
        assert user is not None and user.language == Language.FR
    replies = say(boutik, number, "hello")
    assert replies and replies[0].startswith("Bonjour Mariama"), replies
    assert all(OFFER_EN not in body for body in replies)
    with boutik.db.session() as s:
        assert s.scalar(select(User.language).where(User.phone == number)) == Language.FR
