"""Numbers in what people type: digits or words, and when a number is an order number.

- `number_of("deux")` → 2: where a number is expected (a quantity, a numbered menu), a number
  written as a word counts the same as its digits, in French or English.
- `order_number("où est ma commande 19")` → 19, but `order_number("ça fait 5 jours que
  j'attends ma commande")` → None: a number is an order number only where the words say so —
  right after an order word ("commande 19", "order 19"), "#19", "n° 19", "numéro 19" — or when
  it is the whole message answering "which order?" (`bare=True`).
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
