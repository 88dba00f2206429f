"""Nothing said twice (issue 17): "OUI 18" closing the order asks for the stars once.

It used to bring the turn's own rating menu and the core's rating-prompt notification. Signed
Twilio forms in, what the emulator received read back.
"""

from __future__ import annotations

import pytest

from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import at_the_door, say, user
from tests.support import make_courier
from tests.unit import flows


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


def _rating_prompts(texts: list[str]) -> list[str]:
    return [t for t in texts if "de 1 à 5" in t]


def test_oui_with_the_order_number_asks_for_the_stars_once(boutik: Boutik) -> None:
    placed, _courier, phone = at_the_door(boutik)
    answer = say(boutik, phone, f"OUI {placed.order_id}")
    assert flows.order(boutik.db, placed.order_id).status.value == "delivered"
    [prompt] = _rating_prompts(answer)
    assert "livrée et payée" in prompt and "5 - Excellent" in prompt


def test_the_courier_closing_it_still_asks_the_buyer_for_the_stars_once(boutik: Boutik) -> None:
    """Cash confirmed first, the PIN second: the buyer is not in a turn, the notification asks
    (a guard for the fix above: the prompt must not vanish with its duplicate)."""
    db = boutik.db
    placed = flows.place(db, quantity=1)
    courier = make_courier(db)
    flows.to_picked_up(db, placed, courier)
    phone = user(db, placed.buyer_id).phone
    assert phone
    say(boutik, phone, "bonjour")  # her WhatsApp window is open
    assert flows.confirm_cash(db, placed) is False
    before = len(boutik.store.twilio_messages(to=f"whatsapp:{phone}"))
    assert flows.prove_pin(db, courier, placed) is True
    boutik.send_queued()
    texts = [m.body for m in boutik.store.twilio_messages(to=f"whatsapp:{phone}")[before:]]
    assert len(_rating_prompts(texts)) == 1
