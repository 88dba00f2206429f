"""Twilio: SMS and WhatsApp through ``twilio.rest.Client``, and inbound media downloads.

The SDK's own HTTP client runs every request, with its base URL rewritable onto an emulator
(``devtools.emulators``), so tests exercise what production runs.
"""

from __future__ import annotations

import datetime
import datetime as dtm
import json
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from email.utils import parsedate_to_datetime
from typing import Any, TypeVar
from urllib.parse import urljoin, urlsplit, urlunsplit
from urllib.request import getproxies

import requests
from requests.adapters import HTTPAdapter
from twilio.base.exceptions import TwilioRestException, TwilioServiceException
from twilio.http.http_client import TwilioHttpClient
from twilio.http.response import Response as TwilioResponse
from twilio.rest import Client

from channels_adapters.senders.result import SendError, SendResult, is_retryable
from channels_adapters.trusted_urls import (
    TWILIO_MEDIA_REDIRECT_HOSTS,
    Origin,
    UntrustedUrl,
    check,
)

T = TypeVar("T")

TWILIO_TIMEOUT_S = 10.0
TWILIO_API_HOST = "api.twilio.com"
MEDIA_MAX_BYTES = 16 * 1024 * 1024  # WhatsApp media is ≤ 5 MB (documents 100 MB: not ours)
MEDIA_MAX_REDIRECTS = 5  # Twilio answers one redirect, to its CDN
_REDIRECT_STATUSES = frozenset({301, 302, 303, 307, 308})

# Twilio error codes worth another attempt later (everything else in 4xx is final).
_TWILIO_RETRYABLE_CODES = frozenset({20429, 63018})
_TWILIO_TERMINAL_CODES = frozenset({21610, 21211, 63016, 63014, 21617, 21655})


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


def _utc(stamp: datetime.datetime) -> datetime.datetime:
    """``stamp`` in UTC; a naive one is taken as UTC already (the outbox stores UTC)."""
    if stamp.tzinfo is None:
        return stamp.replace(tzinfo=dtm.UTC)
    return stamp.astimezone(dtm.UTC)


def _first_with_body(messages: Iterable[Any], body: str | None) -> str | None:
    for message in messages:
        if body is None or (message.body or "") == body:
            return str(message.sid)
    return None


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
    retryable = is_retryable(
        status, code, terminal=_TWILIO_TERMINAL_CODES, transient=_TWILIO_RETRYABLE_CODES
    )
    return SendError(
        retryable=retryable,
        code=str(code or status),
        reason=reason or f"HTTP {status}",
        retry_after=retry_after if retryable else None,
        opted_out=code == 21610,
        blocked=code == 63014,
        outside_window=code == 63016,
    )


@dataclass(frozen=True)
class AccountStatus:
    """What Twilio says of the account: ``active``, ``suspended`` or ``closed``; Trial or Full."""

    status: str
    type: str


@dataclass(frozen=True)
class NumberWebhook:
    """An IncomingPhoneNumber's messaging settings: where Twilio sends a text to it.

    An ``sms_application_sid`` means a TwiML App's URL is used instead of ``sms_url``.
    """

    phone_number: str
    sms_url: str
    sms_method: str
    sms_application_sid: str
    receives_sms: bool


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

    @property
    def client(self) -> Client:
        """The SDK client, on the same (rewritable) HTTP client: the Content API sync uses it."""
        return self._client

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

        Two lookups, because of what Twilio's list filters mean: `DateSent>` compares the
        message's date_sent (in GMT, "on and after"), and a message still queued or accepted has
        no date_sent yet, so no DateSent filter can see it, though it will go out. So: first the
        messages sent since `since`; when none has this body, the newest messages to `to`
        (one page) whose date_sent is still empty, compared on date_created.
        """
        start = _utc(since).replace(microsecond=0)
        try:
            # The SDK writes the datetime as "%Y-%m-%dT%H:%M:%SZ" whatever its zone: give UTC.
            sent = self._client.messages.list(to=to, date_sent_after=start, limit=50)
            found = _first_with_body(sent, body)
            if found is not None:
                return found
            recent = self._client.messages.list(to=to, limit=50)
        except Exception:
            return None
        unsent = [
            m
            for m in recent
            if m.date_sent is None and m.date_created is not None and _utc(m.date_created) >= start
        ]
        return _first_with_body(unsent, body)

    # ------------------------------------------------------------------ account reads

    def _read(self, call: Callable[[], T]) -> T:
        """One read of the account, its failures as SendError (as `send` reports them)."""
        try:
            return call()
        except (TwilioRestException, TwilioServiceException) as exc:
            raise _twilio_send_error(exc, self._http.last_retry_after()) from exc
        except requests.Timeout as exc:
            raise SendError(True, "timeout", "Twilio did not answer in time") from exc
        except requests.ConnectionError as exc:
            raise SendError(True, "network", "cannot reach Twilio") from exc
        except requests.RequestException as exc:
            raise SendError(False, "http", f"{type(exc).__name__} calling Twilio") from exc

    def fetch_account(self) -> AccountStatus:
        """The account these credentials open (`boutik doctor`: are they right, is it active?).

        Twilio's answer carries the auth token too; it is dropped here, never returned.
        """
        account = self._read(lambda: self._client.api.v2010.accounts(self._account_sid).fetch())
        return AccountStatus(status=str(account.status or ""), type=str(account.type or ""))

    def incoming_number(self, phone_number: str) -> NumberWebhook | None:
        """The account's number equal to `phone_number` and its incoming-message webhook.

        Twilio's PhoneNumber filter also matches partial numbers, hence the exact comparison.
        None when the account has no such number.
        """
        found = self._read(
            lambda: self._client.incoming_phone_numbers.list(phone_number=phone_number, limit=20)
        )
        for number in found:
            if number.phone_number == phone_number:
                capabilities = number.capabilities or {}
                return NumberWebhook(
                    phone_number=phone_number,
                    sms_url=str(number.sms_url or ""),
                    sms_method=str(number.sms_method or ""),
                    sms_application_sid=str(number.sms_application_sid or ""),
                    receives_sms=bool(capabilities.get("sms", False)),
                )
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
