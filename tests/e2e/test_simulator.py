"""The browser simulator's API: real webhooks, real signatures, emulators in the same server.

The app runs on a real local HTTP server (the SDK senders and the status callbacks call it
over HTTP, as in `boutik serve --simulator`); the page's requests go through Flask's test
client. The assertions never depend on what the bot says — the conversations are written
elsewhere and keep growing — only on the plumbing: a row per inbound message, a reply in the
phone, a tick per status, a refusal shown loudly.
"""

from __future__ import annotations

import datetime as dt
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from flask import Flask
from flask.testing import FlaskClient
from sqlalchemy import func, select
from werkzeug.serving import make_server

from boutik.app import build_app
from boutik.runtime import Runtime
from channels_adapters.senders import SendError
from channels_adapters.web import create_app
from commerce import clock
from commerce.messaging.models import InboundMessage, Outbox, OutboxStatus
from commerce.messaging.templates import ContentTemplate, menu_sids
from commerce.orders.models import Order, OrderStatus
from commerce.users.models import User
from devtools import contracts
from devtools.simulator import prepare_config, simulator_of
from devtools.simulator.routes import SAMPLES, Simulator
from settings.config import ConfigError, load_config
from tests.support import PG_URL, Db, make_product, make_seller, phone
from tests.timing import WAIT_S
from tests.unit import flows
from tests.webhooks import (
    AUTH_TOKEN,
    META_APP_SECRET,
    post_telegram,
    post_twilio,
    telegram_message,
    whatsapp_form,
)


@dataclass
class SimServer:
    client: FlaskClient
    app: Flask
    rt: Runtime
    sim: Simulator
    db: Db
    base_url: str

    def send(self, phone_id: str, **action: Any) -> dict[str, Any]:
        response = self.client.post("/simulator/api/send", json={"phone": phone_id, **action})
        assert response.status_code == 200, response.get_data(as_text=True)
        return response.get_json()

    def messages(self, phone_id: str, **args: str) -> list[dict[str, Any]]:
        response = self.client.get(
            "/simulator/api/messages", query_string={"phone": phone_id, **args}
        )
        assert response.status_code == 200
        return response.get_json().get("messages", [])

    def wait(self, predicate: Callable[[], Any], timeout: float = WAIT_S) -> Any:
        return self.sim.store.wait_for(predicate, timeout=timeout)

    def replies(self, phone_id: str) -> list[dict[str, Any]]:
        return [m for m in self.messages(phone_id) if m["dir"] == "out"]


def start_simulator(db: Db, media_dir: Path) -> tuple[SimServer, Callable[[], None]]:
    """`boutik serve --simulator` in a thread: the port is known before the app is built."""
    holder: dict[str, Flask] = {}

    def wsgi(environ: Any, start_response: Any) -> Any:
        return holder["app"](environ, start_response)

    server = make_server("127.0.0.1", 0, wsgi, threaded=True)
    port = server.server_port
    config = load_config(environ={"DATABASE_URL": PG_URL})
    config = prepare_config(config, port=port, environ={}).replace(
        media__dir=str(media_dir), queue__redis_url=""
    )
    rt = Runtime(config)
    app = build_app(rt)  # what `boutik serve --simulator` serves
    holder["app"] = app
    thread = threading.Thread(target=server.serve_forever, name="sim-http", daemon=True)
    thread.start()
    sim = simulator_of(app)

    def stop() -> None:
        if sim.pump is not None:
            sim.pump.stop()
        rt.dispatcher.shutdown()  # sends in flight finish while their server is still up
        server.shutdown()
        thread.join(timeout=WAIT_S)
        server.server_close()
        rt.telegram_sender.close()
        rt.dispose()

    base_url = f"http://127.0.0.1:{port}"
    return SimServer(app.test_client(), app, rt, sim, db, base_url), stop


@pytest.fixture
def simulator(pg: Db, tmp_path: Path) -> Iterator[SimServer]:
    server, stop = start_simulator(pg, tmp_path / "media")
    yield server
    stop()


def _menu_sid(simulator: SimServer, shape: str) -> str:
    """The menu template the simulator's start-up sync made for `shape`."""
    with simulator.db.session() as s:
        return menu_sids(s)[shape]


def _inbound(db: Db, **filters: Any) -> list[InboundMessage]:
    with db.session() as s:
        stmt = select(InboundMessage).order_by(InboundMessage.id)
        for key, value in filters.items():
            stmt = stmt.where(getattr(InboundMessage, key) == value)
        return list(s.scalars(stmt))


def test_a_buyer_message_goes_through_the_real_webhook_and_the_reply_shows(
    simulator: SimServer,
) -> None:
    number = phone()
    result = simulator.send(f"wa:{number}", text="bonjour", name="Awa Touré")

    assert result == {"ok": True, "status": 200, "path": "/webhooks/twilio/whatsapp"}
    [row] = _inbound(simulator.db, address=number)
    assert (row.provider, str(row.channel), row.kind) == ("twilio", "whatsapp", "text")
    replies = simulator.wait(lambda: simulator.replies(f"wa:{number}"))
    assert replies[0]["channel"] == "whatsapp"
    assert replies[0]["text"] or replies[0].get("buttons") or replies[0].get("list")
    shown = simulator.messages(f"wa:{number}")
    assert shown[0] == {**shown[0], "dir": "in", "kind": "text", "text": "bonjour", "webhook": 200}
    assert [m["seq"] for m in shown] == sorted(m["seq"] for m in shown)


def test_the_page_polls_cheaply_when_nothing_changed(simulator: SimServer) -> None:
    number = phone()
    simulator.send(f"wa:{number}", text="bonjour")
    simulator.wait(lambda: simulator.replies(f"wa:{number}"))
    first = simulator.client.get(
        "/simulator/api/messages", query_string={"phone": f"wa:{number}"}
    ).get_json()
    again = simulator.client.get(
        "/simulator/api/messages", query_string={"phone": f"wa:{number}", "after": first["version"]}
    ).get_json()
    # The version moves with the delivery ticks; once they settle the answer is "unchanged".
    while again["changed"]:
        again = simulator.client.get(
            "/simulator/api/messages",
            query_string={"phone": f"wa:{number}", "after": again["version"]},
        ).get_json()
    assert "messages" not in again


def test_a_forged_webhook_is_still_refused(simulator: SimServer) -> None:
    number = phone()
    form = whatsapp_form(number, "bonjour")
    public = simulator.rt.config.web.public_base_url
    wrong = post_twilio(simulator.client, "/webhooks/twilio/whatsapp", form, public=public)
    unsigned = post_twilio(
        simulator.client, "/webhooks/twilio/whatsapp", form, public=public, signature=""
    )
    telegram = post_telegram(simulator.client, telegram_message(5551, "bonjour"))

    assert simulator.rt.config.secrets.twilio_auth_token != AUTH_TOKEN  # random per process
    assert (wrong.status_code, unsigned.status_code, telegram.status_code) == (403, 403, 403)
    with simulator.db.session() as s:
        assert s.scalar(select(func.count(InboundMessage.id))) == 0


def test_delivery_ticks_reach_delivered_then_read(simulator: SimServer) -> None:
    number = phone()
    simulator.send(f"wa:{number}", text="bonjour")

    def row_delivered() -> Outbox | None:
        with simulator.db.session() as s:
            return s.scalar(
                select(Outbox).where(
                    Outbox.sent_address == number, Outbox.status == OutboxStatus.DELIVERED
                )
            )

    assert simulator.wait(row_delivered)
    assert simulator.wait(
        lambda: any(m.get("status") == "delivered" for m in simulator.replies(f"wa:{number}"))
    )
    # The page saw the phone: the blue ticks follow, through the same signed callback.
    simulator.wait(
        lambda: any(
            m.get("status") == "read"
            for m in simulator.messages(f"wa:{number}", seen="1")
            if m["dir"] == "out"
        )
    )

    def row_read() -> bool:
        with simulator.db.session() as s:
            statuses = set(s.scalars(select(Outbox.status).where(Outbox.sent_address == number)))
        return OutboxStatus.READ in statuses

    assert simulator.wait(row_read)


def test_the_clock_jumps_and_the_timers_run(simulator: SimServer) -> None:
    before = clock.now()
    response = simulator.client.post("/simulator/api/clock", json={"hours": 24})

    assert response.status_code == 200
    body = response.get_json()
    assert clock.now() - before >= dt.timedelta(hours=24)
    assert dt.datetime.fromisoformat(body["now"]) >= before + dt.timedelta(hours=24, seconds=-1)
    assert set(body["ran"]) >= {"outbox_resent", "orders_completed"}
    assert simulator.client.post("/simulator/api/clock", json={"hours": -5}).status_code == 400
    assert simulator.client.post("/simulator/api/clock", json={"hours": "x"}).status_code == 400


_ran: list[tuple[str, dt.datetime]] = []


def _delayed_job(rt: Runtime, name: str, again_in_s: float) -> None:
    """A job that, like an offer wave, schedules its successor."""
    _ran.append((name, clock.now()))
    if again_in_s:
        rt.dispatcher.enqueue(_delayed_job, f"{name}+", 0.0, delay_s=again_in_s)


def test_delayed_jobs_follow_the_clock_jump_step_by_step(simulator: SimServer) -> None:
    _ran.clear()
    start = clock.now()
    simulator.rt.dispatcher.enqueue(_delayed_job, "wave", 300.0, delay_s=300)
    simulator.rt.dispatcher.enqueue(_delayed_job, "late", 0.0, delay_s=7200)

    body = simulator.client.post("/simulator/api/clock", json={"hours": 1}).get_json()

    assert body["ran"]["delayed_jobs"] == 2
    assert [name for name, _ in _ran] == ["wave", "wave+"]
    # Each ran at its own time on the simulated clock, not at the end of the jump.
    assert _ran[0][1] - start >= dt.timedelta(seconds=300)
    assert _ran[1][1] - _ran[0][1] >= dt.timedelta(seconds=300)
    assert _ran[1][1] - start < dt.timedelta(minutes=11)
    assert simulator.rt.dispatcher.pending() == 1  # "late" waits for the next hour
    simulator.client.post("/simulator/api/clock", json={"hours": 1})
    assert [name for name, _ in _ran] == ["wave", "wave+", "late"]


def test_a_day_of_silence_closes_the_whatsapp_window_at_the_emulator(
    simulator: SimServer,
) -> None:
    number = phone()
    simulator.send(f"wa:{number}", text="bonjour")
    simulator.wait(lambda: simulator.replies(f"wa:{number}"))
    assert number not in simulator.sim.store.closed_windows

    simulator.client.post("/simulator/api/clock", json={"hours": 25})
    assert number in simulator.sim.store.closed_windows
    simulator.send(f"wa:{number}", text="bonjour")
    assert number not in simulator.sim.store.closed_windows


def test_refusals_are_shown_loudly_in_the_phone(simulator: SimServer) -> None:
    number = phone()
    sender = simulator.rt.twilio_sender
    wa_from = simulator.rt.config.twilio.whatsapp_from
    with pytest.raises(SendError):
        sender.send(to=f"whatsapp:{number}", from_=wa_from, body="x" * 5000)
    # Accepted by the API, but a 25-character row is not a list WhatsApp would show.
    sender.send(
        to=f"whatsapp:{number}",
        from_=wa_from,
        content_sid=_menu_sid(simulator, "list_picker_1"),
        content_variables={"1": "Choisissez", "2": "Voir", "3": "r" * 25, "4": "row:1"},
    )
    shown = simulator.messages(f"wa:{number}")

    [error] = [m for m in shown if m["dir"] == "error"]
    assert error["code"] == 21617 and "refused" in error["text"]
    [menu] = [m for m in shown if m["dir"] == "out"]
    assert "24" in menu["rejected"] and "WhatsApp refuses" in menu["rejected"]


def test_a_fitting_menu_shows_its_rows_and_a_tap_is_a_signed_list_reply(
    simulator: SimServer,
) -> None:
    number = phone()
    simulator.rt.twilio_sender.send(
        to=f"whatsapp:{number}",
        from_=simulator.rt.config.twilio.whatsapp_from,
        content_sid=_menu_sid(simulator, "list_picker_1"),
        content_variables={"1": "Choisissez", "2": "Voir", "3": "Catalogue", "4": "menu:x"},
    )
    [menu] = simulator.replies(f"wa:{number}")
    assert menu["list"] == {
        "button": "Voir",
        "rows": [{"title": "Catalogue", "id": "menu:x", "description": ""}],
    }
    assert "rejected" not in menu


def test_a_menu_on_a_larger_template_shows_every_row_twilio_would_send(
    simulator: SimServer,
) -> None:
    """Rows whose variables were not given are not dropped: the buyer would get the template's
    sample values for them, so the simulator shows those (the synced 2-row picker, 1 row given)."""
    number = phone()
    simulator.rt.twilio_sender.send(
        to=f"whatsapp:{number}",
        from_=simulator.rt.config.twilio.whatsapp_from,
        content_sid=_menu_sid(simulator, "list_picker_2"),
        content_variables={"1": "Choisissez", "2": "Voir", "3": "Catalogue", "4": "menu:x"},
    )
    [menu] = simulator.replies(f"wa:{number}")
    assert menu["list"] == {
        "button": "Voir",
        "rows": [
            {"title": "Catalogue", "id": "menu:x", "description": ""},
            {"title": "Article 2", "id": "choice_2", "description": ""},
        ],
    }
    result = simulator.send(
        f"wa:{number}", button={"id": "menu:x", "title": "Catalogue", "list": True}
    )
    assert result["status"] == 200
    [row] = _inbound(simulator.db, address=number)
    assert row.kind == "button"


def test_telegram_seller_text_and_inline_button_reach_the_webhook(simulator: SimServer) -> None:
    persona = simulator.client.post("/simulator/api/phones", json={"role": "seller", "new": True})
    phone_id = persona.get_json()["phone"]
    assert phone_id.startswith("tg:")

    assert simulator.send(phone_id, text="/start")["status"] == 200
    [row] = _inbound(simulator.db, address=phone_id.removeprefix("tg:"))
    assert row.provider == "telegram"
    replies = simulator.wait(lambda: simulator.replies(phone_id))
    buttons = [b for m in replies for r in m.get("inline_keyboard", []) for b in r]
    if buttons:  # whatever the flow offers, a tap is a callback query through the webhook
        first = next(m for m in replies if m.get("inline_keyboard"))
        tap = {"data": buttons[0]["callback_data"], "message_id": first["message_id"]}
        assert simulator.send(phone_id, callback=tap)["status"] == 200
    assert simulator.send(phone_id, contact={})["status"] == 200
    assert simulator.send(phone_id, location={"lat": 9.598, "lng": -13.646})["status"] == 200
    assert simulator.send(phone_id, photo="colis")["status"] == 200
    kinds = [r.kind for r in _inbound(simulator.db, address=phone_id.removeprefix("tg:"))]
    assert {"contact", "location", "media"} <= set(kinds)


def test_whatsapp_location_and_photo_and_sms_text(simulator: SimServer) -> None:
    number = phone()
    assert (
        simulator.send(f"wa:{number}", location={"lat": 9.5987, "lng": -13.6458, "label": "Kipé"})[
            "status"
        ]
        == 200
    )
    assert simulator.send(f"wa:{number}", photo="sac")["status"] == 200
    kinds = [r.kind for r in _inbound(simulator.db, address=number)]
    assert kinds == ["location", "media"]
    sent = [m for m in simulator.messages(f"wa:{number}") if m["dir"] == "in"]
    assert [m["kind"] for m in sent] == ["location", "photo"]
    assert sent[1]["photo"] == "/simulator/static/samples/sac.jpg"

    courier = phone()
    simulator.send(f"sms:{courier}", text="AIDE")
    [row] = _inbound(simulator.db, address=courier)
    assert str(row.channel) == "sms"
    sms = simulator.wait(lambda: simulator.replies(f"sms:{courier}"))
    assert sms[0]["segments"] >= 1 and sms[0]["encoding"] in ("GSM-7", "UCS-2")
    refused = simulator.client.post(
        "/simulator/api/send", json={"phone": f"sms:{courier}", "photo": "sac"}
    )
    assert refused.status_code == 400
    simulator.send(f"wa:{number}", button={"id": "menu:x", "title": "Catalogue", "list": True})
    # Every Twilio form the phones posted carries only names Twilio documents, and every
    # answer the emulator gave the bot fits the spec's response schemas.
    posted = [w for w in simulator.sim.store.sent_webhooks() if w.kind == "inbound"]
    assert len(posted) >= 4
    assert contracts.webhook_violations(posted) == []
    assert contracts.response_violations(simulator.sim.store.raw_responses()) == []


def test_the_panel_shows_the_conversation_state_and_the_outbox(simulator: SimServer) -> None:
    number = phone()
    simulator.send(f"wa:{number}", text="bonjour", name="Awa Touré")
    simulator.wait(lambda: simulator.replies(f"wa:{number}"))
    state = simulator.client.get(
        "/simulator/api/state", query_string={"phone": f"wa:{number}"}
    ).get_json()

    assert state["user"]["phone"] == number
    [conversation] = [c for c in state["conversations"] if c["this_phone"]]
    assert conversation["flow"] and conversation["state"]
    assert state["outbox"] and state["outbox"][0]["status"]
    assert state["window"]["open"] is True


def test_the_page_and_its_assets_are_served(simulator: SimServer) -> None:
    page = simulator.client.get("/simulator/")
    assert page.status_code == 200 and b"simulator.js" in page.data
    for asset in ("simulator.js", "simulator.css", "samples/sac.jpg"):
        assert simulator.client.get(f"/simulator/static/{asset}").status_code == 200
    config = simulator.client.get("/simulator/api/config").get_json()
    assert [p["role"] for p in config["phones"]] == ["buyer", "seller", "courier"]
    assert [p["phone"][:3] for p in config["phones"]] == ["wa:", "tg:", "sms"]
    assert len(config["quartiers"]) > 40 and config["samples"]
    assert simulator.client.get("/simulator/api/messages?phone=nope").status_code == 400


def test_production_serves_no_simulator_and_no_emulator(pg: Db) -> None:
    config = load_config(environ={"DATABASE_URL": PG_URL})
    assert config.simulator.enabled is False
    rt = Runtime(config)
    try:
        client = create_app(config, runtime=rt).test_client()
        assert client.get("/simulator/").status_code == 404
        assert client.get("/emu/twilio/2010-04-01/Accounts/AC1/Messages.json").status_code == 404
        # Turning the key on without `serve --simulator` wiring is refused, not half-mounted.
        with pytest.raises(ConfigError, match="simulator"):
            build_app(Runtime(config.replace(simulator__enabled=True)))
    finally:
        rt.dispose()


# --- WhatsApp on Meta's Cloud API, switched on the page ----------------------------------------


def _switch(simulator: SimServer, provider: str) -> None:
    response = simulator.client.post(
        "/simulator/api/whatsapp-provider", json={"provider": provider}
    )
    assert response.status_code == 200, response.get_data(as_text=True)
    assert response.get_json() == {"provider": provider}


def _outbox(simulator: SimServer) -> list[Outbox]:
    with simulator.db.session() as s:
        return list(s.scalars(select(Outbox).order_by(Outbox.id)))


def _settle(simulator: SimServer, before: int) -> None:
    """Wait until the turn's rows (ids after `before`) exist and none is waiting to be sent."""

    def done() -> bool:
        rows = [r for r in _outbox(simulator) if r.id > before]
        return bool(rows) and all(
            r.status not in (OutboxStatus.PENDING, OutboxStatus.SENDING) for r in rows
        )

    assert simulator.wait(done)


def _act(simulator: SimServer, phone_id: str, **action: Any) -> list[dict[str, Any]]:
    """Do something on the phone; the bubbles it got in answer."""
    shown = len(simulator.replies(phone_id))
    before = max((r.id for r in _outbox(simulator)), default=0)
    result = simulator.send(phone_id, **action)
    assert result["status"] == 200
    _settle(simulator, before)
    return simulator.replies(phone_id)[shown:]


def _tap(simulator: SimServer, phone_id: str, prefix: str) -> list[dict[str, Any]]:
    """Tap the newest button or list row whose id starts with `prefix`, as the page does."""
    for bubble in reversed(simulator.replies(phone_id)):
        for button in bubble.get("buttons", []):
            if button["id"].startswith(prefix):
                tap = {**button, "message_id": bubble["sid"]}
                return _act(simulator, phone_id, button=tap)
        for row in (bubble.get("list") or {}).get("rows", []):
            if row["id"].startswith(prefix):
                tap = {"id": row["id"], "title": row["title"], "list": True}
                return _act(simulator, phone_id, button={**tap, "message_id": bubble["sid"]})
    raise AssertionError(f"no button or row {prefix!r} on {phone_id}")


def _words(bubbles: list[dict[str, Any]]) -> str:
    return "\n".join(
        [b.get("text", "") for b in bubbles]
        + [x["title"] for b in bubbles for x in b.get("buttons", [])]
        + [r["title"] for b in bubbles for r in (b.get("list") or {}).get("rows", [])]
    )


def test_the_simulator_wires_meta_with_per_process_secrets(simulator: SimServer) -> None:
    config = simulator.rt.config
    assert config.meta.api_base_url == simulator.base_url + "/emu/meta"
    assert config.meta.phone_number_id and config.meta.waba_id
    s = config.secrets
    assert s.meta_whatsapp_token and s.meta_app_secret and s.meta_verify_token
    assert s.meta_app_secret != META_APP_SECRET  # random per process, never the testkit's
    again = prepare_config(config, port=1, environ={}).secrets
    assert again.meta_app_secret != s.meta_app_secret
    given = {"META_WHATSAPP_TOKEN": "t", "META_APP_SECRET": "a", "META_VERIFY_TOKEN": "v"}
    env = prepare_config(config, port=1, environ=given).secrets
    assert (env.meta_whatsapp_token, env.meta_app_secret, env.meta_verify_token) == ("t", "a", "v")
    # The page starts on the configured provider (twilio by default) and says so.
    assert config.whatsapp.provider == "twilio"
    page = simulator.client.get("/simulator/api/config").get_json()
    assert (page["whatsapp_provider"], page["whatsapp_providers"]) == ("twilio", ["twilio", "meta"])
    # The notice templates were made at start by the production sync, pending as Meta leaves them.
    made = simulator.sim.store.meta_templates()
    assert made and {t.status for t in made} == {"PENDING"}
    with simulator.db.session() as session:
        recorded = session.scalar(
            select(func.count(ContentTemplate.id)).where(ContentTemplate.provider == "meta")
        )
    assert recorded == len(made)
    # The subscription check answers with this process's verify token.
    query = {
        "hub.mode": "subscribe",
        "hub.verify_token": s.meta_verify_token,
        "hub.challenge": "42",
    }
    assert simulator.client.get("/webhooks/meta/whatsapp", query_string=query).data == b"42"


def test_a_switch_to_an_unknown_provider_is_refused(simulator: SimServer) -> None:
    response = simulator.client.post("/simulator/api/whatsapp-provider", json={"provider": "x"})
    assert response.status_code == 400
    assert simulator.client.get("/simulator/api/whatsapp-provider").get_json() == {
        "provider": "twilio"
    }


def test_the_buyer_journey_on_meta_then_back_to_twilio(simulator: SimServer) -> None:
    db, store = simulator.db, simulator.sim.store
    seller, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller, stock=5)
    number = phone()
    wa = f"wa:{number}"

    _switch(simulator, "meta")
    assert simulator.app.extensions["boutik"].config.whatsapp.provider == "meta"  # the routes'
    state = simulator.client.get("/simulator/api/state", query_string={"phone": wa}).get_json()
    assert state["whatsapp_provider"] == "meta"

    [menu] = _act(simulator, wa, text="bonjour", name="Awa Touré")
    [row] = _inbound(db, address=number)
    assert row.provider == "meta"
    assert store.twilio_messages(to=f"whatsapp:{number}") == []
    [sent] = store.meta_messages(to=number)
    assert (sent.type, sent.payload["interactive"]["type"]) == ("interactive", "list")
    assert menu["provider"] == "meta" and menu["sid"] == sent.id and menu["list"]["rows"]

    [categories] = _tap(simulator, wa, "menu:catalog")  # a list reply
    assert categories["buttons"]
    [products] = _tap(simulator, wa, "cat:")  # a reply button
    assert "Samsung Galaxy" in _words([products])  # the brand first
    _tap(simulator, wa, f"prod:{product_id}")
    _tap(simulator, wa, f"buy:{product_id}")
    [ask] = _tap(simulator, wa, "addr:pin")
    assert ask["location_request"] is True  # the page shows WhatsApp's "Send location"
    kinds = [r.kind for r in _inbound(db, address=number)]
    assert kinds.count("button") == 5

    pin = {"lat": 9.6412, "lng": -13.62, "label": "Carrefour Kipé"}
    summary = _act(simulator, wa, location=pin)
    assert "Carrefour Kipé" in _words(summary)
    done = _tap(simulator, wa, "co:ok:")

    with db.session() as s:
        buyer_id = s.scalar(select(User.id).where(User.phone == number))
        [order] = s.scalars(select(Order).where(Order.buyer_id == buyer_id)).all()
    assert order.status == OrderStatus.PLACED and order.landmark == "Carrefour Kipé"
    assert any("/media/qr/" in url for b in done for url in b["media"])
    assert flows.code(db, order.id).pin in _words(done)

    # Delivery ticks: the emulator's own "sent", then the pump's signed webhooks move the rows.
    wamids = {m.id for m in store.meta_messages(to=number)}

    def rows_at(*statuses: OutboxStatus) -> bool:
        rows = [r for r in _outbox(simulator) if r.provider_message_id in wamids]
        return len(rows) == len(wamids) and all(r.status in statuses for r in rows)

    assert simulator.wait(lambda: rows_at(OutboxStatus.DELIVERED, OutboxStatus.READ))
    shown = simulator.messages(wa)
    assert {m["status"] for m in shown if m["dir"] == "out"} == {"delivered"}

    def page_looks_then_all_read() -> bool:
        simulator.messages(wa, seen="1")  # the page polls the phone while it is visible
        return rows_at(OutboxStatus.READ)

    assert simulator.wait(page_looks_then_all_read)
    assert all(d.status_code == 200 for d in store.meta_deliveries())

    # Back to Twilio in the same process: the next message and its reply go through Twilio.
    _switch(simulator, "twilio")
    [again] = _act(simulator, wa, text="bonjour")
    assert _inbound(db, address=number)[-1].provider == "twilio"
    assert store.twilio_messages(to=f"whatsapp:{number}")
    assert {m.id for m in store.meta_messages(to=number)} == wamids
    assert "provider" not in again and again["sid"].startswith("SM")


def test_a_photo_on_meta_is_a_media_id_the_webhook_fetches(
    simulator: SimServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    number = phone()
    _switch(simulator, "meta")
    store = simulator.sim.store
    held: list[str] = []
    add_media = store.meta_add_media
    monkeypatch.setattr(store, "meta_add_media", lambda *a: held.append(add_media(*a)) or held[-1])

    pin = {"lat": 9.5987, "lng": -13.6458, "label": "Kipé"}
    assert simulator.send(f"wa:{number}", location=pin)["path"] == "/webhooks/meta/whatsapp"
    assert simulator.send(f"wa:{number}", photo="sac")["status"] == 200

    rows = _inbound(simulator.db, address=number)
    assert [(r.provider, r.kind) for r in rows] == [("meta", "location"), ("meta", "media")]
    sent = [m for m in simulator.messages(f"wa:{number}") if m["dir"] == "in"]
    assert [m["kind"] for m in sent] == ["location", "photo"]
    assert sent[1]["photo"] == "/simulator/static/samples/sac.jpg"
    # The sample went into the Graph emulator first and the webhook carried only its id,
    # which the production sender resolves with the token, as for a real buyer's photo.
    [media_id] = held
    data, mime = simulator.rt.meta_sender.fetch_media(media_id)
    assert mime == "image/jpeg" and data == Path(SAMPLES / "sac.jpg").read_bytes()


def test_meta_refusals_are_shown_loudly_in_the_phone(simulator: SimServer) -> None:
    number = phone()
    _switch(simulator, "meta")
    simulator.send(f"wa:{number}", text="bonjour")
    simulator.wait(lambda: simulator.replies(f"wa:{number}"))
    sender = simulator.rt.meta_sender
    four = [{"type": "reply", "reply": {"id": f"b{i}", "title": f"B{i}"}} for i in range(4)]
    refused = {
        "type": "interactive",
        "interactive": {"type": "button", "body": {"text": "?"}, "action": {"buttons": four}},
    }
    with pytest.raises(SendError):
        sender.send_message(number, refused)
    # A day of silence: the Cloud API accepts free text, then reports it failed (131047).
    simulator.client.post("/simulator/api/clock", json={"hours": 25})
    sender.send_message(number, {"type": "text", "text": {"body": "trop tard"}})

    def errors() -> list[dict[str, Any]]:
        return [m for m in simulator.messages(f"wa:{number}") if m["dir"] == "error"]

    shown = simulator.wait(lambda: len(errors()) == 2 and errors())
    assert [e["provider"] for e in shown] == ["meta", "meta"]
    assert "Meta refused" in shown[0]["text"] and shown[0]["code"]
    assert shown[1]["code"] == 131047 and "24 hours" in shown[1]["text"]
