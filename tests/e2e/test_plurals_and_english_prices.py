"""The last hand-made plurals go (issue 17): the seller's order list no longer says "Les 1
premières sur 1", the return-request alert says "1 article" / "2 articles" instead of
"article(s)", and a reader of English sees list prices written the English way ("1.8M").

Sellers on Telegram (JSON updates with the secret token), buyers on WhatsApp (signed Twilio
forms); what the emulator received read back.
"""

from __future__ import annotations

import pytest

from commerce.returns import actions as returns
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.said_once_support import say
from tests.support import make_product, make_seller, phone
from tests.unit import flows
from tests.webhooks import post_telegram, telegram_message


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


def _chat(boutik: Boutik, user_id: int) -> int:
    with boutik.db.session() as s:
        chat = s.get(User, user_id).telegram_id  # type: ignore[union-attr]
    assert chat is not None
    return chat


def _telegram_texts(boutik: Boutik, chat: int) -> list[str]:
    return [
        str(c.params.get("text", ""))
        for c in boutik.store.telegram_calls(method="sendMessage", chat_id=chat)
    ]


def _seller_says(boutik: Boutik, chat: int, text: str) -> str:
    boutik.send_queued()
    before = len(_telegram_texts(boutik, chat))
    assert post_telegram(boutik.client, telegram_message(chat, text)).status_code == 200
    boutik.settle()
    return "\n".join(_telegram_texts(boutik, chat)[before:])


def test_one_open_order_is_listed_without_les_1_premieres_sur_1(boutik: Boutik) -> None:
    placed = flows.place(boutik.db, quantity=1)
    listing = _seller_says(boutik, _chat(boutik, placed.seller_id), "/commandes")
    assert "Commandes en cours" in listing, listing
    assert "premières" not in listing and "première sur" not in listing, listing


def test_eleven_open_orders_show_the_first_ten_in_the_plural(boutik: Boutik) -> None:
    seller = make_seller(boutik.db)
    placed = [flows.place(boutik.db, quantity=1, seller=seller) for _ in range(11)]
    listing = _seller_says(boutik, _chat(boutik, placed[0].seller_id), "/commandes")
    assert "Les 10 premières sur 11 :" in listing, listing


@pytest.mark.parametrize(("quantity", "said"), [(1, "(1 article)"), (2, "(2 articles)")])
def test_the_return_request_alert_counts_articles_the_french_way(
    boutik: Boutik, quantity: int, said: str
) -> None:
    db = boutik.db
    placed = flows.place(db, quantity=quantity)
    flows.deliver(db, placed)
    boutik.send_queued()
    chat = _chat(boutik, placed.seller_id)
    before = len(_telegram_texts(boutik, chat))
    with db.uow() as s:
        returns.request_return(
            s,
            buyer_id=placed.buyer_id,
            order_id=placed.order_id,
            items=[(placed.item_id, quantity)],
            reason="Taille trop petite",
        )
    boutik.send_queued()
    [alert] = [t for t in _telegram_texts(boutik, chat)[before:] if "Demande de retour" in t]
    assert said in alert and "article(s)" not in alert, alert


def test_a_reader_of_english_sees_list_prices_the_english_way(boutik: Boutik) -> None:
    seller, _shop = make_seller(boutik.db)
    make_product(boutik.db, seller_id=seller, name="Téléphone Samsung A25", price=1_750_000)
    number = phone()
    assert say(boutik, number, "hello")[0].startswith("Hello")  # a new number, in English
    listing = "\n".join(say(boutik, number, "samsung"))
    assert "1.8M" in listing and "1,8M" not in listing, listing
    french = phone()
    say(boutik, french, "bonjour")
    assert "1,8M" in "\n".join(say(boutik, french, "samsung"))
