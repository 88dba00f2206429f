"""The Telegram emulator and our Update builders are held to the Bot API description.

What the emulator answers in Telegram's place (a Message, a User, WebhookInfo, a command list…)
and what our builders post to our webhook (Updates) is checked against the facts derived from
the description (`devtools/contracts`); the emulator refuses, as Telegram does, what the
description refuses — with the limits read from the same facts. Each check is shown to catch a
real violation and to pass what the emulator and the builders produce today. No sockets: the
emulator app runs under Flask's test client.
"""

from __future__ import annotations

import copy
from typing import Any

import pytest
from flask.testing import FlaskClient

from devtools import contracts
from devtools.contracts import RawResponse
from devtools.emulators import EmulatorStore, create_emulator_app
from devtools.simulator import provider
from devtools.testkit.webhooks import (
    ACCOUNT_SID,
    AUTH_TOKEN,
    TELEGRAM_SECRET,
    TELEGRAM_TOKEN,
    OffSpecUpdate,
    post_telegram,
    telegram_callback,
    telegram_message,
)
from settings.config import load_config

BOT = f"/telegram/bot{TELEGRAM_TOKEN}"
CHAT = 5_550_001


@pytest.fixture
def store() -> EmulatorStore:
    return EmulatorStore()


@pytest.fixture
def tg(store: EmulatorStore) -> FlaskClient:
    app = create_emulator_app(
        store,
        twilio_account_sid=ACCOUNT_SID,
        twilio_auth_token=AUTH_TOKEN,
        telegram_token=TELEGRAM_TOKEN,
    )
    return app.test_client()


def call(tg: FlaskClient, method: str, **params: Any) -> tuple[int, dict[str, Any]]:
    response = tg.post(f"{BOT}/{method}", json=params)
    return response.status_code, response.get_json()


def refusal(tg: FlaskClient, method: str, **params: Any) -> str:
    status, body = call(tg, method, **params)
    assert (status, body["ok"], body["error_code"]) == (400, False, 400), body
    assert body["description"].startswith("Bad Request: ")
    return str(body["description"])


def keyboard(*buttons: dict[str, Any]) -> dict[str, Any]:
    return {"inline_keyboard": [list(buttons)]}


# --- what the emulator answers -------------------------------------------------------------


def test_every_answer_the_emulator_gives_today_fits_the_description(
    tg: FlaskClient, store: EmulatorStore
) -> None:
    button = {"text": "Accepter", "callback_data": "o:a:12"}
    call(tg, "getMe")
    _, sent = call(
        tg, "sendMessage", chat_id=CHAT, text="Commande 12", reply_markup=keyboard(button)
    )
    call(tg, "sendMessage", chat_id=-100123, text="Groupe")
    message_id = sent["result"]["message_id"]
    call(tg, "editMessageText", chat_id=CHAT, message_id=message_id, text="Acceptée")
    call(tg, "editMessageReplyMarkup", chat_id=CHAT, message_id=message_id)
    call(tg, "sendPhoto", chat_id=CHAT, photo="https://boutik.example.gn/p.jpg", caption="Robe")
    call(tg, "sendChatAction", chat_id=CHAT, action="typing")
    call(tg, "answerCallbackQuery", callback_query_id="7", text="OK")
    call(tg, "setWebhook", url="https://boutik.example.gn/hook", secret_token="s3cret_-")
    call(tg, "getWebhookInfo")
    call(tg, "setMyCommands", commands=[{"command": "menu", "description": "Menu"}])
    call(tg, "getMyCommands")
    call(tg, "deleteMyCommands", scope={"type": "chat", "chat_id": CHAT})
    call(tg, "deleteMessage", chat_id=CHAT, message_id=message_id)
    store.add_file("AgAC-file", b"jpeg", file_path="photos/file_1.jpg")
    call(tg, "getFile", file_id="AgAC-file")
    call(tg, "sendMessage", chat_id=CHAT, text="x" * 5000)  # an error answer is checked too
    store.fail_next(1, status=429, retry_after=3, provider="telegram")
    call(tg, "sendMessage", chat_id=CHAT, text="flood")

    answers = store.raw_responses()
    assert len(answers) == 17
    assert [a.status for a in answers][-2:] == [400, 429]
    assert contracts.response_violations(answers) == []
    assert contracts.violations(store.raw_requests()) == [  # the one bad request, on purpose
        "sendMessage.text: 5000 characters, allowed 1-4096"
    ]


def _answer(method: str, result: Any, **extra: Any) -> RawResponse:
    return RawResponse("POST", f"{BOT}/{method}", 200, {"ok": True, "result": result, **extra})


def test_an_invented_or_missing_field_in_a_result_is_a_violation(tg: FlaskClient) -> None:
    _, sent = call(tg, "sendMessage", chat_id=CHAT, text="Bonjour")
    message = sent["result"]
    assert contracts.telegram_result_violations("sendMessage", message) == []

    invented = {**message, "sender_name": "Boutik"}
    [unknown] = contracts.telegram_result_violations("sendMessage", invented)
    assert "unknown field 'sender_name'" in unknown
    chatless = {k: v for k, v in message.items() if k != "chat"}
    assert any(
        "required field 'chat'" in v
        for v in contracts.telegram_result_violations("sendMessage", chatless)
    )
    untyped_chat = copy.deepcopy(message)
    untyped_chat["chat"].pop("type")
    assert any(
        "'type' missing" in v
        for v in contracts.telegram_result_violations("sendMessage", untyped_chat)
    )
    wrong_kind = copy.deepcopy(message)
    wrong_kind["chat"]["type"] = "dm"
    assert any(
        "'dm' is not one of" in v
        for v in contracts.telegram_result_violations("sendMessage", wrong_kind)
    )
    as_text = {**message, "date": str(message["date"])}  # a result is JSON: 42, not "42"
    assert any(
        "expected Integer" in v
        for v in contracts.telegram_result_violations("sendMessage", as_text)
    )


def test_a_result_of_the_wrong_type_or_a_bad_envelope_is_a_violation() -> None:
    assert contracts.response_violations([_answer("setWebhook", True)]) == []
    assert contracts.response_violations([_answer("setWebhook", {"ok": 1})]) != []
    commands = [{"command": "menu", "description": "Menu"}]
    assert contracts.response_violations([_answer("getMyCommands", commands)]) == []
    [bad] = contracts.response_violations([_answer("getMyCommands", [{"command": "menu"}])])
    assert "required field 'description' missing" in bad
    [gap] = contracts.response_violations([_answer("getMe", {"id": 1, "is_bot": True})])
    assert "first_name" in gap
    [extra] = contracts.response_violations([_answer("setWebhook", True, error_code=400)])
    assert "'error_code' in a successful answer" in extra
    wrong_code = RawResponse(
        "POST", f"{BOT}/sendMessage", 400, {"ok": False, "error_code": 403, "description": "x"}
    )
    assert any("not the HTTP status 400" in v for v in contracts.response_violations([wrong_code]))
    not_json = RawResponse("POST", f"{BOT}/sendMessage", 500, None)
    assert contracts.response_violations([not_json]) != []
    a_download = RawResponse("GET", f"/telegram/file/bot{TELEGRAM_TOKEN}/photos/a.jpg", 200, None)
    assert contracts.response_violations([a_download]) == []


def test_a_type_the_facts_do_not_hold_is_reported_not_waved_through() -> None:
    venue = {"location": {"latitude": 9.5, "longitude": -13.7}, "title": "Marché", "address": "x"}
    [gap] = contracts.telegram_result_violations(
        "sendMessage",
        {"message_id": 1, "date": 1, "chat": {"id": 1, "type": "private"}, "venue": venue},
    )
    assert "a Venue, a type the facts do not hold" in gap


# --- the Updates our builders post ---------------------------------------------------------


def test_the_updates_our_builders_make_fit_the_description() -> None:
    contact = {"phone_number": "224622000112", "first_name": "Aissatou", "user_id": 42}
    updates = [
        telegram_message(42, "salut"),
        telegram_message(42, "/start"),
        telegram_message(42, "", contact=contact),
        telegram_message(42, "", location={"latitude": 9.5, "longitude": -13.7}),
        telegram_callback(42, "menu:catalog"),
    ]
    for update in updates:
        assert contracts.telegram_update_violations(update) == [], update
    assert "text" not in updates[2]["message"]  # Telegram sends no empty text with a contact


def test_a_missing_required_or_wrongly_typed_field_in_an_update_is_a_violation() -> None:
    update = telegram_message(42, "salut")
    del update["message"]["chat"]
    assert any(
        "required field 'chat' missing" in v for v in contracts.telegram_update_violations(update)
    )
    contact = telegram_message(42, "", contact={"phone_number": "224622000112"})
    assert any("'first_name' missing" in v for v in contracts.telegram_update_violations(contact))
    as_text = telegram_message(42, "salut")
    as_text["update_id"] = str(as_text["update_id"])
    assert any("expected Integer" in v for v in contracts.telegram_update_violations(as_text))
    both = {
        **telegram_message(42, "a"),
        "callback_query": telegram_callback(42, "x")["callback_query"],
    }
    assert any("at most one of" in v for v in contracts.telegram_update_violations(both))
    no_data = telegram_callback(42, "x")
    del no_data["callback_query"]["data"]  # exactly one of data, game_short_name
    assert any("exactly one of" in v for v in contracts.telegram_update_violations(no_data))


def test_a_callback_on_an_inaccessible_message_is_an_update_telegram_sends() -> None:
    update = telegram_callback(42, "x")
    update["callback_query"]["message"] = {
        "chat": {"id": 42, "type": "private"},
        "message_id": 3,
        "date": 0,
    }
    assert contracts.telegram_update_violations(update) == []
    update["callback_query"]["message"]["colour"] = "red"  # neither a Message nor inaccessible
    assert contracts.telegram_update_violations(update) != []


def test_post_telegram_refuses_an_off_spec_update_unless_told() -> None:
    update = telegram_message(42, "salut")
    update["message"]["chat"] = {"id": 42}  # a chat without its type

    class Client:
        def __init__(self) -> None:
            self.posted: list[Any] = []

        def post(self, path: str, **kwargs: Any) -> str:
            self.posted.append(kwargs["json"])
            return "200"

    client = Client()
    with pytest.raises(OffSpecUpdate, match="required field 'type' missing"):
        post_telegram(client, update)  # type: ignore[arg-type]
    assert client.posted == []
    assert post_telegram(client, update, off_spec=True) == "200"  # type: ignore[arg-type]


def test_the_simulator_builds_updates_that_fit_the_description() -> None:
    env = {
        "TELEGRAM_BOT_TOKEN": TELEGRAM_TOKEN,
        "TELEGRAM_WEBHOOK_SECRET": TELEGRAM_SECRET,
        "TWILIO_ACCOUNT_SID": ACCOUNT_SID,
        "TWILIO_AUTH_TOKEN": AUTH_TOKEN,
    }
    config = load_config(environ=env)
    actions: list[dict[str, Any]] = [
        {"text": "bonjour"},
        {"text": "/start"},
        {"contact": {"phone_number": "+224622000112"}},
        {"location": {"lat": 9.5, "lng": -13.7}},
        {"callback": {"data": "menu:catalog", "text": "Catalogue"}},
        {
            "file_id": "AgAC",
            "sizes": [{"file_id": "AgAC", "file_unique_id": "U1", "width": 480, "height": 480}],
            "text": "robe",
            "preview": "/p.jpg",
        },
    ]
    for action in actions:
        hook = provider.telegram(config, 42, "Aissatou Diallo", action, message_id=7)
        assert contracts.telegram_update_violations(hook.json) == []
    broken = {"message_id": 7, "date": 1, "chat": {"id": 42}}  # the emulator lost its type
    with pytest.raises(ValueError, match="could not send"):
        provider.telegram(
            config, 42, "A", {"callback": {"data": "x"}}, message_id=7, callback_message=broken
        )


# --- what the emulator refuses, as Telegram does ------------------------------------------


def test_callback_data_past_64_bytes_is_refused(tg: FlaskClient) -> None:
    fits = {"text": "Oui", "callback_data": "c" * 64}
    assert call(tg, "sendMessage", chat_id=CHAT, text="a", reply_markup=keyboard(fits))[0] == 200
    too_long = {"text": "Oui", "callback_data": "é" * 33}  # 33 characters, 66 bytes
    assert "BUTTON_DATA_INVALID" in refusal(
        tg, "sendMessage", chat_id=CHAT, text="a", reply_markup=keyboard(too_long)
    )
    empty = {"text": "Oui", "callback_data": ""}
    assert "BUTTON_DATA_INVALID" in refusal(
        tg, "sendMessage", chat_id=CHAT, text="a", reply_markup=keyboard(empty)
    )


def test_an_inline_button_needs_exactly_one_action(tg: FlaskClient) -> None:
    styled = {"text": "Oui", "style": "success", "callback_data": "y"}  # style is no action
    assert call(tg, "sendMessage", chat_id=CHAT, text="a", reply_markup=keyboard(styled))[0] == 200
    for button in (
        {"text": "Oui", "style": "success"},
        {"text": "Oui", "callback_data": "y", "url": "https://x.gn"},
    ):
        assert "unallowed" in refusal(
            tg, "sendMessage", chat_id=CHAT, text="a", reply_markup=keyboard(button)
        )


def test_a_reply_button_asks_for_at_most_one_thing(tg: FlaskClient) -> None:
    both = {"keyboard": [[{"text": "Moi", "request_contact": True, "request_location": True}]]}
    assert "only one of" in refusal(tg, "sendMessage", chat_id=CHAT, text="a", reply_markup=both)


def test_text_and_caption_are_measured_after_entities_parsing(tg: FlaskClient) -> None:
    bold = "<b>" + "x" * 4096 + "</b>"  # 4 103 characters sent, 4 096 shown
    assert call(tg, "sendMessage", chat_id=CHAT, text=bold, parse_mode="HTML")[0] == 200
    assert "too long" in refusal(tg, "sendMessage", chat_id=CHAT, text="x" * 4097)
    assert "text is empty" in refusal(
        tg, "sendMessage", chat_id=CHAT, text="<b> </b>", parse_mode="HTML"
    )
    escaped = "\\." * 4096  # MarkdownV2: 8 192 characters sent, 4 096 shown
    assert call(tg, "sendMessage", chat_id=CHAT, text=escaped, parse_mode="MarkdownV2")[0] == 200
    photo = "https://boutik.example.gn/p.jpg"
    caption = "<i>" + "c" * 1024 + "</i>"
    assert (
        call(tg, "sendPhoto", chat_id=CHAT, photo=photo, caption=caption, parse_mode="HTML")[0]
        == 200
    )
    assert "caption is too long" in refusal(
        tg, "sendPhoto", chat_id=CHAT, photo=photo, caption="c" * 1025
    )


def test_a_callback_answer_past_200_characters_is_refused(tg: FlaskClient) -> None:
    assert call(tg, "answerCallbackQuery", callback_query_id="1", text="x" * 200)[0] == 200
    assert "MESSAGE_TOO_LONG" in refusal(
        tg, "answerCallbackQuery", callback_query_id="1", text="x" * 201
    )
    assert "MESSAGE_TOO_LONG" in refusal(tg, "answerCallbackQuery", callback_query_id="1", text=12)


@pytest.mark.parametrize(
    ("command", "why"),
    [
        ({"command": "Menu", "description": "Menu"}, "BOT_COMMAND_INVALID"),
        ({"command": "m" * 33, "description": "Menu"}, "BOT_COMMAND_INVALID"),
        ({"command": "", "description": "Menu"}, "BOT_COMMAND_INVALID"),
        ({"command": 123, "description": "Menu"}, "BOT_COMMAND_INVALID"),
        ({"command": "menu", "description": ""}, "BOT_COMMAND_DESCRIPTION_INVALID"),
        ({"command": "menu", "description": "d" * 257}, "BOT_COMMAND_DESCRIPTION_INVALID"),
    ],
)
def test_a_command_off_its_limits_is_refused(
    tg: FlaskClient, command: dict[str, Any], why: str
) -> None:
    assert why in refusal(tg, "setMyCommands", commands=[command])


def test_commands_within_the_limits_are_kept_and_101_are_refused(tg: FlaskClient) -> None:
    fits = [{"command": "m" * 32, "description": "d" * 256}]
    assert call(tg, "setMyCommands", commands=fits)[0] == 200
    many = [{"command": f"c{i}", "description": "d"} for i in range(101)]
    assert "at most 100" in refusal(tg, "setMyCommands", commands=many)


@pytest.mark.parametrize(
    ("scope", "why"),
    [
        ({"type": "everyone"}, "type 'everyone' not in"),
        ({"type": "chat"}, "required field 'chat_id' missing"),
        ({"type": "chat_member", "chat_id": CHAT}, "required field 'user_id' missing"),
        ({"type": "chat", "chat_id": 1.5}, "expected Integer"),
        ([{"type": "default"}], "expected BotCommandScope object"),
    ],
)
def test_a_scope_of_no_known_type_or_without_its_fields_is_refused(
    tg: FlaskClient, scope: Any, why: str
) -> None:
    commands = [{"command": "menu", "description": "Menu"}]
    assert why in refusal(tg, "setMyCommands", commands=commands, scope=scope)
    assert why in refusal(tg, "getMyCommands", scope=scope)
    assert why in refusal(tg, "deleteMyCommands", scope=scope)


def test_every_concrete_scope_the_description_lists_is_accepted(tg: FlaskClient) -> None:
    commands = [{"command": "menu", "description": "Menu"}]
    for scope in (
        {"type": "default"},
        {"type": "all_private_chats"},
        {"type": "all_group_chats"},
        {"type": "all_chat_administrators"},
        {"type": "chat", "chat_id": CHAT},
        {"type": "chat_administrators", "chat_id": "@boutik"},
        {"type": "chat_member", "chat_id": -100123, "user_id": 42},
    ):
        assert call(tg, "setMyCommands", commands=commands, scope=scope)[0] == 200, scope


def test_the_scope_checker_resolves_the_concrete_type_of_a_request() -> None:
    def scoped(scope: Any) -> list[str]:
        return contracts.telegram_violations(
            contracts.RawRequest(
                "POST",
                f"{BOT}/setMyCommands",
                {},
                json_body={
                    "commands": [{"command": "menu", "description": "Menu"}],
                    "scope": scope,
                },
            )
        )

    assert scoped({"type": "chat", "chat_id": CHAT}) == []
    assert any("type 'everyone' not in" in v for v in scoped({"type": "everyone"}))
    assert any(
        "unknown field 'user_id'" in v for v in scoped({"type": "chat", "chat_id": 1, "user_id": 2})
    )
    assert any("'chat_id' missing" in v for v in scoped({"type": "chat_administrators"}))


@pytest.mark.parametrize(
    ("params", "why"),
    [
        ({"secret_token": "with space"}, "unallowed characters"),
        ({"secret_token": "x" * 257}, "unallowed characters"),
        ({"secret_token": ""}, "unallowed characters"),
        ({"max_connections": 0}, "between 1 and 100"),
        ({"max_connections": 101}, "between 1 and 100"),
        ({"max_connections": True}, "between 1 and 100"),
    ],
)
def test_a_webhook_off_its_limits_is_refused(
    tg: FlaskClient, params: dict[str, Any], why: str
) -> None:
    assert why in refusal(tg, "setWebhook", url="https://boutik.example.gn/hook", **params)


def test_a_webhook_at_its_limits_is_set(tg: FlaskClient) -> None:
    for params in (
        {"secret_token": "A-z_9" * 51 + "x", "max_connections": 100},
        {"max_connections": 1},
    ):
        assert call(tg, "setWebhook", url="https://boutik.example.gn/hook", **params)[0] == 200


def test_the_emulator_limits_are_the_descriptions_own() -> None:
    from devtools.emulators import telegram_limits as limits

    telegram = contracts.facts()["telegram"]
    assert telegram["methods"]["sendMessage"]["fields"]["text"]["limits"] == limits.TEXT
    assert (limits.TEXT["max"], limits.CAPTION["max"], limits.CALLBACK_DATA["max"]) == (
        4096,
        1024,
        64,
    )
    assert limits.CALLBACK_DATA["unit"] == "bytes"
    assert (limits.CALLBACK_ANSWER["max"], limits.COMMANDS_MAX) == (200, 100)
    assert (limits.MAX_CONNECTIONS["min"], limits.MAX_CONNECTIONS["max"]) == (1, 100)
    assert "callback_data" in limits.INLINE_ACTIONS and "style" not in limits.INLINE_ACTIONS


def test_the_request_checker_measures_text_after_entities_parsing_too() -> None:
    def sent(**params: Any) -> list[str]:
        return contracts.telegram_violations(
            contracts.RawRequest("POST", f"{BOT}/sendMessage", {}, json_body=params)
        )

    bold = "<b>" + "x" * 4096 + "</b>"
    assert sent(chat_id=CHAT, text=bold, parse_mode="HTML") == []
    assert any("4103 characters" in v for v in sent(chat_id=CHAT, text=bold))  # no parse_mode
    assert any("0 characters" in v for v in sent(chat_id=CHAT, text="<b></b>", parse_mode="HTML"))


def test_each_chat_scope_keeps_its_own_command_list(tg: FlaskClient) -> None:
    """Two admins' chats are two menus at Telegram: setting one must not overwrite the other."""
    for chat, name in ((4242, "codes"), (4343, "export")):
        scope = {"type": "chat", "chat_id": chat}
        status, _ = call(
            tg, "setMyCommands", commands=[{"command": name, "description": "x"}], scope=scope
        )
        assert status == 200
    for chat, name in ((4242, "codes"), (4343, "export")):
        _, body = call(tg, "getMyCommands", scope={"type": "chat", "chat_id": chat})
        assert [c["command"] for c in body["result"]] == [name]
    _, body = call(tg, "getMyCommands")
    assert body["result"] == []
