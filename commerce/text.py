"""Text folding shared by search and keyword matching: case, accents and punctuation."""

from __future__ import annotations

import functools
import re
import unicodedata

_NON_WORD = re.compile(r"[^0-9a-z]+")


# A turn folds the same message and menu labels dozens of times (every intent of a state tests
# it; `bench/turn_cpu.py --profile` shows the repeats): memoised. Pure, thread-safe, and
# bounded: inbound text is cut at 2 000 characters, so the cache stays within a few MB.
@functools.lru_cache(maxsize=4096)
def fold(text: str) -> str:
    """ "Téléphone  SAMSUNG-Galaxy!" → "telephone samsung galaxy"."""
    decomposed = unicodedata.normalize("NFKD", text or "")
    # Lower-case first, so "Œ" and "Æ" are spelled out like "œ" and "æ".
    stripped = "".join(c for c in decomposed if not unicodedata.combining(c)).lower()
    stripped = stripped.replace("œ", "oe").replace("æ", "ae").replace("ß", "ss")
    return _NON_WORD.sub(" ", stripped).strip()


def tokens(text: str) -> list[str]:
    return fold(text).split()
