"""Provider status callbacks applied to outbox rows, in the order the states happen.

Why it exists: Twilio's status callbacks and Meta's status webhooks report a message's fate
after the send, and can arrive late, twice or out of order. The ranks below make a late "sent"
never overwrite "delivered", and a `failed` status carrying a terminal error is acted on as at
send time (opted out, blocked, outside the WhatsApp window → the row goes back in line for its
template, else SMS); the provider's words for a failure are kept on the row.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from sqlalchemy import select

from commerce.db import unit_of_work
from commerce.messaging.models import Outbox, OutboxStatus
from commerce.users.models import Channel, User
from workers.outbox.routing import identity, reroute_window_closed

if TYPE_CHECKING:
    from workers.ports import Runtime

# A `failed` status saying the message reached WhatsApp after its 24 h window closed: Twilio's
# 63016, Meta's 131047. The row goes back in line for its template, else SMS.
OUTSIDE_WINDOW = frozenset({"63016", "131047"})

# Provider states in the order they happen; a late "sent" never overwrites "delivered".
STATUS_RANK = {"sent": 2, "delivered": 3, "read": 4, "undelivered": 5, "failed": 5}
STATUS_OF = {
    "sent": OutboxStatus.SENT,
    "delivered": OutboxStatus.DELIVERED,
    "read": OutboxStatus.READ,
    "failed": OutboxStatus.FAILED,
    "undelivered": OutboxStatus.UNDELIVERED,
}
ROW_RANK = {
    OutboxStatus.SENDING: 1,
    OutboxStatus.SENT: 2,
    OutboxStatus.DELIVERED: 3,
    OutboxStatus.READ: 4,
    OutboxStatus.UNDELIVERED: 5,
    OutboxStatus.FAILED: 5,
}


def record_status(
    rt: Runtime, provider_id: str, state: str, error_code: str = "", reason: str = ""
) -> bool:
    """Apply a provider's status (Twilio callback, Meta status webhook) to its outbox row.

    Real Twilio accepts a WhatsApp message and reports 63016 (outside the 24 h window) or
    63014 (blocked) later, in a `failed` callback, as Meta reports 131047 in a `failed` status:
    those are acted on here as at send time.
    """
    target = STATUS_OF.get(state)
    if target is None:
        return False
    requeue = False
    with unit_of_work(rt.session_factory) as session:
        row = session.scalar(
            select(Outbox).where(Outbox.provider_message_id == provider_id).with_for_update()
        )
        if row is None or STATUS_RANK[state] < ROW_RANK.get(row.status, 0):
            return False
        row.status = target
        if error_code:
            row.error_code = error_code[:20]
        if reason:
            row.last_error = reason[:500]
        if target in (OutboxStatus.FAILED, OutboxStatus.UNDELIVERED) and row.user_id:
            user = session.get(User, row.user_id)
            if user is not None and error_code == "21610":
                user.opted_out = True
            if user is not None and error_code == "63014" and row.sent_channel is not None:
                ident = identity(session, user.id, row.sent_channel)
                if ident is not None:
                    ident.blocked = True
            if (
                error_code in OUTSIDE_WINDOW
                and row.sent_channel == Channel.WHATSAPP
                and reroute_window_closed(row, user)
            ):
                row.provider_message_id = None
                requeue = True
        row_id = row.id
    if requeue:
        rt.dispatcher.dispatch([row_id])
    return True
