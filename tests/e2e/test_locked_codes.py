"""A locked delivery code recovered on the running app: the courier locks it by SMS, the admin
sees it on Telegram and unlocks it, the buyer gets a new QR and PIN on WhatsApp, and the courier
delivers with that PIN by SMS."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from boutik.cli import main
from commerce.orders.models import OrderStatus
from commerce.users.models import User
from tests.e2e.conftest import Boutik
from tests.e2e.test_cli import env  # noqa: F401 - the CLI's environment fixture
from tests.services import Emulator
from tests.support import make_admin, make_courier, uid
from tests.timing import WAIT_S
from tests.unit import flows
from tests.webhooks import (
    post_telegram,
    post_twilio,
    sms_form,
    telegram_callback,
    telegram_message,
    whatsapp_form,
)

SMS = "/webhooks/twilio/sms"
WA = "/webhooks/twilio/whatsapp"


@pytest.fixture(autouse=True)
def _fast_providers(boutik: Boutik) -> None:
    """The providers' per-chat and per-number paces are honoured in production; here they
    would only make the test wait."""
    boutik.rt.config = boutik.rt.config.replace(
        telegram__rate_per_chat_per_s=1000.0, twilio__sms_segments_per_s=1000.0
    )


def _phone(b: Boutik, user_id: int) -> str:
    with b.db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.phone
        return user.phone


def _sms_bodies(b: Boutik, number: str) -> list[str]:
    return [m.body for m in b.store.twilio_messages(to=number)]


def _text(b: Boutik, number: str, body: str) -> str:
    """The courier texts `body`; the answer he gets."""
    before = len(_sms_bodies(b, number))
    assert post_twilio(b.client, SMS, sms_form(number, body)).status_code == 200
    return b.store.wait_for(lambda: _sms_bodies(b, number)[before:], timeout=WAIT_S)[-1]


def _tg_texts(b: Boutik, tg: int) -> list[str]:
    return [
        str(c.params.get("text") or c.params.get("caption") or "")
        for c in b.store.telegram_calls(chat_id=tg)
        if c.method.lower() in ("sendmessage", "sendphoto")
    ]


def _tg(b: Boutik, tg: int, update: dict, expect: str) -> str:
    """Post a Telegram update from `tg`; the first new message containing `expect`."""
    before = len(_tg_texts(b, tg))
    assert post_telegram(b.client, update).status_code == 200
    new = b.store.wait_for(
        lambda: [t for t in _tg_texts(b, tg)[before:] if expect in t], timeout=WAIT_S
    )
    return new[0]


def test_admin_unlocks_on_telegram_buyer_gets_a_new_pin_on_whatsapp_courier_delivers(
    boutik: Boutik,
) -> None:
    admin_tg = 880_000 + uid()
    make_admin(boutik.db, telegram_id=admin_tg)
    courier_id = make_courier(boutik.db, prefecture="Kaloum")
    courier = _phone(boutik, courier_id)
    p = flows.place(boutik.db)
    flows.to_picked_up(boutik.db, p, courier_id)
    buyer = _phone(boutik, p.buyer_id)
    wa_buyer = f"whatsapp:{buyer}"
    # The buyer has written on WhatsApp today: the new code can go there as a photo.
    assert post_twilio(boutik.client, WA, whatsapp_form(buyer, "bonjour")).status_code == 200
    wrong = "000000" if p.pin != "000000" else "111111"

    answers = [_text(boutik, courier, f"D{p.order_id} {wrong}") for _ in range(5)]

    assert "admin" in answers[-1] and "nouveau code" in answers[-1]
    alert = boutik.store.wait_for(
        lambda: [t for t in _tg_texts(boutik, admin_tg) if "Code de livraison bloqué" in t]
    )[0]
    assert str(p.order_id) in alert and p.pin not in alert and buyer not in alert
    locked_page = boutik.client.get(f"/q/{p.token}")
    assert locked_page.status_code == 423 and "admin" in locked_page.get_data(as_text=True)

    listing = _tg(boutik, admin_tg, telegram_message(admin_tg, "/codes"), "Codes de livraison")

    assert f"Commande {p.order_id}" in listing and "Ibrahima" in listing and "5 PIN faux" in listing
    for secret in (p.pin, p.token, buyer, buyer.removeprefix("+224")):
        assert secret not in listing
    [keyboard] = [
        c.params["reply_markup"]
        for c in boutik.store.telegram_calls(chat_id=admin_tg)
        if "Codes de livraison" in str(c.params.get("text", ""))
    ]
    assert f"dc:u:{p.order_id}" in str(keyboard)
    before_wa = len(boutik.store.twilio_messages(to=wa_buyer))

    done = _tg(boutik, admin_tg, telegram_callback(admin_tg, f"dc:u:{p.order_id}"), "Nouveau code")

    assert str(p.order_id) in done
    photo = boutik.store.wait_for(
        lambda: [m for m in boutik.store.twilio_messages(to=wa_buyer)[before_wa:] if m.media_urls],
        timeout=WAIT_S,
    )[0]
    new_pin = re.search(r"Code PIN : (\d{6})", photo.body).group(1)  # type: ignore[union-attr]
    assert new_pin != p.pin and "ancien" in photo.body
    image = boutik.client.get(photo.media_urls[0].removeprefix("https://boutik.example.gn"))
    assert image.status_code == 200 and image.data.startswith(b"\x89PNG")
    told = boutik.store.wait_for(
        lambda: [b for b in _sms_bodies(boutik, courier) if b.startswith("Nouveau code")]
    )[0]
    assert str(p.order_id) in told and new_pin not in told
    assert boutik.client.get(f"/q/{p.token}").status_code == 404  # the old QR is dead
    new_token = flows.code(boutik.db, p.order_id).token
    assert boutik.client.get(f"/q/{new_token}").status_code == 200

    assert "Code bon" in _text(boutik, courier, f"D{p.order_id} {new_pin}")
    assert flows.confirm_cash(boutik.db, p) is True
    assert flows.order(boutik.db, p.order_id).status == OrderStatus.DELIVERED
    assert all(m.num_segments == 1 for m in boutik.store.twilio_messages(to=courier))


def test_set_commands_gives_each_admin_chat_the_admin_menu_with_codes(
    env: dict[str, str],  # noqa: F811 - the fixture imported above
    emulator: Emulator,
) -> None:
    overlay = Path(env["BOUTIK_CONFIG"])
    overlay.write_text(overlay.read_text() + "admin_ids = [4242]\n")

    result = CliRunner().invoke(main, ["telegram", "set-commands"], env=env)

    assert result.exit_code == 0, result.output
    fr = [c["command"] for c in emulator.store.telegram_commands("chat:4242", "fr") or []]
    en = [c["command"] for c in emulator.store.telegram_commands("chat:4242", "en") or []]
    assert "codes" in fr and "moderation" in fr and "signalements" in fr
    assert "codes" in en and "reports" in en
    sellers = [c["command"] for c in emulator.store.telegram_commands("default", "fr") or []]
    assert "codes" not in sellers and "nouveau" in sellers
