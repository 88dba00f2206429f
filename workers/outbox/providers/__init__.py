"""The provider senders, one module per provider, and which one carries each channel.

Why it exists: routing decides a channel; this registry decides who carries it. Every sender
implements `base.ProviderSender`. A second WhatsApp provider (the Meta Cloud API) is added here
with the rule that picks it (configuration), without touching the batch loop.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from channels_adapters.senders import SendResult
from commerce.users.models import Channel
from workers.outbox.providers.base import ProviderSender
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


def sender_for(channel: Channel) -> ProviderSender:
    return _BY_CHANNEL[channel]


def send(rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
    """Send one planned row through the provider that carries its channel."""
    assert plan.reply is not None and plan.channel is not None
    return sender_for(plan.channel).send(rt, plan, job)


__all__ = ["SENDERS", "ProviderSender", "send", "sender_for"]
