"""Routing: which channel, which address and which content a claimed outbox row goes out with.

Why it exists apart from sending: the choice is a rule about users, not about a provider — a
user's preferred channel by role, the WhatsApp 24 h customer-service window, an approved
content template outside it, SMS when there is none, nothing at all for an opted-out user or a
blocked Telegram chat. It runs inside the claim transaction (it reads the user and their
channel identities) and produces a `Plan`; the provider senders only execute plans.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import reply_from_json
from bot.notifications import render_notification
from commerce import clock
from commerce.messaging.models import Outbox
from commerce.messaging.notices import Notice
from commerce.users.models import Channel, ChannelIdentity, Role, User
from workers.outbox.plan import INTERRUPTED, Plan

if TYPE_CHECKING:
    from workers.ports import Runtime

WINDOW = dt.timedelta(hours=24)

IDENTITIES = "boutik_outbox_identities"  # session.info: identities prefetched for a batch


def identity(session: Session, user_id: int, channel: Channel) -> ChannelIdentity | None:
    known: dict[int, dict[Channel, ChannelIdentity]] | None = session.info.get(IDENTITIES)
    if known is not None and user_id in known:
        return known[user_id].get(channel)
    return session.scalar(
        select(ChannelIdentity).where(
            ChannelIdentity.user_id == user_id, ChannelIdentity.channel == channel
        )
    )


def in_window(ident: ChannelIdentity | None) -> bool:
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
    if row.kind == Notice.REPLY:
        plan.reply = reply_from_json(row.payload["params"]["reply"])
        plan.callback_query_id = str(row.payload["params"].get("callback_query_id", ""))
    else:
        params: dict[str, Any] = dict(row.payload.get("params") or {})
        plan.reply = render_notification(session, user, row.kind, params, plan.lang)
    channel, address = row.channel, row.address
    if channel is None and user is not None:
        channel, address = preferred_channel(session, user)
    if channel is None or not address:
        plan.skip_reason = "no_channel"
        return plan
    if channel == Channel.WHATSAPP:
        ident = identity(session, user.id, Channel.WHATSAPP) if user else None
        if not in_window(ident):
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
        ident = identity(session, user.id, Channel.TELEGRAM)
        if ident is not None and ident.blocked:
            plan.skip_reason = "blocked"
            return plan
    plan.channel, plan.address = channel, address
    return plan


def preferred_channel(session: Session, user: User) -> tuple[Channel | None, str]:
    """Sellers and admins live on Telegram, couriers on SMS, buyers on WhatsApp."""
    if user.telegram_id is not None and (user.has_role(Role.SELLER) or user.has_role(Role.ADMIN)):
        return Channel.TELEGRAM, str(user.telegram_id)
    if user.has_role(Role.COURIER) and user.phone:
        return Channel.SMS, user.phone
    if user.phone and identity(session, user.id, Channel.WHATSAPP) is not None:
        return Channel.WHATSAPP, user.phone
    if user.telegram_id is not None:
        return Channel.TELEGRAM, str(user.telegram_id)
    if user.phone:
        return Channel.SMS, user.phone
    return None, ""
