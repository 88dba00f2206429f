"""WhatsApp through Meta's Cloud API end to end: `[whatsapp] provider = "meta"`.

Signed webhooks built by the testkit (each held to Meta's own webhook examples by `post_meta`)
go into the real Flask app on PostgreSQL; replies leave through the Meta sender to the Graph
API emulator and are read back there. The same app is also served over HTTP, so the emulator
posts its status webhooks to it, signed with the app secret, exactly as Meta does.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from PIL import Image as PILImage
from sqlalchemy import func, select

from boutik.runtime import Runtime
from channels_adapters.web import create_app
from commerce.messaging.models import InboundMessage, Outbox, OutboxStatus
from commerce.orders.models import Order, OrderStatus
from commerce.returns.models import Return
from commerce.users.models import User
from devtools.emulators import serve_in_thread
from devtools.emulators.meta_state import MetaMessage
from devtools.testkit import repeats
from tests.e2e.conftest import Boutik, meta_config, said_once
from tests.services import Emulator
from tests.support import Db, make_product, make_seller, phone, stock_of
from tests.timing import WAIT_S
from tests.unit import flows
from tests.webhooks import (
    META_VERIFY_TOKEN,
    META_WEBHOOK_PATH,
    PUBLIC,
    meta_audio,
    meta_button,
    meta_button_reply,
    meta_contacts,
    meta_image,
    meta_list_reply,
    meta_location,
    meta_order,
    meta_status,
    meta_text,
    meta_unsupported,
    new_wamid,
    post_meta,
)
from workers.media_fetch import fetch_return_photo, pending_return_ids


@pytest.fixture
def meta(pg: Db, emulator: Emulator, tmp_path: Path) -> Iterator[Boutik]:
    """Boutik with Meta carrying WhatsApp, served over HTTP for the emulator's statuses."""
    emulator.store.reset()
    config = meta_config(
        emulator,
        tmp_path / "media",
        # the real pacing is tested elsewhere; here it would only make conversations slow
        twilio__sms_segments_per_s=200.0,
    )
    rt = Runtime(config)
    app = create_app(config, runtime=rt)
    base_url, shutdown = serve_in_thread(app)
    emulator.store.set_meta_webhook(base_url + META_WEBHOOK_PATH)
    turns = repeats.watch(rt)
    yield Boutik(client=app.test_client(), rt=rt, store=emulator.store, db=pg, turns=turns)
    emulator.store.set_meta_webhook(None)
    shutdown()
    rt.dispatcher.shutdown()
    rt.telegram_sender.close()
    rt.dispose()
    said_once(pg, turns)


def words(message: MetaMessage) -> str:
    """What the buyer reads: a text, an interactive body and its choices' titles, a caption."""
    body = message.payload
    kind = body["type"]
    if kind == "text":
        return body["text"]["body"]
    if kind == "interactive":
        interactive = body["interactive"]
        action = interactive.get("action", {})
        titles = [b["reply"]["title"] for b in action.get("buttons", [])]
        titles += [r["title"] for s in action.get("sections", []) for r in s["rows"]]
        return "\n".join([interactive["body"]["text"], *titles])
    if kind in ("image", "document"):
        return body[kind].get("caption", "")
    return ""


class MetaPhone:
    """One buyer's WhatsApp on Meta's Cloud API: send, tap a button or a list row, read."""

    def __init__(self, boutik: Boutik, number: str) -> None:
        self.boutik, self.number = boutik, number

    def messages(self) -> list[MetaMessage]:
        return self.boutik.store.meta_messages(to=self.number)

    def send(self, payload: dict[str, Any]) -> list[MetaMessage]:
        self.boutik.send_queued()
        before = len(self.messages())
        response = post_meta(self.boutik.client, payload)
        assert response.status_code == 200
        self.boutik.settle()
        new = self.messages()[before:]
        assert new, f"no answer to {payload['entry'][0]['changes'][0]['value']['messages']}"
        return new

    def text(self, body: str) -> str:
        return "\n".join(words(m) for m in self.send(meta_text(self.number, body)))

    def tap(self, prefix: str) -> list[MetaMessage]:
        """Tap the newest button or list row whose id starts with ``prefix``, as WhatsApp does:
        a ``button_reply`` or ``list_reply`` naming the message it answers."""
        for message in reversed(self.messages()):
            action = (message.payload.get("interactive") or {}).get("action") or {}
            for button in action.get("buttons", []):
                if button["reply"]["id"].startswith(prefix):
                    reply = button["reply"]
                    return self.send(
                        meta_button_reply(
                            self.number, reply["id"], reply["title"], replied_to=message.id
                        )
                    )
            for row in (r for s in action.get("sections", []) for r in s["rows"]):
                if row["id"].startswith(prefix):
                    return self.send(
                        meta_list_reply(self.number, row["id"], row["title"], replied_to=message.id)
                    )
        raise AssertionError(f"no button or row {prefix!r} was sent to {self.number}")


def _kind(message: MetaMessage) -> str:
    body = message.payload
    return body["interactive"]["type"] if body["type"] == "interactive" else body["type"]


def _inbound_count(boutik: Boutik) -> int:
    with boutik.db.session() as s:
        return (
            s.scalar(select(func.count(InboundMessage.id)).where(InboundMessage.provider == "meta"))
            or 0
        )


def _row_by_wamid(boutik: Boutik, wamid: str) -> Outbox:
    [row] = boutik.outbox(provider_message_id=wamid)
    return row


# --- the handshake and the signature ---------------------------------------------------------


def test_the_subscription_check_echoes_the_challenge_only_for_our_token(meta: Boutik) -> None:
    def verify(token: str, mode: str = "subscribe") -> Any:
        query = {"hub.mode": mode, "hub.verify_token": token, "hub.challenge": "1158201444"}
        return meta.client.get(META_WEBHOOK_PATH, query_string=query)

    good = verify(META_VERIFY_TOKEN)
    assert (good.status_code, good.get_data(as_text=True)) == (200, "1158201444")
    assert verify("not-our-token").status_code == 403
    assert verify(META_VERIFY_TOKEN, mode="unsubscribe").status_code == 403


def test_a_forged_webhook_is_refused_and_nothing_happens(meta: Boutik) -> None:
    payload = meta_text(phone(), "Bonjour")
    assert post_meta(meta.client, payload, secret="someone-elses-secret").status_code == 403
    assert post_meta(meta.client, payload, secret=None).status_code == 403
    assert _inbound_count(meta) == 0 and meta.outbox() == []
    assert meta.store.meta_messages() == []


# --- every message type gets its answer -------------------------------------------------------


def _reaction(number: str, to_wamid: str) -> dict[str, Any]:
    """A 👍 on one of our messages (the testkit has no builder: Meta's example, our ids)."""
    payload = meta_text(number, "")
    message = payload["entry"][0]["changes"][0]["value"]["messages"][0]
    del message["text"]
    message["type"] = "reaction"
    message["reaction"] = {"message_id": to_wamid, "emoji": "👍"}
    return payload


def test_every_message_type_gets_its_reply(meta: Boutik) -> None:
    seller, _shop = make_seller(meta.db)
    make_product(meta.db, seller_id=seller)
    wa = MetaPhone(meta, phone())
    greeting = wa.send(meta_text(wa.number, "Bonjour"))
    assert "Bonjour Mariama" in words(greeting[0]) and _kind(greeting[0]) == "list"

    not_now = "Je n'attendais pas cela ici"
    not_understood = "Je n'ai pas compris"
    contact = "\n".join(words(m) for m in wa.send(meta_contacts(wa.number, "+224620000777")))
    assert not_now in contact  # a contact card is no answer to anything a buyer is asked
    assert not_understood in "\n".join(words(m) for m in wa.send(meta_unsupported(wa.number)))
    # A cart from a WhatsApp catalog: Boutik publishes none, so it is not understood, politely.
    order = wa.send(meta_order(wa.number, [("SKU-1", 2, 150000.0)]))
    assert not_understood in "\n".join(words(m) for m in order)
    assert _kind(order[-1]) == "list"  # and the menu to go on with
    assert not_now in "\n".join(words(m) for m in wa.send(meta_image(wa.number)))
    assert not_now in "\n".join(words(m) for m in wa.send(meta_audio(wa.number)))
    assert not_now in "\n".join(words(m) for m in wa.send(meta_location(wa.number, 9.64, -13.58)))
    # A template's quick-reply button (type "button"), a list row, a reply button.
    categories = wa.send(meta_button(wa.number, "menu:catalog", "Catalogue"))
    assert "Choisissez une catégorie" in words(categories[-1])
    products = wa.tap("cat:")  # a reply button
    assert "Samsung Galaxy" in words(products[-1])  # the brand first
    card = wa.tap("prod:")
    assert "1 500 000 GNF" in words(card[-1])
    assert "Où voulez-vous être livré" in words(wa.tap("buy:")[-1])  # a list row

    turns, answers = _inbound_count(meta), len(wa.messages())
    response = post_meta(meta.client, _reaction(wa.number, greeting[0].id))
    assert response.status_code == 200
    meta.settle()
    assert turns == 11 and _inbound_count(meta) == turns  # a reaction is no turn...
    assert len(wa.messages()) == answers  # ...and gets no answer


def test_a_redelivered_webhook_is_answered_once(meta: Boutik) -> None:
    number = phone()
    payload = meta_text(number, "Bonjour")
    for _ in range(3):
        assert post_meta(meta.client, payload).status_code == 200
    meta.settle()
    assert _inbound_count(meta) == 1
    assert len(meta.store.meta_messages(to=number)) == 1


def test_another_numbers_webhook_is_acknowledged_and_ignored(meta: Boutik) -> None:
    payload = meta_text(phone(), "Bonjour")
    value = payload["entry"][0]["changes"][0]["value"]
    value["metadata"]["phone_number_id"] = "109999999999999"
    assert post_meta(meta.client, payload).status_code == 200
    assert _inbound_count(meta) == 0 and meta.outbox() == []


# --- statuses ---------------------------------------------------------------------------------


def _answered(meta: Boutik, number: str) -> MetaMessage:
    """Greet ``number`` and return our answer, once the emulator's "sent" has been applied."""
    wa = MetaPhone(meta, number)
    [answer] = wa.send(meta_text(number, "Bonjour"))
    meta.store.wait_for(
        lambda: any(
            d.payload["entry"][0]["changes"][0]["value"]["statuses"][0]["id"] == answer.id
            for d in meta.store.meta_deliveries()
        ),
        timeout=WAIT_S,
    )
    return answer


def test_statuses_tick_the_outbox_row_sent_delivered_read(meta: Boutik) -> None:
    answer = _answered(meta, phone())
    row = _row_by_wamid(meta, answer.id)
    assert row.status == OutboxStatus.SENT
    assert meta.store.post_meta_status(answer.id, "delivered") == 200
    assert _row_by_wamid(meta, answer.id).status == OutboxStatus.DELIVERED
    assert meta.store.post_meta_status(answer.id, "read") == 200
    assert _row_by_wamid(meta, answer.id).status == OutboxStatus.READ
    # A late "sent" never moves it back; a status for an id we never sent is acknowledged.
    late = meta_status(answer.id, "sent", answer.to)
    assert post_meta(meta.client, late).status_code == 200
    assert _row_by_wamid(meta, answer.id).status == OutboxStatus.READ
    assert post_meta(meta.client, meta_status(new_wamid(), "read", answer.to)).status_code == 200
    # every status webhook the emulator signed and posted was accepted
    assert {d.status_code for d in meta.store.meta_deliveries()} == {200}


def test_a_failed_status_131026_fails_the_row_with_its_reason(meta: Boutik) -> None:
    answer = _answered(meta, phone())
    assert meta.store.post_meta_status(answer.id, "failed", 131026) == 200
    row = _row_by_wamid(meta, answer.id)
    assert row.status == OutboxStatus.FAILED
    assert (row.error_code, row.last_error) == ("131026", "Message undeliverable")


# --- media by id ----------------------------------------------------------------------------


def _jpeg() -> bytes:
    buf = io.BytesIO()
    PILImage.new("RGB", (16, 16), "blue").save(buf, format="JPEG")
    return buf.getvalue()


def test_a_return_photo_sent_by_media_id_is_downloaded_into_the_media_dir(meta: Boutik) -> None:
    db = meta.db
    placed = flows.place(db, quantity=2, stock=10)
    flows.deliver(db, placed)
    with db.session() as s:
        buyer = s.get(User, placed.buyer_id)
        assert buyer is not None and buyer.phone
        number = buyer.phone
    wa = MetaPhone(meta, number)
    wa.text("bonjour")
    view = wa.text(f"commande {placed.order_id}")
    assert "Retourner" in view
    assert "Pourquoi" in "\n".join(words(m) for m in wa.tap("ret:"))
    wa.tap("rr:")  # the first reason
    media_id = meta.store.meta_add_media(_jpeg(), "image/jpeg")
    sent = wa.send(meta_image(number, media_id, caption="la vitre est cassée"))
    assert "Demande de retour" in "\n".join(words(m) for m in sent)
    with db.session() as s:
        ret = s.scalar(select(Return).where(Return.order_id == placed.order_id))
        assert ret is not None and ret.photo_path == f"meta:{media_id}"
        return_id = ret.id
    assert return_id in pending_return_ids(meta.rt)  # the sweep would fetch it

    stored = fetch_return_photo(meta.rt, return_id)

    assert stored == f"returns/{return_id}.jpg"
    assert (meta.rt.config.media_dir / stored).read_bytes() == _jpeg()
    with db.session() as s:
        assert s.get(Return, return_id).photo_path == stored  # type: ignore[union-attr]
    assert return_id not in pending_return_ids(meta.rt)


# --- the whole journey ------------------------------------------------------------------------


def test_the_buyer_journey_on_meta_driven_by_list_and_button_replies(meta: Boutik) -> None:
    db = meta.db
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller, stock=5)
    wa = MetaPhone(meta, phone())

    [greeting] = wa.send(meta_text(wa.number, "Bonjour"))
    assert _kind(greeting) == "list" and "Bonjour Mariama" in words(greeting)
    [categories] = wa.tap("menu:catalog")  # a list reply
    assert _kind(categories) == "button"
    [products] = wa.tap("cat:")  # a reply button
    assert "Samsung Galaxy" in words(products)  # the brand first
    [card] = wa.tap(f"prod:{product_id}")
    assert "1 500 000 GNF" in words(card)
    [where] = wa.tap(f"buy:{product_id}")
    assert "Envoyer ma position" in words(where)
    [ask] = wa.tap("addr:pin")
    assert _kind(ask) == "location_request_message"  # one tap shares the pin

    [summary] = wa.send(
        meta_location(wa.number, 9.6412, -13.62, name="Carrefour Kipé", address="Kipé, Conakry")
    )
    assert "TOTAL À PAYER" in words(summary) and "Carrefour Kipé" in words(summary)
    done = wa.tap("co:ok:")

    with db.session() as s:
        buyer_id = s.scalar(select(User.id).where(User.phone == wa.number))
        [order] = s.scalars(select(Order).where(Order.buyer_id == buyer_id)).all()
    assert order.status == OrderStatus.PLACED and stock_of(db, product_id) == 4
    assert order.landmark == "Carrefour Kipé" and order.lat == pytest.approx(9.6412)
    pin = flows.code(db, order.id).pin
    qr = [m for m in done if m.payload["type"] == "image"]
    assert len(qr) == 1 and "/media/qr/" in qr[0].payload["image"]["link"]
    assert pin in "\n".join(words(m) for m in done)
    png = meta.client.get(qr[0].payload["image"]["link"].removeprefix(PUBLIC))
    assert png.status_code == 200 and png.data.startswith(b"\x89PNG")

    # Statuses tick every answer of the journey: sent by the emulator itself, then the phone.
    for message in wa.messages():
        assert meta.store.post_meta_status(message.id, "delivered") == 200
        assert meta.store.post_meta_status(message.id, "read") == 200
    rows = [_row_by_wamid(meta, m.id) for m in wa.messages()]
    assert {r.status for r in rows} == {OutboxStatus.READ}
    assert {d.status_code for d in meta.store.meta_deliveries()} == {200}
