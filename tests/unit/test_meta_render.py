"""Rendering one reply model for Meta's WhatsApp Cloud API, at every limit its API sets."""

from __future__ import annotations

from typing import Any

from bot.messages import AskContact, AskLocation, Choice, Choices, Document, Image, Text
from channels_adapters import meta_render as mr


def _url(path: str) -> str:
    return f"https://boutik.example/media/{path}?sig=x"


def _render(reply: Any, lang: str = "fr") -> dict[str, Any]:
    return mr.render_meta(reply, lang=lang, media_url=_url)


def _menu(n: int, *, label: str = "Choix {i}", description: str = "") -> Choices:
    choices = tuple(
        Choice(f"c{i}", label.format(i=i), description.format(i=i)) for i in range(1, n + 1)
    )
    return Choices("Que voulez-vous ?", choices)


def test_text_is_cut_at_4096_with_an_ellipsis() -> None:
    assert _render(Text("Bonjour")) == {"type": "text", "text": {"body": "Bonjour"}}
    body = _render(Text("x" * 5000))["text"]["body"]
    assert len(body) == mr.TEXT_MAX == 4096 and body.endswith("…")
    assert _render(Text("y" * 4096))["text"]["body"] == "y" * 4096


def test_empty_text_is_never_sent_empty() -> None:
    assert _render(Text(""))["text"]["body"] == "…"


def test_image_goes_by_signed_link_with_a_cut_caption() -> None:
    message = _render(Image("products/1.jpg", caption="c" * 1100))
    assert message["type"] == "image"
    assert message["image"]["link"] == _url("products/1.jpg")
    caption = message["image"]["caption"]
    assert len(caption) == mr.CAPTION_MAX == 1024 and caption.endswith("…")


def test_image_without_caption_has_no_caption_key() -> None:
    assert _render(Image("p.jpg")) == {"type": "image", "image": {"link": _url("p.jpg")}}


def test_document_goes_by_link_with_caption_and_filename() -> None:
    message = _render(Document("exports/orders.csv", "commandes.csv", caption="Vos commandes"))
    assert message == {
        "type": "document",
        "document": {
            "link": _url("exports/orders.csv"),
            "filename": "commandes.csv",
            "caption": "Vos commandes",
        },
    }


def test_three_choices_are_three_reply_buttons_with_their_ids() -> None:
    message = _render(_menu(3))
    interactive = message["interactive"]
    assert message["type"] == "interactive" and interactive["type"] == "button"
    assert interactive["body"] == {"text": "Que voulez-vous ?"}
    buttons = interactive["action"]["buttons"]
    assert len(buttons) == mr.BUTTONS_MAX == 3
    assert [b["type"] for b in buttons] == ["reply"] * 3
    assert [b["reply"]["id"] for b in buttons] == ["c1", "c2", "c3"]
    assert [b["reply"]["title"] for b in buttons] == ["Choix 1", "Choix 2", "Choix 3"]


def test_one_choice_is_one_button() -> None:
    buttons = _render(_menu(1))["interactive"]["action"]["buttons"]
    assert [b["reply"]["id"] for b in buttons] == ["c1"]


def test_a_21_char_title_is_cut_to_20_and_titles_stay_unique() -> None:
    menu = _menu(3, label="Livraison à Kaloum c{i}")  # 21 characters, alike in the first 20
    assert len(menu.choices[0].label) == 21
    titles = [b["reply"]["title"] for b in _render(menu)["interactive"]["action"]["buttons"]]
    assert all(len(t) <= mr.BUTTON_TITLE_MAX == 20 for t in titles)
    assert len(set(titles)) == 3
    assert titles == ["Livraison à Kaloum…", "Livraison à Kalou… 2", "Livraison à Kalou… 3"]


def test_equal_labels_are_told_apart() -> None:
    menu = Choices("?", (Choice("a", "Oui"), Choice("b", "Oui"), Choice("c", "")))
    titles = [b["reply"]["title"] for b in _render(menu)["interactive"]["action"]["buttons"]]
    assert titles == ["Oui", "Oui 2", "c"]


def test_four_choices_are_a_list_with_the_catalog_button() -> None:
    message = _render(_menu(4))
    interactive = message["interactive"]
    assert interactive["type"] == "list"
    action = interactive["action"]
    assert action["button"] == "Choisir"
    assert _render(_menu(4), "en")["interactive"]["action"]["button"] == "Choose"
    assert len(action["sections"]) == 1 and "title" not in action["sections"][0]
    rows = action["sections"][0]["rows"]
    assert [r["id"] for r in rows] == ["c1", "c2", "c3", "c4"]
    assert all("description" not in r for r in rows)


def test_ten_choices_are_ten_rows() -> None:
    rows = _render(_menu(10, description="d{i}"))["interactive"]["action"]["sections"][0]["rows"]
    assert len(rows) == mr.ROWS_MAX == 10
    assert rows[9] == {"id": "c10", "title": "Choix 10", "description": "d10"}


def test_eleven_choices_are_numbered_text() -> None:
    message = _render(_menu(11))
    assert message["type"] == "text"
    body = message["text"]["body"]
    assert "1. Choix 1" in body and "11. Choix 11" in body
    assert "Répondez par un numéro." in body


def test_a_25_char_row_title_and_a_73_char_description_are_cut() -> None:
    menu = Choices(
        "Catégories",
        tuple(Choice(f"k{i}", "R" * 25, "D" * 73) for i in range(5)),
        button="Voir les catégories maintenant",
    )
    action = _render(menu)["interactive"]["action"]
    assert len(action["button"]) == mr.LIST_BUTTON_MAX == 20
    rows = action["sections"][0]["rows"]
    titles = [r["title"] for r in rows]
    assert all(len(t) <= mr.ROW_TITLE_MAX == 24 for t in titles)
    assert len(set(titles)) == 5 and titles[0] == "R" * 23 + "…"
    assert all(len(r["description"]) == mr.ROW_DESCRIPTION_MAX == 72 for r in rows)
    assert rows[0]["description"].endswith("…")


def test_a_long_body_is_cut_at_1024_and_an_empty_one_is_never_empty() -> None:
    long_body = Choices("b" * 2000, (Choice("a", "A"),))
    text = _render(long_body)["interactive"]["body"]["text"]
    assert len(text) == mr.BODY_MAX == 1024 and text.endswith("…")
    assert _render(Choices("", (Choice("a", "A"),)))["interactive"]["body"]["text"] == "…"
    assert _render(Choices("  ", tuple(_menu(5).choices)))["interactive"]["body"]["text"] == "…"


def test_ids_meta_cannot_carry_make_a_numbered_menu() -> None:
    too_long = Choices("?", (Choice("x" * 201, "A"), *_menu(4).choices))
    assert _render(too_long)["type"] == "text"
    twice = Choices("?", (Choice("a", "A"), Choice("a", "B")))
    assert _render(twice)["type"] == "text"
    # a button id may be up to 256 characters, a row id only 200
    assert _render(Choices("?", (Choice("y" * 256, "A"),)))["type"] == "interactive"


def test_location_request() -> None:
    assert _render(AskLocation("Où livrer ?")) == {
        "type": "interactive",
        "interactive": {
            "type": "location_request_message",
            "body": {"text": "Où livrer ?"},
            "action": {"name": "send_location"},
        },
    }


def test_contact_request_is_text() -> None:
    assert _render(AskContact("Votre numéro ?")) == {
        "type": "text",
        "text": {"body": "Votre numéro ?"},
    }


def test_template_with_parameters() -> None:
    assert mr.template_message("boutik_order_accepted_fr", "fr", ["1042", "250 000 GNF"]) == {
        "type": "template",
        "template": {
            "name": "boutik_order_accepted_fr",
            "language": {"policy": "deterministic", "code": "fr"},
            "components": [
                {
                    "type": "body",
                    "parameters": [
                        {"type": "text", "text": "1042"},
                        {"type": "text", "text": "250 000 GNF"},
                    ],
                }
            ],
        },
    }


def test_template_without_parameters_has_no_components() -> None:
    assert mr.template_message("boutik_hello_en", "en", []) == {
        "type": "template",
        "template": {
            "name": "boutik_hello_en",
            "language": {"policy": "deterministic", "code": "en"},
        },
    }


def test_template_parameters_carry_no_newline_tab_run_of_spaces_nor_emptiness() -> None:
    message = mr.template_message("t", "fr", ["rupture\nde\tstock", "a     b", "  "])
    texts = [p["text"] for p in message["template"]["components"][0]["parameters"]]
    assert texts == ["rupture de stock", "a b", "-"]
