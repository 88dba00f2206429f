"""Filters said in plain words: "chaussures moins de 200000", "samsung noir", "tel 100k à 2M".

Buyers do not fill forms; they type a sentence. This turns the sentence into the structured
filters `search_products` understands (price bounds, colour, category) and leaves the rest as
the words to match. Pure functions over folded text, so every phrasing is unit-tested.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

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
_NUMBER = re.compile(r"^(\d+)(k|m|mil|mille|million|millions)?$")
_MULT = {"k": 1_000, "mil": 1_000, "mille": 1_000, "m": 1_000_000}


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


# Above any real price and within the price column (a 32-bit INTEGER on PostgreSQL): a
# larger bound made "moins de 99999999999" fail there with 'integer out of range'.
MAX_AMOUNT = 2**31 - 1


def _join_numbers(tokens: list[str]) -> list[str]:
    """ "200 000" and "1 500 000" arrive as separate tokens after folding: glue them back."""
    out: list[str] = []
    for tok in tokens:
        if tok.isdigit() and len(tok) == 3 and out and out[-1].isdigit():
            out[-1] += tok
        else:
            out.append(tok)
    return out


def _amount(tokens: list[str], i: int) -> tuple[int | None, int]:
    """The amount starting at tokens[i] ("200000", "200k", "2 m", "200 mille"): (value, used)."""
    if i >= len(tokens):
        return None, 0
    m = _NUMBER.match(tokens[i])
    if not m:
        return None, 0
    value, suffix, used = int(m.group(1)), m.group(2), 1
    if suffix is None and i + 1 < len(tokens) and tokens[i + 1] in (
        "k", "mil", "mille", "m", "million", "millions",
    ):  # fmt: skip
        suffix, used = tokens[i + 1], 2
    if suffix:
        value *= _MULT.get(suffix, 1_000_000)
    # "moins de 99999999999999999999": no price is that high, and no database integer either.
    return min(value, MAX_AMOUNT), used


def parse(text: str, categories: Iterable[tuple[int, str]] = ()) -> Filters:
    """Split a buyer's sentence into words and filters.

    `categories` are (id, name) pairs in any language; a word naming one (singular or plural)
    becomes the category filter, so "chaussures" finds shoes even without the word in a name.
    """
    tokens = _join_numbers(fold(text.replace("<", " moins ").replace(">", " plus ")).split())
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
            value, used = _amount(tokens, j)
            if value is not None:
                if tok in ("entre", "between"):
                    k = j + used
                    if k < len(tokens) and tokens[k] in ("et", "and", "a"):
                        k += 1
                    upper, used2 = _amount(tokens, k)
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
        value, used = _amount(tokens, i)
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
