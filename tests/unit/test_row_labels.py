"""Product row labels (bot/buyer/rows.py): the words that tell twins apart, within the limit."""

from __future__ import annotations

import pytest

from bot.buyer.rows import row_labels

PHONES = ["Téléphone Samsung Galaxy A15", "Téléphone Samsung Galaxy A05s"]
BAGS = ["Sac à main en cuir", "Sac à main en cuir tressé"]


def _labels(names: list[str], tags: list[str], brands: list[str], limit: int) -> list[str]:
    labels = row_labels(names, tags=tags, brands=brands, limit=limit)
    assert len(set(labels)) == len(labels), labels
    assert all(len(label) <= limit for label in labels), labels
    assert all(label.endswith(" " + tag) for label, tag in zip(labels, tags, strict=True))
    return labels


@pytest.mark.parametrize(
    ("names", "tags", "brands", "limit", "expected"),
    [
        (PHONES, ["1,8M", "1,2M"], ["Samsung"] * 2, 24,
         ["Samsung Galaxy A15 1,8M", "Samsung Galaxy A05s 1,2M"]),
        (PHONES, ["1,8M", "1,2M"], ["Samsung"] * 2, 20,
         ["Samsung… A15 1,8M", "Samsung… A05s 1,2M"]),
        (BAGS, ["390k", "250k"], ["", ""], 24,
         ["Sac à main en cuir 390k", "Sac à main… tressé 250k"]),
        (BAGS, ["390k", "250k"], ["", ""], 20, ["Sac… cuir 390k", "Sac… tressé 250k"]),
        (["Téléphone Tecno Camon 20 Pro"], ["2M"], ["Tecno"], 24, ["Tecno Camon 20 Pro 2M"]),
        (["Tongs Havaianas"], ["85k"], ["Havaianas"], 20, ["Tongs Havaianas 85k"]),
    ],
)  # fmt: skip
def test_the_words_that_differ_show_in_full(
    names: list[str], tags: list[str], brands: list[str], limit: int, expected: list[str]
) -> None:
    assert _labels(names, tags, brands, limit) == expected


def test_a_model_and_its_bigger_version_and_another_model_all_read_apart() -> None:
    names = [*PHONES, "Téléphone Samsung Galaxy A15 128 Go", "Téléviseur LED Samsung 43 pouces"]
    labels = _labels(names, ["1,8M", "1,2M", "2M", "3,2M"], ["Samsung"] * 4, 24)
    assert "A15" in labels[2] and "128" in labels[2]
    assert labels[3].startswith("Téléviseur")


def test_the_same_name_at_the_same_price_is_numbered() -> None:
    labels = _labels(BAGS[:1] * 2, ["390k", "390k"], ["", ""], 24)
    assert labels[0] == "Sac à main en cuir 390k" and labels[1].endswith(" 2 390k")
