"""The provider senders, one module per provider, and which one carries each channel.

Why it exists: routing decides a channel; this registry decides who carries it. Every sender
implements `base.ProviderSender`. WhatsApp has two possible carriers, chosen per deployment by
`[whatsapp] provider`: Twilio (`twilio.TwilioMessaging`, which also carries SMS) or Meta's
Cloud API (`meta.MetaWhatsApp`). SMS always goes through Twilio, Telegram through Telegram. The
choice is made here, from the configuration, so the batch loop never learns it.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from channels_adapters.senders import SendResult
from commerce.messaging.templates import META, TWILIO
from commerce.users.models import Channel
from workers.outbox.providers.base import ProviderSender
from workers.outbox.providers.meta import MetaWhatsApp
from workers.outbox.providers.telegram import TelegramBot
from workers.outbox.providers.twilio import TwilioMessaging

if TYPE_CHECKING:
    from workers.outbox.lease import Lease
    from workers.outbox.plan import Plan
    from workers.ports import Runtime

SENDERS: tuple[ProviderSender, ...] = (TwilioMessaging(), TelegramBot())
_BY_CHANNEL: dict[Channel, ProviderSender] = {
    channel: sender for sender in SENDERS for channel in sender.channels
}
# The WhatsApp carrier by `[whatsapp] provider`.
WHATSAPP: dict[str, ProviderSender] = {TWILIO: _BY_CHANNEL[Channel.WHATSAPP], META: MetaWhatsApp()}


def sender_for(channel: Channel, whatsapp_provider: str = TWILIO) -> ProviderSender:
    """Who carries `channel`; for WhatsApp, the deployment's `[whatsapp] provider`."""
    if channel == Channel.WHATSAPP:
        return WHATSAPP[whatsapp_provider]
    return _BY_CHANNEL[channel]


def send(rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
    """Send one planned row through the provider that carries its channel."""
    assert plan.reply is not None and plan.channel is not None
    return sender_for(plan.channel, rt.config.whatsapp.provider).send(rt, plan, job)


__all__ = ["SENDERS", "WHATSAPP", "ProviderSender", "send", "sender_for"]
