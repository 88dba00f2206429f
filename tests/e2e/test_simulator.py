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
from commerce.messaging.templates import menu_sids
from devtools import contracts
from devtools.simulator import prepare_config, simulator_of
from devtools.simulator.routes import Simulator
from settings.config import ConfigError, load_config
from tests.support import PG_URL, Db, phone
from tests.timing import WAIT_S
from tests.webhooks import AUTH_TOKEN, post_telegram, post_twilio, telegram_message, whatsapp_form


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
