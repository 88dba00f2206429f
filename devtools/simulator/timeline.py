"""Each phone's conversation as its owner would see it, read from the emulators' records.

Why a journal on top of the emulator store: the store records what the bot *sent*, per
provider; a phone screen also shows what its owner typed, in the order things happened, and
the messages the provider *refused* (a too-long text, a closed WhatsApp window), loudly, since
a refused message is exactly what a developer must not miss. The journal only remembers the
order (a sequence number per message, given when first seen) and the simulated time; the
content is read back from the store at every poll, so edits, deletions and delivery ticks show
as they happen.
"""

from __future__ import annotations

import hashlib
import json
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commerce import clock
from commerce.messaging.sms_text import segments
from devtools.emulators.rendering import render_content, unfilled
from devtools.emulators.store import EmulatorStore, TwilioMessage, validate_content
from devtools.simulator.phones import Phone

MAX_SHOWN = 200  # messages per phone sent to the page


@dataclass
class Entry:
    seq: int
    at: datetime  # simulated time (commerce.clock) when it appeared
    key: tuple[Any, ...]  # ("in", n) | ("tw", sid) | ("tg", message_id) | ("rej", i) | ("tgerr", i)
    inbound: dict[str, Any] | None = None


@dataclass
class _PhoneLog:
    entries: list[Entry] = field(default_factory=list)
    keys: set[tuple[Any, ...]] = field(default_factory=set)


def content_view(store: EmulatorStore, message: TwilioMessage) -> dict[str, Any]:
    """Buttons or list rows of a Content API message, exactly as the buyer's phone shows them.

    The template plus its variables is rendered by the emulator's own function
    (`devtools.emulators.rendering`): a variable not given shows the template's sample value,
    as Twilio sends it (a 2-button menu on the 3-button template shows the sample third
    button, which the buyer can tap). A placeholder with neither a value nor a sample is drawn
    as written and reported, never hidden: what Twilio puts there is not documented. The
    result is checked with the emulator's validator: a 4th button or a 25-character row is
    reported as WhatsApp would refuse it, not drawn.
    """
    template = store.content(message.content_sid or "")
    if template is None:
        return {}
    resolved = render_content(template.definition, message.content_variables)
    view: dict[str, Any] = {}
    if template.kind == "twilio/quick-reply":
        actions = list(resolved.get("actions") or resolved.get("buttons") or [])
        view["buttons"] = [{"title": a.get("title", ""), "id": a.get("id", "")} for a in actions]
    elif template.kind == "twilio/list-picker":
        items = list(resolved.get("items") or resolved.get("rows") or [])
        view["list"] = {
            "button": resolved.get("button", ""),
            "rows": [
                {
                    "title": i.get("item", i.get("title", "")),
                    "id": i.get("id", ""),
                    "description": i.get("description", ""),
                }
                for i in items
            ],
        }
    if missing := unfilled(resolved):
        names = ", ".join("{{" + n + "}}" for n in missing)
        view["rejected"] = f"no value and no template sample for {names}"
    try:
        validate_content(template.kind, resolved)
    except ValueError as exc:
        view["rejected"] = f"WhatsApp refuses this menu: {exc}"
    return view


class Journal:
    """The order of everything shown on each phone; thread-safe (the pump syncs it too)."""

    def __init__(self, store: EmulatorStore, *, public_base_url: str) -> None:
        self.store = store
        self.public = public_base_url.rstrip("/")
        self._lock = threading.Lock()
        self._seq = 0
        self._logs: dict[str, _PhoneLog] = {}
        self._watched: dict[str, Phone] = {}

    def _add(
        self, phone: Phone, key: tuple[Any, ...], inbound: dict[str, Any] | None = None
    ) -> None:
        log = self._logs.setdefault(phone.id, _PhoneLog())
        if key in log.keys:
            return
        self._seq += 1
        log.keys.add(key)
        log.entries.append(Entry(self._seq, clock.now(), key, inbound))

    def watch(self, phone: Phone) -> None:
        with self._lock:
            self._watched.setdefault(phone.id, phone)

    def add_inbound(self, phone: Phone, summary: dict[str, Any]) -> None:
        """What the phone's owner sent; the bot's earlier replies are placed before it."""
        self.watch(phone)
        self.sync(phone)
        with self._lock:
            self._add(phone, ("in", self._seq + 1), summary)

    def sync_all(self) -> None:
        with self._lock:
            phones = list(self._watched.values())
        for phone in phones:
            self.sync(phone)

    def sync(self, phone: Phone) -> None:
        """Give a place in the timeline to every record the emulators made for this phone."""
        store = self.store
        keys: list[tuple[Any, ...]] = []
        if phone.kind in ("wa", "sms"):
            addresses = {phone.address, f"whatsapp:{phone.address}"}
            messages = [m for m in store.twilio_messages() if m.to in addresses]
            keys += [("tw", m.sid) for m in messages]
            keys += [
                ("rej", i)
                for i, r in enumerate(store.twilio_rejections())
                if r.to and r.to.strip() in addresses
            ]
        else:
            keys += [("tg", int(m["message_id"])) for m in store.telegram_messages(phone.address)]
            keys += [
                ("tgerr", i)
                for i, c in enumerate(store.telegram_calls())
                if not c.ok and str(c.chat_id) == phone.address
            ]
        with self._lock:
            for key in keys:
                self._add(phone, key)

    # ---------------------------------------------------------------- reading

    def _local(self, url: str) -> str:
        """Links to this server made relative, so the page works from any host name."""
        return url[len(self.public) :] if url.startswith(self.public + "/") else url

    def _twilio(self, sid: str, phone: Phone) -> dict[str, Any] | None:
        message = self.store.twilio_message(sid)
        if message is None:
            return None
        item: dict[str, Any] = {
            "channel": message.channel,
            "sid": message.sid,
            "text": message.body,
            "status": message.status,
            "media": [self._local(u) for u in message.media_urls],
        }
        if message.channel == "sms":
            encoding, count = segments(message.body)
            item |= {"segments": count, "encoding": encoding, "chars": len(message.body)}
        if message.content_sid:
            item |= content_view(self.store, message)
        return item

    def _telegram(self, message_id: int, phone: Phone) -> dict[str, Any] | None:
        message = self.store.telegram_message(phone.address, message_id)
        if message is None:
            return None
        item: dict[str, Any] = {
            "channel": "telegram",
            "message_id": message_id,
            "text": message.get("text") or message.get("caption") or "",
        }
        if message.get("photo"):
            largest = message["photo"][-1]
            item["photo"] = f"/simulator/api/telegram-file/{largest['file_id']}"
        if message.get("document"):
            item["document"] = message["document"].get("file_name", "document")
        markup = message.get("reply_markup") or {}
        if markup.get("inline_keyboard"):
            item["inline_keyboard"] = markup["inline_keyboard"]
        return item

    def messages(self, phone: Phone) -> list[dict[str, Any]]:
        self.watch(phone)
        self.sync(phone)
        with self._lock:
            entries = list(self._logs.get(phone.id, _PhoneLog()).entries)[-MAX_SHOWN:]
        rejections = self.store.twilio_rejections() if phone.kind != "tg" else []
        calls = self.store.telegram_calls() if phone.kind == "tg" else []
        shown: list[dict[str, Any]] = []
        for entry in entries:
            kind, ref = entry.key[0], entry.key[1]
            item: dict[str, Any] | None
            if kind == "in":
                item = {"dir": "in", **(entry.inbound or {})}
            elif kind == "tw":
                item = self._twilio(ref, phone)
                item = {"dir": "out", **item} if item else None
            elif kind == "tg":
                item = self._telegram(ref, phone)
                item = {"dir": "out", **item} if item else None
            elif kind == "rej":
                r = rejections[ref] if ref < len(rejections) else None
                item = (
                    {
                        "dir": "error",
                        "channel": "whatsapp" if (r.to or "").startswith("whatsapp:") else "sms",
                        "code": r.code,
                        "text": f"Twilio refused a message ({r.status}, error {r.code}): "
                        f"{r.message}",
                    }
                    if r
                    else None
                )
            else:
                c = calls[ref] if ref < len(calls) else None
                item = (
                    {
                        "dir": "error",
                        "channel": "telegram",
                        "code": c.error_code,
                        "text": f"Telegram refused {c.method} ({c.error_code}): {c.description}",
                    }
                    if c
                    else None
                )
            if item is not None:
                item["seq"] = entry.seq
                item["at"] = entry.at.isoformat(timespec="seconds")
                shown.append(item)
        return shown

    def reply_keyboard(self, phone: Phone) -> list[list[dict[str, Any]]] | None:
        """The custom keyboard the bot last put up in this Telegram chat (contact, location).

        Telegram does not echo reply keyboards in the message, so it is read from the
        sendMessage calls: the last one with a keyboard or a removal decides.
        """
        if phone.kind != "tg":
            return None
        for call in reversed(self.store.telegram_calls(chat_id=phone.address)):
            if not call.ok:
                continue
            markup = call.params.get("reply_markup")
            if isinstance(markup, str):
                try:
                    markup = json.loads(markup)
                except ValueError:
                    markup = None
            if not isinstance(markup, dict):
                continue
            if markup.get("remove_keyboard"):
                return None
            if markup.get("keyboard"):
                return markup["keyboard"]
        return None

    def delivered_unread(self, phone: Phone) -> list[str]:
        """WhatsApp messages to this phone that are delivered and not yet read."""
        if phone.kind != "wa":
            return []
        to = f"whatsapp:{phone.address}"
        return [
            m.sid
            for m in self.store.twilio_messages(to=to)
            if m.status == "delivered" and m.status_callback
        ]


def version_of(payload: Any) -> str:
    """A short fingerprint of what a phone shows: the page re-draws only when it changes."""
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob, usedforsecurity=False).hexdigest()[:16]
