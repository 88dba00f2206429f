"""Fewer taps (issue 17): from "bonjour" to an order with its PIN, counted on every channel.

A returning buyer with a saved address walks the catalogue: "bonjour", Catalogue, a category,
a product, Acheter, Confirmer. Each step taps whatever the last menu offers next; a step the
bot still asks for (an address list, an options list) is one more message and is counted. The
figures are printed (`pytest -s`): messages to PIN per channel.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from sqlalchemy import select

from commerce.cart import actions as cart
from commerce.messaging.models import ConversationState
from commerce.orders.models import Order, OrderStatus
from commerce.users import actions as users
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.test_meta_whatsapp import MetaPhone, meta  # noqa: F401 - the `meta` fixture
from tests.e2e.test_meta_whatsapp import words as meta_words
from tests.support import Db, make_buyer, make_product, make_seller, stock_of
from tests.unit import flows
from tests.webhooks import (
    meta_text,
    post_telegram,
    post_twilio,
    sms_form,
    telegram_callback,
    telegram_message,
    whatsapp_form,
)

FIGURES: dict[str, int] = {}


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


def _menu(db: Db, channel: str, address: str) -> list[str]:
    """The ids of the last menu the bot sent this conversation (what a number answers)."""
    with db.session() as s:
        conv = s.scalar(
            select(ConversationState).where(
                ConversationState.channel == channel, ConversationState.address == address
            )
        )
        assert conv is not None
        return [choice_id for choice_id, _label in conv.data.get("menu") or []]


class Twilio:
    """A WhatsApp (Twilio) or SMS handset: menus come as numbered text, answered by number."""

    def __init__(self, boutik: Boutik, number: str, *, sms: bool = False) -> None:
        self.boutik, self.number, self.sms = boutik, number, sms
        self.sent = 0
        self.channel = "sms" if sms else "whatsapp"

    def _to(self) -> str:
        return self.number if self.sms else f"whatsapp:{self.number}"

    def say(self, body: str) -> str:
        self.boutik.send_queued()
        before = len(self.boutik.store.twilio_messages(to=self._to()))
        make = sms_form if self.sms else whatsapp_form
        path = "/webhooks/twilio/sms" if self.sms else "/webhooks/twilio/whatsapp"
        assert post_twilio(self.boutik.client, path, make(self.number, body)).status_code == 200
        self.sent += 1
        self.boutik.settle()
        new = self.boutik.store.twilio_messages(to=self._to())[before:]
        assert new, f"no answer to {body!r}"
        return "\n".join(m.body for m in new)

    def offers(self) -> list[str]:
        return _menu(self.boutik.db, self.channel, self.number)

    def tap(self, choice_id: str) -> str:
        return self.say(str(self.offers().index(choice_id) + 1))


class Meta:
    """A WhatsApp handset on Meta's Cloud API: real reply buttons and list rows."""

    def __init__(self, boutik: Boutik, number: str) -> None:
        self.phone = MetaPhone(boutik, number)
        self.boutik, self.number = boutik, number
        self.sent = 0

    def say(self, body: str) -> str:
        self.sent += 1
        return "\n".join(meta_words(m) for m in self.phone.send(meta_text(self.number, body)))

    def offers(self) -> list[str]:
        return _menu(self.boutik.db, "whatsapp", self.number)

    def tap(self, choice_id: str) -> str:
        self.sent += 1
        return "\n".join(meta_words(m) for m in self.phone.tap(choice_id))


class Telegram:
    """A buyer's Telegram chat: inline keyboards, tapped by their callback data."""

    def __init__(self, boutik: Boutik, chat: int) -> None:
        self.boutik, self.chat = boutik, chat
        self.sent = 0

    def _post(self, update: dict[str, Any]) -> str:
        self.boutik.send_queued()
        before = len(self.boutik.store.telegram_calls(chat_id=self.chat))
        assert post_telegram(self.boutik.client, update).status_code == 200
        self.sent += 1
        self.boutik.settle()
        calls = self.boutik.store.telegram_calls(chat_id=self.chat)[before:]
        return "\n".join(str(c.params.get("text") or c.params.get("caption") or "") for c in calls)

    def say(self, body: str) -> str:
        return self._post(telegram_message(self.chat, body))

    def offers(self) -> list[str]:
        sent = [
            c
            for c in self.boutik.store.telegram_calls(chat_id=self.chat)
            if c.method == "sendMessage"
        ]
        markup = sent[-1].params.get("reply_markup") or {}
        if isinstance(markup, str):
            markup = json.loads(markup)
        return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]

    def tap(self, choice_id: str) -> str:
        return self._post(telegram_callback(self.chat, choice_id))


Handset = Twilio | Meta | Telegram


def _first(offers: list[str], *prefixes: str) -> str | None:
    for prefix in prefixes:
        for choice_id in offers:
            if choice_id.startswith(prefix):
                return choice_id
    return None


def _to_pin(
    handset: Handset, product_id: int, order_pin: Callable[[], str | None], *, limit: int = 12
) -> tuple[int, str]:
    """'bonjour', then the catalogue path, each step tapping what the last menu offers next;
    returns (messages sent, what the last step answered) once an order with its PIN exists."""
    start = handset.sent
    said = handset.say("bonjour")
    path = ("menu:catalog", "cat:", f"prod:{product_id}", f"buy:{product_id}")
    # What a menu may offer before the order: the path, then the checkout's own steps.
    wanted = (*path, "co:ok:", "addr:")
    while (pin := order_pin()) is None or pin not in said:
        assert handset.sent - start < limit, f"no PIN after {limit} messages:\n{said}"
        choice = _first(handset.offers(), *wanted)
        assert choice is not None, f"nothing to tap towards the order:\n{said}"
        wanted = tuple(w for w in wanted if not choice.startswith(w)) or wanted
        said = handset.tap(choice)
    return handset.sent - start, said


def _pin_of(db: Db, buyer_id: Callable[[], int | None]) -> Callable[[], str | None]:
    def pin() -> str | None:
        who = buyer_id()
        if who is None:
            return None
        with db.session() as s:
            order = s.scalar(select(Order).where(Order.buyer_id == who).order_by(Order.id.desc()))
        return flows.code(db, order.id).pin if order is not None else None

    return pin


def _returning_buyer(db: Db) -> tuple[int, str]:
    """A buyer with a saved address and one past order: (id, phone)."""
    buyer_id, address_id = make_buyer(db)
    flows.place(db, buyer=(buyer_id, address_id))
    with db.session() as s:
        user = s.get(User, buyer_id)
        assert user is not None and user.phone
        return buyer_id, user.phone


def _shop_with_a_phone(db: Db) -> int:
    seller, _shop = make_seller(db)
    return make_product(db, seller_id=seller, stock=5)


def _report(channel: str, count: int) -> None:
    FIGURES[channel] = count
    print(f"\nmessages to PIN — {channel}: {count}")


def test_whatsapp_on_twilio_reaches_the_pin_in_six_messages(boutik: Boutik) -> None:
    db = boutik.db
    product_id = _shop_with_a_phone(db)
    buyer_id, number = _returning_buyer(db)
    wa = Twilio(boutik, number)
    count, _done = _to_pin(wa, product_id, _pin_of(db, lambda: buyer_id))
    _report("WhatsApp (Twilio)", count)
    assert count <= 6
    orders = _orders(db, buyer_id)
    assert orders[-1].status == OrderStatus.PLACED and stock_of(db, product_id) == 4


def test_whatsapp_on_meta_reaches_the_pin_in_six_messages_with_real_buttons(meta: Boutik) -> None:  # noqa: F811
    db = meta.db
    product_id = _shop_with_a_phone(db)
    buyer_id, number = _returning_buyer(db)
    wa = Meta(meta, number)
    count, _done = _to_pin(wa, product_id, _pin_of(db, lambda: buyer_id))
    _report("WhatsApp (Meta)", count)
    assert count <= 6
    # The card carried Buy and Add-to-cart as reply buttons, the summary Confirm and Change.
    sent = [m.payload for m in wa.phone.messages()]
    buttons = [
        [b["reply"] for b in p["interactive"]["action"]["buttons"]]
        for p in sent
        if p["type"] == "interactive" and p["interactive"]["type"] == "button"
    ]
    card = next(b for b in buttons if any(r["id"] == f"buy:{product_id}" for r in b))
    assert [r["id"] for r in card[:2]] == [f"buy:{product_id}", f"add:{product_id}"]
    summary = next(b for b in buttons if any(r["id"].startswith("co:ok:") for r in b))
    assert [r["title"] for r in summary[:2]] == ["Confirmer", "Modifier"]


def test_sms_with_numbered_menus_counts_the_same_path(boutik: Boutik) -> None:
    db = boutik.db
    product_id = _shop_with_a_phone(db)
    buyer_id, number = _returning_buyer(db)
    sms = Twilio(boutik, number, sms=True)
    count, _done = _to_pin(sms, product_id, _pin_of(db, lambda: buyer_id))
    _report("SMS (numbered menus)", count)
    assert count <= 6


def test_telegram_buyer_counts_the_same_path(boutik: Boutik) -> None:
    db = boutik.db
    product_id = _shop_with_a_phone(db)
    chat = 4_317_001
    tg = Telegram(boutik, chat)
    tg.say("bonjour")  # the first contact: open a shop, buy or deliver
    if "w:buy" in tg.offers():
        tg.tap("w:buy")
    with db.uow() as s:
        user = s.scalar(select(User).where(User.telegram_id == chat))
        assert user is not None
        users.add_address(
            s,
            user_id=user.id,
            region="Conakry",
            prefecture="Ratoma",
            quartier="Kipé",
            landmark="derrière la grande mosquée",
        )
        buyer_id = user.id
    count, _done = _to_pin(tg, product_id, _pin_of(db, lambda: buyer_id))
    _report("Telegram (buyer)", count)
    assert count <= 6


def _orders(db: Db, buyer_id: int) -> list[Order]:
    with db.session() as s:
        return list(s.scalars(select(Order).where(Order.buyer_id == buyer_id).order_by(Order.id)))


def test_acheter_buys_that_product_only_and_the_cart_keeps_the_rest(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    phone_id = make_product(db, seller_id=seller, stock=5)
    other_seller, _other = make_seller(db)
    tongs = make_product(
        db, seller_id=other_seller, name="Tongs Havaianas", brand="Havaianas", price=85_000
    )
    buyer_id, number = _returning_buyer(db)
    flows.add(db, buyer_id, tongs, 2)
    wa = Twilio(boutik, number)
    _count, done = _to_pin(wa, phone_id, _pin_of(db, lambda: buyer_id))
    placed = _orders(db, buyer_id)[-1]
    assert [(i.product_id, i.quantity) for i in placed.items] == [(phone_id, 1)]
    assert "Tongs" not in done
    # Only the phone was ordered: one new order, and the Tongs wait in the cart.
    assert len(_orders(db, buyer_id)) == 2  # the past order and this one
    assert stock_of(db, tongs) == 10 and stock_of(db, phone_id) == 4
    with db.session() as s:
        lines = cart.cart_summary(s, user_id=buyer_id).lines
        assert [(ln.product.id, ln.quantity) for ln in lines] == [(tongs, 2)]
    # The cart's own checkout still takes the whole cart.
    assert "Tongs Havaianas" in wa.say("panier")
