"""Benchmark #5 — catalog search p99 latency with 100 000 products ÷ with 1 000, on PostgreSQL.

Why: buyers type with typos ("telefone samsng"); commerce.catalog.search.search_products keeps
the structured filters in SQL but scores every remaining candidate's search_text in Python
(rapidfuzz). Its cost therefore grows with the catalogue; this measures how fast.

Setup: 40 approved shops of active sellers built through the real actions
(devtools/testkit/builders.py), then products bulk-inserted with SQLAlchemy Core (approved,
realistic French names from a seeded generator, search_text built by the same fold() the catalog
uses). The same seeded mix of typed queries is timed at 1 000 products (baseline), then again after
growing the table to 100 000. Figure: p99(100 000) ÷ p99(1 000); target ≤ 5 (sub-linear).

Needs: createdb -h 127.0.0.1 -U postgres bench   (the tables are truncated)
Reproduce:
    .venv/bin/python -m bench.search_scale
"""

from __future__ import annotations

import argparse
import os
import random
import statistics
import time
from typing import Any

from sqlalchemy import insert

from commerce import clock
from commerce.catalog.models import ModerationStatus, Product
from commerce.catalog.search import search_products
from commerce.text import fold
from devtools.testkit.builders import make_category, make_seller
from devtools.testkit.db import Db, migrate, open_db, truncate_all

URL = os.environ.get("BENCH_DATABASE_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/bench")
KINDS = [
    "Téléphone",
    "Pagne wax",
    "Sac de riz",
    "Réfrigérateur",
    "Chaussures",
    "Robe",
    "Télévision",
    "Ventilateur",
    "Marmite",
    "Huile d'arachide",
    "Savon",
    "Chemise",
    "Boubou",
    "Montre",
    "Casque audio",
    "Matelas",
    "Groupe électrogène",
    "Bazin brodé",
    "Sandales",
    "Climatiseur",
    "Ordinateur portable",
    "Fer à repasser",
    "Mixeur",
    "Lait en poudre",
    "Sucre",
    "Crème de beauté",
    "Parfum",
    "Valise",
    "Tissu",
    "Moto",
]
BRANDS = [
    "Samsung",
    "Tecno",
    "Itel",
    "Infinix",
    "Hisense",
    "LG",
    "Nasco",
    "Binatone",
    "Nike",
    "Adidas",
    "Vlisco",
    "Dinor",
    "Nido",
    "Haojue",
    "HP",
    "Lenovo",
    "Royal",
    "",
]
EXTRAS = [
    "neuf",
    "d'occasion",
    "grande taille",
    "50 kg",
    "5 L",
    "43 pouces",
    "6 yards",
    "en cuir",
    "pour enfant",
    "pour femme",
    "pour homme",
    "double porte",
    "128 Go",
    "original",
    "importé de Dubaï",
    "qualité supérieure",
    "lot de 3",
    "",
]
COLOURS = ["noir", "blanc", "rouge", "bleu", "vert", "jaune", "doré", "gris", "rose", ""]
QUERIES = [
    "telefone samsng",
    "pagne wax",
    "sac riz 50kg",
    "frigo hisense",
    "chaussure nike",
    "robe rouge",
    "televison lg",
    "ventilateur",
    "huile",
    "boubou bazin",
    "montre doree",
    "matelas",
    "groupe electrogene",
    "ordinateur hp",
    "moto haojue",
    "parfum femme",
    "tecno 128 go",
    "savon",
    "climatiseur",
    "lait nido",
]
CATEGORY_NAMES = "divers general"


def product_rows(
    rng: random.Random, n: int, shops: list[int], category_id: int
) -> list[dict[str, Any]]:
    now = clock.now()
    rows = []
    for _ in range(n):
        brand, colour = rng.choice(BRANDS), rng.choice(COLOURS)
        name = " ".join(p for p in (rng.choice(KINDS), brand, rng.choice(EXTRAS)) if p)[:120]
        rows.append(
            {
                "shop_id": rng.choice(shops),
                "category_id": category_id,
                "name": name,
                "description": "",
                "brand": brand,
                "colour": colour,
                "price": rng.randrange(5_000, 15_000_000, 500),
                "stock": rng.randint(1, 50),
                "low_stock_threshold": 3,
                "status": ModerationStatus.APPROVED,
                "rejection_reason": "",
                "is_paused": False,
                "is_deleted": False,
                "search_text": fold(f"{name} {brand} {colour} {CATEGORY_NAMES}"),
                "created_at": now,
                "updated_at": now,
            }
        )
    return rows


def bulk_insert(db: Db, rows: list[dict[str, Any]]) -> None:
    with db.engine.begin() as conn:
        for i in range(0, len(rows), 5_000):
            conn.execute(insert(Product), rows[i : i + 5_000])


def time_queries(db: Db, budget_s: float, max_queries: int) -> list[float]:
    """Latencies (s) of the query mix, cycled, until the budget or the count runs out."""
    with db.session() as s:
        search_products(s, query=QUERIES[0])  # warm-up: connection, plan cache
    out: list[float] = []
    deadline = time.perf_counter() + budget_s
    while len(out) < max_queries and time.perf_counter() < deadline:
        q = QUERIES[len(out) % len(QUERIES)]
        with db.session() as s:
            t0 = time.perf_counter()
            search_products(s, query=q, limit=10)
            out.append(time.perf_counter() - t0)
    return out


def p(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


def analyze(db: Db) -> None:
    """Fresh planner statistics for every table, as autovacuum keeps them in production.

    Stale statistics on `shops` (40 rows estimated as 1) once made PostgreSQL walk the products
    shop by shop instead of using the trigram index: 1.8 s instead of 20 ms per query.
    """
    with db.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.exec_driver_sql("ANALYZE")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--small", type=int, default=1_000)
    parser.add_argument("--large", type=int, default=100_000)
    parser.add_argument("--budget", type=float, default=30.0, help="seconds of queries per size")
    args = parser.parse_args()
    rng = random.Random(224)
    migrate(URL)
    db = open_db(URL)
    truncate_all(db.engine)
    shops = [make_seller(db)[1] for _ in range(40)]
    category_id = make_category(db, "divers")
    results: dict[int, list[float]] = {}
    t0 = time.perf_counter()
    bulk_insert(db, product_rows(rng, args.small, shops, category_id))
    analyze(db)
    results[args.small] = time_queries(db, args.budget, 400)
    bulk_insert(db, product_rows(rng, args.large - args.small, shops, category_id))
    analyze(db)
    setup = time.perf_counter() - t0
    results[args.large] = time_queries(db, args.budget, 400)
    print(f"search_products on PostgreSQL, {len(QUERIES)} typed queries cycled, limit 10")
    for n, lat in results.items():
        print(
            f"  {n:>7} products: {len(lat):4d} queries  p50 {statistics.median(lat) * 1000:8.1f} ms"
            f"  p99 {p(lat, 0.99) * 1000:8.1f} ms  max {max(lat) * 1000:8.1f} ms"
        )
    ratio = p(results[args.large], 0.99) / p(results[args.small], 0.99)
    target = 3 if args.large >= 1_000_000 else 5  # issue 20: <= 3 at 1 000 000
    print(f"RATIO p99({args.large}) / p99({args.small}) = {ratio:.1f}   (target <= {target})")
    print(f"(setup: inserts, ANALYZE and the small-size queries took {setup:.1f} s)")
    from bench.machine import speed_line

    print(speed_line())
    print(
        f"reproduce: .venv/bin/python -m bench.search_scale --budget {args.budget:g} "
        f"--large {args.large}"
    )


if __name__ == "__main__":
    main()
