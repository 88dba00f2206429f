"""Filters said in plain words: "chaussures moins de 200000", "samsung noir", "tel 100k à 2M".

Buyers do not fill forms; they type a sentence. This turns the sentence into the structured
filters `search_products` understands (price bounds, colour, category) and leaves the rest as
the words to match. Pure functions over folded text, so every phrasing is unit-tested.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from bot.numbers import amount_at, join_number_tokens
from commerce.text import fold

# Colour words in both languages, folded, each mapped to the word sellers write.
COLOURS: dict[str, str] = {
    "noir": "noir", "noire": "noir", "noirs": "noir", "noires": "noir", "black": "noir",
    "blanc": "blanc", "blanche": "blanc", "blancs": "blanc", "white": "blanc",
    "rouge": "rouge", "rouges": "rouge", "red": "rouge",
    "bleu": "bleu", "bleue": "bleu", "bleus": "bleu", "blue": "bleu",
    "vert": "vert", "verte": "vert", "verts": "vert", "green": "vert",
    "jaune": "jaune", "jaunes": "jaune", "yellow": "jaune",
    "rose": "rose", "roses": "rose", "pink": "rose",
    "gris": "gris", "grise": "gris", "grey": "gris", "gray": "gris",
    "marron": "marron", "brown": "marron",
    "violet": "violet", "violette": "violet", "purple": "violet",
    "dore": "dore", "doree": "dore", "gold": "dore",
    "argent": "argent", "silver": "argent",
}  # fmt: skip

_MAX_WORDS = ("moins", "max", "maximum", "under", "below", "less", "sous", "jusqu", "budget")
_MIN_WORDS = ("plus", "min", "minimum", "over", "above", "more", "partir", "des", "least")
_FILLER = frozenset({"de", "que", "a", "than", "au", "the", "at", "from"})
_CURRENCY = frozenset({"gnf", "fg", "francs", "franc"})


@dataclass(frozen=True)
class Filters:
    words: str = ""
    min_price: int | None = None
    max_price: int | None = None
    colour: str | None = None
    category_id: int | None = None

    @property
    def any(self) -> bool:
        return any(v is not None for v in (self.min_price, self.max_price, self.colour))


def parse(text: str, categories: Iterable[tuple[int, str]] = ()) -> Filters:
    """Split a buyer's sentence into words and filters.

    `categories` are (id, name) pairs in any language; a word naming one (singular or plural)
    becomes the category filter, so "chaussures" finds shoes even without the word in a name.
    """
    tokens = join_number_tokens(fold(text.replace("<", " moins ").replace(">", " plus ")).split())
    words: list[str] = []
    lo: int | None = None
    hi: int | None = None
    colour: str | None = None
    i = 0
    while i < len(tokens):
        tok = tokens[i]
        if tok in _MAX_WORDS or tok in _MIN_WORDS or tok in ("entre", "between"):
            j = i + 1
            while j < len(tokens) and tokens[j] in _FILLER | {"cher", "expensive", "d", "l"}:
                j += 1
            value, used = amount_at(tokens, j)
            if value is not None:
                if tok in ("entre", "between"):
                    k = j + used
                    if k < len(tokens) and tokens[k] in ("et", "and", "a"):
                        k += 1
                    upper, used2 = amount_at(tokens, k)
                    lo, hi = value, upper if upper is not None else hi
                    i = k + used2
                elif tok in _MAX_WORDS:
                    hi, i = value, j + used
                else:
                    lo, i = value, j + used
                continue
        if tok in COLOURS and colour is None:
            colour = COLOURS[tok]
            i += 1
            continue
        if tok in _CURRENCY:
            i += 1
            continue
        value, used = amount_at(tokens, i)
        if value is not None and value >= 1_000 and hi is None:
            hi, i = value, i + used  # "chaussures 200000": a budget
            continue
        words.append(tok)
        i += 1
    category_id = None
    folded_cats = [(cid, fold(name)) for cid, name in categories]
    for w in list(words):
        for cid, name in folded_cats:
            stems = {name, name.rstrip("s"), name.rstrip("x")}
            if w in stems or w.rstrip("s") in stems:
                category_id = cid
                words.remove(w)
                break
        if category_id is not None:
            break
    return Filters(
        words=" ".join(words),
        min_price=lo,
        max_price=hi,
        colour=colour,
        category_id=category_id,
    )
