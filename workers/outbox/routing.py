"""Routing: which channel, which address and which content a claimed outbox row goes out with.

Why it exists apart from sending: the choice is a rule about users, not about a provider — a
user's preferred channel by role, the WhatsApp 24 h customer-service window, a template outside
it, SMS when there is none, nothing at all for an opted-out user or a blocked Telegram chat.
The window rule is the same whichever provider carries WhatsApp (`[whatsapp] provider`); only
the template differs: at Twilio a content template (configured, or synced and approved by
WhatsApp) and, inside the window, the synced menu templates; at Meta the approved message
template of the notice's kind and language (inside the window Meta sends buttons and lists as
they are, no template needed). A row WhatsApp said went out after its window closed carries
`WINDOW_CLOSED` and is never sent free-form again (`reroute_window_closed`).
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
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.messaging.notices import Notice
from commerce.users.models import Channel, ChannelIdentity, Role, User
from workers.outbox.plan import INTERRUPTED, WINDOW_CLOSED, Plan

if TYPE_CHECKING:
    from workers.ports import Runtime

WINDOW = dt.timedelta(hours=24)
TWILIO, META = templates.TWILIO, templates.META  # `[whatsapp] provider`

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
        plan.close_message_id = int(row.payload["params"].get("close_message_id") or 0)
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
        if in_window(ident) and not row.payload.get(WINDOW_CLOSED):
            if isinstance(plan.reply, Choices) and rt.config.whatsapp.provider == TWILIO:
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
    """Outside the window: the template of the row's kind at the WhatsApp provider. False when
    there is none (a pending or rejected one is not sent: WhatsApp would refuse it)."""
    if rt.config.whatsapp.provider == META:
        return use_meta_template(session, row, plan)
    return use_twilio_template(session, rt, row, plan)


def use_twilio_template(session: Session, rt: Runtime, row: Outbox, plan: Plan) -> bool:
    """The configured content template of the row's kind, else its synced one if WhatsApp
    approved it (else Twilio refuses it, 63016)."""
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


def use_meta_template(session: Session, row: Outbox, plan: Plan) -> bool:
    """The Meta message template of the row's kind and language, if Meta approved it.

    Its body is the same catalog sentence as the Twilio one, numbered the same way, so its
    parameters are the Twilio variables in order (`notice_variables`: none empty, which Meta
    refuses too)."""
    if not has_notice_template(row.kind):
        return False
    found = templates.approved_template(session, kind=row.kind, language=plan.lang, provider=META)
    if found is None:
        return False
    params: dict[str, Any] = dict(row.payload.get("params") or {})
    variables = notice_variables(row.kind, params, plan.lang)
    plan.template_name, plan.template_language = found.friendly_name, found.language
    plan.template_params = tuple(variables[str(n)] for n in range(1, len(variables) + 1))
    return True


def reroute_window_closed(row: Outbox, user: User | None) -> bool:
    """WhatsApp said `row` went out after the 24 h window closed (Twilio 63016, Meta 131047,
    at send time or in a `failed` status): put it back in line for its approved template, else
    SMS, as routing decides for any row outside the window.

    The first time the row is marked `WINDOW_CLOSED`, so it never goes free-form again. Should
    its template be refused for the window as well, it goes by SMS; after that (or for a user
    with no phone) there is nothing left to try: False, and the caller ends the row.
    """
    if user is None:
        return False
    if not row.payload.get(WINDOW_CLOSED):
        row.payload = {**row.payload, WINDOW_CLOSED: True}
    elif row.channel != Channel.SMS and user.phone:
        row.channel, row.address = Channel.SMS, user.phone
    else:
        return False
    row.status = OutboxStatus.PENDING
    row.next_attempt_at = clock.now()
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
