"""Telegram: the Bot API through python-telegram-bot's ``Bot``, run on a private event loop.

The bot token is registered with ``settings.log_redaction``, which masks it in every log record
(httpx logs every URL, and the token is in the URL) and in the errors built here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime as dtm
import logging
import threading
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from telegram import (
    Bot,
    BotCommand,
    BotCommandScopeChat,
    ForceReply,
    InlineKeyboardMarkup,
    KeyboardButton,
    ReplyKeyboardMarkup,
    ReplyKeyboardRemove,
)
from telegram import error as tg_error
from telegram.request import HTTPXRequest

from channels_adapters.senders.result import SendError, SendResult
from channels_adapters.trusted_urls import (
    UntrustedUrl,
    telegram_file_url,
)
from settings import log_redaction

T = TypeVar("T")
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

_log = logging.getLogger(__name__)

TELEGRAM_API_BASE = "https://api.telegram.org/bot"
TELEGRAM_FILE_BASE = "https://api.telegram.org/file/bot"


def telegram_urls(api_base_url: str) -> tuple[str, str]:
    """(base_url, base_file_url) for PTB from a configured base ("" = the real Telegram).

    ``http://host/telegram/bot`` and ``http://host/telegram`` both give
    ``http://host/telegram/bot`` and ``http://host/telegram/file/bot``.
    """
    if not api_base_url:
        return TELEGRAM_API_BASE, TELEGRAM_FILE_BASE
    root = api_base_url.rstrip("/")
    root = root.removesuffix("/bot")
    return f"{root}/bot", f"{root}/file/bot"


def _retry_after_seconds(exc: tg_error.RetryAfter) -> float:
    # PTB ≥ 22.2 keeps a timedelta privately and warns when the public int is read; older
    # versions (and PTB_TIMEDELTA=true) hand out an int or a timedelta publicly.
    value = getattr(exc, "_retry_after", None)
    if not isinstance(value, dtm.timedelta):
        value = exc.retry_after
    if isinstance(value, dtm.timedelta):
        return value.total_seconds()
    return float(value)


def reply_markup_from_dict(
    data: Mapping[str, Any] | None, bot: Bot | None = None
) -> ReplyMarkup | None:
    """Turn a Bot API ``reply_markup`` dict into the PTB object; ValueError if unrecognised.

    ReplyKeyboardMarkup.de_json leaves its buttons as plain dicts, so reply keyboards are built
    button by button.
    """
    if data is None:
        return None
    if "inline_keyboard" in data:
        return InlineKeyboardMarkup.de_json(dict(data), bot)
    if "keyboard" in data:
        rows = [
            [
                KeyboardButton.de_json(dict(button), bot)
                if isinstance(button, Mapping)
                else KeyboardButton(str(button))
                for button in row
            ]
            for row in data["keyboard"]
        ]
        return ReplyKeyboardMarkup(
            rows,
            resize_keyboard=data.get("resize_keyboard"),
            one_time_keyboard=data.get("one_time_keyboard"),
            selective=data.get("selective"),
            input_field_placeholder=data.get("input_field_placeholder"),
            is_persistent=data.get("is_persistent"),
        )
    if data.get("remove_keyboard"):
        return ReplyKeyboardRemove(selective=data.get("selective"))
    if data.get("force_reply"):
        return ForceReply(
            selective=data.get("selective"),
            input_field_placeholder=data.get("input_field_placeholder"),
        )
    raise ValueError(
        "reply_markup must have inline_keyboard, keyboard, remove_keyboard or force_reply"
    )


class TelegramSender:
    """Calls the Bot API through ``telegram.Bot`` from synchronous code; thread-safe.

    PTB 22 is asyncio-only. One daemon thread runs one event loop holding one initialized
    ``Bot`` (one getMe in its life, one pooled httpx client); callers on any thread submit
    coroutines to it and wait. Creating a Bot and an event loop per send would cost a getMe and
    a TLS handshake each time and leak connections.
    """

    def __init__(
        self,
        token: str,
        api_base_url: str = "",
        *,
        timeout: float = 30.0,
        connection_pool_size: int = 32,
    ) -> None:
        if not token:
            raise ValueError("TelegramSender needs a bot token")
        self._token = token
        log_redaction.add_secret(token, "bot-token")  # httpx logs every URL: the token is in it
        self._base_url, self._file_url = telegram_urls(api_base_url)
        self._timeout = timeout
        self._pool_size = connection_pool_size
        self._lock = threading.Lock()
        self._loop: asyncio.AbstractEventLoop | None = None
        self._thread: threading.Thread | None = None
        # Touched only on the loop thread:
        self._bot: Bot | None = None
        self._bot_ready = False
        self._init_lock: asyncio.Lock | None = None

    def __repr__(self) -> str:
        return f"TelegramSender(base_url={log_redaction.redact(self._base_url)!r})"

    def __enter__(self) -> TelegramSender:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    # ------------------------------------------------------------------ machinery

    def _ensure_loop(self) -> asyncio.AbstractEventLoop:
        with self._lock:
            if self._loop is None:
                loop = asyncio.new_event_loop()
                started = threading.Event()

                def run() -> None:
                    asyncio.set_event_loop(loop)
                    loop.call_soon(started.set)
                    loop.run_forever()

                thread = threading.Thread(target=run, name="telegram-sender", daemon=True)
                thread.start()
                started.wait()
                self._loop, self._thread = loop, thread
            return self._loop

    async def _get_bot(self) -> Bot:
        if self._init_lock is None:
            self._init_lock = asyncio.Lock()
        async with self._init_lock:
            if self._bot is None:
                self._bot = Bot(
                    self._token,
                    base_url=self._base_url,
                    base_file_url=self._file_url,
                    request=HTTPXRequest(
                        connection_pool_size=self._pool_size,
                        read_timeout=10.0,
                        pool_timeout=5.0,
                    ),
                    get_updates_request=HTTPXRequest(connection_pool_size=1),
                )
            if not self._bot_ready:
                await self._bot.initialize()  # the one getMe; retried on the next call if it fails
                self._bot_ready = True
            return self._bot

    def _call(self, action: Callable[[Bot], Awaitable[T]]) -> T:
        loop = self._ensure_loop()

        async def run() -> T:
            return await action(await self._get_bot())

        future = asyncio.run_coroutine_threadsafe(run(), loop)
        try:
            return future.result(self._timeout)
        except concurrent.futures.TimeoutError:
            future.cancel()
            raise SendError(True, "timeout", "Telegram call did not finish in time") from None
        except tg_error.TelegramError as exc:
            # `from None`: PTB messages can contain the token (InvalidToken at initialize).
            raise self._send_error(exc) from None

    def _send_error(self, exc: tg_error.TelegramError) -> SendError:
        reason = log_redaction.redact(f"{type(exc).__name__}: {exc.message}")
        if isinstance(exc, tg_error.RetryAfter):
            return SendError(True, "429", reason, retry_after=_retry_after_seconds(exc))
        if isinstance(exc, tg_error.Forbidden):
            return SendError(False, "403", reason, blocked=True)
        if isinstance(exc, tg_error.InvalidToken):
            return SendError(False, "401", reason)
        if isinstance(exc, tg_error.BadRequest):  # a NetworkError subclass: test it first
            return SendError(False, "400", reason)
        if isinstance(exc, tg_error.TimedOut):
            return SendError(True, "timeout", reason)
        if isinstance(exc, tg_error.ChatMigrated):
            return SendError(False, "migrated", reason)
        if isinstance(exc, tg_error.Conflict):
            return SendError(False, "409", reason)
        if isinstance(exc, tg_error.EndPointNotFound):
            return SendError(False, "404", reason)
        if isinstance(exc, tg_error.NetworkError):
            return SendError(True, "network", reason)
        return SendError(False, "telegram", reason)

    def close(self) -> None:
        """Shut the Bot's HTTP pool and the loop thread down (a later call starts them again)."""
        with self._lock:
            loop, thread = self._loop, self._thread
            self._loop = self._thread = None
        if loop is None:
            return

        async def shutdown() -> None:
            if self._bot is not None and self._bot_ready:
                await self._bot.shutdown()
            self._bot = None
            self._bot_ready = False
            self._init_lock = None

        try:
            asyncio.run_coroutine_threadsafe(shutdown(), loop).result(10)
        except Exception:  # closing must not fail the caller
            _log.warning("Telegram bot shutdown did not complete cleanly")
        loop.call_soon_threadsafe(loop.stop)
        if thread is not None:
            thread.join(10)
        loop.close()

    # ------------------------------------------------------------------ API

    def send_message(
        self,
        chat_id: int | str,
        text: str,
        *,
        reply_markup: Mapping[str, Any] | None = None,
        parse_mode: str | None = None,
    ) -> SendResult:
        message = self._call(
            lambda bot: bot.send_message(
                chat_id=chat_id,
                text=text,
                parse_mode=parse_mode,
                reply_markup=reply_markup_from_dict(reply_markup, bot),
            )
        )
        return SendResult(str(message.message_id))

    def send_photo(
        self,
        chat_id: int | str,
        photo: bytes | str,
        *,
        caption: str | None = None,
        reply_markup: Mapping[str, Any] | None = None,
        parse_mode: str | None = None,
    ) -> SendResult:
        """``photo`` is the image bytes (uploaded), or a URL / file_id Telegram fetches."""
        message = self._call(
            lambda bot: bot.send_photo(
                chat_id=chat_id,
                photo=photo,
                caption=caption,
                parse_mode=parse_mode,
                reply_markup=reply_markup_from_dict(reply_markup, bot),
            )
        )
        return SendResult(str(message.message_id))

    def send_document(
        self, chat_id: int | str, data: bytes, filename: str, caption: str | None = None
    ) -> SendResult:
        message = self._call(
            lambda bot: bot.send_document(
                chat_id=chat_id, document=data, filename=filename, caption=caption
            )
        )
        return SendResult(str(message.message_id))

    def edit_message_text(
        self,
        chat_id: int | str,
        message_id: int,
        text: str,
        *,
        reply_markup: Mapping[str, Any] | None = None,
        parse_mode: str | None = None,
    ) -> None:
        """Replace a message's text; without ``reply_markup`` Telegram removes its keyboard."""

        async def edit(bot: Bot) -> object:
            markup = reply_markup_from_dict(reply_markup, bot)
            if markup is not None and not isinstance(markup, InlineKeyboardMarkup):
                raise ValueError("edited messages take inline keyboards only")
            return await bot.edit_message_text(
                text=text,
                chat_id=chat_id,
                message_id=message_id,
                parse_mode=parse_mode,
                reply_markup=markup,
            )

        self._call(edit)

    def edit_message_reply_markup(
        self,
        chat_id: int | str,
        message_id: int,
        reply_markup: Mapping[str, Any] | None = None,
    ) -> None:
        """Swap (or, with None, remove) the inline keyboard of a sent message."""

        async def edit(bot: Bot) -> object:
            markup = reply_markup_from_dict(reply_markup, bot)
            if markup is not None and not isinstance(markup, InlineKeyboardMarkup):
                raise ValueError("edited messages take inline keyboards only")
            return await bot.edit_message_reply_markup(
                chat_id=chat_id, message_id=message_id, reply_markup=markup
            )

        self._call(edit)

    def answer_callback_query(
        self, callback_query_id: str, text: str | None = None, *, show_alert: bool = False
    ) -> None:
        self._call(
            lambda bot: bot.answer_callback_query(
                callback_query_id=callback_query_id, text=text, show_alert=show_alert
            )
        )

    def set_webhook(
        self,
        url: str,
        secret_token: str,
        *,
        allowed_updates: list[str] | None = None,
        max_connections: int | None = None,
        drop_pending_updates: bool | None = None,
    ) -> None:
        self._call(
            lambda bot: bot.set_webhook(
                url=url,
                secret_token=secret_token,
                allowed_updates=allowed_updates,
                max_connections=max_connections,
                drop_pending_updates=drop_pending_updates,
            )
        )

    def set_my_commands(
        self,
        commands: list[tuple[str, str]],
        language_code: str | None = None,
        chat_id: int | None = None,
    ) -> None:
        """The "/" menu for everyone, or for one chat only (an admin's) when `chat_id` is set."""
        bot_commands = [BotCommand(command, description) for command, description in commands]
        scope = BotCommandScopeChat(chat_id) if chat_id is not None else None
        self._call(
            lambda bot: bot.set_my_commands(bot_commands, scope=scope, language_code=language_code)
        )

    def get_me(self) -> dict[str, Any]:
        """The bot these credentials open, as the Bot API's User object (`boutik doctor`)."""
        return self._call(lambda bot: bot.get_me()).to_dict()

    def get_webhook_info(self) -> dict[str, Any]:
        """getWebhookInfo as the Bot API's WebhookInfo (dates as Unix times). Telegram never
        reveals the secret token given to setWebhook."""
        return self._call(lambda bot: bot.get_webhook_info()).to_dict()

    def get_my_commands(
        self, language_code: str | None = None, chat_id: int | None = None
    ) -> list[tuple[str, str]]:
        """The "/" menu Telegram shows, as set_my_commands takes it: (command, description)."""
        scope = BotCommandScopeChat(chat_id) if chat_id is not None else None
        commands = self._call(
            lambda bot: bot.get_my_commands(scope=scope, language_code=language_code)
        )
        return [(c.command, c.description) for c in commands]

    def get_file_bytes(self, file_id: str) -> bytes:
        """getFile, then download from the file URL (photos sellers send, for instance)."""

        async def fetch(bot: Bot) -> bytes:
            file = await bot.get_file(file_id)
            try:  # the token is in the file URL: it must stay on the configured host
                telegram_file_url(file.file_path, bot.base_file_url)
            except UntrustedUrl as exc:
                raise SendError(False, "untrusted_url", f"getFile answered: {exc.reason}") from None
            return bytes(await file.download_as_bytearray())

        return self._call(fetch)
