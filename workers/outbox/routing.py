"""Routing: which channel, which address and which content a claimed outbox row goes out with.

Why it exists apart from sending: the choice is a rule about users, not about a provider — a
user's preferred channel by role, the WhatsApp 24 h customer-service window, a content template
outside it (configured, or synced and approved by WhatsApp), SMS when there is none, nothing at
all for an opted-out user or a blocked Telegram chat; inside it, the synced menu templates.
It runs inside the claim transaction (it reads the user and their channel identities) and
produces a `Plan`; the provider senders only execute plans.
"""

from __future__ import annotations

import datetime as dt
from typing import TYPE_CHECKING, Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from bot.messages import Choices, reply_from_json
from bot.notifications import render_notification
from channels_adapters.twilio_templates import has_notice_template, notice_variables
from commerce import clock
from commerce.messaging import templates
from commerce.messaging.models import Outbox
from commerce.messaging.notices import Notice
from commerce.users.models import Channel, ChannelIdentity, Role, User
from workers.outbox.plan import INTERRUPTED, Plan

if TYPE_CHECKING:
    from workers.ports import Runtime

WINDOW = dt.timedelta(hours=24)

IDENTITIES = "boutik_outbox_identities"  # session.info: identities prefetched for a batch
MENUS = "boutik_outbox_menu_templates"  # session.info: the synced menu templates


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
        if in_window(ident):
            if isinstance(plan.reply, Choices):
                plan.menu_templates = menu_templates(session)
        elif not use_template(session, rt, row, plan):
            if user is not None and user.phone:
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


def use_template(session: Session, rt: Runtime, row: Outbox, plan: Plan) -> bool:
    """Outside the window: the configured template of the row's kind, else its synced template
    if WhatsApp approved it. False when there is neither (a pending or rejected one is not
    sent: WhatsApp would refuse it, 63016)."""
    params: dict[str, Any] = dict(row.payload.get("params") or {})
    configured = rt.config.twilio.content_templates.get(row.kind, "")
    if configured:  # an operator's own template, with the parameters under their own names
        plan.template_sid = configured
        plan.template_vars = {str(k): str(v) for k, v in params.items()}
        return True
    if not has_notice_template(row.kind):
        return False
    sid = templates.approved_sid(session, kind=row.kind, language=plan.lang)
    if not sid:
        return False
    plan.template_sid = sid
    plan.template_vars = notice_variables(row.kind, params, plan.lang)
    return True


def menu_templates(session: Session) -> dict[str, str]:
    """The synced menu templates, read once per claim session (a batch shares them)."""
    known: dict[str, str] | None = session.info.get(MENUS)
    if known is None:
        known = session.info[MENUS] = templates.menu_sids(session)
    return known


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
