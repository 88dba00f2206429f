"""Buyer conversations end to end: signed Twilio forms and Telegram updates into the Flask app,
replies read back from the provider emulator, the database checked after the steps.

WhatsApp runs without Content API templates here, so menus arrive as numbered text and the
buyer answers with numbers, exactly as on a phone without buttons; Telegram gets inline
keyboards and the buyer taps their callback data.
"""

from __future__ import annotations

import io
from typing import Any

import pytest
from PIL import Image as PILImage
from sqlalchemy import select

from commerce.orders.models import Order, OrderStatus
from commerce.returns.models import Return
from commerce.reviews.models import Review
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.support import Db, make_buyer, make_courier, make_product, make_seller, stock_of
from tests.unit import flows
from tests.webhooks import (
    ACCOUNT_SID,
    PUBLIC,
    post_telegram,
    post_twilio,
    sms_form,
    telegram_callback,
    telegram_message,
    whatsapp_form,
)

WA = "/webhooks/twilio/whatsapp"
SMS = "/webhooks/twilio/sms"


@pytest.fixture(autouse=True)
def _fast_senders(boutik: Boutik) -> None:
    """The real pacing (1 SMS segment/s, 1 Telegram message/s per chat) is tested elsewhere;
    here it would only make the conversations slow."""
    boutik.rt.config = boutik.rt.config.replace(
        twilio__sms_segments_per_s=200.0, telegram__rate_per_chat_per_s=200.0
    )


class Phone:
    """One buyer's handset on WhatsApp or SMS: send, wait for the answers, read them."""

    def __init__(self, boutik: Boutik, number: str, *, sms: bool = False) -> None:
        self.boutik, self.number, self.sms = boutik, number, sms
        self.sent = 0

    @property
    def to(self) -> str:
        return self.number if self.sms else f"whatsapp:{self.number}"

    def messages(self) -> list[Any]:
        return self.boutik.store.twilio_messages(to=self.to)

    def send(self, body: str = "", **extra: str) -> list[Any]:
        self.boutik.send_queued()  # what the world builders queued goes first
        before = len(self.messages())
        form = (
            sms_form(self.number, body, **extra)
            if self.sms
            else whatsapp_form(self.number, body, **extra)
        )
        response = post_twilio(self.boutik.client, SMS if self.sms else WA, form)
        assert response.status_code == 200
        self.sent += 1
        self.boutik.settle()
        new = self.messages()[before:]
        assert new, f"no answer to {body!r}"
        return new

    def text(self, body: str = "", **extra: str) -> str:
        return "\n".join(m.body for m in self.send(body, **extra))


def _phone(db: Db, user_id: int) -> str:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def _orders(db: Db, buyer_id: int) -> list[Order]:
    with db.session() as s:
        return list(s.scalars(select(Order).where(Order.buyer_id == buyer_id).order_by(Order.id)))


def _state(boutik: Boutik, channel: str, address: str) -> str:
    from commerce.messaging.models import ConversationState

    with boutik.db.session() as s:
        conv = s.scalar(
            select(ConversationState).where(
                ConversationState.channel == channel, ConversationState.address == address
            )
        )
        assert conv is not None
        return conv.state


def test_whatsapp_returning_buyer_search_to_order_then_cash_and_review(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller, stock=5)
    buyer_id, _address = make_buyer(db)
    wa = Phone(boutik, _phone(db, buyer_id))

    greeting = wa.text("Bonjour")
    assert "Bonjour Mariama" in greeting and "1. Catalogue" in greeting
    assert _state(boutik, "whatsapp", wa.number) == "menu"
    results = wa.text("telefone samsng")  # a typo
    assert "1. Samsung Galaxy" in results  # the brand first
    card = wa.text("1")
    assert "1 500 000 GNF" in card and "1. Acheter" in card
    summary = wa.text("1")  # Acheter: to the saved address, the summary at once
    assert "Kipé" in summary and _state(boutik, "whatsapp", wa.number) == "co_summary"
    assert "TOTAL À PAYER" in summary and "Espèces" in summary
    done = wa.send("1")  # Confirmer
    assert wa.sent == 5  # the quality bar: "bonjour" to a placed order in at most 6 messages
    [order] = _orders(db, buyer_id)
    assert order.status == OrderStatus.PLACED and stock_of(db, product_id) == 4
    qr = [m for m in done if m.media_urls]
    assert len(qr) == 1 and "/media/qr/" in qr[0].media_urls[0]
    pin = flows.code(db, order.id).pin
    assert pin in qr[0].body and f"Commande {order.id}" in qr[0].body
    # The QR link serves the PNG that encodes <public>/q/<token>.
    path = qr[0].media_urls[0].removeprefix(PUBLIC)
    png = boutik.client.get(path)
    assert png.status_code == 200
    with PILImage.open(io.BytesIO(png.data)) as img:
        assert img.format == "PNG"

    # The seller accepts, a courier takes it, picks it up and types the buyer's PIN.
    placed = flows.Placed(
        buyer_id=buyer_id,
        address_id=None,
        seller_id=seller,
        shop_id=order.shop_id,
        product_id=product_id,
        order_id=order.id,
        item_id=order.items[0].id,
        pin=pin,
        token="",
        total=order.total,
    )
    courier = make_courier(db)
    flows.to_picked_up(db, placed, courier)
    boutik.send_queued()
    status = wa.text(f"où est ma commande {order.id}")
    assert "Ibrahima est en route" in status
    assert flows.prove_pin(db, courier, placed) is False
    boutik.send_queued()
    ask = wa.messages()[-1].body
    assert "Confirmez-vous avoir payé" in ask and "1. Oui" in ask
    closed = wa.text("1")  # the notification's own menu: 1 = Oui
    assert "livrée et payée" in closed and "5 - Excellent" in closed
    assert flows.order(db, order.id).status == OrderStatus.DELIVERED
    wa.text("5")
    wa.text("Très bien, merci")
    with db.session() as s:
        review = s.scalar(select(Review).where(Review.order_item_id == placed.item_id))
        assert review is not None and review.rating == 5 and review.comment == "Très bien, merci"


def test_whatsapp_new_buyer_with_a_location_pin_and_a_stale_button(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller)
    wa = Phone(boutik, "+224620009901")
    wa.text("bonjour")
    assert "rien trouvé" in wa.text("chaussures moins de 200000")  # no shoes on sale
    wa.text("samsung noir")
    wa.text("1")
    wa.text("1")  # Acheter
    assert "Envoyez votre position" in wa.text("2")  # 1 Nouvelle adresse, 2 position
    summary = wa.text(
        "", Latitude="9.6412", Longitude="-13.62", Address="Kipé, Conakry", Label="Carrefour Kipé"
    )
    assert "TOTAL À PAYER" in summary
    # An old button (a ButtonPayload from a message long gone) gets a clear answer.
    stale = wa.text("", ButtonPayload="co:ok:000000", ButtonText="Confirmer")
    assert "plus à jour" in stale
    wa.text("1")
    with db.session() as s:
        buyer_id = s.scalar(select(User.id).where(User.phone == wa.number))
    [order] = _orders(db, buyer_id)  # type: ignore[arg-type]
    assert order.lat is not None and order.landmark == "Carrefour Kipé"
    assert stock_of(db, product_id) == 9


def test_cancel_then_a_return_with_a_photo_fetched_by_the_worker(boutik: Boutik) -> None:
    db = boutik.db
    first = flows.place(db, quantity=2, stock=10)
    wa = Phone(boutik, _phone(db, first.buyer_id))
    wa.text("bonjour")
    assert "Annuler la commande" in wa.text(f"commande {first.order_id}")
    wa.text(f"annuler {first.order_id}")
    assert "annulée" in wa.text("oui")
    assert flows.order(db, first.order_id).status == OrderStatus.CANCELLED
    assert stock_of(db, first.product_id) == 10

    second = flows.place(db, buyer=(first.buyer_id, first.address_id or 0))
    flows.deliver(db, second)
    boutik.send_queued()
    wa.text(f"commande {second.order_id}")
    view = wa.messages()[-1].body
    number = next(line.split(".")[0] for line in view.splitlines() if "Retourner" in line)
    assert "Pourquoi" in wa.text(number)
    wa.text("1")  # Abîmé ou en panne
    buf = io.BytesIO()
    PILImage.new("RGB", (16, 16), "blue").save(buf, format="JPEG")
    media_path = boutik.store.add_media(buf.getvalue(), "image/jpeg", account_sid=ACCOUNT_SID)
    sent = wa.text(
        "",
        NumMedia="1",
        MediaUrl0=f"https://api.twilio.com{media_path}",
        MediaContentType0="image/jpeg",
    )
    assert "Demande de retour" in sent
    with db.session() as s:
        ret = s.scalar(select(Return).where(Return.order_id == second.order_id))
        assert ret is not None and ret.photo_path.startswith("twilio:https://api.twilio.com/")
        return_id = ret.id
    from workers.media_fetch import fetch_return_photo

    stored = fetch_return_photo(boutik.rt, return_id)
    assert stored == f"returns/{return_id}.jpg"
    assert (boutik.rt.config.media_dir / stored).exists()
    with db.session() as s:
        assert s.get(Return, return_id).photo_path == stored  # type: ignore[union-attr]


def test_the_same_journey_on_sms_with_numbered_menus(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    make_product(db, seller_id=seller)
    sms = Phone(boutik, "+224620009902", sms=True)
    menu = sms.send("bonjour")
    assert "1. Catalogue" in "".join(m.body for m in menu)
    assert all(m.num_segments <= 2 for m in menu)
    sms.text("samsung")
    sms.text("1")
    where = sms.text("1")  # Acheter
    assert "position" not in where  # no pin on SMS
    sms.text("1")  # Nouvelle adresse
    sms.text("2")  # Conakry
    sms.text("4")  # Ratoma
    assert "point de rep" in sms.text("6")  # Kipé
    assert "TOTAL" in sms.text("derriere la station Total")
    done = sms.text("1")
    with db.session() as s:
        buyer_id = s.scalar(select(User.id).where(User.phone == sms.number))
    [order] = _orders(db, buyer_id)  # type: ignore[arg-type]
    assert flows.code(db, order.id).pin in done
    assert all(not m.media_urls for m in sms.messages())


def _callbacks(call: Any) -> list[str]:
    markup = call.params.get("reply_markup") or {}
    if isinstance(markup, str):
        import json

        markup = json.loads(markup)
    return [b["callback_data"] for row in markup.get("inline_keyboard", []) for b in row]


def test_telegram_buyer_taps_through_to_an_order(boutik: Boutik) -> None:
    db = boutik.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller)
    chat = 4_300_001

    def tap(data: str) -> list[Any]:
        before = len(boutik.store.telegram_calls(chat_id=chat))
        assert post_telegram(boutik.client, telegram_callback(chat, data)).status_code == 200
        boutik.settle()
        return boutik.store.telegram_calls(chat_id=chat)[before:]

    boutik.send_queued()
    post_telegram(boutik.client, telegram_message(chat, "bonjour"))
    boutik.settle()
    first = boutik.store.telegram_calls(method="sendMessage", chat_id=chat)[-1]
    if "w:buy" in _callbacks(first):  # the seller flow's welcome: "I want to buy"
        tap("w:buy")
    sent = [c for c in boutik.store.telegram_calls(chat_id=chat) if c.method == "sendMessage"]
    assert "Bonjour Aissatou" in sent[-1].params["text"]
    assert "menu:catalog" in _callbacks(sent[-1])
    tap(f"prod:{product_id}")
    calls = tap(f"buy:{product_id}")
    assert "addr:pickup" in _callbacks(calls[-1])
    calls = tap("addr:pickup")
    confirm = next(c for c in _callbacks(calls[-1]) if c.startswith("co:ok:"))
    calls = tap(confirm)
    assert any(c.method == "sendPhoto" for c in calls)  # the QR
    with db.session() as s:
        buyer_id = s.scalar(select(User.id).where(User.telegram_id == chat))
    [order] = _orders(db, buyer_id)  # type: ignore[arg-type]
    assert order.total == order.subtotal  # pickup: no delivery fee
