"""The demo seeder: the tables of `devtools.seed.data`, built through the real commerce actions.

Why through the actions and not raw inserts: the demo must obey the same rules production data
does (moderation, stock taken at checkout, delivery codes, loyalty points), so every screen a
demo shows — a seller's /stats, a buyer's "mes commandes", a courier's earnings — reads data the
core itself produced. The only raw rows are the 8 categories (no action creates a category).

History is backdated with `commerce.clock` (the core's only "now"): shops open about ten weeks
ago, orders come in over the last two months, a few are still in progress today.

Phone numbers use the +224 600 00 xx xx block, valid for libphonenumber but not handed out by the
Guinean operators we know of, so a demo wired to a real provider does not text strangers. The
notifications the actions queue while seeding are history, not news: they are removed from the
outbox before commit, so the admins' Telegram is not flooded on the first worker run.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from commerce import clock
from commerce.cart import actions as cart
from commerce.catalog import actions as catalog
from commerce.catalog.models import Category
from commerce.db import unit_of_work
from commerce.delivery import actions as delivery
from commerce.delivery import handover
from commerce.delivery.models import JobOffer
from commerce.messaging.models import Outbox
from commerce.messaging.outbox import take_pending_ids
from commerce.moderation import actions as moderation
from commerce.orders import actions as orders
from commerce.orders.actions import PlacedOrder
from commerce.orders.models import CommissionPayer, DeliveryMode, PaymentMethod
from commerce.reviews import actions as reviews
from commerce.users import actions as users
from commerce.users.models import Role, User
from devtools.seed.data import (
    BUYERS,
    CATEGORIES,
    COURIERS,
    DEFAULT_ADMIN_TELEGRAM_ID,
    PRODUCTS,
    SELLER_TELEGRAM_BASE,
    SELLERS,
)
from devtools.seed.pictures import photo_slug, render_product_photo

# --- summary --------------------------------------------------------------------------------


@dataclass(frozen=True)
class SeedSummary:
    sellers: int
    products: int
    categories: int
    couriers: int
    buyers: int
    orders: int

    def __str__(self) -> str:
        # English, as every other line `make run` prints (the bot's words are the French ones).
        return (
            f"{self.sellers} sellers, {self.products} products in {self.categories} "
            f"categories, {self.couriers} couriers, {self.buyers} buyers, {self.orders} orders"
        )


def is_empty(factory: sessionmaker[Session]) -> bool:
    """True when the database has no user yet (the only state `seed_demo` is meant for)."""
    with factory() as session:
        return session.scalar(select(User.id).limit(1)) is None


# --- the seeding itself ---------------------------------------------------------------------


class _Seeder:
    """One transaction's worth of demo history, in chronological order."""

    def __init__(self, session: Session, media_dir: Path, t0: dt.datetime) -> None:
        self.s = session
        self.media_dir = media_dir
        self.t0 = t0
        self.midnight = t0.replace(hour=0, minute=0, second=0, microsecond=0)
        self.admin_id = 0
        self.categories: dict[str, Category] = {}
        self.sellers: dict[str, int] = {}  # seller key → user id
        self.owner_of_shop: dict[int, int] = {}
        self.products: dict[str, int] = {}  # product name → id
        self.couriers: list[int] = []
        self.buyers: dict[str, tuple[int, list[int]]] = {}  # key → (user id, address ids)
        self.reserved_telegram_ids: set[int] = set()
        self.order_count = 0

    # time travel ----------------------------------------------------------------------------

    def at(self, when: dt.datetime) -> dt.datetime:
        """Move the core's clock to `when` (never past the moment the seed started)."""
        when = min(when, self.t0)
        clock.reset()
        clock.advance(when - clock.now())
        return when

    def day(self, days_ago: int, hour: float) -> dt.datetime:
        return self.midnight - dt.timedelta(days=days_ago) + dt.timedelta(hours=hour)

    def hours_ago(self, hours: float) -> dt.datetime:
        return self.t0 - dt.timedelta(hours=hours)

    # people and catalogue ---------------------------------------------------------------------

    def admins(self, telegram_ids: tuple[int, ...]) -> None:
        self.at(self.day(90, 9))
        ids = list(dict.fromkeys(telegram_ids)) or [DEFAULT_ADMIN_TELEGRAM_ID]
        for i, tid in enumerate(ids):
            name = "Admin Boutik" if i == 0 else f"Admin Boutik {i + 1}"
            user = users.get_or_create_by_telegram(
                self.s, telegram_id=tid, name=name, role=Role.ADMIN
            )
            if i == 0:
                self.admin_id = user.id
        self.reserved_telegram_ids = set(ids)

    def make_categories(self) -> None:
        for position, spec in enumerate(CATEGORIES):
            cat = Category(
                slug=spec.slug, name_fr=spec.name_fr, name_en=spec.name_en, position=position
            )
            self.s.add(cat)
            self.categories[spec.slug] = cat
        self.s.flush()

    def make_sellers(self) -> None:
        tid = SELLER_TELEGRAM_BASE
        for i, spec in enumerate(SELLERS):
            self.at(self.day(85 - 2 * i, 10 + i))
            tid += 1
            while tid in self.reserved_telegram_ids:
                tid += 1
            user = users.get_or_create_by_telegram(
                self.s, telegram_id=tid, name=spec.name, role=Role.SELLER
            )
            user = users.link_phone(self.s, user_id=user.id, phone=spec.phone)
            shop = catalog.create_shop(
                self.s,
                owner_id=user.id,
                name=spec.shop,
                prefecture=spec.prefecture,
                quartier=spec.quartier,
                landmark=spec.landmark,
            )
            self.at(self.day(85 - 2 * i, 15 + i))
            moderation.decide_shop(self.s, admin_id=self.admin_id, shop_id=shop.id, approve=True)
            self.sellers[spec.key] = user.id
            self.owner_of_shop[shop.id] = user.id

    def make_products(self) -> None:
        cats = {c.slug: c for c in CATEGORIES}
        used: set[str] = set()
        for i, spec in enumerate(PRODUCTS):
            category = cats[spec.category]
            slug = photo_slug(spec.name)
            n = 2
            while slug in used:
                slug, n = f"{photo_slug(spec.name)}-{n}", n + 1
            used.add(slug)
            relative = f"products/{slug}.jpg"
            render_product_photo(spec.name, category, self.media_dir / relative)
            # Sellers list their stock over a fortnight; the two pending ones came in yesterday.
            created = self.day(1, 18) if spec.pending else self.day(72 - i % 12, 11 + i % 8)
            self.at(created)
            product = catalog.create_product(
                self.s,
                seller_id=self.sellers[spec.shop],
                category_id=self.categories[spec.category].id,
                name=spec.name,
                price=spec.price,
                stock=spec.stock,
                description=spec.description or f"{spec.name}. {category.blurb}",
                brand=spec.brand,
                colour=spec.colour,
                photo_paths=[relative],
            )
            if not spec.pending:
                self.at(created + dt.timedelta(hours=3))
                moderation.decide_product(
                    self.s, admin_id=self.admin_id, product_id=product.id, approve=True
                )
            self.products[spec.name] = product.id

    def make_couriers(self) -> None:
        for i, spec in enumerate(COURIERS):
            self.at(self.day(75 - 3 * i, 9 + i))
            user = users.get_or_create_by_phone(
                self.s, phone=spec.phone, name=spec.name, role=Role.COURIER
            )
            courier = delivery.register_courier(
                self.s,
                user_id=user.id,
                prefecture=spec.prefecture,
                quartier=spec.quartier,
                vehicle=spec.vehicle,
            )
            self.at(self.day(75 - 3 * i, 14))
            delivery.decide_courier(
                self.s, admin_id=self.admin_id, courier_id=courier.id, approve=True
            )
            delivery.set_available(self.s, user_id=user.id, available=True)
            self.couriers.append(user.id)

    def make_buyers(self) -> None:
        for i, spec in enumerate(BUYERS):
            self.at(self.day(65 - 2 * i, 19))
            user = users.get_or_create_by_phone(self.s, phone=spec.phone, name=spec.name)
            address_ids = []
            for a in spec.addresses:
                address = users.add_address(
                    self.s,
                    user_id=user.id,
                    region="Conakry",
                    prefecture=a.prefecture,
                    quartier=a.quartier,
                    landmark=a.landmark,
                    lat=a.lat,
                    lng=a.lng,
                    label=a.label,
                )
                address_ids.append(address.id)
            self.buyers[spec.key] = (user.id, address_ids)

    def courier_breaks(self) -> None:
        """The courier who is OFF today switched off after the history below."""
        for spec, user_id in zip(COURIERS, self.couriers, strict=True):
            if not spec.available:
                delivery.set_available(self.s, user_id=user_id, available=False)

    # orders ----------------------------------------------------------------------------------

    def checkout(
        self,
        when: dt.datetime,
        buyer: str,
        lines: list[tuple[str, int]],
        *,
        address: int | None = 0,
        payer: CommissionPayer = CommissionPayer.BUYER,
        payment: PaymentMethod = PaymentMethod.CASH,
    ) -> list[PlacedOrder]:
        self.at(when)
        buyer_id, address_ids = self.buyers[buyer]
        for name, quantity in lines:
            cart.add_to_cart(
                self.s, user_id=buyer_id, product_id=self.products[name], quantity=quantity
            )
        placed = orders.place_order(
            self.s,
            buyer_id=buyer_id,
            address_id=None if address is None else address_ids[address],
            delivery_mode=DeliveryMode.PICKUP if address is None else DeliveryMode.HOME,
            commission_payer=payer,
            payment_method=payment,
        )
        self.order_count += len(placed)
        return placed

    def seller_of(self, placed: PlacedOrder) -> int:
        return self.owner_of_shop[placed.order.shop_id]

    def accept(self, placed: PlacedOrder, when: dt.datetime) -> None:
        self.at(when)
        orders.accept_order(self.s, seller_id=self.seller_of(placed), order_id=placed.order.id)

    def hand_over(
        self, placed: PlacedOrder, when: dt.datetime, courier: int | None, *, marketplace: bool
    ) -> int:
        """Courier assigned: by the seller (a known courier or themself) or claimed on offer."""
        self.at(when)
        seller_id = self.seller_of(placed)
        if marketplace:
            job = delivery.publish_job(self.s, seller_id=seller_id, order_id=placed.order.id)
            assert courier is not None
            # The wave that reached this courier, as the offer worker would have recorded it.
            self.s.add(JobOffer(job_id=job.id, courier_id=courier, offer_round=job.offer_round))
            self.at(when + dt.timedelta(minutes=12))
            job = delivery.claim_job(self.s, courier_user_id=courier, job_id=job.id)
        else:
            job = delivery.assign_courier(
                self.s, seller_id=seller_id, order_id=placed.order.id, courier_user_id=courier
            )
        return job.id

    def deliver(
        self,
        placed: PlacedOrder,
        start: dt.datetime,
        *,
        courier: int | None,
        marketplace: bool = False,
        reviews_: tuple[tuple[int, str], ...] = (),
    ) -> None:
        """The whole door-to-door story: accept, courier, pickup, PIN, cash, then reviews."""
        buyer_id = placed.order.buyer_id
        self.accept(placed, start + dt.timedelta(minutes=35))
        deliverer = courier if courier is not None else self.seller_of(placed)
        if placed.order.delivery_mode == DeliveryMode.HOME:
            job_id = self.hand_over(
                placed, start + dt.timedelta(hours=1), courier, marketplace=marketplace
            )
            self.at(start + dt.timedelta(hours=1, minutes=40))
            delivery.mark_picked_up(self.s, user_id=deliverer, job_id=job_id)
        self.at(start + dt.timedelta(hours=2, minutes=30))
        proof = handover.prove_with_pin(
            self.s, user_id=deliverer, order_id=placed.order.id, pin=placed.code.pin
        )
        assert not proof.delivered
        self.at(start + dt.timedelta(hours=2, minutes=33))
        proof = handover.confirm_cash(self.s, buyer_id=buyer_id, order_id=placed.order.id)
        assert proof.delivered
        self.at(start + dt.timedelta(days=1, hours=1))
        for item, (rating, comment) in zip(placed.order.items, reviews_, strict=False):
            reviews.add_review(
                self.s, buyer_id=buyer_id, order_item_id=item.id, rating=rating, comment=comment
            )

    def cancel(self, placed: PlacedOrder, when: dt.datetime) -> None:
        self.at(when)
        orders.cancel_order(self.s, buyer_id=placed.order.buyer_id, order_id=placed.order.id)

    def refuse(self, placed: PlacedOrder, when: dt.datetime, reason: str) -> None:
        self.at(when)
        orders.refuse_order(
            self.s, seller_id=self.seller_of(placed), order_id=placed.order.id, reason=reason
        )

    def make_orders(self) -> None:
        c = dict(zip(("kaloum", "dixinn", "matam", "ratoma", "matoto"), self.couriers, strict=True))
        day, hago = self.day, self.hours_ago

        (o,) = self.checkout(day(58, 10.5), "mariama", [("Téléphone Samsung Galaxy A15", 1)])
        self.deliver(
            o,
            day(58, 10.5),
            courier=c["ratoma"],
            reviews_=(
                (5, "Très bon téléphone, livré le jour même à Kipé. Merci Bah Électronique !"),
            ),
        )

        (o,) = self.checkout(
            day(55, 16), "ibrahima", [("Riz parfumé 25 kg", 2), ("Huile végétale Dinor 5 L", 1)]
        )
        self.deliver(
            o,
            day(55, 16),
            courier=c["matoto"],
            marketplace=True,
            reviews_=(
                (4, "Riz de bonne qualité, le livreur a appelé avant d'arriver."),
                (5, "Bonne huile, bidon bien fermé."),
            ),
        )

        (o,) = self.checkout(
            day(49, 11),
            "fatoumata",
            [("Pagne wax hollandais 6 yards", 2)],
            payer=CommissionPayer.SELLER,
        )
        self.deliver(
            o,
            day(49, 11),
            courier=None,  # Fatou rides it to Coronthie herself
            reviews_=((5, "Vrai wax hollandais, les couleurs sont magnifiques."),),
        )

        (o,) = self.checkout(day(44, 18), "mariama", [("Chaussures Nike Air Max 90", 1)])
        self.cancel(o, day(44, 20))

        (o,) = self.checkout(day(40, 9.5), "ibrahima", [("Enceinte JBL Flip 6", 1)])
        self.refuse(
            o,
            day(40, 11),
            "L'enceinte rouge est arrivée abîmée du fournisseur, nous ne pouvons pas l'envoyer. "
            "Nouveau stock la semaine prochaine.",
        )

        (o,) = self.checkout(
            day(35, 14),
            "fatoumata",
            [("Beurre de karité pur 500 g", 2), ("Savon noir africain", 3)],
            address=None,  # collected at the shop in Belle-Vue
            payment=PaymentMethod.ORANGE_MONEY,
        )
        self.deliver(
            o,
            day(35, 14),
            courier=None,
            reviews_=(
                (4, "Karité très pur, accueil chaleureux à la boutique."),
                (5, "Le savon noir est authentique, je recommande."),
            ),
        )

        maison, barry = sorted(
            self.checkout(
                day(29, 12),
                "mariama",
                [("Marmite en aluminium 20 litres", 1), ("Chemise en pagne wax homme", 2)],
                address=1,
                payer=CommissionPayer.SELLER,
            ),
            key=lambda p: p.order.shop_id != self._shop_of("maison"),
        )
        self.deliver(
            maison,
            day(29, 12),
            courier=c["matam"],
            marketplace=True,
            reviews_=((3, "Marmite correcte, mais la livraison a pris du temps."),),
        )
        self.accept(barry, day(29, 13))
        self.cancel(barry, day(29, 15))

        (o,) = self.checkout(
            day(22, 17),
            "ibrahima",
            [("Téléviseur LED Samsung 43 pouces", 1)],
            payment=PaymentMethod.ORANGE_MONEY,
        )
        self.deliver(o, day(22, 17), courier=c["matam"])  # a car for the TV

        (o,) = self.checkout(
            day(16, 10), "fatoumata", [("Robe longue en bazin brodé", 1)], address=1
        )
        self.deliver(
            o,
            day(16, 10),
            courier=c["kaloum"],
            reviews_=((5, "Broderie très fine, ma robe pour le baptême est parfaite."),),
        )

        (o,) = self.checkout(
            day(12, 15), "mariama", [("Sandales en cuir artisanales", 1), ("Tongs Havaianas", 2)]
        )
        self.deliver(
            o,
            day(12, 15),
            courier=c["kaloum"],
            reviews_=(
                (2, "Les sandales taillent petit, la pointure 42 me serre."),
                (4, "Tongs confortables et pas chères."),
            ),
        )

        (o,) = self.checkout(
            day(9, 19),
            "ibrahima",
            [("Boubou grand bazin homme brodé", 1)],
            payment=PaymentMethod.MTN_MOMO,
        )
        self.deliver(
            o,
            day(9, 19),
            courier=None,
            reviews_=((5, "Broderie impeccable, parfait pour la Tabaski."),),
        )

        (o,) = self.checkout(
            day(6, 11),
            "fatoumata",
            [("Crème Nivea Soft 300 ml", 1), ("Rouge à lèvres mat Maybelline", 1)],
        )
        self.deliver(o, day(6, 11), courier=c["dixinn"], marketplace=True)

        # Today's orders, still on their way.
        (o,) = self.checkout(hago(5), "mariama", [("Ventilateur sur pied Binatone 16 pouces", 1)])
        self.accept(o, hago(4.5))
        self.hand_over(o, hago(4), c["ratoma"], marketplace=False)

        (o,) = self.checkout(
            hago(3.5),
            "mariama",
            [("Riz parfumé 25 kg", 1), ("Bouillon Maggi boîte de 100 cubes", 1)],
            address=1,
        )
        self.accept(o, hago(3.2))
        job_id = self.hand_over(o, hago(3), c["kaloum"], marketplace=True)
        self.at(hago(2.5))
        delivery.mark_picked_up(self.s, user_id=c["kaloum"], job_id=job_id)

        # Accepted, its delivery not yet arranged. Never an open job: the server offers open
        # jobs as it starts, and nobody answering would end it during the tour.
        (o,) = self.checkout(hago(3), "ibrahima", [("Téléphone Tecno Spark 20", 1)])
        self.accept(o, hago(2.5))

        self.checkout(
            hago(1.5), "fatoumata", [("Pagne wax Uniwax 6 yards", 1), ("Foulard en soie", 2)]
        )

        # A cart that survives across days: Ibrahima is still thinking about the watch.
        self.at(hago(1))
        cart.add_to_cart(
            self.s,
            user_id=self.buyers["ibrahima"][0],
            product_id=self.products["Montre Casio classique"],
        )

    def _shop_of(self, seller_key: str) -> int:
        owner = self.sellers[seller_key]
        return next(shop for shop, uid in self.owner_of_shop.items() if uid == owner)

    def finish(self) -> None:
        self.at(self.t0)
        self.courier_breaks()
        orders.complete_due_orders(self.s)
        cart.create_promo_code(
            self.s,
            admin_id=self.admin_id,
            code="BIENVENUE",
            starts_at=self.t0 - dt.timedelta(hours=1),
            ends_at=self.t0 + dt.timedelta(days=90),
            percent_off=10,
            max_uses=500,
        )
        # History, not news: nobody should be told today about last month's orders.
        self.s.flush()
        ids = take_pending_ids(self.s)
        if ids:
            self.s.execute(delete(Outbox).where(Outbox.id.in_(ids)))


def seed_demo(
    factory: sessionmaker[Session],
    media_dir: Path,
    *,
    admin_telegram_ids: tuple[int, ...] = (),
) -> SeedSummary:
    """Fill an empty database with a Conakry marketplace and write its product photos.

    One transaction: a failure leaves the database empty (photos already written stay on disk
    and are overwritten by the next run).
    """
    media_dir = Path(media_dir)
    clock.reset()
    t0 = clock.now()
    try:
        with unit_of_work(factory) as session:
            seeder = _Seeder(session, media_dir, t0)
            seeder.admins(tuple(admin_telegram_ids))
            seeder.make_categories()
            seeder.make_sellers()
            seeder.make_products()
            seeder.make_couriers()
            seeder.make_buyers()
            seeder.make_orders()
            seeder.finish()
    finally:
        clock.reset()
    return SeedSummary(
        sellers=len(seeder.sellers),
        products=len(seeder.products),
        categories=len(seeder.categories),
        couriers=len(seeder.couriers),
        buyers=len(seeder.buyers),
        orders=seeder.order_count,
    )
