"""Sending a planned row through Meta's WhatsApp Cloud API (the Graph API, no intermediary).

Why it exists: the Cloud API is the second provider that can carry WhatsApp
(`[whatsapp] provider = "meta"`). Inside the window it sends buttons, lists and location
requests as they are (`channels_adapters.meta_render`); outside it, the approved message
template routing chose (`Plan.template_name`). Media go as our signed /media links. Every send
waits for its slot in the shared Redis limiter under one key per business phone number
(`meta:<phone-number-id>`, `[meta] rate_per_s`, Meta's default 80 msg/s), whichever worker
sends it.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from channels_adapters.media import signed_media_url
from channels_adapters.meta_render import render_meta, template_message
from channels_adapters.senders import SendResult
from commerce.users.models import Channel
from settings.config import signing_key
from workers.outbox.lease import pace

if TYPE_CHECKING:
    from workers.outbox.lease import Lease
    from workers.outbox.plan import Plan
    from workers.ports import Runtime

log = logging.getLogger("workers.outbox")


class MetaWhatsApp:
    """WhatsApp through `rt.meta_sender` (SMS stays with Twilio, whoever carries WhatsApp).

    A row a dead worker left mid-send (`plan.check_since`) is sent again: unlike Twilio, the
    Cloud API has no list of sent messages to ask whether the interrupted attempt got through,
    and no idempotency key, so the buyer may receive that one message twice. The log says so;
    losing a message would be worse than repeating one.
    """

    channels = frozenset({Channel.WHATSAPP})

    def send(self, rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
        cfg = rt.config
        if plan.template_name:
            message = template_message(
                plan.template_name, plan.template_language, list(plan.template_params)
            )
        else:
            assert plan.reply is not None
            message = render_meta(
                plan.reply,
                lang=plan.lang,
                media_url=lambda p: signed_media_url(
                    cfg.web.public_base_url,
                    p,
                    key=signing_key(cfg),
                    ttl_s=cfg.web.media_link_ttl_s,
                ),
            )
        if plan.check_since is not None:
            log.info(
                "outbox %s interrupted: the Cloud API cannot say whether it went out; "
                "sending again (a duplicate is possible)",
                plan.outbox_id,
            )
        pace(
            rt,
            plan.outbox_id,
            [(f"meta:{cfg.meta.phone_number_id}", cfg.meta.rate_per_s, 1)],
            job,
        )
        return rt.meta_sender.send_message(e164(plan.address), message)


def e164(address: str) -> str:
    """ "+224…" whatever the row holds ("whatsapp:+224…", "224 62…"): what the Graph API takes."""
    return "+" + "".join(ch for ch in address if ch.isdigit())
