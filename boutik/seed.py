"""Demo data: a believable Conakry marketplace, built through the real commerce actions.

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
import random
import re
import textwrap
from collections.abc import Callable
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import NamedTuple

from PIL import Image, ImageDraw, ImageFont
from sqlalchemy import delete, select
from sqlalchemy.orm import Session, sessionmaker

from commerce import clock
from commerce.cart import actions as cart
from commerce.catalog import actions as catalog
from commerce.catalog.models import Category
from commerce.db import unit_of_work
from commerce.delivery import actions as delivery
from commerce.delivery.models import JobOffer
from commerce.messaging.models import Outbox
from commerce.messaging.outbox import take_pending_ids
from commerce.moderation import actions as moderation
from commerce.orders import actions as orders
from commerce.orders.actions import PlacedOrder
from commerce.orders.models import CommissionPayer, DeliveryMode, PaymentMethod
from commerce.reviews import actions as reviews
from commerce.text import fold
from commerce.users import actions as users
from commerce.users.models import Role, User

DEFAULT_ADMIN_TELEGRAM_ID = 100000001
SELLER_TELEGRAM_BASE = 7_100_000_000
PHOTO_SIZE = 480
FONT_CANDIDATES = (
    "/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/TTF/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans-Bold.ttf",
    "/usr/share/fonts/truetype/dejavu/DejaVuSans.ttf",
    "/usr/share/fonts/TTF/DejaVuSans.ttf",
    "/usr/share/fonts/dejavu/DejaVuSans.ttf",
)

RGB = tuple[int, int, int]


# --- the demo world as data -----------------------------------------------------------------


class CategorySpec(NamedTuple):
    slug: str
    name_fr: str
    name_en: str
    background: RGB
    shape: str
    blurb: str


CATEGORIES: tuple[CategorySpec, ...] = (
    CategorySpec(
        "telephones",
        "Téléphones",
        "Phones",
        (28, 84, 150),
        "phone",
        "Neuf, sous emballage, double SIM, garantie 6 mois en boutique.",
    ),
    CategorySpec(
        "electronique",
        "Électronique",
        "Electronics",
        (52, 58, 84),
        "screen",
        "Testé devant vous à la livraison, garantie 3 mois.",
    ),
    CategorySpec(
        "mode-femme",
        "Mode femme",
        "Women's fashion",
        (176, 52, 98),
        "dress",
        "Tissu de qualité, cousu à Conakry ; retouches possibles en boutique.",
    ),
    CategorySpec(
        "mode-homme",
        "Mode homme",
        "Men's fashion",
        (36, 110, 100),
        "shirt",
        "Coupe soignée, tailles du M au XXL ; échange possible sous 30 jours.",
    ),
    CategorySpec(
        "chaussures",
        "Chaussures",
        "Shoes",
        (196, 104, 32),
        "shoe",
        "Pointures du 38 au 45 : précisez la vôtre au vendeur.",
    ),
    CategorySpec(
        "beaute",
        "Beauté",
        "Beauty",
        (150, 80, 160),
        "bottle",
        "Produit authentique, stocké à l'abri de la chaleur.",
    ),
    CategorySpec(
        "maison-cuisine",
        "Maison & cuisine",
        "Home & kitchen",
        (180, 60, 44),
        "pot",
        "Solide et pratique, pour toute la famille.",
    ),
    CategorySpec(
        "epicerie",
        "Épicerie",
        "Groceries",
        (70, 130, 40),
        "sack",
        "Livré le jour même dans tout Conakry.",
    ),
)


class SellerSpec(NamedTuple):
    key: str
    name: str
    phone: str
    shop: str
    prefecture: str
    quartier: str
    landmark: str


SELLERS: tuple[SellerSpec, ...] = (
    SellerSpec(
        "bah",
        "Mamadou Bah",
        "+224600100001",
        "Bah Électronique",
        "Matam",
        "Madina",
        "Grand marché de Madina, à côté de la station Total",
    ),
    SellerSpec(
        "fatou",
        "Fatou Sylla",
        "+224600100002",
        "Mode Fatou",
        "Ratoma",
        "Kipé",
        "En face du carrefour Kipé, à côté de la pharmacie",
    ),
    SellerSpec(
        "kaloum",
        "Alpha Oumar Baldé",
        "+224600100003",
        "Kaloum Chaussures",
        "Kaloum",
        "Almamya",
        "Derrière le marché Niger, près de la boulangerie",
    ),
    SellerSpec(
        "barry",
        "Thierno Barry",
        "+224600100004",
        "Barry Mode Homme",
        "Matoto",
        "Gbessia",
        "Près de l'aéroport de Gbessia, à côté de la station Shell",
    ),
    SellerSpec(
        "epicerie",
        "Aïssatou Diallo",
        "+224600100005",
        "Épicerie Diallo & Fils",
        "Matoto",
        "Enta",
        "Marché d'Enta, en face de la mosquée",
    ),
    SellerSpec(
        "beaute",
        "Kadiatou Camara",
        "+224600100006",
        "Camara Beauté",
        "Dixinn",
        "Belle-Vue",
        "Près du stade du 28 Septembre, à côté du salon de coiffure Belle-Vue",
    ),
    SellerSpec(
        "maison",
        "Amadou Sow",
        "+224600100007",
        "Sow Maison & Cuisine",
        "Ratoma",
        "Hamdallaye",
        "Carrefour Hamdallaye, derrière la station Total",
    ),
)


class ProductSpec(NamedTuple):
    category: str
    shop: str
    name: str
    brand: str
    colour: str
    price: int
    stock: int
    pending: bool = False
    description: str = ""


# category | shop | name | brand | colour | price (GNF) | stock [| pending]
_PRODUCT_TABLE = """
telephones | bah | Téléphone Samsung Galaxy A15 | Samsung | noir | 1 750 000 | 12
telephones | bah | Téléphone Samsung Galaxy A05s | Samsung | bleu | 1 150 000 | 8
telephones | bah | iPhone 12 reconditionné 64 Go | Apple | blanc | 3 900 000 | 2
telephones | bah | Téléphone Tecno Spark 20 | Tecno | doré | 1 050 000 | 15
telephones | bah | Téléphone Tecno Camon 20 Pro | Tecno | vert | 1 950 000 | 6
telephones | bah | Téléphone Infinix Hot 40i | Infinix | violet | 980 000 | 10
telephones | bah | Téléphone Itel A70 | Itel | gris | 650 000 | 20
telephones | bah | Nokia 105 à touches | Nokia | noir | 185 000 | 35
telephones | bah | Téléphone Xiaomi Redmi 13C | Xiaomi | bleu | 1 250 000 | 0
electronique | bah | Écouteurs Bluetooth Oraimo FreePods 4 | Oraimo | blanc | 320 000 | 25
electronique | bah | Chargeur rapide Oraimo 18 W | Oraimo | blanc | 95 000 | 40
electronique | bah | Batterie externe Oraimo 20000 mAh | Oraimo | noir | 250 000 | 18
electronique | bah | Enceinte JBL Flip 6 | JBL | rouge | 1 350 000 | 5
electronique | bah | Téléviseur LED Samsung 43 pouces | Samsung | noir | 3 200 000 | 3
electronique | bah | Ordinateur portable HP 15 Core i5 | HP | argent | 4 500 000 | 2
electronique | maison | Ventilateur sur pied Binatone 16 pouces | Binatone | blanc | 420 000 | 14
electronique | maison | Fer à repasser Philips | Philips | bleu | 230 000 | 9
electronique | maison | Lampe solaire rechargeable Sun King | Sun King | jaune | 260 000 | 22
mode-femme | fatou | Pagne wax hollandais 6 yards | Vlisco | multicolore | 450 000 | 20
mode-femme | fatou | Pagne wax Uniwax 6 yards | Uniwax | orange | 280 000 | 25
mode-femme | fatou | Robe longue en bazin brodé | | bleu | 650 000 | 6
mode-femme | fatou | Ensemble kaftan brodé femme | | vert | 520 000 | 4
mode-femme | fatou | Foulard en soie | | rose | 75 000 | 30
mode-femme | fatou | Sac à main en cuir | | marron | 390 000 | 7
mode-femme | fatou | Tissu bazin riche Getzner 5 mètres | Getzner | blanc | 850 000 | 3
mode-femme | fatou | Jupe en pagne cousue main | | jaune | 160 000 | 12
mode-femme | fatou | Boucles d'oreilles plaqué or | | doré | 120 000 | 10 | pending
mode-homme | barry | Boubou grand bazin homme brodé | | blanc | 950 000 | 5
mode-homme | barry | Chemise en pagne wax homme | | multicolore | 210 000 | 15
mode-homme | barry | Jean Levi's 501 | Levi's | bleu | 380 000 | 12
mode-homme | barry | Maillot du Syli National | | rouge | 120 000 | 30
mode-homme | barry | Costume deux pièces slim | | gris | 1 600 000 | 3
mode-homme | barry | Casquette New Era | New Era | noir | 95 000 | 20
mode-homme | barry | Montre Casio classique | Casio | argent | 340 000 | 8
mode-homme | barry | Ceinture en cuir | | marron | 85 000 | 0
chaussures | kaloum | Chaussures Nike Air Max 90 | Nike | blanc | 1 100 000 | 6
chaussures | kaloum | Baskets Adidas Stan Smith | Adidas | blanc | 850 000 | 8
chaussures | kaloum | Sandales en cuir artisanales | | marron | 150 000 | 18
chaussures | kaloum | Babouches homme brodées | | beige | 130 000 | 14
chaussures | kaloum | Escarpins femme talon 8 cm | | noir | 290 000 | 5
chaussures | kaloum | Tongs Havaianas | Havaianas | bleu | 85 000 | 40
chaussures | kaloum | Chaussures de ville en cuir Clarks | Clarks | noir | 780 000 | 2
chaussures | kaloum | Crampons de football Puma Future | Puma | jaune | 620 000 | 7
beaute | beaute | Beurre de karité pur 500 g | | ivoire | 45 000 | 40
beaute | beaute | Savon noir africain | | noir | 35 000 | 38
beaute | beaute | Parfum Dior Sauvage 100 ml | Dior | | 1 450 000 | 3
beaute | beaute | Crème Nivea Soft 300 ml | Nivea | blanc | 75 000 | 25
beaute | beaute | Mèches brésiliennes 18 pouces | | noir | 480 000 | 9
beaute | beaute | Huile de coco vierge 250 ml | | | 55 000 | 20
beaute | beaute | Rouge à lèvres mat Maybelline | Maybelline | rouge | 110 000 | 15
beaute | beaute | Kit de tresses Darling | Darling | noir | 60 000 | 1
beaute | beaute | Henné naturel pour cheveux 250 g | | | 40 000 | 15 | pending
maison-cuisine | maison | Marmite en aluminium 20 litres | | argent | 280 000 | 10
maison-cuisine | maison | Mortier et pilon en bois | | marron | 120 000 | 6
maison-cuisine | maison | Bouilloire électrique Binatone 1,7 L | Binatone | blanc | 190 000 | 12
maison-cuisine | maison | Service de table 24 pièces | | blanc | 540 000 | 4
maison-cuisine | maison | Théière en inox pour le thé | | argent | 65 000 | 22
maison-cuisine | maison | Natte en plastique tressée 2 x 3 m | | multicolore | 95 000 | 15
maison-cuisine | maison | Moustiquaire imprégnée 2 places | | blanc | 70 000 | 30
maison-cuisine | maison | Réchaud à gaz 2 feux | | noir | 350 000 | 5
epicerie | epicerie | Riz parfumé 25 kg | Royal Umbrella | | 385 000 | 30
epicerie | epicerie | Riz local étuvé de Guinée 25 kg | | | 330 000 | 12
epicerie | epicerie | Huile végétale Dinor 5 L | Dinor | | 145 000 | 25
epicerie | epicerie | Sucre en poudre 5 kg | | | 60 000 | 20
epicerie | epicerie | Lait en poudre Nido 900 g | Nestlé | | 135 000 | 16
epicerie | epicerie | Café Touba 500 g | | | 40 000 | 24
epicerie | epicerie | Fonio précuit 1 kg | | | 35 000 | 28
epicerie | epicerie | Sac d'oignons 25 kg | | | 190 000 | 8
epicerie | epicerie | Bouillon Maggi boîte de 100 cubes | Maggi | | 50 000 | 35
"""

DESCRIPTIONS = {
    "Nokia 105 à touches": "Nokia 105 à touches : la batterie tient une semaine, radio FM et "
    "lampe torche.",
    "Lampe solaire rechargeable Sun King": "Trois jours d'autonomie, et elle recharge le "
    "téléphone pendant les coupures de courant.",
    "Pagne wax hollandais 6 yards": "Véritable wax hollandais Vlisco, 6 yards, des couleurs "
    "qui ne passent pas au lavage.",
    "Beurre de karité pur 500 g": "Karité pur et non raffiné de Haute-Guinée, pour la peau et "
    "les cheveux.",
    "Riz parfumé 25 kg": "Riz long grain parfumé, sac de 25 kg : le riz de tous les jours.",
    "Fonio précuit 1 kg": "Fonio du Fouta Djallon, lavé et précuit : prêt en 5 minutes.",
}


def _parse_products(table: str) -> tuple[ProductSpec, ...]:
    specs = []
    for line in table.strip().splitlines():
        cells = [c.strip() for c in line.split("|")]
        category, shop, name, brand, colour, price, stock = cells[:7]
        specs.append(
            ProductSpec(
                category=category,
                shop=shop,
                name=name,
                brand=brand,
                colour=colour,
                price=int(price.replace(" ", "")),
                stock=int(stock),
                pending=cells[7:] == ["pending"],
                description=DESCRIPTIONS.get(name, ""),
            )
        )
    return tuple(specs)


PRODUCTS: tuple[ProductSpec, ...] = _parse_products(_PRODUCT_TABLE)


class CourierSpec(NamedTuple):
    name: str
    phone: str
    prefecture: str
    quartier: str
    vehicle: str
    available: bool


COURIERS: tuple[CourierSpec, ...] = (
    CourierSpec("Abdoulaye Keïta", "+224600200001", "Kaloum", "Tombo", "moto", True),
    CourierSpec("Moussa Kourouma", "+224600200002", "Dixinn", "Hafia", "velo", True),
    CourierSpec("Alseny Soumah", "+224600200003", "Matam", "Coléah", "voiture", True),
    CourierSpec("Thierno Baldé", "+224600200004", "Ratoma", "Bambéto", "moto", True),
    CourierSpec("Lamine Cissé", "+224600200005", "Matoto", "Dabompa", "pied", False),
)


class AddressSpec(NamedTuple):
    label: str
    prefecture: str
    quartier: str
    landmark: str
    lat: float | None = None
    lng: float | None = None


class BuyerSpec(NamedTuple):
    key: str
    name: str
    phone: str
    addresses: tuple[AddressSpec, ...]


BUYERS: tuple[BuyerSpec, ...] = (
    BuyerSpec(
        "mariama",
        "Mariama Diallo",
        "+224600300001",
        (
            AddressSpec(
                "Maison",
                "Ratoma",
                "Kipé",
                "Derrière la station Total de Kipé, portail bleu après la boulangerie",
                9.5987,
                -13.6458,
            ),
            AddressSpec(
                "Bureau",
                "Dixinn",
                "Camayenne",
                "Immeuble en face de la corniche, à côté de la pharmacie Camayenne",
            ),
        ),
    ),
    BuyerSpec(
        "ibrahima",
        "Ibrahima Sow",
        "+224600300002",
        (
            AddressSpec(
                "Maison",
                "Matoto",
                "Dabondy",
                "Derrière la grande mosquée de Dabondy, maison jaune à deux étages",
            ),
        ),
    ),
    BuyerSpec(
        "fatoumata",
        "Fatoumata Camara",
        "+224600300003",
        (
            AddressSpec(
                "Maison",
                "Kaloum",
                "Coronthie",
                "Près de l'école primaire de Coronthie, deuxième rue à gauche",
            ),
            AddressSpec(
                "Chez ma sœur",
                "Matam",
                "Bonfi",
                "Marché de Bonfi, en face du vendeur de pagnes",
            ),
        ),
    ),
)


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
        return (
            f"{self.sellers} vendeurs, {self.products} produits dans {self.categories} "
            f"catégories, {self.couriers} livreurs, {self.buyers} acheteurs, "
            f"{self.orders} commandes"
        )


def is_empty(factory: sessionmaker[Session]) -> bool:
    """True when the database has no user yet (the only state `seed_demo` is meant for)."""
    with factory() as session:
        return session.scalar(select(User.id).limit(1)) is None


# --- product photos -------------------------------------------------------------------------


@cache
def _font(size: int) -> ImageFont.FreeTypeFont | ImageFont.ImageFont:
    for candidate in FONT_CANDIDATES:
        if Path(candidate).is_file():
            return ImageFont.truetype(candidate, size)
    try:
        return ImageFont.load_default(size=size)
    except TypeError:  # Pillow < 10.1 has no sized default font
        return ImageFont.load_default()


def photo_slug(name: str) -> str:
    return fold(name).replace(" ", "-")


def _jitter(colour: RGB, rng: random.Random, amount: int) -> RGB:
    return tuple(max(0, min(255, c + rng.randint(-amount, amount))) for c in colour)  # type: ignore[return-value]


def _lighter(colour: RGB, by: float) -> RGB:
    return tuple(int(c + (255 - c) * by) for c in colour)  # type: ignore[return-value]


def _darker(colour: RGB, by: float) -> RGB:
    return tuple(int(c * (1 - by)) for c in colour)  # type: ignore[return-value]


def _draw_phone(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.rounded_rectangle((cx - 55, cy - 105, cx + 55, cy + 105), radius=18, fill=(25, 25, 30))
    d.rounded_rectangle((cx - 45, cy - 88, cx + 45, cy + 80), radius=6, fill=accent)
    d.line((cx - 15, cy - 97, cx + 15, cy - 97), fill=(90, 90, 100), width=3)
    d.ellipse((cx - 8, cy + 86, cx + 8, cy + 100), outline=(90, 90, 100), width=2)
    for i in range(3):
        y = cy - 70 + i * 28
        d.rounded_rectangle((cx - 35, y, cx - 13, y + 20), radius=4, fill=_lighter(accent, 0.5))
        d.rounded_rectangle((cx - 5, y, cx + 17, y + 20), radius=4, fill=_lighter(bg, 0.6))


def _draw_screen(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [(cx - 20, cy + 55), (cx + 20, cy + 55), (cx + 40, cy + 90), (cx - 40, cy + 90)],
        fill=(30, 30, 35),
    )
    d.rounded_rectangle((cx - 120, cy - 85, cx + 120, cy + 60), radius=8, fill=(20, 20, 25))
    d.rectangle((cx - 110, cy - 75, cx + 110, cy + 48), fill=accent)
    d.polygon(
        [
            (cx - 110, cy + 48),
            (cx - 30, cy - 40),
            (cx + 20, cy + 10),
            (cx + 60, cy - 20),
            (cx + 110, cy + 30),
            (cx + 110, cy + 48),
        ],
        fill=_lighter(accent, 0.45),
    )
    d.ellipse((cx + 50, cy - 65, cx + 80, cy - 35), fill=_lighter(bg, 0.8))


def _draw_dress(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [
            (cx - 30, cy - 100),
            (cx - 15, cy - 100),
            (cx, cy - 80),
            (cx + 15, cy - 100),
            (cx + 30, cy - 100),
            (cx + 35, cy - 40),
            (cx + 95, cy + 100),
            (cx - 95, cy + 100),
            (cx - 35, cy - 40),
        ],
        fill=accent,
    )
    d.rectangle((cx - 36, cy - 45, cx + 36, cy - 33), fill=_darker(accent, 0.35))
    dot = _lighter(accent, 0.6)
    for row in range(4):
        for col in range(-3, 4):
            x, y = cx + col * 24 + (row % 2) * 12, cy - 10 + row * 28
            if abs(x - cx) < 35 + (y - cy + 40) * 0.42:
                d.ellipse((x - 5, y - 5, x + 5, y + 5), fill=dot)


def _draw_shirt(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [
            (cx - 35, cy - 95),
            (cx - 100, cy - 65),
            (cx - 80, cy - 15),
            (cx - 60, cy - 25),
            (cx - 60, cy + 100),
            (cx + 60, cy + 100),
            (cx + 60, cy - 25),
            (cx + 80, cy - 15),
            (cx + 100, cy - 65),
            (cx + 35, cy - 95),
            (cx, cy - 70),
        ],
        fill=accent,
    )
    d.polygon(
        [(cx - 35, cy - 95), (cx, cy - 70), (cx + 35, cy - 95), (cx, cy - 55)],
        fill=_darker(accent, 0.3),
    )
    for i in range(4):
        d.ellipse((cx - 4, cy - 40 + i * 32, cx + 4, cy - 32 + i * 32), fill=_lighter(accent, 0.7))


def _draw_shoe(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.polygon(
        [
            (cx - 115, cy - 25),
            (cx - 70, cy - 35),
            (cx - 45, cy - 5),
            (cx + 30, cy + 5),
            (cx + 95, cy + 20),
            (cx + 120, cy + 40),
            (cx + 120, cy + 55),
            (cx - 120, cy + 55),
        ],
        fill=accent,
    )
    d.chord((cx - 125, cy - 30, cx - 95, cy + 55), start=90, end=270, fill=accent)
    d.rounded_rectangle((cx - 125, cy + 50, cx + 128, cy + 70), radius=8, fill=(245, 245, 240))
    for i in range(4):
        x = cx - 45 + i * 20
        d.line((x, cy - 2 + i * 3, x + 14, cy - 12 + i * 3), fill=(250, 250, 250), width=4)
    d.arc(
        (cx - 20, cy + 5, cx + 80, cy + 60), start=200, end=300, fill=_darker(accent, 0.4), width=5
    )


def _draw_bottle(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    d.rectangle((cx - 20, cy - 110, cx + 20, cy - 80), fill=(40, 40, 45))
    d.rectangle((cx - 14, cy - 80, cx + 14, cy - 55), fill=_lighter(accent, 0.4))
    d.rounded_rectangle((cx - 55, cy - 60, cx + 55, cy + 100), radius=22, fill=accent)
    d.rounded_rectangle((cx - 40, cy - 10, cx + 40, cy + 55), radius=6, fill=(250, 248, 240))
    d.line((cx - 25, cy + 10, cx + 25, cy + 10), fill=accent, width=4)
    d.line((cx - 25, cy + 28, cx + 15, cy + 28), fill=_lighter(accent, 0.3), width=3)
    # a small jar beside the bottle
    d.rounded_rectangle((cx + 65, cy + 40, cx + 125, cy + 100), radius=10, fill=_lighter(bg, 0.7))
    d.rectangle((cx + 62, cy + 28, cx + 128, cy + 42), fill=_darker(accent, 0.3))


def _draw_pot(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    steam = _lighter(bg, 0.7)
    for dx in (-30, 0, 30):
        d.arc(
            (cx + dx - 10, cy - 110, cx + dx + 10, cy - 80), start=90, end=270, fill=steam, width=4
        )
        d.arc(
            (cx + dx - 10, cy - 85, cx + dx + 10, cy - 55), start=270, end=90, fill=steam, width=4
        )
    d.rounded_rectangle((cx - 135, cy - 30, cx - 95, cy - 15), radius=6, fill=(40, 40, 45))
    d.rounded_rectangle((cx + 95, cy - 30, cx + 135, cy - 15), radius=6, fill=(40, 40, 45))
    d.chord((cx - 100, cy - 90, cx + 100, cy + 100), start=0, end=180, fill=accent)
    d.rectangle((cx - 100, cy - 40, cx + 100, cy + 6), fill=accent)
    d.ellipse((cx - 105, cy - 55, cx + 105, cy - 25), fill=_darker(accent, 0.25))
    d.ellipse((cx - 15, cy - 68, cx + 15, cy - 50), fill=(40, 40, 45))


def _draw_sack(d: ImageDraw.ImageDraw, cx: int, cy: int, accent: RGB, bg: RGB) -> None:
    sack = (236, 224, 196)
    d.polygon(
        [(cx - 40, cy - 110), (cx + 40, cy - 110), (cx + 20, cy - 75), (cx - 20, cy - 75)],
        fill=sack,
    )
    d.rounded_rectangle((cx - 90, cy - 80, cx + 90, cy + 100), radius=30, fill=sack)
    d.line((cx - 25, cy - 78, cx + 25, cy - 78), fill=(120, 90, 50), width=6)
    d.rectangle((cx - 60, cy - 25, cx + 60, cy + 45), fill=accent)
    d.ellipse((cx - 20, cy - 12, cx + 20, cy + 28), fill=_lighter(accent, 0.6))
    for i in range(5):
        x = cx - 70 + i * 35
        d.ellipse((x - 4, cy + 65, x + 4, cy + 73), fill=(200, 180, 140))


SHAPES: dict[str, Callable[[ImageDraw.ImageDraw, int, int, RGB, RGB], None]] = {
    "phone": _draw_phone,
    "screen": _draw_screen,
    "dress": _draw_dress,
    "shirt": _draw_shirt,
    "shoe": _draw_shoe,
    "bottle": _draw_bottle,
    "pot": _draw_pot,
    "sack": _draw_sack,
}


def _wrap_name(d: ImageDraw.ImageDraw, name: str, max_width: int) -> tuple[list[str], int]:
    """The name in at most 3 lines that fit the width, at the largest size that allows it.

    A number stays with its unit ("25 kg", "6 yards"): textwrap never breaks a no-break space.
    """
    name = re.sub(r"(\d) (?=\w)", "\\1\u00a0", name)
    for size, width in ((38, 16), (34, 18), (30, 21), (26, 24), (22, 28)):
        font = _font(size)
        lines = textwrap.wrap(name, width=width)
        fits = all(d.textlength(line, font=font) <= max_width for line in lines)
        if len(lines) <= 3 and fits:
            return lines, size
    return textwrap.wrap(name, width=30)[:3], 20


def render_product_photo(name: str, category: CategorySpec, path: Path) -> None:
    """A 480×480 JPEG: category colour, a drawn shape for the category, the name, "Boutik"."""
    rng = random.Random(f"boutik:{name}")
    bg = _jitter(category.background, rng, 18)
    img = Image.new("RGB", (PHOTO_SIZE, PHOTO_SIZE), bg)
    d = ImageDraw.Draw(img)
    for _ in range(4):  # soft circles behind the object
        r = rng.randint(40, 120)
        x, y = rng.randint(0, PHOTO_SIZE), rng.randint(0, 300)
        d.ellipse((x - r, y - r, x + r, y + r), fill=_lighter(bg, rng.uniform(0.06, 0.16)))
    accent = _jitter(_lighter(category.background, 0.35), rng, 40)
    SHAPES[category.shape](d, PHOTO_SIZE // 2, 160, accent, bg)

    panel_top = 300
    d.rectangle((0, panel_top, PHOTO_SIZE, PHOTO_SIZE), fill=_darker(bg, 0.45))
    lines, size = _wrap_name(d, name, PHOTO_SIZE - 40)
    font = _font(size)
    line_h = int(size * 1.2)
    y = panel_top + (PHOTO_SIZE - 40 - panel_top - line_h * len(lines)) // 2 + 4
    for line in lines:
        w = d.textlength(line, font=font)
        x = (PHOTO_SIZE - w) / 2
        d.text((x + 2, y + 2), line, font=font, fill=(0, 0, 0))
        d.text((x, y), line, font=font, fill=(255, 255, 255))
        y += line_h
    small = _font(16)
    label = "Boutik"
    d.text(
        (PHOTO_SIZE - 14 - d.textlength(label, font=small), PHOTO_SIZE - 28),
        label,
        font=small,
        fill=_lighter(bg, 0.7),
    )
    path.parent.mkdir(parents=True, exist_ok=True)
    img.save(path, "JPEG", quality=85)


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
        proof = delivery.prove_with_pin(
            self.s, user_id=deliverer, order_id=placed.order.id, pin=placed.code.pin
        )
        assert not proof.delivered
        self.at(start + dt.timedelta(hours=2, minutes=33))
        proof = delivery.confirm_cash(self.s, buyer_id=buyer_id, order_id=placed.order.id)
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

        (o,) = self.checkout(hago(3), "ibrahima", [("Téléphone Tecno Spark 20", 1)])
        self.accept(o, hago(2.5))
        self.at(hago(2.4))
        delivery.publish_job(self.s, seller_id=self.seller_of(o), order_id=o.order.id, bonus=5000)

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
