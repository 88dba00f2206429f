"""Rendering one reply model within each channel's real limits."""

from __future__ import annotations

import pytest

from bot.messages import AskContact, AskLocation, Choice, Choices, Image, Text
from channels_adapters import render
from commerce.messaging.sms_text import is_gsm7, segments

MENU3 = Choices(
    "Que voulez-vous faire ?",
    (Choice("a", "Catalogue"), Choice("b", "Rechercher un produit très long"), Choice("c", "Aide")),
)
MENU10 = Choices(
    "Choisissez :",
    tuple(Choice(f"cat:{i}", f"Catégorie numéro {i} avec un nom long", "desc") for i in range(10)),
)
TEMPLATES = {"quick_reply": "HX" + "1" * 32, "list_picker": "HX" + "2" * 32}


def _url(path: str) -> str:
    return f"https://x/media/{path}"


def test_whatsapp_without_templates_is_a_numbered_menu() -> None:
    req = render.render_whatsapp(MENU3, lang="fr", templates={}, media_url=_url)
    assert req.content_sid == ""
    assert "1. Catalogue" in req.body and "3. Aide" in req.body
    assert "Répondez par un numéro." in req.body


def test_whatsapp_quick_reply_has_at_most_3_buttons_of_20_chars() -> None:
    req = render.render_whatsapp(MENU3, lang="fr", templates=TEMPLATES, media_url=_url)
    assert req.content_sid == TEMPLATES["quick_reply"]
    labels = [req.content_variables[k] for k in ("2", "4", "6")]
    ids = [req.content_variables[k] for k in ("3", "5", "7")]
    assert ids == ["a", "b", "c"]
    assert all(len(label) <= 20 for label in labels)
    assert labels[1].endswith("…")


def test_whatsapp_list_picker_rows_are_cut_to_24_chars() -> None:
    req = render.render_whatsapp(MENU10, lang="fr", templates=TEMPLATES, media_url=_url)
    assert req.content_sid == TEMPLATES["list_picker"]
    rows = [req.content_variables[str(3 + 3 * i)] for i in range(10)]
    assert all(len(row) <= 24 for row in rows)
    assert req.content_variables["4"] == "cat:0"


def test_more_than_ten_choices_fall_back_to_numbered_text() -> None:
    many = Choices("x", tuple(Choice(str(i), f"c{i}") for i in range(12)))
    req = render.render_whatsapp(many, lang="en", templates=TEMPLATES, media_url=_url)
    assert req.content_sid == "" and "12. c11" in req.body and "Reply with a number." in req.body


def test_whatsapp_image_goes_by_signed_media_url() -> None:
    req = render.render_whatsapp(
        Image("products/a.jpg", "Pagne"), lang="fr", templates={}, media_url=_url
    )
    assert req.media_urls == ("https://x/media/products/a.jpg",) and req.body == "Pagne"


def test_telegram_choices_are_an_inline_keyboard() -> None:
    req = render.render_telegram(MENU3, lang="fr")
    keyboard = req.reply_markup["inline_keyboard"]  # type: ignore[index]
    assert [row[0]["callback_data"] for row in keyboard] == ["a", "b", "c"]


def test_telegram_refuses_callback_data_over_64_bytes() -> None:
    with pytest.raises(ValueError):
        render.render_telegram(Choices("x", (Choice("é" * 33, "trop long"),)), lang="fr")


def test_telegram_contact_and_location_requests_use_reply_keyboards() -> None:
    contact = render.render_telegram(AskContact("Partagez votre numéro"), lang="fr")
    assert contact.reply_markup["keyboard"][0][0]["request_contact"] is True  # type: ignore[index]
    location = render.render_telegram(AskLocation("Où êtes-vous ?"), lang="fr")
    assert location.reply_markup["keyboard"][0][0]["request_location"] is True  # type: ignore[index]


def test_sms_is_gsm7_and_long_text_is_split_between_words() -> None:
    text = "Commande prête à récupérer. Ça coûte 250 000 GNF « très » bientôt ! " * 6
    parts = render.render_sms(Text(text), lang="fr")
    assert len(parts) > 1
    assert all(is_gsm7(p) and segments(p) == ("GSM-7", 1) for p in parts)
    assert all(not p.startswith(" ") and not p.endswith(" ") for p in parts)


def test_short_sms_menu_stays_one_gsm7_segment() -> None:
    [part] = render.render_sms(
        Choices("Menu", (Choice("a", "Gains"), Choice("b", "Courses"))), lang="fr"
    )
    assert is_gsm7(part) and "\n1. Gains\n2. Courses" in part


SHAPES = {
    **{f"quick_reply_{n}": f"HXq{n}" for n in (1, 2, 3)},
    **{f"list_picker_{n}": f"HXl{n}" for n in range(1, 11)},
    **{f"list_picker_{n}_described": f"HXd{n}" for n in range(1, 11)},
}


def test_a_two_choice_menu_goes_through_the_two_button_template_with_every_variable_filled():
    menu = Choices("Confirmer ?", (Choice("co:yes", "Confirmer"), Choice("co:edit", "Modifier")))
    req = render.render_whatsapp(menu, lang="fr", templates=SHAPES, media_url=_url)
    assert req.content_sid == "HXq2"
    assert req.content_variables == {
        "1": "Confirmer ?",
        "2": "Confirmer",
        "3": "co:yes",
        "4": "Modifier",
        "5": "co:edit",
    }


def test_each_menu_size_picks_its_own_shape_and_fills_all_of_it():
    for n in range(1, 11):
        plain = Choices("x", tuple(Choice(f"c:{i}", f"Choix {i}") for i in range(n)))
        described = Choices("x", tuple(Choice(f"c:{i}", f"Choix {i}", "d") for i in range(n)))
        for menu, per_row in ((plain, 2), (described, 3)):
            req = render.render_whatsapp(menu, lang="fr", templates=SHAPES, media_url=_url)
            key = render.menu_shape(menu)
            assert req.content_sid == SHAPES[key]
            expected = 1 + 2 * n if n <= 3 else 2 + per_row * n
            assert len(req.content_variables) == expected
            assert all(v.strip() for v in req.content_variables.values())


def test_the_legacy_full_templates_serve_only_menus_of_their_own_shape():
    two = Choices("x", (Choice("a", "A"), Choice("b", "B")))
    req = render.render_whatsapp(two, lang="fr", templates=TEMPLATES, media_url=_url)
    assert req.content_sid == "" and "1. A" in req.body  # no 3-button template for 2 choices
    assert render.render_whatsapp(MENU3, lang="fr", templates=TEMPLATES, media_url=_url).content_sid
