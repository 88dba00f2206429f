"""The review stars are a step like any other (issue 17): commands first, other words a search
and the stars asked again, a typed number or number word the stars.

"OUI 18" closing her order asks for the stars in that turn; she used to be left at the menu,
so "samsung" was a search and the stars were never asked again. Signed Twilio forms in, what
the emulator received read back.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select

from commerce.orders.models import OrderItem
from commerce.reviews.models import Review
from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import at_the_door, say, user
from tests.e2e.test_buyer_journeys import _state
from tests.support import make_courier
from tests.unit import flows


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


def _asks_stars(text: str, order_id: int) -> bool:
    return f"Notez la commande {order_id} de 1 à 5" in text and "5 - Excellent" in text


def _ratings(boutik: Boutik, order_id: int) -> list[int]:
    with boutik.db.session() as s:
        return list(
            s.scalars(
                select(Review.rating)
                .join(OrderItem, OrderItem.id == Review.order_item_id)
                .where(OrderItem.order_id == order_id)
            )
        )


def _stars_asked(boutik: Boutik) -> tuple[int, str]:
    placed, _courier, phone = at_the_door(boutik)
    answer = say(boutik, phone, f"OUI {placed.order_id}")
    assert answer and _asks_stars(answer[-1], placed.order_id), answer
    assert _state(boutik, "whatsapp", phone) == "rating"
    return placed.order_id, phone


def test_words_at_the_stars_are_a_search_then_the_stars_then_cinq_counts(boutik: Boutik) -> None:
    order_id, phone = _stars_asked(boutik)

    aside = say(boutik, phone, "samsung")
    assert any("Samsung Galaxy" in t for t in aside[:-1]), aside
    assert _asks_stars(aside[-1], order_id), aside
    assert _state(boutik, "whatsapp", phone) == "rating"
    assert _ratings(boutik, order_id) == []

    rated = say(boutik, phone, "cinq")
    assert _ratings(boutik, order_id) == [5]
    assert any("Merci pour les 5/5 ! Un commentaire ?" in t for t in rated), rated
    assert _state(boutik, "whatsapp", phone) == "review_comment"


def test_menu_at_the_stars_goes_to_the_menu(boutik: Boutik) -> None:
    order_id, phone = _stars_asked(boutik)
    answer = say(boutik, phone, "MENU")
    assert any("Que voulez-vous faire" in t for t in answer), answer
    assert not any(_asks_stars(t, order_id) for t in answer), answer
    assert _state(boutik, "whatsapp", phone) == "menu"
    assert _ratings(boutik, order_id) == []


def test_a_number_right_after_the_prompt_notification_is_its_stars(boutik: Boutik) -> None:
    """The courier's PIN closing it: the prompt comes as a notification, outside her turn, and
    leaves her state alone; its stars are the last menu, so a number typed next answers them."""
    db = boutik.db
    placed = flows.place(db, quantity=1)
    courier = make_courier(db)
    flows.to_picked_up(db, placed, courier)
    phone = user(db, placed.buyer_id).phone
    assert phone
    say(boutik, phone, "bonjour")  # her WhatsApp window is open
    assert flows.confirm_cash(db, placed) is False
    assert flows.prove_pin(db, courier, placed) is True
    boutik.send_queued()
    rated = say(boutik, phone, "4")
    assert _ratings(boutik, placed.order_id) == [4]
    assert any("Merci pour les 4/5" in t for t in rated), rated
