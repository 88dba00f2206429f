"""Running one conversational turn for a route: one transaction, then hand the outbox over.

The commit happens before anything is sent: a reply exists only if the turn that produced it
was saved, and a crash after the commit loses nothing (the outbox sweeper picks it up).
"""

from __future__ import annotations

from flask import current_app

from bot.messages import InboundMessage, Turn
from commerce.db import unit_of_work
from commerce.messaging.events import take_events
from commerce.messaging.outbox import take_pending_ids


def run_turn(msg: InboundMessage) -> Turn:
    rt = current_app.extensions["boutik"]
    with unit_of_work(rt.session_factory) as session:
        turn = rt.bot_engine.handle(session, msg)
        ids = take_pending_ids(session)
        events = take_events(session)
    rt.after_commit(ids, events)  # the replies, and e.g. a published job's courier offer waves
    return turn


def update_delivery_status(
    provider_id: str, state: str, error_code: str = "", reason: str = ""
) -> bool:
    return current_app.extensions["boutik"].record_status(provider_id, state, error_code, reason)
