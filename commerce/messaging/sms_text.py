"""SMS text handling: GSM 03.38 alphabet, segment counting, transliteration, word splitting.

Why this exists: couriers read Boutik on feature phones, and an SMS is priced and throttled per
*segment*. One character outside the GSM 7-bit alphabet (a French "ê", a lowercase "ç", a curly
apostrophe pasted from a phone keyboard, an emoji) silently switches the whole message to UCS-2,
cutting a segment from 160 to 70 characters: the same text then costs two or three times as
much and takes two or three times as long under a 1 segment/s long code. So every outgoing SMS
goes through `to_gsm7` and is counted with `segments` before it is queued.

No I/O here: pure functions, cheap enough to call on every message. They live in the core's
messaging room, below both `bot/` (the courier's wording must fit one segment) and
`channels_adapters/` (the renderer cuts and transliterates), so neither imports the other.

Segment rules (3GPP TS 23.038 / 23.040, as Twilio applies them):

* GSM-7: up to 160 septets in one segment; when concatenated each segment carries 153 septets
  (7 go to the user-data header). Extension characters (``^ { } \\ [ ~ ] | €`` and form feed)
  are sent as ESC + char and cost 2 septets; the pair is never split across segments, so a
  segment may carry only 152.
* UCS-2: up to 70 UTF-16 code units in one segment, 67 per concatenated segment. Characters
  outside the BMP (most emoji) take two code units (a surrogate pair), which we never split
  across segments — the count may thus exceed a naive ``ceil(units / 67)``, never undercut it.
"""

from __future__ import annotations

import math
import unicodedata
from typing import Final, Literal

__all__ = [
    "GSM7_BASIC",
    "GSM7_EXTENSION",
    "GSM7_MULTI_SEGMENT",
    "GSM7_SINGLE_SEGMENT",
    "UCS2_MULTI_SEGMENT",
    "UCS2_SINGLE_SEGMENT",
    "Encoding",
    "fits_one_segment",
    "is_gsm7",
    "normalise",
    "segments",
    "septets",
    "split_words",
    "to_gsm7",
]

Encoding = Literal["GSM-7", "UCS-2"]

GSM7_SINGLE_SEGMENT: Final = 160
GSM7_MULTI_SEGMENT: Final = 153
UCS2_SINGLE_SEGMENT: Final = 70
UCS2_MULTI_SEGMENT: Final = 67

# The GSM 03.38 default alphabet, in code order 0x00-0x7F, 16 per row. 0x1B is ESC (the escape
# to the extension table), not a character of its own: it is left out of the set below.
_ESC: Final = "\x1b"
_BASIC_TABLE: Final = (
    "@£$¥èéùìòÇ\nØø\rÅå"
    "Δ_ΦΓΛΩΠΨΣΘΞ\x1bÆæßÉ"
    " !\"#¤%&'()*+,-./"
    "0123456789:;<=>?"
    "¡ABCDEFGHIJKLMNO"
    "PQRSTUVWXYZÄÖÑÜ§"
    "¿abcdefghijklmno"
    "pqrstuvwxyzäöñüà"
)
assert len(_BASIC_TABLE) == 128

GSM7_BASIC: Final[frozenset[str]] = frozenset(_BASIC_TABLE) - {_ESC}
"""Characters costing one septet."""

GSM7_EXTENSION: Final[frozenset[str]] = frozenset("\f^{}\\[~]|€")
"""Characters sent as ESC + code: two septets each (form feed included, as in the spec)."""

_GSM7: Final[frozenset[str]] = GSM7_BASIC | GSM7_EXTENSION

# Replacements for characters GSM-7 lacks, checked before the generic accent stripping. Only
# what decomposition cannot find on its own (or would find wrongly) needs to be here.
_REPLACEMENTS: Final[dict[str, str]] = {
    # Quotes and apostrophes: phone keyboards and word processors insert curly ones.
    "\u2018": "'",  # ‘
    "\u2019": "'",  # ’
    "\u201a": "'",  # ‚
    "\u201b": "'",  # ‛
    "\u2032": "'",  # ′
    "\u00b4": "'",  # ´
    "`": "'",  # the backtick is the one printable ASCII character GSM-7 lacks
    "\u201c": '"',  # “
    "\u201d": '"',  # ”
    "\u201e": '"',  # „
    "\u201f": '"',  # ‟
    "\u2033": '"',  # ″
    "\u00ab": '"',  # «
    "\u00bb": '"',  # »
    "\u2039": "'",  # ‹
    "\u203a": "'",  # ›
    # Dashes, hyphens and minus signs.
    "\u2010": "-",
    "\u2011": "-",
    "\u2012": "-",
    "\u2013": "-",  # –
    "\u2014": "-",  # —
    "\u2015": "-",
    "\u2212": "-",  # minus sign
    "\u00ad": "",  # soft hyphen: invisible
    # Ellipsis (NFKD would find it too; explicit because it is so common).
    "\u2026": "...",
    # Ligatures and letters without a decomposition.
    "\u0153": "oe",  # œ
    "\u0152": "OE",  # Œ
    "\u0141": "L",  # Ł
    "\u0142": "l",  # ł
    "\u0110": "D",  # Đ
    "\u0111": "d",  # đ
    "\u00f0": "d",  # ð
    "\u00d0": "D",  # Ð
    "\u00fe": "th",  # þ
    "\u00de": "Th",  # Þ
    "\u0131": "i",  # dotless ı
    # Symbols worth keeping as text rather than dropping.
    "\u00b0": "o",  # ° as in "n°"
    "\u00ba": "o",  # º
    "\u00aa": "a",  # ª
    "\u2022": "-",  # • bullet
    "\u00b7": ".",  # · middle dot
    "\u00d7": "x",  # ×
    "\u00f7": "/",  # ÷
    "\u2044": "/",  # fraction slash (NFKD of ½ gives 1⁄2)
    "\u2215": "/",  # division slash
    "\u2206": "Δ",  # increment sign, often used for the Greek capital
    "\u00a2": "c",  # ¢
    "\u2122": "TM",
    "\u00a9": "(c)",
    "\u00ae": "(R)",
    # Line breaks and tabs.
    "\t": " ",
    "\v": "\n",
    "\x85": "\n",
    "\u2028": "\n",
    "\u2029": "\n",
}
assert all(c in _GSM7 for value in _REPLACEMENTS.values() for c in value)


def is_gsm7(text: str) -> bool:
    """True when every character of `text` is in the GSM 03.38 basic or extension table."""
    return all(c in _GSM7 for c in text)


def septets(text: str) -> int:
    """The number of 7-bit units `text` takes in GSM-7 (extension characters count two).

    Raises ValueError when `text` is not GSM-7: there is no septet count for a UCS-2 message,
    and a silent guess would hide exactly the mistake this module is here to catch.
    """
    total = 0
    for c in text:
        if c in GSM7_BASIC:
            total += 1
        elif c in GSM7_EXTENSION:
            total += 2
        else:
            raise ValueError(f"{c!r} (U+{ord(c):04X}) is not in the GSM-7 alphabet")
    return total


def _transliterate_char(c: str) -> str:
    """GSM-7 text for one character that GSM-7 lacks ("" when nothing sensible exists)."""
    if c in _REPLACEMENTS:
        return _REPLACEMENTS[c]
    category = unicodedata.category(c)
    if category == "Zs":  # no-break space, narrow no-break space, thin space, ...
        return " "
    # Compatibility decomposition: strips accents (ê → e + ◌̂, È → E + ◌̀), unfolds ligatures
    # (ﬁ → fi), full-width and circled forms (Ａ → A, ① → 1), ellipsis, superscripts.
    out = []
    for d in unicodedata.normalize("NFKD", c):
        if d == c:
            break  # no decomposition: unknown symbol, emoji, other script
        if d in _GSM7:
            out.append(d)
        elif d in _REPLACEMENTS:
            out.append(_REPLACEMENTS[d])
        elif unicodedata.category(d) == "Zs":
            out.append(" ")
        # combining marks and anything else unknown are dropped
    return "".join(out)


def to_gsm7(text: str) -> str:
    """The closest GSM-7 text to `text`, so a message stays in 160-character segments.

    Characters GSM-7 has are kept unchanged (é è à ù ì ò É Ç Ä Ö Ñ Ü ä ö ñ ü ß Å å Æ æ Ø ø, the
    Greek capitals, € and the other extension characters). The rest is transliterated: accents
    GSM-7 lacks are stripped (ê → e, ç → c, È → E, Ô → O), œ → oe, curly quotes and « » become
    straight quotes, dashes become "-", "…" becomes "...", exotic spaces become a space.

    Characters with no reasonable text form (emoji, pictographs, other scripts, control
    characters) are **removed**, not replaced by "?": a courier reading "Livraison ? 14h" would
    take the "?" for a question, whereas "Livraison 14h" loses nothing. Text is NFC-normalised
    first, so a decomposed "e" + combining acute becomes the GSM-7 "é" rather than "e".

    The result always satisfies `is_gsm7`, and `to_gsm7` is idempotent (GSM-7 text is returned
    unchanged).
    """
    if is_gsm7(text):
        return text
    out = []
    for c in unicodedata.normalize("NFC", text):
        out.append(c if c in _GSM7 else _transliterate_char(c))
    return "".join(out)


def _char_units(text: str) -> tuple[Encoding, list[int]]:
    """The encoding `text` needs and the units each of its characters takes in it."""
    if is_gsm7(text):
        return "GSM-7", [2 if c in GSM7_EXTENSION else 1 for c in text]
    return "UCS-2", [2 if ord(c) > 0xFFFF else 1 for c in text]


def _pack(units: list[int], limit: int) -> int:
    """Segments needed to carry characters of `units` sizes, never splitting one character."""
    count, used = 1, 0
    for u in units:
        if used + u > limit:
            count += 1
            used = 0
        used += u
    return count


def segments(text: str) -> tuple[Encoding, int]:
    """("GSM-7" | "UCS-2", number of SMS segments) for sending `text` as one message.

    An empty text counts one segment: a message is never free. See the module docstring for the
    160/153 and 70/67 rules and why escape pairs and surrogate pairs are never split.
    """
    encoding, units = _char_units(text)
    single, multi = (
        (GSM7_SINGLE_SEGMENT, GSM7_MULTI_SEGMENT)
        if encoding == "GSM-7"
        else (UCS2_SINGLE_SEGMENT, UCS2_MULTI_SEGMENT)
    )
    total = sum(units)
    if total <= single:
        return encoding, 1
    if all(u == 1 for u in units):
        return encoding, math.ceil(total / multi)
    return encoding, _pack(units, multi)


def fits_one_segment(text: str) -> bool:
    """True when `text` goes as a single SMS (≤ 160 septets in GSM-7, ≤ 70 units in UCS-2).

    Courier texts must: a two-part message arrives out of order or half-delivered on some
    networks, and every extra segment is paid and throttled.
    """
    return segments(text)[1] == 1


def normalise(text: str) -> str:
    """`to_gsm7(text)` with every run of whitespace (newlines included) made one space.

    This is the text `split_words` splits: its parts, rejoined with single spaces (no space at
    a hard split inside an over-long word), give exactly this string.
    """
    return " ".join(to_gsm7(text).split())


def _hard_split(word: str, limit: int) -> list[str]:
    """Cut one over-long word into chunks of ≤ `limit` septets, never inside an escape pair."""
    chunks: list[str] = []
    start, used = 0, 0
    for i, c in enumerate(word):
        cost = 2 if c in GSM7_EXTENSION else 1
        if used + cost > limit:
            chunks.append(word[start:i])
            start, used = i, 0
        used += cost
    chunks.append(word[start:])
    return chunks


def split_words(text: str, limit: int = GSM7_MULTI_SEGMENT) -> list[str]:
    """Split a long text into GSM-7 parts of at most `limit` septets each, on word boundaries.

    Why: some feature phones and some networks reassemble concatenated SMS badly (parts out of
    order, or a lone "(1/3)"), so long buyer texts can be sent to couriers as separate single
    SMS instead. The default limit (153) keeps each part inside one concatenation segment; use
    160 for stand-alone messages.

    The text is first passed through `normalise` (transliterated to GSM-7, whitespace runs made
    single spaces), so every part is GSM-7 whatever the input. Parts carry no leading or
    trailing spaces; a word longer than `limit` is hard-split (never inside an escape pair).
    An empty or all-blank text gives no parts.
    """
    if limit < 2:
        raise ValueError("limit must be at least 2 septets (an escape pair takes 2)")
    parts: list[str] = []
    current: list[str] = []
    used = 0
    for word in normalise(text).split(" "):
        if not word:
            continue
        size = septets(word)
        if current and used + 1 + size <= limit:
            current.append(word)
            used += 1 + size
            continue
        if current:
            parts.append(" ".join(current))
        if size <= limit:
            current, used = [word], size
        else:
            *full, last = _hard_split(word, limit)
            parts.extend(full)
            current, used = [last], septets(last)
    if current:
        parts.append(" ".join(current))
    return parts
