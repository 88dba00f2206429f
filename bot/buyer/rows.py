"""Product rows people can tell apart: within a row's characters (24 in a list, 20 on a
button), the words that tell a product from the others shown with it come first, beside a
short price.

Why the short price stays in the label on every channel: a row's description (the full price
and the seller) shows only in a WhatsApp list picker — Meta's lists, and Twilio's when a
described list template exists; without one Twilio sends numbered text. A menu of three
choices or fewer goes as buttons, SMS as numbered lines and Telegram as inline buttons, and
none of them shows a description. The bot cannot tell a Twilio list that finds its template
from one that falls back to text, so the label alone must name the product and its price
everywhere; the description adds the seller where a list has room for it.

How a name is fitted (`row_labels`): the words that tell it from the rows starting alike ("A15"
beside "A05s", "tressé" beside the plain bag) show in full. A generic first word goes when the
brand follows it and the whole name does not fit ("Téléphone Tecno Camon 20 Pro" → "Tecno
Camon 20 Pro"); then the words it shares with those rows fold into "…", keeping the name's
start ("Sac à main… tressé", "Samsung… A15"), or else the shared start goes. The name's own
start beats a later one, what shows in full beats what is cut, more beats less.
"""

from __future__ import annotations

from collections.abc import Sequence

from commerce.text import fold

ELLIPSIS = "…"


# Words a shortened name never ends on before its "…" ("Sac…", not "Sac à…").
LINKS = frozenset(
    {"a", "au", "aux", "d", "de", "des", "du", "en", "et", "l", "la", "le", "les", "pour",
     "avec", "sur", "and", "for", "of", "the", "with"}
)  # fmt: skip


def row_labels(
    names: Sequence[str], *, tags: Sequence[str], brands: Sequence[str], limit: int
) -> list[str]:
    """One label per name, at most `limit` characters, each ending with its tag (a short
    price), no two alike."""
    words = [name.split() for name in names]
    folded = [[fold(w) for w in ws] for ws in words]
    labels: list[str] = []
    for i, ws in enumerate(words):
        room = limit - len(tags[i]) - 1 if tags[i] else limit
        first, last = _telling(folded, i)
        labels.append(_with_tag(_fit(ws, first, last, fold(brands[i]), room), tags[i]))
    return _apart(labels, tags, limit)


def _telling(folded: Sequence[Sequence[str]], i: int) -> tuple[int, int]:
    """The words of name `i` that tell it from the names sharing its first word: from the
    first one that differs from one of them to the one that differs from the closest (its last
    word when another name begins with all of it). (0, 0) when no other name starts alike."""
    own = folded[i]
    shared = []
    for j, other in enumerate(folded):
        n = 0
        while j != i and n < min(len(own), len(other)) and own[n] == other[n]:
            n += 1
        if n:
            shared.append(min(n, len(own) - 1))
    return (min(shared), max(shared)) if shared else (0, 0)


def _fit(words: Sequence[str], first: int, last: int, brand: str, room: int) -> str:
    """`words` within `room`, words[first:last + 1] in full (see the module docstring)."""
    whole = " ".join(words)
    if len(whole) <= room or not words:
        return whole
    start = 1 if len(words) > 1 and brand and fold(words[1]) == brand else 0
    first, last = max(first, start), max(last, start)
    must = " ".join(words[first : last + 1])
    # (whole, keeps the name's start, text): the best starts as the name does ("Riz
    # parfumé 25…", not "parfumé 25 kg"), is shown in full, and says the most.
    candidates: list[tuple[bool, bool, str]] = []
    for s in range(start, first + 1):
        text = " ".join(words[s:])
        candidates.append((len(text) <= room, s == start, text))
    for end in range(start + 1, first):
        if fold(words[end - 1]) in LINKS:
            continue
        text = " ".join(words[start:end]) + ELLIPSIS + " " + " ".join(words[first:])
        candidates.append((len(text) <= room, True, text))
    fitting = [c for c in candidates if c[0] or c[2].index(must) + len(must) <= room - 1]
    if not fitting:
        return _cut(" ".join(words[first:]), room)
    _, _, best = max(fitting, key=lambda c: (c[1], c[0], len(c[2])))
    return _cut(best, room)


def _cut(text: str, room: int) -> str:
    return text if len(text) <= room else text[: max(room - 1, 0)].rstrip() + ELLIPSIS


def _with_tag(text: str, tag: str) -> str:
    return f"{text} {tag}" if tag and text else text or tag


def _apart(labels: list[str], tags: Sequence[str], limit: int) -> list[str]:
    """Labels still alike (the same name at the same price) get " 2", " 3"… before the tag."""
    seen: dict[str, int] = {}
    result: list[str] = []
    for label, tag in zip(labels, tags, strict=True):
        count = seen.get(label, 0) + 1
        seen[label] = count
        if count > 1:
            number = f" {count}"
            name = label.removesuffix(f" {tag}") if tag else label
            room = limit - len(number) - (len(tag) + 1 if tag else 0)
            label = _with_tag(_cut(name, room) + number, tag)
        result.append(label)
    return result
