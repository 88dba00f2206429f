"""Catalog search that forgives typos and accents ("telefone samsng" → "Téléphone Samsung").

Why rapidfuzz: edit-distance scoring per word is what buyers' typing needs, and rapidfuzz does
it in C. Structured filters (category, price) narrow the candidates in SQL first; the words
are then scored in Python against each candidate's folded `search_text`.
"""

from __future__ import annotations

from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import select
from sqlalchemy.orm import Session

from commerce.catalog.actions import visible_products_query
from commerce.catalog.models import Product
from commerce.errors import InvalidInput
from commerce.text import fold, tokens

# Words that carry no meaning for matching, in both languages.
STOPWORDS = frozenset(
    [
        "a",
        "au",
        "aux",
        "avec",
        "de",
        "des",
        "du",
        "en",
        "et",
        "la",
        "le",
        "les",
        "l",
        "d",
        "un",
        "une",
        "pour",
        "par",
        "sur",
        "the",
        "an",
        "of",
        "for",
        "with",
        "and",
        "in",
    ]
)
WORD_THRESHOLD = 75.0
MAX_QUERY = 200


@dataclass(frozen=True)
class SearchPage:
    products: list[Product]
    total: int
    offset: int
    limit: int

    @property
    def has_more(self) -> bool:
        return self.offset + len(self.products) < self.total


def word_score(word: str, candidates: list[str]) -> float:
    """How well one query word matches the best word of a product (0–100)."""
    best = 0.0
    for cand in candidates:
        if cand == word:
            return 100.0
        if len(word) >= 3 and cand.startswith(word):
            best = max(best, 95.0)
            continue
        best = max(best, fuzz.ratio(word, cand))
    return best


def match_score(query_words: list[str], text: str) -> float:
    """Every query word must match some word (AND); the score is the mean of the matches."""
    cands = text.split()
    if not query_words:
        return 100.0
    scores = []
    for word in query_words:
        s = word_score(word, cands)
        if s < WORD_THRESHOLD:
            return 0.0
        scores.append(s)
    return sum(scores) / len(scores)


def _attr_matches(wanted: str | None, actual: str) -> bool:
    if not wanted:
        return True
    w, a = fold(wanted), fold(actual)
    return bool(a) and (w == a or fuzz.ratio(w, a) >= 80 or w in a.split())


def search_products(
    session: Session,
    *,
    query: str = "",
    category_id: int | None = None,
    min_price: int | None = None,
    max_price: int | None = None,
    brand: str | None = None,
    colour: str | None = None,
    limit: int = 10,
    offset: int = 0,
) -> SearchPage:
    if len(query) > MAX_QUERY:
        raise InvalidInput("search too long", max=MAX_QUERY)
    if limit <= 0 or offset < 0:
        raise InvalidInput("bad page")
    if min_price is not None and max_price is not None and min_price > max_price:
        min_price, max_price = max_price, min_price
    words = [w for w in tokens(query) if w not in STOPWORDS and len(w) > 1]
    stmt = visible_products_query().with_only_columns(
        Product.id, Product.search_text, Product.brand, Product.colour
    )
    if category_id is not None:
        stmt = stmt.where(Product.category_id == category_id)
    if min_price is not None:
        stmt = stmt.where(Product.price >= min_price)
    if max_price is not None:
        stmt = stmt.where(Product.price <= max_price)
    scored: list[tuple[float, int]] = []
    for pid, text, p_brand, p_colour in session.execute(stmt.order_by(Product.id)):
        if not (_attr_matches(brand, p_brand) and _attr_matches(colour, p_colour)):
            continue
        score = match_score(words, text)
        if score > 0:
            scored.append((score, pid))
    scored.sort(key=lambda s: (-s[0], s[1]))
    page_ids = [pid for _score, pid in scored[offset : offset + limit]]
    by_id = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(page_ids)))}
    return SearchPage(
        products=[by_id[i] for i in page_ids if i in by_id],
        total=len(scored),
        offset=offset,
        limit=limit,
    )
