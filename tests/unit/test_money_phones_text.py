"""Money is whole GNF shown as `250 000 GNF`; phones become E.164; text folds for matching."""

from __future__ import annotations

import pytest

from commerce.errors import ErrorCode, InvalidPhone
from commerce.money import format_gnf, loyalty_points_for, percent_of
from commerce.phones import mask_phone, normalize_phone
from commerce.text import fold, tokens

# --- money --------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("amount", "shown"),
    [
        (250_000, "250 000 GNF"),
        (0, "0 GNF"),
        (999, "999 GNF"),
        (1_000, "1 000 GNF"),
        (1_500_000, "1 500 000 GNF"),
        (1_000_000_000, "1 000 000 000 GNF"),
        (-12_500, "-12 500 GNF"),
    ],
)
def test_format_gnf_groups_thousands_with_plain_spaces(amount, shown):
    assert format_gnf(amount) == shown


def test_format_gnf_is_gsm7_safe():
    # No narrow no-break space (U+202F) nor no-break space (U+00A0): an SMS stays GSM-7.
    text = format_gnf(123_456_789)
    assert "\u202f" not in text and "\xa0" not in text
    assert text.isascii()


@pytest.mark.parametrize("bad", [1.5, 250000.0, "250000", True, None])
def test_format_gnf_refuses_non_whole_amounts(bad):
    with pytest.raises(TypeError):
        format_gnf(bad)


@pytest.mark.parametrize(
    ("amount", "percent", "expected"),
    [(100_000, 10, 10_000), (150, 1, 2), (149, 1, 1), (50, 1, 1), (49, 1, 0), (0, 50, 0)],
)
def test_percent_of_rounds_half_up_to_the_franc(amount, percent, expected):
    assert percent_of(amount, percent) == expected


@pytest.mark.parametrize(
    ("spent", "points"),
    [(0, 0), (9_999, 0), (10_000, 1), (19_999, 1), (1_500_000, 150), (-50_000, 0)],
)
def test_one_loyalty_point_per_10000_gnf_rounded_down(spent, points):
    assert loyalty_points_for(spent, gnf_per_point=10_000) == points


# --- phones -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "raw",
    [
        "622 12 34 56",
        "622123456",
        "+224622123456",
        "+224 622 12 34 56",
        "00224622123456",
        "00224 622 12 34 56",
        "whatsapp:+224622123456",
        "WhatsApp:+224622123456",
        "sms:+224622123456",
        "  622-12-34-56 ",
    ],
)
def test_guinean_forms_normalise_to_e164(raw):
    assert normalize_phone(raw) == "+224622123456"


def test_other_guinean_mobile_prefixes_normalise():
    assert normalize_phone("664 12 34 56") == "+224664123456"
    assert normalize_phone("655123456") == "+224655123456"


@pytest.mark.parametrize(
    "junk",
    ["", "   ", "abc", "123", "+224 12", "622 12 34", "22462212345678", "whatsapp:", None],
)
def test_junk_is_invalid_phone(junk):
    with pytest.raises(InvalidPhone) as exc:
        normalize_phone(junk)
    assert exc.value.code == ErrorCode.INVALID_PHONE


def test_mask_phone_keeps_prefix_and_last_three_digits():
    assert mask_phone("+224622123456") == "+224******456"
    assert mask_phone("whatsapp:+224622123456") == "+224******456"
    assert "123" not in mask_phone("+224622123456")[:-3]
    assert mask_phone(None) == ""
    assert mask_phone("12345") == "*****"


# --- text ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("raw", "folded"),
    [
        ("Téléphone  SAMSUNG-Galaxy!", "telephone samsung galaxy"),
        ("Nzérékoré", "nzerekore"),
        ("Cœur d'ŒUVRE", "coeur d oeuvre"),
        ("  ", ""),
        (None, ""),
    ],
)
def test_fold_removes_case_accents_and_punctuation(raw, folded):
    assert fold(raw) == folded


def test_tokens_split_folded_words():
    assert tokens("Chaussures  Nike, taille 42") == ["chaussures", "nike", "taille", "42"]
