"""The admin flow through the real engine: moderation with reasons, reports and automatic
deactivation, users, CSV exports and figures."""

from __future__ import annotations

import csv
from pathlib import Path

import pytest
from sqlalchemy import select

from bot.messages import Document
from commerce import rules
from commerce.catalog.models import Shop, ShopStatus
from commerce.moderation import actions as moderation
from commerce.moderation.models import Report, ReportStatus
from commerce.users import actions as users
from commerce.users.models import User
from tests.support import Db, make_buyer, make_product, make_seller, phone, uid
from tests.unit import flows
from tests.unit.seller_admin_turns import Bot, choice_ids, make_bot, texts

ADMIN_TG = 990_101


@pytest.fixture
def bot(db: Db, tmp_path: Path) -> Bot:
    b = make_bot(db, tmp_path, admin_ids=(ADMIN_TG,))
    b.send(ADMIN_TG, "/start")
    return b


def test_moderation_queue_one_card_at_a_time_with_reasons(bot: Bot, db: Db) -> None:
    seller_id, shop_id = make_seller(db, approve=False)
    product_id = make_product(db, seller_id=seller_id, approve=False)
    card = bot.send(ADMIN_TG, "/moderation")
    assert "À modérer : 2" in texts(card) and f"ms:a:{shop_id}" in choice_ids(card)
    assert "motif" in texts(bot.tap(ADMIN_TG, f"ms:r:{shop_id}"))
    after = bot.send(ADMIN_TG, "Adresse introuvable")
    assert f"mp:a:{product_id}" in choice_ids(after)  # the next card follows at once
    with db.session() as s:
        shop = s.get(Shop, shop_id)
        assert shop.status == ShopStatus.REFUSED and shop.refusal_reason == "Adresse introuvable"  # type: ignore[union-attr]
    assert "Adresse introuvable" in texts([bot.notification(seller_id, "shop_refused")])
    skipped = bot.tap(ADMIN_TG, f"m:skip:p:{product_id}")
    assert "Rien à modérer. (1 élément passé)" in texts(skipped)  # singular, not "élément(s)"
    # A stale button (already decided) gets an answer, not a crash.
    bot.tap(ADMIN_TG, f"mp:a:{product_id}")
    assert "plus possible" in texts(bot.tap(ADMIN_TG, f"mp:a:{product_id}"))


def test_reports_resolve_and_ten_open_reports_deactivate(bot: Bot, db: Db) -> None:
    rules.bind(db.factory, rules.Rules(reports_to_deactivate=3))
    seller_id, _shop = make_seller(db)
    report_ids = []
    for _ in range(3):
        buyer_id, _a = make_buyer(db)
        with db.uow() as s:
            report_ids.append(
                moderation.report(
                    s, reporter_id=buyer_id, reason="Arnaque", target_user_id=seller_id
                ).id
            )
    with db.session() as s:
        assert not s.get(User, seller_id).is_active  # type: ignore[union-attr]
    alert = bot.notification(bot.user_id(ADMIN_TG), "account_deactivated")
    assert f"u:v:{seller_id}" in choice_ids([alert])
    listed = bot.send(ADMIN_TG, "/signalements")
    assert f"rp:v:{report_ids[0]}" in choice_ids(listed)
    card = bot.tap(ADMIN_TG, f"rp:v:{report_ids[0]}")
    assert "Arnaque" in texts(card) and "signalements ouverts : 3" in texts(card)
    bot.tap(ADMIN_TG, f"rp:ok:{report_ids[0]}")
    bot.tap(ADMIN_TG, f"rp:no:{report_ids[1]}")
    with db.session() as s:
        statuses = [s.get(Report, i).status for i in report_ids]  # type: ignore[union-attr]
    assert statuses == [ReportStatus.RESOLVED, ReportStatus.DISMISSED, ReportStatus.OPEN]
    bot.tap(ADMIN_TG, f"u:on:{seller_id}")
    with db.session() as s:
        assert s.get(User, seller_id).is_active  # type: ignore[union-attr]


def test_find_users_by_phone_or_name_and_deactivate(bot: Bot, db: Db) -> None:
    number = phone()
    with db.uow() as s:
        target = users.get_or_create_by_phone(s, phone=number, name="Fatoumata Camara").id
    bot.send(ADMIN_TG, "/utilisateurs")
    assert "Aucun compte" in texts(bot.send(ADMIN_TG, "zzzz-personne"))
    card = bot.send(ADMIN_TG, number[4:])  # typed without the country code
    assert "Fatoumata" in texts(card) and f"u:off:{target}" in choice_ids(card)
    bot.tap(ADMIN_TG, f"u:off:{target}")
    with db.session() as s:
        assert not s.get(User, target).is_active  # type: ignore[union-attr]
    found = bot.send(ADMIN_TG, "/utilisateurs fatoumata")
    assert f"u:on:{target}" in choice_ids(found)
    assert "pas le droit" in texts(bot.tap(ADMIN_TG, f"u:off:{bot.user_id(ADMIN_TG)}"))


def test_csv_exports_hold_the_rows(bot: Bot, db: Db, tmp_path: Path) -> None:
    p = flows.place(db)
    with db.uow() as s:
        users.get_or_create_by_phone(s, phone=phone(), name='=HYPERLINK("x")')
    for kind, expected in (("orders", str(p.order_id)), ("products", "Samsung"), ("users", "+224")):
        replies = bot.tap(ADMIN_TG, f"x:{kind}")
        doc = replies[-1]
        assert isinstance(doc, Document) and doc.filename.endswith(".csv")
        with (tmp_path / doc.media_path).open(encoding="utf-8-sig") as fh:
            rows = list(csv.reader(fh))
        assert rows[0][0] == "id" and len(rows) >= 2
        assert any(expected in cell for row in rows[1:] for cell in row)
        if kind == "users":
            assert any(cell.startswith("'=HYPERLINK") for row in rows for cell in row)
            assert any(cell.startswith("+224") for row in rows for cell in row)


def test_figures(bot: Bot, db: Db) -> None:
    p = flows.place(db)
    flows.deliver(db, p)
    text = texts(bot.send(ADMIN_TG, "/chiffres"))
    assert "Commandes : 1" in text and "Vendeurs actifs : 1" in text


def test_a_seller_cannot_use_admin_buttons(bot: Bot, db: Db) -> None:
    seller_id, shop_id = make_seller(db, approve=False)
    with db.session() as s:
        tg = s.get(User, seller_id).telegram_id  # type: ignore[union-attr]
    assert "réservée aux administrateurs" in texts(bot.send(tg, "/moderation"))
    bot.tap(tg, f"ms:a:{shop_id}")
    with db.session() as s:
        assert s.scalar(select(Shop.status).where(Shop.id == shop_id)) == ShopStatus.PENDING
    assert uid()


def test_admin_creates_lists_and_switches_off_a_platform_code(bot: Bot, db: Db) -> None:
    from commerce.cart.models import PromoCode

    assert "/codepromo CODE" in texts(bot.send(ADMIN_TG, "/codepromo"))
    assert "/codepromo CODE" in texts(bot.send(ADMIN_TG, "/codepromo X 10% demain 3"))
    done = bot.send(ADMIN_TG, "/codepromo PARTOUT19 5000 maintenant 7 100")
    assert "tout le panier" in texts(done)
    with db.session() as s:
        promo = s.scalar(select(PromoCode).where(PromoCode.code == "PARTOUT19"))
        assert promo is not None and promo.shop_id is None and promo.amount_off == 5000
    assert f"pc:off:{promo.id}" in choice_ids(bot.send(ADMIN_TG, "/codespromo"))
    # A seller forging the admin's button: not routed to admins, and the core refuses anyway.
    seller_id, _ = make_seller(db)
    with db.session() as s:
        seller_tg = s.get(User, seller_id).telegram_id  # type: ignore[union-attr]
    bot.tap(seller_tg, f"cd:off:{promo.id}")
    with db.session() as s:
        assert s.get(PromoCode, promo.id).is_active is True  # type: ignore[union-attr]
    assert "désactivé" in texts(bot.tap(ADMIN_TG, f"pc:off:{promo.id}"))
