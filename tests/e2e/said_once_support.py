"""Helpers of the issue-17 e2e tests (said once, language): a buyer's WhatsApp turns, signed as
Twilio signs them, and the world's own queued notifications sent between them."""

from __future__ import annotations

from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.support import Db, make_courier
from tests.unit import flows
from tests.webhooks import post_twilio, whatsapp_form

WA = "/webhooks/twilio/whatsapp"


def user(db: Db, user_id: int) -> User:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None
        return user


def say(boutik: Boutik, phone: str, body: str) -> list[str]:
    """The buyer writes on WhatsApp; the texts she got back."""
    boutik.send_queued()
    before = len(boutik.store.twilio_messages(to=f"whatsapp:{phone}"))
    response = post_twilio(boutik.client, WA, whatsapp_form(phone, body))
    assert response.status_code == 200
    boutik.settle()
    return [m.body for m in boutik.store.twilio_messages(to=f"whatsapp:{phone}")[before:]]


def at_the_door(boutik: Boutik) -> tuple[flows.Placed, int, str]:
    """An order the courier has proved with the PIN: the buyer is asked to confirm the cash."""
    db = boutik.db
    placed = flows.place(db, quantity=1)
    courier = make_courier(db)
    flows.to_picked_up(db, placed, courier)
    assert flows.prove_pin(db, courier, placed) is False
    phone = user(db, placed.buyer_id).phone
    assert phone
    boutik.send_queued()
    return placed, courier, phone
