"""The plan of one claimed outbox row: what routing decided, what a provider sender executes.

Why a module of its own: the plan crosses every part of the outbox worker — routing fills it
inside the claim transaction, a provider sender executes it outside any transaction, and the
claim/record code writes its outcome back — so it lives below all of them and imports none.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from bot.messages import Reply
from commerce.users.models import Channel

# The mark a row gets in its payload when WhatsApp said its window was closed (Twilio 63016,
# Meta 131047) after it went out free-form: routing never sends it free-form again (template,
# else SMS), so a row cannot go round between free-form and the window forever.
WINDOW_CLOSED = "window_closed"

# The error code the sweeper leaves on a row a dead worker held "sending": its next attempt asks
# the provider whether the message went out before sending it again.
INTERRUPTED = "interrupted"


@dataclass
class Plan:
    """What to send, decided inside the claim transaction, executed outside it."""

    outbox_id: int
    channel: Channel | None = None
    address: str = ""
    reply: Reply | None = None
    kind: str = ""
    # Outside the window at Twilio: the content template's ContentSid and its variables.
    template_sid: str = ""
    template_vars: dict[str, str] = field(default_factory=dict)
    # Outside the window at Meta: the approved template's name, language code and body
    # parameters in {{1}}, {{2}}… order.
    template_name: str = ""
    template_language: str = ""
    template_params: tuple[str, ...] = ()
    # Inside the window: shape → ContentSid of the synced menu templates (`render.menu_template`).
    menu_templates: dict[str, str] = field(default_factory=dict)
    callback_query_id: str = ""
    # Telegram: the tapped message whose inline buttons go before the answer is sent.
    close_message_id: int = 0
    lang: str = "fr"
    skip_reason: str = ""
    parts_sent: int = 0
    # Set when a worker died mid-send: ask the provider before sending again.
    check_since: dt.datetime | None = None
    attempt: int = 0  # the attempt number this claim gave the row: whose claim it is
