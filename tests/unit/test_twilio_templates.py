"""The template definitions agree with the renderer, and WhatsApp would accept the notices."""

from __future__ import annotations

import re

import pytest

from bot.messages import Choice, Choices
from channels_adapters import render
from channels_adapters.twilio_templates import (
    NOTICE_TEXTS,
    all_specs,
    check_approvable,
    menu_specs,
    notice_specs,
    notice_variables,
    numbered,
)
from commerce.messaging.notices import Notice

_VAR = re.compile(r"\{\{(\w+)\}\}")


def _placeholders(value: object) -> set[str]:
    if isinstance(value, str):
        return set(_VAR.findall(value))
    if isinstance(value, dict):
        return set().union(*(_placeholders(v) for v in value.values())) if value else set()
    if isinstance(value, list):
        return set().union(*(_placeholders(v) for v in value)) if value else set()
    return set()


def _menu(n: int, described: bool) -> Choices:
    return Choices(
        text="Choisissez",
        choices=tuple(
            Choice(f"c:{i}", f"Choix {i}", "détail" if described else "") for i in range(n)
        ),
    )


def test_every_shape_the_renderer_asks_for_has_one_template_filled_exactly() -> None:
    specs = {spec.key: spec for spec in menu_specs()}
    shapes = set()
    for n in range(1, 11):
        for described in (False, True):
            menu = _menu(n, described)
            shape = render.menu_shape(menu)
            assert shape is not None
            shapes.add(shape)
            spec = specs[shape]
            variables = render.menu_variables(menu, "fr")
            assert _placeholders(spec.definition) == set(variables) == set(spec.samples)
    # The list pickers of 1 to 3 rows exist too (the brief's full set), though a menu that
    # short goes out as quick reply buttons.
    assert set(specs) - shapes == {
        f"list_picker_{n}{d}" for n in (1, 2, 3) for d in ("", "_described")
    }
    assert len({spec.friendly_name for spec in all_specs()}) == len(all_specs()) == 45


def test_menus_are_french_named_by_shape_and_never_submitted() -> None:
    for spec in menu_specs():
        assert spec.friendly_name == f"boutik_menu_{spec.key}"
        assert spec.language == "fr" and not spec.needs_approval


@pytest.mark.parametrize("spec", notice_specs(), ids=lambda s: s.friendly_name)
def test_each_notice_is_an_approvable_text_with_a_sample_per_variable(spec) -> None:  # type: ignore[no-untyped-def]
    body = spec.definition["body"]
    check_approvable(body)
    assert spec.friendly_name == f"boutik_{spec.key}_{spec.language}"
    assert spec.needs_approval and spec.content_type == "twilio/text"
    assert (
        _placeholders(body) == set(spec.samples) == {str(n) for n in range(1, len(spec.params) + 1)}
    )
    assert all(value.strip() for value in spec.samples.values())


def test_numbering_follows_the_sentence_and_repeats_are_given_twice() -> None:
    assert numbered("Commande {order_id} : payez {total_gnf}. Répondez OUI {order_id}.") == (
        "Commande {{1}} : payez {{2}}. Répondez OUI {{3}}.",
        ("order_id", "total_gnf", "order_id"),
    )
    with pytest.raises(ValueError):
        check_approvable("{{1}} est là.")
    with pytest.raises(ValueError):
        check_approvable("Votre retour : {{1}}")
    with pytest.raises(ValueError):
        check_approvable("Voici {{1}} {{2}} pour vous.")


def test_notice_variables_fill_every_one_and_format_money() -> None:
    assert notice_variables("confirm_cash", {"order_id": 7, "total": 250000}, "fr") == {
        "1": "7",
        "2": "250 000 GNF",
        "3": "7",
    }
    assert notice_variables("order_refused", {"order_id": 7, "reason": ""}, "en") == {
        "1": "7",
        "2": "-",
    }


def test_only_buyer_notices_have_templates() -> None:
    assert Notice.REPLY not in NOTICE_TEXTS and Notice.ORDER_PLACED not in NOTICE_TEXTS


def test_a_configured_template_wins_over_a_synced_one() -> None:
    stored = {"quick_reply_3": "HXsynced", "quick_reply_2": "HXsynced2"}
    assert render.menu_template("quick_reply_3", {}, stored) == "HXsynced"
    assert render.menu_template("quick_reply_3", {"quick_reply": "HXlegacy"}, stored) == "HXlegacy"
    assert render.menu_template("quick_reply_2", {"quick_reply_2": "HXmine"}, stored) == "HXmine"
    assert render.menu_template("list_picker_4", {}, stored) == ""
    assert render.menu_template(None, {}, stored) == ""
