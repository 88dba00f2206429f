"""Shared, thread-safe memory of the provider emulators.

Why one store for both providers: a test (or the browser simulator) drives a whole conversation
that crosses WhatsApp, SMS and Telegram, and wants one place to look at what was "sent", to
program failures and to flip per-recipient conditions (opt-out, closed 24 h window, blocked bot)
without knowing which blueprint will read them. The emulator threads write here while the test
thread reads, so every access goes through one lock, and readers get snapshots (copies), never
live records that could change under them.
"""

from __future__ import annotations

import collections
import dataclasses
import threading
import time
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any, Literal, TypeVar

import requests
from twilio.request_validator import RequestValidator

from devtools.contracts import RawRequest, RawResponse, RawWebhook
from devtools.emulators.meta_state import (
    MetaDelivery,
    MetaMedia,
    MetaMessage,
    MetaRejection,
    MetaStoreMixin,
    MetaTemplate,
)

T = TypeVar("T")

Provider = Literal["twilio", "telegram", "meta"]

__all__ = [
    "EmulatorStore",
    "MetaDelivery",
    "MetaMedia",
    "MetaMessage",
    "MetaRejection",
    "MetaTemplate",
]

# Statuses Twilio reports in status callbacks: never the initial one (queued, or accepted through
# a Messaging Service, whose later "queued" is reported). Twilio's documented list:
# https://www.twilio.com/docs/messaging/guides/outbound-message-status-in-status-callbacks
CALLBACK_STATUSES = frozenset(
    {"queued", "sending", "sent", "delivered", "read", "failed", "undelivered", "canceled"}
)
# Once a message reaches one of these, Twilio has handed it on: its date_sent is set.
_SENT_STATUSES = frozenset({"sent", "delivered", "read", "undelivered"})

# WhatsApp / Twilio Content API limits (see /work/shared/CHANNELS.md).
QUICK_REPLY_MAX_BUTTONS = 3
QUICK_REPLY_TITLE_MAX = 20
LIST_PICKER_MAX_ROWS = 10
LIST_PICKER_ROW_TITLE_MAX = 24
LIST_PICKER_DESCRIPTION_MAX = 72
LIST_PICKER_BUTTON_MAX = 20
INTERACTIVE_BODY_MAX = 1024
ACTION_ID_MAX = 200

_KIND_ALIASES = {
    "text": "twilio/text",
    "media": "twilio/media",
    "quick-reply": "twilio/quick-reply",
    "quick_reply": "twilio/quick-reply",
    "list-picker": "twilio/list-picker",
    "list_picker": "twilio/list-picker",
    "call-to-action": "twilio/call-to-action",
    "call_to_action": "twilio/call-to-action",
    "card": "twilio/card",
}
CONTENT_KINDS = frozenset(_KIND_ALIASES.values())


RAW_REQUESTS_KEPT = 20_000


@dataclass
class TwilioMessage:
    """One message the Twilio emulator accepted (HTTP 201)."""

    sid: str
    account_sid: str
    channel: Literal["whatsapp", "sms"]
    to: str
    from_: str | None
    body: str
    media_urls: tuple[str, ...]
    content_sid: str | None
    content_variables: dict[str, str] | None
    messaging_service_sid: str | None
    status_callback: str | None
    status: str
    num_segments: int
    created_at: datetime
    error_code: int | None = None
    status_history: tuple[str, ...] = ("queued",)
    # Twilio's date_sent: None until the message leaves Twilio (queued/accepted have none), which
    # is what the Messages list's DateSent filters compare. date_updated moves with the status.
    sent_at: datetime | None = None
    updated_at: datetime | None = None


@dataclass(frozen=True)
class TwilioRejection:
    """A Messages.json request the emulator refused (kept to explain a failing test)."""

    to: str | None
    status: int
    code: int
    message: str
    at: datetime


@dataclass(frozen=True)
class IncomingNumber:
    """A phone number of the emulated Twilio account (an IncomingPhoneNumber resource).

    Only what `boutik doctor` reads is kept; the blueprint (twilio_numbers) fills the rest of
    the resource with Twilio's defaults.
    """

    sid: str
    phone_number: str
    friendly_name: str
    sms_url: str
    sms_method: str
    sms_fallback_url: str
    sms_application_sid: str | None
    capabilities: Mapping[str, bool]
    created_at: datetime


@dataclass(frozen=True)
class ContentTemplate:
    """A Content API template: registered by a test, or created through `POST /v1/Content`.

    ``definition`` is the body of its (first) type plus its ``variables`` (the samples Twilio
    falls back to); ``types`` all of them, as created. ``approval`` is the WhatsApp approval
    request (name, category, status, rejection_reason), None until one is made.
    """

    sid: str
    kind: str
    definition: Mapping[str, Any]
    approved_template: bool = False
    friendly_name: str = ""
    language: str = ""
    variables: Mapping[str, str] = field(default_factory=dict)
    types: Mapping[str, Any] = field(default_factory=dict)
    account_sid: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))
    approval: Mapping[str, Any] | None = None


@dataclass(frozen=True)
class UploadedFile:
    """A multipart part sent to the Telegram emulator."""

    filename: str
    content_type: str
    data: bytes


@dataclass(frozen=True)
class TelegramCall:
    """One Bot API call that passed the token check, whatever its outcome (``ok`` tells)."""

    method: str
    chat_id: int | str | None
    params: dict[str, Any]
    files: dict[str, UploadedFile]
    ok: bool
    error_code: int | None
    description: str | None
    result: Any
    at: datetime


@dataclass(frozen=True)
class TelegramFile:
    file_id: str
    file_unique_id: str
    file_path: str
    data: bytes


class Stall:
    """A provider that stops answering (`EmulatorStore.stall_next`): each request it takes is
    held until `release()` or `seconds`, whichever comes first, then fails as programmed.

    Why: a provider that accepts the connection and then says nothing is how a send meets its
    client timeout in production; a test needs to know that the send is hanging now
    (`arrived`, `held`) and to end the hang when it is done with it.
    """

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.arrived = threading.Event()  # set once a request is being held
        self._released = threading.Event()
        self._lock = threading.Lock()
        self._held = 0

    @property
    def held(self) -> int:
        """Requests being held right now."""
        with self._lock:
            return self._held

    def hold(self) -> None:
        """Called by an emulator on the request's own thread."""
        with self._lock:
            self._held += 1
        self.arrived.set()
        try:
            self._released.wait(self.seconds)
        finally:
            with self._lock:
                self._held -= 1

    def release(self) -> None:
        self._released.set()


@dataclass
class Failure:
    """A programmed failure: the next ``remaining`` matching requests fail this way."""

    remaining: int
    status: int
    code: int | None
    retry_after: float | None
    description: str | None
    provider: Provider | None
    error_subcode: int | None = None  # Graph API errors only (Meta)
    # Only requests to this address (Twilio's Messages `To`, or its bare number); None: any.
    to: str | None = None
    # Held before failing (a provider that stops answering); None: fails at once.
    stall: Stall | None = None

    def applies(self, provider: Provider, to: str | None) -> bool:
        if self.provider not in (None, provider):
            return False
        return self.to is None or (to is not None and self.to in (to, _bare_number(to)))


@dataclass
class _TelegramState:
    message_ids: dict[str, int] = field(default_factory=dict)
    messages: dict[tuple[str, int], dict[str, Any]] = field(default_factory=dict)
    files: dict[str, TelegramFile] = field(default_factory=dict)
    webhook: dict[str, Any] | None = None
    # What getWebhookInfo reports of deliveries (set_telegram_webhook_status), kept apart from
    # the setWebhook parameters: Telegram keeps its last error when the webhook is set again.
    webhook_status: dict[str, Any] = field(default_factory=dict)
    commands: dict[tuple[str, str], list[dict[str, str]]] = field(default_factory=dict)


def _bare_number(address: str) -> str:
    return address.split(":", 1)[1] if address.startswith("whatsapp:") else address


def _check_text(what: str, value: Any, limit: int) -> str:
    if not isinstance(value, str) or not value.strip():
        raise ValueError(f"{what}: must be a non-empty string")
    if len(value) > limit:
        raise ValueError(f"{what}: {len(value)} characters, WhatsApp allows at most {limit}")
    return value


def _entries(definition: Mapping[str, Any], keys: tuple[str, str], what: str) -> list[Any]:
    present = [k for k in keys if k in definition]
    if len(present) != 1:
        raise ValueError(f"{what}: exactly one of {keys[0]!r} (Twilio's name) or {keys[1]!r}")
    entries = definition[present[0]]
    if not isinstance(entries, list) or not entries:
        raise ValueError(f"{what}: {present[0]!r} must be a non-empty list")
    return entries


def _entry_title(entry: Any, what: str, keys: tuple[str, ...]) -> Any:
    if not isinstance(entry, Mapping):
        raise ValueError(f"{what}: must be an object")
    for key in keys:
        if key in entry:
            return entry[key]
    raise ValueError(f"{what}: missing {' or '.join(map(repr, keys))}")


def _check_ids(entries: list[Any], what: str) -> None:
    seen: set[str] = set()
    for i, entry in enumerate(entries):
        ident = _check_text(f"{what}[{i}].id", entry.get("id"), ACTION_ID_MAX)
        if ident in seen:
            raise ValueError(f"{what}[{i}].id: duplicate id {ident!r}")
        seen.add(ident)


def validate_content(kind: str, definition: Mapping[str, Any]) -> str:
    """Check a Content API definition against WhatsApp's limits; return the canonical kind.

    Why here and not only in the renderer: Twilio would refuse such a template at creation, so a
    menu that breaks a limit must fail the test that builds it, not a customer at send time.
    Shapes follow Twilio's Content API (``actions`` with ``title``/``id`` for quick replies,
    ``items`` with ``item``/``id``/``description`` and a ``button`` label for list pickers);
    ``buttons``/``rows`` and ``title`` are accepted as synonyms.
    """
    canonical = _KIND_ALIASES.get(kind, kind)
    if canonical not in CONTENT_KINDS:
        raise ValueError(
            f"unknown content kind {kind!r} (known: {', '.join(sorted(CONTENT_KINDS))})"
        )
    if not isinstance(definition, Mapping):
        raise ValueError("definition must be a mapping")
    if canonical == "twilio/text":
        _check_text("body", definition.get("body"), 1600)
    elif canonical == "twilio/media":
        media = definition.get("media")
        if not isinstance(media, list) or not media:
            raise ValueError("media: must be a non-empty list of URLs")
    elif canonical == "twilio/quick-reply":
        _check_text("body", definition.get("body"), INTERACTIVE_BODY_MAX)
        actions = _entries(definition, ("actions", "buttons"), "quick reply")
        if len(actions) > QUICK_REPLY_MAX_BUTTONS:
            raise ValueError(
                f"quick reply: {len(actions)} buttons, WhatsApp allows at most "
                f"{QUICK_REPLY_MAX_BUTTONS}"
            )
        for i, action in enumerate(actions):
            title = _entry_title(action, f"button[{i}]", ("title",))
            _check_text(f"button[{i}].title", title, QUICK_REPLY_TITLE_MAX)
        _check_ids(actions, "button")
    elif canonical == "twilio/list-picker":
        _check_text("body", definition.get("body"), INTERACTIVE_BODY_MAX)
        _check_text("button", definition.get("button"), LIST_PICKER_BUTTON_MAX)
        items = _entries(definition, ("items", "rows"), "list picker")
        if len(items) > LIST_PICKER_MAX_ROWS:
            raise ValueError(
                f"list picker: {len(items)} rows, WhatsApp allows at most {LIST_PICKER_MAX_ROWS}"
            )
        for i, item in enumerate(items):
            title = _entry_title(item, f"row[{i}]", ("item", "title"))
            _check_text(f"row[{i}].item", title, LIST_PICKER_ROW_TITLE_MAX)
            description = item.get("description")
            if description is not None:
                _check_text(f"row[{i}].description", description, LIST_PICKER_DESCRIPTION_MAX)
        _check_ids(items, "row")
    return canonical


class EmulatorStore(MetaStoreMixin):
    """Everything the Twilio, Telegram and Meta (Graph API) emulators remember, plus the knobs
    tests turn (Meta's part: `MetaStoreMixin`).

    Knobs (plain sets, mutate them directly): ``opted_out`` and ``closed_windows`` hold Twilio
    addresses — an entry matches a ``To`` equal to it or whose bare number (without
    ``whatsapp:``) equals it; ``blocked_chats`` holds Telegram chat ids. ``strict_webhook_url``
    makes setWebhook demand HTTPS on ports 443/80/88/8443 as Telegram does (off by default so a
    local simulator can use http://127.0.0.1).
    """

    def __init__(self) -> None:
        self._lock = threading.RLock()
        self._changed = threading.Condition(self._lock)
        self.opted_out: set[str] = set()
        self.closed_windows: set[str] = set()
        self.blocked_chats: set[int | str] = set()
        self.strict_webhook_url = False
        self._twilio: dict[str, TwilioMessage] = {}
        self._twilio_rejections: list[TwilioRejection] = []
        self._content: dict[str, ContentTemplate] = {}
        self._twilio_media: dict[str, tuple[bytes, str]] = {}
        self._numbers: dict[str, IncomingNumber] = {}
        self._failures: list[Failure] = []
        self._stalls: list[Stall] = []
        self._calls: list[TelegramCall] = []
        self._tg = _TelegramState()
        # Every request as received, for the contract tests (devtools.contracts); bounded so a
        # benchmark's hundred thousand sends cannot grow it without end.
        self._raw: collections.deque[RawRequest] = collections.deque(maxlen=RAW_REQUESTS_KEPT)
        self._raw_responses: collections.deque[RawResponse] = collections.deque(
            maxlen=RAW_REQUESTS_KEPT
        )
        self._webhooks: collections.deque[RawWebhook] = collections.deque(maxlen=RAW_REQUESTS_KEPT)
        self._whatsapp_per_s: float | None = None  # see limit_whatsapp_senders
        self._whatsapp_recent: dict[str, collections.deque[float]] = {}
        self._init_meta()

    # ------------------------------------------------------------------ general

    def record_raw_request(self, raw: RawRequest) -> None:
        with self._lock:
            self._raw.append(raw)

    def raw_requests(self) -> list[RawRequest]:
        with self._lock:
            return list(self._raw)

    def clear_raw_requests(self) -> None:
        """Forget the recorded requests, answers and posted webhooks (the contract records)."""
        with self._lock:
            self._raw.clear()
            self._raw_responses.clear()
            self._webhooks.clear()

    def record_raw_response(self, raw: RawResponse) -> None:
        with self._lock:
            self._raw_responses.append(raw)

    def raw_responses(self) -> list[RawResponse]:
        with self._lock:
            return list(self._raw_responses)

    def record_webhook(self, webhook: RawWebhook) -> None:
        with self._lock:
            self._webhooks.append(webhook)

    def sent_webhooks(self) -> list[RawWebhook]:
        """Every webhook the emulators posted (or built to post), for the contract tests."""
        with self._lock:
            return list(self._webhooks)

    def reset(self) -> None:
        """Forget everything, knobs included (one store can then serve many tests)."""
        with self._lock:
            self.opted_out.clear()
            self.closed_windows.clear()
            self.blocked_chats.clear()
            self.strict_webhook_url = False
            self._twilio.clear()
            self._twilio_rejections.clear()
            self._content.clear()
            self._twilio_media.clear()
            self._numbers.clear()
            self._failures.clear()
            for stall in self._stalls:  # no emulator thread stays held after its test
                stall.release()
            self._stalls.clear()
            self._calls.clear()
            self._tg = _TelegramState()
            self._raw.clear()
            self._raw_responses.clear()
            self._webhooks.clear()
            self._whatsapp_per_s = None
            self._whatsapp_recent.clear()
            self._reset_meta()
            self._changed.notify_all()

    def wait_for(self, predicate: Callable[[], T], timeout: float = 30.0) -> T:
        """Wait until ``predicate()`` is truthy and return its value; TimeoutError otherwise.

        Why: deliveries happen on worker/emulator threads; polling with sleeps makes tests slow
        and flaky, so this wakes up on every record the emulators write (and at least every
        50 ms, for predicates that watch something else). The default deadline is generous
        (tests pass tests.timing.WAIT_S): a wait that succeeds returns at once, and a busy
        machine may take seconds where a quiet one takes milliseconds.
        """
        deadline = time.monotonic() + timeout
        while True:
            value = predicate()  # outside the lock: a slow predicate must not stall emulators
            if value:
                return value
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                raise TimeoutError(f"condition not met within {timeout} s")
            with self._changed:
                self._changed.wait(min(remaining, 0.05))

    def fail_next(
        self,
        n: int,
        status: int = 429,
        code: int | None = None,
        retry_after: float | None = None,
        *,
        description: str | None = None,
        provider: Provider | None = None,
        error_subcode: int | None = None,
    ) -> None:
        """Make the next ``n`` provider requests fail with HTTP ``status``.

        ``code`` is Twilio's error code (default 20429 for 429, 20500 otherwise); ``retry_after``
        becomes Twilio's ``Retry-After`` header or Telegram's ``parameters.retry_after``
        (Telegram always sends one on 429: default 1). ``provider`` limits the failure to one
        emulator; None means whichever is called next. Authentication is checked first.
        For ``provider="meta"`` ``code`` is the Graph error code (130429, 131056, 131026,
        131051, 131047… default 130429 for 429, 131000 for 5xx, 100 otherwise) with
        ``error_subcode``; the Graph API sends no Retry-After, so ``retry_after`` is not used.
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        if not 400 <= status <= 599:
            raise ValueError("status must be an HTTP error status")
        with self._lock:
            self._failures.append(
                Failure(n, status, code, retry_after, description, provider, error_subcode)
            )

    def stall_next(
        self,
        n: int = 1,
        *,
        provider: Provider,
        to: str | None = None,
        seconds: float = 60.0,
        status: int = 503,
        description: str = "Service Unavailable",
    ) -> Stall:
        """Make the next ``n`` requests to ``provider`` (only those to ``to``, for Twilio's
        Messages API, when given) hang: each is held until the returned `Stall` is released
        or ``seconds`` pass, then fails with HTTP ``status``, nothing recorded (the provider
        never took the message). A client with a shorter timeout gives up first, as it would
        with a provider that stopped answering. `reset` releases every stall.
        """
        if n < 1:
            raise ValueError("n must be at least 1")
        stall = Stall(seconds)
        with self._lock:
            self._stalls.append(stall)
            self._failures.append(
                Failure(n, status, None, None, description, provider, to=to, stall=stall)
            )
        return stall

    def take_failure(self, provider: Provider, *, to: str | None = None) -> Failure | None:
        """Consume one programmed failure that applies to ``provider`` (and to the request's
        recipient ``to``, where the emulator knows it) — emulators call this."""
        with self._lock:
            for failure in self._failures:
                if failure.applies(provider, to):
                    failure.remaining -= 1
                    if failure.remaining <= 0:
                        self._failures.remove(failure)
                    return dataclasses.replace(failure)
            return None

    # ------------------------------------------------------------------ Twilio

    def limit_whatsapp_senders(self, per_s: float | None) -> None:
        """Give each WhatsApp sender (``From``) a throughput: a message that would be its
        ``per_s``-plus-first accepted within one second is refused with HTTP 429, error 63018
        (rate limit exceeded), ``Retry-After: 1``, as WhatsApp's per-number limit (80 msg/s by
        default) answers a sender that outruns it. None, the default: no limit."""
        with self._lock:
            self._whatsapp_per_s = per_s
            self._whatsapp_recent.clear()

    def admit_whatsapp(self, sender: str, now: float | None = None) -> bool:
        """Whether ``sender`` may send one more WhatsApp message now (counted if so)."""
        with self._lock:
            if self._whatsapp_per_s is None:
                return True
            now = time.monotonic() if now is None else now
            recent = self._whatsapp_recent.setdefault(sender, collections.deque())
            while recent and recent[0] <= now - 1.0:
                recent.popleft()
            if len(recent) >= self._whatsapp_per_s:
                return False
            recent.append(now)
            return True

    def register_content(
        self,
        sid: str,
        kind: str,
        definition: Mapping[str, Any],
        *,
        approved_template: bool = False,
    ) -> None:
        """Register a Content API template; ValueError when it breaks a WhatsApp limit.

        ``approved_template`` marks a template Meta approved, the only kind of message WhatsApp
        lets a business send outside the 24 h window (list pickers can never be templates).
        """
        if not sid:
            raise ValueError("sid must not be empty")
        canonical = validate_content(kind, definition)
        if approved_template and canonical == "twilio/list-picker":
            raise ValueError("list pickers cannot be approved WhatsApp templates")
        with self._lock:
            self._content[sid] = ContentTemplate(
                sid, canonical, dict(definition), approved_template
            )

    def content(self, sid: str) -> ContentTemplate | None:
        with self._lock:
            return self._content.get(sid)

    def create_content(
        self,
        *,
        account_sid: str,
        friendly_name: str,
        language: str,
        variables: Mapping[str, str],
        types: Mapping[str, Any],
    ) -> ContentTemplate:
        """Store a template made through the Content API (already checked by the blueprint)."""
        kind, definition = next(iter(types.items()))
        template = ContentTemplate(
            sid="HX" + uuid.uuid4().hex,
            kind=kind,
            definition={**definition, "variables": dict(variables)},
            friendly_name=friendly_name,
            language=language,
            variables=dict(variables),
            types=dict(types),
            account_sid=account_sid,
        )
        with self._lock:
            self._content[template.sid] = template
        return template

    def contents(self) -> list[ContentTemplate]:
        """Every template, oldest first (the order `GET /v1/Content` pages through)."""
        with self._lock:
            return sorted(self._content.values(), key=lambda t: (t.created_at, t.sid))

    def delete_content(self, sid: str) -> None:
        """A template deleted at Twilio (in the Console, or `DELETE /v1/Content/{Sid}`)."""
        with self._lock:
            del self._content[sid]

    def request_approval(self, sid: str, *, name: str, category: str) -> ContentTemplate:
        """Record a WhatsApp approval request: "received", as Twilio answers at first.

        KeyError for an unknown SID; ValueError when one was already made (Twilio 92009).
        """
        with self._lock:
            template = self._content[sid]
            if template.approval is not None:
                raise ValueError("already submitted")
            approval = {
                "name": name,
                "category": category,
                "content_type": template.kind,
                "status": "received",
                "rejection_reason": "",
                "allow_category_change": True,
            }
            self._content[sid] = dataclasses.replace(template, approval=approval)
            return self._content[sid]

    def decide_approval(self, sid: str, status: str = "approved", reason: str = "") -> None:
        """The test hook standing for Meta's review: "pending", "approved", "rejected"…

        An approved template is the only content WhatsApp lets out of the 24 h window.
        """
        if status not in ("received", "pending", "approved", "rejected", "paused", "disabled"):
            raise ValueError(f"not a WhatsApp approval status: {status!r}")
        with self._lock:
            template = self._content[sid]
            if template.approval is None:
                raise ValueError(f"{sid} was never submitted for approval")
            approval = {**template.approval, "status": status, "rejection_reason": reason}
            self._content[sid] = dataclasses.replace(
                template, approval=approval, approved_template=status == "approved"
            )

    def approve_all(self, status: str = "approved") -> int:
        """Decide every submitted template at once; how many there were."""
        with self._lock:
            sids = [t.sid for t in self._content.values() if t.approval is not None]
        for sid in sids:
            self.decide_approval(sid, status)
        return len(sids)

    def is_opted_out(self, to: str) -> bool:
        with self._lock:
            return to in self.opted_out or _bare_number(to) in self.opted_out

    def is_window_closed(self, to: str) -> bool:
        with self._lock:
            return to in self.closed_windows or _bare_number(to) in self.closed_windows

    def record_twilio(self, message: TwilioMessage) -> None:
        with self._lock:
            self._twilio[message.sid] = message
            self._changed.notify_all()

    def record_twilio_rejection(self, to: str | None, status: int, code: int, message: str) -> None:
        with self._lock:
            self._twilio_rejections.append(
                TwilioRejection(to, status, code, message, datetime.now(UTC))
            )
            self._changed.notify_all()

    def twilio_messages(self, to: str | None = None) -> list[TwilioMessage]:
        """Accepted messages, oldest first, optionally to one address (exact ``To`` match)."""
        with self._lock:
            return [
                dataclasses.replace(m) for m in self._twilio.values() if to is None or m.to == to
            ]

    def twilio_message(self, sid: str) -> TwilioMessage | None:
        with self._lock:
            message = self._twilio.get(sid)
            return dataclasses.replace(message) if message else None

    def twilio_rejections(self) -> list[TwilioRejection]:
        with self._lock:
            return list(self._twilio_rejections)

    def advance_status(
        self, sid: str, status: str, error_code: int | None = None
    ) -> tuple[str | None, dict[str, str]]:
        """Move a message to ``status`` and return the status callback Twilio would POST.

        Returns ``(url, params)``; url is None when the message had no StatusCallback. Any order
        is accepted because real callbacks can arrive out of order; "read" exists on WhatsApp
        only, so asking for it on an SMS is a test bug and raises ValueError. The message's
        date_sent is set the first time it reaches a status past sending (Twilio's semantics:
        the list's DateSent filters do not see a message still queued). The parameters are the
        ones Twilio documents for a status callback, and only those (`devtools.contracts`).
        """
        if status not in CALLBACK_STATUSES:
            raise ValueError(f"status must be one of {sorted(CALLBACK_STATUSES)}")
        with self._lock:
            message = self._twilio.get(sid)
            if message is None:
                raise KeyError(f"no Twilio message {sid}")
            if status == "read" and message.channel != "whatsapp":
                raise ValueError("SMS has no 'read' status")
            now = datetime.now(UTC).replace(microsecond=0)
            message.status = status
            message.error_code = error_code
            message.status_history = (*message.status_history, status)
            message.updated_at = now
            if status in _SENT_STATUSES and message.sent_at is None:
                message.sent_at = now
            params = {
                "MessageSid": message.sid,
                "SmsSid": message.sid,
                "MessageStatus": status,
                "SmsStatus": status,
                "AccountSid": message.account_sid,
                "To": message.to,
                "ApiVersion": "2010-04-01",
            }
            if message.from_:
                params["From"] = message.from_
            if message.messaging_service_sid:
                params["MessagingServiceSid"] = message.messaging_service_sid
            if message.channel == "whatsapp":
                params["ChannelPrefix"] = "whatsapp"
            if error_code is not None:
                params["ErrorCode"] = str(error_code)
            if message.status_callback is not None:
                self._webhooks.append(
                    RawWebhook("status_callback", message.status_callback, dict(params))
                )
            self._changed.notify_all()
            return message.status_callback, params

    def post_status_callback(
        self, sid: str, status: str, *, auth_token: str, error_code: int | None = None
    ) -> int:
        """Advance the status and POST the callback signed exactly as Twilio signs it.

        The signature is ``RequestValidator(auth_token).compute_signature(url, params)`` over the
        URL as given in StatusCallback, so the application's validator is exercised for real.
        Returns the HTTP status the application answered.
        """
        url, params = self.advance_status(sid, status, error_code)
        if url is None:
            raise ValueError(f"message {sid} was sent without a StatusCallback")
        signature = RequestValidator(auth_token).compute_signature(url, params)
        response = requests.post(
            url,
            data=params,
            headers={
                "X-Twilio-Signature": signature,
                "User-Agent": "TwilioProxy/1.1",
                "I-Twilio-Idempotency-Token": str(uuid.uuid4()),
            },
            timeout=10,
            allow_redirects=False,
        )
        return response.status_code

    def add_media(self, data: bytes, content_type: str, *, account_sid: str) -> str:
        """Keep an inbound media file; return its Twilio path (``/2010-04-01/Accounts/…``).

        Prefix it with the emulator root (or with ``https://api.twilio.com``, which a sender
        built with the emulator's base URL rewrites) to make a ``MediaUrl0`` for a simulated
        inbound webhook.
        """
        message_sid = "MM" + uuid.uuid4().hex
        media_sid = "ME" + uuid.uuid4().hex
        with self._lock:
            self._twilio_media[media_sid] = (bytes(data), content_type)
        return f"/2010-04-01/Accounts/{account_sid}/Messages/{message_sid}/Media/{media_sid}"

    def twilio_media(self, media_sid: str) -> tuple[bytes, str] | None:
        with self._lock:
            return self._twilio_media.get(media_sid)

    # ------------------------------------------------------------------ Twilio numbers

    def set_incoming_number(
        self,
        phone_number: str,
        *,
        sms_url: str = "",
        sms_method: str = "POST",
        sms_fallback_url: str = "",
        sms_application_sid: str | None = None,
        capabilities: Mapping[str, bool] | None = None,
        friendly_name: str | None = None,
    ) -> IncomingNumber:
        """Put ``phone_number`` (E.164) on the emulated account, or reconfigure it.

        As a Twilio customer does in the Console: its incoming-message webhook (``sms_url``,
        ``sms_method``) is what Twilio calls when someone texts the number. Reconfiguring keeps
        the number's sid.
        """
        if not phone_number.startswith("+"):
            raise ValueError("phone_number must be E.164 (+…), without a channel prefix")
        if sms_method not in ("GET", "POST"):
            raise ValueError("sms_method must be GET or POST")
        with self._lock:
            old = self._numbers.get(phone_number)
            number = IncomingNumber(
                sid=old.sid if old else "PN" + uuid.uuid4().hex,
                phone_number=phone_number,
                friendly_name=friendly_name or phone_number,
                sms_url=sms_url,
                sms_method=sms_method,
                sms_fallback_url=sms_fallback_url,
                sms_application_sid=sms_application_sid,
                capabilities=dict(
                    capabilities or {"voice": True, "sms": True, "mms": True, "fax": False}
                ),
                created_at=old.created_at if old else datetime.now(UTC).replace(microsecond=0),
            )
            self._numbers[phone_number] = number
            return number

    def remove_incoming_number(self, phone_number: str) -> None:
        with self._lock:
            self._numbers.pop(phone_number, None)

    def incoming_numbers(self) -> list[IncomingNumber]:
        """The account's numbers, in the order they were added."""
        with self._lock:
            return list(self._numbers.values())

    # ------------------------------------------------------------------ Telegram

    def record_telegram_call(self, call: TelegramCall) -> None:
        with self._lock:
            self._calls.append(call)
            self._changed.notify_all()

    def telegram_calls(
        self, method: str | None = None, chat_id: int | str | None = None
    ) -> list[TelegramCall]:
        """Recorded Bot API calls, oldest first; method names compare case-insensitively."""
        with self._lock:
            return [
                c
                for c in self._calls
                if (method is None or c.method.lower() == method.lower())
                and (chat_id is None or str(c.chat_id) == str(chat_id))
            ]

    def is_chat_blocked(self, chat_id: int | str) -> bool:
        with self._lock:
            return str(chat_id) in {str(c) for c in self.blocked_chats}

    def next_message_id(self, chat_id: int | str) -> int:
        with self._lock:
            key = str(chat_id)
            self._tg.message_ids[key] = self._tg.message_ids.get(key, 0) + 1
            return self._tg.message_ids[key]

    def save_telegram_message(self, message: dict[str, Any]) -> None:
        with self._lock:
            key = (str(message["chat"]["id"]), int(message["message_id"]))
            self._tg.messages[key] = message
            self._changed.notify_all()

    def telegram_message(self, chat_id: int | str, message_id: int) -> dict[str, Any] | None:
        with self._lock:
            message = self._tg.messages.get((str(chat_id), int(message_id)))
            return dict(message) if message else None

    def delete_telegram_message(self, chat_id: int | str, message_id: int) -> None:
        with self._lock:
            self._tg.messages.pop((str(chat_id), int(message_id)), None)
            self._changed.notify_all()

    def telegram_messages(self, chat_id: int | str | None = None) -> list[dict[str, Any]]:
        """Messages the bot has in each chat, as last edited (the chat as the user sees it)."""
        with self._lock:
            return [
                dict(m)
                for (chat, _), m in self._tg.messages.items()
                if chat_id is None or chat == str(chat_id)
            ]

    def add_file(self, file_id: str, data: bytes, *, file_path: str | None = None) -> TelegramFile:
        """Make ``file_id`` resolvable by getFile and downloadable (as a photo a user sent)."""
        with self._lock:
            path = file_path or f"documents/file_{len(self._tg.files)}"
            record = TelegramFile(file_id, "U" + uuid.uuid4().hex[:15], path, bytes(data))
            self._tg.files[file_id] = record
            return record

    def telegram_file(self, file_id: str) -> TelegramFile | None:
        with self._lock:
            return self._tg.files.get(file_id)

    def telegram_file_by_path(self, file_path: str) -> TelegramFile | None:
        with self._lock:
            for record in self._tg.files.values():
                if record.file_path == file_path:
                    return record
            return None

    def set_telegram_webhook(self, webhook: dict[str, Any] | None) -> None:
        with self._lock:
            self._tg.webhook = webhook
            self._changed.notify_all()

    @property
    def telegram_webhook(self) -> dict[str, Any] | None:
        """The last setWebhook parameters (url, secret_token, …), None after deleteWebhook."""
        with self._lock:
            return dict(self._tg.webhook) if self._tg.webhook else None

    def set_telegram_webhook_status(
        self,
        *,
        pending_update_count: int | None = None,
        last_error_message: str | None = None,
        last_error_date: int | None = None,
    ) -> None:
        """What getWebhookInfo reports about deliveries: a backlog, Telegram's last error.

        ``last_error_date`` is a Unix time (Telegram's own unit); ``last_error_message`` without
        it is stamped now. Values given replace the old ones; None leaves one as it was.
        """
        with self._lock:
            status = self._tg.webhook_status
            if pending_update_count is not None:
                status["pending_update_count"] = pending_update_count
            if last_error_message is not None:
                status["last_error_message"] = last_error_message
                status["last_error_date"] = last_error_date or int(time.time())
            elif last_error_date is not None:
                status["last_error_date"] = last_error_date

    def telegram_webhook_status(self) -> dict[str, Any]:
        with self._lock:
            return dict(self._tg.webhook_status)

    def set_telegram_commands(
        self, scope: str, language_code: str, commands: list[dict[str, str]]
    ) -> None:
        with self._lock:
            self._tg.commands[(scope, language_code)] = commands

    def telegram_commands(
        self, scope: str = "default", language_code: str = ""
    ) -> list[dict[str, str]] | None:
        """The list set for `scope` ("default", "all_private_chats", "chat:<chat_id>"…)."""
        with self._lock:
            commands = self._tg.commands.get((scope, language_code))
            return list(commands) if commands is not None else None
