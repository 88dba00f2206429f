"""Sellers on the running app: Telegram JSON updates in, Bot API calls read back from the
emulator — onboarding, a product with a downloaded photo, dispatch, /stats, set-commands."""

from __future__ import annotations

import io
from pathlib import Path

import pytest
from click.testing import CliRunner
from PIL import Image as PILImage
from sqlalchemy import select

from boutik.cli import main
from commerce.catalog.models import ModerationStatus, Product, Shop, ShopStatus
from commerce.delivery.models import JobStatus
from commerce.orders.models import OrderStatus
from tests.e2e.conftest import Boutik, telegram_say, telegram_tap
from tests.e2e.test_cli import env  # noqa: F401 - the CLI's environment fixture
from tests.services import Emulator
from tests.support import make_admin, make_category, phone, uid
from tests.timing import START_S, WAIT_S
from tests.unit import flows
from tests.webhooks import post_telegram, telegram_message

pytestmark = pytest.mark.usefixtures("fast_chats")


def _last_text(boutik: Boutik, tg: int) -> str:
    calls = boutik.store.telegram_calls(chat_id=tg)
    sent = [c for c in calls if c.method.lower() in ("sendmessage", "sendphoto", "senddocument")]
    return str(sent[-1].params.get("text") or sent[-1].params.get("caption") or "")


def _buttons(boutik: Boutik, tg: int) -> list[str]:
    calls = boutik.store.telegram_calls(method="sendMessage", chat_id=tg)
    markup = calls[-1].params.get("reply_markup") or {}
    if isinstance(markup, str):
        import json

        markup = json.loads(markup)
    return [b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row]


def _jpeg() -> bytes:
    out = io.BytesIO()
    PILImage.new("RGB", (64, 48), "orange").save(out, format="JPEG")
    return out.getvalue()


def test_from_start_to_an_approved_product_and_a_dispatched_order(
    boutik: Boutik, tmp_path: Path
) -> None:
    admin_tg = 880_000 + uid()
    make_admin(boutik.db, telegram_id=admin_tg)
    tg = 770_000 + uid()
    telegram_say(boutik, tg, "/start")
    assert _buttons(boutik, tg) == ["w:shop", "w:buy", "w:courier"]
    telegram_tap(boutik, tg, "w:shop")
    keyboard = boutik.store.telegram_calls(method="sendMessage", chat_id=tg)[-1]
    assert "request_contact" in str(keyboard.params.get("reply_markup"))
    # Someone else's contact card: refused.
    other = {"phone_number": phone(), "first_name": "X", "user_id": tg + 1}
    telegram_say(boutik, tg, contact=other)
    assert "pas le vôtre" in boutik.store.telegram_calls(chat_id=tg)[-2].params["text"]
    mine = {"phone_number": phone().lstrip("+"), "first_name": "Aissatou", "user_id": tg}
    telegram_say(boutik, tg, contact=mine)
    for answer in ("Chez Aissatou", "Kaloum", "Boulbinet", "Derrière la mosquée"):
        telegram_say(boutik, tg, answer)
    assert "attend la validation" in _last_text(boutik, tg)
    with boutik.db.session() as s:
        shop = s.scalar(select(Shop).where(Shop.name == "Chez Aissatou"))
        assert shop is not None and shop.status == ShopStatus.PENDING
    assert f"ms:a:{shop.id}" in _buttons(boutik, admin_tg)  # the admins were asked
    telegram_tap(boutik, admin_tg, f"ms:a:{shop.id}")
    assert "validée" in _last_text(boutik, tg)

    cat = make_category(boutik.db, "mode")
    boutik.store.add_file("AgACphoto42", _jpeg(), file_path="photos/file_42.jpg")
    telegram_say(boutik, tg, "/nouveau")
    photo = [{"file_id": "AgACphoto42", "file_unique_id": "u42", "width": 64, "height": 48}]
    telegram_say(boutik, tg, "", photo=photo)
    assert "(2/5)" in _last_text(boutik, tg)  # up to 5 photos: one is enough here
    telegram_tap(boutik, tg, "nph:done")
    for answer in ("Pagne wax", "Tissu 6 yards"):
        telegram_say(boutik, tg, answer)
    telegram_tap(boutik, tg, f"nc:{cat}")
    for answer in ("Vlisco", "-", "250000", "4"):
        telegram_say(boutik, tg, answer)
    preview = boutik.store.telegram_calls(method="sendPhoto", chat_id=tg)[-1]
    assert preview.params["photo"] == "AgACphoto42"  # re-sent by file_id until downloaded
    telegram_tap(boutik, tg, "nw:ok")
    with boutik.db.session() as s:
        product = s.scalar(select(Product).where(Product.name == "Pagne wax"))
        assert product is not None and product.status == ModerationStatus.PENDING

    from workers.seller_media import fetch_product_photo, pending_product_ids

    assert pending_product_ids(boutik.rt) == [product.id]
    assert fetch_product_photo(boutik.rt, product.id) == 1
    assert fetch_product_photo(boutik.rt, product.id) == 0  # idempotent
    with boutik.db.session() as s:
        [stored] = s.get(Product, product.id).photos  # type: ignore[union-attr]
    assert stored.path.startswith("products/") and stored.path.endswith(".jpg")
    assert (boutik.rt.config.media_dir / stored.path).read_bytes() == _jpeg()

    telegram_tap(boutik, admin_tg, f"mv:p:{product.id}")
    assert boutik.store.telegram_calls(method="sendPhoto", chat_id=admin_tg)  # card with photo
    telegram_tap(boutik, admin_tg, f"mp:a:{product.id}")
    assert "en ligne" in _last_text(boutik, tg)

    # A buyer orders; the seller accepts from the alert and publishes with a bonus.
    with boutik.db.session() as s:
        seller_id = s.scalar(select(Shop.owner_id).where(Shop.id == shop.id))
    p = flows.place(boutik.db, seller=(seller_id, shop.id))
    boutik.rt.dispatcher.dispatch([r.id for r in boutik.outbox(kind="order_placed")])
    boutik.flush()
    alerts = [
        str(c.params.get("reply_markup"))
        for c in boutik.store.telegram_calls(method="sendMessage", chat_id=tg)
    ]
    assert any(f"o:a:{p.order_id}" in a and f"o:r:{p.order_id}" in a for a in alerts)
    telegram_tap(boutik, tg, f"o:a:{p.order_id}")
    telegram_tap(boutik, tg, f"d:p:{p.order_id}")
    assert "commission" in _last_text(boutik, tg)
    telegram_tap(boutik, tg, f"d:b:{p.order_id}:5000")
    job = flows.delivery_job(boutik.db, p.order_id)
    assert job is not None and job.status == JobStatus.OPEN and job.bonus == 5000
    assert flows.order(boutik.db, p.order_id).status == OrderStatus.ACCEPTED


def test_forged_callback_for_another_sellers_order_is_refused(boutik: Boutik) -> None:
    p = flows.place(boutik.db)
    intruder = 770_000 + uid()
    telegram_say(boutik, intruder, "/start")
    telegram_tap(boutik, intruder, f"o:a:{p.order_id}")
    assert boutik.store.telegram_calls(method="answerCallbackQuery")
    assert _last_text(boutik, intruder).strip()  # a polite answer
    assert flows.order(boutik.db, p.order_id).status == OrderStatus.PLACED


def test_stats_answers_at_once_and_a_worker_sends_the_png_chart(boutik: Boutik) -> None:
    p = flows.place(boutik.db)
    flows.deliver(boutik.db, p)
    with boutik.db.session() as s:
        from commerce.users.models import User

        tg = s.get(User, p.seller_id).telegram_id  # type: ignore[union-attr]
    boutik.flush()  # the order's own alerts first
    before = len(boutik.store.telegram_calls(chat_id=tg))
    assert post_telegram(boutik.client, telegram_message(tg, "/stats")).status_code == 200
    # The webhook's own reply: the figures, the forecast and the chart announced.
    [now] = boutik.store.wait_for(
        lambda: [
            c
            for c in boutik.store.telegram_calls(method="sendMessage", chat_id=tg)[before:]
            if "Je prépare votre graphique" in str(c.params.get("text", ""))
        ],
        timeout=WAIT_S,
    )
    assert "Prévision du mois prochain" in str(now.params["text"])
    # Then the job (in-process here, RQ with Redis) draws the PNG and sends it as a photo: the
    # first chart of the run imports matplotlib, which costs as much as starting a process.
    [photo] = boutik.store.wait_for(
        lambda: boutik.store.telegram_calls(method="sendPhoto", chat_id=tg), timeout=START_S
    )
    assert photo.params["caption"] == "Vos statistiques"
    charts = list((boutik.rt.config.media_dir / "charts").glob("*.png"))
    assert charts and charts[0].read_bytes().startswith(b"\x89PNG")
    # Drawn for a phone (issue 17): at most 5 inches wide at its resolution, so its 9-point text
    # is about 10 px of a 380-px-wide screen, and at most 2.4 times as tall as wide.
    with PILImage.open(charts[0]) as png:
        (width, height), (dpi, _dpi) = png.size, png.info["dpi"]
    assert width / dpi <= 5 and height <= 2.4 * width
    [row] = [r for r in boutik.outbox(user_id=p.seller_id) if r.dedupe_key]
    assert row.dedupe_key.startswith("stats_chart:")  # type: ignore[union-attr]


def test_set_commands_registers_french_and_english_menus(
    env: dict[str, str],  # noqa: F811 - the fixture imported above
    emulator: Emulator,
) -> None:
    result = CliRunner().invoke(main, ["telegram", "set-commands"], env=env)
    assert result.exit_code == 0, result.output
    fr = emulator.store.telegram_commands("default", "fr")
    en = emulator.store.telegram_commands("default", "en")
    assert [c["command"] for c in fr][:3] == ["start", "nouveau", "produits"]
    assert [c["command"] for c in en][:3] == ["start", "new", "products"]
    assert en[1]["description"] == "Add a product"
