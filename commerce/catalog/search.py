"""Catalog search that forgives typos and accents ("telefone samsng" → "Téléphone Samsung").

Why rapidfuzz: edit-distance scoring per word is what buyers' typing needs, and rapidfuzz does
it in C. Structured filters (category, price) narrow the candidates in SQL first; the words
are then scored in Python against each candidate's folded `search_text`.

Why a trigram prefilter on PostgreSQL: scoring every product in Python is linear in the
catalogue (100× the products cost 60× the time, BENCHMARKS.md #5). There, pg_trgm's GIN index
(migration 0002) hands over candidates whose text holds something like every query word
(`search_text %> word`), and only a few hundred of them are scored in Python:
- first any CANDIDATES products that clearly hold every word (STRICT_SIMILARITY), unordered so
  PostgreSQL stops reading once it has them: a broad query ("ventilateur" among thousands) is
  answered from those, its total shown as "more than N";
- when those do not fill the page, the query is narrow or mistyped: every product at the
  looser LOOSE_SIMILARITY is read best-first, so no typo rapidfuzz forgives is lost.
  (When clear matches fill the pages, matches found only through a looser reading are not
  added to them: the buyer already has what they typed.)
SQLite, the embedded mode for small shops, scores every candidate as before.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from rapidfuzz import fuzz
from sqlalchemy import ColumnElement, Select, func, literal, select
from sqlalchemy.orm import Session

from commerce.catalog.actions import visible_products_query
from commerce.catalog.models import Product
from commerce.errors import InvalidInput
from commerce.text import fold

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
_NUMBER_EDGE = re.compile(r"(?<=\d)(?=[a-z])|(?<=[a-z])(?=\d)")
MAX_QUERY = 200
# pg_trgm word similarity each query word needs. Loose: words rapidfuzz accepts (≥ 75) score
# ≥ 0.4 here ("iphnoe" → "iphone" 0.43), so 0.3 loses none (tests/integration/test_search_pg.py
# compares with scoring everything). Strict: a whole word or one typo in a long one.
LOOSE_SIMILARITY = 0.3
STRICT_SIMILARITY = 0.5
# How many prefiltered candidates are scored in Python (at least twice the page's end).
CANDIDATES = 300


@dataclass(frozen=True)
class SearchPage:
    products: list[Product]
    total: int
    offset: int
    limit: int
    # True when a broad query was not counted to the end: there are more than `total`.
    total_is_lower_bound: bool = False

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


def split_units(text: str) -> str:
    """ "sac riz 50kg" → "sac riz 50 kg": buyers glue numbers to units, sellers may not."""
    return _NUMBER_EDGE.sub(" ", text)


def query_words(query: str) -> list[str]:
    """The words of a query that must each match: folded, units split, stopwords dropped."""
    return [
        w
        for w in split_units(fold(query)).split()
        if w not in STOPWORDS and (len(w) > 1 or w.isdigit())
    ]


def match_score(query_words: list[str], text: str) -> float:
    """Every query word must match some word (AND); the score is the mean of the matches."""
    cands = split_units(text).split()
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
    words = query_words(query)
    stmt = visible_products_query().with_only_columns(
        Product.id, Product.search_text, Product.brand, Product.colour
    )
    if category_id is not None:
        stmt = stmt.where(Product.category_id == category_id)
    if min_price is not None:
        stmt = stmt.where(Product.price >= min_price)
    if max_price is not None:
        stmt = stmt.where(Product.price <= max_price)
    if not words and not brand and not colour:
        return _listing(session, stmt, offset=offset, limit=limit)
    if words and session.get_bind().dialect.name == "postgresql":
        return _trigram_search(session, stmt, words, brand, colour, offset=offset, limit=limit)
    scored = _scored(session.execute(stmt.order_by(Product.id)), words, brand, colour)
    return _page(session, scored, offset=offset, limit=limit)


Row = tuple[int, str, str, str]


def _scored(
    rows: Iterable[Row], words: list[str], brand: str | None, colour: str | None
) -> list[tuple[float, int]]:
    """(score, id) of the rows that match every word and the fuzzy filters, best first."""
    scored: list[tuple[float, int]] = []
    for pid, text, p_brand, p_colour in rows:
        if not (_attr_matches(brand, p_brand) and _attr_matches(colour, p_colour)):
            continue
        score = match_score(words, text)
        if score > 0:
            scored.append((score, pid))
    scored.sort(key=lambda s: (-s[0], s[1]))
    return scored


def _trigram_search(
    session: Session,
    stmt: Select,
    words: list[str],
    brand: str | None,
    colour: str | None,
    *,
    offset: int,
    limit: int,
) -> SearchPage:
    """PostgreSQL: score only the candidates pg_trgm hands over (see the module's docstring)."""
    need = offset + limit
    cap = max(CANDIDATES, 2 * need)
    rows = _trigram_rows(session, stmt, words, STRICT_SIMILARITY, cap, best_first=False)
    scored = _scored(rows, words, brand, colour)
    if len(scored) < need:
        rows = _trigram_rows(session, stmt, words, LOOSE_SIMILARITY, cap, best_first=True)
        scored = _scored(rows, words, brand, colour)
    return _page(session, scored, offset=offset, limit=limit, lower_bound=len(rows) >= cap)


def _trigram_rows(
    session: Session,
    stmt: Select,
    words: list[str],
    threshold: float,
    cap: int,
    *,
    best_first: bool,
) -> list[Row]:
    session.execute(
        select(func.set_config("pg_trgm.word_similarity_threshold", str(threshold), True))
    )
    similarity: ColumnElement[float] = literal(0.0)
    for word in words:
        stmt = stmt.where(Product.search_text.op("%>")(word))
        similarity = similarity + func.word_similarity(word, Product.search_text)
    if best_first:
        stmt = stmt.order_by(similarity.desc(), Product.id)
    return [tuple(r) for r in session.execute(stmt.limit(cap))]


def _listing(session: Session, stmt: Select, *, offset: int, limit: int) -> SearchPage:
    """No words and no fuzzy filters: every candidate matches, so SQL pages and counts."""
    total = session.scalar(stmt.with_only_columns(func.count()).order_by(None)) or 0
    page = stmt.with_only_columns(Product.id).order_by(Product.id).offset(offset).limit(limit)
    return _load(session, list(session.scalars(page)), total, offset, limit)


def _page(
    session: Session,
    scored: list[tuple[float, int]],
    *,
    offset: int,
    limit: int,
    lower_bound: bool = False,
) -> SearchPage:
    """The page [offset, offset + limit) of the ranked ids, loaded as products."""
    return _load(
        session,
        [pid for _s, pid in scored[offset : offset + limit]],
        len(scored),
        offset,
        limit,
        lower_bound,
    )


def _load(
    session: Session,
    page_ids: list[int],
    total: int,
    offset: int,
    limit: int,
    lower_bound: bool = False,
) -> SearchPage:
    by_id = {p.id: p for p in session.scalars(select(Product).where(Product.id.in_(page_ids)))}
    return SearchPage(
        products=[by_id[i] for i in page_ids if i in by_id],
        total=total,
        offset=offset,
        limit=limit,
        total_is_lower_bound=lower_bound,
    )
