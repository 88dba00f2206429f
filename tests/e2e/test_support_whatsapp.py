"""The support assistant reached from WhatsApp: questions answered, searches stay searches."""

from __future__ import annotations

from commerce.messaging.models import OutboxStatus
from tests.e2e.conftest import Boutik
from tests.support import make_product, make_seller, phone
from tests.timing import WAIT_S
from tests.webhooks import post_twilio, whatsapp_form

WA = "/webhooks/twilio/whatsapp"


def _bodies(boutik: Boutik, number: str) -> list[str]:
    return [m.body for m in boutik.store.twilio_messages(to=f"whatsapp:{number}")]


def _say(boutik: Boutik, number: str, text: str) -> list[str]:
    before = len(_bodies(boutik, number))
    assert post_twilio(boutik.client, WA, whatsapp_form(number, text)).status_code == 200
    boutik.store.wait_for(lambda: len(_bodies(boutik, number)) > before, timeout=WAIT_S)
    # Not pending *nor sending*: a row being sent may not be at the emulator yet.
    boutik.store.wait_for(
        lambda: all(
            r.status not in (OutboxStatus.PENDING, OutboxStatus.SENDING)
            for r in boutik.outbox(kind="reply")
        ),
        timeout=WAIT_S,
    )
    return _bodies(boutik, number)[before:]


def test_a_question_gets_the_faq_answer_offline_and_a_search_stays_a_search(
    boutik: Boutik,
) -> None:
    seller_id, _ = make_seller(boutik.db)
    make_product(boutik.db, seller_id=seller_id, name="Chaussures Nike noires", colour="noir")
    number = phone()
    _say(boutik, number, "bonjour")
    answer = " ".join(_say(boutik, number, "Est-ce que je peux payer avec Orange Money ?"))
    assert "Orange Money" in answer
    assert "livraison" in answer.lower()
    found = " ".join(_say(boutik, number, "chaussures noires"))
    assert "Chaussures Nik" in found and "1 sur 1" in found
