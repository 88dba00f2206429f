"""Thin synchronous wrappers of the official Twilio and Telegram SDKs.

Why wrappers at all: workers are synchronous and need one small, uniform contract — a
``SendResult`` or a ``SendError`` that says whether retrying can help — instead of two SDKs'
exception trees. Why the official SDKs and not hand-written HTTP: their request building,
auth and error parsing are what production runs, so tests against the local emulators
(``devtools.emulators``) exercise the same code. The only thing configurable is the
base URL, which points the SDKs at an emulator in tests and at the providers in production.

No secret is ever put in a log line or an error message: the bot token is registered with
``boutik.log_redaction``, which masks it in every log record (httpx logs every URL, and the
token is in the URL) and in the errors built here.
"""

from __future__ import annotations

import asyncio
import concurrent.futures
import datetime
import datetime as dtm
import json
import logging
import threading
from collections.abc import Awaitable, Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.request import getproxies

import requests
from requests.adapters import HTTPAdapter
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
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from boutik import log_redaction
from channels_adapters.trusted_urls import (
    TWILIO_MEDIA_REDIRECT_HOSTS,
    Origin,
    UntrustedUrl,
    check,
    telegram_file_url,
)

T = TypeVar("T")
ReplyMarkup = InlineKeyboardMarkup | ReplyKeyboardMarkup | ReplyKeyboardRemove | ForceReply

_log = logging.getLogger(__name__)

TWILIO_TIMEOUT_S = 10.0
TWILIO_API_HOST = "api.twilio.com"
MEDIA_MAX_BYTES = 16 * 1024 * 1024  # WhatsApp media is ≤ 5 MB (documents 100 MB: not ours)
MEDIA_MAX_REDIRECTS = 5  # Twilio answers one redirect, to its CDN
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})
TELEGRAM_API_BASE = "https://api.telegram.org/bot"
TELEGRAM_FILE_BASE = "https://api.telegram.org/file/bot"

# Twilio error codes worth another attempt later (everything else in 4xx is final).
_TWILIO_RETRYABLE_CODES = frozenset({20429, 63018})
_TWILIO_TERMINAL_CODES = frozenset({21610, 21211, 63016, 63014, 21617, 21655})


@dataclass(frozen=True)
class SendResult:
    """What the provider answered: its id of the message and, for SMS, the billed segments.

    For Telegram, ``provider_id`` is the ``message_id`` as a string (unique per chat only).
    """

    provider_id: str
    segments: int = 1


class SendError(Exception):
    """A send (or fetch) the provider refused or that never got an answer.

    ``retryable`` is the one thing a worker must look at: True for throttling (429, Twilio
    20429/63018, Telegram RetryAfter), provider 5xx, timeouts and connection errors — retry
    after ``retry_after`` seconds when given, else with backoff; False for everything the same
    request would hit again (bad number, opted out, outside the 24 h window, blocked, too
    long…) — never retry those. The flags let callers update the recipient's state.
    ``code`` is the provider's error code as a string ("21610", "400", "429"…) or one of
    "timeout", "network", "http" for transport failures.
    """

    def __init__(
        self,
        retryable: bool,
        code: str,
        reason: str,
        retry_after: float | None = None,
        opted_out: bool = False,
        blocked: bool = False,
        outside_window: bool = False,
    ) -> None:
        super().__init__(f"[{code}] {reason}")
        self.retryable = retryable
        self.code = code
        self.reason = reason
        self.retry_after = retry_after
        self.opted_out = opted_out
        self.blocked = blocked
        self.outside_window = outside_window

    def __reduce__(self) -> tuple[Any, ...]:
        """Keep every field through pickling (job queues store exceptions)."""
        return (
            SendError,
            (
                self.retryable,
                self.code,
                self.reason,
                self.retry_after,
                self.opted_out,
                self.blocked,
                self.outside_window,
            ),
        )

    def __repr__(self) -> str:
        return (
            f"SendError(retryable={self.retryable}, code={self.code!r}, reason={self.reason!r}, "
            f"retry_after={self.retry_after!r}, opted_out={self.opted_out}, "
            f"blocked={self.blocked}, outside_window={self.outside_window})"
        )


# ---------------------------------------------------------------------- Twilio


def _parse_retry_after(value: str | None) -> float | None:
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return max(0.0, (when - dtm.datetime.now(dtm.UTC)).total_seconds())


class _RewritingHttpClient(TwilioHttpClient):
    """The SDK's own HTTP client, with ``https://*.twilio.com`` swapped for a base URL.

    Every Twilio host is rewritten (not only api.twilio.com) so that a development setup
    pointed at an emulator can never reach the real Twilio by accident. It also remembers,
    per thread, the headers of the last response: the SDK's exception drops them, and
    ``Retry-After`` lives there.
    """

    def __init__(self, base_url: str, timeout: float) -> None:
        super().__init__(pool_connections=True, timeout=timeout)
        self._base = urlsplit(base_url.rstrip("/")) if base_url else None
        self._last = threading.local()
        if self.session is not None:
            # The SDK only sizes the https:// pool; emulators speak plain http.
            self.session.mount("http://", HTTPAdapter(pool_maxsize=32))
            # requests re-reads the proxy variables (and ~/.netrc) from the environment on
            # every send: 0.3–0.6 ms of a worker's ~1.8 ms per message (bench/outbound_drain).
            # With no proxy configured at start there is nothing to find; with one, keep
            # requests' own handling (no_proxy and all).
            if not getproxies():
                self.session.trust_env = False

    def rewrite(self, url: str) -> str:
        if self._base is None:
            return url
        parts = urlsplit(url)
        host = parts.hostname or ""
        if parts.scheme != "https" or not (host == "twilio.com" or host.endswith(".twilio.com")):
            return url
        path = self._base.path.rstrip("/") + parts.path
        return urlunsplit((self._base.scheme, self._base.netloc, path, parts.query, parts.fragment))

    def request(
        self,
        method: str,
        url: str,
        params: dict[str, object] | None = None,
        data: dict[str, object] | None = None,
        headers: dict[str, str] | None = None,
        auth: tuple[str, str] | None = None,
        timeout: float | None = None,
        allow_redirects: bool = False,
    ) -> TwilioResponse:
        self._last.headers = None
        response = super().request(
            method,
            self.rewrite(url),
            params=params,
            data=data,
            headers=headers,
            auth=auth,
            timeout=timeout,
            allow_redirects=allow_redirects,
        )
        self._last.headers = response.headers
        return response

    def last_retry_after(self) -> float | None:
        headers = getattr(self._last, "headers", None) or {}
        value = next((v for k, v in headers.items() if k.lower() == "retry-after"), None)
        return _parse_retry_after(value)


def _twilio_send_error(
    exc: TwilioRestException | TwilioServiceException, retry_after: float | None
) -> SendError:
    status = int(exc.status or 0)
    code = int(exc.code) if exc.code else None
    if isinstance(exc, TwilioRestException):
        reason = str(exc.msg or "")
    else:
        reason = str(exc.detail or exc.title or "")
    if code in _TWILIO_TERMINAL_CODES:
        retryable = False
    else:
        retryable = status == 429 or status >= 500 or code in _TWILIO_RETRYABLE_CODES
    return SendError(
        retryable=retryable,
        code=str(code or status),
        reason=reason or f"HTTP {status}",
        retry_after=retry_after if retryable else None,
        opted_out=code == 21610,
        blocked=code == 63014,
        outside_window=code == 63016,
    )


class TwilioSender:
    """Sends SMS and WhatsApp messages through ``twilio.rest.Client``; thread-safe.

    ``api_base_url`` empty means the real https://api.twilio.com; otherwise every Twilio URL
    is rewritten onto it (an emulator root such as ``http://127.0.0.1:5001``).
    """

    def __init__(
        self,
        account_sid: str,
        auth_token: str,
        api_base_url: str = "",
        *,
        timeout: float = TWILIO_TIMEOUT_S,
        media_redirect_urls: Iterable[str] = (),
    ) -> None:
        """``media_redirect_urls``: further origins a media download may be redirected to
        (never with the credentials) — a test CDN beside an emulator; in production Twilio's
        own CDN hosts are always allowed."""
        if not account_sid or not auth_token:
            # The SDK would silently fall back to TWILIO_* environment variables.
            raise ValueError("TwilioSender needs an account SID and an auth token")
        self._account_sid = account_sid
        self._auth_token = auth_token
        self._timeout = timeout
        self._http = _RewritingHttpClient(api_base_url, timeout)
        # Media: credentials go to this one origin only (api.twilio.com, or the emulator).
        self._emulated = bool(api_base_url)
        self._api_origin = (
            Origin.of(api_base_url) if api_base_url else Origin.https(TWILIO_API_HOST)
        )
        cdn = () if api_base_url else tuple(Origin.https(h) for h in TWILIO_MEDIA_REDIRECT_HOSTS)
        self._media_origins = (
            self._api_origin,
            *cdn,
            *(Origin.of(u) for u in media_redirect_urls),
        )
        self._client = Client(account_sid, auth_token, http_client=self._http)

    def __repr__(self) -> str:
        return f"TwilioSender(account_sid={self._account_sid!r})"

    def send(
        self,
        *,
        to: str,
        from_: str,
        body: str | None = None,
        media_urls: Iterable[str] | None = None,
        content_sid: str | None = None,
        content_variables: Mapping[str, Any] | None = None,
        status_callback: str | None = None,
    ) -> SendResult:
        """Create one Message. ``from_`` may be a sender or a Messaging Service SID (MG…).

        A timeout after the request left is reported retryable, yet Twilio may have queued the
        message: Twilio has no idempotency key for Messages, so a retry can duplicate it.
        """
        kwargs: dict[str, Any] = {"to": to}
        if from_.startswith("MG"):
            kwargs["messaging_service_sid"] = from_
        else:
            kwargs["from_"] = from_
        if body is not None:
            kwargs["body"] = body
        if media_urls:
            kwargs["media_url"] = list(media_urls)
        if content_sid is not None:
            kwargs["content_sid"] = content_sid
        if content_variables is not None:
            kwargs["content_variables"] = json.dumps(
                {str(k): str(v) for k, v in content_variables.items()}, ensure_ascii=False
            )
        if status_callback is not None:
            kwargs["status_callback"] = status_callback
        try:
            message = self._client.messages.create(**kwargs)
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _twilio_send_error(exc, self._http.last_retry_after()) from exc
        except requests.Timeout as exc:
            raise SendError(True, "timeout", "Twilio did not answer in time") from exc
        except requests.ConnectionError as exc:
            raise SendError(True, "network", "cannot reach Twilio") from exc
        except requests.RequestException as exc:
            raise SendError(False, "http", f"{type(exc).__name__} calling Twilio") from exc
        try:
            segments = int(message.num_segments or 1)
        except (TypeError, ValueError):
            segments = 1
        return SendResult(provider_id=str(message.sid), segments=max(segments, 1))

    def find_sent(self, *, to: str, body: str | None, since: datetime.datetime) -> str | None:
        """The sid of a message to `to` with this body created since `since`, if any.

        Twilio has no idempotency key: after a worker died between Twilio's 201 and our commit,
        this lookup is how a retry learns the message already went out instead of sending it
        again. Any error answers "unknown" (None) and the caller sends.
        """
        try:
            recent = self._client.messages.list(
                to=to, date_sent_after=since.replace(microsecond=0), limit=50
            )
        except Exception:
            return None
        for message in recent:
            if body is None or (message.body or "") == body:
                return str(message.sid)
        return None

    def _media_target(self, url: str) -> str:
        """The first URL to fetch for a ``MediaUrlN``; UntrustedUrl unless it is Twilio's API.

        Checked before and after the emulator rewrite, with the parser requests connects with:
        ``https://evil:1\\@api.twilio.com/…`` reads as api.twilio.com to urlsplit and connects
        to evil:1 with urllib3, so it is refused before anything else looks at it.
        """
        if self._emulated:
            parsed, _ = check(url, (*self._media_origins, Origin.https(".twilio.com")))
            host = parsed.host or ""
            if host == "twilio.com" or host.endswith(".twilio.com"):
                query = f"?{parsed.query}" if parsed.query is not None else ""
                url = self._http.rewrite(f"https://{TWILIO_API_HOST}{parsed.path or '/'}{query}")
        check(url, (self._api_origin,))
        return url

    def fetch_media(self, url: str, *, max_bytes: int = MEDIA_MAX_BYTES) -> tuple[bytes, str]:
        """Download an inbound ``MediaUrlN`` with the account's Basic auth.

        The credentials go only to Twilio's API host (or to the configured base URL). Twilio
        redirects to its CDN: redirects are followed here, one at a time, each target checked
        like the first URL (a host of Twilio's media, at most MEDIA_MAX_REDIRECTS), and fetched
        without credentials unless it is the API host again. Every check runs on the URL
        requests prepared, i.e. the one it connects to. A 404 is reported retryable: Twilio
        documents that media can lag behind the webhook.
        """
        try:
            target = self._media_target(url)
        except UntrustedUrl as exc:
            raise SendError(False, "untrusted_url", f"media URL refused: {exc.reason}") from None
        session = self._http.session or requests.Session()
        try:
            for _hop in range(MEDIA_MAX_REDIRECTS + 1):
                response = self._media_hop(session, target)
                with response:
                    status = response.status_code
                    location = response.headers.get("Location")
                    if status in _REDIRECT_STATUSES and location:
                        target = urljoin(target, location)
                        continue
                    if status != 200:
                        retryable = status in (404, 429) or status >= 500
                        raise SendError(
                            retryable,
                            str(status),
                            f"media download answered HTTP {status}",
                            retry_after=_parse_retry_after(response.headers.get("Retry-After")),
                        )
                    chunks: list[bytes] = []
                    size = 0
                    for chunk in response.iter_content(64 * 1024):
                        size += len(chunk)
                        if size > max_bytes:
                            raise SendError(
                                False, "too_large", f"media larger than {max_bytes} bytes"
                            )
                        chunks.append(chunk)
                    content_type = response.headers.get("Content-Type", "application/octet-stream")
                    return b"".join(chunks), content_type.split(";", 1)[0].strip()
        except requests.Timeout as exc:
            raise SendError(True, "timeout", "media download timed out") from exc
        except requests.ConnectionError as exc:
            raise SendError(True, "network", "cannot reach the media URL") from exc
        except requests.RequestException as exc:
            raise SendError(False, "http", f"{type(exc).__name__} fetching media") from exc
        raise SendError(False, "too_many_redirects", "media download redirected too often")

    def _media_hop(self, session: requests.Session, url: str) -> requests.Response:
        """One GET, no redirect followed; Basic auth only when the prepared URL is the API's."""
        try:
            _, origin = check(url, self._media_origins)
            credentials = origin == self._api_origin
            auth = (self._account_sid, self._auth_token) if credentials else None
            prepared = session.prepare_request(requests.Request("GET", url, auth=auth))
            _, sent_to = check(prepared.url or "", self._media_origins)
        except UntrustedUrl as exc:
            raise SendError(
                False, "untrusted_url", f"media redirect refused: {exc.reason}"
            ) from None
        if credentials and sent_to != self._api_origin:  # the two parses disagree: refuse
            raise SendError(False, "untrusted_url", "media URL is ambiguous")
        if not credentials:
            prepared.headers.pop("Authorization", None)  # e.g. from ~/.netrc: not ours to send
        settings = session.merge_environment_settings(prepared.url, {}, True, None, None)
        settings["stream"] = True
        return session.send(prepared, allow_redirects=False, timeout=self._timeout, **settings)


# ---------------------------------------------------------------------- Telegram


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
