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
    template_sid: str = ""
    template_vars: dict[str, str] = field(default_factory=dict)
    # Inside the window: shape → ContentSid of the synced menu templates (`render.menu_template`).
    menu_templates: dict[str, str] = field(default_factory=dict)
    callback_query_id: str = ""
    lang: str = "fr"
    skip_reason: str = ""
    parts_sent: int = 0
    # Set when a worker died mid-send: ask the provider before sending again.
    check_since: dt.datetime | None = None
    attempt: int = 0  # the attempt number this claim gave the row: whose claim it is
