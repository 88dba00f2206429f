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
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor, wait
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, TypeVar

from sqlalchemy import bindparam, case, func, or_, select, tuple_, update
from sqlalchemy.exc import DBAPIError, SQLAlchemyError
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


# A job records what it sent at most this late (and after at most FLUSH_ROWS sends): one
# transaction for several rows instead of one per row, while a Twilio status callback — which
# looks the row up by its provider id — still finds it recorded.
FLUSH_ROWS = 20
FLUSH_S = 0.5
# After a PostgreSQL restart the first statements fail on dead pooled connections; writes that
# record a send already made are retried for this long rather than left to the sweeper.
DB_RETRY_S = 20.0

T = TypeVar("T")


def _heartbeat_s(rt: Runtime) -> float:
    """Touch claimed rows well inside `stale_sending_s`, so the sweeper never takes them."""
    return max(0.05, min(HEARTBEAT_S, rt.config.queue.stale_sending_s / 4))


def _db_retry(fn: Callable[[], T], *, budget_s: float | None = None) -> T:
    """Run a short transaction again while the database is unreachable (restart, failover).

    Only connection-level errors are retried (a statement the database refused is a bug and
    is raised at once). pool_pre_ping replaces dead connections at checkout, but a connection
    that dies during a transaction fails that transaction: the whole `fn` is run again.
    """
    deadline = time.monotonic() + (DB_RETRY_S if budget_s is None else budget_s)
    pause = 0.1
    while True:
        try:
            return fn()
        except DBAPIError as exc:
            if not exc.connection_invalidated and not _is_disconnect(exc):
                raise
            if time.monotonic() + pause > deadline:
                raise
            log.info("database unreachable (%s): retrying in %.1fs", type(exc.orig).__name__, pause)
            time.sleep(pause)
            pause = min(pause * 2, 2.0)


def _is_disconnect(exc: DBAPIError) -> bool:
    from sqlalchemy.exc import InterfaceError, OperationalError

    return isinstance(exc, OperationalError | InterfaceError)


class LeaseLost(Exception):
    """A claimed row was taken back by the sweeper (or claimed anew) before it was sent."""


class _Job:
    """The rows of one job between their claim and the record of their sends.

    `waiting` are claimed and not yet handed to the provider. Every heartbeat interval they
    are renewed: touched, and checked to be still ours (status sending, with the attempt
    number our claim gave them). A row the sweeper took back while we waited (a stall longer
    than `stale_sending_s`) is dropped, never sent, because another worker may be sending it.
    Renewals and `started` exclude each other (the lock), so a row is never touched after its
    send began: its updated_at must stay at or before the send, because the crash lookup asks
    Twilio for messages since then. A job that dies of an exception puts its waiting rows back
    to pending.
    `done` are sent and not yet recorded; until `flush` they stay "sending", and a crash leaves
    them to the sweeper, whose retry asks Twilio first (INTERRUPTED), so a late record costs a
    lookup, never a duplicate.
    """

    def __init__(self, rt: Runtime, claimed: dict[int, int]) -> None:
        self.rt = rt
        self.attempts = dict(claimed)  # outbox id -> the attempt number our claim gave it
        self.waiting: list[int] = list(claimed)
        self.lost: set[int] = set()
        self.done: list[tuple[Plan, SendResult, dt.datetime]] = []
        self.oldest = 0.0
        self.touched = time.monotonic()
        self.stopping = False  # set when the job is failing: no new send may start
        # The sending threads of one job share it; the lock is held across a flush so that
        # two threads never record the same rows twice, and across a renewal (see above).
        self.lock = threading.RLock()

    def started(self, outbox_id: int) -> None:
        """`outbox_id` goes to the provider now: from here only the sweeper may take it back."""
        with self.lock:
            if outbox_id in self.lost:
                raise LeaseLost(outbox_id)
            if outbox_id in self.waiting:
                self.waiting.remove(outbox_id)

    def forget(self, outbox_id: int) -> None:
        """`outbox_id` was handed to the provider (or found there): no longer waiting."""
        with self.lock:
            if outbox_id in self.waiting:
                self.waiting.remove(outbox_id)

    def is_waiting(self, outbox_id: int) -> bool:
        with self.lock:
            return outbox_id in self.waiting

    def owns(self, outbox_id: int) -> bool:
        with self.lock:
            return outbox_id not in self.lost

    def keep_alive(self) -> None:
        """Renew the waiting rows once a heartbeat interval has passed since the last time."""
        with self.lock:
            if time.monotonic() - self.touched >= _heartbeat_s(self.rt):
                self.renew()

    def renew(self) -> None:
        """Touch the waiting rows that are still ours; forget the ones that are not."""
        with self.lock:
            if self.waiting:
                held = _db_retry(lambda: _renew(self.rt, self.waiting))
                for outbox_id in list(self.waiting):
                    if held.get(outbox_id) != self.attempts[outbox_id]:
                        log.warning("outbox %s was taken back before its send", outbox_id)
                        self.waiting.remove(outbox_id)
                        self.lost.add(outbox_id)
            self.touched = time.monotonic()

    def sent(self, plan: Plan, result: SendResult) -> None:
        with self.lock:
            self.forget(plan.outbox_id)
            if not self.done:
                self.oldest = time.monotonic()
            self.done.append((plan, result, clock.now()))
            if len(self.done) >= FLUSH_ROWS or time.monotonic() - self.oldest >= FLUSH_S:
                self.flush()

    def flush(self) -> None:
        with self.lock:
            if self.done:
                done = self.done
                _db_retry(lambda: _finish_many(self.rt, done))
                self.done = []

    def abandon(self) -> None:
        """After an unexpected error: record what went out, release what never left."""
        try:
            self.flush()
        except Exception:
            log.exception("could not record %d sent rows: the sweeper will", len(self.done))
        with self.lock:
            waiting = [(outbox_id, self.attempts[outbox_id]) for outbox_id in self.waiting]
        if not waiting:
            return
        try:
            with unit_of_work(self.rt.session_factory) as session:
                session.execute(
                    update(Outbox)
                    .where(
                        # only rows still held by this claim (id and attempt number)
                        tuple_(Outbox.id, Outbox.attempts).in_(waiting),
                        Outbox.status == OutboxStatus.SENDING,
                    )
                    .values(status=OutboxStatus.PENDING, updated_at=clock.now())
                    .execution_options(synchronize_session=False)
                )
        except Exception:
            log.exception("could not release rows %s: the sweeper will", waiting)


def _touch(rt: Runtime, outbox_ids: list[int]) -> None:
    if not outbox_ids:
        return
    with unit_of_work(rt.session_factory) as session:
        session.execute(
            update(Outbox)
            .where(Outbox.id.in_(outbox_ids), Outbox.status == OutboxStatus.SENDING)
            .values(updated_at=clock.now())
            .execution_options(synchronize_session=False)
        )


def _renew(rt: Runtime, outbox_ids: list[int]) -> dict[int, int]:
    """Touch the rows still sending; return their attempt numbers by id."""
    with unit_of_work(rt.session_factory) as session:
        return {
            outbox_id: attempts
            for outbox_id, attempts in session.execute(
                update(Outbox)
                .where(Outbox.id.in_(outbox_ids), Outbox.status == OutboxStatus.SENDING)
                .values(updated_at=clock.now())
                .returning(Outbox.id, Outbox.attempts)
                .execution_options(synchronize_session=False)
            ).all()
        }


def _pace(
    rt: Runtime,
    outbox_id: int,
    keys_rates: list[tuple[str, float, int]],
    job: _Job | None = None,
) -> None:
    """Wait for the shared send slot, keeping the claimed rows visibly alive meanwhile.

    Under a backlog (an SMS sender at 1 segment/s) the wait can outlast `stale_sending_s`; the
    rows' updated_at is touched every few seconds so the sweeper never mistakes a patient
    worker for a dead one and sends the message a second time. Sends already made are recorded
    before a wait, not after it.
    """
    delay = rt.limiter.reserve_all(with_headroom(keys_rates), cost=1)
    deadline = time.monotonic() + delay
    if delay > 0 and job is not None:
        job.flush()
    while (remaining := deadline - time.monotonic()) > 0:
        time.sleep(min(remaining, _heartbeat_s(rt)))
        if deadline - time.monotonic() > 0:
            if job is None or not job.is_waiting(outbox_id):
                # A later part of a long SMS: its earlier parts are recorded (parts_sent), and
                # this part is not sent yet, so touching the row cannot hide a send.
                _touch(rt, [outbox_id])
            if job is not None:
                job.keep_alive()
    if job is not None:
        job.keep_alive()
        job.started(outbox_id)  # raises LeaseLost if the row is no longer ours


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
    attempt: int = 0  # the attempt number this claim gave the row: whose claim it is


_IDENTITIES = "boutik_outbox_identities"  # session.info: identities prefetched for a batch


def _identity(session: Session, user_id: int, channel: Channel) -> ChannelIdentity | None:
    known: dict[int, dict[Channel, ChannelIdentity]] | None = session.info.get(_IDENTITIES)
    if known is not None and user_id in known:
        return known[user_id].get(channel)
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
    return claim_batch(rt, [outbox_id]).get(outbox_id)


def claim_batch(rt: Runtime, outbox_ids: list[int]) -> dict[int, Plan]:
    """Claim the due rows among `outbox_ids` and plan each one, in one transaction.

    One conditional UPDATE … RETURNING claims them all (pending → sending: a row claimed by
    another worker, or already sent, is simply not returned), and the rows, their users and
    the users' channel identities are read with one query each, instead of five round trips
    per row. A row that cannot be planned (a payload the renderer rejects) fails alone, with
    its reason, instead of failing its whole batch forever.
    """
    now = clock.now()
    plans: dict[int, Plan] = {}
    with unit_of_work(rt.session_factory) as session:
        claimed_rows = list(
            session.execute(
                update(Outbox)
                .where(
                    Outbox.id.in_(outbox_ids),
                    Outbox.status == OutboxStatus.PENDING,
                    Outbox.next_attempt_at <= now,
                )
                .values(status=OutboxStatus.SENDING, attempts=Outbox.attempts + 1, updated_at=now)
                .returning(Outbox.id, Outbox.attempts)
                .execution_options(synchronize_session=False)
            ).all()
        )
        if not claimed_rows:
            return plans
        attempts = dict(claimed_rows)
        claimed = list(attempts)
        rows = {r.id: r for r in session.scalars(select(Outbox).where(Outbox.id.in_(claimed)))}
        user_ids = {r.user_id for r in rows.values() if r.user_id}
        users: list[User] = []
        if user_ids:
            # Held in a local: the session's identity map keeps only weak references, and
            # plan_for's session.get(User, …) must find them there, not query again.
            users = list(session.scalars(select(User).where(User.id.in_(user_ids))))
            known: dict[int, dict[Channel, ChannelIdentity]] = {uid: {} for uid in user_ids}
            for ident in session.scalars(
                select(ChannelIdentity).where(ChannelIdentity.user_id.in_(user_ids))
            ):
                known[ident.user_id][ident.channel] = ident
            session.info[_IDENTITIES] = known
        for outbox_id in outbox_ids:
            row = rows.get(outbox_id)
            if row is None:
                continue
            try:
                plan = plan_for(session, rt, row)
            except SQLAlchemyError:
                raise
            except Exception as exc:  # one bad payload must not hold back the rows after it
                log.exception("outbox %s cannot be rendered", outbox_id)
                row.status = OutboxStatus.FAILED
                row.error_code = "render"
                row.last_error = f"{type(exc).__name__}: {exc}"[:500]
                continue
            if plan.skip_reason:
                row.status = OutboxStatus.SKIPPED
                row.last_error = plan.skip_reason
                continue
            plan.attempt = attempts[outbox_id]
            plans[outbox_id] = plan
        session.info.pop(_IDENTITIES, None)
        log.debug("planned %d rows for %d users", len(plans), len(users))
    return plans


def _send(rt: Runtime, plan: Plan, job: _Job | None = None) -> SendResult:
    assert plan.reply is not None and plan.channel is not None
    cfg = rt.config
    if plan.channel == Channel.TELEGRAM:
        return _send_telegram(rt, plan, job)
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
            log.info("outbox %s interrupted: %s at Twilio", plan.outbox_id, sid or "not found")
            if sid:
                return SendResult(provider_id=sid)
        _pace(rt, plan.outbox_id, [(f"wa:{from_}", cfg.twilio.whatsapp_rate_per_s, 1)], job)
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
            log.info("outbox %s interrupted: %s at Twilio", plan.outbox_id, found or "not found")
        if found:
            result = SendResult(provider_id=found)
        else:
            _pace(
                rt,
                plan.outbox_id,
                [(f"sms:{cfg.twilio.sms_from}", cfg.twilio.sms_segments_per_s, 1)],
                job,
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


def _send_telegram(rt: Runtime, plan: Plan, job: _Job | None = None) -> SendResult:
    cfg = rt.config
    req = render.render_telegram(plan.reply, lang=plan.lang)  # type: ignore[arg-type]
    _pace(
        rt,
        plan.outbox_id,
        [
            ("tg", cfg.telegram.rate_per_s, 1),
            (f"tg:{plan.address}", cfg.telegram.rate_per_chat_per_s, 1),
        ],
        job,
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
    _finish_many(rt, [(plan, result, clock.now())])


_OUTBOX = Outbox.__table__
# What a send changes on its row, for many rows in one executemany. A row the sweeper put back
# to pending meanwhile is marked sent too: it went out, and its retry must not send it again.
_FINISH = (
    update(_OUTBOX)
    .where(_OUTBOX.c.id == bindparam("b_id"))
    .values(
        status=case(
            (
                # two comparisons, not IN: executemany cannot expand a list parameter
                or_(
                    _OUTBOX.c.status == OutboxStatus.PENDING,
                    _OUTBOX.c.status == OutboxStatus.SENDING,
                ),
                bindparam("b_sent", OutboxStatus.SENT, type_=_OUTBOX.c.status.type),
            ),
            else_=_OUTBOX.c.status,
        ),
        provider_message_id=func.coalesce(
            bindparam("b_pid", type_=_OUTBOX.c.provider_message_id.type),
            _OUTBOX.c.provider_message_id,
        ),
        sent_at=bindparam("b_at", type_=_OUTBOX.c.sent_at.type),
        sent_channel=bindparam("b_channel", type_=_OUTBOX.c.sent_channel.type),
        sent_address=bindparam("b_address", type_=_OUTBOX.c.sent_address.type),
        error_code="",
        last_error="",
        updated_at=bindparam("b_now", type_=_OUTBOX.c.updated_at.type),
    )
)


def _finish_many(rt: Runtime, done: list[tuple[Plan, SendResult, dt.datetime]]) -> None:
    """Record several sends in one transaction (one executemany round trip)."""
    now = clock.now()
    params = [
        {
            "b_id": plan.outbox_id,
            "b_sent": OutboxStatus.SENT,
            "b_pid": result.provider_id or None,
            "b_at": at,
            "b_channel": plan.channel,
            "b_address": plan.address,
            "b_now": now,
        }
        for plan, result, at in done
    ]
    with unit_of_work(rt.session_factory) as session:
        session.connection().execute(_FINISH, params)


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
    return deliver_batch(rt, [outbox_id])[0]


# Conversations one worker process sends to at the same time. A send is mostly waiting for
# the provider (a loopback emulator answers in ~2 ms, api.twilio.com in 100–300 ms), so one
# process sending one message at a time stays far below a WhatsApp sender's 80 msg/s; the
# shared Redis limiter, not this number, is what keeps the rate under the provider's limit.
# Rows for one recipient are never split across threads: they go in order, one after another.
SEND_THREADS = 8
_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def _send_pool() -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=SEND_THREADS, thread_name_prefix="outbox-send")
        return _pool


def _conversations(outbox_ids: list[int], plans: dict[int, Plan]) -> list[list[Plan]]:
    """The claimed rows grouped by recipient, each group in the order given."""
    groups: dict[tuple[str, str], list[Plan]] = {}
    for outbox_id in outbox_ids:
        plan = plans.get(outbox_id)
        if plan is not None:
            groups.setdefault((str(plan.channel), plan.address), []).append(plan)
    return list(groups.values())


def deliver_batch(rt: Runtime, outbox_ids: list[int]) -> list[str]:
    """Send a batch of rows; one outcome per row (sent, retry, failed or skipped).

    The rows are claimed together and their sends recorded together (every FLUSH_ROWS rows or
    FLUSH_S seconds, and before any wait for a send slot), so a batch costs a few database
    round trips instead of several per row. Rows to one recipient go one after the other in
    the order given — a turn's replies arrive in the order they were written — while up to
    SEND_THREADS recipients are sent to at the same time.
    """
    plans = _db_retry(lambda: claim_batch(rt, outbox_ids))
    job = _Job(rt, {i: plans[i].attempt for i in outbox_ids if i in plans})
    outcomes: dict[int, str] = {}
    groups = _conversations(outbox_ids, plans)
    try:
        if SEND_THREADS <= 1 or len(groups) <= 1:
            for group in groups:
                outcomes.update(_send_group(rt, job, group))
        else:
            futures = [_send_pool().submit(_send_group, rt, job, group) for group in groups]
            try:
                for future in futures:
                    outcomes.update(future.result())
            except BaseException:
                job.stopping = True  # the other threads finish the send they are in, then stop
                wait(futures)
                raise
        job.flush()
    except BaseException:
        job.abandon()
        raise
    return [outcomes.get(i, "skipped") for i in outbox_ids]


def _send_group(rt: Runtime, job: _Job, group: list[Plan]) -> dict[int, str]:
    """Send one recipient's rows in order (runs on a pool thread, or inline)."""
    outcomes: dict[int, str] = {}
    for plan in group:
        if job.stopping:
            break
        job.keep_alive()
        if not job.owns(plan.outbox_id):
            outcomes[plan.outbox_id] = "skipped"  # taken back while we waited: not ours now
            continue
        try:
            result = _send(rt, plan, job)
        except LeaseLost:
            outcomes[plan.outbox_id] = "skipped"
            continue
        except SendError as err:
            job.forget(plan.outbox_id)
            job.flush()
            outcomes[plan.outbox_id] = _failed(rt, plan, err)
            continue
        job.sent(plan, result)
        outcomes[plan.outbox_id] = "sent"
    return outcomes


def _failed(rt: Runtime, plan: Plan, err: SendError) -> str:
    delay = _db_retry(lambda: _fail(rt, plan, err))
    where = mask_phone(plan.address) if plan.channel != Channel.TELEGRAM else "tg"
    if delay is None:
        log.warning("outbox %s to %s failed for good: %s", plan.outbox_id, where, err.code)
        return "failed"
    log.info("outbox %s to %s retry in %.0fs: %s", plan.outbox_id, where, delay, err.code)
    rt.dispatcher.schedule(plan.outbox_id, delay)
    return "retry"


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
                # The attempt began at updated_at: the provider is asked from then on. A row
                # interrupted again (claimed by a job that died before reaching it) keeps the
                # first attempt's instant: that attempt may have sent it, and asking only from
                # the later claim would miss that message and send it a second time.
                sent_at=case(
                    (
                        Outbox.error_code == INTERRUPTED,
                        func.coalesce(Outbox.sent_at, Outbox.updated_at),
                    ),
                    else_=Outbox.updated_at,
                ),
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
