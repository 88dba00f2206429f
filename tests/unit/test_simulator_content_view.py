"""The simulator shows exactly what a template plus its variables produce.

Twilio fills a variable not given at send time with the template's sample value; the buyer sees
that sample, so the simulator must draw it too, and with the very function the emulator renders
the message body with (`devtools.emulators.rendering`). No sockets: Flask's test client.
"""

from __future__ import annotations

from typing import Any

import pytest

from devtools.emulators import EmulatorStore, create_emulator_app
from devtools.emulators.rendering import render_content
from devtools.simulator.timeline import content_view
from tests.webhooks import ACCOUNT_SID, AUTH_TOKEN, TELEGRAM_TOKEN

BUYER = "whatsapp:+224620000002"
MENU_SID = "HX" + "3" * 32
LIST_SID = "HX" + "4" * 32
BARE_SID = "HX" + "5" * 32
THREE_BUTTONS = {
    "body": "{{1}}",
    "actions": [
        {"title": "{{2}}", "id": "{{3}}"},
        {"title": "{{4}}", "id": "{{5}}"},
        {"title": "{{6}}", "id": "{{7}}"},
    ],
    "variables": {"1": "Que voulez-vous ?", "2": "Catalogue", "3": "menu:catalog", "4": "Panier",
                  "5": "menu:cart", "6": "Aide", "7": "menu:help"},
}  # fmt: skip
TWO_ROWS = {
    "body": "{{1}}",
    "button": "{{2}}",
    "items": [
        {"item": "{{3}}", "id": "{{4}}", "description": "{{5}}"},
        {"item": "{{6}}", "id": "{{7}}", "description": "{{8}}"},
    ],
    "variables": {"1": "Catégories", "2": "Voir", "3": "Chaussures", "4": "cat:1",
                  "5": "Toutes tailles", "6": "Pagnes", "7": "cat:2", "8": "Wax"},
}  # fmt: skip


@pytest.fixture
def store() -> EmulatorStore:
    store = EmulatorStore()
    store.register_content(MENU_SID, "twilio/quick-reply", THREE_BUTTONS)
    store.register_content(LIST_SID, "twilio/list-picker", TWO_ROWS)
    bare = {k: v for k, v in THREE_BUTTONS.items() if k != "variables"}
    store.register_content(BARE_SID, "twilio/quick-reply", bare)
    return store


def _send(store: EmulatorStore, sid: str, variables: dict[str, str]) -> Any:
    import json

    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )
    answer = app.test_client().post(
        f"/2010-04-01/Accounts/{ACCOUNT_SID}/Messages.json",
        data={
            "To": BUYER,
            "From": "whatsapp:+14155238886",
            "ContentSid": sid,
            "ContentVariables": json.dumps(variables),
        },
        auth=(ACCOUNT_SID, AUTH_TOKEN),
    )
    assert answer.status_code == 201, answer.get_json()
    return store.twilio_message(answer.get_json()["sid"])


def test_a_three_button_template_sent_with_two_buttons_shows_the_sample_third(
    store: EmulatorStore,
) -> None:
    given = {"1": "Votre commande 12", "2": "Oui", "3": "y", "4": "Non", "5": "n"}
    message = _send(store, MENU_SID, given)
    assert content_view(store, message) == {
        "buttons": [
            {"title": "Oui", "id": "y"},
            {"title": "Non", "id": "n"},
            {"title": "Aide", "id": "menu:help"},  # the buyer gets the sample button, tappable
        ]
    }
    assert message.body == "Votre commande 12"


def test_a_fully_filled_template_shows_exactly_the_given_values(store: EmulatorStore) -> None:
    given = {"1": "Livraison ?", "2": "Kaloum", "3": "z:1", "4": "Ratoma", "5": "z:2"}
    given |= {"6": "Matoto", "7": "z:3"}
    message = _send(store, MENU_SID, given)
    assert content_view(store, message)["buttons"] == [
        {"title": "Kaloum", "id": "z:1"},
        {"title": "Ratoma", "id": "z:2"},
        {"title": "Matoto", "id": "z:3"},
    ]
    assert message.body == "Livraison ?"


def test_list_rows_take_the_samples_too_and_the_body_is_the_same_rendering(
    store: EmulatorStore,
) -> None:
    given = {"1": "Rayons", "3": "Sacs", "4": "cat:9"}
    message = _send(store, LIST_SID, given)
    view = content_view(store, message)
    assert view["list"] == {
        "button": "Voir",
        "rows": [
            {"title": "Sacs", "id": "cat:9", "description": "Toutes tailles"},
            {"title": "Pagnes", "id": "cat:2", "description": "Wax"},
        ],
    }
    assert message.body == render_content(TWO_ROWS, given)["body"] == "Rayons"


def test_a_variable_without_value_or_sample_is_shown_and_reported_never_hidden(
    store: EmulatorStore,
) -> None:
    message = _send(store, BARE_SID, {"1": "Menu", "2": "Oui", "3": "y", "4": "Non", "5": "n"})
    view = content_view(store, message)
    assert view["buttons"][2] == {"title": "{{6}}", "id": "{{7}}"}
    assert view["rejected"] == "no value and no template sample for {{6}}, {{7}}"
