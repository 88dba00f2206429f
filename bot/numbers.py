"""Numbers in what people type: digits or words, and when a number is an order number.

- `number_of("deux")` → 2: where a number is expected (a quantity, a numbered menu), a number
  written as a word counts the same as its digits, in French or English.
- `order_number("où est ma commande 19")` → 19, but `order_number("ça fait 5 jours que
  j'attends ma commande")` → None: a number is an order number only where the words say so —
  right after an order word ("commande 19", "order 19"), "#19", "n° 19", "numéro 19" — or when
  it is the whole message answering "which order?" (`bare=True`).
- `amounts("si j'achète à 280 000")` → [280000]; "200k", "1,5 million", "2 millions" too: the
  amounts in a sentence, for the catalogue's price filters and the support assistant's sums.
"""

from __future__ import annotations

import re

from commerce.text import fold

NUMBER_WORDS: dict[str, int] = {
    "zero": 0, "un": 1, "une": 1, "deux": 2, "trois": 3, "quatre": 4, "cinq": 5, "six": 6,
    "sept": 7, "huit": 8, "neuf": 9, "dix": 10, "onze": 11, "douze": 12, "treize": 13,
    "quatorze": 14, "quinze": 15, "seize": 16, "vingt": 20, "trente": 30,
    "none": 0, "one": 1, "two": 2, "three": 3, "four": 4, "five": 5, "seven": 7,
    "eight": 8, "nine": 9, "ten": 10, "eleven": 11, "twelve": 12, "fifteen": 15,
    "twenty": 20, "thirty": 30,
}  # fmt: skip
_DIGITS = re.compile(r"^\d{1,4}$")
ORDER_WORDS = ("commande", "commandes", "cmd", "order", "orders", "colis", "suivi", "track")
_ORDER_NUMBER = re.compile(
    r"\b(?:" + "|".join(ORDER_WORDS) + r"|n|no|num|numero|number)\s+(\d{1,9})\b"
)
_HASH_NUMBER = re.compile(r"#\s*(\d{1,9})\b")


def number_of(text: str) -> int | None:
    """The whole message as a number: "12", "deux", "Two." (None for anything else)."""
    folded = fold(text)
    if _DIGITS.match(folded):
        return int(folded)
    return NUMBER_WORDS.get(folded)


def order_number(text: str, *, bare: bool = False) -> int | None:
    """The order number the words name; with `bare`, a message that is only a number too."""
    found = _HASH_NUMBER.search(text or "") or _ORDER_NUMBER.search(fold(text))
    if found:
        return int(found.group(1))
    folded = fold(text)
    if bare and folded.isdecimal() and len(folded) <= 9:
        return int(folded)
    return None


# Above any real price and within the price column (a 32-bit INTEGER on PostgreSQL): a
# larger bound made "moins de 99999999999" fail there with 'integer out of range'.
MAX_AMOUNT = 2**31 - 1
_AMOUNT = re.compile(r"^(\d+)(k|m|mil|mille|million|millions)?$")
_MULT = {"k": 1_000, "mil": 1_000, "mille": 1_000, "m": 1_000_000}
_SUFFIXES = ("k", "mil", "mille", "m", "million", "millions")
# "1,5 million" / "1.5m": folding turns the decimal mark into a space, so read these first.
_DECIMAL_MILLION = re.compile(r"(\d+)[.,](\d+)\s*(?:millions?|m)\b", re.IGNORECASE)


def join_number_tokens(tokens: list[str]) -> list[str]:
    """ "200 000" and "1 500 000" arrive as separate tokens after folding: glue them back."""
    out: list[str] = []
    for tok in tokens:
        if tok.isdigit() and len(tok) == 3 and out and out[-1].isdigit():
            out[-1] += tok
        else:
            out.append(tok)
    return out


def amount_at(tokens: list[str], i: int) -> tuple[int | None, int]:
    """The amount starting at tokens[i] ("200000", "200k", "2 m", "200 mille"): (value, used)."""
    if i >= len(tokens):
        return None, 0
    m = _AMOUNT.match(tokens[i])
    if not m:
        return None, 0
    value, suffix, used = int(m.group(1)), m.group(2), 1
    if suffix is None and i + 1 < len(tokens) and tokens[i + 1] in _SUFFIXES:
        suffix, used = tokens[i + 1], 2
    if suffix:
        value *= _MULT.get(suffix, 1_000_000)
    # "moins de 99999999999999999999": no price is that high, and no database integer either.
    return min(value, MAX_AMOUNT), used


def amounts(text: str) -> list[int]:
    """Every amount written in `text`, in order ("1,5 million" → 1 500 000)."""

    def whole(m: re.Match[str]) -> str:
        return str(int(m[1]) * 1_000_000 + int(m[2].ljust(6, "0")[:6]))

    tokens = join_number_tokens(fold(_DECIMAL_MILLION.sub(whole, text or "")).split())
    found: list[int] = []
    i = 0
    while i < len(tokens):
        value, used = amount_at(tokens, i)
        if value is None:
            i += 1
        else:
            found.append(value)
            i += used
    return found
