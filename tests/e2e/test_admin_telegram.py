"""Admins on the running app: moderation, reports and deactivation, a CSV export sent as a
Telegram document and checked line by line, and a non-admin refused."""

from __future__ import annotations

import csv
import io

import pytest
from sqlalchemy import select

from commerce import rules
from commerce.catalog.models import ModerationStatus, Product
from commerce.moderation import actions as moderation
from commerce.users.models import User
from tests.e2e.conftest import Boutik, telegram_say, telegram_tap
from tests.support import make_admin, make_buyer, make_product, make_seller, uid
from tests.timing import WAIT_S
from tests.unit import flows

pytestmark = pytest.mark.usefixtures("fast_chats")


def _texts(boutik: Boutik, tg: int) -> list[str]:
    return [
        str(c.params.get("text") or c.params.get("caption") or "")
        for c in boutik.store.telegram_calls(chat_id=tg)
        if c.method.lower() in ("sendmessage", "sendphoto", "senddocument")
    ]


def test_csv_export_is_a_document_with_every_order(boutik: Boutik) -> None:
    admin_tg = 880_000 + uid()
    make_admin(boutik.db, telegram_id=admin_tg)
    placed = [flows.place(boutik.db) for _ in range(3)]
    telegram_say(boutik, admin_tg, "/export")
    telegram_tap(boutik, admin_tg, "x:orders")
    [doc] = boutik.store.telegram_calls(method="sendDocument", chat_id=admin_tg)
    upload = doc.files["document"]
    assert upload.filename.startswith("boutik-orders-") and upload.filename.endswith(".csv")
    rows = list(csv.DictReader(io.StringIO(upload.data.decode("utf-8-sig"))))
    assert sorted(int(r["id"]) for r in rows) == sorted(p.order_id for p in placed)
    assert {r["status"] for r in rows} == {"placed"}
    assert [int(r["total_gnf"]) for r in sorted(rows, key=lambda r: int(r["id"]))] == [
        p.total for p in sorted(placed, key=lambda p: p.order_id)
    ]
    assert "3 lignes." in str(doc.params.get("caption"))


def test_a_large_export_answers_at_once_and_the_file_follows_from_a_worker(
    boutik: Boutik, monkeypatch: pytest.MonkeyPatch
) -> None:
    import bot.admin.handlers

    monkeypatch.setattr(bot.admin.handlers, "LARGE_EXPORT", 2)
    admin_tg = 880_000 + uid()
    make_admin(boutik.db, telegram_id=admin_tg)
    placed = [flows.place(boutik.db) for _ in range(3)]
    telegram_say(boutik, admin_tg, "/export")
    telegram_tap(boutik, admin_tg, "x:orders")
    assert any("le fichier suit" in t for t in _texts(boutik, admin_tg))
    [doc] = boutik.store.wait_for(
        lambda: boutik.store.telegram_calls(method="sendDocument", chat_id=admin_tg), timeout=WAIT_S
    )
    rows = list(csv.DictReader(io.StringIO(doc.files["document"].data.decode("utf-8-sig"))))
    assert sorted(int(r["id"]) for r in rows) == sorted(p.order_id for p in placed)


def test_moderation_refusal_reason_reaches_the_seller(boutik: Boutik) -> None:
    admin_tg = 880_000 + uid()
    make_admin(boutik.db, telegram_id=admin_tg)
    seller_id, _shop = make_seller(boutik.db)
    product_id = make_product(boutik.db, seller_id=seller_id, approve=False)
    telegram_say(boutik, admin_tg, "/moderation")
    assert any("Téléphone Samsung" in t for t in _texts(boutik, admin_tg))
    telegram_tap(boutik, admin_tg, f"mp:r:{product_id}")
    telegram_say(boutik, admin_tg, "Prix incohérent")
    with boutik.db.session() as s:
        product = s.get(Product, product_id)
        assert product is not None and product.status == ModerationStatus.REJECTED
        seller_tg = s.get(User, seller_id).telegram_id  # type: ignore[union-attr]
    boutik.rt.dispatcher.dispatch([r.id for r in boutik.outbox(kind="product_rejected")])
    boutik.flush()
    assert any("Prix incohérent" in t for t in _texts(boutik, seller_tg))


def test_reports_deactivate_and_the_admin_reactivates(boutik: Boutik) -> None:
    boutik.use_rules(rules.Rules(reports_to_deactivate=2))
    admin_tg = 880_000 + uid()
    make_admin(boutik.db, telegram_id=admin_tg)
    seller_id, _shop = make_seller(boutik.db)
    for _ in range(2):
        buyer_id, _a = make_buyer(boutik.db)
        with boutik.db.uow() as s:
            moderation.report(
                s, reporter_id=buyer_id, reason="Faux produit", target_user_id=seller_id
            )
    with boutik.db.session() as s:
        assert not s.get(User, seller_id).is_active  # type: ignore[union-attr]
    boutik.rt.dispatcher.dispatch([r.id for r in boutik.outbox(kind="account_deactivated")])
    boutik.flush()
    assert any("désactivé automatiquement" in t for t in _texts(boutik, admin_tg))
    telegram_tap(boutik, admin_tg, f"u:on:{seller_id}")
    with boutik.db.session() as s:
        assert s.scalar(select(User.is_active).where(User.id == seller_id))


def test_a_non_admin_is_refused_politely(boutik: Boutik) -> None:
    tg = 770_000 + uid()
    for command in ("/moderation", "/export", "/chiffres"):
        telegram_say(boutik, tg, command)
    texts = _texts(boutik, tg)
    assert sum("réservée aux administrateurs" in t for t in texts) == 3
    assert not boutik.store.telegram_calls(method="sendDocument", chat_id=tg)
