"""The seam between the outbox worker and a messaging provider: one protocol, one per provider.

Why it exists: the batch loop (workers/outbox/batch.py) must not know which provider carries a
channel. It hands each planned row to the sender registered for the plan's channel
(`providers.sender_for`), and every sender keeps the same contract:

- render `plan.reply` (or the plan's template: Twilio `template_sid` + `template_vars`, Meta
  `template_name` + `template_params`) for its channel, turning media
  paths into what the provider accepts (a signed link, bytes, a provider file id);
- when `plan.check_since` is set (a worker died mid-send), ask the provider whether the message
  already went out since then, and return that message instead of sending it twice (where the
  provider can tell: Twilio can, the Cloud API cannot);
- before each provider call, wait for the shared rate-limit slot with `lease.pace(...)`, which
  keeps the claim alive and raises `LeaseLost` when the row is no longer ours;
- return the provider's `SendResult`, or raise its `SendError` (retryable or terminal): the
  caller records either outcome; a sender writes to the database only to resume (SMS parts).

A provider is one module with a class like these and one entry in `providers/__init__.py`
(the WhatsApp Cloud API from Meta, `providers.meta`, was added that way). A provider that
cannot be asked what it already sent (Meta) sends again when `plan.check_since` is set, and
says so in the log.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Protocol

from channels_adapters.senders import SendResult
from commerce.users.models import Channel

if TYPE_CHECKING:
    from workers.outbox.lease import Lease
    from workers.outbox.plan import Plan
    from workers.ports import Runtime


class ProviderSender(Protocol):
    """Sends one planned outbox row through one provider's SDK wrapper."""

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels this provider can carry."""
        ...

    def send(self, rt: Runtime, plan: Plan, job: Lease | None = None) -> SendResult:
        """Render, pace and send `plan` (channel, address and reply are set)."""
        ...
