"""What the Graph API (WhatsApp Cloud API) emulator remembers, as a part of `EmulatorStore`.

Kept beside the Twilio and Telegram state in the same store, under the same lock, for the same
reason: one test crosses providers and wants one place to read what was sent and to turn the
knobs. The 24 h window is the store's ``closed_windows`` — the set Twilio's emulator reads — so
a test closes a number's window once for both providers.

Status webhooks are posted the way Meta posts them: JSON, signed in ``X-Hub-Signature-256``
with the app secret, to ``meta_webhook_url``. They leave through one delivery thread per store,
in the order they were made: the automatic ``sent`` (or ``failed`` 131047) after an accepted
message, then whatever a test advances, so a test never sees "delivered" overtake "sent".
"""

from __future__ import annotations

import dataclasses
import hashlib
import json
import queue
import re
import threading
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

import requests

from devtools.contracts import RawWebhook
from devtools.testkit.meta_webhooks import (
    META_APP_SECRET,
    META_DISPLAY_NUMBER,
    META_PHONE_NUMBER_ID,
    META_WABA_ID,
    meta_signature,
    meta_status,
    wa_digits,
)

# The statuses Meta reports in webhooks (the spec's `Statuses.status` enum).
META_STATUSES = frozenset({"sent", "delivered", "read", "failed"})
# A template's review states at Meta (WhatsApp Business Management API, message templates).
META_TEMPLATE_STATUSES = frozenset(
    {"APPROVED", "PENDING", "REJECTED", "PAUSED", "DISABLED", "IN_APPEAL", "LIMIT_EXCEEDED"}
)
_PLACEHOLDER = re.compile(r"\{\{\s*([A-Za-z0-9_]+)\s*\}\}")


def body_parameter_count(components: Sequence[Mapping[str, Any]]) -> int:
    """How many distinct ``{{n}}`` the template's BODY has (what a send must fill, exactly)."""
    for component in components:
        if str(component.get("type", "")).upper() == "BODY":
            return len(set(_PLACEHOLDER.findall(str(component.get("text", "")))))
    return 0


@dataclass
class MetaMessage:
    """One message the Graph emulator accepted (HTTP 200)."""

    id: str
    to: str  # E.164 with "+"
    type: str
    payload: dict[str, Any]
    status: str = "accepted"
    status_history: tuple[str, ...] = ("accepted",)
    error_code: int | None = None
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))
    phone_number_id: str = META_PHONE_NUMBER_ID


@dataclass(frozen=True)
class MetaRejection:
    """A send the Graph emulator refused (kept to explain a failing test)."""

    to: str | None
    status: int
    code: int
    message: str
    at: datetime


@dataclass(frozen=True)
class MetaTemplate:
    """A message template at the WABA, as the Business Management API lists it."""

    id: str
    name: str
    language: str
    category: str
    components: tuple[Mapping[str, Any], ...]
    status: str = "PENDING"
    rejected_reason: str = ""
    created_at: datetime = field(default_factory=lambda: datetime.now(UTC))

    @property
    def body_parameters(self) -> int:
        return body_parameter_count(self.components)


@dataclass(frozen=True)
class MetaMedia:
    id: str
    data: bytes
    mime_type: str
    sha256: str


@dataclass(frozen=True)
class MetaDelivery:
    """One status webhook posted to the application, and what it answered (None: no answer)."""

    url: str
    payload: dict[str, Any]
    status_code: int | None


@dataclass
class _Job:
    url: str
    payload: dict[str, Any]
    done: threading.Event = field(default_factory=threading.Event)
    status_code: int | None = None


@dataclass
class _MetaState:
    messages: dict[str, MetaMessage] = field(default_factory=dict)
    rejections: list[MetaRejection] = field(default_factory=list)
    templates: dict[tuple[str, str], MetaTemplate] = field(default_factory=dict)
    media: dict[str, MetaMedia] = field(default_factory=dict)
    deliveries: list[MetaDelivery] = field(default_factory=list)


class MetaStoreMixin:
    """The Meta part of `EmulatorStore` (which provides ``_lock``, ``_changed``, ``_webhooks``
    and ``is_window_closed``)."""

    _lock: threading.RLock
    _changed: threading.Condition

    def _init_meta(self) -> None:
        self._meta = _MetaState()
        self.meta_webhook_url: str | None = None
        # False: no status webhook is made on acceptance ("sent", or "failed" 131047); the test
        # or the simulator drives every status with advance_meta_status.
        self.meta_auto_statuses = True
        self.meta_app_secret = META_APP_SECRET
        self.meta_phone_number_id = META_PHONE_NUMBER_ID
        self.meta_display_number = META_DISPLAY_NUMBER
        self.meta_waba_id = META_WABA_ID
        self._meta_queue: queue.Queue[_Job] | None = None

    def _reset_meta(self) -> None:
        with self._lock:
            self._meta = _MetaState()
            self.meta_webhook_url = None
            self.meta_auto_statuses = True

    def configure_meta(
        self, *, app_secret: str, phone_number_id: str, waba_id: str, display_number: str
    ) -> None:
        """The account the emulator stands for (create_emulator_app calls this)."""
        with self._lock:
            self.meta_app_secret = app_secret
            self.meta_phone_number_id = phone_number_id
            self.meta_waba_id = waba_id
            self.meta_display_number = display_number

    def set_meta_webhook(self, url: str | None) -> None:
        """Where status webhooks go (the app's ``/webhooks/meta/whatsapp``); None: nowhere."""
        with self._lock:
            self.meta_webhook_url = url

    def is_meta_window_closed(self, to: str) -> bool:
        """The shared ``closed_windows``, whichever spelling the test used for the number."""
        digits = wa_digits(to)
        return any(
            self.is_window_closed(a)  # type: ignore[attr-defined]
            for a in (f"+{digits}", digits, f"whatsapp:+{digits}")
        )

    # ------------------------------------------------------------------ messages

    def record_meta_message(self, message: MetaMessage) -> None:
        """Keep an accepted message, then make its first status as Meta does (auto statuses):
        "failed" 131047 for free-form text outside the window, else "sent"."""
        with self._lock:
            self._meta.messages[message.id] = message
            self._changed.notify_all()
            auto = self.meta_auto_statuses
        if not auto:
            return
        if message.type != "template" and self.is_meta_window_closed(message.to):
            self.advance_meta_status(message.id, "failed", 131047, wait=False)
        else:
            self.advance_meta_status(message.id, "sent", wait=False)

    def record_meta_rejection(self, to: str | None, status: int, code: int, message: str) -> None:
        with self._lock:
            self._meta.rejections.append(
                MetaRejection(to, status, code, message, datetime.now(UTC))
            )
            self._changed.notify_all()

    def meta_messages(self, to: str | None = None) -> list[MetaMessage]:
        """Accepted messages, oldest first; ``to`` in any spelling (E.164 or digits)."""
        digits = wa_digits(to) if to is not None else None
        with self._lock:
            return [
                dataclasses.replace(m)
                for m in self._meta.messages.values()
                if digits is None or wa_digits(m.to) == digits
            ]

    def meta_message(self, wamid: str) -> MetaMessage | None:
        with self._lock:
            message = self._meta.messages.get(wamid)
            return dataclasses.replace(message) if message else None

    def meta_rejections(self) -> list[MetaRejection]:
        with self._lock:
            return list(self._meta.rejections)

    # ------------------------------------------------------------------ statuses

    def advance_meta_status(
        self,
        wamid: str,
        status: str,
        error_code: int | None = None,
        *,
        wait: bool = True,
    ) -> tuple[str | None, dict[str, Any]]:
        """Move a message to ``status`` and post the status webhook Meta would (if a URL is set).

        Returns ``(url, payload)`` as `advance_status` does for Twilio; url is None when no
        ``meta_webhook_url`` is set (nothing is posted). With ``wait`` (the default) it returns
        once the application has answered; `meta_deliveries` tells what it answered. Any order
        is accepted: real webhooks arrive out of order.
        """
        if status not in META_STATUSES:
            raise ValueError(f"status must be one of {sorted(META_STATUSES)}")
        if error_code is not None and status != "failed":
            raise ValueError("only a failed status carries an error code")
        with self._lock:
            message = self._meta.messages.get(wamid)
            if message is None:
                raise KeyError(f"no Meta message {wamid}")
            message.status = status
            message.error_code = error_code if status == "failed" else None
            message.status_history = (*message.status_history, status)
            payload = meta_status(
                wamid,
                status,
                message.to,
                error_code=error_code,
                category="utility" if message.type == "template" else "service",
                phone_number_id=self.meta_phone_number_id,
                display_number=self.meta_display_number,
                waba_id=self.meta_waba_id,
            )
            url = self.meta_webhook_url
            if url is not None:
                self._webhooks.append(RawWebhook("meta_status", url, payload))  # type: ignore[attr-defined]
            self._changed.notify_all()
        if url is not None:
            job = _Job(url, payload)
            self._meta_jobs().put(job)
            if wait:
                job.done.wait(timeout=30)
        return url, payload

    def post_meta_status(self, wamid: str, status: str, error_code: int | None = None) -> int:
        """Advance and post; the HTTP status the application answered (as post_status_callback)."""
        url, payload = self.advance_meta_status(wamid, status, error_code, wait=True)
        if url is None:
            raise ValueError("no meta_webhook_url set: set_meta_webhook(url) first")
        with self._lock:
            for delivery in reversed(self._meta.deliveries):
                if delivery.payload is payload:
                    if delivery.status_code is None:
                        raise ConnectionError(f"the application at {url} did not answer")
                    return delivery.status_code
        raise TimeoutError("the status webhook was not delivered within 30 s")

    def meta_deliveries(self) -> list[MetaDelivery]:
        """Every status webhook posted, oldest first, with the application's answer."""
        with self._lock:
            return list(self._meta.deliveries)

    def _meta_jobs(self) -> queue.Queue[_Job]:
        with self._lock:
            if self._meta_queue is None:
                self._meta_queue = queue.Queue()
                threading.Thread(
                    target=self._deliver_meta, name="meta-webhooks", daemon=True
                ).start()
            return self._meta_queue

    def _deliver_meta(self) -> None:
        assert self._meta_queue is not None
        while True:
            job = self._meta_queue.get()
            body = json.dumps(job.payload, separators=(",", ":")).encode()
            with self._lock:
                secret = self.meta_app_secret
            try:
                response = requests.post(
                    job.url,
                    data=body,
                    headers={
                        "Content-Type": "application/json",
                        "X-Hub-Signature-256": meta_signature(body, secret),
                        "User-Agent": "facebookexternalua",
                    },
                    timeout=10,
                    allow_redirects=False,
                )
                job.status_code = response.status_code
            except requests.RequestException:
                job.status_code = None
            with self._lock:
                self._meta.deliveries.append(MetaDelivery(job.url, job.payload, job.status_code))
                self._changed.notify_all()
            job.done.set()

    # ------------------------------------------------------------------ media

    def meta_add_media(self, data: bytes, mime_type: str) -> str:
        """Keep a media file as if a user sent it; its numeric media id (for a webhook)."""
        media_id = str(uuid.uuid4().int % 10**16 + 10**15)
        media = MetaMedia(media_id, bytes(data), mime_type, hashlib.sha256(data).hexdigest())
        with self._lock:
            self._meta.media[media_id] = media
        return media_id

    def meta_media(self, media_id: str) -> MetaMedia | None:
        with self._lock:
            return self._meta.media.get(media_id)

    # ------------------------------------------------------------------ templates

    def create_meta_template(
        self,
        name: str,
        language: str,
        category: str,
        components: Sequence[Mapping[str, Any]],
        *,
        status: str = "PENDING",
    ) -> MetaTemplate:
        """Add a template to the WABA; ValueError when that name exists in that language."""
        if status not in META_TEMPLATE_STATUSES:
            raise ValueError(f"status must be one of {sorted(META_TEMPLATE_STATUSES)}")
        with self._lock:
            if (name, language) in self._meta.templates:
                raise ValueError(f"template {name!r} already exists in {language!r}")
            template = MetaTemplate(
                id=str(uuid.uuid4().int % 10**16 + 10**15),
                name=name,
                language=language,
                category=category,
                components=tuple(dict(c) for c in components),
                status=status,
            )
            self._meta.templates[(name, language)] = template
            self._changed.notify_all()
            return template

    def meta_add_template(
        self,
        name: str,
        language: str,
        body: str,
        *,
        category: str = "UTILITY",
        status: str = "APPROVED",
    ) -> MetaTemplate:
        """A template with one BODY component, approved unless said otherwise (test shortcut)."""
        return self.create_meta_template(
            name, language, category, [{"type": "BODY", "text": body}], status=status
        )

    def meta_template(self, name: str, language: str) -> MetaTemplate | None:
        with self._lock:
            return self._meta.templates.get((name, language))

    def meta_templates(self) -> list[MetaTemplate]:
        """Every template at the WABA, oldest first (the order the list pages through)."""
        with self._lock:
            return sorted(self._meta.templates.values(), key=lambda t: (t.created_at, t.id))

    def decide_meta_template(
        self, name: str, language: str, status: str = "APPROVED", reason: str = ""
    ) -> MetaTemplate:
        """The test hook standing for Meta's review. KeyError for an unknown template."""
        if status not in META_TEMPLATE_STATUSES:
            raise ValueError(f"status must be one of {sorted(META_TEMPLATE_STATUSES)}")
        with self._lock:
            template = self._meta.templates[(name, language)]
            template = dataclasses.replace(
                template, status=status, rejected_reason=reason or "NONE"
            )
            self._meta.templates[(name, language)] = template
            self._changed.notify_all()
            return template

    def approve_all_meta_templates(self, status: str = "APPROVED") -> int:
        """Decide every pending template at once; how many there were."""
        with self._lock:
            keys = [k for k, t in self._meta.templates.items() if t.status == "PENDING"]
        for name, language in keys:
            self.decide_meta_template(name, language, status)
        return len(keys)
