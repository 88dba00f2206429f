"""Sending a planned row through Twilio: WhatsApp (free-form or content template) and SMS.

Why it exists: both channels go through Twilio's Messages API and share its status callback and
its crash lookup (`find_sent`: did the interrupted attempt reach Twilio?). WhatsApp media are
signed, expiring links to our own media route; a content template is sent as `ContentSid` +
`ContentVariables`. A long SMS goes out as several parts, each paced per segment, and the
number of parts sent is recorded on the row after each one, so a crash or a retry resumes after
the last part sent instead of texting the first ones twice.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from channels_adapters import render
from channels_adapters.media import signed_media_url
from channels_adapters.senders import SendResult
from commerce.db import unit_of_work
from commerce.messaging.models import Outbox
from commerce.users.models import Channel
from settings.config import signing_key
from workers.outbox.lease import pace

if TYPE_CHECKING:
    from workers.outbox.lease import Lease
    from workers.outbox.plan import Plan
    from workers.ports import Runtime

log = logging.getLogger("workers.outbox")


class TwilioMessaging:
    """WhatsApp and SMS, through `rt.twilio_sender`."""

    channels = frozenset({Channel.WHATSAPP, Channel.SMS})

    def send(self, rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
        if plan.channel == Channel.WHATSAPP:
            return send_whatsapp(rt, plan, job)
        return send_sms(rt, plan, job)


def _status_callback(rt: Runtime) -> str:
    return f"{rt.config.web.public_base_url.rstrip('/')}/webhooks/twilio/status"


def send_whatsapp(rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
    assert plan.reply is not None
    cfg = rt.config
    status_callback = _status_callback(rt)
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
            stored=plan.menu_templates,
            media_url=lambda p: signed_media_url(
                cfg.web.public_base_url, p, key=signing_key(cfg), ttl_s=cfg.web.media_link_ttl_s
            ),
        )
    if plan.check_since is not None:
        sid = rt.twilio_sender.find_sent(to=to, body=req.body or None, since=plan.check_since)
        log.info("outbox %s interrupted: %s at Twilio", plan.outbox_id, sid or "not found")
        if sid:
            return SendResult(provider_id=sid)
    pace(rt, plan.outbox_id, [(f"wa:{from_}", cfg.twilio.whatsapp_rate_per_s, 1)], job)
    return rt.twilio_sender.send(
        to=to,
        from_=from_,
        body=req.body or None,
        media_urls=list(req.media_urls) or None,
        content_sid=req.content_sid or None,
        content_variables=req.content_variables or None,
        status_callback=status_callback,
    )


def send_sms(rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
    assert plan.reply is not None
    cfg = rt.config
    status_callback = _status_callback(rt)
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
            pace(
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
            record_part(rt, plan.outbox_id, index + 1)
    return result


def record_part(rt: Runtime, outbox_id: int, parts_sent: int) -> None:
    """Remember how many parts of a long SMS went out, so that a retry resumes after them."""
    with unit_of_work(rt.session_factory) as session:
        row = session.get(Outbox, outbox_id)
        if row is not None:
            row.payload = {**row.payload, "parts_sent": parts_sent}
