"""Benchmark #6 — SMS cost: billed segments per SMS over every courier- and buyer-facing template.

Why: every SMS is billed per segment (160 GSM-7 characters, or only 70 once one character forces
UCS-2). A template that spills into 2 segments, or one stray "’" or "é" that slips through as
UCS-2, doubles or triples the bill of every SMS sent with it.

Every key of bot/locales/{fr,en}/courier.toml (minus the Telegram-only / QR-page texts, as in
tests/unit/test_courier_sms_segments.py), buyer.toml and common.toml's notify.* is filled with
realistic Guinean values (names, Nzérékoré / Dar-es-Salam / Kaloum…, 1 000 000+ GNF amounts,
7-digit order numbers), several random fills each, and rendered exactly as the worker renders an
SMS: courier texts through wording.fit (what courier handlers send), then
channels_adapters.render.render_sms → parts, each billed by commerce.messaging.sms_text.segments.
The texts that lead a courier to a door go through wording.door as the handlers send them: the
whole landmark in a second SMS when it does not fit, a maps link when the buyer shared a pin.

Figure: billed segments ÷ SMS sent (baseline: 1 segment per SMS, the minimum). Target ≤ 1.10 and
0 UCS-2 parts.

Reproduce:
    .venv/bin/python -m bench.sms_cost
"""

from __future__ import annotations

import random
import string
from collections import Counter
from typing import Any

from bot import i18n
from bot.courier import wording
from bot.courier.handlers import SHRINK
from bot.messages import Text
from channels_adapters.render import render_sms
from commerce.messaging.sms_text import segments

FILLS = 20  # random fills per template
NOT_SMS = (  # courier texts never sent by SMS (same list as the unit test)
    "courier.menu.",
    "courier.qr.",
    "courier.offer.accept",
    "courier.job.picked_button",
    "courier.job.delivered_button",
    "courier.job.returned_button",
    "courier.notify.unclaimed",
    "courier.notify.bonus",
)
FIRST = [
    "Mamadou",
    "Fatoumata",
    "Ibrahima",
    "Mariama",
    "Alpha Oumar",
    "Aïssatou",
    "Thierno",
    "Kadiatou",
    "Sékou",
    "Hadja Binta",
    "Ousmane",
    "N'Famara",
    "Fodé",
    "Djénabou",
]
LAST = [
    "Diallo",
    "Camara",
    "Bah",
    "Sylla",
    "Condé",
    "Touré",
    "Soumah",
    "Keïta",
    "Barry",
    "Kourouma",
    "Haba",
    "Loua",
    "Guilavogui",
    "Fofana",
]
PLACES = [
    "Kipé, Ratoma",
    "Dar-es-Salam, Ratoma",
    "Boulbinet, Kaloum",
    "Madina, Matam",
    "Hamdallaye, Ratoma",
    "Nzérékoré",
    "Gbessia, Matoto",
    "Kankan",
    "Labé",
    "Kindia",
    "Coléah, Matam",
    "Lambanyi, Ratoma",
    "Mamou",
    "Boké",
]
PREFECTURES = [
    "Kaloum",
    "Dixinn",
    "Matam",
    "Ratoma",
    "Matoto",
    "Nzérékoré",
    "Kankan",
    "Labé",
    "Kindia",
    "Boké",
    "Siguiri",
    "Guéckédou",
]
LANDMARKS = [
    "derrière la grande mosquée",
    "en face de la pharmacie Fayçal",
    "à côté du marché de Madina",
    "près du rond-point de la Tannerie",
    "après la station Total, 2e ruelle à gauche",
    "Derrière la station Total de Kipé, portail bleu après la boulangerie",  # P18 of the tour
]
# Texts that lead a courier to a door: sent as handlers send them (bot.courier.wording.door),
# the whole landmark in a second SMS when it does not fit, then a maps link when pinned.
DOOR_KEYS = (
    "courier.job.accepted",
    "courier.job.picked_up",
    "courier.job.return_client",
    "courier.job.return_picked_up",
)
# Their parts, never sent alone.
DOOR_PARTS = (
    "courier.job.landmark",
    "courier.job.landmark_map",
    "courier.job.landmark_next",
    "courier.job.map",
)
SHOPS = [
    "Boutique Diallo & Frères",
    "Électronique Soumah",
    "Chez Kadiatou Mode",
    "Nzérékoré Téléphones",
    "Bah Cosmétiques",
    "Quincaillerie Condé",
]
PRODUCTS = [
    "Téléphone Samsung Galaxy A15",
    "Pagne wax 6 yards",
    "Sac de riz 50 kg",
    "Réfrigérateur Hisense 120 L",
    "Moto Haojue 125",
    "Bazin riche brodé",
    "Huile d'arachide 5 L",
    "Télévision LG 43 pouces",
]
REASONS = [
    "Photo floue, merci d'en envoyer une plus nette",
    "Prix manquant",
    "Le client n'était pas joignable",
    "Article abîmé à la livraison",
    "Boutique fermée le dimanche",
]


def values(rng: random.Random, lang: str) -> dict[str, Any]:
    """One realistic fill for every placeholder the templates use."""
    order = rng.randint(1_000_000, 9_999_999)
    money = lambda: rng.choice([1_000_000, 1_250_000, 2_750_000, 4_500_000, 12_300_000])  # noqa: E731
    name = f"{rng.choice(FIRST)} {rng.choice(LAST)}"
    product = rng.choice(PRODUCTS)
    v: dict[str, Any] = {
        "order_id": order,
        "order": order,
        "return_id": rng.randint(10_000, 999_999),
        "product_id": rng.randint(100_000, 999_999),
        "id": rng.randint(1_000, 999_999),
        "shop_id": rng.randint(1_000, 99_999),
        "courier_id": rng.randint(100, 9_999),
        "report_id": rng.randint(100, 9_999),
        "user_id": rng.randint(10_000, 999_999),
        "name": name,
        "who": name,
        "names": f"{name}, {rng.choice(FIRST)} {rng.choice(LAST)}",
        "place": rng.choice(PLACES),
        "prefecture": rng.choice(PREFECTURES),
        "quartier": rng.choice(PLACES).split(",")[0],
        "region": "Conakry",
        "origin": rng.choice(PREFECTURES),
        "destination": rng.choice(PREFECTURES),
        "landmark": rng.choice(LANDMARKS),
        "shop": rng.choice(SHOPS),
        "product": product,
        "reason": rng.choice(REASONS),
        "comment": "Très bon vendeur, livraison rapide",
        "text": "Bonjour, le colis est-il toujours disponible ?",
        "query": "telephone samsung",
        "phone": f"+22462{rng.randint(0, 9_999_999):07d}",
        "number": rng.randint(1, 9),
        "rating": rng.randint(1, 5),
        "stars": "★" * rng.randint(1, 5),
        "avg": "4,6",
        "code": "TABASKI25",
        "pin": f"{rng.randint(0, 9999):04d}",
        "stock": rng.randint(0, 5),
        "count": rng.randint(1, 9),
        "n": rng.randint(1, 9),
        "qty": rng.randint(1, 5),
        "reports": rng.randint(1, 5),
        "points": rng.randint(10, 900),
        "max": 5,
        "attempts_left": rng.randint(1, 4),
        "minutes": rng.choice([15, 60, 1440]),
        "failures": rng.randint(5, 20),
        "done_today": rng.randint(1, 12),
        "total": rng.randint(2, 40),
        "shown": 10,
        "target": name,
        "status": "en route",
        "method": "espèces à la livraison",
        "how": "moto",
        "vehicle": "moto",
        "km": wording.km(lang, rng.uniform(1, 60)),
        "items": f"{product} x1",
        "lines": f"1. {product} x1 - {money():,} GNF".replace(",", " "),
        "url": f"https://boutik.example.gn/q/{rng.randint(10**6, 10**7 - 1)}",
        # Issue 19's cash and review texts (the ledger, disputes, favourites, points used).
        "courier": name,
        "declared": f"{money():,} GNF".replace(",", " "),
        "note": "remis au vendeur au marché Madina",
        "orders": ", ".join(str(rng.randint(10**6, 10**7 - 1)) for _ in range(3)),
        "hours": rng.randint(2, 72),
        "remittance_id": rng.randint(1, 99_999),
        "reply": "Merci beaucoup, à bientôt dans notre boutique !",
        "said": rng.choice(["douze", "beaucoup", "-3"]),
        "sellers": rng.randint(1, 4),
    }
    for key in (
        "total_gnf",
        "commission_gnf",
        "price_gnf",
        "discount_gnf",
        "fee_gnf",
        "amount_gnf",
        "refund_gnf",
        "subtotal_gnf",
        "today_gnf",
        "week_gnf",
        "unpaid_gnf",
        "earned_gnf",
        "held_gnf",
        "owed_gnf",
        "old_price_gnf",
        "value_gnf",
    ):
        v[key] = money()
    return v


def sms_keys(lang: str) -> list[str]:
    catalog = i18n.catalog(lang)
    courier = [
        k
        for k in catalog
        if k.startswith("courier.") and not k.startswith(NOT_SMS) and k not in DOOR_PARTS
    ]
    return sorted(courier + [k for k in catalog if k.startswith(("buyer.", "notify."))])


def render(lang: str, key: str, params: dict[str, Any], rng: random.Random) -> list[list[str]]:
    """The SMS the worker would send for this template (one or more), each as its parts."""
    if key in DOOR_KEYS:  # half of the buyers share a GPS pin
        pin = (9.5 + rng.random() / 10, -13.7 + rng.random() / 10) if rng.random() < 0.5 else None
        texts = wording.door(
            lang,
            key,
            shrink=SHRINK,
            lat=pin[0] if pin else None,
            lng=pin[1] if pin else None,
            **params,
        )
    elif key.startswith("courier."):
        texts = [wording.fit(lang, key, shrink=SHRINK, **params)]
    else:
        texts = [i18n.t(lang, key, **params)]
    return [render_sms(Text(text), lang=lang) for text in texts]


def main() -> None:
    rng = random.Random(224)
    sent = billed = ucs2 = unfilled = 0
    by_file: Counter[str] = Counter()
    by_file_sms: Counter[str] = Counter()
    worst: Counter[str] = Counter()
    doors = door_sms = 0
    for lang in ("fr", "en"):
        catalog = i18n.catalog(lang)
        for key in sms_keys(lang):
            fields = {f for _, f, _, _ in string.Formatter().parse(catalog[key]) if f}
            for _ in range(FILLS if fields else 1):
                rendered = render(lang, key, values(rng, lang), rng)
                if key in DOOR_KEYS:
                    doors += 1
                    door_sms += len(rendered)
                for parts in rendered:
                    if not parts:
                        continue
                    segs = 0
                    for part in parts:
                        encoding, n = segments(part)
                        segs += n
                        ucs2 += encoding == "UCS-2"
                        unfilled += "{" in part
                    group = key.split(".")[0]
                    sent += 1
                    billed += segs
                    by_file[group] += segs
                    by_file_sms[group] += 1
                    if segs > 1:
                        worst[f"{lang}:{key}"] += 1
    print(f"templates x fills: {sent} SMS sent, {billed} segments billed (baseline 1/SMS)")
    print(f"RATIO segments/SMS = {billed / sent:.3f}   (target <= 1.10)")
    for group in sorted(by_file):
        print(
            f"  {group:8s} {by_file_sms[group]:5d} SMS  {by_file[group] / by_file_sms[group]:.3f}"
        )
    print(f"courier door texts: {doors} sent as {door_sms} SMS ({door_sms / doors:.2f} each)")
    print(f"UCS-2 parts = {ucs2} (target 0); parts with an unfilled placeholder = {unfilled}")
    print("templates that went multi-segment (fills out of their total):")
    for key, n in worst.most_common():
        print(f"  {key}: {n}")
    print("reproduce: .venv/bin/python -m bench.sms_cost")


if __name__ == "__main__":
    main()
