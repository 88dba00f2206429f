"""The demo world as data: categories, sellers and their shops, products, couriers, buyers.

Plain tables, no database and no drawing: `devtools.seed.seeder` builds them through the real
commerce actions, `devtools.seed.pictures` draws each product's photo, and the simulator reads
the phones of the buyers, couriers and sellers from here.

Phone numbers use the +224 600 00 xx xx block, valid for libphonenumber but not handed out by the
Guinean operators we know of, so a demo wired to a real provider does not text strangers.
"""

from __future__ import annotations

from typing import NamedTuple

DEFAULT_ADMIN_TELEGRAM_ID = 100000001
SELLER_TELEGRAM_BASE = 7_100_000_000

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
    # Where the category's line would not be true of the product (a category's line is for
    # what most of its products are: new phones, sewn clothes, shoes in sizes 38 to 45).
    "iPhone 12 reconditionné 64 Go": "Reconditionné en boutique, batterie à plus de 85 %, "
    "débloqué tout opérateur ; garantie 3 mois.",
    "Pagne wax Uniwax 6 yards": "Wax Uniwax, 6 yards, à faire coudre chez votre tailleur ; "
    "les couleurs tiennent au lavage.",
    "Tissu bazin riche Getzner 5 mètres": "Bazin riche Getzner, 5 mètres : de quoi coudre un "
    "grand boubou ou un ensemble.",
    "Foulard en soie": "Soie légère, 90 × 90 cm, à nouer sur la tête ou autour du cou.",
    "Sac à main en cuir": "Cuir véritable, fermeture éclair, une poche intérieure pour le "
    "téléphone.",
    "Boucles d'oreilles plaqué or": "Plaqué or, légères, ne noircissent pas ; livrées dans "
    "leur écrin.",
    "Casquette New Era": "Taille réglable, visière plate, logo brodé.",
    "Montre Casio classique": "Bracelet en acier, résiste aux éclaboussures, pile fournie.",
    "Ceinture en cuir": "Cuir véritable, boucle en métal, se raccourcit à votre tour de taille.",
    "Escarpins femme talon 8 cm": "Talon de 8 cm, du 36 au 41 : précisez votre pointure au "
    "vendeur.",
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
