"""The simulator's HTTP API and page (mounted at /simulator in simulator mode only).

The page is plain HTML/JS/CSS shipped in ``static/``. Its API:

- ``GET  api/config``      default phones, everyone by role, quartiers, sample photos, clock,
  the WhatsApp provider
- ``GET|POST api/whatsapp-provider``  read or switch who carries WhatsApp: {"provider":
  "twilio"|"meta"} — the running deployment's `[whatsapp] provider`, webhooks and sends alike
- ``POST api/phones``      a phone for another person: {"role": "buyer"|"courier"|"seller"|"admin",
  "new": true} gives a number nobody has
- ``POST api/send``        {"phone": "wa:+224…", "text"|"button"|"location"|"photo"|"contact"|
  "callback": …} → the provider's payload, signed, posted to the real webhook route
- ``GET  api/messages``    ?phone=…&after=<version>&seen=1 → the phone's timeline, or
  {"changed": false} when ``after`` is still its version
- ``GET  api/state``       ?phone=… → the user, their conversation states, the last outbox rows,
  the WhatsApp provider
- ``GET|POST api/clock``   read or jump the simulated clock, then run the timers
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import logging
import secrets
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from flask import Blueprint, Flask, Response, abort, jsonify, request, send_from_directory
from sqlalchemy import or_, select
from sqlalchemy.exc import SQLAlchemyError

from commerce import clock
from commerce.db import unit_of_work
from commerce.messaging.models import ConversationState, Outbox
from commerce.users.models import Channel, ChannelIdentity, User
from devtools.contracts import RawWebhook
from devtools.emulators.store import EmulatorStore
from devtools.simulator import provider
from devtools.simulator.phones import (
    ROLE_KIND,
    Persona,
    Phone,
    PhoneError,
    default_phones,
    new_number,
    new_telegram_id,
    personas,
)
from devtools.simulator.timeline import Journal, version_of
from settings.config import WHATSAPP_PROVIDERS

if TYPE_CHECKING:
    from devtools.simulator.pump import StatusPump
    from workers.ports import Runtime

log = logging.getLogger(__name__)

STATIC = Path(__file__).resolve().parent / "static"
SAMPLES = STATIC / "samples"
WINDOW = dt.timedelta(hours=24)
CLOCK_JUMPS_H = (1, 24, 24 * 7, 24 * 30)
MAX_JUMP_H = 24 * 366
MAX_TIMER_STEPS = 1000


@dataclass
class Simulator:
    """Everything the simulator routes share: the app, its runtime, the emulator memory."""

    app: Flask
    rt: Runtime
    store: EmulatorStore
    journal: Journal = field(init=False)
    pump: StatusPump | None = None

    def __post_init__(self) -> None:
        self.journal = Journal(self.store, public_base_url=self.rt.config.web.public_base_url)
        self.close_stale_windows()

    # ------------------------------------------------------------ WhatsApp provider

    @property
    def whatsapp_provider(self) -> str:
        """Who carries WhatsApp right now: the running deployment's `[whatsapp] provider`."""
        return self.rt.config.whatsapp.provider

    def switch_whatsapp(self, provider_name: str) -> str:
        """Make `provider_name` carry WhatsApp from the next message on, both ways.

        One assignment is enough because nothing keeps its own copy of the setting: the
        webhook routes read the runtime the app holds (this same object), the outbox reads
        `rt.config` for every row it sends (dispatcher, sweeper and timers hold `rt`), and the
        simulator builds each phone's webhook from it. A row already being sent keeps the
        provider it started with, as a redeploy would.
        """
        if provider_name not in WHATSAPP_PROVIDERS:
            raise PhoneError(f"provider must be one of {', '.join(WHATSAPP_PROVIDERS)}")
        if provider_name != self.whatsapp_provider:
            self.rt.config = self.rt.config.replace(whatsapp__provider=provider_name)
            log.warning("simulator: WhatsApp now goes through %s", provider_name)
        return provider_name

    # ------------------------------------------------------------ WhatsApp 24 h window

    def close_stale_windows(self) -> None:
        """Make the Twilio emulator refuse free-form WhatsApp outside each user's 24 h window.

        The emulator enforces what it is told (``closed_windows``); the truth is each
        WhatsApp identity's last inbound message, compared with the simulated clock, so a
        clock jump closes windows as a day of silence would.
        """
        cutoff = clock.now() - WINDOW
        try:
            with self.rt.session_factory() as session:
                rows = session.execute(
                    select(ChannelIdentity.address, ChannelIdentity.last_inbound_at).where(
                        ChannelIdentity.channel == Channel.WHATSAPP
                    )
                ).all()
        except SQLAlchemyError as exc:  # not migrated yet: the page will say what fails
            log.warning("simulator: cannot read the WhatsApp windows: %s", exc)
            return
        for address, last in rows:
            if last is not None and last.tzinfo is None:
                last = last.replace(tzinfo=dt.UTC)
            if last is None or last < cutoff:
                self.store.closed_windows.add(address)
            else:
                self.store.closed_windows.discard(address)

    # ------------------------------------------------------------ sending

    def _sample(self, name: str) -> bytes:
        if name not in sample_names():
            raise PhoneError(f"unknown sample photo {name!r}")
        return (SAMPLES / f"{name}.jpg").read_bytes()

    def _name(self, phone: Phone, given: str) -> str:
        if given:
            return given[:60]
        with self.rt.session_factory() as session:
            if phone.kind == "tg":
                user = session.scalar(select(User).where(User.telegram_id == phone.telegram_id))
            else:
                user = session.scalar(select(User).where(User.phone == phone.address))
        return (user.name if user and user.name else "") or "Nouveau contact"

    def _own_number(self, phone: Phone, data: dict[str, Any]) -> str:
        given = str((data.get("contact") or {}).get("phone_number") or "")
        if given:
            return given
        with self.rt.session_factory() as session:
            user = session.scalar(select(User).where(User.telegram_id == phone.telegram_id))
            return (user.phone if user and user.phone else "") or new_number(session)

    def build(self, phone: Phone, data: dict[str, Any]) -> provider.Webhook:
        config = self.rt.config
        name = self._name(phone, str(data.get("name") or ""))
        if phone.kind == "wa" and self.whatsapp_provider == "meta":
            return self._build_meta(phone, name, data)
        if phone.kind == "wa":
            action = dict(data)
            if "photo" in data:
                sample = str(data["photo"])
                path = self.store.add_media(
                    self._sample(sample),
                    "image/jpeg",
                    account_sid=config.secrets.twilio_account_sid,
                )
                action = {
                    "media_url": "https://api.twilio.com" + path,
                    "text": data.get("text", ""),
                    "preview": f"/simulator/static/samples/{sample}.jpg",
                }
            return provider.whatsapp(config, phone.address, name, action)
        if phone.kind == "sms":
            if set(data) & {"button", "location", "photo", "contact", "callback"}:
                raise PhoneError("an SMS carries text only")
            return provider.sms(config, phone.address, str(data.get("text", "")))
        action = dict(data)
        callback_message = None
        if "callback" in data:
            ref = int(data["callback"].get("message_id", 0))
            callback_message = self.store.telegram_message(phone.address, ref)
        elif "photo" in data:
            sample = str(data["photo"])
            blob = self._sample(sample)
            file_id = "AgACAgQAAxkBAAI" + secrets.token_urlsafe(24)
            record = self.store.add_file(
                file_id, blob, file_path=f"photos/file_{sample}_{secrets.token_hex(4)}.jpg"
            )
            action = {
                "file_id": file_id,
                "sizes": [
                    {
                        "file_id": record.file_id,
                        "file_unique_id": record.file_unique_id,
                        "width": 480,
                        "height": 480,
                        "file_size": len(blob),
                    }
                ],
                "text": data.get("text", ""),
                "preview": f"/simulator/static/samples/{sample}.jpg",
            }
        elif "contact" in data:
            action = {"contact": {"phone_number": self._own_number(phone, data)}}
        return provider.telegram(
            config,
            phone.telegram_id,
            name,
            action,
            message_id=self.store.next_message_id(phone.address),
            callback_message=callback_message,
        )

    def _build_meta(self, phone: Phone, name: str, data: dict[str, Any]) -> provider.Webhook:
        action = dict(data)
        if "photo" in data:
            sample = str(data["photo"])
            # Meta keeps the buyer's photo and sends its id; the webhook fetches it by id
            # from the Graph API, with the token.
            blob = self._sample(sample)
            action = {
                "media_id": self.store.meta_add_media(blob, "image/jpeg"),
                "sha256": base64.b64encode(hashlib.sha256(blob).digest()).decode(),
                "text": data.get("text", ""),
                "preview": f"/simulator/static/samples/{sample}.jpg",
            }
        return provider.meta_whatsapp(
            self.rt.config,
            phone.address,
            name,
            action,
            display_number=self.store.meta_display_number,
        )

    def send(self, phone: Phone, data: dict[str, Any]) -> dict[str, Any]:
        """Post what the phone's owner did to the real webhook route, signed; log it."""
        hook = self.build(phone, data)
        summary = dict(hook.summary)
        summary["webhook"] = None
        self.journal.add_inbound(phone, summary)  # before the post: replies come after it
        client = self.app.test_client()
        if hook.form is not None:
            # Kept for the contract tests: a simulated Twilio form carries documented names only.
            self.store.record_webhook(RawWebhook("inbound", hook.path, dict(hook.form)))
            response = client.post(hook.path, data=hook.form, headers=hook.headers)
        elif hook.data is not None:
            response = client.post(hook.path, data=hook.data, headers=hook.headers)
        else:
            response = client.post(hook.path, json=hook.json, headers=hook.headers)
        summary["webhook"] = response.status_code
        if phone.kind == "wa" and response.status_code < 300:
            self.store.closed_windows.discard(phone.address)
        if response.status_code >= 300:
            log.warning("simulator: %s answered %s", hook.path, response.status_code)
        return {"ok": response.status_code < 300, "status": response.status_code, "path": hook.path}

    # ------------------------------------------------------------ clock

    def jump(self, hours: float) -> dict[str, Any]:
        """Move the core's clock, then run what timers would have run meanwhile."""
        from commerce.messaging.outbox import take_pending_ids
        from commerce.orders.actions import complete_due_orders
        from workers.outbox import sweep

        ran: dict[str, Any] = {"delayed_jobs": self._advance(dt.timedelta(hours=hours))}
        self.close_stale_windows()
        due = sweep(self.rt)
        self.rt.dispatcher.dispatch(due)
        ran["outbox_resent"] = len(due)
        with unit_of_work(self.rt.session_factory) as session:
            ran["orders_completed"] = len(complete_due_orders(session))
            pending = take_pending_ids(session)
        self.rt.dispatcher.dispatch(pending)
        return {"now": clock.now().isoformat(timespec="seconds"), "ran": ran}

    def _advance(self, delta: dt.timedelta) -> int:
        """Move the clock to `now + delta`, stopping at each delayed job's due time to run it.

        Step by step, so a job that schedules the next one (courier offers in waves) plays out
        within the jump as it would have in real time.
        """
        from devtools.simulator.timers import ClockAwareDispatcher

        target = clock.now() + delta
        timers = self.rt.dispatcher
        ran = 0
        if isinstance(timers, ClockAwareDispatcher):
            for _ in range(MAX_TIMER_STEPS):
                due = timers.next_due()
                if due is None or due > target:
                    break
                if due > clock.now():
                    clock.advance(due - clock.now())
                ran += timers.run_due()
        rest = target - clock.now()
        if rest > dt.timedelta(0):
            clock.advance(rest)
        return ran

    # ------------------------------------------------------------ reading

    def state(self, phone: Phone) -> dict[str, Any]:
        channel = Channel(phone.channel)
        with self.rt.session_factory() as session:
            if phone.kind == "tg":
                user = session.scalar(select(User).where(User.telegram_id == phone.telegram_id))
            else:
                user = session.scalar(select(User).where(User.phone == phone.address))
            conv_filter = (ConversationState.channel == channel) & (
                ConversationState.address == phone.address
            )
            if user is not None:
                conv_filter = or_(conv_filter, ConversationState.user_id == user.id)
            conversations = session.scalars(
                select(ConversationState).where(conv_filter).order_by(ConversationState.id)
            ).all()
            out_filter = Outbox.address == phone.address
            if user is not None:
                out_filter = or_(out_filter, Outbox.user_id == user.id)
            rows = session.scalars(
                select(Outbox).where(out_filter).order_by(Outbox.id.desc()).limit(12)
            ).all()
            ident = None
            if user is not None:
                ident = session.scalar(
                    select(ChannelIdentity).where(
                        ChannelIdentity.user_id == user.id, ChannelIdentity.channel == channel
                    )
                )
            return {
                "phone": phone.id,
                "now": clock.now().isoformat(timespec="seconds"),
                "whatsapp_provider": self.whatsapp_provider,
                "user": _user_json(user),
                "window": _window_json(ident) if channel == Channel.WHATSAPP else None,
                "conversations": [
                    {
                        "channel": str(c.channel),
                        "address": c.address,
                        "flow": c.flow,
                        "state": c.state,
                        "data": c.data,
                        "human_mode": c.human_mode,
                        "updated_at": _iso(c.updated_at),
                        "this_phone": c.channel == channel and c.address == phone.address,
                    }
                    for c in conversations
                ],
                "outbox": [
                    {
                        "id": r.id,
                        "kind": r.kind,
                        "channel": str(r.sent_channel or r.channel or "-"),
                        "status": str(r.status),
                        "attempts": r.attempts,
                        "error_code": r.error_code,
                        "last_error": r.last_error[:200],
                        "created_at": _iso(r.created_at),
                        "essential": r.essential,
                    }
                    for r in rows
                ],
            }


def _iso(value: dt.datetime | None) -> str | None:
    return value.isoformat(timespec="seconds") if value else None


def _user_json(user: User | None) -> dict[str, Any] | None:
    if user is None:
        return None
    return {
        "id": user.id,
        "name": user.name,
        "phone": user.phone,
        "telegram_id": user.telegram_id,
        "roles": sorted(str(r.role) for r in user.roles),
        "language": str(user.language),
        "opted_out": user.opted_out,
        "loyalty_points": user.loyalty_points,
    }


def _window_json(ident: ChannelIdentity | None) -> dict[str, Any] | None:
    if ident is None:
        return None
    last = ident.last_inbound_at
    if last is not None and last.tzinfo is None:
        last = last.replace(tzinfo=dt.UTC)
    return {
        "last_inbound_at": _iso(last),
        "open": last is not None and clock.now() - last < WINDOW,
        "blocked": ident.blocked,
    }


def sample_names() -> list[str]:
    return sorted(p.stem for p in SAMPLES.glob("*.jpg"))


def quartiers() -> list[dict[str, Any]]:
    """Conakry's quartiers by commune, the places a pin can be dropped on."""
    from commerce.geo import guinea

    region = guinea().region("Conakry")
    if region is None:
        return []
    return [
        {"commune": p.name, "name": q.name, "lat": q.lat, "lng": q.lng}
        for p in region.prefectures
        for q in p.quartiers
    ]


def make_blueprint(sim: Simulator) -> Blueprint:
    bp = Blueprint(
        "simulator",
        __name__,
        static_folder=str(STATIC),
        static_url_path="/static",
    )

    def phone_arg(value: Any) -> Phone:
        try:
            return Phone.parse(str(value or ""))
        except PhoneError as exc:
            abort(Response(jsonify(error=str(exc)).get_data(), 400, mimetype="application/json"))

    @bp.get("/")
    def page() -> Response:
        response = send_from_directory(STATIC, "index.html", max_age=0)
        response.headers["Cache-Control"] = "no-store"
        return response

    @bp.get("/api/config")
    def config() -> Response:
        with sim.rt.session_factory() as session:
            people = personas(session, sim.rt.config.telegram.admin_ids)
        return jsonify(
            phones=[p.as_json() for p in default_phones(people)],
            personas=[p.as_json() for p in people],
            quartiers=quartiers(),
            samples=sample_names(),
            now=clock.now().isoformat(timespec="seconds"),
            clock_jumps_h=list(CLOCK_JUMPS_H),
            whatsapp_from=sim.rt.config.twilio.whatsapp_from,
            sms_from=sim.rt.config.twilio.sms_from,
            whatsapp_provider=sim.whatsapp_provider,
            whatsapp_providers=list(WHATSAPP_PROVIDERS),
        )

    @bp.get("/api/whatsapp-provider")
    def get_whatsapp_provider() -> Response:
        return jsonify(provider=sim.whatsapp_provider)

    @bp.post("/api/whatsapp-provider")
    def post_whatsapp_provider() -> Any:
        data = request.get_json(silent=True) or {}
        try:
            chosen = sim.switch_whatsapp(str(data.get("provider", "")))
        except PhoneError as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(provider=chosen)

    @bp.post("/api/phones")
    def add_phone() -> Response:
        data = request.get_json(silent=True) or {}
        role = str(data.get("role", ""))
        if role not in ROLE_KIND:
            return jsonify(error=f"role must be one of {sorted(ROLE_KIND)}"), 400
        with sim.rt.session_factory() as session:
            if not data.get("new"):
                people = personas(session, sim.rt.config.telegram.admin_ids)
                found = [p for p in people if p.role == role]
                if found:
                    return jsonify(found[0].as_json())
            kind = ROLE_KIND[role]
            if kind == "tg":
                persona = Persona(f"tg:{new_telegram_id(session)}", "Nouveau", role)
            else:
                number = new_number(session)
                label = "Nouveau client" if role == "buyer" else "Nouveau livreur"
                persona = Persona(f"{kind}:{number}", label, role, number)
        return jsonify(persona.as_json())

    @bp.post("/api/send")
    def send() -> Any:
        data = request.get_json(silent=True)
        if not isinstance(data, dict):
            return jsonify(error="expected a JSON object"), 400
        phone = phone_arg(data.pop("phone", ""))
        if not any(
            k in data for k in ("text", "button", "location", "photo", "contact", "callback")
        ):
            return jsonify(error="nothing to send"), 400
        if "text" in data and not str(data["text"]).strip() and len(data) == 1:
            return jsonify(error="empty message"), 400
        try:
            result = sim.send(phone, data)
        except (PhoneError, KeyError, TypeError, ValueError) as exc:
            return jsonify(error=str(exc)), 400
        return jsonify(result)

    @bp.get("/api/messages")
    def messages() -> Response:
        phone = phone_arg(request.args.get("phone"))
        shown = sim.journal.messages(phone)
        keyboard = sim.journal.reply_keyboard(phone)
        body = {"messages": shown, "reply_keyboard": keyboard}
        version = version_of(body)
        if request.args.get("seen") and sim.pump is not None:
            sim.pump.mark_read(sim.journal.delivered_unread(phone))
        if request.args.get("after") == version:
            return jsonify(phone=phone.id, version=version, changed=False)
        return jsonify(phone=phone.id, version=version, changed=True, **body)

    @bp.get("/api/state")
    def state() -> Response:
        return jsonify(sim.state(phone_arg(request.args.get("phone"))))

    @bp.get("/api/clock")
    def get_clock() -> Response:
        return jsonify(now=clock.now().isoformat(timespec="seconds"))

    @bp.post("/api/clock")
    def post_clock() -> Any:
        data = request.get_json(silent=True) or {}
        try:
            hours = float(data.get("hours", 0))
        except (TypeError, ValueError):
            hours = 0
        if not 0 < hours <= MAX_JUMP_H:
            return jsonify(error=f"hours must be more than 0 and at most {MAX_JUMP_H}"), 400
        return jsonify(sim.jump(hours))

    @bp.get("/api/telegram-file/<file_id>")
    def telegram_file(file_id: str) -> Response:
        record = sim.store.telegram_file(file_id)
        if record is None:
            abort(404)
        kind = "image/png" if record.data[:8] == b"\x89PNG\r\n\x1a\n" else "image/jpeg"
        return Response(record.data, mimetype=kind, headers={"Cache-Control": "max-age=3600"})

    return bp
