"""Each phone's conversation as its owner would see it, read from the emulators' records.

Why a journal on top of the emulator store: the store records what the bot *sent*, per
provider; a phone screen also shows what its owner typed, in the order things happened, and
the messages the provider *refused* (a too-long text, a closed WhatsApp window), loudly, since
a refused message is exactly what a developer must not miss. The journal only remembers the
order (a sequence number per message, given when first seen) and the simulated time; the
content is read back from the store at every poll, so edits, deletions and delivery ticks show
as they happen.

A WhatsApp phone shows what either provider carried to it — Twilio's Messages API and Meta's
Graph API both record there — so switching providers mid-conversation keeps the conversation
on one screen, in order.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from commerce import clock
from commerce.messaging.sms_text import segments
from devtools.emulators.rendering import render_content, unfilled
from devtools.emulators.store import EmulatorStore, MetaMessage, TwilioMessage, validate_content
from devtools.simulator.phones import Phone
from devtools.testkit.meta_webhooks import wa_digits

MAX_SHOWN = 200  # messages per phone sent to the page


@dataclass
class Entry:
    seq: int
    at: datetime  # simulated time (commerce.clock) when it appeared
    # ("in", n) | ("tw", sid) | ("meta", wamid) | ("tg", message_id) | ("rej", i) | ("mrej", i)
    # | ("tgerr", i)
    key: tuple[Any, ...]
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


_PARAMETER = re.compile(r"\{\{\s*(\d+)\s*\}\}")
# What Meta says of a failure in its status webhook (the emulator's titles for the codes it uses).
META_FAILURES = {
    131047: "more than 24 hours have passed since the customer last replied",
    131026: "message undeliverable",
}


def meta_view(store: EmulatorStore, message: MetaMessage) -> dict[str, Any]:
    """A Graph API message as the buyer's WhatsApp shows it: its words, media and choices.

    Reply buttons and list rows keep the ids they carry, so a tap on the page posts them back
    as Meta's ``button_reply`` / ``list_reply``; a location request shows WhatsApp's "Send
    location" button; a template shows its approved body with the parameters in place.
    """
    body = message.payload
    kind = body.get("type")
    view: dict[str, Any] = {"text": "", "media": []}
    if kind == "text":
        view["text"] = str((body.get("text") or {}).get("body", ""))
    elif kind in ("image", "document"):
        media = body.get(kind) or {}
        view["text"] = str(media.get("caption", ""))
        view["media_link"] = str(media.get("link", ""))
        if kind == "image":
            view["media"] = [view.pop("media_link")]
        else:
            view["document"] = str(media.get("filename") or "document")
    elif kind == "interactive":
        interactive = body.get("interactive") or {}
        action = interactive.get("action") or {}
        header = (interactive.get("header") or {}).get("text")
        words = [str(header)] if header else []
        words.append(str((interactive.get("body") or {}).get("text", "")))
        footer = (interactive.get("footer") or {}).get("text")
        if footer:
            words.append(str(footer))
        view["text"] = "\n".join(words)
        if interactive.get("type") == "button":
            view["buttons"] = [
                {"title": b["reply"]["title"], "id": b["reply"]["id"]}
                for b in action.get("buttons", [])
            ]
        elif interactive.get("type") == "list":
            view["list"] = {
                "button": action.get("button", ""),
                "rows": [
                    {
                        "title": r.get("title", ""),
                        "id": r.get("id", ""),
                        "description": r.get("description", ""),
                    }
                    for section in action.get("sections", [])
                    for r in section.get("rows", [])
                ],
            }
        elif interactive.get("type") == "location_request_message":
            view["location_request"] = True
    elif kind == "template":
        view["text"] = template_text(store, body.get("template") or {})
        view["template"] = str((body.get("template") or {}).get("name", ""))
    else:
        view["text"] = f"[{kind}]"
    return view


def template_text(store: EmulatorStore, sent: dict[str, Any]) -> str:
    """The approved template's body with the sent parameters in place of {{1}}, {{2}}…"""
    name = str(sent.get("name", ""))
    code = str((sent.get("language") or {}).get("code", ""))
    template = store.meta_template(name, code)
    params = [
        str(p.get("text", ""))
        for c in sent.get("components") or []
        if str(c.get("type", "")).lower() == "body"
        for p in c.get("parameters") or []
    ]
    if template is None:
        return f"[template {name} ({code})] " + " · ".join(params)
    text = next(
        (
            str(c.get("text", ""))
            for c in template.components
            if str(c.get("type")).upper() == "BODY"
        ),
        "",
    )

    def fill(match: re.Match[str]) -> str:
        index = int(match.group(1)) - 1
        return params[index] if 0 <= index < len(params) else match.group(0)

    return _PARAMETER.sub(fill, text)


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
            if phone.kind == "wa":
                # Meta's sends and refusals in the order they happened (both to the microsecond).
                digits = wa_digits(phone.address)
                timed: list[tuple[datetime, tuple[Any, ...]]] = [
                    (m.created_at, ("meta", m.id)) for m in store.meta_messages(to=phone.address)
                ]
                timed += [
                    (r.at, ("mrej", i))
                    for i, r in enumerate(store.meta_rejections())
                    if r.to and wa_digits(r.to) == digits
                ]
                keys += [key for _, key in sorted(timed, key=lambda t: t[0])]
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

    def _meta(self, wamid: str) -> dict[str, Any] | None:
        """A Graph API message; one Meta reported failed is shown as the refusal it is."""
        message = self.store.meta_message(wamid)
        if message is None:
            return None
        if message.status == "failed":
            code = message.error_code
            why = META_FAILURES.get(code or 0, "not delivered")
            return {
                "dir": "error",
                "channel": "whatsapp",
                "provider": "meta",
                "code": code,
                "text": f"Meta did not deliver a {message.type} message (status failed, "
                f"error {code}): {why}",
            }
        view = meta_view(self.store, message)
        view["media"] = [self._local(u) for u in view["media"]]
        return {
            "dir": "out",
            "channel": "whatsapp",
            "provider": "meta",
            "sid": message.id,
            "status": message.status,
            **view,
        }

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
        meta_rejections = self.store.meta_rejections() if phone.kind == "wa" else []
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
            elif kind == "meta":
                item = self._meta(ref)
            elif kind == "tg":
                item = self._telegram(ref, phone)
                item = {"dir": "out", **item} if item else None
            elif kind == "mrej":
                mr = meta_rejections[ref] if ref < len(meta_rejections) else None
                item = (
                    {
                        "dir": "error",
                        "channel": "whatsapp",
                        "provider": "meta",
                        "code": mr.code,
                        "text": f"Meta refused a message (HTTP {mr.status}, error {mr.code}): "
                        f"{mr.message}",
                    }
                    if mr
                    else None
                )
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
        twilio = [
            m.sid
            for m in self.store.twilio_messages(to=to)
            if m.status == "delivered" and m.status_callback
        ]
        meta = [m.id for m in self.store.meta_messages(to=phone.address) if m.status == "delivered"]
        return twilio + meta


def version_of(payload: Any) -> str:
    """A short fingerprint of what a phone shows: the page re-draws only when it changes."""
    blob = json.dumps(payload, sort_keys=True, default=str).encode()
    return hashlib.sha1(blob, usedforsecurity=False).hexdigest()[:16]
