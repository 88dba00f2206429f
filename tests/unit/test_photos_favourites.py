"""Issue 19: up to five photos per product, paged on the buyer's card; favourites and their news.

The core enforces the limit and writes a favourite's news (a lower price once it is visible, stock
again) in the transaction of the change, once, non-essential; the flows offer "Photo suivante
(2/5)" and "♥ Favori" behind the card's "Autres choix", and refuse forged taps politely.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from sqlalchemy import select

from bot.buyer.states import BuyerState as S
from bot.messages import Choices
from bot.notifications import render_notification
from commerce.catalog import actions as catalog
from commerce.catalog import favourites
from commerce.catalog.models import Favourite, ModerationStatus, Product
from commerce.errors import InvalidInput, NotFound, PermissionDenied
from commerce.messaging.notices import Notice
from commerce.moderation import actions as moderation
from commerce.users.models import Channel, User
from tests.support import Db, ensure_admin, make_category, make_product, make_seller
from tests.unit import flows
from tests.unit.buyer_chat import Chat
from tests.unit.seller_admin_turns import Bot, make_bot, texts
from tests.unit.test_seller_flow import ADMIN_TG, _tg


@pytest.fixture
def media(tmp_path: Path) -> Path:
    return tmp_path / "media"


def _product(db: Db, seller_id: int, photos: int, *, approve: bool = True, stock: int = 4) -> int:
    category_id, admin_id = make_category(db, "sacs"), ensure_admin(db)
    with db.uow() as s:
        product = catalog.create_product(
            s,
            seller_id=seller_id,
            category_id=category_id,
            name="Sac en cuir",
            price=90_000,
            stock=stock,
            photo_paths=[f"p{i}.jpg" for i in range(photos)],
        )
        if approve:
            moderation.decide_product(s, admin_id=admin_id, product_id=product.id, approve=True)
        return product.id


def _approve(db: Db, product_id: int) -> None:
    admin_id = ensure_admin(db)
    with db.uow() as s:
        moderation.decide_product(s, admin_id=admin_id, product_id=product_id, approve=True)


def _news(db: Db, user_id: int) -> list[str]:
    kinds = {Notice.FAVOURITE_PRICE_DROP.value, Notice.FAVOURITE_BACK_IN_STOCK.value}
    return [r.kind for r in flows.outbox(db, user_id=user_id) if r.kind in kinds]


# --- five photos: the core's limit ----------------------------------------------------------


def test_a_product_takes_at_most_five_photos(db: Db) -> None:
    seller, _shop = make_seller(db)
    category_id = make_category(db, "sacs")
    with pytest.raises(InvalidInput), db.uow() as s:
        catalog.create_product(
            s,
            seller_id=seller,
            category_id=category_id,
            name="Sac",
            price=1000,
            stock=1,
            photo_paths=[f"p{i}.jpg" for i in range(6)],
        )
    product_id = _product(db, seller, 3)
    with db.uow() as s:
        catalog.add_photo(s, seller_id=seller, product_id=product_id, path="telegram:F4")
        # An edit a buyer would see goes back to moderation, as any other edit does.
        assert s.get(Product, product_id).status == ModerationStatus.PENDING  # type: ignore[union-attr]
        catalog.add_photo(s, seller_id=seller, product_id=product_id, path="telegram:F5")
    with pytest.raises(InvalidInput), db.uow() as s:
        catalog.add_photo(s, seller_id=seller, product_id=product_id, path="telegram:F6")
    other, _ = make_seller(db)
    with pytest.raises(PermissionDenied), db.uow() as s:
        catalog.add_photo(s, seller_id=other, product_id=product_id, path="telegram:X")
    with db.session() as s:
        product = s.get(Product, product_id)
        assert product is not None
        assert [p.path for p in product.photos][-2:] == ["telegram:F4", "telegram:F5"]
        first = product.photos[0].id
    with db.uow() as s:
        catalog.remove_photo(s, seller_id=seller, product_id=product_id, photo_id=first)
    with db.session() as s:
        assert len(s.get(Product, product_id).photos) == 4  # type: ignore[union-attr]


def test_the_last_photo_stays(db: Db) -> None:
    seller, _shop = make_seller(db)
    product_id = _product(db, seller, 1)
    with db.session() as s:
        photo_id = s.get(Product, product_id).photos[0].id  # type: ignore[union-attr]
    with pytest.raises(InvalidInput), db.uow() as s:
        catalog.remove_photo(s, seller_id=seller, product_id=product_id, photo_id=photo_id)


# --- seller: several photos in the dialogue, then editing them -------------------------------


@pytest.fixture
def bot(db: Db, tmp_path: Path) -> Bot:
    return make_bot(db, tmp_path, admin_ids=(ADMIN_TG,))


def test_the_dialogue_takes_up_to_five_photos_then_the_name(bot: Bot, db: Db) -> None:
    bot.send(ADMIN_TG, "/start")
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    bot.send(tg, "/nouveau")
    assert "Envoyez une autre photo (2/5) ou touchez Terminé" in texts(bot.send(tg, photo="F1"))
    for n in range(2, 5):
        assert f"({n + 1}/5)" in texts(bot.send(tg, photo=f"F{n}"))
    assert "5 photos reçues" in texts(bot.send(tg, photo="F5"))
    assert bot.state(tg)[1] == "new_name"
    bot.send(tg, "Pagne wax")
    bot.send(tg, "-")
    bot.tap(tg, f"nc:{make_category(db, 'mode')}")
    bot.send(tg, "-")
    bot.send(tg, "-")
    bot.send(tg, "25000")
    bot.send(tg, "3")
    bot.tap(tg, "nw:ok")
    with db.session() as s:
        product = s.scalar(select(Product).where(Product.name == "Pagne wax"))
        assert product is not None
        assert [p.path for p in product.photos] == [f"telegram:F{n}" for n in range(1, 6)]


def test_terminé_typed_after_one_photo_and_editing_photos(bot: Bot, db: Db) -> None:
    bot.send(ADMIN_TG, "/start")
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    bot.send(tg, "/nouveau")
    assert "photo" in texts(bot.send(tg, "Terminé"))  # no photo yet: one is needed
    assert bot.state(tg)[1] == "new_photo"
    bot.send(tg, photo="F1")
    bot.send(tg, "Terminé")
    assert bot.state(tg)[1] == "new_name"
    # Editing: add a photo, remove one; each sends the product back to moderation.
    product_id = _product(db, seller_id, 1)
    bot.tap(tg, f"pf:{product_id}:photos")
    bot.tap(tg, f"pha:{product_id}")
    assert bot.state(tg)[1] == "edit_photo"
    assert "(2/5)" in texts(bot.send(tg, photo="NEW"))
    with db.session() as s:
        product = s.get(Product, product_id)
        assert product is not None and product.status == ModerationStatus.PENDING
        assert [p.path for p in product.photos] == ["p0.jpg", "telegram:NEW"]
        first = product.photos[0].id
    assert "retirée" in texts(bot.tap(tg, f"phx:{product_id}:{first}"))
    # Someone else's photo id, or a forged product: refused, nothing removed.
    other, _ = make_seller(db)
    foreign = _product(db, other, 2)
    with db.session() as s:
        foreign_photo = s.get(Product, foreign).photos[0].id  # type: ignore[union-attr]
    bot.tap(tg, f"phx:{foreign}:{foreign_photo}")
    bot.tap(tg, f"phx:{product_id}:{foreign_photo}")
    with db.session() as s:
        assert len(s.get(Product, foreign).photos) == 2  # type: ignore[union-attr]
        assert len(s.get(Product, product_id).photos) == 1  # type: ignore[union-attr]


# --- buyer: paging through the photos -------------------------------------------------------


def test_the_card_pages_through_the_photos(db: Db, media: Path) -> None:
    seller, _shop = make_seller(db)
    product_id = _product(db, seller, 3)
    chat = Chat(db, media)
    chat.say("bonjour")
    chat.press(f"prod:{product_id}")
    assert [i.media_path for i in chat.images()] == ["p0.jpg"]
    assert [c.label for c in chat.menu().choices] == [  # type: ignore[union-attr]
        "Acheter",
        "Ajouter au panier",
        "Autres choix",
    ]
    chat.tap("Autres choix")
    assert chat.menu().choices[0].id == f"ph:{product_id}:1"  # type: ignore[union-attr]
    chat.tap("Photo suivante (2/3)")
    assert [i.media_path for i in chat.images()] == ["p1.jpg"]
    assert "Sac en cuir (2/3)" in chat.texts()
    chat.tap("Photo suivante (3/3)")
    assert [i.media_path for i in chat.images()] == ["p2.jpg"]
    chat.tap("Première photo")
    assert [i.media_path for i in chat.images()] == ["p0.jpg"]
    assert chat.current == S.PRODUCT
    # Telegram: the next photo is an inline button on the card itself.
    tg = Chat(db, media, channel=Channel.TELEGRAM, telegram_id=4_200_001)
    tg.say("bonjour")
    tg.press(f"prod:{product_id}")
    assert f"ph:{product_id}:1" in [c.id for c in tg.menu().choices]  # type: ignore[union-attr]
    # SMS: text only, nothing to page.
    sms = Chat(db, media, channel=Channel.SMS)
    sms.say("bonjour")
    sms.press(f"opts:{product_id}")
    assert not any(c.id.startswith("ph:") for c in sms.menu().choices)  # type: ignore[union-attr]


def test_forged_photo_taps_get_a_polite_reply(db: Db, media: Path) -> None:
    seller, _shop = make_seller(db)
    product_id = _product(db, seller, 2)
    hidden = _product(db, seller, 3, approve=False)
    chat = Chat(db, media)
    chat.say("bonjour")
    chat.press(f"ph:{product_id}:7")
    assert "Cette photo n'existe pas" in chat.texts() and not chat.images()[1:]
    chat.press(f"ph:{product_id}:-1")
    assert "Cette photo n'existe pas" in chat.texts()
    chat.press(f"ph:{hidden}:1")
    assert "n'est plus disponible" in chat.texts() and not chat.images()
    with db.uow() as s:
        catalog.set_paused(s, seller_id=seller, product_id=product_id, paused=True)
    chat.press(f"ph:{product_id}:1")
    assert "n'est plus disponible" in chat.texts() and not chat.images()


# --- favourites -----------------------------------------------------------------------------


def test_favourite_add_list_open_and_remove(db: Db, media: Path) -> None:
    seller, _shop = make_seller(db)
    product_id = _product(db, seller, 1)
    other_id = make_product(db, seller_id=seller, name="Robe wax")
    chat = Chat(db, media)
    chat.say("bonjour")
    chat.say("FAVORIS")
    assert "pas encore de favori" in chat.texts()
    chat.press(f"opts:{product_id}")
    chat.tap("♥ Favori")
    assert "est dans vos favoris" in chat.texts()
    chat.press(f"fav:add:{product_id}")
    assert "déjà dans vos favoris" in chat.texts()
    chat.press(f"fav:add:{other_id}")
    chat.press(f"opts:{product_id}")
    assert "Retirer des favoris" in [c.label for c in chat.menu().choices]  # type: ignore[union-attr]
    chat.say("favourites")
    assert "Vos favoris (2 sur 2)" in chat.texts()
    chat.tap("Sac en cuir")  # opens its card
    assert chat.current == S.PRODUCT and "90 000 GNF" in chat.texts()
    chat.say("/favoris")
    chat.tap("Retirer un favori")
    chat.tap("Robe wax")
    assert "retiré de vos favoris" in chat.texts() and "Vos favoris (1 sur 1)" in chat.texts()
    # Forged: a product that is not for sale, a favourite that is not hers.
    hidden = _product(db, seller, 1, approve=False)
    chat.press(f"fav:add:{hidden}")
    assert "n'est plus disponible" in chat.texts()
    chat.press(f"fav:del:{other_id}")
    assert "pas (ou plus) dans vos favoris" in chat.texts()
    with db.session() as s:
        assert s.scalars(select(Favourite.product_id)).all() == [product_id]
    # The command is listed where the buyer's commands are.
    chat.say("aide")
    assert "FAVORIS" in chat.texts()


def _favourite(db: Db, media: Path, product_id: int) -> tuple[Chat, int]:
    chat = Chat(db, media)
    chat.say("bonjour")
    chat.press(f"fav:add:{product_id}")
    return chat, chat.user_id()


def test_a_price_drop_is_told_once_when_the_product_is_visible_again(db: Db, media: Path) -> None:
    seller, _shop = make_seller(db)
    product_id = _product(db, seller, 1)
    _chat, buyer = _favourite(db, media, product_id)
    with db.uow() as s:
        catalog.update_product(s, seller_id=seller, product_id=product_id, price=80_000)
    assert _news(db, buyer) == []  # waiting for moderation: nobody can see the new price
    _approve(db, product_id)
    [row] = [r for r in flows.outbox(db, user_id=buyer) if r.kind == "favourite_price_drop"]
    assert row.essential is False
    assert row.payload["params"] == {"product_id": product_id, "price": 80_000, "old_price": 90_000}
    # A new name at the same price, a restock of a product in stock: no news.
    with db.uow() as s:
        catalog.update_product(s, seller_id=seller, product_id=product_id, name="Sac en cuir noir")
    _approve(db, product_id)
    with db.uow() as s:
        catalog.restock(s, seller_id=seller, product_id=product_id, add=3)
    assert _news(db, buyer) == ["favourite_price_drop"]


def test_back_in_stock_once_and_nothing_after_stop(db: Db, media: Path) -> None:
    seller, _shop = make_seller(db)
    product_id = _product(db, seller, 1, stock=1)
    chat, buyer = _favourite(db, media, product_id)
    quiet, quiet_id = _favourite(db, media, product_id)
    quiet.say("STOP")
    placed = flows.place(db, quantity=1, seller=(seller, _shop))  # another product: unrelated
    flows.add(db, placed.buyer_id, product_id, 1)
    flows.checkout(db, placed.buyer_id, placed.address_id)  # the last one sold
    with db.uow() as s:
        catalog.restock(s, seller_id=seller, product_id=product_id, add=5)
        catalog.restock(s, seller_id=seller, product_id=product_id, add=5)
    assert _news(db, buyer) == ["favourite_back_in_stock"]
    assert _news(db, quiet_id) == []  # STOP: non-essential news is not written for her
    [row] = [r for r in flows.outbox(db, user_id=buyer) if r.kind == "favourite_back_in_stock"]
    with db.session() as s:
        assert s.get(User, quiet_id).opted_out  # type: ignore[union-attr]
        reply = render_notification(s, s.get(User, buyer), row.kind, row.payload["params"], "fr")
        assert isinstance(reply, Choices) and "de nouveau en stock" in reply.text
        assert [c.id for c in reply.choices] == [f"prod:{product_id}"]
    chat.press(f"prod:{product_id}")
    assert "En stock" in chat.texts()


def test_no_news_from_a_product_buyers_cannot_see(db: Db, media: Path) -> None:
    seller, shop = make_seller(db)
    product_id = _product(db, seller, 1, stock=1)
    _chat, buyer = _favourite(db, media, product_id)
    other = flows.place(db, seller=(seller, shop))
    flows.add(db, other.buyer_id, product_id, 1)
    flows.checkout(db, other.buyer_id, other.address_id)  # the last one sold
    with db.uow() as s:
        catalog.set_paused(s, seller_id=seller, product_id=product_id, paused=True)
        catalog.restock(s, seller_id=seller, product_id=product_id, add=2)
    assert _news(db, buyer) == []  # paused: nobody is told
    with db.uow() as s:
        catalog.set_paused(s, seller_id=seller, product_id=product_id, paused=False)
    assert _news(db, buyer) == ["favourite_back_in_stock"]  # told when it is on sale again
    with pytest.raises(NotFound), db.uow() as s:
        favourites.remove_favourite(s, user_id=buyer, product_id=product_id + 999)
