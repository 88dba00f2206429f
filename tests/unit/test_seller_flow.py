"""The seller flow through the real engine: onboarding, products, promotions, orders, dispatch,
returns, reviews, /stats — and forged buttons refused politely."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pytest
from sqlalchemy import select

from bot.messages import AskContact, Choices, Image, Reply, Text, reply_from_json
from bot.seller.charts import CHART_PENDING_S
from commerce import clock
from commerce.catalog.models import ModerationStatus, Product, Promotion, Shop, ShopStatus
from commerce.delivery.models import JobStatus
from commerce.messaging.models import ConversationState, Outbox
from commerce.orders.models import OrderStatus
from commerce.returns import actions as returns
from commerce.returns.models import ReturnStatus
from commerce.reviews import actions as reviews
from commerce.reviews.models import Review
from commerce.users.models import User
from tests.support import Db, make_category, make_courier, make_product, make_seller, phone, uid
from tests.unit import flows
from tests.unit.seller_admin_turns import Bot, choice_ids, make_bot, texts

ADMIN_TG = 990_001


@pytest.fixture
def bot(db: Db, tmp_path: Path) -> Bot:
    return make_bot(db, tmp_path, admin_ids=(ADMIN_TG,))


def _tg(db: Db, user_id: int) -> int:
    with db.session() as s:
        user = s.get(User, user_id)
        assert user is not None and user.telegram_id is not None
        return user.telegram_id


def test_onboarding_shares_own_contact_and_waits_for_admin_approval(bot: Bot, db: Db) -> None:
    bot.send(ADMIN_TG, "/start")  # the admin exists (and is told of new shops)
    tg = 700_000 + uid()
    welcome = bot.send(tg, "/start")
    assert choice_ids(welcome) == ["w:shop", "w:buy", "w:courier"]
    ask = bot.tap(tg, "w:shop")
    assert isinstance(ask[-1], AskContact)
    # A contact card of someone else is refused: the number is not the sender's.
    refused = bot.send(tg, contact=("+224622000111", tg + 1))
    assert "pas le vôtre" in texts(refused)
    assert bot.state(tg) == ("seller", "phone")
    number = phone()
    assert "nom de votre boutique" in texts(bot.send(tg, contact=(number, tg)))
    assert "entre 2 et 80" in texts(bot.send(tg, "x"))
    assert choice_ids(bot.send(tg, "Boutique Kadiatou"))[0] == "pf:Kaloum"
    assert "ne connais pas" in texts(bot.send(tg, "Atlantis"))
    bot.tap(tg, "pf:Kaloum")
    bot.send(tg, "Boulbinet")
    done = bot.send(tg, "En face de la pharmacie")
    assert "attend la validation" in texts(done)
    seller_id = bot.user_id(tg)
    with db.session() as s:
        shop = s.scalar(select(Shop).where(Shop.owner_id == seller_id))
        assert shop is not None and shop.status == ShopStatus.PENDING
        assert shop.prefecture == "Kaloum" and shop.quartier == "Boulbinet"
        assert s.get(User, seller_id).phone == number  # type: ignore[union-attr]
    alert = bot.notification(bot.user_id(ADMIN_TG), "shop_pending")
    assert isinstance(alert, Choices) and f"ms:a:{shop.id}" in [c.id for c in alert.choices]
    approved = bot.tap(ADMIN_TG, f"ms:a:{shop.id}")
    assert "validé" in texts(approved)
    with db.session() as s:
        assert s.get(Shop, shop.id).status == ShopStatus.APPROVED  # type: ignore[union-attr]
    assert "validée" in texts([bot.notification(seller_id, "shop_approved")])


def test_newcomer_can_choose_to_buy_instead(bot: Bot) -> None:
    tg = 700_000 + uid()
    bot.send(tg, "/start")
    bot.tap(tg, "w:buy")
    assert bot.state(tg)[0] == "buyer"


def _create_product(bot: Bot, tg: int, cat_id: int, name: str = "Pagne wax") -> list:  # type: ignore[type-arg]
    bot.send(tg, "/nouveau")
    assert "photo" in texts(bot.send(tg, "pas de photo"))
    assert "(2/5) ou touchez Terminé" in texts(bot.send(tg, photo="AgACFILE1"))
    bot.tap(tg, "nph:done")
    bot.send(tg, name)
    bot.send(tg, "Tissu 6 yards")
    bot.tap(tg, f"nc:{cat_id}")
    bot.send(tg, "Vlisco")
    bot.send(tg, "-")
    assert "invalide" in texts(bot.send(tg, "cher"))
    bot.send(tg, "250 000")
    return bot.send(tg, "5")


def test_an_old_category_button_during_the_photos_skips_nothing(bot: Bot, db: Db) -> None:
    """A category button left from an earlier product, tapped while this one waits for more
    photos, used to jump ahead without a name and crash at the stock step."""
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    cat = make_category(db, "mode")
    bot.send(tg, "/nouveau")
    bot.send(tg, photo="AgACFILE1")
    assert "Terminé" in texts(bot.tap(tg, f"nc:{cat}"))  # the photo step, asked again
    assert bot.state(tg)[1] == "new_photo"
    bot.tap(tg, "nph:done")
    assert bot.state(tg)[1] == "new_name"
    assert "nom" in texts(bot.tap(tg, f"nc:{cat}")).lower()  # the name step, asked again
    assert bot.state(tg)[1] == "new_name"


def test_guided_product_creation_with_photo_preview_and_moderation(bot: Bot, db: Db) -> None:
    bot.send(ADMIN_TG, "/start")
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    cat = make_category(db, "mode")
    preview = _create_product(bot, tg, cat)
    assert isinstance(preview[0], Image) and preview[0].media_path == "telegram:AgACFILE1"
    assert "250 000 GNF" in texts(preview) and choice_ids(preview) == ["nw:ok", "nw:no"]
    assert "Publier" in texts(bot.send(tg, "euh"))  # the preview waits for a button
    sent = bot.tap(tg, "nw:ok")
    assert "modération" in texts(sent)
    with db.session() as s:
        product = s.scalar(select(Product).where(Product.name == "Pagne wax"))
        assert product is not None and product.status == ModerationStatus.PENDING
        assert product.colour == "" and product.brand == "Vlisco" and product.stock == 5
        assert [p.path for p in product.photos] == ["telegram:AgACFILE1"]
    alert = bot.notification(bot.user_id(ADMIN_TG), "product_pending")
    assert f"mp:a:{product.id}" in [c.id for c in alert.choices]  # type: ignore[union-attr]
    card = bot.tap(ADMIN_TG, f"mv:p:{product.id}")
    assert isinstance(card[0], Image) and "Pagne wax" in texts(card)
    bot.tap(ADMIN_TG, f"mp:a:{product.id}")
    with db.session() as s:
        assert s.get(Product, product.id).status == ModerationStatus.APPROVED  # type: ignore[union-attr]
    assert "en ligne" in texts([bot.notification(seller_id, "product_approved")])


def test_refused_product_needs_a_reason_and_the_seller_reads_it(bot: Bot, db: Db) -> None:
    bot.send(ADMIN_TG, "/start")
    seller_id, _shop = make_seller(db)
    product_id = make_product(db, seller_id=seller_id, approve=False)
    ask = bot.tap(ADMIN_TG, f"mp:r:{product_id}")
    assert "motif" in texts(ask)
    bot.send(ADMIN_TG, "Photo floue")
    with db.session() as s:
        product = s.get(Product, product_id)
        assert product.status == ModerationStatus.REJECTED  # type: ignore[union-attr]
        assert product.rejection_reason == "Photo floue"  # type: ignore[union-attr]
    assert "Photo floue" in texts([bot.notification(seller_id, "product_rejected")])


def test_product_list_pages_and_each_action_works(bot: Bot, db: Db) -> None:
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    ids = [make_product(db, seller_id=seller_id, name=f"Article {i}") for i in range(10)]
    first = bot.send(tg, "/produits")
    assert len([c for c in choice_ids(first) if c.startswith("pr:")]) == 8
    assert "pg:8" in choice_ids(first)
    second = bot.tap(tg, "pg:8")
    assert [c for c in choice_ids(second) if c.startswith("pr:")] == [
        f"pr:{ids[1]}",
        f"pr:{ids[0]}",
    ]
    target = ids[0]
    card = bot.tap(tg, f"pr:{target}")
    assert f"pe:{target}" in choice_ids(card)
    bot.tap(tg, f"pe:{target}")
    bot.tap(tg, f"pf:{target}:price")
    assert "invalide" in texts(bot.send(tg, "gratuit"))
    assert "modération" in texts(bot.send(tg, "300000"))
    bot.tap(tg, f"pp:{target}")
    bot.tap(tg, f"ps:{target}")
    assert "positif" in texts(bot.send(tg, "-3"))
    bot.send(tg, "5")
    with db.session() as s:
        p = s.get(Product, target)
        assert p is not None
        assert (p.price, p.status, p.is_paused, p.stock) == (
            300_000,
            ModerationStatus.PENDING,
            True,
            15,
        )
    assert f"px:{target}" in choice_ids(bot.tap(tg, f"pd:{target}"))
    bot.tap(tg, f"px:{target}")
    with db.session() as s:
        assert s.get(Product, target).is_deleted  # type: ignore[union-attr]


def test_promo_with_start_and_end(bot: Bot, db: Db) -> None:
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    product_id = make_product(db, seller_id=seller_id)
    assert f"pm:{product_id}" in choice_ids(bot.send(tg, "/promo"))
    bot.tap(tg, f"pm:{product_id}")
    assert "entre 1 et 99" in texts(bot.send(tg, "150"))
    bot.send(tg, "20 %")
    assert "invalide" in texts(bot.send(tg, "demain"))
    bot.send(tg, "maintenant")
    done = bot.send(tg, "7")
    assert "20 %" in texts(done)
    with db.session() as s:
        promo = s.scalar(select(Promotion).where(Promotion.product_id == product_id))
        assert promo is not None and promo.percent == 20


def test_new_order_alert_accept_then_publish_with_bonus(bot: Bot, db: Db) -> None:
    p = flows.place(db)
    tg = _tg(db, p.seller_id)
    alert = bot.notification(p.seller_id, "order_placed")
    assert isinstance(alert, Choices)
    assert [c.id for c in alert.choices] == [f"o:a:{p.order_id}", f"o:r:{p.order_id}"]
    accepted = bot.tap(tg, f"o:a:{p.order_id}")
    assert choice_ids(accepted) == [f"d:m:{p.order_id}", f"d:k:{p.order_id}", f"d:p:{p.order_id}"]
    quote = bot.tap(tg, f"d:p:{p.order_id}")
    assert "commission" in texts(quote) and f"d:b:{p.order_id}:5000" in choice_ids(quote)
    assert "invalide" in texts(bot.send(tg, "beaucoup"))
    bot.tap(tg, f"d:b:{p.order_id}:5000")
    job = flows.delivery_job(db, p.order_id)
    assert job is not None and job.status == JobStatus.OPEN and job.bonus == 5000


def test_deliver_myself_and_known_courier(bot: Bot, db: Db) -> None:
    seller = make_seller(db)
    tg = _tg(db, seller[0])
    mine, theirs = flows.place(db, seller=seller), flows.place(db, seller=seller)
    bot.tap(tg, f"o:a:{mine.order_id}")
    bot.tap(tg, f"d:m:{mine.order_id}")
    assert flows.order(db, mine.order_id).courier_id == seller[0]
    courier_id = make_courier(db)
    with db.session() as s:
        courier_phone = s.get(User, courier_id).phone  # type: ignore[union-attr]
    bot.tap(tg, f"o:a:{theirs.order_id}")
    bot.tap(tg, f"d:k:{theirs.order_id}")
    assert "valide" in texts(bot.send(tg, "123"))
    assert "Aucun livreur" in texts(bot.send(tg, phone()))
    bot.send(tg, courier_phone)
    o = flows.order(db, theirs.order_id)
    assert o.courier_id == courier_id and o.status == OrderStatus.COURIER_ASSIGNED


def test_refusal_needs_a_reason_and_puts_stock_back(bot: Bot, db: Db) -> None:
    p = flows.place(db, stock=10, quantity=3)
    tg = _tg(db, p.seller_id)
    bot.tap(tg, f"o:r:{p.order_id}")
    bot.send(tg, "Rupture chez le fournisseur")
    o = flows.order(db, p.order_id)
    assert o.status == OrderStatus.REFUSED and o.refusal_reason == "Rupture chez le fournisseur"
    with db.session() as s:
        assert s.get(Product, p.product_id).stock == 10  # type: ignore[union-attr]


def test_forged_buttons_for_another_sellers_order_are_refused(bot: Bot, db: Db) -> None:
    p = flows.place(db)
    other_seller, _shop = make_seller(db)
    tg = _tg(db, other_seller)
    for data in (f"o:a:{p.order_id}", f"o:r:{p.order_id}", f"d:p:{p.order_id}"):
        assert "pas le droit" in texts(bot.tap(tg, data))
    for data in ("o:a:abc", "o:a:", "d:b:1:x", "pf:1:password", "o:a:99999999999"):
        assert texts(bot.tap(tg, data)).strip()  # an answer, never a crash
    assert flows.order(db, p.order_id).status == OrderStatus.PLACED


def test_orders_list_by_status(bot: Bot, db: Db) -> None:
    seller = make_seller(db)
    tg = _tg(db, seller[0])
    assert "Aucune commande" in texts(bot.send(tg, "/commandes"))
    a, _b = flows.place(db, seller=seller), flows.place(db, seller=seller)
    flows.accept(db, a)
    listed = bot.send(tg, "/commandes")
    assert "reçue, en attente du vendeur : 1" in texts(listed)
    assert "acceptée par le vendeur : 1" in texts(listed)
    view = bot.tap(tg, f"o:v:{a.order_id}")
    assert f"d:p:{a.order_id}" in choice_ids(view)


def test_return_approve_and_refuse_with_reason(bot: Bot, db: Db) -> None:
    seller = make_seller(db)
    tg = _tg(db, seller[0])
    first, second = flows.place(db, seller=seller), flows.place(db, seller=seller)
    ret_ids = []
    for p in (first, second):
        flows.deliver(db, p)
        with db.uow() as s:
            ret = returns.request_return(
                s, buyer_id=p.buyer_id, order_id=p.order_id, items=[(p.item_id, 1)], reason="Abîmé"
            )
            ret_ids.append(ret.id)
    alert = bot.notification(seller[0], "return_requested")
    assert f"r:a:{ret_ids[1]}" in [c.id for c in alert.choices]  # type: ignore[union-attr]
    bot.tap(tg, f"r:a:{ret_ids[0]}")
    bot.tap(tg, f"r:r:{ret_ids[1]}")
    bot.send(tg, "Produit utilisé")
    with db.session() as s:
        from commerce.returns.models import Return

        assert s.get(Return, ret_ids[0]).status == ReturnStatus.APPROVED  # type: ignore[union-attr]
        refused = s.get(Return, ret_ids[1])
        assert refused.status == ReturnStatus.REFUSED  # type: ignore[union-attr]
        assert refused.refusal_reason == "Produit utilisé"  # type: ignore[union-attr]


def test_review_reply(bot: Bot, db: Db) -> None:
    p = flows.place(db)
    tg = _tg(db, p.seller_id)
    flows.deliver(db, p)
    with db.uow() as s:
        review = reviews.add_review(
            s, buyer_id=p.buyer_id, order_item_id=p.item_id, rating=2, comment="Trop petit"
        )
    alert = bot.notification(p.seller_id, "negative_review")
    assert "Trop petit" in texts([alert]) and choice_ids([alert]) == [f"rv:{review.id}"]
    bot.tap(tg, f"rv:{review.id}")
    bot.send(tg, "Désolé, échange possible")
    with db.session() as s:
        assert s.get(Review, review.id).seller_reply == "Désolé, échange possible"  # type: ignore[union-attr]


@dataclass
class _Jobs:
    """A dispatcher that keeps what it is given: jobs run when the test says, in order."""

    queued: list[tuple[float, Callable[..., Any], tuple[Any, ...]]] = field(default_factory=list)
    dispatched: list[int] = field(default_factory=list)

    def enqueue(self, fn: Callable[..., Any], *args: Any, delay_s: float = 0.0) -> None:
        self.queued.append((delay_s, fn, args))

    def dispatch(self, ids: list[int]) -> None:
        self.dispatched.extend(ids)

    def schedule(self, outbox_id: int, delay_s: float) -> None:
        self.dispatched.append(outbox_id)


@dataclass
class _Runtime:
    session_factory: Any
    dispatcher: _Jobs
    config: Any


@pytest.fixture
def worker(db: Db, tmp_path: Path) -> Iterator[_Runtime]:
    """What `run_turn` and a worker do after a turn: start its events' jobs, here on demand."""
    yield _Runtime(db.factory, _Jobs(), SimpleNamespace(media_dir=tmp_path))


def _start(bot: Bot, rt: _Runtime) -> None:
    from workers.events import start

    start(rt, bot.events)  # type: ignore[arg-type]
    bot.events.clear()


def _run_next(rt: _Runtime) -> tuple[float, Any]:
    delay, fn, args = rt.dispatcher.queued.pop(0)
    return delay, fn(rt, *args)  # the runtime first, as RQ's worker passes it


def _chart_replies(db: Db, seller_id: int) -> list[Reply]:
    """The seller's outbox replies written by the chart job (the PNG, or the failure notice)."""
    return [
        reply_from_json(r.payload["params"]["reply"])
        for r in flows.outbox(db, user_id=seller_id, kind="reply")
        if (r.dedupe_key or "").startswith("stats_chart:") or "/stats" in str(r.payload)
    ]


def test_stats_answers_at_once_and_the_chart_follows_from_a_job(
    bot: Bot, db: Db, tmp_path: Path, worker: _Runtime
) -> None:
    p = flows.place(db)
    flows.deliver(db, p)
    tg = _tg(db, p.seller_id)
    [now] = bot.send(tg, "/stats")
    # The turn: the figures and the forecast in words, and the chart announced; no PNG yet.
    assert isinstance(now, Text)
    assert "Prévision du mois prochain" in now.text and "Je prépare votre graphique" in now.text
    assert not (tmp_path / "charts").exists()
    assert [e.name for e in bot.events] == ["stats_requested"]
    _start(bot, worker)
    assert _run_next(worker)[1] == "sent"
    [photo] = _chart_replies(db, p.seller_id)
    assert isinstance(photo, Image) and photo.caption == "Vos statistiques"
    assert (tmp_path / photo.media_path).read_bytes().startswith(b"\x89PNG")
    [row] = [r for r in flows.outbox(db, user_id=p.seller_id) if r.dedupe_key]
    assert row.id in worker.dispatcher.dispatched  # handed to the sender at once
    assert row.address == str(tg)
    # Done: the next /stats draws a new chart.
    bot.send(tg, "/stats")
    assert [e.name for e in bot.events] == ["stats_requested"]


def test_a_second_stats_while_the_chart_is_pending_queues_nothing(
    bot: Bot, db: Db, worker: _Runtime
) -> None:
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    bot.send(tg, "/stats")
    again = bot.send(tg, "/stats")
    assert "déjà en préparation" in texts(again)
    bot.send(tg, "/nouveau")  # another dialogue in between keeps the marker
    bot.send(tg, "/annuler")
    assert "déjà en préparation" in texts(bot.send(tg, "/stats"))
    assert [e.name for e in bot.events] == ["stats_requested"]
    _start(bot, worker)
    _run_next(worker)
    assert len(_chart_replies(db, seller_id)) == 1
    # A marker whose job was lost with its worker stops blocking after CHART_PENDING_S.
    bot.send(tg, "/stats")
    bot.events.clear()
    clock.advance(dt.timedelta(seconds=CHART_PENDING_S + 1))
    try:
        assert "Je prépare" in texts(bot.send(tg, "/stats"))
    finally:
        clock.reset()
    assert [e.name for e in bot.events] == ["stats_requested"]


def test_a_failing_chart_is_retried_then_the_seller_is_told(
    bot: Bot, db: Db, worker: _Runtime, monkeypatch: pytest.MonkeyPatch
) -> None:
    import workers.seller_charts as jobs

    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    real = jobs.draw_seller_chart
    failures = iter([True])

    def flaky(*args: Any, **kwargs: Any) -> str:
        if next(failures, False):
            raise OSError("disk full")
        return real(*args, **kwargs)

    monkeypatch.setattr(jobs, "draw_seller_chart", flaky)
    bot.send(tg, "/stats")
    _start(bot, worker)
    assert _run_next(worker) == (0.0, "retry")
    assert _run_next(worker) == (5, "sent")  # the retry, 5 s later, as the outbox's first
    assert worker.dispatcher.queued == []
    [photo] = _chart_replies(db, seller_id)
    assert isinstance(photo, Image)
    # Re-running a job whose chart was written sends nothing twice.
    assert (
        jobs.send_seller_chart(worker, seller_id, *_conv_and_ref(db, tg, photo)) == "already sent"
    )

    def broken(*args: Any, **kwargs: Any) -> str:
        raise OSError("disk full")

    monkeypatch.setattr(jobs, "draw_seller_chart", broken)
    bot.send(tg, "/stats")
    _start(bot, worker)
    delays = []
    with pytest.raises(OSError):  # the last attempt fails loudly: RQ's failed registry keeps it
        while worker.dispatcher.queued:
            delay, fn, args = worker.dispatcher.queued.pop(0)
            delays.append(delay)
            fn(worker, *args)
    assert delays == [0.0, 5, 30, 120]
    assert "n'a pas pu être préparé" in texts(_chart_replies(db, seller_id))
    assert "Je prépare" in texts(bot.send(tg, "/stats"))  # the marker is cleared: ask again


def _conv_and_ref(db: Db, tg: int, photo: Image) -> tuple[int, int]:
    """The (conversation id, ref) of the chart just sent, read back from its outbox row."""
    with db.session() as s:
        conv = s.scalar(select(ConversationState).where(ConversationState.address == str(tg)))
        row = s.scalar(select(Outbox).where(Outbox.dedupe_key.like("stats_chart:%")))
        assert conv is not None and row is not None and row.dedupe_key is not None
        return conv.id, int(row.dedupe_key.rsplit(":", 1)[1])


def test_admin_commands_from_a_seller_are_refused(bot: Bot, db: Db) -> None:
    seller_id, _shop = make_seller(db)
    tg = _tg(db, seller_id)
    for command in ("/moderation", "/export", "/utilisateurs", "/chiffres", "/signalements"):
        assert "réservée aux administrateurs" in texts(bot.send(tg, command))
    assert "pas le droit" in texts(bot.tap(tg, "ms:a:1")) or texts(bot.tap(tg, "ms:a:1"))


def test_a_seller_without_shop_is_offered_to_open_one(bot: Bot) -> None:
    tg = 700_000 + uid()
    replies = bot.send(tg, "/nouveau")
    assert "w:shop" in choice_ids(replies)


def test_shop_promo_code_dialogue_list_and_switch_off(bot: Bot, db: Db) -> None:
    from commerce.cart.models import PromoCode

    seller_id, shop_id = make_seller(db)
    tg = _tg(db, seller_id)
    assert "Quel code" in texts(bot.send(tg, "/codepromo"))
    assert "3 à 30" in texts(bot.send(tg, "a b"))
    bot.send(tg, "tabaski10")
    assert "pourcentage de 1 à 100" in texts(bot.send(tg, "beaucoup"))
    bot.send(tg, "10 %")
    bot.send(tg, "maintenant")
    assert "invalide" in texts(bot.send(tg, "hier"))
    bot.send(tg, "30")
    assert "nombre de 1" in texts(bot.send(tg, "zéro"))
    done = bot.send(tg, "50")
    assert "TABASKI10" in texts(done) and "0/50" in texts(done)
    with db.session() as s:
        promo = s.scalar(select(PromoCode).where(PromoCode.code == "TABASKI10"))
        assert promo is not None and promo.shop_id == shop_id and promo.percent_off == 10
        assert promo.max_uses == 50 and promo.is_active
    listed = bot.send(tg, "/mescodes")
    assert choice_ids(listed) == [f"cd:off:{promo.id}"]
    # A forged tap from another seller on this code is refused politely, the code stays on.
    other_id, _ = make_seller(db)
    assert "pas le droit" in texts(bot.tap(_tg(db, other_id), f"cd:off:{promo.id}"))
    assert "désactivé" in texts(bot.tap(tg, f"cd:off:{promo.id}"))
    assert "déjà désactivé" in texts(bot.tap(tg, f"cd:off:{promo.id}"))  # a stale second tap
    with db.session() as s:
        assert s.get(PromoCode, promo.id).is_active is False  # type: ignore[union-attr]
    # /promo is unchanged: still the time-boxed promotion on one product.
    product_id = make_product(db, seller_id=seller_id)
    assert f"pm:{product_id}" in choice_ids(bot.send(tg, "/promo"))
