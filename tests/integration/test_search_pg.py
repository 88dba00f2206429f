"""Search on PostgreSQL: the trigram prefilter finds what the Python-only path finds.

Why: on PostgreSQL, `search_products` lets pg_trgm narrow the candidates before rapidfuzz scores
them (commerce/catalog/search.py). A prefilter that drops a product a buyer's typo should find
is a silent miss, so every unit search test runs again here, and a generated catalogue is
searched both ways with typed queries and compared.
"""

from __future__ import annotations

import random

import pytest
from sqlalchemy import text

from commerce.catalog import search
from commerce.catalog.actions import visible_products_query
from commerce.catalog.models import Product
from commerce.catalog.search import match_score, search_products
from commerce.text import fold
from tests.support import make_category, make_product, make_seller
from tests.unit.buyer_chat import Chat
from tests.unit.test_search import *  # noqa: F403 — the same cases, on PostgreSQL

NAMES = [
    "Téléphone Samsung Galaxy A15",
    "Téléphone Tecno Spark 20",
    "iPhone 12 reconditionné",
    "Chaussures Nike Air",
    "Sandales en cuir",
    "Sac à main élégant",
    "Sac de riz 50 kg",
    "Pagne wax Vlisco 6 yards",
    "Réfrigérateur Hisense double porte",
    "Télévision LG 43 pouces",
    "Ventilateur Binatone",
    "Huile d'arachide 5 L",
    "Boubou bazin brodé",
    "Montre dorée Casio",
    "Groupe électrogène Firman",
    "Ordinateur portable HP",
]
QUERIES = [
    "telefone samsng",
    "iphnoe",
    "chausure nike",
    "sac riz 50kg",
    "refrigerateur hisense",
    "televison lg",
    "ventilatuer",
    "huile arachide",
    "boubou bazin",
    "montre doree",
    "groupe electrogene",
    "ordinateur hp",
    "pagne wax",
    "sandale cuir",
    "galaxi",
    "tecn spark",
    "riz 50kg",
    "huile 5l",
]


@pytest.fixture
def db(pg):  # type: ignore[no-untyped-def]
    """The imported unit tests' `db`, here the real PostgreSQL with the trigram index."""
    return pg


def _python_only(session, query: str) -> set[int]:  # type: ignore[no-untyped-def]
    """The reference: every visible product scored in Python, as on SQLite."""
    words = search.query_words(query)
    stmt = visible_products_query().with_only_columns(Product.id, Product.search_text)
    rows = session.execute(stmt)
    return {pid for pid, st in rows if match_score(words, st) > 0}


def test_migration_installed_the_trigram_index(pg):
    with pg.session() as s:
        indexdef = s.scalar(
            text("SELECT indexdef FROM pg_indexes WHERE indexname = 'ix_products_search_trgm'")
        )
    assert indexdef is not None and "gin_trgm_ops" in indexdef


def test_prefilter_finds_what_scoring_everything_finds(pg):
    rng = random.Random(7)
    seller, _ = make_seller(pg)
    cat = make_category(pg, "divers")
    for i in range(120):
        make_product(pg, seller_id=seller, name=f"{rng.choice(NAMES)} {i}", category_id=cat)
    with pg.session() as s:
        for query in QUERIES:
            page = search_products(s, query=query, limit=200)
            assert {p.id for p in page.products} == _python_only(s, query), query
            assert page.total == len(page.products)


def test_a_broad_search_pages_and_says_more_than(pg, monkeypatch):
    """Beyond CANDIDATES clear matches only that many are scored: the total is a lower bound."""
    monkeypatch.setattr(search, "CANDIDATES", 10)
    seller, _ = make_seller(pg)
    for i in range(60):
        make_product(pg, seller_id=seller, name=f"Pagne wax modèle {i}")
    make_product(pg, seller_id=seller, name="Sac de riz 50 kg")
    with pg.session() as s:
        first = search_products(s, query="pagne wax", limit=5)
        later = search_products(s, query="pagne wax", limit=5, offset=15)
        narrow = search_products(s, query="sac riz", limit=5)
    assert first.total_is_lower_bound and first.has_more
    assert 10 <= first.total < 60
    assert len(later.products) == 5 and later.total_is_lower_bound
    assert {p.id for p in first.products}.isdisjoint({p.id for p in later.products})
    assert all("pagne wax" in fold(p.name) for p in first.products + later.products)
    assert narrow.total == 1 and not narrow.total_is_lower_bound


def test_buyers_see_more_than_on_a_broad_search(pg, monkeypatch, tmp_path):
    monkeypatch.setattr(search, "CANDIDATES", 4)
    seller, _ = make_seller(pg)
    for i in range(30):  # more than the 2 × 8 a first page of 8 scores
        make_product(pg, seller_id=seller, name=f"Ventilateur Binatone {i}")
    chat = Chat(pg, tmp_path)
    chat.say("bonjour")
    chat.say("ventilateur")
    assert "sur plus de" in chat.texts(), chat.texts()
    make_product(pg, seller_id=seller, name="Réfrigérateur Hisense")
    chat.say("refrigerateur hisnse")
    assert "(1 sur 1)" in chat.texts(), chat.texts()
