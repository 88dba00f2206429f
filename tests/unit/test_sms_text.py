"""SMS text: the GSM 03.38 alphabet, segment counting, transliteration and word splitting.

The reference used by the properties below is written independently of the module: its own
copy of the 03.38 tables (as code-point rows), and a dynamic-programming minimum partition
instead of the module's greedy packing, so a shared mistake is unlikely to pass both.
"""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from commerce.messaging.sms_text import (
    GSM7_BASIC,
    GSM7_EXTENSION,
    fits_one_segment,
    is_gsm7,
    normalise,
    segments,
    septets,
    split_words,
    to_gsm7,
)

# --- an independent reference -------------------------------------------------------------

# GSM 03.38 default alphabet by code point (0x1B = ESC left out), from the spec's table.
_REF_BASIC_CODEPOINTS = [
    0x40, 0xA3, 0x24, 0xA5, 0xE8, 0xE9, 0xF9, 0xEC, 0xF2, 0xC7, 0x0A, 0xD8, 0xF8, 0x0D, 0xC5, 0xE5,
    0x394, 0x5F, 0x3A6, 0x393, 0x39B, 0x3A9, 0x3A0, 0x3A8, 0x3A3, 0x398, 0x39E, 0xC6, 0xE6, 0xDF,
    0xC9, 0x20, 0x21, 0x22, 0x23, 0xA4, *range(0x25, 0x40), 0xA1, *range(0x41, 0x5B), 0xC4, 0xD6,
    0xD1, 0xDC, 0xA7, 0xBF, *range(0x61, 0x7B), 0xE4, 0xF6, 0xF1, 0xFC, 0xE0,
]  # fmt: skip
_REF_BASIC = {chr(c) for c in _REF_BASIC_CODEPOINTS}
_REF_EXTENSION = {chr(c) for c in (0x0C, 0x5E, 0x7B, 0x7D, 0x5C, 0x5B, 0x7E, 0x5D, 0x7C, 0x20AC)}


def _ref_segments(text: str) -> tuple[str, int]:
    """Minimum number of parts (DP over prefixes), no character split, 160/153 or 70/67."""
    if all(c in _REF_BASIC or c in _REF_EXTENSION for c in text):
        encoding, single, multi = "GSM-7", 160, 153
        units = [2 if c in _REF_EXTENSION else 1 for c in text]
    else:
        encoding, single, multi = "UCS-2", 70, 67
        units = [len(c.encode("utf-16-le", "surrogatepass")) // 2 for c in text]
    if sum(units) <= single:
        return encoding, 1
    inf = len(units) + 1
    best = [0] + [inf] * len(units)  # best[i]: fewest parts carrying the first i characters
    for end in range(1, len(units) + 1):
        size = 0
        for start in range(end - 1, -1, -1):
            size += units[start]
            if size > multi:
                break
            best[end] = min(best[end], best[start] + 1)
    return encoding, best[-1]


# --- strategies ---------------------------------------------------------------------------

_GSM_CHARS = sorted(GSM7_BASIC | GSM7_EXTENSION)
_TRICKY = list("êâîôûëïçœŒ‘’“”–—…«»\u00a0\u202fÈÊÀÔÙÂÎÛ`😀🙏🏾👍\u200d\ufe0f€^{}[]~|\\ \n")
gsm_text = st.text(alphabet=st.sampled_from(_GSM_CHARS), max_size=500)
mixed_text = st.text(
    alphabet=st.one_of(st.sampled_from(_GSM_CHARS), st.sampled_from(_TRICKY), st.characters()),
    max_size=400,
)
# Texts that sit near the segment boundaries, where off-by-one mistakes live.
boundary_text = st.builds(
    lambda n, extras, tail: "a" * n + extras + tail,
    st.integers(min_value=140, max_value=470),
    st.text(alphabet=st.sampled_from(sorted(GSM7_EXTENSION)), max_size=12),
    st.text(alphabet=st.sampled_from(["a", "€", "ê", "😀"]), max_size=6),
)


# --- the alphabet -------------------------------------------------------------------------


def test_alphabet_matches_the_spec_table() -> None:
    assert len(_REF_BASIC) == 127  # 128 codes minus ESC
    assert set(GSM7_BASIC) == _REF_BASIC
    assert set(GSM7_EXTENSION) == _REF_EXTENSION


def test_french_letters_in_and_out_of_gsm7() -> None:
    for c in "éèàùìòÉÇÄÖÑÜäöñüßÅåÆæØø":
        assert is_gsm7(c), c
    for c in "êâîôûëïçœŒÈÊÀÔ’“…«😀":
        assert not is_gsm7(c), c


def test_septets_count_extension_characters_twice() -> None:
    assert septets("€") == 2
    assert septets("^{}\\[~]|€") == 18
    assert septets("Prix: 25 000 GNF") == 16
    assert septets("") == 0


def test_septets_refuse_text_that_is_not_gsm7() -> None:
    import pytest

    with pytest.raises(ValueError, match="U\\+00E7"):
        septets("garçon")


# --- segments -----------------------------------------------------------------------------


def test_known_segment_counts() -> None:
    assert segments("a" * 160) == ("GSM-7", 1)
    assert segments("a" * 161) == ("GSM-7", 2)
    assert segments("a" * 306) == ("GSM-7", 2)
    assert segments("a" * 307) == ("GSM-7", 3)
    assert segments("ç") == ("UCS-2", 1)
    assert segments("😀") == ("UCS-2", 1)
    assert segments("a" * 159 + "ç") == ("UCS-2", 3)  # 160 units at 67 per part
    assert segments("é" * 70 + "ê") == ("UCS-2", 2)
    assert segments("ê" * 70) == ("UCS-2", 1)
    assert segments("€" * 80) == ("GSM-7", 1)  # 160 septets
    assert segments("€" * 81) == ("GSM-7", 2)
    assert segments("") == ("GSM-7", 1)
    assert segments("Répondez A1042 pour accepter") == ("GSM-7", 1)
    assert is_gsm7("Répondez A1042 pour accepter")


def test_escape_pair_and_surrogate_pair_are_never_split() -> None:
    # 152 plain + "€" would be 154 > 153: the pair moves to the next part whole.
    text = "a" * 152 + "€" + "a" * 10
    assert septets(text) == 164
    assert segments(text) == ("GSM-7", 2)
    assert segments("a" * 152 + "€" * 77) == ("GSM-7", 3)  # 306 septets but 3 parts
    # 66 UTF-16 units + an emoji (2 units) cannot share the 67-unit part.
    assert segments("ê" * 66 + "😀" + "ê" * 66) == ("UCS-2", 3)


def test_fits_one_segment() -> None:
    assert fits_one_segment("Course B7: Kaloum -> Ratoma. Répondez A1042 pour accepter.")
    assert fits_one_segment("a" * 160)
    assert not fits_one_segment("a" * 161)
    assert fits_one_segment("ê" * 70)
    assert not fits_one_segment("ê" * 71)


@given(st.one_of(gsm_text, mixed_text, boundary_text))
@settings(max_examples=300, deadline=None)
def test_segments_agree_with_reference(text: str) -> None:
    assert segments(text) == _ref_segments(text)


# --- to_gsm7 ------------------------------------------------------------------------------


def test_to_gsm7_known_answers() -> None:
    assert to_gsm7("Répondez A1042 pour accepter") == "Répondez A1042 pour accepter"
    assert to_gsm7("Arrêt à la boîte, garçon") == "Arret à la boite, garcon"
    assert to_gsm7("ê â î ô û ë ï ç") == "e a i o u e i c"
    assert to_gsm7("œuf Œuvre") == "oeuf OEuvre"
    assert to_gsm7("l’été “chaud” ‘ok’") == "l'été \"chaud\" 'ok'"
    assert to_gsm7("A – B — C…") == "A - B - C..."
    assert to_gsm7("25\u00a0000\u202fGNF") == "25 000 GNF"
    assert to_gsm7("«Bonjour»") == '"Bonjour"'
    assert to_gsm7("ÈÊÀÔÛÎÂ É Ç") == "EEAOUIA É Ç"
    assert to_gsm7("Merci 🙏🏾!") == "Merci !"
    assert to_gsm7("Prix: 10€ [promo] ~{x}|^\\") == "Prix: 10€ [promo] ~{x}|^\\"
    assert to_gsm7("e\u0301t\u0065\u0301") == "été"  # decomposed accents recompose
    assert to_gsm7("n° ½ ① Ａ ﬁ `x`") == "no 1/2 1 A fi 'x'"
    assert to_gsm7("") == ""


def test_to_gsm7_keeps_every_gsm7_character() -> None:
    everything = "".join(_GSM_CHARS)
    assert to_gsm7(everything) == everything


@given(mixed_text)
@settings(max_examples=400, deadline=None)
def test_to_gsm7_is_gsm7_and_idempotent(text: str) -> None:
    out = to_gsm7(text)
    assert is_gsm7(out)
    assert to_gsm7(out) == out


@given(gsm_text)
@settings(deadline=None)
def test_to_gsm7_is_identity_on_gsm7(text: str) -> None:
    assert to_gsm7(text) == text


# --- split_words --------------------------------------------------------------------------


def test_split_words_known_answers() -> None:
    assert split_words("") == []
    assert split_words("  \n ") == []
    assert split_words("Bonjour Mamadou") == ["Bonjour Mamadou"]
    assert split_words("aaa bbb ccc", limit=7) == ["aaa bbb", "ccc"]
    assert split_words("un\ndeux   trois", limit=8) == ["un deux", "trois"]
    assert split_words("abcdefghij", limit=4) == ["abcd", "efgh", "ij"]
    # "€" costs 2: "ab€" is 4 septets, and the pair is never cut.
    assert split_words("abc€€", limit=4) == ["abc", "€€"]
    assert split_words("garçon arrêté", limit=160) == ["garcon arreté"]
    long_text = " ".join(["livraison"] * 100)  # 999 septets
    parts = split_words(long_text)
    assert [len(p) for p in parts] == [149, 149, 149, 149, 149, 149, 99]
    assert all(fits_one_segment(p) for p in parts)


def test_split_words_rejects_a_limit_too_small_for_an_escape_pair() -> None:
    import pytest

    with pytest.raises(ValueError):
        split_words("abc", limit=1)


def _rejoin(parts: list[str], reference: str) -> str:
    """Rejoin with one space where the reference has one, nothing at a hard split."""
    out = parts[0] if parts else ""
    for part in parts[1:]:
        out += (" " if reference[len(out) : len(out) + 1] == " " else "") + part
    return out


@given(st.one_of(gsm_text, mixed_text), st.integers(min_value=2, max_value=200))
@settings(max_examples=400, deadline=None)
def test_split_words_parts_fit_and_rejoin(text: str, limit: int) -> None:
    parts = split_words(text, limit)
    reference = normalise(text)
    for part in parts:
        assert part and is_gsm7(part)
        assert septets(part) <= limit
        assert part == part.strip()
    assert _rejoin(parts, reference) == reference
    if all(septets(word) <= limit for word in reference.split()):
        assert " ".join(parts) == reference
