"""Delivering one outbox row: claim it, choose channel and content, pace, send, record.

Idempotent per outbox id: the claim is a conditional UPDATE (pending → sending), so a job run
twice, or by two workers, sends once. The provider call happens outside any transaction; its
outcome is written in a second one. Retries with backoff for what can succeed later (429 with
its retry_after, 5xx, timeouts, Twilio 20429/63018); terminal errors end the row with their
reason and are acted on (opted out, blocked, outside the WhatsApp window → SMS fallback).
"""

from __future__ import annotations

import datetime as dt
import logging
import time
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from bot.messages import Reply, reply_from_json
from bot.notifications import render_notification
from channels_adapters import render
from channels_adapters.media import signed_media_url
from channels_adapters.senders import SendError, SendResult
from commerce import clock
from commerce.db import unit_of_work
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.phones import mask_phone
from commerce.users.models import Channel, ChannelIdentity, Role, User
from workers.rate_limit import with_headroom

if TYPE_CHECKING:
    from boutik.runtime import Runtime

log = logging.getLogger(__name__)

WINDOW = dt.timedelta(hours=24)
BACKOFF_S = (2, 5, 15, 30, 60, 120, 300, 600)
MAX_ATTEMPTS = len(BACKOFF_S) + 1
HEARTBEAT_S = 10.0  # a row waiting for its send slot longer than this says it is alive


def _pace(rt: Runtime, outbox_id: int, keys_rates: list[tuple[str, float, int]]) -> None:
    """Wait for the shared send slot, keeping the claimed row visibly alive meanwhile.

    Under a backlog (an SMS sender at 1 segment/s) the wait can outlast `stale_sending_s`; the
    row's updated_at is touched every few seconds so the sweeper never mistakes a patient
    worker for a dead one and sends the message a second time.
    """
    delay = rt.limiter.reserve_all(with_headroom(keys_rates), cost=1)
    deadline = time.monotonic() + delay
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(remaining, HEARTBEAT_S))
        if deadline - time.monotonic() > 0:
            with unit_of_work(rt.session_factory) as session:
                session.execute(
                    update(Outbox)
                    .where(Outbox.id == outbox_id, Outbox.status == OutboxStatus.SENDING)
                    .values(updated_at=clock.now())
                    .execution_options(synchronize_session=False)
                )


TELEGRAM_FILE = "telegram:"  # a media path naming a Telegram file_id (see workers/seller_media)


@dataclass
class Plan:
    """What to send, decided inside the claim transaction, executed outside it."""

    outbox_id: int
    channel: Channel | None = None
    address: str = ""
    reply: Reply | None = None
    kind: str = ""
    template_sid: str = ""
    template_vars: dict[str, str] = field(default_factory=dict)
    callback_query_id: str = ""
    lang: str = "fr"
    skip_reason: str = ""
    parts_sent: int = 0
    # Set when a worker died mid-send: ask the provider before sending again.
    check_since: dt.datetime | None = None


def _identity(session: Session, user_id: int, channel: Channel) -> ChannelIdentity | None:
    return session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.user_id == user_id, ChannelIdentity.channel == channel
        )
    )


def _in_window(ident: ChannelIdentity | None) -> bool:
    return bool(ident and ident.last_inbound_at and clock.now() - ident.last_inbound_at < WINDOW)


def plan_for(session: Session, rt: Runtime, row: Outbox) -> Plan:
    """Choose channel, address and content for a claimed row."""
    user = session.get(User, row.user_id) if row.user_id else None
    plan = Plan(outbox_id=row.id, kind=row.kind, parts_sent=int(row.payload.get("parts_sent", 0)))
    if row.error_code == INTERRUPTED:
        # From the interrupted attempt's start (whole seconds: Twilio's filter granularity).
        plan.check_since = (row.sent_at or row.created_at).replace(microsecond=0)
    plan.lang = user.language.value if user else "fr"
    if user is not None and user.opted_out and not row.essential:
        plan.skip_reason = "opted_out"
        return plan
    if row.kind == "reply":
        plan.reply = reply_from_json(row.payload["params"]["reply"])
        plan.callback_query_id = str(row.payload["params"].get("callback_query_id", ""))
    else:
        params: dict[str, Any] = dict(row.payload.get("params") or {})
        plan.reply = render_notification(session, user, row.kind, params, plan.lang)
    channel, address = row.channel, row.address
    if channel is None and user is not None:
        channel, address = _preferred_channel(session, user)
    if channel is None or not address:
        plan.skip_reason = "no_channel"
        return plan
    if channel == Channel.WHATSAPP:
        ident = _identity(session, user.id, Channel.WHATSAPP) if user else None
        if not _in_window(ident):
            template = rt.config.twilio.content_templates.get(row.kind, "")
            if template:
                plan.template_sid = template
                plan.template_vars = {
                    str(k): str(v) for k, v in (row.payload.get("params") or {}).items()
                }
            elif user is not None and user.phone:
                channel, address = Channel.SMS, user.phone  # never free-form outside the window
            else:
                plan.skip_reason = "outside_window"
                return plan
    if channel == Channel.TELEGRAM and user is not None:
        ident = _identity(session, user.id, Channel.TELEGRAM)
        if ident is not None and ident.blocked:
            plan.skip_reason = "blocked"
            return plan
    plan.channel, plan.address = channel, address
    return plan


def _preferred_channel(session: Session, user: User) -> tuple[Channel | None, str]:
    """Sellers and admins live on Telegram, couriers on SMS, buyers on WhatsApp."""
    if user.telegram_id is not None and (user.has_role(Role.SELLER) or user.has_role(Role.ADMIN)):
        return Channel.TELEGRAM, str(user.telegram_id)
    if user.has_role(Role.COURIER) and user.phone:
        return Channel.SMS, user.phone
    if user.phone and _identity(session, user.id, Channel.WHATSAPP) is not None:
        return Channel.WHATSAPP, user.phone
    if user.telegram_id is not None:
        return Channel.TELEGRAM, str(user.telegram_id)
    if user.phone:
        return Channel.SMS, user.phone
    return None, ""


def claim(rt: Runtime, outbox_id: int) -> Plan | None:
    now = clock.now()
    with unit_of_work(rt.session_factory) as session:
        claimed = session.execute(
            update(Outbox)
            .where(
                Outbox.id == outbox_id,
                Outbox.status == OutboxStatus.PENDING,
                Outbox.next_attempt_at <= now,
            )
            .values(status=OutboxStatus.SENDING, attempts=Outbox.attempts + 1, updated_at=now)
            .execution_options(synchronize_session=False)
        ).rowcount
        if claimed != 1:
            return None
        row = session.get(Outbox, outbox_id)
        assert row is not None
        plan = plan_for(session, rt, row)
        if plan.skip_reason:
            row.status = OutboxStatus.SKIPPED
            row.last_error = plan.skip_reason
            return None
        return plan


def _send(rt: Runtime, plan: Plan) -> SendResult:
    assert plan.reply is not None and plan.channel is not None
    cfg = rt.config
    if plan.channel == Channel.TELEGRAM:
        return _send_telegram(rt, plan)
    status_callback = f"{cfg.web.public_base_url.rstrip('/')}/webhooks/twilio/status"
    if plan.channel == Channel.WHATSAPP:
        to, from_ = f"whatsapp:{plan.address}", cfg.twilio.whatsapp_from
        if plan.template_sid:
            req = render.TwilioRequest(
                content_sid=plan.template_sid, content_variables=plan.template_vars
            )
        else:
            req = render.render_whatsapp(
                plan.reply,
                lang=plan.lang,
                templates=cfg.twilio.content_templates,
                media_url=lambda p: signed_media_url(
                    cfg.web.public_base_url, p, ttl_s=cfg.web.media_link_ttl_s
                ),
            )
        if plan.check_since is not None:
            sid = rt.twilio_sender.find_sent(to=to, body=req.body or None, since=plan.check_since)
            if sid:
                return SendResult(provider_id=sid)
        _pace(rt, plan.outbox_id, [(f"wa:{from_}", cfg.twilio.whatsapp_rate_per_s, 1)])
        return rt.twilio_sender.send(
            to=to,
            from_=from_,
            body=req.body or None,
            media_urls=list(req.media_urls) or None,
            content_sid=req.content_sid or None,
            content_variables=req.content_variables or None,
            status_callback=status_callback,
        )
    parts = render.render_sms(plan.reply, lang=plan.lang)
    result = SendResult(provider_id="", segments=0)
    for index, part in enumerate(parts):
        if index < plan.parts_sent:
            continue  # sent before a crash or a retry: never twice
        found = None
        if plan.check_since is not None:
            found = rt.twilio_sender.find_sent(to=plan.address, body=part, since=plan.check_since)
        if found:
            result = SendResult(provider_id=found)
        else:
            _pace(
                rt,
                plan.outbox_id,
                [(f"sms:{cfg.twilio.sms_from}", cfg.twilio.sms_segments_per_s, 1)],
            )
            result = rt.twilio_sender.send(
                to=plan.address,
                from_=cfg.twilio.sms_from,
                body=part,
                status_callback=status_callback,
            )
        if len(parts) > 1:
            _record_part(rt, plan.outbox_id, index + 1)
    return result


def _record_part(rt: Runtime, outbox_id: int, parts_sent: int) -> None:
    with unit_of_work(rt.session_factory) as session:
        row = session.get(Outbox, outbox_id)
        if row is not None:
            row.payload = {**row.payload, "parts_sent": parts_sent}


def _send_telegram(rt: Runtime, plan: Plan) -> SendResult:
    cfg = rt.config
    req = render.render_telegram(plan.reply, lang=plan.lang)  # type: ignore[arg-type]
    _pace(
        rt,
        plan.outbox_id,
        [
            ("tg", cfg.telegram.rate_per_s, 1),
            (f"tg:{plan.address}", cfg.telegram.rate_per_chat_per_s, 1),
        ],
    )
    sender = rt.telegram_sender
    if plan.callback_query_id:
        try:
            sender.answer_callback_query(plan.callback_query_id)
        except SendError as exc:  # an expired spinner is not worth failing the reply for
            log.info("answerCallbackQuery failed: %s", exc)
    if req.method == "send_photo":
        photo: bytes | str
        if req.photo_path.startswith(TELEGRAM_FILE):
            # A seller's photo not downloaded yet: Telegram re-sends its own file by id.
            photo = req.photo_path.removeprefix(TELEGRAM_FILE)
        else:
            photo = (cfg.media_dir / req.photo_path).read_bytes()
        return sender.send_photo(
            plan.address, photo, caption=req.text or None, reply_markup=req.reply_markup
        )
    if req.method == "send_document":
        data = (cfg.media_dir / req.photo_path).read_bytes()
        return sender.send_document(plan.address, data, req.filename, caption=req.text or None)
    return sender.send_message(plan.address, req.text, reply_markup=req.reply_markup)


def _finish(rt: Runtime, plan: Plan, result: SendResult) -> None:
    with unit_of_work(rt.session_factory) as session:
        row = session.get(Outbox, plan.outbox_id)
        assert row is not None
        if row.status == OutboxStatus.SENDING:
            row.status = OutboxStatus.SENT
        row.provider_message_id = result.provider_id or row.provider_message_id
        row.sent_at = clock.now()
        row.sent_channel = plan.channel
        row.sent_address = plan.address
        row.error_code = ""
        row.last_error = ""


def _fail(rt: Runtime, plan: Plan, err: SendError) -> float | None:
    """Record a failed attempt; return the delay before the next try, or None if final."""
    with unit_of_work(rt.session_factory) as session:
        row = session.get(Outbox, plan.outbox_id)
        assert row is not None
        row.error_code = (err.code or "")[:20]
        row.last_error = err.reason[:500]
        user = session.get(User, row.user_id) if row.user_id else None
        if err.outside_window and plan.channel == Channel.WHATSAPP and user and user.phone:
            row.channel, row.address = Channel.SMS, user.phone  # the window closed: use SMS
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = clock.now()
            return 0.0
        if err.retryable and row.attempts < MAX_ATTEMPTS:
            delay = max(float(err.retry_after or 0), BACKOFF_S[min(row.attempts, MAX_ATTEMPTS) - 1])
            row.status = OutboxStatus.PENDING
            row.next_attempt_at = clock.now() + dt.timedelta(seconds=delay)
            return delay
        row.status = OutboxStatus.FAILED
        if user is not None and err.opted_out:
            user.opted_out = True
        if user is not None and err.blocked and plan.channel is not None:
            ident = _identity(session, user.id, plan.channel)
            if ident is not None:
                ident.blocked = True
        return None


def deliver(rt: Runtime, outbox_id: int) -> str:
    """Send one outbox row. Returns what happened: sent, retry, failed, or skipped."""
    plan = claim(rt, outbox_id)
    if plan is None:
        return "skipped"
    try:
        result = _send(rt, plan)
    except SendError as err:
        delay = _fail(rt, plan, err)
        where = mask_phone(plan.address) if plan.channel != Channel.TELEGRAM else "tg"
        if delay is None:
            log.warning("outbox %s to %s failed for good: %s", outbox_id, where, err.code)
            return "failed"
        log.info("outbox %s to %s retry in %.0fs: %s", outbox_id, where, delay, err.code)
        rt.dispatcher.schedule(outbox_id, delay)
        return "retry"
    _finish(rt, plan, result)
    return "sent"


INTERRUPTED = "interrupted"


def sweep(rt: Runtime, *, limit: int = 500, stale_after: dt.timedelta | None = None) -> list[int]:
    """Find rows that need a (new) job: due pending rows, and rows a dead worker left sending.

    Redis can lose its queue (restart without persistence) and workers can die between claim
    and send; the database is the truth, and this puts every such row back in line.
    """
    now = clock.now()
    stale = stale_after or dt.timedelta(seconds=rt.config.queue.stale_sending_s)
    with unit_of_work(rt.session_factory) as session:
        session.execute(
            update(Outbox)
            .where(Outbox.status == OutboxStatus.SENDING, Outbox.updated_at < now - stale)
            .values(
                status=OutboxStatus.PENDING,
                next_attempt_at=now,
                error_code=INTERRUPTED,
                # The attempt began at updated_at: the provider is asked from then on.
                sent_at=Outbox.updated_at,
            )
            .execution_options(synchronize_session=False)
        )
        ids = list(
            session.scalars(
                select(Outbox.id)
                .where(Outbox.status == OutboxStatus.PENDING, Outbox.next_attempt_at <= now)
                .order_by(Outbox.id)
                .limit(limit)
            )
        )
    return ids


def replay(rt: Runtime, outbox_id: int, *, dispatch: bool = True) -> bool:
    """Put a failed row back in line (boutik outbox replay ID)."""
    with unit_of_work(rt.session_factory) as session:
        done = session.execute(
            update(Outbox)
            .where(
                Outbox.id == outbox_id,
                Outbox.status.in_(
                    [OutboxStatus.FAILED, OutboxStatus.UNDELIVERED, OutboxStatus.SKIPPED]
                ),
            )
            .values(
                status=OutboxStatus.PENDING, next_attempt_at=clock.now(), attempts=0, error_code=""
            )
            .execution_options(synchronize_session=False)
        ).rowcount
    if done and dispatch:
        rt.dispatcher.dispatch([outbox_id])
    return bool(done)


# Provider states in the order they happen; a late "sent" never overwrites "delivered".
STATUS_RANK = {"sent": 2, "delivered": 3, "read": 4, "undelivered": 5, "failed": 5}
STATUS_OF = {
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.READ,
    "failed": OutboxStatus.FAILED,
    "undelivered": OutboxStatus.UNDELIVERED,
}
ROW_RANK = {
    OutboxStatus.SENDING: 1,
    OutboxStatus.SENT: 2,
    OutboxStatus.DELIVERED: 3,
    OutboxStatus.READ: 4,
    OutboxStatus.UNDELIVERED: 5,
    OutboxStatus.FAILED: 5,
}


def record_status(rt: Runtime, provider_id: str, state: str, error_code: str = "") -> bool:
    """Apply a Twilio status callback to its outbox row.

    Real Twilio accepts a WhatsApp message and reports 63016 (outside the 24 h window) or
    63014 (blocked) later, in a `failed` callback: those are acted on here as at send time.
    """
    target = STATUS_OF.get(state)
    if target is None:
        return False
    requeue = False
    with unit_of_work(rt.session_factory) as session:
        row = session.scalar(
            select(Outbox).where(Outbox.provider_message_id == provider_id).with_for_update()
        )
        if row is None or STATUS_RANK[state] < ROW_RANK.get(row.status, 0):
            return False
        row.status = target
        if error_code:
            row.error_code = error_code[:20]
        if target in (OutboxStatus.FAILED, OutboxStatus.UNDELIVERED) and row.user_id:
            user = session.get(User, row.user_id)
            if user is not None and error_code == "21610":
                user.opted_out = True
            if user is not None and error_code == "63014" and row.sent_channel is not None:
                ident = _identity(session, user.id, row.sent_channel)
                if ident is not None:
                    ident.blocked = True
            if (
                user is not None
                and error_code == "63016"
                and row.sent_channel == Channel.WHATSAPP
                and user.phone
            ):
                row.channel, row.address = Channel.SMS, user.phone
                row.status = OutboxStatus.PENDING
                row.next_attempt_at = clock.now()
                row.provider_message_id = None
                requeue = True
        row_id = row.id
    if requeue:
        rt.dispatcher.dispatch([row_id])
    return True
