"""Lists people can read (issue 17): product rows are told apart within their 24 characters
(20 on buttons) by the words that differ — brand, model, size — with a short price beside them
on every channel, and a WhatsApp list picker describes each row with its price and seller.

"telefone samsng" gave "Téléphone Sams… 1,8M" and "Téléphone Sams… 1,1M"; "sac cuir" gave
"Sac à main en… 390k" and "…250k". Signed webhooks throughout: Twilio WhatsApp (numbered text
here, and a described list picker when its template exists), SMS, Telegram and Meta.
"""

from __future__ import annotations

import json
import re
from typing import Any

from channels_adapters.twilio_templates import LIST_PICKER, list_picker_definition
from commerce.catalog.models import Shop
from tests.e2e.conftest import Boutik
from tests.e2e.test_buyer_journeys import Phone, _fast_senders
from tests.e2e.test_meta_whatsapp import MetaPhone, meta
from tests.support import Db, make_category, make_product, make_seller, phone
from tests.webhooks import meta_text, post_telegram, telegram_callback, telegram_message

__all__ = ["_fast_senders", "meta"]  # the fixtures these conversations use

PHONES = (("Téléphone Samsung Galaxy A15", 1_750_000), ("Téléphone Samsung Galaxy A05s", 1_150_000))
BAGS = (("Sac à main en cuir", 390_000), ("Sac à main en cuir tressé", 250_000))
# Said apart by what differs: the model, the weave.
TELLS = {"Téléphone Samsung Galaxy A15": "A15", "Téléphone Samsung Galaxy A05s": "A05s"}
TELLS |= {"Sac à main en cuir": "cuir", "Sac à main en cuir tressé": "tressé"}
TAGS = {1_750_000: "1,8M", 1_150_000: "1,2M", 390_000: "390k", 250_000: "250k", 1_950_000: "2M"}


def _shop_name(db: Db, shop_id: int) -> str:
    with db.session() as s:
        shop = s.get(Shop, shop_id)
        assert shop is not None
        return shop.name


def _catalogue(db: Db, *extra: tuple[str, int]) -> str:
    """The twin phones and twin bags (and `extra`) from one shop; its name."""
    seller, shop_id = make_seller(db)
    bags = make_category(db, "mode-femme")
    for name, price in PHONES + extra:
        make_product(db, seller_id=seller, name=name, price=price)
    for name, price in BAGS:
        make_product(db, seller_id=seller, name=name, price=price, category_id=bags, brand="")
    return _shop_name(db, shop_id)


def _numbered(text: str) -> list[str]:
    """The labels of a numbered menu ("1. Samsung… A15 1,8M")."""
    return [m.group(1) for m in re.finditer(r"^\d+\. (.+)$", text, re.MULTILINE)]


def _readable(labels: list[str], products: tuple[tuple[str, int], ...], limit: int) -> None:
    """Each product's row names what tells it apart and its price, within `limit`, and no
    two rows read alike."""
    assert len(set(labels)) == len(labels), labels
    assert all(len(label) <= limit for label in labels), labels
    for name, price in products:
        rows = [label for label in labels if TELLS[name] in label.split("…")[-1].split()]
        rows = rows or [label for label in labels if TELLS[name] in label]
        assert any(TAGS[price] in label for label in rows), (name, labels)


def test_twins_read_apart_on_whatsapp_sms_and_telegram(boutik: Boutik) -> None:
    db = boutik.db
    _catalogue(db)
    for handset in (Phone(boutik, phone()), Phone(boutik, phone(), sms=True)):
        handset.text("bonjour")
        found = _numbered(handset.text("telefone samsng"))
        # Two products and "Menu": three buttons on WhatsApp, 20 characters each.
        _readable(found[:2], PHONES, 20)
        bags = _numbered(handset.text("sac cuir"))
        _readable(bags[:2], BAGS, 20)

    chat = 4_300_017

    def buttons(update: dict[str, Any]) -> dict[str, str]:
        """callback_data → label of the last inline keyboard the update brought."""
        before = len(boutik.store.telegram_calls(chat_id=chat))
        assert post_telegram(boutik.client, update).status_code == 200
        boutik.settle()
        sent = boutik.store.telegram_calls(chat_id=chat)[before:]
        markup = sent[-1].params.get("reply_markup") or {}
        markup = json.loads(markup) if isinstance(markup, str) else markup
        return {
            b["callback_data"]: b["text"] for row in markup.get("inline_keyboard", []) for b in row
        }

    if "w:buy" in buttons(telegram_message(chat, "bonjour")):  # the seller flow's welcome
        buttons(telegram_callback(chat, "w:buy"))
    found = buttons(telegram_message(chat, "telefone samsng"))
    _readable([label for data, label in found.items() if data.startswith("prod:")], PHONES, 20)


def test_a_whatsapp_list_describes_each_row_with_its_price_and_seller(meta: Boutik) -> None:
    db = meta.db
    shop = _catalogue(db, ("Téléphone Samsung Galaxy A15 128 Go", 1_950_000))
    wa = MetaPhone(meta, phone())
    wa.send(meta_text(wa.number, "Bonjour"))
    [listed] = wa.send(meta_text(wa.number, "samsung"))
    interactive = listed.payload["interactive"]
    assert interactive["type"] == "list"
    rows = [r for s in interactive["action"]["sections"] for r in s["rows"]]
    products = [r for r in rows if r["id"].startswith("prod:")]
    assert len(products) == 3
    titles = [r["title"] for r in products]
    assert len(set(titles)) == 3 and all(len(t) <= 24 for t in titles), titles
    # The A15 and the A15 128 Go are told apart too, by the words after the model.
    assert any("128" in t for t in titles) and sum("A15" in t for t in titles) >= 1, titles
    for row in products:
        assert shop in row["description"] and "GNF" in row["description"], row


def test_a_twilio_list_picker_shows_the_descriptions_when_its_template_exists(
    boutik: Boutik,
) -> None:
    db = boutik.db
    shop = _catalogue(db, ("Téléphone Samsung Galaxy A15 128 Go", 1_950_000))
    # A list of 3 products and "Menu": both list templates of that shape exist.
    plain, described = "HX" + "1" * 32, "HX" + "2" * 32
    boutik.store.register_content(plain, LIST_PICKER, list_picker_definition(4, described=False))
    boutik.store.register_content(described, LIST_PICKER, list_picker_definition(4, described=True))
    boutik.rt.config = boutik.rt.config.replace(
        twilio__content_templates={"list_picker_4": plain, "list_picker_4_described": described}
    )
    wa = Phone(boutik, phone())
    wa.text("bonjour")
    [listed] = wa.send("samsung")
    assert listed.content_sid == described  # every row described: the descriptions show
    variables = listed.content_variables or {}
    rows = [(variables[str(3 + 3 * i)], variables[str(5 + 3 * i)]) for i in range(4)]
    for title, description in rows[:3]:
        assert len(title) <= 24 and shop in description and "GNF" in description, rows
    assert len({title for title, _ in rows}) == 4
