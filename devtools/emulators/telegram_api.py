"""A local stand-in for the Telegram Bot API, as a Flask blueprint.

Why: the seller side talks to Telegram through python-telegram-bot, and its real failure modes —
callback_data over 64 bytes, a message over 4 096 characters, a bad MarkdownV2 escape, a user who
blocked the bot, flood control — only show up against a server that refuses like Telegram does.
This one speaks the Bot API wire format (``/bot<token>/<method>``, form/JSON/multipart in,
``{"ok": …}`` out) so the real PTB client is exercised, and records every call for assertions.
Production never mounts it.
"""

from __future__ import annotations

import hmac
import io
import json
import math
import re
import time
import uuid
from collections.abc import Callable
from datetime import UTC, datetime
from html.parser import HTMLParser
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

from flask import Blueprint, Response, jsonify, request

from devtools.emulators import telegram_limits as limits
from devtools.emulators.store import EmulatorStore, TelegramCall, UploadedFile

# The Bot API description's own limits are in `telegram_limits` (read from the facts); these
# are the upload sizes it states in prose only.
PHOTO_MAX_BYTES = 10 * 1024 * 1024
DOCUMENT_MAX_BYTES = 50 * 1024 * 1024
GET_FILE_MAX_BYTES = 20 * 1024 * 1024

_INT = re.compile(r"^-?\d+$")
_JSON_FIELDS = frozenset(
    {
        "reply_markup",
        "commands",
        "allowed_updates",
        "entities",
        "caption_entities",
        "link_preview_options",
        "reply_parameters",
        "scope",
    }
)
_INT_FIELDS = frozenset({"chat_id", "message_id", "max_connections", "cache_time"})
_BOOL_FIELDS = frozenset(
    {"disable_notification", "protect_content", "show_alert", "drop_pending_updates"}
)
_HTML_TAGS = frozenset(
    {
        "b",
        "strong",
        "i",
        "em",
        "u",
        "ins",
        "s",
        "strike",
        "del",
        "span",
        "tg-spoiler",
        "a",
        "code",
        "pre",
        "blockquote",
        "tg-emoji",
    }
)
_MDV2_RESERVED = frozenset("#+-={}.!()>")
_CHAT_ACTIONS = frozenset(
    {
        "typing",
        "upload_photo",
        "record_video",
        "upload_video",
        "record_voice",
        "upload_voice",
        "upload_document",
        "choose_sticker",
        "find_location",
        "record_video_note",
        "upload_video_note",
    }
)
_NOT_MODIFIED = (
    "Bad Request: message is not modified: specified new message content and reply markup are "
    "exactly the same as a current content and reply markup of the message"
)


class TelegramApiError(Exception):
    """A Bot API refusal: HTTP status = ``error_code``, plus Telegram's description."""

    def __init__(
        self, error_code: int, description: str, parameters: dict[str, Any] | None = None
    ) -> None:
        super().__init__(description)
        self.error_code = error_code
        self.description = description
        self.parameters = parameters


def _bad(description: str) -> TelegramApiError:
    return TelegramApiError(400, f"Bad Request: {description}")


def _entities_error(detail: str) -> TelegramApiError:
    return _bad(f"can't parse entities: {detail}")


# ---------------------------------------------------------------------- formatting checks


class _HtmlChecker(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag not in _HTML_TAGS:
            raise _entities_error(f'Unsupported start tag "{tag}"')
        self.stack.append(tag)

    def handle_endtag(self, tag: str) -> None:
        if not self.stack or self.stack[-1] != tag:
            raise _entities_error(f'Unmatched end tag "{tag}"')
        self.stack.pop()


def _check_html(text: str) -> None:
    checker = _HtmlChecker()
    checker.feed(text)
    checker.close()
    if checker.stack:
        raise _entities_error(
            f'Can\'t find end tag corresponding to start tag "{checker.stack[-1]}"'
        )


def _find_unescaped(text: str, needle: str, start: int) -> int:
    i = start
    while i < len(text):
        if text[i] == "\\":
            i += 2
            continue
        if text.startswith(needle, i):
            return i
        i += 1
    return -1


def _check_markdown_v2(text: str) -> None:
    """The rule that bites most: reserved characters outside entities must be escaped."""
    i = 0
    while i < len(text):
        ch = text[i]
        if ch == "\\":
            i += 2
            continue
        if ch == "`":
            fence = "```" if text.startswith("```", i) else "`"
            end = _find_unescaped(text, fence, i + len(fence))
            if end < 0:
                kind = "Pre" if fence == "```" else "Code"
                raise _entities_error(f"Can't find end of {kind} entity at byte offset {i}")
            i = end + len(fence)
            continue
        if ch == "]" and text.startswith("](", i):
            end = _find_unescaped(text, ")", i + 2)
            if end < 0:
                raise _entities_error(f"Can't find end of a URL at byte offset {i}")
            i = end + 1
            continue
        if ch == ">" and (i == 0 or text[i - 1] == "\n"):
            i += 1
            continue
        if ch in _MDV2_RESERVED:
            raise _entities_error(
                f"Character '{ch}' is reserved and must be escaped with the preceding '\\'"
            )
        i += 1


def _check_markdown_legacy(text: str) -> None:
    """Legacy Markdown fails on any unpaired ``*``, ``_``, `````` ` `````` or ``[``."""
    i = 0
    while i < len(text):
        ch = text[i]
        offset = len(text[:i].encode("utf-8"))
        if ch == "\\" and i + 1 < len(text) and text[i + 1] in "_*`[":
            i += 2
            continue
        if ch in "*_`":
            fence = "```" if text.startswith("```", i) else ch
            end = text.find(fence, i + len(fence))
            if end < 0:
                raise _entities_error(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            i = end + len(fence)
            continue
        if ch == "[":
            end = text.find("]", i + 1)
            if end < 0:
                raise _entities_error(
                    f"Can't find end of the entity starting at byte offset {offset}"
                )
            if text.startswith("(", end + 1):
                close = text.find(")", end + 2)
                if close < 0:
                    raise _entities_error(f"Can't find end of a URL at byte offset {offset}")
                end = close
            i = end + 1
            continue
        i += 1


def check_formatting(text: str, parse_mode: Any) -> None:
    """Refuse ``text`` as Telegram would for ``parse_mode`` (None: plain text, always fine)."""
    if parse_mode in (None, ""):
        return
    if not isinstance(parse_mode, str):
        raise _bad("unsupported parse_mode")
    mode = parse_mode.lower()
    if mode == "html":
        _check_html(text)
    elif mode == "markdownv2":
        _check_markdown_v2(text)
    elif mode == "markdown":
        _check_markdown_legacy(text)
    else:
        raise _bad("unsupported parse_mode")


# ---------------------------------------------------------------------- markup checks


def _check_inline_keyboard(rows: Any) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "inline_keyboard" of the InlineKeyboardMarkup should be an Array')
    if sum(len(row) for row in rows) > 100:
        raise _bad("reply markup is too long")
    for row in rows:
        for button in row:
            if (refusal := limits.inline_button_refusal(button)) is not None:
                raise _bad(refusal)
            if "url" in button:
                url = button["url"]
                if not isinstance(url, str) or not url.startswith(("http://", "https://", "tg://")):
                    raise _bad(f"inline keyboard button URL '{url}' is invalid: Wrong HTTP URL")


def _check_reply_keyboard(rows: Any, chat_id: int | str) -> None:
    if not isinstance(rows, list) or not all(isinstance(row, list) for row in rows):
        raise _bad('field "keyboard" of the ReplyKeyboardMarkup should be an Array')
    private = not str(chat_id).startswith("-")
    for row in rows:
        for button in row:
            if isinstance(button, str):
                button = {"text": button}
            if not isinstance(button, dict) or not button.get("text"):
                raise _bad("keyboard button text must be non-empty")
            if (refusal := limits.keyboard_button_refusal(button)) is not None:
                raise _bad(refusal)
            if button.get("request_contact") and not private:
                raise _bad("phone number can be requested in private chats only")
            if button.get("request_location") and not private:
                raise _bad("location can be requested in private chats only")


def check_reply_markup(markup: Any, chat_id: int | str) -> dict[str, Any] | None:
    """Validate a reply_markup; return it as a dict (None when absent)."""
    if markup is None:
        return None
    if not isinstance(markup, dict):
        raise _bad("can't parse reply keyboard markup JSON object")
    if "inline_keyboard" in markup:
        _check_inline_keyboard(markup["inline_keyboard"])
    elif "keyboard" in markup:
        _check_reply_keyboard(markup["keyboard"], chat_id)
    elif not (markup.get("remove_keyboard") or markup.get("force_reply")):
        raise _bad("can't parse reply keyboard markup JSON object")
    return markup


# ---------------------------------------------------------------------- request decoding


def _decode(name: str, value: Any) -> Any:
    if not isinstance(value, str):
        return value
    if name in _JSON_FIELDS:
        try:
            return json.loads(value)
        except json.JSONDecodeError:
            if name == "reply_markup":
                raise _bad("can't parse reply keyboard markup JSON object") from None
            raise _bad(f"can't parse {name} JSON object") from None
    if name in _INT_FIELDS and _INT.match(value):
        return int(value)
    if name in _BOOL_FIELDS:
        return value.lower() in ("true", "1")
    return value


def _read_request() -> tuple[dict[str, Any], dict[str, UploadedFile]]:
    raw: dict[str, Any] = dict(request.args.to_dict())
    if request.is_json:
        body = request.get_json(silent=True)
        if not isinstance(body, dict):
            raise _bad("can't parse JSON object")
        raw.update(body)
    else:
        raw.update(request.form.to_dict())
    files = {
        name: UploadedFile(
            filename=storage.filename or name,
            content_type=storage.mimetype or "application/octet-stream",
            data=storage.read(),
        )
        for name, storage in request.files.items()
    }
    params: dict[str, Any] = {}
    for name, value in raw.items():
        params[name] = _decode(name, value)
    return params, files


def _image_size(data: bytes) -> tuple[int, int]:
    """Width and height, or IMAGE_PROCESS_FAILED as Telegram answers for non-images."""
    try:
        from PIL import Image  # Pillow is a project dependency; imported lazily
    except ImportError:  # pragma: no cover - without Pillow, trust the caller
        return 1280, 720
    try:
        with Image.open(io.BytesIO(data)) as image:
            return image.size
    except Exception:  # any decoder failure means "not an image"
        raise _bad("IMAGE_PROCESS_FAILED") from None


def _unique() -> str:
    return uuid.uuid4().hex


def make_telegram_blueprint(
    store: EmulatorStore,
    *,
    token: str,
    bot_username: str = "boutik_bot",
    bot_first_name: str = "Boutik",
) -> Blueprint:
    """The Bot API at ``/bot<token>/<method>`` and files at ``/file/bot<token>/<path>``."""
    bp = Blueprint("telegram_emulator", __name__)
    prefix = token.split(":", 1)[0]
    bot_id = int(prefix) if prefix.isdigit() else 1
    bot_user = {
        "id": bot_id,
        "is_bot": True,
        "first_name": bot_first_name,
        "username": bot_username,
    }

    def token_ok(given: str) -> bool:
        return hmac.compare_digest(given.encode(), token.encode())

    def chat_json(chat_id: int | str) -> dict[str, Any]:
        text = str(chat_id)
        if not text.startswith("-"):
            return {"id": chat_id, "type": "private"}
        kind = "supergroup" if text.startswith("-100") else "group"
        return {"id": chat_id, "type": kind, "title": "Group"}

    def require_chat(params: dict[str, Any]) -> int | str:
        chat_id = params.get("chat_id")
        if chat_id in (None, ""):
            raise _bad("chat_id is empty")
        if store.is_chat_blocked(chat_id):
            raise TelegramApiError(403, "Forbidden: bot was blocked by the user")
        return chat_id

    def check_caption(params: dict[str, Any]) -> str | None:
        caption = params.get("caption")
        if caption is None or caption == "":
            return None
        if not isinstance(caption, str):
            raise _bad("message caption is too long")
        check_formatting(caption, params.get("parse_mode"))
        if (refusal := limits.caption_refusal(caption, params.get("parse_mode"))) is not None:
            raise _bad(refusal)
        return caption

    def check_text(params: dict[str, Any]) -> str:
        text = params.get("text")
        if not isinstance(text, str) or not text.strip():
            raise _bad("message text is empty")
        check_formatting(text, params.get("parse_mode"))  # the limit is after entities parsing
        if (refusal := limits.text_refusal(text, params.get("parse_mode"))) is not None:
            raise _bad(refusal)
        return text

    def new_message(
        chat_id: int | str, markup: dict[str, Any] | None, **content: Any
    ) -> dict[str, Any]:
        message: dict[str, Any] = {
            "message_id": store.next_message_id(chat_id),
            "from": bot_user,
            "chat": chat_json(chat_id),
            "date": int(time.time()),
            **{k: v for k, v in content.items() if v is not None},
        }
        # Telegram echoes only inline keyboards: reply keyboards are not part of a Message.
        if markup and "inline_keyboard" in markup:
            message["reply_markup"] = {"inline_keyboard": markup["inline_keyboard"]}
        store.save_telegram_message(message)
        return message

    def input_file(
        params: dict[str, Any], files: dict[str, UploadedFile], name: str
    ) -> UploadedFile | str | None:
        if name in files:
            return files[name]
        value = params.get(name)
        if isinstance(value, str) and value.startswith("attach://"):
            return files.get(value.removeprefix("attach://"))
        return value if isinstance(value, str) and value else None

    def existing_or_url(value: str) -> tuple[str, str, int]:
        """(file_id, file_unique_id, size) for a URL or an already known file_id."""
        if value.startswith(("http://", "https://")):
            return "AgAD" + _unique(), _unique()[:16], 0
        record = store.telegram_file(value)
        if record is None:
            raise _bad("wrong file identifier/HTTP URL specified")
        return record.file_id, record.file_unique_id, len(record.data)

    # ------------------------------------------------------------------ methods

    def get_me(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        return {
            **bot_user,
            "can_join_groups": True,
            "can_read_all_group_messages": False,
            "supports_inline_queries": False,
        }

    def send_message(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = require_chat(params)
        text = check_text(params)
        markup = check_reply_markup(params.get("reply_markup"), chat_id)
        return new_message(chat_id, markup, text=text)

    def send_photo(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = require_chat(params)
        photo = input_file(params, files, "photo")
        if photo is None:
            raise _bad("there is no photo in the request")
        caption = check_caption(params)
        markup = check_reply_markup(params.get("reply_markup"), chat_id)
        if isinstance(photo, UploadedFile):
            if len(photo.data) > PHOTO_MAX_BYTES:
                raise _bad("PHOTO_SAVE_FILE_INVALID")
            width, height = _image_size(photo.data)
            file_id = "AgAC" + _unique()
            record = store.add_file(
                file_id, photo.data, file_path=f"photos/file_{_unique()[:8]}.jpg"
            )
            size_info = (record.file_id, record.file_unique_id, len(photo.data))
        else:
            size_info = existing_or_url(photo)
            width, height = 1280, 720
        sizes = [
            {
                "file_id": size_info[0],
                "file_unique_id": size_info[1],
                "width": width,
                "height": height,
                "file_size": size_info[2],
            }
        ]
        return new_message(chat_id, markup, photo=sizes, caption=caption)

    def send_document(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        chat_id = require_chat(params)
        document = input_file(params, files, "document")
        if document is None:
            raise _bad("there is no document in the request")
        caption = check_caption(params)
        markup = check_reply_markup(params.get("reply_markup"), chat_id)
        if isinstance(document, UploadedFile):
            if len(document.data) > DOCUMENT_MAX_BYTES:
                raise TelegramApiError(413, "Request Entity Too Large")
            record = store.add_file(
                "BQAC" + _unique(), document.data, file_path=f"documents/{document.filename}"
            )
            info = {
                "file_id": record.file_id,
                "file_unique_id": record.file_unique_id,
                "file_name": document.filename,
                "mime_type": document.content_type,
                "file_size": len(document.data),
            }
        else:
            file_id, unique, size = existing_or_url(document)
            info = {"file_id": file_id, "file_unique_id": unique, "file_size": size}
        return new_message(chat_id, markup, document=info, caption=caption)

    def send_chat_action(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        require_chat(params)
        if params.get("action") not in _CHAT_ACTIONS:
            raise _bad("wrong parameter action in request")
        return True

    def answer_callback_query(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if not params.get("callback_query_id"):
            raise _bad("query is too old and response timeout expired or query ID is invalid")
        if (refusal := limits.callback_answer_refusal(params.get("text"))) is not None:
            raise _bad(refusal)
        return True

    def existing_message(params: dict[str, Any], verb: str) -> dict[str, Any]:
        chat_id = require_chat(params)
        message_id = params.get("message_id")
        if not isinstance(message_id, int):
            raise _bad("message identifier is not specified")
        message = store.telegram_message(chat_id, message_id)
        if message is None:
            raise _bad(f"message to {verb} not found")
        return message

    def inline_only(params: dict[str, Any], chat_id: int | str) -> dict[str, Any] | None:
        markup = check_reply_markup(params.get("reply_markup"), chat_id)
        if markup is not None and "inline_keyboard" not in markup:
            raise _bad("inline keyboard expected")
        return markup

    def edit_message_text(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            check_text(params)
            return True
        message = existing_message(params, "edit")
        text = check_text(params)
        markup = inline_only(params, params["chat_id"])
        if "text" not in message:
            raise _bad("there is no text in the message to edit")
        new_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if message["text"] == text and message.get("reply_markup") == new_markup:
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message["text"] = text
        message["edit_date"] = int(time.time())
        if new_markup:
            message["reply_markup"] = new_markup
        else:
            message.pop("reply_markup", None)
        store.save_telegram_message(message)
        return message

    def edit_message_reply_markup(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        if params.get("inline_message_id"):
            return True
        message = existing_message(params, "edit")
        markup = inline_only(params, params["chat_id"])
        new_markup = {"inline_keyboard": markup["inline_keyboard"]} if markup else None
        if message.get("reply_markup") == new_markup:
            raise _bad(_NOT_MODIFIED.removeprefix("Bad Request: "))
        message["edit_date"] = int(time.time())
        if new_markup:
            message["reply_markup"] = new_markup
        else:
            message.pop("reply_markup", None)
        store.save_telegram_message(message)
        return message

    def delete_message(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        message = existing_message(params, "delete")
        store.delete_telegram_message(message["chat"]["id"], message["message_id"])
        return True

    def set_webhook(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        url = params.get("url", "")
        if not isinstance(url, str):
            raise _bad("bad webhook: invalid URL")
        if url == "":
            store.set_telegram_webhook(None)
            return True
        parts = urlsplit(url)
        if parts.scheme not in ("http", "https") or not parts.hostname:
            raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
        if store.strict_webhook_url:
            if parts.scheme != "https":
                raise _bad("bad webhook: An HTTPS URL must be provided for webhook")
            if (parts.port or 443) not in (443, 80, 88, 8443):
                raise _bad("bad webhook: Webhook can be set up only on ports 80, 88, 443 or 8443")
        secret = params.get("secret_token")
        if (refusal := limits.secret_token_refusal(secret)) is not None:
            raise _bad(refusal)
        max_connections = params.get("max_connections", 40)
        if (refusal := limits.max_connections_refusal(max_connections)) is not None:
            raise _bad(refusal)
        store.set_telegram_webhook(
            {
                "url": url,
                "secret_token": secret,
                "max_connections": max_connections,
                "allowed_updates": params.get("allowed_updates"),
                "drop_pending_updates": bool(params.get("drop_pending_updates", False)),
            }
        )
        return True

    def delete_webhook(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        store.set_telegram_webhook(None)
        return True

    def get_webhook_info(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        webhook = store.telegram_webhook
        info: dict[str, Any] = {
            "url": webhook["url"] if webhook else "",
            "has_custom_certificate": False,
            "pending_update_count": 0,
        }
        info.update(store.telegram_webhook_status())  # backlog and last error, when set
        if webhook:
            info["max_connections"] = webhook["max_connections"]
            if webhook.get("allowed_updates") is not None:
                info["allowed_updates"] = webhook["allowed_updates"]
        return info

    def scope_key(params: dict[str, Any]) -> tuple[str, str]:
        if (refusal := limits.scope_refusal(params.get("scope"))) is not None:
            raise _bad(refusal)
        scope = params.get("scope") or {"type": "default"}
        if isinstance(scope, str):
            scope = json.loads(scope)
        # Each chat (and chat member) scope holds its own list, as at Telegram: two admins'
        # chats are two menus, "chat:4242" and "chat:4343".
        kind = ":".join(
            [str(scope["type"])]
            + [str(scope[k]) for k in ("chat_id", "user_id") if scope.get(k) is not None]
        )
        language = params.get("language_code") or ""
        if language and not re.fullmatch(r"[a-z]{2}", language):
            raise _bad("LANG_CODE_INVALID")
        return kind, language

    def set_my_commands(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        commands = params.get("commands")
        if not isinstance(commands, list) or len(commands) > limits.COMMANDS_MAX:
            raise _bad(f"commands must be an array of at most {limits.COMMANDS_MAX} BotCommand")
        for command in commands:
            if (refusal := limits.command_refusal(command)) is not None:
                raise _bad(refusal)
        kind, language = scope_key(params)
        store.set_telegram_commands(
            kind,
            language,
            [{"command": c["command"], "description": c["description"]} for c in commands],
        )
        return True

    def get_my_commands(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        kind, language = scope_key(params)
        return store.telegram_commands(kind, language) or []

    def delete_my_commands(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        kind, language = scope_key(params)
        store.set_telegram_commands(kind, language, [])
        return True

    def get_file(params: dict[str, Any], files: dict[str, UploadedFile]) -> Any:
        file_id = params.get("file_id")
        record = store.telegram_file(file_id) if isinstance(file_id, str) else None
        if record is None:
            raise _bad("invalid file_id")
        if len(record.data) > GET_FILE_MAX_BYTES:
            raise _bad("file is too big")
        return {
            "file_id": record.file_id,
            "file_unique_id": record.file_unique_id,
            "file_size": len(record.data),
            "file_path": record.file_path,
        }

    handlers: dict[str, Callable[[dict[str, Any], dict[str, UploadedFile]], Any]] = {
        "getme": get_me,
        "sendmessage": send_message,
        "sendphoto": send_photo,
        "senddocument": send_document,
        "sendchataction": send_chat_action,
        "answercallbackquery": answer_callback_query,
        "editmessagetext": edit_message_text,
        "editmessagereplymarkup": edit_message_reply_markup,
        "deletemessage": delete_message,
        "setwebhook": set_webhook,
        "deletewebhook": delete_webhook,
        "getwebhookinfo": get_webhook_info,
        "setmycommands": set_my_commands,
        "getmycommands": get_my_commands,
        "deletemycommands": delete_my_commands,
        "getfile": get_file,
    }
    descriptions = {"setwebhook": "Webhook was set", "deletewebhook": "Webhook was deleted"}

    def error_response(exc: TelegramApiError) -> Response:
        body: dict[str, Any] = {
            "ok": False,
            "error_code": exc.error_code,
            "description": exc.description,
        }
        if exc.parameters:
            body["parameters"] = exc.parameters
        response = jsonify(body)
        response.status_code = exc.error_code
        return response

    def injected_failure() -> TelegramApiError | None:
        failure = store.take_failure("telegram")
        if failure is None:
            return None
        if failure.stall is not None:
            failure.stall.hold()
        if failure.status == 429:
            seconds = math.ceil(failure.retry_after) if failure.retry_after is not None else 1
            return TelegramApiError(
                429,
                failure.description or f"Too Many Requests: retry after {seconds}",
                {"retry_after": seconds},
            )
        try:
            phrase = HTTPStatus(failure.status).phrase
        except ValueError:
            phrase = "Error"
        return TelegramApiError(failure.status, failure.description or phrase)

    @bp.route("/bot<given_token>/<method>", methods=["GET", "POST"])
    def call(given_token: str, method: str) -> Response:
        if not token_ok(given_token):
            return error_response(TelegramApiError(401, "Unauthorized"))
        params: dict[str, Any] = {}
        files: dict[str, UploadedFile] = {}
        outcome: Any = None
        failure: TelegramApiError | None = None
        try:
            params, files = _read_request()
            handler = handlers.get(method.lower())
            if handler is None:
                raise TelegramApiError(404, "Not Found")
            failure = injected_failure()
            if failure is None:
                outcome = handler(params, files)
        except TelegramApiError as exc:
            failure = exc
        store.record_telegram_call(
            TelegramCall(
                method=method,
                chat_id=params.get("chat_id"),
                params=params,
                files=files,
                ok=failure is None,
                error_code=failure.error_code if failure else None,
                description=failure.description if failure else None,
                result=outcome,
                at=datetime.now(UTC),
            )
        )
        if failure is not None:
            return error_response(failure)
        body: dict[str, Any] = {"ok": True, "result": outcome}
        if method.lower() in descriptions:
            body["description"] = descriptions[method.lower()]
        return jsonify(body)

    @bp.get("/file/bot<given_token>/<path:file_path>")
    def download(given_token: str, file_path: str) -> Response:
        if not token_ok(given_token):
            return error_response(TelegramApiError(401, "Unauthorized"))
        record = store.telegram_file_by_path(file_path)
        if record is None:
            return error_response(TelegramApiError(404, "Not Found"))
        return Response(record.data, status=200, content_type="application/octet-stream")

    return bp
