"""WhatsApp through Meta's Cloud API (the Graph API), with plain HTTP over ``requests``.

Why plain HTTP and not pywa (the maintained Python framework for the Cloud API): pywa brings its
own webhook server, handler registry and send-and-forget calls, while Boutik already has all
three of its own — Flask routes that authenticate and de-duplicate, the outbox that decides
what to send, and a shared Redis limiter that paces every send. What is left for a library is
one JSON POST per message and four reads, which ``requests`` (already here, under the Twilio
SDK) does with a configurable base URL, so tests and the simulator talk to the Graph API
emulator (``devtools.emulators``) through exactly this code. pywa fixes graph.facebook.com as
its base URL.

Errors come back as ``SendError``, the contract every sender keeps (``senders.result``): the
Graph error code decides whether a retry can help (see `_RETRYABLE_CODES`, `_TERMINAL_CODES`).
The access token is a secret: it is registered with ``settings.log_redaction`` and never put
in an error message; it is sent only to the Graph API host and Meta's media host (or to the
configured emulator root).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import requests
from requests.adapters import HTTPAdapter

from channels_adapters.senders.result import SendError, SendResult, is_retryable
from channels_adapters.trusted_urls import Origin, UntrustedUrl, check

GRAPH_HOST = "graph.facebook.com"
# Where the Graph API's media URLs point (Meta's "lookaside" CDN); they need the token too.
META_MEDIA_HOSTS = ("lookaside.fbsbx.com",)
META_TIMEOUT_S = 10.0
MEDIA_MAX_BYTES = 16 * 1024 * 1024

# Throttling and transient failures (Meta's error codes page): worth another attempt later.
#   4 / 80007: application / WABA rate limit; 130429: throughput reached; 131056: too many
#   messages to one user (pair rate limit); 1, 2, 131000, 131016, 133004: temporary errors.
_RETRYABLE_CODES = frozenset({1, 2, 4, 80007, 130429, 131000, 131016, 131056, 133004})
# Everything the same request would hit again. 131047: more than 24 h since the user's last
# message (re-engagement: a template or SMS instead); 131026: undeliverable; 131051:
# unsupported message type; 131021: sender = recipient; 132000/132001: template parameters or
# name; 100 / 131008 / 131009: invalid parameters; 190: the token expired or is invalid.
_TERMINAL_CODES = frozenset({100, 190, 131008, 131009, 131021, 131026, 131047, 131051, 132000})
OUTSIDE_WINDOW = 131047


def send_error(status: int, body: Any, retry_after: float | None = None) -> SendError:
    """A Graph API error answer as a SendError (the code as a string, the reason kept)."""
    error = body.get("error") if isinstance(body, dict) else None
    error = error if isinstance(error, dict) else {}
    try:
        code = int(error.get("code") or 0)
    except (TypeError, ValueError):
        code = 0
    data = error.get("error_data") if isinstance(error.get("error_data"), dict) else {}
    details = str((data or {}).get("details") or "")
    reason = str(error.get("message") or f"HTTP {status}")
    if details and details not in reason:
        reason = f"{reason}: {details}"
    retryable = is_retryable(status, code, terminal=_TERMINAL_CODES, transient=_RETRYABLE_CODES)
    return SendError(
        retryable=retryable,
        code=str(code or status),
        reason=reason[:500],
        retry_after=retry_after if retryable else None,
        outside_window=code == OUTSIDE_WINDOW,
    )


def status_error(code: object) -> SendError:
    """The outcome a `failed` status webhook's error code means, as at send time."""
    try:
        number = int(str(code))
    except ValueError:
        number = 0
    return send_error(400, {"error": {"code": number}})


@dataclass(frozen=True)
class PhoneNumber:
    """What the Graph API says of the business phone number (`boutik doctor`)."""

    id: str
    display_phone_number: str
    verified_name: str
    quality_rating: str
    code_verification_status: str


class MetaSender:
    """One business phone number of the Cloud API; thread-safe (one pooled session).

    ``api_base_url`` empty means the real https://graph.facebook.com; otherwise the root the
    Graph paths hang from (an emulator root such as ``http://127.0.0.1:5001/meta``).
    """

    def __init__(
        self,
        token: str,
        phone_number_id: str,
        *,
        api_base_url: str = "",
        version: str = "v23.0",
        waba_id: str = "",
        timeout: float = META_TIMEOUT_S,
    ) -> None:
        if not token or not phone_number_id:
            raise ValueError("MetaSender needs an access token and a phone-number id")
        self._token = token
        self.phone_number_id = phone_number_id
        self.waba_id = waba_id
        self.version = version
        self._timeout = timeout
        self._root = (api_base_url or f"https://{GRAPH_HOST}").rstrip("/")
        api = Origin.of(self._root)
        media = () if api_base_url else tuple(Origin.https(h) for h in META_MEDIA_HOSTS)
        self._token_origins = (api, *media)
        self._session = requests.Session()
        self._session.trust_env = False  # no ~/.netrc credentials, no proxy surprises
        adapter = HTTPAdapter(pool_connections=4, pool_maxsize=32)
        self._session.mount("http://", adapter)
        self._session.mount("https://", adapter)

    def __repr__(self) -> str:
        return f"MetaSender(phone_number_id={self.phone_number_id!r})"

    def url(self, *parts: str) -> str:
        return "/".join((self._root, self.version, *parts))

    @property
    def messages_url(self) -> str:
        return self.url(self.phone_number_id, "messages")

    # ------------------------------------------------------------------ HTTP

    def _call(
        self,
        method: str,
        url: str,
        *,
        json_body: dict[str, Any] | None = None,
        params: dict[str, Any] | None = None,
    ) -> Any:
        """One Graph API call; its JSON answer, or SendError."""
        try:
            response = self._session.request(
                method,
                url,
                json=json_body,
                params=params,
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
                allow_redirects=False,
            )
        except requests.Timeout as exc:
            raise SendError(True, "timeout", "Meta did not answer in time") from exc
        except requests.ConnectionError as exc:
            raise SendError(True, "network", "cannot reach the Graph API") from exc
        except requests.RequestException as exc:
            raise SendError(False, "http", f"{type(exc).__name__} calling the Graph API") from exc
        with response:
            try:
                body = response.json()
            except ValueError:
                body = None
            if response.status_code >= 400 or body is None:
                raise send_error(
                    response.status_code, body, _retry_after(response.headers.get("Retry-After"))
                )
            return body

    # ------------------------------------------------------------------ messages

    def send_message(self, to: str, message: dict[str, Any]) -> SendResult:
        """Send one message (``message`` = ``{"type": …, <type>: {…}}``) to E.164 ``to``.

        A timeout after the request left is reported retryable, yet Meta may have accepted
        it: the Cloud API has no idempotency key and no way to list what was sent, so a retry
        can duplicate it (the outbox says so on the row).
        """
        body = {"messaging_product": "whatsapp", "recipient_type": "individual", "to": to}
        body.update(message)
        answer = self._call("POST", self.messages_url, json_body=body)
        try:
            wamid = str(answer["messages"][0]["id"])
        except (KeyError, IndexError, TypeError):
            raise SendError(False, "answer", "Graph API answer has no message id") from None
        return SendResult(provider_id=wamid)

    # ------------------------------------------------------------------ media

    def fetch_media(self, media_id: str, *, max_bytes: int = MEDIA_MAX_BYTES) -> tuple[bytes, str]:
        """Download an inbound media by its id: its URL from the Graph API, then the bytes.

        Both requests carry the token (Meta's media URLs need it), so the URL the Graph API
        gives must be on the Graph API's or Meta's media host (or the emulator's root); no
        redirect is followed. Over ``max_bytes`` is refused for good while reading.
        """
        if not media_id.isdigit() or len(media_id) > 40:
            raise SendError(False, "untrusted_url", "media id is not a Graph API id")
        info = self._call("GET", self.url(media_id))
        url = info.get("url") if isinstance(info, dict) else None
        try:
            check(str(url or ""), self._token_origins)
        except UntrustedUrl as exc:
            raise SendError(False, "untrusted_url", f"media URL refused: {exc.reason}") from None
        declared = info.get("file_size")
        if isinstance(declared, int) and declared > max_bytes:
            raise SendError(False, "too_large", f"media larger than {max_bytes} bytes")
        try:
            response = self._session.get(
                str(url),
                headers={"Authorization": f"Bearer {self._token}"},
                timeout=self._timeout,
                allow_redirects=False,
                stream=True,
            )
        except requests.Timeout as exc:
            raise SendError(True, "timeout", "media download timed out") from exc
        except requests.ConnectionError as exc:
            raise SendError(True, "network", "cannot reach the media URL") from exc
        except requests.RequestException as exc:
            raise SendError(False, "http", f"{type(exc).__name__} fetching media") from exc
        with response:
            if response.status_code != 200:
                status = response.status_code
                retryable = status in (404, 429) or status >= 500
                raise SendError(retryable, str(status), f"media download answered HTTP {status}")
            chunks: list[bytes] = []
            size = 0
            for chunk in response.iter_content(64 * 1024):
                size += len(chunk)
                if size > max_bytes:
                    raise SendError(False, "too_large", f"media larger than {max_bytes} bytes")
                chunks.append(chunk)
            content_type = response.headers.get("Content-Type") or str(info.get("mime_type", ""))
        return b"".join(chunks), content_type.split(";", 1)[0].strip()

    # ------------------------------------------------------------------ account reads

    def phone_number(self) -> PhoneNumber:
        """The business phone number these settings name (doctor: token and id right?)."""
        fields = "display_phone_number,verified_name,quality_rating,code_verification_status"
        info = self._call("GET", self.url(self.phone_number_id), params={"fields": fields})
        info = info if isinstance(info, dict) else {}
        return PhoneNumber(
            id=str(info.get("id", "")),
            display_phone_number=str(info.get("display_phone_number", "")),
            verified_name=str(info.get("verified_name", "")),
            quality_rating=str(info.get("quality_rating", "")),
            code_verification_status=str(info.get("code_verification_status", "")),
        )

    def list_templates(self, *, name: str = "", limit: int = 100) -> list[dict[str, Any]]:
        """Every message template of the WhatsApp Business Account (all pages)."""
        if not self.waba_id:
            raise SendError(False, "config", "meta.waba_id is not set")
        params: dict[str, Any] = {
            "fields": "name,language,status,category,components,id,rejected_reason",
            "limit": limit,
        }
        if name:
            params["name"] = name
        found: list[dict[str, Any]] = []
        url = self.url(self.waba_id, "message_templates")
        for _page in range(100):
            answer = self._call("GET", url, params=params)
            found += [t for t in answer.get("data") or [] if isinstance(t, dict)]
            after = ((answer.get("paging") or {}).get("cursors") or {}).get("after")
            if not after or not (answer.get("paging") or {}).get("next"):
                break
            params = {**params, "after": after}
        return found

    def create_template(self, body: dict[str, Any]) -> dict[str, Any]:
        """Create one message template (name, language, category, components)."""
        if not self.waba_id:
            raise SendError(False, "config", "meta.waba_id is not set")
        answer = self._call("POST", self.url(self.waba_id, "message_templates"), json_body=body)
        return answer if isinstance(answer, dict) else {}


def _retry_after(value: str | None) -> float | None:
    try:
        return max(0.0, float(value)) if value else None
    except ValueError:
        return None
