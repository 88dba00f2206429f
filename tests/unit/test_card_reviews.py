"""The product card quotes the latest review comments under the average (issue 19): the newest
non-empty ones, cut at 80 characters, with their stars, on WhatsApp and by SMS."""

from __future__ import annotations

from pathlib import Path

import pytest

from commerce.reviews import actions as reviews
from commerce.users.models import Channel
from tests.support import Db, make_buyer, make_product, make_seller
from tests.unit import flows
from tests.unit.buyer_chat import Chat


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def _reviewed(db: Db, seller: tuple[int, int], product_id: int, rating: int, comment: str) -> None:
    buyer = make_buyer(db)
    flows.add(db, buyer[0], product_id, 1)
    [placed] = flows.checkout(db, buyer[0], buyer[1])
    p = flows.wrap(placed, seller_id=seller[0])
    flows.deliver(db, p)
    with db.uow() as s:
        reviews.add_review(
            s, buyer_id=p.buyer_id, order_item_id=p.item_id, rating=rating, comment=comment
        )


def test_the_card_quotes_the_three_latest_comments(db: Db, media: Path) -> None:
    seller = make_seller(db)
    product_id = make_product(db, seller_id=seller[0], price=50_000, stock=20)
    _reviewed(db, seller, product_id, 2, "Trop petit, la taille ne correspond pas")
    _reviewed(db, seller, product_id, 5, "")  # stars only: no quote
    _reviewed(db, seller, product_id, 4, "Bonne qualité " * 10)  # cut at 80
    _reviewed(db, seller, product_id, 5, "Livré vite, merci")
    _reviewed(db, seller, product_id, 3, "   ")  # blank: no quote
    _reviewed(db, seller, product_id, 1, "Couleur différente de la photo")
    chat = Chat(db, media)
    chat.say("bonjour")
    chat.press(f"prod:{product_id}")
    card = chat.menu()
    assert card is not None
    text = card.text
    assert "Avis récents" in text
    assert "★☆☆☆☆ « Couleur différente de la photo »" in text
    assert "★★★★★ « Livré vite, merci »" in text
    assert "★★★★☆ « Bonne qualité" in text and "…" in text
    assert "Trop petit" not in text  # the fourth comment: only the three newest
    quoted = [line for line in text.splitlines() if line.startswith(("★", "☆"))]
    assert len(quoted) == 3 and all(len(q) <= 80 + 10 for q in quoted)
    sms = Chat(db, media, channel=Channel.SMS)
    sms.say("bonjour")
    sms.press(f"prod:{product_id}")
    said = sms.texts()
    assert "1/5 « Couleur différente de la photo »" in said and "5/5 « Livré vite" in said
    assert "Bonne qualité" not in said  # two by SMS


def test_no_comment_no_quote_block(db: Db, media: Path) -> None:
    seller = make_seller(db)
    product_id = make_product(db, seller_id=seller[0], price=50_000, stock=20)
    _reviewed(db, seller, product_id, 4, "")
    chat = Chat(db, media)
    chat.say("bonjour")
    chat.press(f"prod:{product_id}")
    card = chat.menu()
    assert card is not None and "Avis récents" not in card.text and "4" in card.text
