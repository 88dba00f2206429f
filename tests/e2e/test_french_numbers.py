"""French numbers and plurals (issue 17): "5,0/5" not "5.0/5", "1 article" not "1 article(s)",
and amounts rounded one way (half up: 1 250 000 → "1,3M" as 1 750 000 → "1,8M").

A buyer on WhatsApp, signed Twilio forms in, what the emulator received read back.
"""

from __future__ import annotations

import re

import pytest

from commerce.reviews import actions as reviews
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import say
from tests.support import make_product, make_seller
from tests.unit import flows
from tests.webhooks import post_telegram, telegram_callback


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


def _numbered(text: str, label: str) -> str:
    """The number of the numbered line that reads `label`."""
    found = re.search(rf"^(\d+)\. {re.escape(label)}", text, re.MULTILINE)
    assert found, f"no {label!r} in {text!r}"
    return found.group(1)


def test_a_rating_is_written_the_french_way_and_one_item_is_singular(boutik: Boutik) -> None:
    db = boutik.db
    seller = make_seller(db)
    rated = flows.place(db, quantity=1, seller=seller)
    flows.deliver(db, rated)
    with db.uow() as s:
        reviews.add_review(
            s, buyer_id=rated.buyer_id, order_item_id=rated.item_id, rating=5, comment="Top"
        )
    phone = "+224620017001"
    say(boutik, phone, "bonjour")
    listing = "\n".join(say(boutik, phone, "samsung"))
    card = "\n".join(say(boutik, phone, _numbered(listing, "Samsung")))  # brand first
    assert "5,0/5" in card and "5.0/5" not in card
    asked = "\n".join(say(boutik, phone, _numbered(card, "Ajouter au panier")))
    assert "Combien" in asked
    added = "\n".join(say(boutik, phone, "1"))
    assert "1 article," in added and "article(s)" not in added


def test_two_articles_are_plural(boutik: Boutik) -> None:
    seller, _shop = make_seller(boutik.db)
    make_product(boutik.db, seller_id=seller, price=200_000)
    phone = "+224620017002"
    say(boutik, phone, "bonjour")
    listing = "\n".join(say(boutik, phone, "samsung"))
    card = "\n".join(say(boutik, phone, _numbered(listing, "Samsung")))  # brand first
    say(boutik, phone, _numbered(card, "Ajouter au panier"))
    added = "\n".join(say(boutik, phone, "2"))
    assert "2 articles," in added


def test_amounts_in_a_list_are_rounded_half_up_alike(boutik: Boutik) -> None:
    seller, _shop = make_seller(boutik.db)
    make_product(boutik.db, seller_id=seller, name="Téléphone Samsung A15", price=1_250_000)
    make_product(boutik.db, seller_id=seller, name="Téléphone Samsung A25", price=1_750_000)
    phone = "+224620017003"
    say(boutik, phone, "bonjour")
    listing = "\n".join(say(boutik, phone, "samsung"))
    assert "1,3M" in listing and "1,8M" in listing and "1,2M" not in listing


def test_the_sellers_delivery_quote_writes_kilometres_the_french_way(boutik: Boutik) -> None:
    db = boutik.db
    seller = make_seller(db, prefecture="Ratoma", quartier="Kipé")
    placed = flows.place(db, quantity=1, seller=seller)
    flows.accept(db, placed)
    with db.session() as s:
        chat = s.get(User, placed.seller_id).telegram_id  # type: ignore[union-attr]
    boutik.send_queued()  # the new-order alert and the acceptance's messages go first
    before = len(boutik.store.telegram_calls(method="sendMessage", chat_id=chat))
    update = telegram_callback(chat, f"d:p:{placed.order_id}")
    assert post_telegram(boutik.client, update).status_code == 200
    boutik.settle()
    [quote] = [
        str(c.params.get("text", ""))
        for c in boutik.store.telegram_calls(method="sendMessage", chat_id=chat)[before:]
        if "km" in str(c.params.get("text", ""))
    ]
    km = re.search(r"Course de (\S+) km", quote)
    assert km and re.fullmatch(r"\d+,\d", km.group(1)), quote
