"""The limits the Bot API description states, as the Telegram emulator enforces them.

Why here and from the facts: every number and character set (text 1-4096 characters after
entities parsing, caption 0-1024, callback_data 1-64 bytes, a callback answer 0-200, a command
1-32 of a-z 0-9 _, a secret token 1-256 of A-Z a-z 0-9 _ -, max_connections 1-100, at most 100
commands, exactly one action per inline button) is read from `provider_facts.json`, which is
derived from the description itself: the emulator and the contract checker cannot drift apart,
and a new Bot API version moves both. Each function answers the Bad Request description
Telegram gives (without the "Bad Request: " prefix), or None when the value is accepted.
"""

from __future__ import annotations

from typing import Any

from devtools.contracts.telegram_text import visible_text
from devtools.contracts.telegram_types import (
    field_limits,
    limit_violation,
    object_violations,
    type_fact,
)

TEXT = field_limits("sendMessage", "text")
CAPTION = field_limits("sendPhoto", "caption")
CALLBACK_DATA = field_limits("InlineKeyboardButton", "callback_data")
CALLBACK_ANSWER = field_limits("answerCallbackQuery", "text")
COMMAND = field_limits("BotCommand", "command")
COMMAND_DESCRIPTION = field_limits("BotCommand", "description")
COMMANDS_MAX = int(field_limits("setMyCommands", "commands")["max_items"])
SECRET_TOKEN = field_limits("setWebhook", "secret_token")
MAX_CONNECTIONS = field_limits("setWebhook", "max_connections")
INLINE_ACTIONS: tuple[str, ...] = tuple((type_fact("InlineKeyboardButton") or {})["exactly_one_of"])
KEYBOARD_REQUESTS: tuple[str, ...] = tuple((type_fact("KeyboardButton") or {})["at_most_one_of"])


def _within(limits: Any, value: Any) -> bool:
    return limit_violation("", limits, value) is None


# ---------------------------------------------------------------------- text


def text_refusal(text: Any, parse_mode: Any) -> str | None:
    """A message text: 1-4096 characters after entities parsing (blank counts as empty)."""
    visible = visible_text(text, parse_mode) if isinstance(text, str) else ""
    if not visible.strip():
        return "message text is empty"
    if not _within(TEXT, visible):
        return "message is too long"
    return None


def caption_refusal(caption: str, parse_mode: Any) -> str | None:
    """A caption: 0-1024 characters after entities parsing."""
    if not _within(CAPTION, visible_text(caption, parse_mode)):
        return "message caption is too long"
    return None


def callback_answer_refusal(text: Any) -> str | None:
    """answerCallbackQuery's text: 0-200 characters."""
    if text is not None and (not isinstance(text, str) or not _within(CALLBACK_ANSWER, text)):
        return "MESSAGE_TOO_LONG"
    return None


# ---------------------------------------------------------------------- keyboards


def inline_button_refusal(button: Any) -> str | None:
    """An InlineKeyboardButton: a String text, exactly one action, callback_data of 1-64 bytes."""
    if not isinstance(button, dict) or not isinstance(button.get("text"), str):
        return 'can\'t parse inline keyboard button: Field "text" must be a String'
    actions = [key for key in INLINE_ACTIONS if key in button]
    if len(actions) != 1:
        return (
            "can't parse inline keyboard button: Text buttons are unallowed in the inline keyboard"
        )
    if "callback_data" in button:
        data = button["callback_data"]
        if not isinstance(data, str) or not _within(CALLBACK_DATA, data):
            return "BUTTON_DATA_INVALID"
    return None


def keyboard_button_refusal(button: dict[str, Any]) -> str | None:
    """A KeyboardButton: at most one of its request_* (or web_app) fields."""
    used = [key for key in KEYBOARD_REQUESTS if button.get(key)]
    if len(used) > 1:
        return f"can't parse keyboard button: only one of {', '.join(used)} can be used"
    return None


# ---------------------------------------------------------------------- commands and webhook


def command_refusal(command: Any) -> str | None:
    """A BotCommand: command 1-32 of a-z 0-9 _, description 1-256 characters."""
    if not isinstance(command, dict) or not isinstance(command.get("command"), str):
        return "BOT_COMMAND_INVALID"
    if not _within(COMMAND, command["command"]):
        return "BOT_COMMAND_INVALID"
    description = command.get("description")
    if not isinstance(description, str) or not _within(COMMAND_DESCRIPTION, description):
        return "BOT_COMMAND_DESCRIPTION_INVALID"
    return None


def scope_refusal(scope: Any) -> str | None:
    """A BotCommandScope: one of the concrete types the description lists, by its `type`,
    with that type's required fields (BotCommandScopeChat needs chat_id…)."""
    if scope is None:
        return None  # BotCommandScopeDefault
    found = [v for v in object_violations("scope", "BotCommandScope", scope) if v.kind != "unknown"]
    return f"can't parse BotCommandScope: {found[0]}" if found else None


def secret_token_refusal(secret: Any) -> str | None:
    """setWebhook's secret_token: 1-256 characters of A-Z a-z 0-9 _ -."""
    if secret is not None and not (isinstance(secret, str) and _within(SECRET_TOKEN, secret)):
        return "secret token contains unallowed characters"
    return None


def max_connections_refusal(value: Any) -> str | None:
    """setWebhook's max_connections: 1-100."""
    if not isinstance(value, int) or isinstance(value, bool) or not _within(MAX_CONNECTIONS, value):
        return "bad webhook: max_connections must be between 1 and 100"
    return None
