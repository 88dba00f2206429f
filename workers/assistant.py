"""Support questions answered in a worker: the model call never runs inside a webhook.

`answer_support_question` takes ids only (the question waits in the conversation's data under
a reference number), reloads everything, and is idempotent: the pending question is cleared in
the same transaction that writes the reply, so a retried job finds nothing left to do.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING, Any

from sqlalchemy.orm import Session

from bot.handoff_flow import hand_off_to_human, order_in_context
from bot.messages import Text, reply_to_json
from bot.support.agent import answer
from bot.support.retrieval import SupportAnswer
from commerce.db import unit_of_work
from commerce.messaging.models import ConversationState
from commerce.messaging.notices import Notice
from commerce.messaging.outbox import notify, take_pending_ids
from commerce.users.models import User

if TYPE_CHECKING:
    from workers.ports import Runtime

log = logging.getLogger(__name__)


def _pending(conv: ConversationState | None, user_id: int, ref: int) -> dict[str, Any] | None:
    if conv is None or conv.user_id != user_id or conv.human_mode:
        return None
    pending = (conv.data.get("support") or {}).get("pending")
    return pending if isinstance(pending, dict) and pending.get("ref") == ref else None


def answer_support_question(
    rt: Runtime, user_id: int, conversation_id: int, question_ref: int
) -> str:
    """Answer the parked question `question_ref` of the conversation, then reply or hand off."""
    with rt.session_factory() as session:
        conv = session.get(ConversationState, conversation_id)
        pending = _pending(conv, user_id, question_ref)
        user = session.get(User, user_id)
        if pending is None or user is None or conv is None:
            return "nothing to do"
        support = conv.data.get("support") or {}
        if pending.get("handoff"):
            result = SupportAnswer("", handoff=True)  # the turn already told the buyer
        else:
            result = answer(
                session,
                user_id=user_id,
                text=str(pending.get("text", "")),
                lang=user.language.value,
                config=rt.config,
                history=list(support.get("history") or []),
                misses=int(support.get("misses", 0)),
            )
        session.rollback()  # read-only: end the read transaction before writing
    with unit_of_work(rt.session_factory) as session:
        conv = session.get(ConversationState, conversation_id)
        if _pending(conv, user_id, question_ref) is None or conv is None:
            return "already answered"
        support = dict(conv.data.get("support") or {})
        support.pop("pending", None)
        support["history"] = list(result.history)
        support["misses"] = int(support.get("misses", 0)) + 1 if result.missed else 0
        conv.data = {**conv.data, "support": support}
        if result.text:
            notify(
                session,
                user_id=user_id,
                kind=Notice.REPLY,
                params={"reply": reply_to_json(Text(result.text))},
                essential=True,  # the user asked: answers go even after STOP
                channel=conv.channel,
                address=conv.address,
            )
        if result.handoff:
            support["misses"] = 0
            conv.data = {**conv.data, "support": support}
            _hand_off(session, conv, user_id, reason=str(pending.get("text", "")))
        session.flush()
        ids = take_pending_ids(session)
    rt.dispatcher.dispatch(ids)
    return f"answered ({result.source}{', handoff' if result.handoff else ''})"


def _hand_off(session: Session, conv: ConversationState, user_id: int, *, reason: str) -> None:
    """To a person: the seller of the order concerned, else an admin (`bot.handoff_flow`)."""
    hand_off_to_human(
        session,
        buyer_id=user_id,
        channel=conv.channel,
        address=conv.address,
        reason=reason,
        tell_buyer=False,  # the reply written above (or by the turn) already told them
        order_id=order_in_context(conv.data),
    )
